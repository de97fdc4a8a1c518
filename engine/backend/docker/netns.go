package docker

import (
	"context"
	"fmt"
	"strings"
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
// stay as isolated from each other as with their own network. Backend.spares
// keeps one started holder per image ready (spares.go), started when an image
// is pre-pulled and after each one is taken, so that a cold start finds its
// network already set up.
//
// A sandbox started ahead (ahead.go) is a holder too: its agent waits, with
// its own network, for the instance that claims it.
type holder struct {
	id     string
	addr   string // where the host reaches the agent port in this namespace
	secret string // the agent's secret; "" for network holders, whose agent serves nothing
	// volumes are the content volumes it mounts besides the agent's (a
	// sandbox started ahead: its code and layers), which it must not keep
	// from being collected.
	volumes []string
}

// holderFor starts spare network holders for img.
func (b *Backend) holderFor(img string) startFunc {
	return func(ctx context.Context) (*holder, error) { return b.startHolder(ctx, img) }
}

// startHolder creates and starts a network holder from img (any image: the
// holder runs the agent from the agent volume) and finds its agent address.
func (b *Backend) startHolder(ctx context.Context, img string) (*holder, error) {
	agentVol, err := b.agentVolume(ctx, img)
	if err != nil {
		return nil, err
	}
	cfg := &container.Config{
		Image: img, Entrypoint: []string{agentDir + "/lamb", "agent", "--hold"}, Cmd: nil, User: sandboxUser,
		Labels: map[string]string{labelManaged: "true", labelServer: b.cfg.ServerID, labelNetns: "true"},
	}
	hc := &container.HostConfig{
		Mounts:         []mount.Mount{{Type: mount.TypeVolume, Source: agentVol, Target: agentDir, ReadOnly: true}},
		ReadonlyRootfs: true,
	}
	hc.Resources.Memory = 32 << 20
	b.limits(hc)
	h, err := b.boot(ctx, cfg, hc)
	if err != nil {
		return nil, fmt.Errorf("network holder: %w", err)
	}
	return h, nil
}

// exposeAgent gives a container a network namespace of its own on the
// engine's network, with the agent's port exposed (published where the host
// cannot reach container addresses); it returns the host IP it publishes on,
// or "".
func (b *Backend) exposeAgent(c *container.Config, hc *container.HostConfig) (publish string) {
	port := nat.Port(fmt.Sprintf("%d/tcp", agentPort))
	c.ExposedPorts = nat.PortSet{port: {}}
	hc.NetworkMode = container.NetworkMode(b.cfg.Network)
	b.ownNetwork(hc)
	if publish = b.publishAgentPort(); publish != "" {
		hc.PortBindings = nat.PortMap{port: {{HostIP: publish}}}
	}
	return publish
}

// boot creates and starts a container with a network of its own and finds
// where the host reaches its agent. cfg and hc are not modified.
func (b *Backend) boot(ctx context.Context, cfg *container.Config, hc *container.HostConfig) (*holder, error) {
	c, hcc := *cfg, *hc
	publish := b.exposeAgent(&c, &hcc)
	created, err := b.cli.ContainerCreate(ctx, &c, &hcc, &network.NetworkingConfig{}, nil, "")
	if err != nil {
		return nil, fmt.Errorf("create: %w", err)
	}
	if err := b.cli.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		b.removeContainer(ctx, created.ID)
		return nil, fmt.Errorf("start: %w", err)
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
