package docker

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"sync"
	"time"

	errdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/volume"

	"github.com/lambhq/lamb/engine/backend"
	"github.com/lambhq/lamb/ziparchive"
)

// Content volumes hold what every instance of a kind shares: the agent binary,
// a function's code, a merged set of layers. Each is named after a hash of
// its content, filled once through a short-lived helper container (the Engine
// API copies into a created container's volumes; a container with a read-only
// root filesystem accepts no copies, and bind mounts would not work with a
// remote daemon) and then mounted read-only by every instance. A marker file,
// written last, tells a complete volume from one a crash left half-filled.
const (
	markerName  = ".lamb-complete"
	fillMount   = "/lamb-fill"
	labelVolume = "lamb.volume" // kind: agent, code, layers
	labelZips   = "lamb.zips"   // code and layers volumes: the sha256 of each zip in them, comma-separated
)

// volumes fills content volumes once each.
type volumes struct {
	b *Backend

	mu    sync.Mutex
	ready map[string]bool
	locks map[string]*sync.Mutex
}

func newVolumes(b *Backend) *volumes {
	return &volumes{b: b, ready: map[string]bool{}, locks: map[string]*sync.Mutex{}}
}

func (v *volumes) lock(name string) func() {
	v.mu.Lock()
	l := v.locks[name]
	if l == nil {
		l = &sync.Mutex{}
		v.locks[name] = l
	}
	v.mu.Unlock()
	l.Lock()
	return l.Unlock
}

// ensure makes volume name exist with content; content writes a tar stream of
// the volume's files (the marker is appended by ensure). image is any local
// image, used for the helper container; zips, the sha256 of the zips in it.
//
// A volume ensure filled before is checked to exist still (one inspect):
// another server on the same engine may have collected it (CollectArtifacts),
// and the engine would create an empty one in its place for a mount.
func (v *volumes) ensure(ctx context.Context, name, kind, image string, zips []string, content func(*tar.Writer) error) error {
	v.mu.Lock()
	ok := v.ready[name]
	v.mu.Unlock()
	if ok {
		if _, err := v.b.cli.VolumeInspect(ctx, name); err == nil || !errdefs.IsNotFound(err) {
			return nil
		}
		v.forget(name)
	}
	unlock := v.lock(name)
	defer unlock()
	v.mu.Lock()
	ok = v.ready[name]
	v.mu.Unlock()
	if ok {
		return nil
	}
	if err := v.fill(ctx, name, kind, image, zips, content); err != nil {
		return fmt.Errorf("volume %s: %w", name, err)
	}
	v.mu.Lock()
	v.ready[name] = true
	v.mu.Unlock()
	return nil
}

// forget drops name from the volumes known to be filled.
func (v *volumes) forget(name string) {
	v.mu.Lock()
	delete(v.ready, name)
	v.mu.Unlock()
}

func (v *volumes) fill(ctx context.Context, name, kind, image string, zips []string, content func(*tar.Writer) error) error {
	cli := v.b.cli
	if _, err := cli.VolumeInspect(ctx, name); err != nil {
		if !errdefs.IsNotFound(err) {
			return err
		}
		labels := map[string]string{labelManaged: "true", labelVolume: kind, labelServer: v.b.cfg.ServerID}
		if len(zips) > 0 {
			labels[labelZips] = strings.ToLower(strings.Join(zips, ","))
		}
		if _, err := cli.VolumeCreate(ctx, volume.CreateOptions{Name: name, Labels: labels}); err != nil {
			return err
		}
	}
	helper, err := cli.ContainerCreate(ctx,
		&container.Config{Image: image, Entrypoint: []string{"/nonexistent"}, Labels: map[string]string{
			labelManaged: "true", labelServer: v.b.cfg.ServerID, labelHelper: "true"}},
		&container.HostConfig{NetworkMode: "none", Mounts: []mount.Mount{{Type: mount.TypeVolume, Source: name, Target: fillMount}}},
		nil, nil, "")
	if err != nil {
		return fmt.Errorf("helper container: %w", err)
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		_ = cli.ContainerRemove(rctx, helper.ID, container.RemoveOptions{Force: true})
	}()
	if _, err := cli.ContainerStatPath(ctx, helper.ID, fillMount+"/"+markerName); err == nil {
		return nil // filled before, maybe by an earlier server
	}
	pr, pw := io.Pipe()
	go func() {
		tw := tar.NewWriter(pw)
		err := content(tw)
		if err == nil {
			err = tw.WriteHeader(&tar.Header{Name: markerName, Mode: 0o444, Size: 0, Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0)})
		}
		if err == nil {
			err = tw.Close()
		}
		pw.CloseWithError(err)
	}()
	err = cli.CopyToContainer(ctx, helper.ID, fillMount, pr, container.CopyToContainerOptions{})
	pr.CloseWithError(errors.New("copy ended")) // lets the writer goroutine finish
	if err != nil {
		return fmt.Errorf("copy into volume: %w", err)
	}
	return nil
}

// agentVolumeName hashes the agent binary once; the volume is named after it.
// Only the hash is kept: the binary (lamb itself, ~60 MB) is streamed again
// when a volume is filled (writeAgent), so that it does not stay in the heap
// for the server's life (and, through GC pacing, double lamb's RSS).
func (b *Backend) agentVolumeName() (string, error) {
	b.agentOnce.Do(func() {
		f, err := os.Open(b.cfg.AgentBinary)
		if err != nil {
			b.agentErr = fmt.Errorf("read agent binary: %w", err)
			return
		}
		defer f.Close()
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			b.agentErr = fmt.Errorf("read agent binary: %w", err)
			return
		}
		b.agentSum = hex.EncodeToString(h.Sum(nil))
		b.agentName = "lamb-agent-" + b.agentSum[:16]
	})
	return b.agentName, b.agentErr
}

// agentVolume returns the name of the volume holding the agent binary as
// /lamb, filling it once per agent build.
func (b *Backend) agentVolume(ctx context.Context, image string) (string, error) {
	name, err := b.agentVolumeName()
	if err != nil {
		return "", err
	}
	err = b.vols.ensure(ctx, name, "agent", image, nil, func(tw *tar.Writer) error {
		return b.writeAgent(tw)
	})
	return name, err
}

// writeAgent streams the agent binary into tw as /lamb, never whole in
// memory: a 58 MB buffer would be garbage at once, but would set the GC's
// heap goal to twice that for a long while. A binary replaced since it was
// hashed fails the fill, rather than filling the volume named after the old
// one with the new one.
func (b *Backend) writeAgent(tw *tar.Writer) error {
	f, err := os.Open(b.cfg.AgentBinary)
	if err != nil {
		return fmt.Errorf("read agent binary: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("read agent binary: %w", err)
	}
	if err := tw.WriteHeader(&tar.Header{Name: "lamb", Mode: 0o755, Size: fi.Size(), Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0)}); err != nil {
		return err
	}
	h := sha256.New()
	if _, err := io.Copy(tw, io.TeeReader(f, h)); err != nil {
		return fmt.Errorf("read agent binary: %w", err)
	}
	if hex.EncodeToString(h.Sum(nil)) != b.agentSum {
		return fmt.Errorf("agent binary %s changed while lamb runs", b.cfg.AgentBinary)
	}
	return nil
}

// reapAgentVolumes removes agent volumes of other lamb builds, and dlv
// volumes (debug.go) other than the one this server uses, that no container
// uses (the engine refuses to remove a volume in use).
func (b *Backend) reapAgentVolumes(ctx context.Context) error {
	agent, _ := b.agentVolumeName()
	b.dlv.mu.Lock()
	dlv := b.dlv.name
	b.dlv.mu.Unlock()
	for kind, current := range map[string]string{"agent": agent, "dlv": dlv} {
		list, err := b.cli.VolumeList(ctx, volume.ListOptions{Filters: filters.NewArgs(
			filters.Arg("label", labelManaged+"=true"), filters.Arg("label", labelVolume+"="+kind))})
		if err != nil {
			return fmt.Errorf("docker backend: list volumes: %w", err)
		}
		for _, v := range list.Volumes {
			if v == nil || v.Name == current {
				continue
			}
			if err := b.cli.VolumeRemove(ctx, v.Name, false); err != nil && !errdefs.IsNotFound(err) && !errdefs.IsConflict(err) {
				b.log.Warn("docker backend: remove old volume", "kind", kind, "volume", v.Name, "err", err)
			}
		}
	}
	return nil
}

// codeVolume returns the volume holding a function's code (mounted at /var/task).
func (b *Backend) codeVolume(ctx context.Context, image string, code backend.Artifact) (string, error) {
	if code.Open == nil {
		return "", nil
	}
	name := "lamb-code-" + shortSHA(code.SHA256)
	err := b.vols.ensure(ctx, name, "code", image, []string{code.SHA256}, func(tw *tar.Writer) error {
		return zipToTar(ctx, code, tw)
	})
	return name, err
}

// layersVolume returns the volume holding the function's layers merged in
// order, later layers winning (mounted at /opt); "" when there are none.
func (b *Backend) layersVolume(ctx context.Context, image string, layers []backend.Artifact) (string, error) {
	if len(layers) == 0 {
		return "", nil
	}
	h := sha256.New()
	for _, l := range layers {
		h.Write([]byte(l.SHA256 + "\n"))
	}
	name := "lamb-layers-" + hex.EncodeToString(h.Sum(nil)[:12])
	zips := make([]string, len(layers))
	for i, l := range layers {
		zips[i] = l.SHA256
	}
	err := b.vols.ensure(ctx, name, "layers", image, zips, func(tw *tar.Writer) error {
		for _, l := range layers {
			if err := zipToTar(ctx, l, tw); err != nil {
				return err
			}
		}
		return nil
	})
	return name, err
}

func shortSHA(s string) string {
	s = strings.ToLower(s)
	if len(s) > 24 {
		s = s[:24]
	}
	return s
}

func writeTarFile(tw *tar.Writer, name string, data []byte, mode int64) error {
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: mode, Size: int64(len(data)), Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0)}); err != nil {
		return err
	}
	_, err := tw.Write(data)
	return err
}

// zipToTar validates a zip (no absolute paths, no climbing out, no links
// leaving the root, AWS's size limit) and writes its entries to tw, keeping
// modes: code is readable by everyone, executables stay executable.
func zipToTar(ctx context.Context, a backend.Artifact, tw *tar.Writer) error {
	rc, err := a.Open(ctx)
	if err != nil {
		return fmt.Errorf("open %s: %w", a.SHA256, err)
	}
	data, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		return fmt.Errorf("read %s: %w", a.SHA256, err)
	}
	r := bytes.NewReader(data)
	if _, err := ziparchive.Validate(r, int64(len(data))); err != nil {
		return err
	}
	zr, err := zip.NewReader(r, int64(len(data)))
	if err != nil {
		return err
	}
	for _, f := range zr.File {
		if err := ctx.Err(); err != nil {
			return err
		}
		name := path.Clean(strings.ReplaceAll(f.Name, `\`, "/"))
		if name == "." {
			continue
		}
		mode := f.Mode()
		hdr := &tar.Header{Name: name, ModTime: f.Modified}
		switch {
		case mode.IsDir():
			hdr.Typeflag, hdr.Mode, hdr.Name = tar.TypeDir, 0o755, name+"/"
			if err := tw.WriteHeader(hdr); err != nil {
				return err
			}
		case mode&fs.ModeSymlink != 0:
			target, err := readAll(f)
			if err != nil {
				return err
			}
			hdr.Typeflag, hdr.Linkname, hdr.Mode = tar.TypeSymlink, string(target), 0o777
			if err := tw.WriteHeader(hdr); err != nil {
				return err
			}
		default:
			perm := int64(mode.Perm() | 0o444) // zips from Windows carry no modes
			if perm&0o111 != 0 {
				perm |= 0o111
			}
			hdr.Typeflag, hdr.Mode, hdr.Size = tar.TypeReg, perm&0o755, int64(f.UncompressedSize64)
			if err := tw.WriteHeader(hdr); err != nil {
				return err
			}
			zf, err := f.Open()
			if err != nil {
				return err
			}
			_, err = io.Copy(tw, zf)
			zf.Close()
			if err != nil {
				return fmt.Errorf("entry %s: %w", f.Name, err)
			}
		}
	}
	return nil
}

func readAll(f *zip.File) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(io.LimitReader(rc, 4096))
}
