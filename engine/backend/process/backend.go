// Package process is lamb's embedded backend: each instance is a child process
// of the server, running the function's runtime (lamb's own python or node
// bootstrap with the host's interpreter, or a provided.* zip's `bootstrap`)
// against a Runtime API served in-process on its own loopback port.
//
// # Layout under WorkDir
//
//	code/<sha256>/     function code, extracted once per zip and shared
//	layers/<sha256>/   layers, extracted once per zip and shared
//	runtime/           lamb's bootstraps (LAMBDA_RUNTIME_DIR)
//	instances/<id>/    one per live instance: state.json (for Reap) and tmp/ (TMPDIR)
//
// # Isolation and limits
//
// Instances are not isolated (Capabilities.Isolated is false): they share the
// host's filesystem and network. Layers are put on the language search paths
// since /opt is not lamb's. Memory is limited where the OS lets an unprivileged
// process do it without a cgroup: python runtimes get an address space limit
// (RLIMIT_AS) of MemorySize plus 256 MB headroom, node a V8 heap limit
// (--max-old-space-size), provided runtimes none (Go's runtime does not
// survive RLIMIT_AS); none is the exact RSS limit AWS enforces, so
// Capabilities.MemoryLimit is false. A python MemoryError under that limit and
// node's heap exhaustion are reported as out-of-memory exits, as AWS reports
// Runtime.OutOfMemory.
package process

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/lambhq/lamb/engine/backend"
	"github.com/lambhq/lamb/engine/backend/sandbox"
	"github.com/lambhq/lamb/runtimes"
)

// Config configures the process backend.
type Config struct {
	WorkDir   string       // required; instances and extracted code live under it
	PythonBin string       // default "python3" (looked up on PATH)
	NodeBin   string       // default "node"
	Logger    *slog.Logger // default: discard
}

// ErrUnsupported is returned by Launch for what processes cannot run
// (container images, runtime families without a host command).
var ErrUnsupported = errors.New("process backend: unsupported")

// Backend runs instances as local processes. It is safe for concurrent use.
type Backend struct {
	cfg        Config
	log        *slog.Logger
	code       *artifactCache
	layers     *artifactCache
	runtimeDir string
	instDir    string

	live sandbox.Live[*instance]

	pythonMu  sync.Mutex
	pythonExe string // the interpreter behind PythonBin, once resolved
}

var _ backend.Backend = (*Backend)(nil)

// New prepares WorkDir and writes lamb's bootstraps into it. It starts no
// goroutines and no processes.
func New(cfg Config) (*Backend, error) {
	if cfg.WorkDir == "" {
		return nil, errors.New("process backend: WorkDir is required")
	}
	dir, err := filepath.Abs(cfg.WorkDir)
	if err != nil {
		return nil, fmt.Errorf("process backend: %w", err)
	}
	cfg.WorkDir = dir
	if cfg.PythonBin == "" {
		cfg.PythonBin = "python3"
	}
	if cfg.NodeBin == "" {
		cfg.NodeBin = "node"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	b := &Backend{
		cfg: cfg, log: cfg.Logger,
		code:       newArtifactCache(filepath.Join(dir, "code")),
		layers:     newArtifactCache(filepath.Join(dir, "layers")),
		runtimeDir: filepath.Join(dir, "runtime"),
		instDir:    filepath.Join(dir, "instances"),
	}
	for _, d := range []string{b.runtimeDir, b.instDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("process backend: %w", err)
		}
	}
	for _, family := range []string{runtimes.FamilyPython, runtimes.FamilyNodejs} {
		name, content, ok := runtimes.Bootstrap(family)
		if !ok {
			continue
		}
		if err := writeFileAtomic(filepath.Join(b.runtimeDir, name), content, 0o755); err != nil {
			return nil, fmt.Errorf("process backend: write %s bootstrap: %w", family, err)
		}
	}
	return b, nil
}

// writeFileAtomic replaces path's content at once, so that a runtime starting
// concurrently never reads a half-written bootstrap.
func writeFileAtomic(path string, content []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(content); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// Name implements backend.Backend.
func (b *Backend) Name() string { return "process" }

// Capabilities implements backend.Backend; see the package documentation.
func (b *Backend) Capabilities() backend.Capabilities {
	return backend.Capabilities{MemoryLimit: false, Images: false, Isolated: false}
}

// Prepull implements backend.Backend: processes run no images.
func (b *Backend) Prepull(context.Context, string, func(backend.Progress)) error { return nil }

// Close stops every instance this backend launched. Later launches fail.
func (b *Backend) Close(ctx context.Context) error {
	return b.live.StopAll(ctx)
}

// python returns the interpreter to run python runtimes with. PythonBin may be
// a wrapper such as a pyenv shim (a shell script that costs ~80 ms of CPU on
// every start); the interpreter it leads to is asked for its own path once and
// run directly after that, with the same site-packages.
func (b *Backend) python() (string, error) {
	b.pythonMu.Lock()
	defer b.pythonMu.Unlock()
	if b.pythonExe != "" {
		return b.pythonExe, nil
	}
	bin, err := lookPath(b.cfg.PythonBin)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "-c", "import sys; sys.stdout.write(sys.executable)").Output()
	exe := strings.TrimSpace(string(out))
	if err != nil || !filepath.IsAbs(exe) {
		b.log.Warn("cannot resolve the python interpreter; running it as given", "python", bin, "error", err)
		exe = bin
	}
	b.pythonExe = exe
	return exe, nil
}

// lookPath resolves an interpreter once per launch (cheap; it is a stat).
func lookPath(bin string) (string, error) {
	p, err := exec.LookPath(bin)
	if err != nil {
		return "", fmt.Errorf("%w: interpreter %q: %w", ErrUnsupported, bin, err)
	}
	return p, nil
}
