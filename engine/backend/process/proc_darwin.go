package process

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// fileClock is the clock file times come from.
const fileClock = unix.CLOCK_REALTIME

// RuntimesDieWithServer says whether this backend's runtimes die with the
// lamb process that started them, however it dies. macOS has no Pdeathsig:
// a lamb killed with SIGKILL leaves them running until its watchdog (started
// by `lamb serve` because of this) or the next server's Reap kills them.
const RuntimesDieWithServer = false

// sysProcAttr puts a runtime in a process group of its own, so that Stop
// kills whatever the runtime started too, running as u.
func sysProcAttr(u user) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Setpgid: true}
	if !u.lamb {
		a.Credential = &syscall.Credential{Uid: u.uid, Gid: u.gid, Groups: []uint32{}}
	}
	return a
}

// applyMemoryLimit does nothing: macOS has no prlimit to set another
// process's limits, and does not enforce RLIMIT_AS (setrlimit takes it,
// allocations ignore it). Node still gets its heap limit (command).
func (in *instance) applyMemoryLimit(string) {}

// openStatus does nothing: there is no /proc to read Max Memory Used from.
func (in *instance) openStatus() {}

// maxMemoryUsedMB is 0, unknown: the peak resident set of another process is
// behind libproc (proc_pid_rusage), which lamb does not link.
func (in *instance) maxMemoryUsedMB() int { return 0 }

// procStartTime returns a process's start time in microseconds since the
// epoch (0 when unknown), which tells a live process from a later one reusing
// its pid.
func procStartTime(pid int) uint64 {
	kp, err := unix.SysctlKinfoProc("kern.proc.pid", pid)
	if err != nil {
		return 0
	}
	t := kp.Proc.P_starttime
	return uint64(t.Sec)*1e6 + uint64(t.Usec)
}
