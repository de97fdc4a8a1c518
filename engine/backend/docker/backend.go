package docker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	errdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"

	"github.com/lambhq/lamb/agent/agentapi"
	"github.com/lambhq/lamb/engine/agenthost"
	"github.com/lambhq/lamb/engine/backend"
)

// Labels on everything lamb creates.
const (
	labelManaged  = "lamb.managed"  // "true"
	labelServer   = "lamb.server"   // Config.ServerID
	labelFunction = "lamb.function" // function name
	labelVersion  = "lamb.version"
	labelPool     = "lamb.pool"     // Spec.PoolKey
	labelInstance = "lamb.instance" // Spec.InstanceID
	labelHelper   = "lamb.helper"   // "true" on volume-filling helpers
)

// Config configures the backend.
type Config struct {
	// Host is the engine's address ("unix:///var/run/docker.sock",
	// "tcp://host:2375"). Empty: the first that answers of Detect's candidates.
	Host string
	// ServerID identifies this lamb server on labels. It should be stable
	// across restarts of the same server, so that Reap finds what a dead
	// predecessor left behind.
	ServerID string
	// RuntimeImages maps a runtime ID ("python3.12") or family ("python") to
	// the image to run it in; the runtime ID wins. Unmapped runtimes use
	// Spec.Image, then AWS's base image (runtimes.Lookup).
	RuntimeImages map[string]string
	Logger        *slog.Logger // default: discard
	// API, when set, receives the connections functions open to lamb's API:
	// each container's agent serves AWS_ENDPOINT_URL on the container's own
	// loopback (agentapi.EndpointURL) and carries its connections to the host
	// through tunnels over the connection the host holds to it, which this
	// backend hands to API. Serve lamb's API on it. No address of the host
	// need exist or be reachable from containers (a bridge not created yet, a
	// remote engine, rootless Podman). Nil: functions get no AWS_ENDPOINT_URL.
	API *agentapi.Listener
	// AgentBinary is a static Linux executable with the agent mode (run as
	// `AgentBinary agent ...`): the lamb binary itself (default
	// os.Executable()) or lamb-agent.
	AgentBinary string
	// Network is the network containers join (default: the engine's default bridge).
	Network string
	// StartAhead keeps a sandbox started ahead for each of the last few
	// container configurations launched (ahead.go), so that the next cold
	// start of the same function version claims a running container and
	// only starts the runtime.
	StartAhead bool
}

// Backend runs instances as containers. It is safe for concurrent use.
type Backend struct {
	cfg    Config
	log    *slog.Logger
	cli    *client.Client
	name   string // "docker" or "podman"
	podman bool
	vols   *volumes

	agentOnce sync.Once
	agentSum  string // the agent binary's sha256, hex
	agentName string
	agentErr  error

	dlv delveShip // debug.go

	live   agenthost.Live[*instance]
	spares *spares // network holders per image (netns.go)
	ahead  *spares // sandboxes started ahead per container configuration (ahead.go)

	mu   sync.Mutex
	cmds map[string][]string // image ID → its ENTRYPOINT+CMD (Image functions)
}

var _ backend.Backend = (*Backend)(nil)

// ErrNoEngine is returned by New when no Docker or Podman engine answers.
var ErrNoEngine = errors.New("docker backend: no container engine answers")

// New connects to the engine (negotiating the API version down to the
// engine's) and returns a backend. It starts no goroutines.
func New(ctx context.Context, cfg Config) (*Backend, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.ServerID == "" {
		cfg.ServerID = "lamb"
	}
	if cfg.AgentBinary == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("docker backend: agent binary: %w", err)
		}
		cfg.AgentBinary = exe
	}
	if cfg.Host == "" {
		h, ok := Detect(ctx)
		if !ok {
			return nil, ErrNoEngine
		}
		cfg.Host = h
	}
	cli, err := newClient(cfg.Host)
	if err != nil {
		return nil, fmt.Errorf("docker backend: %w", err)
	}
	v, err := cli.ServerVersion(ctx)
	if err != nil {
		cli.Close()
		return nil, fmt.Errorf("docker backend: %s: %w", cfg.Host, err)
	}
	b := &Backend{cfg: cfg, log: cfg.Logger, cli: cli, name: "docker",
		cmds: map[string][]string{}}
	if isPodman(v) {
		b.name, b.podman = "podman", true
	}
	b.vols = newVolumes(b)
	b.spares = newSpares(b, "spare network holder", 0, 0)
	b.ahead = newSpares(b, "sandbox started ahead", aheadMax, aheadTTL)
	return b, nil
}

// isPodman tells Podman's Docker-compatible API from Docker's own.
func isPodman(v types.Version) bool {
	if strings.Contains(strings.ToLower(v.Platform.Name), "podman") {
		return true
	}
	for _, c := range v.Components {
		if strings.Contains(strings.ToLower(c.Name), "podman") {
			return true
		}
	}
	return false
}

func newClient(host string) (*client.Client, error) {
	return client.NewClientWithOpts(client.WithHost(host), client.WithAPIVersionNegotiation())
}

// Detect finds a container engine that answers a ping within a short timeout,
// trying in order LAMB_CONTAINER_HOST, DOCKER_HOST, the docker CLI's current
// context, /var/run/docker.sock, Docker Desktop's sockets, rootful Podman
// (/run/podman/podman.sock) and rootless Podman
// ($XDG_RUNTIME_DIR/podman/podman.sock); see hosts.go. It returns the
// engine's address.
func Detect(ctx context.Context) (host string, ok bool) {
	for _, h := range candidates() {
		if pingHost(ctx, h) {
			return h, true
		}
	}
	return "", false
}

func pingHost(ctx context.Context, host string) bool {
	if u, err := url.Parse(host); err == nil && u.Scheme == "unix" {
		if _, err := os.Stat(u.Path); err != nil {
			return false // no socket: skip the dial
		}
	}
	cli, err := newClient(host)
	if err != nil {
		return false
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(ctx, 750*time.Millisecond)
	defer cancel()
	_, err = cli.Ping(ctx)
	return err == nil
}

// Name implements backend.Backend: "docker" or "podman".
func (b *Backend) Name() string { return b.name }

// Capabilities implements backend.Backend.
func (b *Backend) Capabilities() backend.Capabilities {
	return backend.Capabilities{MemoryLimit: true, Images: true, Isolated: true, HostFolders: b.local()}
}

// local reports whether the engine runs on this machine (reached through a
// unix socket), so that a folder of lamb's host can be bind-mounted: a remote
// engine (tcp://, ssh://) would mount its own machine's path of that name.
func (b *Backend) local() bool {
	u, err := url.Parse(b.cfg.Host)
	return err == nil && (u.Scheme == "unix" || u.Scheme == "npipe")
}

// Prepull implements backend.Backend: it pulls image unless present
// (reporting the engine's progress messages), then starts a spare network
// holder for it and waits for it, as AWS's Pending state covers preparing a
// function's network, so that the first cold start finds its network ready.
// A holder that cannot be had is no error (instances then get their own).
func (b *Backend) Prepull(ctx context.Context, ref string, progress func(backend.Progress)) error {
	if err := b.pull(ctx, ref, progress); err != nil {
		return err
	}
	select {
	case <-b.spares.refill(ref, b.holderFor(ref)):
	case <-ctx.Done():
	}
	return nil
}

func (b *Backend) pull(ctx context.Context, ref string, progress func(backend.Progress)) error {
	if _, err := b.cli.ImageInspect(ctx, ref); err == nil {
		return nil
	} else if !errdefs.IsNotFound(err) {
		return fmt.Errorf("docker backend: inspect %s: %w", ref, err)
	}
	rc, err := b.cli.ImagePull(ctx, ref, image.PullOptions{})
	if err != nil {
		return fmt.Errorf("docker backend: pull %s: %w", ref, err)
	}
	defer rc.Close()
	return readPullProgress(rc, ref, progress)
}

// Close stops every instance this backend launched; later launches fail.
func (b *Backend) Close(ctx context.Context) error {
	var errs []error
	b.ahead.close(ctx)
	b.spares.close(ctx)
	if err := b.live.StopAll(ctx); err != nil {
		errs = append(errs, err)
	}
	if err := b.removeLabelled(ctx, func(labels map[string]string) bool {
		return labels[labelServer] == b.cfg.ServerID && labels[labelHelper] == "true"
	}); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return b.cli.Close()
}

// Reap implements backend.Backend: called once at start-up, it removes the
// containers labelled with this backend's server ID — left by an earlier run of
// the same server (same data dir or address) that died without cleaning up —
// then agent volumes of other lamb builds and dlv volumes that nothing uses
// any more.
// Containers of other servers, which may be alive, are not touched. Code and
// layer volumes are a cache shared across restarts and are kept.
func (b *Backend) Reap(ctx context.Context) error {
	err := b.removeLabelled(ctx, func(labels map[string]string) bool {
		return labels[labelServer] == b.cfg.ServerID
	})
	return errors.Join(err, b.reapAgentVolumes(ctx))
}

func (b *Backend) removeLabelled(ctx context.Context, match func(map[string]string) bool) error {
	list, err := b.cli.ContainerList(ctx, container.ListOptions{All: true,
		Filters: filters.NewArgs(filters.Arg("label", labelManaged+"=true"))})
	if err != nil {
		return fmt.Errorf("docker backend: list containers: %w", err)
	}
	// Network holders last: Podman refuses to remove one that a container
	// still joins.
	sort.SliceStable(list, func(i, j int) bool {
		return list[i].Labels[labelNetns] == "" && list[j].Labels[labelNetns] != ""
	})
	var errs []error
	for _, c := range list {
		if !match(c.Labels) {
			continue
		}
		b.log.Info("removing container", "id", c.ID[:12], "server", c.Labels[labelServer], "instance", c.Labels[labelInstance])
		if err := b.cli.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true}); err != nil && !errdefs.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("remove %s: %w", c.ID[:12], err))
		}
	}
	return errors.Join(errs...)
}

// imageCommand returns an image's own ENTRYPOINT followed by its CMD, which
// the agent runs for PackageType Image functions.
func (b *Backend) imageCommand(ctx context.Context, ref string) ([]string, error) {
	ii, err := b.cli.ImageInspect(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("inspect image %s: %w", ref, err)
	}
	b.mu.Lock()
	cmd, ok := b.cmds[ii.ID]
	b.mu.Unlock()
	if ok {
		return cmd, nil
	}
	if ii.Config != nil {
		cmd = append(append([]string(nil), ii.Config.Entrypoint...), ii.Config.Cmd...)
	}
	b.mu.Lock()
	b.cmds[ii.ID] = cmd
	b.mu.Unlock()
	return cmd, nil
}

func trimID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
