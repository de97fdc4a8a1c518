package docker

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/docker/docker/api/types/mount"

	"github.com/lambhq/lamb/engine/backend"
)

// Hot reload: code (or a layer) that is a folder on lamb's host
// (backend.Artifact.Dir) is bind-mounted read-only where the content volume
// would be, so a save is seen by the next container without a copy. Only a
// local engine can (Capabilities.HostFolders): a remote one would mount a
// path of its own machine. The container's user (agenthost.UID) must be able to
// read the folder; one it cannot read fails at import, with the runtime's
// error, as a zip with unreadable files would.

// errHostFoldersRemote is returned by Launch for a host folder on a remote engine.
var errHostFoldersRemote = errors.New("a folder of lamb's host cannot be mounted by a remote container engine")

// hostFolderMount is the read-only bind mount of dir at target.
func (b *Backend) hostFolderMount(dir, target string) (mount.Mount, error) {
	if !b.local() {
		return mount.Mount{}, fmt.Errorf("%w (%s)", errHostFoldersRemote, b.cfg.Host)
	}
	if !filepath.IsAbs(dir) {
		return mount.Mount{}, fmt.Errorf("host folder %q is not an absolute path", dir)
	}
	return mount.Mount{Type: mount.TypeBind, Source: filepath.Clean(dir), Target: target, ReadOnly: true,
		// No propagation of mounts made under the folder later.
		BindOptions: &mount.BindOptions{Propagation: mount.PropagationRPrivate}}, nil
}

// layersMount is what /opt gets: the merged layers' volume, the bind mount
// of a layer that is a host folder, or nil with no layers. A host folder
// cannot be merged with other layers (as on LocalStack, a function with a
// hot-reload layer has that one layer only).
func (b *Backend) layersMount(ctx context.Context, image string, layers []backend.Artifact) (*mount.Mount, error) {
	for _, l := range layers {
		if l.Dir == "" {
			continue
		}
		if len(layers) > 1 {
			return nil, errors.New("a function with a hot-reload layer (a folder of lamb's host) can have no other layer on this backend")
		}
		m, err := b.hostFolderMount(l.Dir, optDir)
		if err != nil {
			return nil, err
		}
		return &m, nil
	}
	name, err := b.layersVolume(ctx, image, layers)
	if err != nil || name == "" {
		return nil, err
	}
	return &mount.Mount{Type: mount.TypeVolume, Source: name, Target: optDir, ReadOnly: true}, nil
}
