package process

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/lambhq/lamb/runtimes"
)

// fileClock is the clock file times come from.
const fileClock = unix.CLOCK_REALTIME_COARSE

// RuntimesDieWithServer says whether this backend's runtimes die with the
// lamb process that started them, however it dies: here Pdeathsig kills
// them. Where they do not, a lamb killed with SIGKILL leaves them running
// until a watchdog or the next server's Reap kills them.
const RuntimesDieWithServer = true

// Memory headroom over MemorySize for the address-space limit: an
// interpreter's own mappings (libraries, thread stacks, malloc arenas) count
// towards RLIMIT_AS but not towards the RSS AWS limits.
const asHeadroomMB = 256

// sysProcAttr puts a runtime in a process group of its own, so that Stop
// kills whatever the runtime started too, running as u.
func sysProcAttr(u user) *syscall.SysProcAttr {
	// Pdeathsig: a runtime must not outlive a lamb that was killed (kill -9)
	// and so never got to stop it.
	a := &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if !u.lamb {
		// No supplementary groups: root's must not carry over. Go sets
		// Pdeathsig after the switch, which would otherwise clear it.
		a.Credential = &syscall.Credential{Uid: u.uid, Gid: u.gid, Groups: []uint32{}}
	}
	return a
}

// applyMemoryLimit sets RLIMIT_AS on python runtimes. It runs right after
// start, before the runtime's init can allocate much. provided runtimes get
// none: Go's runtime (aws-lambda-go bootstraps) reserves address space far
// beyond its use and dies at random ("fatal error: out of memory") under
// RLIMIT_AS, which is worse than no limit.
func (in *instance) applyMemoryLimit(family string) {
	if in.spec.MemoryMB <= 0 || family != runtimes.FamilyPython || in.spec.Debug != nil { // debugpy's own threads and adapter need more
		return
	}
	limit := uint64(in.spec.MemoryMB+asHeadroomMB) << 20
	rl := unix.Rlimit{Cur: limit, Max: limit}
	if err := unix.Prlimit(in.pid, unix.RLIMIT_AS, &rl, nil); err != nil {
		in.b.log.Warn("process backend: memory limit not applied", "instance", in.id, "err", err)
		return
	}
	in.oomGuard = family == runtimes.FamilyPython
}

// openStatus opens the runtime process's /proc/<pid>/status for
// maxMemoryUsedMB, once, right after its start. The open file stays bound to
// that process: once it exited, reads fail rather than show a later process
// that reuses its pid.
func (in *instance) openStatus() {
	f, err := os.Open("/proc/" + strconv.Itoa(in.pid) + "/status")
	if err != nil {
		in.b.log.Warn("process backend: Max Memory Used unknown", "instance", in.id, "err", err)
		return
	}
	in.status = f
}

// maxMemoryUsedMB reads the runtime process's peak resident set (VmHWM).
func (in *instance) maxMemoryUsedMB() int {
	// Read on every invoke (the REPORT line): a pread of the file kept open
	// (no path walk, open and close each time) into a stack buffer, whole,
	// since each read from /proc has the kernel render the file again. A
	// read at offset 0 renders it afresh. VmHWM is in its first lines.
	if in.status == nil {
		return 0
	}
	var buf [4096]byte
	n, _ := in.status.ReadAt(buf[:], 0) // io.EOF: the whole file was read
	if n <= 0 {
		return 0
	}
	for line := range bytes.Lines(buf[:n]) {
		if rest, ok := bytes.CutPrefix(line, []byte("VmHWM:")); ok {
			kb, err := strconv.Atoi(string(bytes.TrimSpace(bytes.TrimSuffix(bytes.TrimSpace(rest), []byte("kB")))))
			if err != nil {
				return 0
			}
			return (kb + 1023) / 1024
		}
	}
	return 0
}

// procStartTime returns a process's start time in clock ticks since boot (0
// when unknown), which tells a live process from a later one reusing its pid.
func procStartTime(pid int) uint64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name may contain spaces and parentheses: fields start after the last ')'.
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	fields := strings.Fields(s[i+1:])
	if len(fields) < 20 {
		return 0
	}
	v, _ := strconv.ParseUint(fields[19], 10, 64) // field 22 overall
	return v
}
