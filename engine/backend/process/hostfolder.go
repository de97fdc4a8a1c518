package process

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/lambhq/lamb/engine/backend"
)

// Hot reload: an artifact that is a folder on the host (backend.Artifact.Dir)
// is used in place: it is the task root (or a layer's directory on the search
// paths) as it is, with no copy, so a save is seen by the next instance.
//
// Read-only as far as a process can be kept from writing: as a function uid
// (lamb running as root) the function owns nothing in the folder, so it can
// write there only what the folder's modes let every user write. Such a uid
// must be able to read the folder, though: when the folder or a directory
// above it is closed to other users (a project under a 0700 home), the
// function runs as lamb's own user instead, unisolated and able to write the
// folder, and the backend warns once per folder (hostFolderUser). Files inside
// that other users cannot read fail at import, with the runtime's error.

// artifactDir returns the directory that holds a's content for u: the host
// folder itself, or c's extracted copy of the zip.
func (b *Backend) artifactDir(ctx context.Context, c *artifactCache, a backend.Artifact, u user, verify bool) (string, error) {
	if a.Dir == "" {
		return c.get(ctx, a, u, verify)
	}
	if !filepath.IsAbs(a.Dir) {
		return "", fmt.Errorf("host folder %q is not an absolute path", a.Dir)
	}
	return filepath.Clean(a.Dir), nil
}

// hostFolderUser returns lamb's user when u is a function uid that cannot
// read one of spec's host folders, and u otherwise.
func (b *Backend) hostFolderUser(spec *backend.Spec, u user) user {
	if u.lamb {
		return u
	}
	dirs := make([]string, 0, 1+len(spec.Layers))
	if spec.Code.Dir != "" {
		dirs = append(dirs, spec.Code.Dir)
	}
	for _, l := range spec.Layers {
		if l.Dir != "" {
			dirs = append(dirs, l.Dir)
		}
	}
	for _, d := range dirs {
		if err := othersCanReach(d, 0o005); err != nil {
			b.usersMu.Lock()
			if !b.warned[d] {
				b.warned[d] = true
				b.log.Warn("process backend: function uids cannot read this hot-reload folder: functions using it run as lamb's user, unisolated and able to write it",
					"folder", d, "err", err)
			}
			b.usersMu.Unlock()
			return lambUser()
		}
	}
	return u
}
