package engine

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lambhq/lamb/engine/backend"
)

// Function describes what to run. The API layer fills it from its records; the
// engine only reads it and never keeps the pointer beyond a call (except to pass
// it to the log sink).
type Function struct {
	AccountID, Region string
	Name, ARN         string // ARN unqualified
	Version           string // "$LATEST", "1", ...

	PackageType  string // "Zip" (default) or "Image"
	Runtime      string // "python3.12", "nodejs20.x", "provided.al2023", ...
	Handler      string
	Image        string
	Architecture string // "x86_64" (default) or "arm64"

	MemoryMB           int           // default 128
	EphemeralStorageMB int           // default 512
	Timeout            time.Duration // default 3s

	Env    map[string]string // the function's own variables
	Code   backend.Artifact
	Layers []backend.Artifact

	CodeSHA256 string
	// ReservedConcurrency: nil = none; 0 = throttle everything; n = at most n
	// concurrent invocations of the function (all versions together, as in
	// AWS), more are throttled.
	ReservedConcurrency *int

	LogGroup        string // default "/aws/lambda/<Name>"
	LogStreamPrefix string // replaces the "YYYY/MM/DD/" date prefix of log stream names when set

	// LogFormat is the function's LoggingConfig.LogFormat ("JSON" or "Text",
	// default Text) and LogLevel its ApplicationLogLevel: with JSON, AWS tells
	// the runtime through AWS_LAMBDA_LOG_FORMAT and AWS_LAMBDA_LOG_LEVEL.
	// SystemLogLevel filters the platform's JSON records (platformlog.go).
	LogFormat      string
	LogLevel       string
	SystemLogLevel string
}

// Request is one invocation as the caller addressed it.
type Request struct {
	RequestID       string // chosen by the caller; appears in logs and inside the function
	Payload         []byte
	InvokedARN      string // qualified or not; defaults to the function's ARN
	ClientContext   string // JSON, not base64
	CognitoIdentity string // JSON
	TraceID         string
}

// Result is the outcome of one invocation.
type Result struct {
	Payload []byte
	// FunctionError is "" or "Unhandled" (AWS's X-Amz-Function-Error).
	FunctionError string
	// Log is this invocation's complete log, START to REPORT, in AWS's format.
	Log             []byte
	ExecutedVersion string
	// Duration is the invocation's duration (init excluded); InitDuration is
	// set on a cold start.
	Duration, InitDuration time.Duration
}

const (
	defaultMemoryMB  = 128
	defaultTimeout   = 3 * time.Second
	defaultStorageMB = 512
)

func (fn *Function) timeout() time.Duration {
	if fn.Timeout <= 0 {
		return defaultTimeout
	}
	return fn.Timeout
}

func (fn *Function) memoryMB() int {
	if fn.MemoryMB <= 0 {
		return defaultMemoryMB
	}
	return fn.MemoryMB
}

func (fn *Function) version() string {
	if fn.Version == "" {
		return "$LATEST"
	}
	return fn.Version
}

func (fn *Function) packageType() string {
	if fn.PackageType == "" {
		return "Zip"
	}
	return fn.PackageType
}

func (fn *Function) architecture() string {
	if fn.Architecture == "" {
		return "x86_64"
	}
	return fn.Architecture
}

func (fn *Function) logGroup() string {
	if fn.LogGroup == "" {
		return "/aws/lambda/" + fn.Name
	}
	return fn.LogGroup
}

// poolKey identifies interchangeable instances: the ARN, the version and a hash
// of everything that shapes the sandbox. It runs on every invoke, so it
// allocates little: the sorted variable names and the key itself.
func poolKey(fn *Function) string {
	// Every field length-prefixed: an unambiguous encoding, cheaper than
	// JSON on the invoke path.
	var scratch [1024]byte
	b := scratch[:0]
	codeSHA := fn.CodeSHA256
	if codeSHA == "" {
		codeSHA = fn.Code.SHA256
	}
	b = keyString(b, codeSHA)
	b = keyString(b, fn.packageType())
	b = keyString(b, fn.Runtime)
	b = keyString(b, fn.Handler)
	b = keyString(b, fn.Image)
	b = keyString(b, fn.architecture())
	b = keyInt(b, int64(fn.memoryMB()))
	b = keyInt(b, int64(fn.EphemeralStorageMB))
	b = keyInt(b, int64(fn.timeout()))
	b = keyString(b, fn.LogFormat)
	b = keyString(b, fn.LogLevel)
	b = keyString(b, fn.Code.Dir)
	b = keyString(b, fn.Code.Revision)
	var stack [16]string
	keys := stack[:0]
	for name := range fn.Env {
		keys = append(keys, name)
	}
	slices.Sort(keys)
	b = keyInt(b, int64(len(keys)))
	for _, name := range keys {
		b = keyString(b, name)
		b = keyString(b, fn.Env[name])
	}
	b = keyInt(b, int64(len(fn.Layers)))
	for _, l := range fn.Layers {
		b = keyString(b, l.SHA256)
		b = keyString(b, l.Dir)
		b = keyString(b, l.Revision)
	}
	sum := sha256.Sum256(b)
	var hexSum [16]byte
	hex.Encode(hexSum[:], sum[:8])
	version := fn.version()
	return fn.ARN + ":" + version + "#" + string(hexSum[:])
}

// keyString appends a field of poolKey's encoding: its length, then it.
func keyString(b []byte, v string) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(len(v)))
	return append(b, v...)
}

// keyInt appends a number as keyString of its decimal form, as the key was
// always hashed.
func keyInt(b []byte, n int64) []byte {
	var num [20]byte
	d := strconv.AppendInt(num[:0], n, 10)
	b = binary.BigEndian.AppendUint64(b, uint64(len(d)))
	return append(b, d...)
}

// reservedEnv lists the variables AWS sets itself; a function's own variables
// never override them (AWS refuses them at CreateFunction).
var reservedEnv = map[string]bool{
	"_HANDLER": true, "_X_AMZN_TRACE_ID": true, "AWS_DEFAULT_REGION": true, "AWS_REGION": true,
	"AWS_EXECUTION_ENV": true, "AWS_LAMBDA_FUNCTION_NAME": true, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": true,
	"AWS_LAMBDA_FUNCTION_VERSION": true, "AWS_LAMBDA_INITIALIZATION_TYPE": true,
	"AWS_LAMBDA_LOG_GROUP_NAME": true, "AWS_LAMBDA_LOG_STREAM_NAME": true, "AWS_ACCESS_KEY": true,
	"AWS_ACCESS_KEY_ID": true, "AWS_SECRET_ACCESS_KEY": true, "AWS_SESSION_TOKEN": true,
	"AWS_LAMBDA_RUNTIME_API": true, "LAMBDA_TASK_ROOT": true, "LAMBDA_RUNTIME_DIR": true,
}

// IsReservedEnv reports whether AWS reserves the environment variable name (the
// API refuses such names in a function's configuration).
func IsReservedEnv(name string) bool { return reservedEnv[name] }

// logStreamName forms a stream name as AWS does: "2026/11/27/[$LATEST]<32 hex>".
func logStreamName(fn *Function, now time.Time) string {
	prefix := fn.LogStreamPrefix
	if prefix == "" {
		prefix = now.UTC().Format("2006/01/02/")
	}
	return prefix + "[" + fn.version() + "]" + randomHex(16)
}

// composeEnv builds the complete environment AWS gives a runtime.
func composeEnv(fn *Function, now time.Time) map[string]string {
	env := make(map[string]string, len(fn.Env)+20)
	for k, v := range fn.Env {
		if !reservedEnv[k] {
			env[k] = v
		}
	}
	region := fn.Region
	if region == "" {
		region = "us-east-1"
	}
	env["AWS_LAMBDA_FUNCTION_NAME"] = fn.Name
	env["AWS_LAMBDA_FUNCTION_VERSION"] = fn.version()
	env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = strconv.Itoa(fn.memoryMB())
	env["AWS_LAMBDA_LOG_GROUP_NAME"] = fn.logGroup()
	env["AWS_LAMBDA_LOG_STREAM_NAME"] = logStreamName(fn, now)
	env["AWS_LAMBDA_INITIALIZATION_TYPE"] = "on-demand"
	env["AWS_REGION"] = region
	env["AWS_DEFAULT_REGION"] = region
	if fn.Handler != "" {
		env["_HANDLER"] = fn.Handler
	}
	// Runtimes log plain text unless told otherwise; AWS sets these two only
	// for JSON logs (the managed runtimes' log formatters read them).
	if fn.LogFormat == "JSON" {
		env["AWS_LAMBDA_LOG_FORMAT"] = "JSON"
		if fn.LogLevel != "" {
			env["AWS_LAMBDA_LOG_LEVEL"] = fn.LogLevel
		}
	}
	// AWS sets AWS_EXECUTION_ENV for managed runtimes only, not for OS-only
	// (provided.*) runtimes or container images.
	if fn.packageType() == "Zip" && fn.Runtime != "" && !strings.HasPrefix(fn.Runtime, "provided") {
		env["AWS_EXECUTION_ENV"] = "AWS_Lambda_" + fn.Runtime
	}
	// Execution-role style temporary credentials: they look real to SDKs and
	// are accepted by lamb's own API, which does not verify signatures' secrets.
	env["AWS_ACCESS_KEY_ID"] = "ASIA" + strings.ToUpper(randomHex(8))
	env["AWS_SECRET_ACCESS_KEY"] = randomHex(20)
	env["AWS_SESSION_TOKEN"] = "IQoJb3JpZ2luX2VjE" + randomHex(64)
	env["TZ"] = ":UTC"
	env["LANG"] = "en_US.UTF-8"
	return env
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on Linux
	return hex.EncodeToString(b)
}

// errorDoc renders AWS's error document for failures the platform reports
// (timeouts, crashed runtimes).
func errorDoc(errType, requestID, msg string) []byte {
	b, _ := json.Marshal(struct {
		ErrorType    string `json:"errorType"`
		ErrorMessage string `json:"errorMessage"`
	}{errType, fmt.Sprintf("RequestId: %s Error: %s", requestID, msg)})
	return b
}
