// Package backend is the contract between the engine and the places where function
// instances run: local processes, Docker/Podman containers, Kubernetes Pods.
//
// A Backend launches instances; an Instance runs one invocation at a time. The engine
// owns scheduling, pooling, retries and timeouts; a backend only starts, talks to and
// stops sandboxes. Backends never import each other, and the engine never switches on
// a backend's concrete type: differences are recorded in Capabilities.
package backend

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// Backend starts function instances. Implementations must be safe for concurrent use.
type Backend interface {
	// Name is a short identifier: "process", "docker", "podman", "kubernetes".
	Name() string
	// Capabilities describes what the backend can enforce.
	Capabilities() Capabilities
	// Launch starts an instance for spec and returns once its runtime is ready for
	// its first invocation (the runtime called /runtime/invocation/next).
	//
	// If the runtime reports an init error, Launch returns an *InitError; if the
	// runtime exits before it is ready, an *ExitError. Both are function failures the
	// engine reports to the caller, not reasons to retry. Any other error is an
	// infrastructure failure. On error nothing is left running.
	Launch(ctx context.Context, spec *Spec) (Instance, error)
	// Reap removes instances left behind by an earlier server that died without
	// cleaning up (found by label, pid file or similar). It is called once at start-up.
	Reap(ctx context.Context) error
	// Prepull makes image available locally, reporting progress. Backends that run
	// no images return nil at once.
	Prepull(ctx context.Context, image string, progress func(Progress)) error
	// Close stops every instance this backend launched and frees its resources.
	// An Engine owns the backend it is given and calls Close once, from
	// Engine.Close: whoever closes the engine must not close the backend too.
	// A second call is nevertheless safe and every backend must keep it so: it
	// finds nothing left to stop (tests close a backend explicitly and again
	// in their Cleanup).
	Close(ctx context.Context) error
}

// Preparer is implemented by backends that can start part of a launch
// ahead, such as after CreateFunction (engine.Prepull). It is optional.
type Preparer interface {
	// Prepare starts ahead what a launch of spec will need (a sandbox whose
	// runtime starts at the launch), and returns once it is ready or could
	// not be had, which is no error for the launch: it then does all the
	// work itself. spec's InstanceID, Env and Log stand for the instance's
	// to come: nothing of them may reach a runtime.
	Prepare(ctx context.Context, spec *Spec) error
}

// ArtifactCollector is implemented by backends that keep what they made of a
// code or layer zip beyond its instances (extracted directories, volumes).
// CollectArtifacts removes what they made of zips keep no longer holds
// (keep is given lower-case hex sha256 digests), except what a running
// instance uses, and returns how many it kept only for that (busy); it is
// called after the zips themselves were collected.
type ArtifactCollector interface {
	CollectArtifacts(ctx context.Context, keep func(sha256 string) bool) (busy int, err error)
}

// Capabilities records what a backend can enforce, so callers never need its type.
type Capabilities struct {
	MemoryLimit bool // MemoryMB is enforced (exceeding it kills the instance)
	Images      bool // PackageType Image and runtime images are supported
	Isolated    bool // instances run in their own filesystem/network namespace
	// HostFolders: artifacts may be folders on lamb's host (Artifact.Dir),
	// which instances use in place, read-only (hot reload). A backend
	// without it refuses such specs.
	HostFolders bool
}

// Progress reports an image pull.
type Progress struct {
	Image   string
	Status  string
	Current int64 // bytes done, when known
	Total   int64 // bytes in all, when known
}

// Artifact is a zip archive (function code or a layer), addressed by content.
type Artifact struct {
	SHA256 string // hex sha256 of the zip; also a cache key for extraction
	Size   int64
	// Open returns the zip's bytes. The caller closes the reader.
	Open func(ctx context.Context) (io.ReadCloser, error)

	// Dir, when set, is an absolute folder on lamb's host that holds the
	// content unpacked (hot reload): backends with Capabilities.HostFolders
	// use it in place, read-only, instead of a zip; SHA256 and Open are then
	// unused. Revision names the state of the folder an instance is for: it
	// changes whenever the folder does, so that specs of a changed folder get
	// another PoolKey.
	Dir      string
	Revision string
}

// Spec says everything that shapes one instance. Two specs with the same PoolKey
// produce interchangeable instances.
type Spec struct {
	InstanceID   string // unique, chosen by the engine; safe as a file or container name
	PoolKey      string // hash of everything below; used for labels
	ServerID     string // identifies the lamb server that owns the instance (for Reap)
	FunctionName string
	FunctionARN  string // unqualified
	Version      string // "$LATEST" or "1", "2", ...

	PackageType  string // "Zip" or "Image"
	Runtime      string // e.g. "python3.12", "nodejs20.x", "provided.al2023"; empty for Image
	Handler      string
	Image        string // runtime image (Zip) or the function image (Image); empty on process
	Architecture string // "x86_64" or "arm64"

	MemoryMB           int
	EphemeralStorageMB int
	Timeout            time.Duration

	// Env is the complete environment AWS would set for the runtime (AWS_LAMBDA_*,
	// _HANDLER, AWS_REGION, credentials, TZ, ... and the function's own variables),
	// composed by the engine. The backend adds what is its own to know:
	// AWS_LAMBDA_RUNTIME_API, LAMBDA_TASK_ROOT, LAMBDA_RUNTIME_DIR, PATH and the
	// language search paths (PYTHONPATH, NODE_PATH, LD_LIBRARY_PATH) for code and layers.
	Env map[string]string

	Code   Artifact   // the function's zip (PackageType Zip)
	Layers []Artifact // in the function's order; later layers win on conflicts

	// Log receives every line the instance's runtime writes (stdout and stderr),
	// including output between invocations. It may be nil. Calls are serialised.
	Log func(line []byte)

	// Debug, when set, starts the runtime under its language's debugger
	// (docs/debugging.md). A backend that cannot refuses the spec.
	Debug *Debug
}

// Debug asks for an instance whose runtime's debugger listens on
// 127.0.0.1:Port of lamb's host: debugpy for python, node's inspector,
// delve (headless, JSON-RPC and DAP) for provided bootstraps.
type Debug struct {
	Port int
	// Wait: the runtime waits for a debugger to attach before it loads the
	// handler (delve: before the bootstrap runs at all).
	Wait bool
}

// DelveModule is the delve lamb is tested with (go install DelveModule).
const DelveModule = "github.com/go-delve/delve/cmd/dlv@v1.27.2"

// FindDelve locates dlv on lamb's host for debugged provided functions:
// LAMB_DLV (lamb serve --dlv), else PATH, else go install's default folder.
// ok is false when there is none.
func FindDelve() (path string, ok bool) {
	if p := os.Getenv("LAMB_DLV"); p != "" {
		return p, true
	}
	if p, err := exec.LookPath("dlv"); err == nil {
		if abs, err := filepath.Abs(p); err == nil {
			return abs, true
		}
	}
	if home, err := os.UserHomeDir(); err == nil {
		p := filepath.Join(home, "go", "bin", "dlv")
		if _, err := os.Stat(p); err == nil {
			return p, true
		}
	}
	return "", false
}

// Instance is one running sandbox. It serves one invocation at a time: the engine
// never calls Invoke again before the previous Response was fully consumed.
type Instance interface {
	ID() string
	// Invoke delivers inv to the runtime and returns as soon as the runtime begins
	// its answer (a buffered response, a stream, or an error report).
	//
	// If the invocation provably never reached the runtime (the instance was already
	// dead or unreachable), the error wraps ErrNotDelivered and the engine may retry
	// on another instance. If the runtime exited while handling it, the error is an
	// *ExitError. ctx bounds the whole invocation, including reading Response.Body.
	Invoke(ctx context.Context, inv *Invocation) (*Response, error)
	// InitDuration is how long the runtime took from start to ready.
	InitDuration() time.Duration
	// Done is closed once the instance has exited, for whatever reason.
	Done() <-chan struct{}
	// Stop terminates the instance and frees its resources. It is idempotent and
	// safe to call concurrently with Invoke (which then fails).
	Stop(ctx context.Context) error
}

// Invocation is one request as the Runtime API hands it to the runtime.
type Invocation struct {
	RequestID          string
	Payload            []byte
	Deadline           time.Time
	InvokedFunctionARN string
	TraceID            string // value for Lambda-Runtime-Trace-Id
	ClientContext      string // JSON, as the runtime should receive it (not base64)
	CognitoIdentity    string // JSON
	// StreamResponse asks for the answer as a stream whatever response mode the
	// runtime declares (InvokeWithResponseStream, RESPONSE_STREAM function URLs), as
	// AWS does: runtimes such as aws-lambda-go never send the response-mode header.
	StreamResponse bool
}

// Response is the runtime's answer to one invocation.
type Response struct {
	// ErrorType is set when the runtime reported the invocation failed through
	// /response/{id}/error (Lambda-Runtime-Function-Error-Type, e.g.
	// "Runtime.HandlerError" or the handler's exception type). Body is then the
	// error document ({"errorMessage":..., "errorType":..., "stackTrace":[...]}).
	ErrorType string
	// Streaming is true when the runtime used Lambda-Runtime-Function-Response-Mode:
	// streaming; Body then yields chunks as the runtime writes them.
	Streaming   bool
	ContentType string
	// Body is the response payload. The caller must read it to EOF or close it; the
	// instance stays busy until then. For a stream that the runtime ends with an
	// error trailer, reading returns the chunks sent so far and then EOF; the error
	// is in Trailer.
	Body io.ReadCloser
	// Trailer reports an error the runtime sent in the
	// Lambda-Runtime-Function-Error-Type/-Error-Body trailers of a streaming
	// response. Valid once Body returned EOF; nil when the response has none.
	Trailer func() *FunctionError
	// Log returns what the runtime wrote while this invocation ran (stdout and
	// stderr, newest last, at most the last 64 KiB). Valid once Body returned EOF.
	Log func() []byte
	// MaxMemoryUsedMB is the instance's peak memory so far, when known (0 otherwise).
	// Valid once Body returned EOF.
	MaxMemoryUsedMB func() int
}

// FunctionError is an error the runtime reported for an invocation or at init.
type FunctionError struct {
	Type string // e.g. "Runtime.ImportModuleError"
	Body []byte // the JSON error document, as the runtime sent it
}

// ErrNotDelivered marks an invocation that never reached the runtime; it is safe to
// retry on another instance.
var ErrNotDelivered = errors.New("invocation not delivered")

// InitError is returned by Launch when the runtime reported /runtime/init/error.
type InitError struct {
	FunctionError
	Log []byte // what the runtime wrote during init
}

func (e *InitError) Error() string { return fmt.Sprintf("runtime init error: %s", e.Type) }

// ExitError reports that the runtime process (or container) exited.
type ExitError struct {
	Code   int    // exit status; -1 when killed by a signal
	Signal string // e.g. "killed", when killed by a signal
	OOM    bool   // the instance exceeded its memory limit
	Log    []byte // what the runtime wrote before exiting (its last 64 KiB)
}

func (e *ExitError) Error() string {
	switch {
	case e.OOM:
		return "runtime exited: out of memory"
	case e.Signal != "":
		return "runtime exited with error: signal: " + e.Signal
	default:
		return fmt.Sprintf("runtime exited with error: exit status %d", e.Code)
	}
}
