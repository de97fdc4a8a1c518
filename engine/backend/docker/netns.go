package docker

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	errdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/go-connections/nat"
	"github.com/docker/go-units"
)

// labelNetns marks network holders ("true").
const labelNetns = "lamb.netns"

// A holder is a started container whose only job is to own a network
// namespace (like a Kubernetes pause container): its agent, in --hold mode,
// sleeps until it is removed. An instance container that joins it
// (NetworkMode container:<id>) starts in about half the time of one that
// gets its own bridge endpoint, because the engine has no veth, address or
// iptables work left to do. Each holder serves one instance, so instances
// stay as isolated from each other as with their own network.
type holder struct {
	id   string
	addr string // where the host reaches the agent port in this namespace
}

// spares keeps one started holder per image ready, started when an image is
// pre-pulled and after each one is taken, so that a cold start finds its
// network already set up. A miss is not an error: the instance then gets a
// network of its own, as without spares. A spare that dies (removed behind
// lamb's back) is noticed and removed.
type spares struct {
	b    *Backend
	life context.Context // ends at close: stops the spares' watchers
	end  context.CancelFunc
	wg   sync.WaitGroup // refills and watchers

	mu      sync.Mutex
	ready   map[string]*spare        // image → its spare
	filling map[string]chan struct{} // image → closed when its refill ends
	closed  bool
}

type spare struct {
	*holder
	unwatch context.CancelFunc
}

func newSpares(b *Backend) *spares {
	life, end := context.WithCancel(context.Background())
	return &spares{b: b, life: life, end: end, ready: map[string]*spare{}, filling: map[string]chan struct{}{}}
}

// take returns img's spare holder, or nil, and starts the next one.
func (s *spares) take(img string) *holder {
	s.mu.Lock()
	sp := s.ready[img]
	delete(s.ready, img)
	s.mu.Unlock()
	s.refill(img)
	if sp == nil {
		return nil
	}
	sp.unwatch()
	return sp.holder
}

// refill starts a spare holder for img unless one is ready or starting. The
// channel is closed once img has a spare or the attempt failed.
func (s *spares) refill(img string) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.filling[img]; ok {
		return c
	}
	done := make(chan struct{})
	if s.closed || s.ready[img] != nil {
		close(done)
		return done
	}
	s.filling[img] = done
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(done)
		// Not cancelled by close: a create the engine finished after the
		// client gave up would leave a container nobody knows about. close
		// waits for this instead (bounded).
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		h, err := s.b.startHolder(ctx, img)
		s.mu.Lock()
		delete(s.filling, img)
		keep := err == nil && !s.closed
		if keep {
			sp := &spare{holder: h}
			var wctx context.Context
			wctx, sp.unwatch = context.WithCancel(s.life)
			s.ready[img] = sp
			s.wg.Add(1)
			go s.watch(wctx, img, sp)
		}
		s.mu.Unlock()
		switch {
		case err != nil:
			s.b.log.Warn("docker backend: start spare network holder", "image", img, "err", err)
		case !keep:
			s.b.removeContainer(ctx, h.id)
		}
	}()
	return done
}

// watch removes sp once its container stops while it is still the spare;
// taking the spare or close ends the watch.
func (s *spares) watch(ctx context.Context, img string, sp *spare) {
	defer s.wg.Done()
	waitC, errC := s.b.cli.ContainerWait(ctx, sp.id, container.WaitConditionNotRunning)
	select {
	case <-waitC:
	case <-errC:
		if ctx.Err() != nil {
			return
		}
	case <-ctx.Done():
		return
	}
	s.mu.Lock()
	mine := s.ready[img] == sp
	if mine {
		delete(s.ready, img)
	}
	s.mu.Unlock()
	if mine {
		rctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		s.b.log.Debug("docker backend: spare network holder died", "holder", trimID(sp.id))
		s.b.removeContainer(rctx, sp.id)
	}
}

// close removes the spare holders, after waiting for refills in flight;
// later takes return nil and start nothing.
func (s *spares) close(ctx context.Context) {
	s.mu.Lock()
	s.closed = true
	ready := s.ready
	s.ready = map[string]*spare{}
	s.mu.Unlock()
	s.end()
	s.wg.Wait()
	// Refills that finished meanwhile removed their own holders (closed).
	for _, sp := range ready {
		s.b.removeContainer(ctx, sp.id)
	}
}

// startHolder creates and starts a network holder from img (any image: the
// holder runs the agent from the agent volume) and finds its agent address.
func (b *Backend) startHolder(ctx context.Context, img string) (*holder, error) {
	agentVol, err := b.agentVolume(ctx, img)
	if err != nil {
		return nil, err
	}
	port := nat.Port(fmt.Sprintf("%d/tcp", agentPort))
	cfg := &container.Config{
		Image: img, Entrypoint: []string{agentDir + "/lamb", "agent", "--hold"}, Cmd: nil, User: sandboxUser,
		Labels:       map[string]string{labelManaged: "true", labelServer: b.cfg.ServerID, labelNetns: "true"},
		ExposedPorts: nat.PortSet{port: {}},
	}
	hc := &container.HostConfig{
		Mounts:         []mount.Mount{{Type: mount.TypeVolume, Source: agentVol, Target: agentDir, ReadOnly: true}},
		ReadonlyRootfs: true,
		NetworkMode:    container.NetworkMode(b.cfg.Network),
	}
	hc.Resources.Memory = 32 << 20
	b.ownNetwork(hc)
	b.limits(hc)
	publish := b.publishAgentPort()
	if publish != "" {
		hc.PortBindings = nat.PortMap{port: {{HostIP: publish}}}
	}
	created, err := b.cli.ContainerCreate(ctx, cfg, hc, &network.NetworkingConfig{}, nil, "")
	if err != nil {
		return nil, fmt.Errorf("create network holder: %w", err)
	}
	if err := b.cli.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		b.removeContainer(ctx, created.ID)
		return nil, fmt.Errorf("start network holder: %w", err)
	}
	addr, err := b.agentAddr(ctx, created.ID, publish != "")
	if err != nil {
		b.removeContainer(ctx, created.ID)
		return nil, err
	}
	return &holder{id: created.ID, addr: addr}, nil
}

// ownNetwork adds what a container with a network namespace of its own
// needs: the host alias (Podman's host.containers.internal is built in),
// which functions may use for servers of their own on the host; lamb's API
// they reach through the agent. Containers that join its namespace share its
// /etc/hosts.
func (b *Backend) ownNetwork(hc *container.HostConfig) {
	if !b.podman {
		hc.ExtraHosts = []string{b.hostAlias() + ":host-gateway"}
	}
}

// hostAlias is the name containers resolve to the host: Docker's
// host-gateway alias, or the one Podman adds itself.
func (b *Backend) hostAlias() string {
	if b.podman {
		return "host.containers.internal"
	}
	return "host.docker.internal"
}

// limits sets rlimits the engine can apply: rootless Podman cannot raise them
// (no CAP_SYS_RESOURCE), so ask for AWS's.
func (b *Backend) limits(hc *container.HostConfig) {
	// Like AWS's sandboxes: no capabilities (the agent and the function need
	// none: they read their own mounts and the cgroup's files), no way to
	// gain privileges through setuid binaries, and a bound on processes so
	// a fork bomb stays inside its instance.
	hc.CapDrop = []string{"ALL"}
	hc.SecurityOpt = append(hc.SecurityOpt, "no-new-privileges")
	pids := int64(pidsLimit)
	hc.Resources.PidsLimit = &pids
	if b.podman {
		hc.Resources.Ulimits = []*units.Ulimit{{Name: "nofile", Soft: 1024, Hard: 1024}, {Name: "nproc", Soft: 4096, Hard: 4096}}
	}
}

// pidsLimit is each container's process (and thread) limit: AWS allows a
// function 1024.
const pidsLimit = 1024

// removeContainer removes a container (killing it if it runs), logging failures.
func (b *Backend) removeContainer(ctx context.Context, id string) {
	var err error
	for attempt := 1; ; attempt++ {
		err = b.cli.ContainerRemove(ctx, id, container.RemoveOptions{Force: true})
		if err == nil || errdefs.IsNotFound(err) || errdefs.IsConflict(err) {
			return
		}
		// Podman 4 refuses while its own clean-up of a container that just
		// died (its holder killed, say) is under way: "container state
		// improper". It passes in a moment.
		if attempt == 5 || !strings.Contains(err.Error(), "state improper") {
			break
		}
		t := time.NewTimer(time.Duration(attempt) * 100 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
			continue
		}
		break
	}
	b.log.Warn("docker backend: remove container", "container", trimID(id), "err", err)
}
