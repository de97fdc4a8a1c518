package process

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lambhq/lamb/engine/backend"
	"github.com/lambhq/lamb/runtimes"
)

// Pre-started node runtimes (Config.Prestart; see docs/architecture.md).
//
// Node cannot fork, so the backend keeps, per node interpreter, spares
// (sparesPerInterpreter): nodes started ahead exactly as the next
// instance's would be but for the environment and cwd: the same argv (the
// heap limit from MemorySize), as the instance's uid and gid with no
// supplementary groups, in a process group of their own, with Pdeathsig
// (set after the id switch, as for a normal start), stdin /dev/null and
// stdout and stderr a pipe lamb holds. Each runs lamb's bootstrap in its
// spare mode: the bootstrap's modules loaded and its HTTP client warmed
// up (over loopback, closed again), it says "ready" on a socketpair (fd 3)
// and blocks reading it.
//
// A claim checks that the spare is alive and has written nothing to its
// pipe, writes the instance's environment and code dir on the socketpair
// and closes it. The bootstrap closes fd 3, replaces its environment
// entirely, chdirs, and goes on as a fresh start does. The pipe becomes the
// instance's output (nothing came before the claim, so the logs are
// exactly the instance's), the spare's pid the instance's: lamb is its
// parent and waits for it, kills its group, writes state.json. Init
// Duration is measured from the claim.
//
// A spare serves one instance; after a claim the next one starts in the
// background, for the last launch's ids and heap limit. A launch that wants
// others starts normally, and the spares started for others end. What only
// works at start falls back to a normal start (see spareable).
//
// Starting a spare as the instance's uid, rather than as root dropping ids
// in node after the claim (process.setuid), keeps Pdeathsig: the kernel clears
// it on an id change, and node cannot set it again.

// sparesPerInterpreter is how many spares lamb keeps per node interpreter:
// two, so that a cold start right after another (an update after an evict,
// a small burst) finds one ready while the next starts. Each idle spare is
// a node's memory, about 45 MB resident.
const sparesPerInterpreter = 2

// spares holds a backend's spare node runtimes, per interpreter.
type spares struct {
	mu       sync.Mutex
	ss       map[string][]*spare  // by interpreter: ready or still starting, oldest first
	want     map[string]spareWant // what the last launch wanted
	filling  map[string]bool      // a fill goroutine runs
	failures map[string]int       // starts failed in a row
	closed   bool
	wg       sync.WaitGroup // fill goroutines, and closes of spares replaced
}

// spareWant is what spares are started with: a launch's argv and ids.
type spareWant struct {
	key  string
	argv []string
	u    user
}

// spare is one node started ahead. Its fill goroutine sets the fields below
// ready and closes ready; its waiter goroutine (start) owns cmd.Wait.
type spare struct {
	key   string // argv and ids it is started with
	ready chan struct{}
	err   error // why it did not start, once ready is closed

	cmd   *exec.Cmd
	out   *os.File // read end of its stdout and stderr
	conn  *net.UnixConn
	taken atomic.Bool // by a claim, or by the waiter once it exited unclaimed

	exited  chan struct{} // closed after cmd.Wait returned
	waitErr error         // cmd.Wait's, once exited is closed
}

func spareKey(argv []string, u user) string {
	return fmt.Sprintf("%d:%d:%v\x00%s", u.uid, u.gid, u.lamb, strings.Join(argv, "\x00"))
}

// spareFor takes a spare that can run this instance, or returns nil for a
// normal start. Either way it has spares for it started in the background.
func (b *Backend) spareFor(family, interp string, argv []string, spec *backend.Spec, u user, env []string, codeDir string, layerDirs []string) *spare {
	if !b.cfg.Prestart || family != runtimes.FamilyNodejs || interp == "" || spec.Debug != nil {
		return nil
	}
	if why := spareable(spec, env, codeDir, layerDirs); why != "" {
		b.log.Debug("process backend: normal start", "instance", spec.InstanceID, "why", why)
		return nil
	}
	return b.spares.take(b, interp, argv, u)
}

// take removes and returns a spare of interp's started for argv and u: a
// ready one, else the one started first (a claim waits for it, sooner done
// than a start of its own). Spares started for other argv or ids end: the
// ones started from now on are for this launch's.
func (p *spares) take(b *Backend, interp string, argv []string, u user) *spare {
	w := spareWant{key: spareKey(argv, u), argv: argv, u: u}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	if p.ss == nil {
		p.ss, p.want, p.filling, p.failures = map[string][]*spare{}, map[string]spareWant{}, map[string]bool{}, map[string]int{}
	}
	p.want[interp] = w
	var keep []*spare
	var stale []*spare
	for _, s := range p.ss[interp] {
		switch {
		case s.dead(): // it logged why
		case s.key != w.key:
			stale = append(stale, s)
		default:
			keep = append(keep, s)
		}
	}
	if len(stale) > 0 {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			for _, s := range stale {
				s.close() // it may still be starting: not on this launch's time
			}
		}()
	}
	var got *spare
	for i, s := range keep {
		select {
		case <-s.ready:
			got = s
		default:
			continue
		}
		keep = append(keep[:i:i], keep[i+1:]...)
		break
	}
	if got == nil && len(keep) > 0 {
		got, keep = keep[0], keep[1:]
	}
	p.ss[interp] = keep
	p.fill(b, interp)
	return got
}

// fill starts, one after the other, spares for what the last launch of
// interp wanted until there are sparesPerInterpreter. p.mu is held.
func (p *spares) fill(b *Backend, interp string) {
	if p.filling[interp] {
		return
	}
	p.filling[interp] = true
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			p.mu.Lock()
			w := p.want[interp]
			if p.closed || len(p.ss[interp]) >= sparesPerInterpreter || p.failures[interp] >= maxZygoteFailures {
				p.filling[interp] = false
				p.mu.Unlock()
				return
			}
			s := &spare{key: w.key, ready: make(chan struct{}), exited: make(chan struct{})}
			p.ss[interp] = append(p.ss[interp], s)
			p.mu.Unlock()

			s.err = s.start(b, w.argv, w.u)
			close(s.ready)
			p.mu.Lock()
			if s.err != nil {
				p.failures[interp]++
				b.log.Warn("process backend: spare node runtime did not start; starting runtimes the normal way",
					"interpreter", interp, "err", s.err, "failures", p.failures[interp])
				if p.ss != nil { // nil once closed
					p.ss[interp] = slices.DeleteFunc(p.ss[interp], func(o *spare) bool { return o == s })
				}
			} else {
				p.failures[interp] = 0
			}
			p.mu.Unlock()
		}
	}()
}

// dead says whether a spare failed to start or exited unclaimed.
func (s *spare) dead() bool {
	select {
	case <-s.ready:
	default:
		return false
	}
	if s.err != nil {
		return true
	}
	select {
	case <-s.exited:
		return true
	default:
		return false
	}
}

// close stops the spares not claimed and waits for the ones being started.
func (p *spares) close() {
	p.mu.Lock()
	p.closed = true
	ss := p.ss
	p.ss = nil
	p.mu.Unlock()
	p.wg.Wait()
	for _, l := range ss {
		for _, s := range l {
			s.close()
		}
	}
}

// spareStartTimeout bounds a spare's start up to its ready message.
const spareStartTimeout = 30 * time.Second

// start starts the spare's node and waits for its ready message.
func (s *spare) start(b *Backend, argv []string, u user) error {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("socketpair: %w", err)
	}
	mine, theirs := os.NewFile(uintptr(fds[0]), "spare"), os.NewFile(uintptr(fds[1]), "spare-child")
	defer theirs.Close()
	fc, err := net.FileConn(mine)
	mine.Close()
	if err != nil {
		return fmt.Errorf("spare socket: %w", err)
	}
	conn := fc.(*net.UnixConn)
	pr, pw, err := os.Pipe()
	if err != nil {
		conn.Close()
		return fmt.Errorf("spare output: %w", err)
	}
	defer pw.Close()
	cmd := exec.Command(argv[0], append(append([]string{}, argv[1:]...), "--lamb-spare", "3")...)
	cmd.Dir = "/" // the claim moves it to the code dir
	hostPath := os.Getenv("PATH")
	if hostPath == "" {
		hostPath = "/usr/local/bin:/usr/bin:/bin"
	}
	cmd.Env = []string{"PATH=" + hostPath, "LAMBDA_RUNTIME_DIR=" + b.runtimeDir}
	for k, v := range zygoteLocale {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	cmd.ExtraFiles = []*os.File{theirs}
	cmd.SysProcAttr = sysProcAttr(u) // as a normal start: own group, u's ids, Pdeathsig
	if err := cmd.Start(); err != nil {
		conn.Close()
		pr.Close()
		return fmt.Errorf("start %s: %w", argv[0], err)
	}
	s.cmd, s.out, s.conn = cmd, pr, conn
	go func() {
		s.waitErr = cmd.Wait()
		close(s.exited)
		conn.Close()
		if s.taken.CompareAndSwap(false, true) {
			// Died unclaimed: what it said is lamb's to log.
			tail, _ := io.ReadAll(io.LimitReader(pr, 4096))
			pr.Close()
			if len(tail) > 0 {
				sc := bufio.NewScanner(strings.NewReader(string(tail)))
				for sc.Scan() {
					b.log.Warn("process backend: spare node runtime said", "interpreter", argv[0], "line", sc.Text())
				}
			}
		}
	}()
	_ = conn.SetReadDeadline(time.Now().Add(spareStartTimeout))
	line, err := bufio.NewReader(conn).ReadString('\n')
	_ = conn.SetReadDeadline(time.Time{})
	if err != nil || line != "ready\n" {
		_ = killGroup(cmd.Process.Pid)
		<-s.exited // its waiter logs what it said
		return fmt.Errorf("no ready message (%q): %w; exit: %v", line, err, s.waitErr)
	}
	b.log.Debug("process backend: spare node runtime ready", "interpreter", argv[0], "pid", cmd.Process.Pid)
	return nil
}

// claim hands the spare to an instance that runs in dir with env. After it
// returned nil, the spare's process and output are the instance's.
func (s *spare) claim(env []string, dir string) error {
	<-s.ready // bounded by spareStartTimeout
	if s.err != nil {
		return s.err
	}
	if !s.taken.CompareAndSwap(false, true) {
		return errors.New("spare exited")
	}
	// Anything it wrote before the claim would open the instance's log.
	var n int
	var ierr error
	rc, err := s.out.SyscallConn()
	if err == nil {
		err = rc.Control(func(fd uintptr) { n, ierr = unix.IoctlGetInt(int(fd), unix.TIOCINQ) }) // FIONREAD
	}
	if err = errors.Join(err, ierr); err != nil || n > 0 {
		s.kill()
		return fmt.Errorf("spare wrote %d bytes before its claim: %w", n, err)
	}
	c := struct {
		Env map[string]string `json:"env"`
		Cwd string            `json:"cwd"`
	}{Env: make(map[string]string, len(env)), Cwd: dir}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		c.Env[k] = v
	}
	msg, err := json.Marshal(c)
	if err != nil {
		s.kill()
		return err
	}
	_ = s.conn.SetWriteDeadline(time.Now().Add(claimTimeout))
	if _, err := s.conn.Write(msg); err != nil {
		s.kill()
		return fmt.Errorf("claim: %w", err)
	}
	if err := s.conn.Close(); err != nil {
		s.kill()
		return fmt.Errorf("claim: %w", err)
	}
	return nil
}

// kill ends a spare taken by a claim that failed, or one that did not
// become ready.
func (s *spare) kill() {
	_ = killGroup(s.cmd.Process.Pid)
	<-s.exited
	s.out.Close()
}

// close ends a spare not claimed.
func (s *spare) close() {
	<-s.ready
	if s.err != nil {
		return
	}
	if s.taken.CompareAndSwap(false, true) {
		_ = killGroup(s.cmd.Process.Pid)
		<-s.exited
		s.out.Close()
		return
	}
	<-s.exited // the waiter or a claim owns out
}

// wait is the claimed instance's wait: the spare's exit.
func (s *spare) wait() (int, string) {
	<-s.exited
	return cmdExit(s.waitErr)
}

// spareable returns "" when an instance of spec with env, code in codeDir
// and layers in layerDirs may run in a spare, or why it must start the
// normal way: what node, OpenSSL, libuv or the dynamic linker read at start
// only.
func spareable(spec *backend.Spec, env []string, codeDir string, layerDirs []string) string {
	if _, ok := spec.Env["LD_LIBRARY_PATH"]; ok {
		return "LD_LIBRARY_PATH of its own is read at start"
	}
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case k == "NODE_PATH" || k == "LD_LIBRARY_PATH" || k == "TZ":
			// Read again by the bootstrap after the claim (TZ by node
			// itself); lamb's LD_LIBRARY_PATH is checked below.
		case k == "LANG" || k == "LANGUAGE" || strings.HasPrefix(k, "LC_"):
			if v, _ := envValue(env, k); v != zygoteLocale[k] {
				return k + " differs from the spare's, and is read at start"
			}
		case strings.HasPrefix(k, "NODE_"), strings.HasPrefix(k, "UV_"), strings.HasPrefix(k, "OPENSSL_"), strings.HasPrefix(k, "SSL_CERT_"),
			strings.HasPrefix(k, "LD_"), k == "AWS_LAMBDA_EXEC_WRAPPER", strings.HasPrefix(k, "LAMB_"),
			strings.HasPrefix(k, "MALLOC_"), strings.HasPrefix(k, "GLIBC_"):
			return k + " is read at start"
		}
	}
	for k, want := range zygoteLocale {
		if v, ok := envValue(env, k); !ok || v != want {
			return k + " differs from the spare's, and is read at start"
		}
	}
	if why := libraryDirs(codeDir, layerDirs); why != "" {
		return why
	}
	entries, _ := os.ReadDir(codeDir)
	for _, e := range entries {
		if n := e.Name(); strings.Contains(n, ".so") && !e.IsDir() {
			return n + " in the code may be a library for LD_LIBRARY_PATH"
		}
	}
	return ""
}

// output is the claimed instance's stdout and stderr.
func (s *spare) output() *os.File { return s.out }
