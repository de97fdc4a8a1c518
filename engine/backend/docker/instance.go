package docker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	errdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/go-connections/nat"
	"github.com/docker/go-units"

	"github.com/lambhq/lamb/agent/agentapi"
	"github.com/lambhq/lamb/engine/backend"
	"github.com/lambhq/lamb/runtimes"
)

// Paths inside every container, as in AWS's sandboxes.
const (
	agentDir  = "/lamb" // the agent volume
	taskRoot  = "/var/task"
	optDir    = "/opt"
	maxTail   = 64 << 10
	agentPort = agentapi.DefaultPort
)

var idRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)

// ErrUnsupported is returned by Launch for runtimes no image is known for.
var ErrUnsupported = errors.New("docker backend: unsupported")

// instance is one container running the agent, which runs the runtime.
type instance struct {
	b    *Backend
	id   string
	cid  string
	spec *backend.Spec

	client  *agentapi.Client
	initDur time.Duration

	ready     chan struct{}           // closed on the agent's ready event
	initErr   chan *backend.InitError // the agent's initError event (cap 1)
	exited    context.Context         // cancelled once the runtime or container is gone
	markExit  context.CancelFunc      //
	life      context.Context         // cancelled by Stop: ends the run goroutine's waits
	endLife   context.CancelFunc      //
	done      chan struct{}           // closed once the exit is recorded and the container removed
	exitErr   *backend.ExitError      // set before done closes
	stopping  atomic.Bool             //
	waitC     <-chan container.WaitResponse
	waitErrC  <-chan error
	stopOnce  sync.Once
	logMu     sync.Mutex
	logSeq    uint64        // the last log line handed to Spec.Log
	logMoved  chan struct{} // closed and replaced when logSeq grows
	tail      []byte        // the last 64 KiB of output seen on the event stream
	eventsErr error
}

// Launch implements backend.Backend: create the container (agent, code and
// layers come from content volumes, so nothing is copied per cold start),
// start it, open the agent's event stream and wait for its ready event.
func (b *Backend) Launch(ctx context.Context, spec *backend.Spec) (backend.Instance, error) {
	if !idRE.MatchString(spec.InstanceID) {
		return nil, fmt.Errorf("docker backend: bad instance id %q", spec.InstanceID)
	}
	img, argv, try, err := b.plan(ctx, spec)
	if err != nil {
		return nil, err
	}
	if err := b.Prepull(ctx, img, nil); err != nil {
		return nil, err
	}
	if spec.PackageType == "Image" {
		if argv, err = b.imageCommand(ctx, img); err != nil {
			return nil, fmt.Errorf("docker backend: %w", err)
		}
	}
	agentVol, err := b.agentVolume(ctx, img)
	if err != nil {
		return nil, fmt.Errorf("docker backend: %w", err)
	}
	mounts := []mount.Mount{{Type: mount.TypeVolume, Source: agentVol, Target: agentDir, ReadOnly: true}}
	if spec.PackageType != "Image" {
		codeVol, err := b.codeVolume(ctx, img, spec.Code)
		if err != nil {
			return nil, fmt.Errorf("docker backend: code: %w", err)
		}
		if codeVol != "" {
			mounts = append(mounts, mount.Mount{Type: mount.TypeVolume, Source: codeVol, Target: taskRoot, ReadOnly: true})
		}
	}
	layerVol, err := b.layersVolume(ctx, img, spec.Layers)
	if err != nil {
		return nil, fmt.Errorf("docker backend: layers: %w", err)
	}
	if layerVol != "" {
		mounts = append(mounts, mount.Mount{Type: mount.TypeVolume, Source: layerVol, Target: optDir, ReadOnly: true})
	}

	entry := []string{agentDir + "/lamb", "agent", "--listen", ":" + strconv.Itoa(agentPort)}
	for _, t := range try {
		entry = append(entry, "--try", t)
	}
	entry = append(append(entry, "--"), argv...)
	cfg := &container.Config{
		Image: img, Entrypoint: entry, Cmd: nil, Env: b.environ(spec),
		Labels: map[string]string{
			labelManaged: "true", labelServer: b.cfg.ServerID, labelFunction: spec.FunctionName,
			labelVersion: spec.Version, labelPool: spec.PoolKey, labelInstance: spec.InstanceID,
		},
		ExposedPorts: nat.PortSet{nat.Port(fmt.Sprintf("%d/tcp", agentPort)): {}},
	}
	if spec.PackageType != "Image" {
		cfg.WorkingDir = taskRoot
	}
	eph := spec.EphemeralStorageMB
	if eph <= 0 {
		eph = 512
	}
	hc := &container.HostConfig{
		Mounts:         mounts,
		ReadonlyRootfs: true,
		Tmpfs:          map[string]string{"/tmp": fmt.Sprintf("rw,exec,mode=1777,size=%dm", eph)},
		NetworkMode:    container.NetworkMode(b.cfg.Network),
	}
	if spec.MemoryMB > 0 {
		hc.Resources.Memory = int64(spec.MemoryMB) << 20
		hc.Resources.MemorySwap = hc.Resources.Memory // no swap: exceeding the limit kills, as on AWS
	}
	if b.podman {
		// Podman host.containers.internal is built in; rootless Podman cannot
		// raise limits (no CAP_SYS_RESOURCE), so ask for AWS's.
		hc.Resources.Ulimits = []*units.Ulimit{{Name: "nofile", Soft: 1024, Hard: 1024}, {Name: "nproc", Soft: 4096, Hard: 4096}}
	} else {
		hc.ExtraHosts = []string{"host.docker.internal:host-gateway"}
	}
	publish := b.publishAgentPort()
	if publish != "" {
		hc.PortBindings = nat.PortMap{nat.Port(fmt.Sprintf("%d/tcp", agentPort)): {{HostIP: publish}}}
	}

	tCreate := time.Now()
	created, err := b.cli.ContainerCreate(ctx, cfg, hc, &network.NetworkingConfig{}, nil, "lamb-"+spec.InstanceID)
	if err != nil {
		return nil, fmt.Errorf("docker backend: create container: %w", err)
	}
	in := &instance{b: b, id: spec.InstanceID, cid: created.ID, spec: spec,
		ready: make(chan struct{}), initErr: make(chan *backend.InitError, 1),
		done: make(chan struct{}), logMoved: make(chan struct{})}
	in.exited, in.markExit = context.WithCancel(context.Background())
	in.life, in.endLife = context.WithCancel(context.Background())
	if err := b.track(in); err != nil {
		in.remove()
		return nil, err
	}
	// Watch for the exit before starting, so that an immediate exit is seen.
	in.waitC, in.waitErrC = b.cli.ContainerWait(in.life, created.ID, container.WaitConditionNextExit)
	start := time.Now()
	if err := b.cli.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		in.endLife()
		in.remove()
		b.forget(in)
		return nil, fmt.Errorf("docker backend: start container: %w", err)
	}
	started := time.Since(start)
	addr, err := b.agentAddr(ctx, created.ID, publish != "")
	if err != nil {
		in.endLife()
		in.remove()
		b.forget(in)
		return nil, fmt.Errorf("docker backend: %w", err)
	}
	in.client = agentapi.NewClient(addr)
	go in.run()

	select {
	case <-in.ready:
		in.initDur = time.Since(start)
		b.log.Debug("docker backend: instance ready", "instance", in.id, "container", trimID(in.cid),
			"create", start.Sub(tCreate), "start", started, "startToReady", in.initDur)
		return in, nil
	case ie := <-in.initErr:
		_ = in.Stop(context.Background())
		return nil, in.withInitLog(ie)
	case <-in.done:
		// Runtimes usually post their init error and exit at once: prefer the error.
		select {
		case ie := <-in.initErr:
			return nil, in.withInitLog(ie)
		default:
		}
		if in.exitErr != nil {
			return nil, in.exitErr
		}
		return nil, fmt.Errorf("docker backend: instance %s ended before it was ready: %w", in.id, in.eventsErr)
	case <-ctx.Done():
		_ = in.Stop(context.Background())
		return nil, fmt.Errorf("docker backend: waiting for runtime init: %w", ctx.Err())
	}
}

func (in *instance) withInitLog(ie *backend.InitError) error {
	in.logMu.Lock()
	ie.Log = bytes.Clone(in.tail)
	in.logMu.Unlock()
	return ie
}

// plan picks the image and the runtime command: AWS's entrypoint with the
// handler for managed runtimes, the zip's bootstrap for provided.*, the
// image's own command for Image functions (filled in by Launch).
func (b *Backend) plan(ctx context.Context, spec *backend.Spec) (img string, argv, try []string, err error) {
	if spec.PackageType == "Image" {
		if spec.Image == "" {
			return "", nil, nil, fmt.Errorf("%w: Image function without an image", ErrUnsupported)
		}
		return spec.Image, nil, nil, nil
	}
	rt, ok := runtimes.Lookup(spec.Runtime)
	if !ok {
		return "", nil, nil, fmt.Errorf("%w: runtime %q", ErrUnsupported, spec.Runtime)
	}
	img = b.ImageFor(spec.Runtime, spec.Image)
	if img == "" {
		return "", nil, nil, fmt.Errorf("%w: no image for runtime %q", ErrUnsupported, spec.Runtime)
	}
	if rt.Family == runtimes.FamilyProvided {
		// AWS looks for /var/task/bootstrap, then /opt/bootstrap (layers).
		return img, nil, []string{taskRoot + "/bootstrap", optDir + "/bootstrap"}, nil
	}
	return img, []string{"/lambda-entrypoint.sh", spec.Handler}, nil, nil
}

// environ is the engine's environment plus what only the sandbox knows.
func (b *Backend) environ(spec *backend.Spec) []string {
	env := make(map[string]string, len(spec.Env)+10)
	set := func(k, v string) {
		if own := env[k]; own != "" && (k == "PATH" || k == "LD_LIBRARY_PATH" || k == "PYTHONPATH" || k == "NODE_PATH") {
			v = own + ":" + v
		}
		env[k] = v
	}
	for k, v := range spec.Env {
		env[k] = v
	}
	set("PATH", "/var/lang/bin:/usr/local/bin:/usr/bin:/bin:/opt/bin")
	set("LD_LIBRARY_PATH", "/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib")
	if rt, ok := runtimes.Lookup(spec.Runtime); ok {
		switch rt.Family {
		case runtimes.FamilyPython:
			set("PYTHONPATH", "/opt/python/lib/"+rt.ID+"/site-packages:/opt/python")
		case runtimes.FamilyNodejs:
			major := strings.TrimSuffix(strings.TrimPrefix(rt.ID, "nodejs"), ".x")
			set("NODE_PATH", "/opt/nodejs/node"+major+"/node_modules:/opt/nodejs/node_modules:/var/runtime/node_modules:/var/runtime:/var/task")
		}
	}
	env["LAMBDA_TASK_ROOT"] = taskRoot
	env["LAMBDA_RUNTIME_DIR"] = "/var/runtime"
	env["TMPDIR"] = "/tmp"
	if _, ok := env["AWS_ENDPOINT_URL"]; !ok {
		if addr := b.hostAddr(); addr != "" {
			env["AWS_ENDPOINT_URL"] = addr
		}
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// publishAgentPort returns the host IP to publish the agent's port on, or ""
// when the host reaches container IPs directly (a local rootful engine).
func (b *Backend) publishAgentPort() string {
	u, err := url.Parse(b.cfg.Host)
	if err != nil {
		return ""
	}
	switch {
	case u.Scheme == "tcp" || u.Scheme == "ssh" || u.Scheme == "http" || u.Scheme == "https":
		return "0.0.0.0"
	case b.podman && strings.Contains(u.Path, "/run/user/"):
		return "127.0.0.1" // rootless: containers live in a namespace the host cannot route to
	}
	return ""
}

// agentAddr finds where the host reaches the agent of a started container.
func (b *Backend) agentAddr(ctx context.Context, cid string, published bool) (string, error) {
	ci, err := b.cli.ContainerInspect(ctx, cid)
	if err != nil {
		return "", fmt.Errorf("inspect container: %w", err)
	}
	if ci.NetworkSettings == nil {
		return "", errors.New("container has no network settings")
	}
	if published {
		pbs := ci.NetworkSettings.Ports[nat.Port(fmt.Sprintf("%d/tcp", agentPort))]
		if len(pbs) == 0 {
			return "", errors.New("agent port not published")
		}
		host := "127.0.0.1"
		if u, err := url.Parse(b.cfg.Host); err == nil && u.Hostname() != "" {
			host = u.Hostname()
		}
		return net.JoinHostPort(host, pbs[0].HostPort), nil
	}
	ip := ""
	for _, n := range ci.NetworkSettings.Networks {
		if n != nil && n.IPAddress != "" {
			ip = n.IPAddress
			break
		}
	}
	if ip == "" {
		return "", errors.New("container has no IP address (network mode " + string(ci.HostConfig.NetworkMode) + ")")
	}
	return net.JoinHostPort(ip, strconv.Itoa(agentPort)), nil
}

// run owns the instance's life after start: it opens the agent's event
// stream, hands events on until the runtime or the container ends, records
// the exit, removes the container and closes done.
func (in *instance) run() {
	defer close(in.done)
	defer in.b.forget(in)
	var exitEv *agentapi.Event
	es, err := in.connect()
	if err != nil {
		in.eventsErr = err
	} else {
		// A container killed from outside takes its network namespace with it
		// and the stream may never see a FIN: its exit closes the stream.
		var exitStatus *container.WaitResponse
		watchDone, consumed := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(watchDone)
			select {
			case w := <-in.waitC:
				exitStatus = &w
				es.Close()
			case <-in.waitErrC:
			case <-consumed:
			}
		}()
		exitEv, in.eventsErr = in.consume(es)
		close(consumed)
		es.Close()
		<-watchDone
		if exitStatus != nil {
			in.waitC = closedWait(*exitStatus)
		}
	}
	in.markExit()
	in.client.CloseIdleConnections()

	// The container's own view: its exit status and whether the kernel
	// OOM-killed something in it.
	xe := &backend.ExitError{Code: -1}
	if exitEv != nil {
		xe.Code, xe.Signal, xe.OOM, xe.Log = exitEv.Code, exitEv.Signal, exitEv.OOM, exitEv.Tail
	} else {
		in.logMu.Lock()
		xe.Log = bytes.Clone(in.tail)
		in.logMu.Unlock()
	}
	if !in.stopping.Load() {
		t := time.NewTimer(10 * time.Second)
		select {
		case w := <-in.waitC:
			if exitEv == nil {
				xe.Code = int(w.StatusCode)
				if w.StatusCode > 128 {
					xe.Code, xe.Signal = -1, syscall.Signal(w.StatusCode-128).String()
				}
			}
		case <-in.waitErrC:
		case <-t.C:
		}
		t.Stop()
		ictx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if ci, err := in.b.cli.ContainerInspect(ictx, in.cid); err == nil && ci.State != nil && ci.State.OOMKilled {
			xe.OOM = true
		}
		cancel()
	}
	in.exitErr = xe
	in.endLife()
	in.remove()
}

// connect opens the event stream. The agent listens within milliseconds of
// the start; until it does, dialling is refused at once, so this retries with
// a short backoff, and gives up when the container exits or Stop is called.
func (in *instance) connect() (*agentapi.EventStream, error) {
	delay := time.Millisecond
	for {
		es, err := in.client.Events(in.life)
		if err == nil {
			return es, nil
		}
		if !agentapi.IsDialError(err) {
			return nil, err
		}
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case w := <-in.waitC:
			t.Stop()
			in.waitC = closedWait(w)
			return nil, fmt.Errorf("container exited (status %d) before its agent listened", w.StatusCode)
		case <-in.life.Done():
			t.Stop()
			return nil, in.life.Err()
		}
		if delay < 50*time.Millisecond {
			delay *= 2
		}
	}
}

// closedWait returns a channel that yields w again (for run's second look).
func closedWait(w container.WaitResponse) <-chan container.WaitResponse {
	c := make(chan container.WaitResponse, 1)
	c <- w
	return c
}

// consume hands events on until the exit event or the stream's end.
func (in *instance) consume(es *agentapi.EventStream) (*agentapi.Event, error) {
	for {
		ev, err := es.Next()
		if err != nil {
			return nil, err
		}
		switch ev.Type {
		case agentapi.EventReady:
			select {
			case <-in.ready:
			default:
				close(in.ready)
			}
		case agentapi.EventInitError:
			select {
			case in.initErr <- &backend.InitError{FunctionError: backend.FunctionError{Type: ev.ErrorType, Body: ev.ErrorBody}}:
			default:
			}
		case agentapi.EventLog:
			in.logLine(ev.Line, ev.Seq)
		case agentapi.EventExit:
			return ev, nil
		}
	}
}

func (in *instance) logLine(line []byte, seq uint64) {
	in.logMu.Lock()
	defer in.logMu.Unlock()
	if in.spec.Log != nil {
		in.spec.Log(line) // under the lock: calls are serialised
	}
	in.tail = append(in.tail, line...)
	in.tail = append(in.tail, '\n')
	if over := len(in.tail) - maxTail; over > 0 {
		in.tail = append(in.tail[:0], in.tail[over:]...)
	}
	if seq > in.logSeq {
		in.logSeq = seq
	}
	close(in.logMoved)
	in.logMoved = make(chan struct{})
}

// waitLog waits until Spec.Log has seen line seq (the lines travel on the
// event stream, the answer on its own connection), the instance ended, or
// a few seconds passed (the stream is stuck: the log is still returned).
func (in *instance) waitLog(seq uint64) {
	t := time.NewTimer(5 * time.Second)
	defer t.Stop()
	for {
		in.logMu.Lock()
		if in.logSeq >= seq {
			in.logMu.Unlock()
			return
		}
		moved := in.logMoved
		in.logMu.Unlock()
		select {
		case <-moved:
		case <-in.exited.Done():
			return
		case <-t.C:
			return
		}
	}
}

// remove deletes the container (killing it if it runs).
func (in *instance) remove() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := in.b.cli.ContainerRemove(ctx, in.cid, container.RemoveOptions{Force: true})
	if err != nil && !errdefs.IsNotFound(err) && !errdefs.IsConflict(err) {
		in.b.log.Warn("docker backend: remove container", "instance", in.id, "container", trimID(in.cid), "err", err)
	}
}

// ID implements backend.Instance.
func (in *instance) ID() string { return in.id }

// InitDuration implements backend.Instance: container start to the runtime's
// first /next.
func (in *instance) InitDuration() time.Duration { return in.initDur }

// Done implements backend.Instance.
func (in *instance) Done() <-chan struct{} { return in.done }

// Stop implements backend.Instance: it removes the container at once (no
// graceful shutdown: the runtime has nothing to flush that lamb would keep).
func (in *instance) Stop(ctx context.Context) error {
	in.stopOnce.Do(func() {
		in.stopping.Store(true)
		in.markExit()
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		err := in.b.cli.ContainerRemove(rctx, in.cid, container.RemoveOptions{Force: true})
		if err != nil && !errdefs.IsNotFound(err) && !errdefs.IsConflict(err) {
			in.b.log.Warn("docker backend: stop", "instance", in.id, "err", err)
		}
		in.endLife()
	})
	select {
	case <-in.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stop instance %s: %w", in.id, ctx.Err())
	}
}

// Invoke implements backend.Instance.
func (in *instance) Invoke(ctx context.Context, inv *backend.Invocation) (*backend.Response, error) {
	if in.exited.Err() != nil {
		return nil, fmt.Errorf("instance %s exited: %w", in.id, backend.ErrNotDelivered)
	}
	ictx, cancel := context.WithCancel(ctx)
	unwatch := context.AfterFunc(in.exited, cancel)
	release := func() { unwatch(); cancel() }
	resp, err := in.client.Invoke(ictx, &agentapi.Invocation{
		RequestID: inv.RequestID, Payload: inv.Payload, Deadline: inv.Deadline,
		InvokedFunctionARN: inv.InvokedFunctionARN, TraceID: inv.TraceID,
		ClientContext: inv.ClientContext, CognitoIdentity: inv.CognitoIdentity,
		StreamResponse: inv.StreamResponse,
	})
	if err != nil {
		release()
		if errors.Is(err, agentapi.ErrNotDelivered) {
			return nil, fmt.Errorf("invoke instance %s: %w: %w", in.id, backend.ErrNotDelivered, err)
		}
		if xe := in.exitFor(ctx, err); xe != nil {
			return nil, xe
		}
		return nil, fmt.Errorf("invoke instance %s: %w", in.id, err)
	}
	r := &backend.Response{
		ErrorType: resp.ErrorType, Streaming: resp.Streaming, ContentType: resp.ContentType,
		Trailer: func() *backend.FunctionError {
			if typ, body := resp.Trailer(); typ != "" {
				return &backend.FunctionError{Type: typ, Body: body}
			}
			return nil
		},
		Log: func() []byte {
			log, seq := resp.Log()
			in.waitLog(seq) // so that Spec.Log has every line of the call first
			return log
		},
		MaxMemoryUsedMB: resp.MaxMemoryUsedMB,
	}
	r.Body = &body{rc: resp.Body, in: in, ctx: ctx, release: release}
	return r, nil
}

// exitFor returns the instance's ExitError when err was caused by the
// runtime or container exiting (and not by ctx ending), waiting for the exit
// to be recorded; nil otherwise.
func (in *instance) exitFor(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	if in.exited.Err() == nil && !errors.Is(err, agentapi.ErrRuntimeExited) {
		// A broken connection to the agent usually means the container is
		// going away; the exit shows up on the event stream within moments.
		t := time.NewTimer(2 * time.Second)
		select {
		case <-in.exited.Done():
			t.Stop()
		case <-t.C:
			return nil
		case <-ctx.Done():
			t.Stop()
			return nil
		}
	}
	select {
	case <-in.done:
	case <-ctx.Done():
		return nil
	}
	if in.stopping.Load() {
		return nil
	}
	return in.exitErr
}

// body turns a read failure caused by the runtime exiting into its ExitError.
type body struct {
	rc      io.ReadCloser
	in      *instance
	ctx     context.Context
	release func()
	once    sync.Once
}

func (b *body) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if err == nil {
		return n, nil
	}
	b.once.Do(b.release)
	if !errors.Is(err, io.EOF) {
		if xe := b.in.exitFor(b.ctx, err); xe != nil {
			return n, xe
		}
	}
	return n, err
}

func (b *body) Close() error {
	err := b.rc.Close()
	b.once.Do(b.release)
	return err
}
