package docker

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/volume"

	"github.com/lambhq/lamb/engine/backend"
)

var _ backend.ArtifactCollector = (*Backend)(nil)

// CollectArtifacts implements backend.ArtifactCollector: it removes the code
// and layers volumes this server made whose zips keep no longer holds. The
// engine refuses to remove a volume a container uses (running or not), so
// what an instance runs from stays; volumes of other servers, and of lamb
// builds before volumes were labelled with their zips, are left alone.
func (b *Backend) CollectArtifacts(ctx context.Context, keep func(sha256 string) bool) (busy int, _ error) {
	list, err := b.cli.VolumeList(ctx, volume.ListOptions{Filters: filters.NewArgs(
		filters.Arg("label", labelManaged+"=true"), filters.Arg("label", labelServer+"="+b.cfg.ServerID))})
	if err != nil {
		return 0, fmt.Errorf("docker backend: list volumes: %w", err)
	}
	for _, v := range list.Volumes {
		if v == nil || v.Labels[labelZips] == "" {
			continue
		}
		if kind := v.Labels[labelVolume]; kind != "code" && kind != "layers" {
			continue
		}
		used := true
		for _, z := range strings.Split(v.Labels[labelZips], ",") {
			used = used && keep(z)
		}
		if used {
			continue
		}
		// A sandbox started ahead for code nobody references will never be
		// claimed (the function or its version is gone).
		b.ahead.drop(ctx, func(h *holder) bool { return slices.Contains(h.volumes, v.Name) })
		if !b.removeVolume(ctx, v.Name) {
			busy++
		}
	}
	return busy, nil
}

// removeVolume removes a content volume unless a container uses it (false),
// under its fill lock so that no launch of this server fills it meanwhile.
func (b *Backend) removeVolume(ctx context.Context, name string) bool {
	unlock := b.vols.lock(name)
	defer unlock()
	b.vols.forget(name)
	switch err := b.cli.VolumeRemove(ctx, name, false); {
	case err == nil:
		b.log.Debug("docker backend: removed the volume of code nobody references", "volume", name)
	case errdefs.IsNotFound(err):
	case errdefs.IsConflict(err):
		return false
	default:
		b.log.Warn("docker backend: remove volume", "volume", name, "err", err)
	}
	return true
}
