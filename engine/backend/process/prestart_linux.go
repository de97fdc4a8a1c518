package process

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lambhq/lamb/engine/backend"
	"github.com/lambhq/lamb/runtimes"
)

// Pre-started python runtimes (Config.Prestart; see docs/architecture.md).
//
// A python cold start spends most of its time starting the interpreter. So
// the backend keeps one fork server (a zygote) per python interpreter: an
// interpreter running lamb's bootstrap in its zygote mode, its common modules
// imported, started by lamb as lamb's user with Pdeathsig. A claim sends it,
// over a SOCK_SEQPACKET socketpair, the instance's environment, code dir and
// ids, with the instance's output pipe as an SCM_RIGHTS fd. It forks a child
// that leads a process group of its own, takes the pipe as stdout and stderr
// (stdin /dev/null), closes every other fd, drops to the function's uid and
// gid with no supplementary groups, sets Pdeathsig again (the id switch
// clears it: the child dies with the zygote, which dies with lamb), chdirs,
// takes the environment and runs the bootstrap file from its top as a fresh
// start would. The zygote reaps its children and reports their wait status.
//
// Instances started this way are the same to the engine: one group to kill
// (Stop, timeouts, OOM), the same limits (RLIMIT_AS is set by lamb on the
// pid), Runtime API, logs and state.json for Reap. Init Duration is measured
// from the claim. When a zygote dies, its instances die with it (reported
// as killed) and the next launch falls back to a normal start while a new
// zygote starts.
//
// What only works at interpreter start falls back to a normal start (see
// prestartable): a debugged function; environment variables the interpreter
// or the dynamic linker read at start only (PYTHON* but PYTHONPATH,
// PYTHONUNBUFFERED and PYTHONDONTWRITEBYTECODE, which the child applies;
// a locale other than the engine's LANG=en_US.UTF-8, which the zygote
// starts with; LD_*; AWS_LAMBDA_EXEC_WRAPPER); shared libraries the function
// brings for LD_LIBRARY_PATH (a lib/ in its code or a layer, a *.so* at the
// top of its code); and code or layers whose top-level names are modules the
// zygote already imported (they would not shadow them as they would in a
// fresh start). One difference is kept: children of one zygote share its
// hash seed (PYTHONHASHSEED is otherwise random per process).

// prestarts holds the zygotes of one backend, keyed by interpreter path.
type prestarts struct {
	mu       sync.Mutex
	zs       map[string]*zygote
	starting map[string]bool
	failures map[string]int
	closed   bool
	wg       sync.WaitGroup // start goroutines
}

// claimTimeout bounds a claim: a fork takes milliseconds.
const claimTimeout = 10 * time.Second

// maxZygoteFailures is how many zygote starts in a row may fail before an
// interpreter is left to normal starts for good.
const maxZygoteFailures = 5

// zygoteFor returns a ready zygote that can run this instance, or nil for a
// normal start. It starts one for interp in the background if there is none.
func (b *Backend) zygoteFor(family, interp string, spec *backend.Spec, env []string, codeDir string, layerDirs []string) *zygote {
	if !b.cfg.Prestart || family != runtimes.FamilyPython || interp == "" || spec.Debug != nil {
		return nil
	}
	z := b.pre.get(b, interp)
	if z == nil {
		return nil
	}
	if why := prestartable(z.modules, env, codeDir, layerDirs); why != "" {
		b.log.Debug("process backend: normal start", "instance", spec.InstanceID, "why", why)
		return nil
	}
	return z
}

func (p *prestarts) get(b *Backend, interp string) *zygote {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	if z := p.zs[interp]; z != nil {
		select {
		case <-z.dead:
			delete(p.zs, interp) // started again below
		default:
			return z
		}
	}
	if p.starting[interp] || p.failures[interp] >= maxZygoteFailures {
		return nil
	}
	if p.zs == nil {
		p.zs, p.starting, p.failures = map[string]*zygote{}, map[string]bool{}, map[string]int{}
	}
	p.starting[interp] = true
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		z, err := startZygote(b, interp)
		p.mu.Lock()
		defer p.mu.Unlock()
		p.starting[interp] = false
		if err != nil {
			p.failures[interp]++
			b.log.Warn("process backend: pre-started python runtime did not start; starting runtimes the normal way",
				"interpreter", interp, "err", err, "failures", p.failures[interp])
			return
		}
		if p.closed {
			z.close()
			return
		}
		p.failures[interp] = 0
		p.zs[interp] = z
	}()
	return nil
}

// close stops every zygote (their children die with them) and waits for
// the ones being started.
func (p *prestarts) close() {
	p.mu.Lock()
	p.closed = true
	zs := p.zs
	p.zs = nil
	p.mu.Unlock()
	p.wg.Wait()
	for _, z := range zs {
		z.close()
	}
}

// zygote is one fork server and the goroutines that own it: read (its
// answers) and the wait in startZygote.
type zygote struct {
	interp  string
	cmd     *exec.Cmd
	conn    *net.UnixConn
	modules map[string]bool // top-level modules it has imported

	claimMu sync.Mutex     // one claim at a time: answers come in order
	answers chan zygoteMsg // to the claim waiting
	dead    chan struct{}  // closed once the zygote cannot be used
	exited  chan struct{}  // closed when its process was waited for
	mu      sync.Mutex     // guards exits
	exits   map[int]chan syscall.WaitStatus
}

type zygoteMsg struct {
	Ready  []string `json:"ready"`
	PID    int      `json:"pid"`
	Error  string   `json:"error"`
	Exit   int      `json:"exit"`
	Status *uint32  `json:"status"`
}

type zygoteClaim struct {
	Env  map[string]string `json:"env"`
	Cwd  string            `json:"cwd"`
	UID  uint32            `json:"uid"`
	GID  uint32            `json:"gid"`
	Drop bool              `json:"drop"`
}

func startZygote(b *Backend, interp string) (*zygote, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("socketpair: %w", err)
	}
	mine, theirs := os.NewFile(uintptr(fds[0]), "zygote"), os.NewFile(uintptr(fds[1]), "zygote-child")
	defer theirs.Close()
	fc, err := net.FileConn(mine)
	mine.Close()
	if err != nil {
		theirs.Close()
		return nil, fmt.Errorf("zygote socket: %w", err)
	}
	conn := fc.(*net.UnixConn)
	name, _, _ := runtimes.Bootstrap(runtimes.FamilyPython)
	cmd := exec.Command(interp, filepath.Join(b.runtimeDir, name), "--lamb-zygote", "3")
	cmd.Dir = b.runtimeDir
	hostPath := os.Getenv("PATH")
	if hostPath == "" {
		hostPath = "/usr/local/bin:/usr/bin:/bin"
	}
	cmd.Env = []string{"PATH=" + hostPath, "PYTHONUNBUFFERED=1", "LAMBDA_RUNTIME_DIR=" + b.runtimeDir}
	for k, v := range zygoteLocale {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.ExtraFiles = []*os.File{theirs}
	logw := &logWriter{b: b, interp: interp}
	cmd.Stdout, cmd.Stderr = logw, logw
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		conn.Close()
		return nil, fmt.Errorf("start %s: %w", interp, err)
	}
	z := &zygote{interp: interp, cmd: cmd, conn: conn, answers: make(chan zygoteMsg, 1),
		dead: make(chan struct{}), exited: make(chan struct{}), exits: map[int]chan syscall.WaitStatus{}}
	go func() {
		_ = cmd.Wait()
		close(z.exited)
		conn.Close() // ends read
	}()
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	first, err := z.readMsg()
	_ = conn.SetReadDeadline(time.Time{})
	if err != nil || first.Ready == nil {
		z.close()
		return nil, fmt.Errorf("no ready message: %w (output: %s)", err, logw.last())
	}
	z.modules = make(map[string]bool, len(first.Ready))
	for _, m := range first.Ready {
		z.modules[m] = true
	}
	go z.read(b)
	b.log.Info("process backend: pre-started python runtime ready", "interpreter", interp, "pid", cmd.Process.Pid)
	return z, nil
}

func (z *zygote) readMsg() (zygoteMsg, error) {
	buf := make([]byte, 1<<16)
	n, _, _, _, err := z.conn.ReadMsgUnix(buf, nil)
	if err != nil {
		return zygoteMsg{}, err
	}
	if n == 0 {
		return zygoteMsg{}, io.EOF
	}
	var m zygoteMsg
	if err := json.Unmarshal(buf[:n], &m); err != nil {
		return zygoteMsg{}, fmt.Errorf("zygote message %q: %w", buf[:n], err)
	}
	return m, nil
}

// read is the owner of the zygote's answers, until its connection ends.
func (z *zygote) read(b *Backend) {
	defer func() {
		close(z.dead)
		z.mu.Lock()
		for pid, ch := range z.exits {
			close(ch) // status unknown: the child dies with the zygote
			delete(z.exits, pid)
		}
		z.mu.Unlock()
		_ = unix.Kill(z.cmd.Process.Pid, unix.SIGKILL)
	}()
	for {
		m, err := z.readMsg()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				b.log.Warn("process backend: pre-started python runtime ended", "interpreter", z.interp, "err", err)
			}
			return
		}
		switch {
		case m.Status != nil:
			z.mu.Lock()
			if ch, ok := z.exits[m.Exit]; ok {
				ch <- syscall.WaitStatus(*m.Status)
				close(ch)
				delete(z.exits, m.Exit)
			}
			z.mu.Unlock()
		case m.PID > 0:
			z.mu.Lock()
			z.exits[m.PID] = make(chan syscall.WaitStatus, 1)
			z.mu.Unlock()
			z.answers <- m
		default:
			z.answers <- m
		}
	}
}

// spawn claims a child for one instance: it runs as u in dir with env, its
// stdout and stderr on out. It returns the child's pid and a channel that
// yields its wait status (closed without one if the zygote died first).
func (z *zygote) spawn(_ context.Context, env []string, dir string, u user, out *os.File) (int, <-chan syscall.WaitStatus, error) {
	c := zygoteClaim{Env: make(map[string]string, len(env)), Cwd: dir, UID: u.uid, GID: u.gid, Drop: !u.lamb}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		c.Env[k] = v
	}
	msg, err := json.Marshal(c)
	if err != nil {
		return 0, nil, err
	}
	z.claimMu.Lock()
	defer z.claimMu.Unlock()
	select {
	case <-z.dead:
		return 0, nil, errors.New("pre-started runtime is gone")
	default:
	}
	if _, _, err := z.conn.WriteMsgUnix(msg, unix.UnixRights(int(out.Fd())), nil); err != nil {
		return 0, nil, fmt.Errorf("claim: %w", err)
	}
	select {
	case m := <-z.answers:
		if m.PID <= 0 {
			return 0, nil, fmt.Errorf("claim: %s", m.Error)
		}
		z.mu.Lock()
		ch := z.exits[m.PID]
		z.mu.Unlock()
		if ch == nil { // the zygote died in between and closed them all
			closed := make(chan syscall.WaitStatus)
			close(closed)
			return m.PID, closed, nil
		}
		return m.PID, ch, nil
	case <-z.dead:
		return 0, nil, errors.New("pre-started runtime died during the claim")
	case <-time.After(claimTimeout):
		// Not the caller's ctx: giving up on an answer that may still come
		// means closing the zygote, and its other children with it.
		z.close()
		return 0, nil, errors.New("claim: no answer from the pre-started runtime")
	}
}

// close ends the zygote; its children die with it (Pdeathsig).
func (z *zygote) close() {
	_ = z.conn.Close()
	if z.cmd.Process != nil {
		_ = unix.Kill(-z.cmd.Process.Pid, unix.SIGKILL)
	}
	<-z.exited
}

// prestartable returns "" when an instance with env, code in codeDir and
// layers in layerDirs may be forked from a zygote that imported modules, or
// why it must start the normal way.
func prestartable(modules map[string]bool, env []string, codeDir string, layerDirs []string) string {
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case k == "PYTHONPATH" || k == "PYTHONUNBUFFERED" || k == "PYTHONDONTWRITEBYTECODE" || k == "LD_LIBRARY_PATH":
			// Applied by the child; LD_LIBRARY_PATH is checked below.
		case k == "LANG" || k == "LANGUAGE" || strings.HasPrefix(k, "LC_"):
			if v, _ := envValue(env, k); v != zygoteLocale[k] {
				return k + " differs from the pre-started runtime's, and is read at interpreter start"
			}
		case strings.HasPrefix(k, "PYTHON"), strings.HasPrefix(k, "LD_"), k == "AWS_LAMBDA_EXEC_WRAPPER", strings.HasPrefix(k, "LAMB_"),
			k == "MALLOC_ARENA_MAX", strings.HasPrefix(k, "GLIBC_"):
			return k + " is read at interpreter start"
		}
	}
	for k, want := range zygoteLocale {
		if v, ok := envValue(env, k); !ok || v != want {
			return k + " differs from the pre-started runtime's, and is read at interpreter start"
		}
	}
	if why := libraryDirs(codeDir, layerDirs); why != "" {
		return why
	}
	dirs := []string{codeDir}
	for _, d := range layerDirs {
		sp, _ := filepath.Glob(filepath.Join(d, "python", "lib", "python3*", "site-packages"))
		dirs = append(dirs, sp...)
		dirs = append(dirs, filepath.Join(d, "python"))
	}
	for i, d := range dirs {
		entries, err := os.ReadDir(d)
		if err != nil {
			continue
		}
		for _, e := range entries {
			n := e.Name()
			if i == 0 && strings.Contains(n, ".so") && !strings.HasSuffix(n, ".py") && !e.IsDir() && !strings.Contains(n, ".cpython-") && !strings.Contains(n, ".abi3") {
				return n + " in the code may be a library for LD_LIBRARY_PATH"
			}
			mod, _, _ := strings.Cut(n, ".")
			if modules[mod] {
				return n + " would shadow module " + mod + ", already imported"
			}
		}
	}
	return ""
}

// libraryDirs says which of the code's or layers' lib/ folders holds
// libraries for LD_LIBRARY_PATH, which the linker reads once, at start; ""
// when there is none.
func libraryDirs(codeDir string, layerDirs []string) string {
	for _, d := range append([]string{codeDir}, layerDirs...) {
		if fi, err := os.Stat(filepath.Join(d, "lib")); err == nil && fi.IsDir() {
			return d + "/lib holds libraries for LD_LIBRARY_PATH"
		}
	}
	return ""
}

// zygoteLocale is the locale a zygote starts with: the engine's default for
// every function (AWS's). Python reads it at start only.
var zygoteLocale = map[string]string{"LANG": "en_US.UTF-8"}

func envValue(env []string, key string) (string, bool) {
	for _, kv := range env {
		if k, v, _ := strings.Cut(kv, "="); k == key {
			return v, true
		}
	}
	return "", false
}

// logWriter logs a zygote's own output (what it says before any claim, or
// if it fails), keeping the last of it for errors.
type logWriter struct {
	b      *Backend
	interp string
	mu     sync.Mutex
	tail   []byte
}

func (w *logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.tail = append(w.tail, p...)
	if len(w.tail) > 4096 {
		w.tail = w.tail[len(w.tail)-4096:]
	}
	sc := bufio.NewScanner(strings.NewReader(string(p)))
	for sc.Scan() {
		w.b.log.Warn("process backend: pre-started python runtime says", "interpreter", w.interp, "line", sc.Text())
	}
	return len(p), nil
}

func (w *logWriter) last() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.tail)
}
