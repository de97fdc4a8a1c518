package process

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/lambhq/lamb/engine/agenthost"
	"github.com/lambhq/lamb/engine/backend"
	"github.com/lambhq/lamb/runtimeapi"
	"github.com/lambhq/lamb/runtimeoutput"
	"github.com/lambhq/lamb/runtimes"
)

var idRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)

// instance is one runtime process and its Runtime API server.
type instance struct {
	b    *Backend
	id   string
	spec *backend.Spec
	dir  string

	cmd      *exec.Cmd
	pid      int
	wait     func() (code int, signal string) // waits for the runtime's exit
	srv      *runtimeapi.Server
	hs       *http.Server
	out      *runtimeoutput.Capture
	initDur  time.Duration
	oomGuard bool     // python under RLIMIT_AS: a MemoryError means out of memory
	status   *os.File // Linux: /proc/<pid>/status, open for the process's life (maxMemoryUsedMB)

	serveDone  chan struct{}
	exited     context.Context // cancelled as soon as the process exited
	markExited context.CancelFunc
	done       chan struct{} // closed after the exit was recorded and resources freed
	exitErr    *backend.ExitError
	stopping   atomic.Bool
	oomSeen    atomic.Bool
}

// state is what Reap needs to find an instance left by a dead server.
type state struct {
	Version   int    `json:"version"`
	PID       int    `json:"pid"`
	StartTime uint64 `json:"startTime"` // /proc/<pid>/stat starttime, against pid reuse
	OwnerPID  int    `json:"ownerPid"`  // the server process
	ServerID  string `json:"serverId"`
	PoolKey   string `json:"poolKey"`
}

// Launch implements backend.Backend.
func (b *Backend) Launch(ctx context.Context, spec *backend.Spec) (backend.Instance, error) {
	if !idRE.MatchString(spec.InstanceID) {
		return nil, fmt.Errorf("process backend: bad instance id %q", spec.InstanceID)
	}
	if spec.PackageType == "Image" {
		return nil, fmt.Errorf("%w: container images", ErrUnsupported)
	}
	rt, ok := runtimes.Lookup(spec.Runtime)
	if !ok {
		return nil, fmt.Errorf("%w: runtime %q", ErrUnsupported, spec.Runtime)
	}
	interp, err := b.interpreter(rt)
	if err != nil {
		return nil, err
	}
	u, err := b.userFor(spec, interp)
	if err != nil {
		return nil, err
	}
	u = b.hostFolderUser(spec, u) // hostfolder.go
	if u.lamb {
		b.lambRan.Store(true) // before anything it could write is trusted again
	}
	// Extracted code and bootstraps can be changed by root alone as long as
	// every function ran as its account's uid: checking them is needed once
	// one ran as lamb's user.
	verify := b.noUsers != nil || b.lambRan.Load()
	if verify {
		if err := b.checkBootstraps(); err != nil {
			return nil, err
		}
	}
	codeDir, err := b.artifactDir(ctx, b.code, spec.Code, u, verify)
	if err != nil {
		return nil, fmt.Errorf("process backend: code: %w", err)
	}
	layerDirs := make([]string, 0, len(spec.Layers))
	for _, l := range spec.Layers {
		d, err := b.artifactDir(ctx, b.layers, l, u, verify)
		if err != nil {
			return nil, fmt.Errorf("process backend: layer: %w", err)
		}
		layerDirs = append(layerDirs, d)
	}
	argv, err := b.command(rt.Family, interp, spec, codeDir, layerDirs)
	if err != nil {
		return nil, err
	}
	argv, debugEnv, err := debugLaunch(ctx, rt.Family, argv, spec.Debug) // debug.go
	if err != nil {
		return nil, err
	}

	in := &instance{b: b, id: spec.InstanceID, spec: spec, dir: filepath.Join(b.instDir, spec.InstanceID),
		serveDone: make(chan struct{}), done: make(chan struct{})}
	in.exited, in.markExited = context.WithCancel(context.Background())
	tmpDir, err := makeInstanceDir(in.dir, u)
	if err != nil {
		return nil, fmt.Errorf("process backend: %w", err)
	}
	cleanup := func() { _ = os.RemoveAll(in.dir) }

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cleanup()
		return nil, fmt.Errorf("process backend: runtime API listener: %w", err)
	}
	if b.noUsers == nil {
		ln = &uidListener{Listener: ln, allow: []uint32{u.uid, uint32(os.Geteuid())}, log: b.log, instance: spec.InstanceID}
	}
	in.srv = runtimeapi.NewServer(runtimeapi.Options{Logger: b.log})
	in.hs = &http.Server{Handler: in.srv.Handler(), ReadHeaderTimeout: time.Minute}

	pr, pw, err := os.Pipe()
	if err != nil {
		ln.Close()
		cleanup()
		return nil, fmt.Errorf("process backend: %w", err)
	}
	env := append(b.environ(spec, u, codeDir, layerDirs, tmpDir, ln.Addr().String()), debugEnv...)
	// Init Duration counts from here, a claim of a pre-started runtime too.
	start := time.Now()
	if z := b.zygoteFor(rt.Family, interp, spec, env, codeDir, layerDirs); z != nil { // prestart_*.go
		pid, exit, err := z.spawn(ctx, env, codeDir, u, pw)
		if err != nil {
			b.log.Warn("process backend: pre-started runtime not claimed; starting it the normal way", "instance", spec.InstanceID, "err", err)
			start = time.Now()
		} else {
			in.pid, in.wait = pid, func() (int, string) { return zygoteExit(exit) }
		}
	}
	var sp *spare
	if in.pid == 0 {
		sp = b.spareFor(rt.Family, interp, argv, spec, u, env, codeDir, layerDirs) // spare_linux.go
	}
	if sp != nil {
		if err := sp.claim(env, codeDir); err != nil {
			b.log.Warn("process backend: spare runtime not claimed; starting it the normal way", "instance", spec.InstanceID, "err", err)
			start = time.Now()
		} else {
			// Its own pipe, already its stdout and stderr, is the output.
			pw.Close()
			pr.Close()
			pr, pw = sp.output(), nil
			in.cmd, in.pid, in.wait = sp.cmd, sp.cmd.Process.Pid, sp.wait
		}
	}
	if in.pid == 0 {
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Dir, cmd.Env = codeDir, env
		cmd.Stdout, cmd.Stderr = pw, pw
		cmd.SysProcAttr = sysProcAttr(u) // proc_*.go: own process group, u's ids
		if err := cmd.Start(); err != nil {
			pw.Close()
			pr.Close()
			ln.Close()
			cleanup()
			return nil, fmt.Errorf("process backend: start %s: %w", argv[0], err)
		}
		in.cmd, in.pid = cmd, cmd.Process.Pid
		in.wait = func() (int, string) { return cmdExit(cmd.Wait()) }
	}
	if pw != nil {
		pw.Close()
	}
	in.applyMemoryLimit(rt.Family)
	in.openStatus()
	in.writeState()
	in.out = runtimeoutput.New(pr, lineSink(spec.Log))

	go in.serve(ln)
	go in.out.Run()
	go in.run()
	if err := b.live.Add(in); err != nil {
		_ = in.Stop(context.Background())
		return nil, fmt.Errorf("process backend: %w", err)
	}

	select {
	case <-in.srv.Ready():
		in.initDur = time.Since(start)
		return in, nil
	case ie := <-in.srv.InitErr():
		_ = in.Stop(context.Background())
		return nil, &backend.InitError{FunctionError: backend.FunctionError{Type: ie.Type, Body: ie.Body}, Log: in.out.LastOutput()}
	case <-in.done:
		// Runtimes usually post their init error and exit at once: prefer the error.
		select {
		case ie := <-in.srv.InitErr():
			return nil, &backend.InitError{FunctionError: backend.FunctionError{Type: ie.Type, Body: ie.Body}, Log: in.out.LastOutput()}
		default:
		}
		return nil, in.exitErr
	case <-ctx.Done():
		_ = in.Stop(context.Background())
		return nil, fmt.Errorf("process backend: waiting for runtime init: %w", ctx.Err())
	}
}

// interpreter resolves the host program that runs rt's bootstrap (see
// interpreters.go): "" for families that bring their own (provided).
func (b *Backend) interpreter(rt runtimes.Runtime) (string, error) {
	if wantVersion(rt) == "" {
		return "", nil
	}
	c := b.chooseInterpreter(rt)
	return c.path, c.err
}

// command picks the argv for the runtime family, run by interp.
func (b *Backend) command(family, interp string, spec *backend.Spec, codeDir string, layerDirs []string) ([]string, error) {
	in := runtimes.Interpreters{}
	switch family {
	case runtimes.FamilyPython:
		in.Python = interp
	case runtimes.FamilyNodejs:
		in.Node = interp
	case runtimes.FamilyJava:
		in.Java = interp
	}
	bootstrapPath := ""
	if name, _, ok := runtimes.Bootstrap(family); ok {
		bootstrapPath = filepath.Join(b.runtimeDir, name)
	}
	if family == runtimes.FamilyJava {
		dir, err := b.javaClasses(interp) // java.go
		if err != nil {
			return nil, err
		}
		bootstrapPath = dir
	}
	argv, err := runtimes.Command(family, in, bootstrapPath, codeDir)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnsupported, err)
	}
	if family == runtimes.FamilyProvided {
		// AWS looks for /var/task/bootstrap, then /opt/bootstrap (layers).
		candidates := []string{argv[0]}
		for i := len(layerDirs) - 1; i >= 0; i-- {
			candidates = append(candidates, filepath.Join(layerDirs[i], "bootstrap"))
		}
		found := ""
		for _, c := range candidates {
			if fi, err := os.Stat(c); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
				found = c
				break
			}
		}
		if found == "" {
			msg := "Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap]"
			body, _ := json.Marshal(map[string]string{"errorType": "Runtime.InvalidEntrypoint", "errorMessage": msg})
			return nil, &backend.InitError{FunctionError: backend.FunctionError{Type: "Runtime.InvalidEntrypoint", Body: body}}
		}
		argv[0] = found
	}
	if family == runtimes.FamilyJava {
		// Layers' jars, as AWS's /opt/java/lib (later layers first, as on the other search paths).
		var libs []string
		for i := len(layerDirs) - 1; i >= 0; i-- {
			libs = append(libs, filepath.Join(layerDirs[i], "java", "lib"))
		}
		argv = append([]string{argv[0], "-Dlamb.layers=" + strings.Join(libs, ":")}, argv[1:]...)
	}
	if family == runtimes.FamilyNodejs && spec.MemoryMB > 0 {
		// V8 reserves far more address space than it uses, so node gets a heap
		// limit instead of RLIMIT_AS.
		argv = append([]string{argv[0], "--max-old-space-size=" + strconv.Itoa(spec.MemoryMB)}, argv[1:]...)
	}
	return argv, nil
}

// environ builds the runtime's environment: the engine's composition plus
// what only the backend knows. The host's own environment is not inherited
// (its credentials must not leak into functions), except PATH.
func (b *Backend) environ(spec *backend.Spec, u user, codeDir string, layerDirs []string, tmpDir, apiAddr string) []string {
	env := make(map[string]string, len(spec.Env)+12)
	for k, v := range spec.Env {
		env[k] = v
	}
	var pyPath, nodePath, binPath, libPath []string
	// Later layers win, so they come first on search paths.
	for i := len(layerDirs) - 1; i >= 0; i-- {
		d := layerDirs[i]
		sp, _ := filepath.Glob(filepath.Join(d, "python", "lib", "python3*", "site-packages"))
		pyPath = append(pyPath, sp...)
		pyPath = append(pyPath, filepath.Join(d, "python"))
		nm, _ := filepath.Glob(filepath.Join(d, "nodejs", "node*", "node_modules"))
		nodePath = append(nodePath, nm...)
		nodePath = append(nodePath, filepath.Join(d, "nodejs", "node_modules"))
		binPath = append(binPath, filepath.Join(d, "bin"))
		libPath = append(libPath, filepath.Join(d, "lib"))
	}
	prepend := func(key string, dirs []string) {
		if len(dirs) == 0 {
			return
		}
		v := strings.Join(dirs, ":")
		if own := env[key]; own != "" {
			v = own + ":" + v
		}
		env[key] = v
	}
	prepend("PYTHONPATH", pyPath)
	prepend("NODE_PATH", nodePath)
	hostPath := os.Getenv("PATH")
	if hostPath == "" {
		hostPath = "/usr/local/bin:/usr/bin:/bin"
	}
	env["PATH"] = strings.Join(append([]string{hostPath}, binPath...), ":")
	prepend("LD_LIBRARY_PATH", append([]string{codeDir, filepath.Join(codeDir, "lib")}, libPath...))
	env["LAMBDA_TASK_ROOT"] = codeDir
	env["LAMBDA_RUNTIME_DIR"] = b.runtimeDir
	env["AWS_LAMBDA_RUNTIME_API"] = apiAddr
	env["TMPDIR"] = tmpDir
	env["PYTHONUNBUFFERED"] = "1"
	if spec.Code.Dir != "" {
		// Code used in place (hot reload): the function writes no
		// __pycache__ into the user's folder. (PYTHONPYCACHEPREFIX would
		// also keep it from reading one the user's own runs left there,
		// but it moves the standard library's too: every start would
		// compile it again, +170 ms.)
		env["PYTHONDONTWRITEBYTECODE"] = "1"
	}
	if u.lamb {
		// Code is writable by lamb's user: python would add __pycache__
		// to it, which the next launch would take for tampering.
		env["PYTHONDONTWRITEBYTECODE"] = "1"
	} else if _, ok := env["HOME"]; !ok {
		// A function uid has no passwd entry, where node's os.homedir()
		// (and so the AWS SDK's config loading) would look without HOME.
		env["HOME"] = tmpDir
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// makeInstanceDir makes an instance's directory and its TMPDIR, which only u
// may use (0700, u's own). On error it leaves nothing behind.
func makeInstanceDir(dir string, u user) (tmp string, err error) {
	mode := fs.FileMode(0o711) // u enters it to reach tmp; state.json is 0600
	if u.lamb {
		mode = 0o755
	}
	if err := os.Mkdir(dir, mode); err != nil {
		return "", err // an existing dir is not this instance's to remove
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(dir)
		}
	}()
	tmp = filepath.Join(dir, "tmp")
	if err := os.Mkdir(tmp, 0o700); err != nil {
		return "", err
	}
	if !u.lamb {
		if err := os.Chown(tmp, int(u.uid), int(u.gid)); err != nil {
			return "", err
		}
	}
	return tmp, nil
}

func (in *instance) writeState() {
	st := state{Version: 1, PID: in.pid, StartTime: procStartTime(in.pid), OwnerPID: os.Getpid(),
		ServerID: in.spec.ServerID, PoolKey: in.spec.PoolKey}
	b, _ := json.Marshal(st)
	if err := writeFileAtomic(filepath.Join(in.dir, "state.json"), b, 0o600); err != nil {
		in.b.log.Warn("process backend: write instance state", "instance", in.id, "err", err)
	}
}

// serve runs the instance's Runtime API until run closes the server.
func (in *instance) serve(ln net.Listener) {
	defer close(in.serveDone)
	if err := in.hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		in.b.log.Warn("process backend: runtime API server", "instance", in.id, "err", err)
	}
}

// run is the instance's owner goroutine: it waits for the process to exit,
// records how, frees every resource and closes done.
func (in *instance) run() {
	code, sig := in.wait()
	// Whatever the runtime left behind in its group goes too; then the output
	// pipe reaches EOF.
	_ = killGroup(in.pid)
	<-in.out.Done()
	xe := &backend.ExitError{Code: code, Signal: sig, Log: in.out.LastOutput()}
	xe.OOM = in.oomSeen.Load() || bytes.Contains(xe.Log, []byte("JavaScript heap out of memory"))
	if xe.OOM && xe.Signal == "" {
		xe.Signal = "killed"
		xe.Code = -1
	}
	in.exitErr = xe
	in.markExited()
	if in.status != nil {
		_ = in.status.Close() // a REPORT still being written reads 0 (os.File is safe to close under a read)
	}

	_ = in.srv.Close()
	_ = in.hs.Close()
	<-in.serveDone
	if err := os.RemoveAll(in.dir); err != nil {
		in.b.log.Warn("process backend: remove instance dir", "instance", in.id, "err", err)
	}
	in.b.live.Remove(in)
	close(in.done)
}

// cmdExit turns exec.Cmd.Wait's error into an exit code (-1 when there is
// none) and the signal that ended the process ("" when none did).
func cmdExit(werr error) (int, string) {
	var ee *exec.ExitError
	if errors.As(werr, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok {
			return waitExit(ws)
		}
		return -1, ""
	}
	if werr == nil {
		return 0, ""
	}
	return -1, ""
}

// zygoteExit waits for the status a zygote reports for its child; without
// one (the zygote died, and the child with it) the child was killed.
func zygoteExit(exit <-chan syscall.WaitStatus) (int, string) {
	ws, ok := <-exit
	if !ok {
		return -1, "killed"
	}
	return waitExit(ws)
}

func waitExit(ws syscall.WaitStatus) (int, string) {
	if ws.Signaled() {
		return -1, ws.Signal().String()
	}
	return ws.ExitStatus(), ""
}

// ID implements backend.Instance.
func (in *instance) ID() string { return in.id }

// InitDuration implements backend.Instance.
func (in *instance) InitDuration() time.Duration { return in.initDur }

// Done implements backend.Instance.
func (in *instance) Done() <-chan struct{} { return in.done }

// Stop implements backend.Instance: it kills the process group and waits until
// everything is freed.
func (in *instance) Stop(ctx context.Context) error {
	in.stopping.Store(true)
	if in.exited.Err() == nil {
		if err := killGroup(in.pid); err != nil {
			return fmt.Errorf("stop instance %s: %w", in.id, err)
		}
	}
	select {
	case <-in.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stop instance %s: %w", in.id, ctx.Err())
	}
}

// Invoke implements backend.Instance.
func (in *instance) Invoke(ctx context.Context, inv *backend.Invocation) (*backend.Response, error) {
	// The runtime may die without answering: its exit ends the wait.
	ictx, release, err := agenthost.Begin(ctx, in.id, in.exited)
	if err != nil {
		return nil, err
	}
	in.out.Begin()
	// A conversion: the two types have the same fields, so one that gains a
	// field the other lacks fails to compile rather than being dropped here.
	ri := runtimeapi.Invocation(*inv)
	resp, err := in.srv.Invoke(ictx, &ri)
	if err != nil {
		release()
		if errors.Is(err, runtimeapi.ErrNotDelivered) {
			return nil, fmt.Errorf("%w: %w", backend.ErrNotDelivered, err)
		}
		if xe := in.exitFor(ctx); xe != nil {
			return nil, xe
		}
		return nil, fmt.Errorf("invoke instance %s: %w", in.id, err)
	}
	if resp.ErrorType != "" && !resp.Streaming {
		data, rerr := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if rerr != nil {
			release()
			return nil, fmt.Errorf("invoke instance %s: read error response: %w", in.id, rerr)
		}
		resp.Body = io.NopCloser(bytes.NewReader(data))
		if in.oomGuard && isMemoryError(resp.ErrorType, data) {
			// Under RLIMIT_AS python raises MemoryError where AWS's cgroup kills.
			release()
			in.oomSeen.Store(true)
			_ = in.Stop(context.Background())
			return nil, in.exitErr
		}
	}
	var logOnce sync.Once
	var log []byte
	r := &backend.Response{
		ErrorType: resp.ErrorType, Streaming: resp.Streaming, ContentType: resp.ContentType,
		Body:    agenthost.NewBody(resp.Body, release, func(error) error { return in.exitFor(ctx) }),
		Trailer: agenthost.Trailer(resp.Trailer),
		Log: func() []byte {
			logOnce.Do(func() { log, _ = in.out.Take() })
			return log
		},
		MaxMemoryUsedMB: in.maxMemoryUsedMB,
	}
	return r, nil
}

func isMemoryError(errType string, body []byte) bool {
	if errType == "MemoryError" {
		return true
	}
	var doc struct {
		ErrorType string `json:"errorType"`
	}
	return json.Unmarshal(body, &doc) == nil && doc.ErrorType == "MemoryError"
}

// exitFor returns the ExitError when the runtime exited while ctx lives
// (a failure to read its answer is then the exit), waiting for it to be
// recorded; nil otherwise.
func (in *instance) exitFor(ctx context.Context) error {
	if ctx.Err() == nil && in.exited.Err() != nil {
		<-in.done
		return in.exitErr
	}
	return nil
}

// lineSink adapts the spec's Log callback (which may be nil) to the output
// capture's sink, which also numbers lines.
func lineSink(log func(line []byte)) func([]byte, uint64) {
	if log == nil {
		return nil
	}
	return func(line []byte, _ uint64) { log(line) }
}
