// Package agentapi is the wire contract between lamb's host side (a container
// backend) and the agent inside a sandbox, plus the host's client for it.
//
// The agent serves one HTTP endpoint with five routes:
//
//	GET  /v1/events    a stream of newline-delimited JSON Events (ready, initError,
//	                   log, tunnel, exit), kept open for the sandbox's life; its end
//	                   means the agent is gone
//	POST /v1/invoke    one invocation: metadata in X-Lamb-* headers, the payload as
//	                   body; the answer streams back in frames as the runtime writes
//	                   it, closed by an End frame (error trailer, log, peak memory)
//	POST /v1/tunnel    an HTTP Upgrade (101) to a raw byte stream that the agent
//	                   splices with one connection a function opened to lamb's API
//	                   (see Endpoint)
//	POST /v1/shutdown  stop the runtime and exit
//	POST /v1/start     start the runtime of an agent run with --deferred, with the
//	                   environment in the body (StartRequest) laid over the agent's
//
// Readiness is an event pushed on the stream the host holds open, not something
// the host polls for.
//
// # Authentication
//
// The agent answers only the host that started it. The host makes a secret
// for each sandbox (NewSecret), hands it to the agent in its environment
// (EnvSecret), and sends it on every request, tunnels included, as
// Authorization: Bearer <secret> (Client does). Without it the agent answers
// 401, with another 403, and does nothing else (RequireSecret): another
// container on the engine's bridge, another Pod, or the function itself
// (which shares the agent's network namespace) can neither invoke the
// sandbox, read its events, take over its event stream, stop it, nor take a
// function's connection to lamb's API. The agent removes the secret from its
// environment before it starts the runtime.
//
// # Tunnels
//
// Functions reach lamb's API at AWS_ENDPOINT_URL=http://127.0.0.1:3001, on the
// sandbox's own loopback, whatever the network between the host and the
// sandbox: the agent accepts each connection there (Endpoint), asks the host
// for a tunnel with a tunnel event on the stream the host reads, and the host
// opens one to /v1/tunnel, the way it opens every other connection to the
// agent, and hands it to lamb's API server through a Listener. No address of
// the host needs to exist or be reachable from the sandbox, and lamb listens
// on nothing but its own address.
package agentapi

import "time"

// DefaultPort is the TCP port the agent listens on inside the sandbox.
const DefaultPort = 9009

// EndpointAddr is where the agent serves lamb's API inside the sandbox (the
// sandbox's own loopback; lamb's default port), and EndpointURL the
// AWS_ENDPOINT_URL that reaches it.
const (
	EndpointAddr = "127.0.0.1:3001"
	EndpointURL  = "http://" + EndpointAddr
)

// MaxTunnels bounds the connections to lamb's API one sandbox holds open at
// once (waiting for their tunnel or tunnelled); the agent closes any beyond.
// SDKs keep a pool of about ten.
const MaxTunnels = 64

// Routes.
const (
	PathEvents   = "/v1/events"
	PathInvoke   = "/v1/invoke"
	PathTunnel   = "/v1/tunnel"
	PathShutdown = "/v1/shutdown"
	PathStart    = "/v1/start"
)

// Invocation headers (request).
const (
	HeaderRequestID       = "X-Lamb-Request-Id"
	HeaderDeadlineMs      = "X-Lamb-Deadline-Ms" // unix milliseconds
	HeaderFunctionARN     = "X-Lamb-Invoked-Function-Arn"
	HeaderTraceID         = "X-Lamb-Trace-Id"
	HeaderClientContext   = "X-Lamb-Client-Context"
	HeaderCognitoIdentity = "X-Lamb-Cognito-Identity"
	HeaderStream          = "X-Lamb-Stream" // "1": answer as a stream
	HeaderTunnel          = "X-Lamb-Tunnel" // the tunnel event's ID (POST /v1/tunnel)
)

// Response headers.
const (
	// HeaderNotDelivered ("1") on a 503 says the invocation never reached the runtime.
	HeaderNotDelivered = "X-Lamb-Not-Delivered"
	// HeaderRuntimeExited ("1") on a 502 says the runtime exited before answering.
	HeaderRuntimeExited = "X-Lamb-Runtime-Exited"
	HeaderErrorType     = "X-Lamb-Error-Type" // a buffered answer is an error of this type
	HeaderStreaming     = "X-Lamb-Streaming"  // "1": the body streams
	// ContentType is the invoke response's own content type; the answer's is
	// in HeaderAnswerType.
	HeaderAnswerType = "X-Lamb-Content-Type"
)

// The invoke response body is framed, so that the end of an answer can carry
// what does not fit HTTP trailers (a 64 KiB log): a sequence of frames, each a
// kind byte, a big-endian uint32 length and that many bytes. Data frames carry
// the answer as the runtime wrote it; one End frame (JSON) closes it. A body
// that ends without an End frame broke off.
const (
	FrameData byte = 'd'
	FrameEnd  byte = 'e'
)

// End closes an invocation's answer.
type End struct {
	ErrorType       string `json:"errorType,omitempty"` // a streamed answer ended with this error trailer
	ErrorBody       []byte `json:"errorBody,omitempty"`
	Log             []byte `json:"log,omitempty"`    // the invocation's output (its last 64 KiB)
	LogSeq          uint64 `json:"logSeq,omitempty"` // Seq of the last log line read when Log was taken
	MaxMemoryUsedMB int    `json:"maxMemoryUsedMB,omitempty"`
	Failure         string `json:"failure,omitempty"` // the answer broke off: why
	RuntimeExited   bool   `json:"runtimeExited,omitempty"`
}

// Event types.
const (
	EventReady     = "ready"
	EventInitError = "initError"
	EventLog       = "log"
	EventTunnel    = "tunnel"
	EventExit      = "exit"
)

// Event is one line of the /v1/events stream.
type Event struct {
	Type string `json:"type"`

	// ready
	InitDuration time.Duration `json:"initDuration,omitempty"`

	// initError
	ErrorType string `json:"errorType,omitempty"`
	ErrorBody []byte `json:"errorBody,omitempty"`

	// log: one line of the runtime's stdout/stderr, without its newline. Seq
	// numbers log lines from 1, so the host can wait until it has seen the lines
	// an invocation's trailers mention.
	Line []byte `json:"line,omitempty"`
	Seq  uint64 `json:"seq,omitempty"`

	// tunnel: a function connected to EndpointAddr; open a tunnel for it
	// (Client.Tunnel) with this ID.
	Tunnel uint64 `json:"tunnel,omitempty"`

	// exit
	Code   int    `json:"code,omitempty"`   // exit status; -1 when killed by a signal
	Signal string `json:"signal,omitempty"` // e.g. "killed"
	OOM    bool   `json:"oom,omitempty"`    // the sandbox's memory cgroup OOM-killed a process
	Tail   []byte `json:"tail,omitempty"`   // the last 64 KiB of all output
}

// Invocation is what the host asks the agent to run.
type Invocation struct {
	RequestID          string
	Payload            []byte
	Deadline           time.Time
	InvokedFunctionARN string
	TraceID            string
	ClientContext      string
	CognitoIdentity    string
	StreamResponse     bool
}

// EnvLease is the environment variable through which the host gives an agent
// its lease (a Go duration, e.g. "5s"): the agent ends its sandbox once no
// host has held its event stream for that long. An environment variable, not
// a flag, so that an older agent, which does not know it, still starts.
const EnvLease = "LAMB_AGENT_LEASE"

// StartRequest is the body of POST /v1/start: the runtime's environment
// entries ("KEY=value") that replace or add to the agent's own.
type StartRequest struct {
	Env []string `json:"env"`
}
