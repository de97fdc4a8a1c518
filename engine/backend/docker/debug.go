package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/go-connections/nat"

	"github.com/lambhq/lamb/engine/backend"
	"github.com/lambhq/lamb/runtimes"
)

// errDebugUnsupported: --debug of a runtime whose debugger lamb cannot
// start in a container (an Image function, or no usable dlv).
var errDebugUnsupported = errors.New("docker backend: --debug")

// debugContainer sets a debugged instance up (docs/debugging.md): the
// bootstrap's debugger (debugpy, node's inspector, delve, JDWP) listens on 0.0.0.0:PORT
// inside the container, published on 127.0.0.1:PORT of the host only. The
// container has a network of its own (no spare holder: ports are published
// on the container that owns the namespace).
func debugContainer(spec *backend.Spec, c *container.Config, hc *container.HostConfig) error {
	d := spec.Debug
	if d == nil {
		return nil
	}
	rt, _ := runtimes.Lookup(spec.Runtime)
	// java: the java image's bootstrap starts the JVM with JDWP's agent on
	// LAMB_DEBUG_PORT (scripts/build-runtime-images.sh).
	if spec.PackageType == "Image" || (rt.Family != runtimes.FamilyPython && rt.Family != runtimes.FamilyNodejs && rt.Family != runtimes.FamilyProvided && rt.Family != runtimes.FamilyJava) {
		return fmt.Errorf("%w: runtime %q: only python, nodejs, provided and java are debugged in containers (use --backend process)", errDebugUnsupported, spec.Runtime)
	}
	port := strconv.Itoa(d.Port)
	c.Env = append(c.Env, "LAMB_DEBUG_PORT="+port, "LAMB_DEBUG_HOST=0.0.0.0")
	if d.Wait {
		c.Env = append(c.Env, "LAMB_DEBUG_WAIT=1")
	}
	p := nat.Port(port + "/tcp")
	if c.ExposedPorts == nil {
		c.ExposedPorts = nat.PortSet{}
	}
	c.ExposedPorts[p] = struct{}{}
	if hc.PortBindings == nil {
		hc.PortBindings = nat.PortMap{}
	}
	hc.PortBindings[p] = []nat.PortBinding{{HostIP: "127.0.0.1", HostPort: port}}
	return nil
}

// ---- delve (provided Go bootstraps)

// delveDir is where the dlv volume is mounted, read-only, in a debugged
// provided container (as the agent is at /lamb).
const delveDir = "/lamb-dlv"

// delveBootstraps are AWS's bootstrap paths, in its order.
var delveBootstraps = []string{taskRoot + "/bootstrap", optDir + "/bootstrap"}

// delveShip remembers the dlv binary last shipped: the volume is named after
// its content, hashed once per build (path, size and modification time).
type delveShip struct {
	mu   sync.Mutex
	key  string // path, size, mtime of the binary hashed
	name string // its volume
}

// delveContainer runs a debugged provided function's bootstrap under
// `dlv exec --headless` (docs/debugging.md). dlv comes from lamb's host
// (LAMB_DLV, set by serve's --dlv, else PATH, else ~/go/bin) in a content
// volume, like the agent. /bin/sh picks the bootstrap as the agent's --try
// does (the image needs a shell: AWS's provided images and lamb's have one).
func (b *Backend) delveContainer(ctx context.Context, spec *backend.Spec, c *container.Config, hc *container.HostConfig) error {
	d := spec.Debug
	if d == nil || spec.PackageType == "Image" {
		return nil
	}
	if rt, _ := runtimes.Lookup(spec.Runtime); rt.Family != runtimes.FamilyProvided {
		return nil
	}
	vol, err := b.delveVolume(ctx, c.Image)
	if err != nil {
		return err
	}
	hc.Mounts = append(slices.Clone(hc.Mounts), mount.Mount{Type: mount.TypeVolume, Source: vol, Target: delveDir, ReadOnly: true})
	// No capability or seccomp change: dlv traces the child it starts, as
	// the same user, which the engines' default seccomp profiles allow
	// (ptrace on kernels >= 4.8), and delve leaves ASLR on by default (the
	// profiles refuse personality(ADDR_NO_RANDOMIZE)).
	script := `for b in ` + strings.Join(delveBootstraps, " ") + `; do if [ -x "$b" ]; then exec "$0" "$@" "$b"; fi; done; ` +
		`echo "Couldn't find valid bootstrap(s): [` + strings.Join(delveBootstraps, " ") + `]" >&2; exit 127`
	args := []string{"/bin/sh", "-c", script, delveDir + "/dlv", "exec", "--headless",
		"--listen=:" + strconv.Itoa(d.Port), "--api-version=2", "--accept-multiclient", "--log-dest=2"}
	if !d.Wait {
		args = append(args, "--continue")
	}
	// The entrypoint ends with the agent's "--": what follows is the runtime
	// command, which the agent runs instead of trying bootstrap paths.
	c.Entrypoint = append(slices.Clone(c.Entrypoint), args...)
	return nil
}

// delveVolume returns the volume holding dlv as /lamb-dlv/dlv, filling it
// once per dlv build.
func (b *Backend) delveVolume(ctx context.Context, image string) (string, error) {
	path, err := findDelve()
	if err != nil {
		return "", err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("%w: dlv: %w", errDebugUnsupported, err)
	}
	key := fmt.Sprintf("%s %d %d", path, fi.Size(), fi.ModTime().UnixNano())
	b.dlv.mu.Lock()
	name := ""
	if b.dlv.key == key {
		name = b.dlv.name
	}
	b.dlv.mu.Unlock()
	if name == "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("%w: dlv: %w", errDebugUnsupported, err)
		}
		if err := b.checkDelve(path, data); err != nil {
			return "", err
		}
		sum := sha256.Sum256(data)
		name = "lamb-dlv-" + hex.EncodeToString(sum[:8])
		b.dlv.mu.Lock()
		b.dlv.key, b.dlv.name = key, name
		b.dlv.mu.Unlock()
	}
	err = b.vols.ensure(ctx, name, "dlv", image, nil, func(tw *tar.Writer) error {
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return writeTarFile(tw, "dlv", data, 0o755)
	})
	if err != nil {
		return "", fmt.Errorf("docker backend: %w", err)
	}
	return name, nil
}

// checkDelve refuses a dlv that cannot run in a Linux container (a macOS
// build on PATH, say) and warns about a dynamically linked one, which runs
// only in images with a compatible libc.
func (b *Backend) checkDelve(path string, data []byte) error {
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil || f.OSABI != elf.ELFOSABI_NONE && f.OSABI != elf.ELFOSABI_LINUX {
		return fmt.Errorf("%w: %s is not a Linux executable; give lamb serve --dlv a Linux build (GOOS=linux CGO_ENABLED=0 go install %s)",
			errDebugUnsupported, path, backend.DelveModule)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			b.log.Warn("docker backend: dlv is dynamically linked; it runs only in images with its libc (build it with CGO_ENABLED=0)", "dlv", path)
			break
		}
	}
	return nil
}

// findDelve locates dlv on lamb's host (backend.FindDelve).
func findDelve() (string, error) {
	if p, ok := backend.FindDelve(); ok {
		return p, nil
	}
	return "", fmt.Errorf("%w: a provided function runs under delve, which lamb did not find: CGO_ENABLED=0 go install %s, then lamb serve --dlv PATH (or dlv on PATH)",
		errDebugUnsupported, backend.DelveModule)
}
