package docker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	errdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/go-connections/nat"

	"github.com/lambhq/lamb/agent/agentapi"
	"github.com/lambhq/lamb/engine/agenthost"
	"github.com/lambhq/lamb/engine/backend"
	"github.com/lambhq/lamb/runtimes"
)

// Paths inside every container, as in AWS's sandboxes.
const (
	agentDir  = "/lamb" // the agent volume
	taskRoot  = agenthost.TaskRoot
	optDir    = agenthost.OptDir
	agentPort = agentapi.DefaultPort
)

// sandboxUser is the user every container runs as, the agent and the
// function alike: not root, as on AWS (agenthost.UID, agenthost.GID).
var sandboxUser = fmt.Sprintf("%d:%d", agenthost.UID, agenthost.GID)

var idRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)

// ErrUnsupported is returned by Launch for runtimes no image is known for.
var ErrUnsupported = errors.New("docker backend: unsupported")

// instance is one container running the agent, which runs the runtime; the
// embedded Host is the host side of the agent.
type instance struct {
	*agenthost.Host
	b        *Backend
	cid      string
	holder   string // the network holder's container, removed with this one; "" when none
	addr     string // where the host reaches the agent
	waitC    <-chan container.WaitResponse
	waitErrC <-chan error

	created, started time.Time // create and start requests sent (claim and start, when ahead)
	startTook        time.Duration
	ahead            bool // claimed from the sandboxes started ahead (ahead.go)
}

// Launch implements backend.Backend: create the container (agent, code and
// layers come from content volumes, so nothing is copied per cold start),
// start it, open the agent's event stream and wait for its ready event.
func (b *Backend) Launch(ctx context.Context, spec *backend.Spec) (backend.Instance, error) {
	img, cfg, hc, err := b.container(ctx, spec)
	if err != nil {
		return nil, err
	}
	// The agent answers only requests with this secret: nothing else on the
	// engine's network, nor the function, can drive it.
	secret := agentapi.NewSecret()
	cfg.Env = append(cfg.Env, agentapi.EnvSecret+"="+secret)
	b.ahead.busy()
	var in *instance
	key := b.aheadKey(ctx, spec, img, cfg, hc) // ahead.go; "" when none may serve
	if key != "" {
		if sb := b.ahead.take(key); sb != nil {
			if in, err = b.claim(ctx, spec, sb); err != nil {
				// Its container died or was removed behind lamb's back: the
				// function gets a normal start.
				b.log.Debug("docker backend: sandbox started ahead unusable", "container", trimID(sb.id), "err", err)
				in = nil
			}
		}
	}
	if in == nil {
		var h *holder
		if spec.Debug == nil { // a debugged one publishes its port: a network of its own (debug.go)
			h = b.spares.take(img)
			b.spares.refill(img, b.holderFor(img))
		}
		in, err = b.start(ctx, spec, cfg, hc, h, secret)
		if errors.Is(err, errJoin) {
			// The spare died (removed behind lamb's back): a network of its own.
			b.log.Debug("docker backend: spare network holder unusable", "holder", trimID(h.id), "err", err)
			b.removeContainer(context.WithoutCancel(ctx), h.id)
			in, err = b.start(ctx, spec, cfg, hc, nil, secret)
		}
		if err != nil {
			return nil, err
		}
	}
	if key != "" {
		defer b.ahead.refillQuiet(key, b.aheadFor(cfg, hc))
	}
	switch err := in.WaitReady(ctx, in.started); {
	case err == nil:
		b.log.Debug("docker backend: instance ready", "instance", in.ID(), "container", trimID(in.cid),
			"create", in.started.Sub(in.created), "start", in.startTook, "startToReady", in.InitDuration(),
			"sparedNetwork", in.holder != "", "startedAhead", in.ahead)
		return in, nil
	case errors.Is(err, agenthost.ErrEnded):
		if xe := in.ExitErr(); xe != nil {
			return nil, xe
		}
		return nil, fmt.Errorf("docker backend: instance %s ended before it was ready: %w", in.ID(), in.EventsErr())
	case errors.As(err, new(*backend.InitError)):
		return nil, err
	default:
		return nil, fmt.Errorf("docker backend: waiting for runtime init: %w", err)
	}
}

// container is the configuration of spec's instance container, without the
// agent's secret; the image, code and layers are made ready for it.
func (b *Backend) container(ctx context.Context, spec *backend.Spec) (img string, cfg *container.Config, hc *container.HostConfig, err error) {
	if !idRE.MatchString(spec.InstanceID) {
		return "", nil, nil, fmt.Errorf("docker backend: bad instance id %q", spec.InstanceID)
	}
	img, argv, try, err := b.plan(ctx, spec)
	if err != nil {
		return "", nil, nil, err
	}
	if err := b.pull(ctx, img, nil); err != nil {
		return "", nil, nil, err
	}
	if spec.PackageType == "Image" {
		if argv, err = b.imageCommand(ctx, img); err != nil {
			return "", nil, nil, fmt.Errorf("docker backend: %w", err)
		}
	}
	agentVol, err := b.agentVolume(ctx, img)
	if err != nil {
		return "", nil, nil, fmt.Errorf("docker backend: %w", err)
	}
	mounts := []mount.Mount{{Type: mount.TypeVolume, Source: agentVol, Target: agentDir, ReadOnly: true}}
	if spec.PackageType != "Image" {
		if spec.Code.Dir != "" {
			m, err := b.hostFolderMount(spec.Code.Dir, taskRoot) // hostfolder.go
			if err != nil {
				return "", nil, nil, fmt.Errorf("docker backend: code: %w", err)
			}
			mounts = append(mounts, m)
		} else {
			codeVol, err := b.codeVolume(ctx, img, spec.Code)
			if err != nil {
				return "", nil, nil, fmt.Errorf("docker backend: code: %w", err)
			}
			if codeVol != "" {
				mounts = append(mounts, mount.Mount{Type: mount.TypeVolume, Source: codeVol, Target: taskRoot, ReadOnly: true})
			}
		}
	}
	layerMount, err := b.layersMount(ctx, img, spec.Layers) // hostfolder.go
	if err != nil {
		return "", nil, nil, fmt.Errorf("docker backend: layers: %w", err)
	}
	if layerMount != nil {
		mounts = append(mounts, *layerMount)
	}

	entry := []string{agentDir + "/lamb", "agent", "--listen", ":" + strconv.Itoa(agentPort)}
	if b.cfg.API != nil {
		entry = append(entry, "--endpoint", agentapi.EndpointAddr)
	}
	for _, t := range try {
		entry = append(entry, "--try", t)
	}
	entry = append(append(entry, "--"), argv...)
	cfg = &container.Config{
		Image: img, Entrypoint: entry, Cmd: nil, Env: b.environ(spec), User: sandboxUser,
		Labels: map[string]string{
			labelManaged: "true", labelServer: b.cfg.ServerID, labelFunction: spec.FunctionName,
			labelVersion: spec.Version, labelPool: spec.PoolKey, labelInstance: spec.InstanceID,
		},
	}
	if spec.PackageType != "Image" {
		cfg.WorkingDir = taskRoot
	}
	eph := spec.EphemeralStorageMB
	if eph <= 0 {
		eph = 512
	}
	hc = &container.HostConfig{
		Mounts:         mounts,
		ReadonlyRootfs: true,
		Tmpfs:          map[string]string{"/tmp": fmt.Sprintf("rw,exec,mode=1777,size=%dm", eph)},
	}
	if spec.MemoryMB > 0 {
		hc.Resources.Memory = int64(spec.MemoryMB) << 20
		hc.Resources.MemorySwap = hc.Resources.Memory // no swap: exceeding the limit kills, as on AWS
	}
	b.limits(hc)

	return img, cfg, hc, nil
}

// errJoin marks a failure to start a container in a holder's namespace.
var errJoin = errors.New("join network holder")

// start creates and starts the instance's container, in h's network
// namespace when h is not nil (else in a network of its own), and starts
// following its agent, whose secret cfg's environment holds. cfg and hc are
// not modified.
func (b *Backend) start(ctx context.Context, spec *backend.Spec, cfg *container.Config, hc *container.HostConfig, h *holder, secret string) (*instance, error) {
	c, hcc := *cfg, *hc
	publish := ""
	if h != nil {
		hcc.NetworkMode = container.NetworkMode("container:" + h.id)
	} else {
		publish = b.exposeAgent(&c, &hcc) // netns.go
	}
	if err := debugContainer(spec, &c, &hcc); err != nil { // debug.go
		return nil, err
	}
	if err := b.delveContainer(ctx, spec, &c, &hcc); err != nil { // debug.go
		return nil, err
	}
	tCreate := time.Now()
	created, err := b.cli.ContainerCreate(ctx, &c, &hcc, &network.NetworkingConfig{}, nil, "lamb-"+spec.InstanceID)
	if err != nil {
		if h != nil && !errdefs.IsConflict(err) {
			return nil, fmt.Errorf("docker backend: create container: %w: %w", errJoin, err)
		}
		return nil, fmt.Errorf("docker backend: create container: %w", err)
	}
	in := b.newInstance(spec, created.ID)
	in.created = tCreate
	if h != nil {
		in.holder = h.id
	}
	if err := b.live.Add(in); err != nil {
		in.removeNow()
		return nil, fmt.Errorf("docker backend: %w", err)
	}
	// Watch for the exit before starting, so that an immediate exit is seen.
	in.waitC, in.waitErrC = b.cli.ContainerWait(in.Life(), created.ID, container.WaitConditionNextExit)
	in.started = time.Now()
	if err := b.cli.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		in.holder = "" // the caller decides what becomes of the holder
		in.abort()
		if h != nil {
			return nil, fmt.Errorf("docker backend: start container: %w: %w", errJoin, err)
		}
		return nil, fmt.Errorf("docker backend: start container: %w", err)
	}
	in.startTook = time.Since(in.started)
	addr := ""
	switch {
	case h != nil && b.podman:
		// Podman restarts a dead holder to start a container that joins it
		// (Docker refuses the start): its address may be new.
		if addr, err = b.agentAddr(ctx, h.id, b.publishAgentPort() != ""); err != nil {
			in.abort()
			return nil, fmt.Errorf("docker backend: network holder: %w", err)
		}
	case h != nil:
		addr = h.addr
	default:
		if addr, err = b.agentAddr(ctx, created.ID, publish != ""); err != nil {
			in.abort()
			return nil, fmt.Errorf("docker backend: %w", err)
		}
	}
	in.addr = addr
	go in.run(agentapi.NewClient(addr, secret))
	return in, nil
}

// newInstance is the instance of container cid, not yet followed.
func (b *Backend) newInstance(spec *backend.Spec, cid string) *instance {
	in := &instance{b: b, cid: cid}
	// Stop removes the container at once (no graceful shutdown: the runtime
	// has nothing to flush that lamb would keep). A broken connection to the
	// agent usually means the container is going away: wait a little for its
	// exit to show.
	in.Host = agenthost.New(agenthost.Config{ID: spec.InstanceID, Log: spec.Log, Kill: in.remove,
		ExitGrace: 2 * time.Second, LogWait: 5 * time.Second, API: b.cfg.API, Logger: b.log})
	return in
}

// abort undoes a launch that failed after the container was created.
func (in *instance) abort() {
	in.Abort()
	in.removeNow()
	in.b.live.Remove(in)
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

// environ is the engine's environment plus what only the sandbox knows (the
// caller adds the agent's secret, which the agent keeps from the function).
func (b *Backend) environ(spec *backend.Spec) []string {
	endpoint := ""
	if b.cfg.API != nil {
		endpoint = agentapi.EndpointURL
	}
	env := agenthost.Environ(spec, endpoint)
	delete(env, agentapi.EnvSecret) // a function's own would stand beside the agent's
	delete(env, agentapi.EnvLease)
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

// run owns the instance's life after start: it follows the agent's event
// stream until the runtime or the container ends, records the exit, removes
// the container and closes Done.
func (in *instance) run(client *agentapi.Client) {
	defer in.CloseDone()
	defer in.b.live.Remove(in)
	// A container that exits before its agent listens ends the dialling; one
	// killed from outside takes its network namespace with it, and the stream
	// may never see a FIN: its exit ends the stream.
	sctx, cancel := context.WithCancel(in.Life())
	var exitStatus *container.WaitResponse
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		select {
		case w := <-in.waitC:
			exitStatus = &w
			cancel()
		case <-in.waitErrC:
		case <-sctx.Done():
		}
	}()
	exitEv := in.Follow(sctx, client)
	cancel()
	<-watchDone
	if exitStatus != nil {
		in.waitC = closedWait(*exitStatus) // for the second look below
	}

	// The container's own view: its exit status and whether the kernel
	// OOM-killed something in it.
	xe := in.MarkExited(exitEv)
	if !in.Stopping() {
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
	in.RecordExit(xe)
	in.removeNow()
}

// closedWait returns a channel that yields w again.
func closedWait(w container.WaitResponse) <-chan container.WaitResponse {
	c := make(chan container.WaitResponse, 1)
	c <- w
	return c
}

// removeNow removes the container, within 30 seconds.
func (in *instance) removeNow() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	in.remove(ctx)
}

// remove deletes the container (killing it if it runs), then its network
// holder (which Podman refuses to remove while the container exists).
func (in *instance) remove(ctx context.Context) {
	in.b.removeContainer(ctx, in.cid)
	if in.holder != "" {
		in.b.removeContainer(ctx, in.holder)
	}
}
