package docker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"

	"github.com/lambhq/lamb/agent/agentapi"
	"github.com/lambhq/lamb/engine/backend"
)

// Sandboxes started ahead. A cold start spends most of its time in the
// engine creating and starting the container; the runtime's own start is
// a small part. After each launch, the backend starts one more container
// from the same configuration (image, mounts of the same code and layers,
// limits, user, labels) whose agent runs with --deferred: it listens, but
// starts no runtime. The next launch of that configuration (the function
// version's next cold start: after an idle eviction, a crash, a scale-out)
// claims it: it sends the instance's environment, and the agent starts the
// runtime then, so the runtime is as fresh as in a container of its own,
// its code is the same read-only mount, and Init Duration counts from the
// claim. Environment is the only thing that differs per instance (the log
// stream name, the initialization type), so it is left out of the
// container and delivered at the claim.
//
// A debugged function is never started ahead (its container differs per
// start). Host folders (hot reload) are keyed by the folder's identity, so
// a folder replaced since (a build that recreates its output folder) is not
// served by a container that mounts the old one. At most aheadMax
// configurations have one, and one left unclaimed for aheadTTL is removed.
// Each is started once the backend has launched nothing for quietFor
// (refillQuiet): started amid back-to-back cold starts, it would slow them
// and be claimed by none.
const (
	aheadMax = 4
	aheadTTL = 10 * time.Minute
	quietFor = 300 * time.Millisecond
)

// aheadKey identifies what a sandbox started ahead must match to serve a
// launch of cfg and hc: the container but its environment and instance
// label, the image's ID (a tag rebuilt since means a new key) and the
// identity of each host folder mounted. "" means none may serve.
func (b *Backend) aheadKey(ctx context.Context, spec *backend.Spec, img string, cfg *container.Config, hc *container.HostConfig) string {
	if !b.cfg.StartAhead || spec.Debug != nil {
		return ""
	}
	ii, err := b.cli.ImageInspect(ctx, img)
	if err != nil {
		return ""
	}
	c := *cfg
	c.Env = nil
	c.Labels = maps.Clone(cfg.Labels)
	delete(c.Labels, labelInstance)
	var folders []string
	for _, m := range hc.Mounts {
		if m.Type != mount.TypeBind {
			continue
		}
		id := folderID(m.Source) // folderid_*.go
		if id == "" {
			return ""
		}
		folders = append(folders, m.Source+":"+id)
	}
	j, err := json.Marshal(struct {
		Image   string
		Config  *container.Config
		Host    *container.HostConfig
		Folders []string
	}{ii.ID, &c, hc, folders})
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(j)
	return hex.EncodeToString(sum[:])
}

// aheadFor starts sandboxes ahead like the instance cfg and hc describe: the
// same container, with only the agent's own secret for environment, and an
// agent that waits for its claim.
func (b *Backend) aheadFor(cfg *container.Config, hc *container.HostConfig) startFunc {
	c, hcc := *cfg, *hc
	c.Labels = maps.Clone(cfg.Labels)
	c.Labels[labelInstance] = "ahead"
	// entry is [agent, "agent", flags..., "--", argv...]: --deferred goes
	// before the "--".
	c.Entrypoint = slices.Insert(slices.Clone(cfg.Entrypoint), 2, "--deferred")
	var vols []string
	for _, m := range hc.Mounts {
		if m.Type == mount.TypeVolume && m.Target != agentDir {
			vols = append(vols, m.Source)
		}
	}
	return func(ctx context.Context) (*holder, error) {
		c := c
		secret := agentapi.NewSecret()
		c.Env = []string{agentapi.EnvSecret + "=" + secret}
		h, err := b.boot(ctx, &c, &hcc) // netns.go
		if err != nil {
			return nil, fmt.Errorf("sandbox: %w", err)
		}
		h.secret, h.volumes = secret, vols
		return h, nil
	}
}

// claim makes sb the container of spec's instance: it follows its agent and
// starts the runtime with the instance's environment. On an error sb is
// removed and nothing reached a runtime.
func (b *Backend) claim(ctx context.Context, spec *backend.Spec, sb *holder) (*instance, error) {
	in := b.newInstance(spec, sb.id)
	in.addr, in.ahead = sb.addr, true
	in.created = time.Now()
	if err := b.live.Add(in); err != nil {
		in.removeNow()
		return nil, err
	}
	// Not running (rather than next exit): it may have died since it was
	// watched as a spare.
	in.waitC, in.waitErrC = b.cli.ContainerWait(in.Life(), sb.id, container.WaitConditionNotRunning)
	client := agentapi.NewClient(sb.addr, sb.secret)
	in.started = time.Now()
	env := b.environ(spec)
	if err := client.Start(ctx, env); err != nil {
		in.abort()
		return nil, fmt.Errorf("docker backend: %w", err)
	}
	in.startTook = time.Since(in.started)
	go in.run(client)
	return in, nil
}

var _ backend.Preparer = (*Backend)(nil)

// Prepare implements backend.Preparer: after CreateFunction or a code or
// configuration update (engine.Prepull), it starts a sandbox ahead for the
// function's first launch, so that the first cold start is a claim too, and
// waits for it. Nothing of spec's placeholder instance is kept: the
// sandbox's environment is its agent's secret alone.
func (b *Backend) Prepare(ctx context.Context, spec *backend.Spec) error {
	if !b.cfg.StartAhead || spec.Debug != nil {
		return nil
	}
	img, cfg, hc, err := b.container(ctx, spec)
	if err != nil {
		return err
	}
	key := b.aheadKey(ctx, spec, img, cfg, hc)
	if key == "" {
		return nil
	}
	select {
	case <-b.ahead.refill(key, b.aheadFor(cfg, hc)):
	case <-ctx.Done():
	}
	return nil
}
