package api

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/lambhq/lamb/store"
)

// Config configures a Server.
type Config struct {
	Store       store.Store
	Logger      *slog.Logger // nil: slog.Default()
	AccountID   string       // account for unsigned requests; default "000000000000"
	Region      string       // region for unsigned requests; default "us-east-1"
	Version     string       // lamb's version, reported by /_lamb/health
	BackendName string       // reported by /_lamb/health

	// Prepare runs in the background after CreateFunction, UpdateFunctionCode
	// and UpdateFunctionConfiguration (e.g. to pre-pull an image). nil means
	// nothing to do. When it returns nil the function becomes State Active /
	// LastUpdateStatus Successful; an error makes it Failed with the error's
	// message as the reason. Its context ends when the Server is closed.
	Prepare func(ctx context.Context, fn FunctionInfo) error

	// Engine runs invocations (Invoke, Event invocations, /_lamb/instances).
	// nil answers Invoke with a ServiceException. When Prepare is nil, the
	// engine's Prepull prepares functions.
	Engine Invoker
	// Logbook receives nothing from the API itself; /_lamb/functions/{name}/logs
	// and the CloudWatch Logs API (logs.go) read it. Feed it from the engine's
	// observer (Logbook.LogLine).
	Logbook *Logbook
	// Metrics, when set, is served at /metrics (metrics.go); Observer, when
	// set, is told of every API request.
	Metrics  http.Handler
	Observer APIObserver
	// Console, when set, serves the web console's assets under /_lamb/ui/
	// (package console); the page calls the API like any client.
	Console http.Handler
	// AsyncRetryDelay is the wait before the first retry of a failed Event
	// invocation (the second waits twice as long). Default: one minute, as AWS.
	AsyncRetryDelay time.Duration
	// DestinationsEndpoint is an AWS-compatible endpoint (e.g. LocalStack)
	// that receives SQS, SNS and EventBridge destinations of Event
	// invocations. Empty: such destinations are refused.
	DestinationsEndpoint string
	// Now is the clock AWS's runtime dates are read against (which runtimes
	// CreateFunction and updates accept). nil: time.Now.
	Now func() time.Time
	// AsyncQueueMaxEvents and AsyncQueueMaxBytes bound the queue of Event
	// invocations (async.go), in events and in bytes of stored records;
	// beyond either, Invoke answers 429. Zero: DefaultAsyncQueueMaxEvents
	// (10000) and DefaultAsyncQueueMaxBytes (256 MiB).
	AsyncQueueMaxEvents int
	AsyncQueueMaxBytes  int64

	// Credentials maps access key ids to secret keys. When it is not empty
	// every API request must carry a valid SigV4 signature by one of them
	// (sigv4.go), and so must /_lamb/ requests and AWS_IAM function URLs.
	// Empty: signatures are read for their scope only.
	Credentials map[string]string
	// ListenHosts are the hosts (addresses, no port) lamb listens on; a Host
	// header naming one of them (any address of the machine for 0.0.0.0 or
	// ::) passes the browser guard, as do loopback names (guard.go).
	ListenHosts []string
	// AllowedHosts are further host names the guard accepts ("*": any).
	AllowedHosts []string
	// AllowedOrigins are web origins ("http://localhost:5173", "*") whose
	// pages may call the API; they get CORS answers. Others are refused.
	AllowedOrigins []string
	// EventSources polls event source mappings (event_source_poll.go). nil:
	// mappings are stored only.
	EventSources EventSourcePoller
	// MaxConcurrentUploads bounds code-carrying requests (CreateFunction,
	// UpdateFunctionCode, PublishLayerVersion) over 1 MiB read at once;
	// more wait. Zero: DefaultMaxConcurrentUploads.
	MaxConcurrentUploads int
	// URLsWithoutPolicy serves AuthType NONE function URLs to anyone, also
	// when the function's resource policy lacks the public grants AWS
	// requires of them since October 2025 (policy.go, publicURLGaps).
	URLsWithoutPolicy bool
	// HotReloadBucket is a further S3Bucket that, like "hot-reload", means
	// S3Key is a folder on lamb's host (hot_reload.go): LocalStack's
	// BUCKET_MARKER_LOCAL. Empty: "hot-reload" only.
	HotReloadBucket string
	// S3, when set, is where code given as S3Bucket/S3Key is fetched from
	// (code_s3.go; lamb serve --s3-endpoint).
	S3 S3Objects
}

// FunctionInfo is what an engine needs to know of a function's $LATEST
// configuration. CodeSHA256 and each layer's CodeSHA256 are hex keys of the
// zips in the store's blobs (store.OpenBlob); both are empty for Image functions.
type FunctionInfo struct {
	AccountID     string
	Region        string
	Name          string
	FunctionArn   string // unqualified
	Version       string // "$LATEST"
	RevisionID    string
	PackageType   string // "Zip" or "Image"
	Runtime       string // empty for Image functions
	Handler       string
	ImageURI      string // Image functions only
	CodeSHA256    string // hex sha256 of the zip, the store's blob key
	CodeDir       string // hot reload: the folder on lamb's host (S3Key as given); CodeSHA256 is then ""
	Architectures []string
	MemorySize    int32
	Timeout       int32 // seconds
	EphemeralSize int32 // MB of /tmp
	Environment   map[string]string
	Layers        []LayerInfo // in the order the function lists them
	Role          string
	LogFormat     string
	LogLevel      string // ApplicationLogLevel; set with LogFormat "JSON" only
	LogGroup      string

	SystemLogLevel string // filters the platform's JSON records; set with LogFormat "JSON" only
	// ReservedConcurrency is nil when the function has none.
	ReservedConcurrency *int32
}

// LayerInfo is one layer version a function uses.
type LayerInfo struct {
	Arn        string // layer version ARN
	CodeSHA256 string // hex sha256 of the layer zip, the store's blob key
	CodeSize   int64
	Dir        string // hot reload: the layer's folder on lamb's host; CodeSHA256 is then ""
}

// Server serves the Lambda control-plane API and lamb's /_lamb endpoints.
// It is safe for concurrent use. Construct it with New; stop it with Close.
type Server struct {
	cfg    Config
	log    *slog.Logger
	store  store.Store
	routes []*route

	// Background work (Prepare) is owned by the Server: started under mu,
	// tracked by wg, cancelled by Close.
	mu       sync.Mutex
	closed   bool
	inflight map[string]int64 // function key -> highest generation Prepare was started for
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup

	// Event invocations wait here for the async workers (async.go).
	async asyncQueue

	// Provisioned concurrency follows the store (provisioned_sync.go).
	provisioned provisionedSync

	// Unreferenced blobs are removed in the background (gc.go).
	gc blobGC

	// Polled event source mappings (event_source_poll.go).
	esm esmState

	// A slot per large upload being read (limits.go).
	uploads chan struct{}

	// Watches on the folders of hot-reload functions (hot_reload.go).
	hot hotReload

	// Decoded function records of the invoke path (invoke.go).
	invokeRecords store.Cache[functionRecord]
}

// New returns a Server. It starts no goroutines until a function is created.
func New(cfg Config) *Server {
	if cfg.AccountID == "" {
		cfg.AccountID = "000000000000"
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	if cfg.MaxConcurrentUploads <= 0 {
		cfg.MaxConcurrentUploads = DefaultMaxConcurrentUploads
	}
	s := &Server{cfg: cfg, log: log, store: cfg.Store, ctx: ctx, cancel: cancel, inflight: map[string]int64{},
		uploads: make(chan struct{}, cfg.MaxConcurrentUploads)}
	s.routes = compileRoutes(operations, s.handlers())
	return s
}

// ServeHTTP serves one request: lamb's own endpoints under /_lamb/, the Lambda
// API everywhere else.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		// A handler bug must not take the server down or leave the client hanging.
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.ErrorContext(r.Context(), "panic serving request", slog.Any("panic", v), slog.String("path", r.URL.Path))
			writeError(w, fmt.Errorf("panic: %v", v))
		}
	}()
	// Clients log and report this id; every answer carries one, as on AWS.
	w.Header().Set("X-Amzn-RequestId", newRevisionID())
	// Function URLs are addressed by host name (function_url_gateway.go);
	// they are web endpoints, so the browser guard checks only their Host.
	if _, _, ok := urlHostID(r.Host); ok {
		if s.guard(w, r, true, false) {
			s.serveURLByHost(w, r)
		}
		return
	}
	isURL := strings.HasPrefix(r.URL.Path, "/_lamb/urls/")
	// With credentials every other request is verified before it is served,
	// and a rebinding page cannot sign; requests that need no signature
	// still have their Host checked.
	signed := len(s.cfg.Credentials) > 0 && !isURL && !lambOpen(r.URL.Path)
	if !s.guard(w, r, isURL, signed) {
		return
	}
	s.serveTrusted(w, r)
}

// Internal returns the handler for requests from lamb's own sandboxes (the
// agents' tunnels): they are not a browser's, and the agent connection they
// arrive on is authenticated already.
func (s *Server) Internal() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Amzn-RequestId", newRevisionID())
		if s.serveURLByHost(w, r) {
			return
		}
		s.serveTrusted(w, r.WithContext(context.WithValue(r.Context(), internalKey{}, true)))
	})
}

type internalKey struct{}

func isInternal(r *http.Request) bool {
	v, _ := r.Context().Value(internalKey{}).(bool)
	return v
}

func (s *Server) serveTrusted(w http.ResponseWriter, r *http.Request) {
	switch {
	case isConsolePath(r.URL.Path):
		s.serveConsole(w, r) // metrics.go
	case strings.HasPrefix(r.URL.Path, "/_lamb/"):
		s.serveLamb(w, r)
	case r.URL.Path == "/metrics":
		s.serveMetrics(w, r) // metrics.go
	case isLogsRequest(r):
		s.observe(w, r, "logs", s.serveLogsAPI) // logs.go
	default:
		s.observe(w, r, "lambda", s.dispatch)
	}
}

// Close stops background work (Prepare calls in flight see their context
// cancelled) and waits for it to end, or for ctx.
func (s *Server) Close(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("api: close: %w", ctx.Err())
	}
}

// goBackground runs fn on a goroutine owned by the Server, unless it is closed.
func (s *Server) goBackground(fn func(ctx context.Context)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		fn(s.ctx)
	}()
}
