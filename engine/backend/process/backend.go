// Package process is lamb's embedded backend: each instance is a child process
// of the server, running the function's runtime (lamb's own python or node
// bootstrap with the host's interpreter, or a provided.* zip's `bootstrap`)
// against a Runtime API served in-process on its own loopback port.
//
// # Layout under WorkDir
//
//	code/<uid>/<sha256>/    function code, extracted once per zip and user
//	layers/<uid>/<sha256>/  layers, the same way
//	runtime/                lamb's bootstraps (LAMBDA_RUNTIME_DIR)
//	instances/<id>/         one per live instance: state.json (for Reap) and tmp/ (TMPDIR)
//
// # Isolation
//
// Where lamb may switch users (it runs as root with the usual capabilities)
// and WorkDir can be reached by other users, each account's functions run as
// a uid and gid of their own (see accountUID; no /etc/passwd entry needed)
// with no supplementary groups. Their code and layers belong to root with
// the account's group, dirs 0750 and files 0640 (0750 if executable): the
// account can read them, nobody can write them, other accounts cannot look.
// TMPDIR is the instance's own directory, 0700 and the uid's. The Runtime API
// port takes connections only from that uid (and lamb's). lamb's data dir
// (0700, see store.Open) is closed to them. What they still share with every
// user: the network, the host's world-writable directories (/tmp itself,
// /dev/shm) and the process list. Isolation describes what this machine
// gives, for banners.
//
// Otherwise functions run as lamb's own user, as before: they can read
// whatever lamb can, including its data dir. Extracted code is then only
// checked before reuse (see artifactCache), not protected.
//
// Python and node functions run as their account's uid only if the
// interpreter is one other users can run (a pyenv under a 0700 /root is
// not): otherwise they run as lamb's user, and Isolation says so.
//
// Capabilities.Isolated stays false: there are no namespaces, and functions
// see the host's filesystem.
//
// # Limits
//
// Memory is limited where the OS lets it be done without a cgroup: python
// runtimes get an address space limit (RLIMIT_AS) of MemorySize plus 256 MB
// headroom, node a V8 heap limit (--max-old-space-size), provided runtimes
// none (Go's runtime does not survive RLIMIT_AS); none is the exact RSS limit
// AWS enforces, so Capabilities.MemoryLimit is false. A python MemoryError
// under that limit and node's heap exhaustion are reported as out-of-memory
// exits, as AWS reports Runtime.OutOfMemory. Layers are put on the language
// search paths since /opt is not lamb's.
package process

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/lambhq/lamb/engine/agenthost"
	"github.com/lambhq/lamb/engine/backend"
	"github.com/lambhq/lamb/runtimes"
)

// Config configures the process backend.
type Config struct {
	WorkDir   string // required; instances and extracted code live under it
	PythonBin string // default "python3" (looked up on PATH)
	NodeBin   string // default "node"
	// Interpreters names the interpreter of a runtime id ("python3.12":
	// "/usr/bin/python3.12"), ahead of one found by version and the
	// family's default (see interpreters.go).
	Interpreters map[string]string
	Logger       *slog.Logger // default: discard
	// Prestart forks python runtimes from pre-started interpreters
	// (prestart_linux.go) and claims node runtimes started ahead
	// (spare_linux.go) where nothing needs a fresh start.
	Prestart bool
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

	// noUsers says why functions run as lamb's own user; nil when each
	// account gets its own uid.
	noUsers error

	live agenthost.Live[*instance]

	pythonMu  sync.Mutex
	pythonExe string // the interpreter behind PythonBin, once resolved

	interpMu sync.Mutex
	interps  map[string]interpreterChoice // per runtime id, once chosen

	usersMu  sync.Mutex
	accounts map[uint32]string // uid → the account it was given to
	warned   map[string]bool   // interpreters already reported as closed to function uids

	bootMu       sync.Mutex
	bootManifest manifest // runtimeDir as New wrote it

	java javaBootstrap // java.go

	lambRan atomic.Bool // a function ran as lamb's user, which can write what root can

	pre    prestarts // pre-started python runtimes (prestart_*.go)
	spares spares    // pre-started node runtimes (spare_linux.go, prestart_other.go)
}

var _ backend.Backend = (*Backend)(nil)

// New prepares WorkDir and writes lamb's bootstraps into it. It starts no
// goroutines and no processes.
func New(cfg Config) (*Backend, error) {
	if err := platformError(); err != nil {
		return nil, err
	}
	if cfg.WorkDir == "" {
		return nil, errors.New("process backend: WorkDir is required")
	}
	dir, err := filepath.Abs(cfg.WorkDir)
	if err != nil {
		return nil, fmt.Errorf("process backend: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("process backend: %w", err)
	}
	// A runtime's getcwd() is the real path: so is LAMBDA_TASK_ROOT.
	if dir, err = filepath.EvalSymlinks(dir); err != nil {
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
		runtimeDir: filepath.Join(dir, "runtime"),
		instDir:    filepath.Join(dir, "instances"),
		accounts:   map[uint32]string{}, warned: map[string]bool{},
		interps: map[string]interpreterChoice{},
	}
	b.noUsers = usersPossible(dir)
	// Function uids may enter the shared directories but not list them
	// (0711): which zips, accounts and instances exist is not theirs to see.
	shared := fs.FileMode(0o711)
	if b.noUsers != nil {
		shared = 0o755
	}
	b.code = newArtifactCache(filepath.Join(dir, "code"), b.log)
	b.layers = newArtifactCache(filepath.Join(dir, "layers"), b.log)
	for _, d := range []string{dir, b.code.dir, b.layers.dir, b.instDir} {
		if err := os.MkdirAll(d, shared); err != nil {
			return nil, fmt.Errorf("process backend: %w", err)
		}
		if err := os.Chmod(d, shared); err != nil {
			return nil, fmt.Errorf("process backend: %w", err)
		}
	}
	if err := os.MkdirAll(b.runtimeDir, 0o755); err != nil {
		return nil, fmt.Errorf("process backend: %w", err)
	}
	if err := os.Chmod(b.runtimeDir, 0o755); err != nil {
		return nil, fmt.Errorf("process backend: %w", err)
	}
	for _, c := range []*artifactCache{b.code, b.layers} {
		if err := c.removeLeftovers(); err != nil {
			return nil, fmt.Errorf("process backend: %w", err)
		}
	}
	if err := b.writeBootstraps(); err != nil {
		return nil, err
	}
	return b, nil
}

// sharedWorkRoot is where WorkDirFor puts the WorkDirs of servers whose data
// dir functions cannot enter: root's to write, everyone's to enter.
const sharedWorkRoot = "/var/lib/lamb"

// WorkDirFor returns the WorkDir for a server that keeps its state in
// dataDir. That is dataDir/run while functions run as lamb's own user. When
// lamb can run them as their accounts' uids it is
// /var/lib/lamb/run-<16 hex digits of the sha256 of dataDir's absolute path>:
// those uids must reach their code, and store.Open keeps dataDir 0700. The
// name is stable, so that Reap finds what a killed server left. New creates
// the directory.
func WorkDirFor(dataDir string) (string, error) {
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return "", fmt.Errorf("process backend: %w", err)
	}
	if canSwitchUsers() != nil {
		return filepath.Join(abs, "run"), nil
	}
	sum := sha256.Sum256([]byte(abs))
	return filepath.Join(sharedWorkRoot, "run-"+hex.EncodeToString(sum[:8])), nil
}

// usersPossible returns nil when functions can run as their accounts' own
// uids under WorkDir dir, or why not.
func usersPossible(dir string) error {
	if err := canSwitchUsers(); err != nil {
		return err
	}
	if err := othersCanReach(filepath.Dir(dir), 0o001); err != nil {
		return fmt.Errorf("WorkDir %s is out of other users' reach: %w", dir, err)
	}
	if err := safeAncestors(dir); err != nil {
		return fmt.Errorf("WorkDir %s is not safe to serve code from: %w", dir, err)
	}
	return nil
}

// writeBootstraps writes lamb's bootstraps into runtimeDir and records them.
func (b *Backend) writeBootstraps() error {
	for _, family := range []string{runtimes.FamilyPython, runtimes.FamilyNodejs} {
		name, content, ok := runtimes.Bootstrap(family)
		if !ok {
			continue
		}
		if err := writeFileAtomic(filepath.Join(b.runtimeDir, name), content, 0o755); err != nil {
			return fmt.Errorf("process backend: write %s bootstrap: %w", family, err)
		}
	}
	m, err := snapshot(b.runtimeDir)
	if err != nil {
		return fmt.Errorf("process backend: %w", err)
	}
	m.settle()
	b.bootManifest = m
	return nil
}

// checkBootstraps rewrites lamb's bootstraps if anything changed them since
// New (functions running as lamb's user could), before a runtime runs them.
func (b *Backend) checkBootstraps() error {
	b.bootMu.Lock()
	defer b.bootMu.Unlock()
	err := b.bootManifest.check(b.runtimeDir)
	if err == nil {
		return nil
	}
	b.log.Warn("process backend: lamb's bootstraps changed; writing them again", "dir", b.runtimeDir, "change", err)
	return b.writeBootstraps()
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
	return backend.Capabilities{MemoryLimit: false, Images: false, Isolated: false, HostFolders: true}
}

// Prepull implements backend.Backend: processes run no images.
func (b *Backend) Prepull(context.Context, string, func(backend.Progress)) error { return nil }

// Close stops every instance this backend launched. Later launches fail.
func (b *Backend) Close(ctx context.Context) error {
	err := b.live.StopAll(ctx)
	b.pre.close()
	b.spares.close()
	return err
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
	exe, err := realPython(bin)
	if err != nil {
		b.log.Warn("cannot resolve the python interpreter; running it as given", "python", bin, "error", err)
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
