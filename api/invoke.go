package api

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/lambhq/lamb/engine"
	"github.com/lambhq/lamb/engine/backend"
	"github.com/lambhq/lamb/store"
)

// Invoker is what the API needs of an execution engine (*engine.Engine).
type Invoker interface {
	Invoke(ctx context.Context, fn *engine.Function, req *engine.Request) (*engine.Result, error)
	Prepull(ctx context.Context, fn *engine.Function, progress func(backend.Progress)) error
	Evict(ctx context.Context, fn *engine.Function) (bool, error)
	Instances() []engine.InstanceInfo
}

// AWS's payload limits for Invoke.
const (
	maxSyncPayload  = 6 * 1024 * 1024 // RequestResponse (6 MB)
	maxAsyncPayload = 1024 * 1024     // Event: AWS raised it from 256 KB to 1 MB in 2025
	maxTailBytes    = 4096            // X-Amz-Log-Result: the last 4 KB of the log
)

// invoke serves Invoke: RequestResponse, Event and DryRun.
func (s *Server) invoke(w http.ResponseWriter, r *http.Request, c *call) error {
	invType, logType, err := invokeHeaders(r, "Event", "RequestResponse", "DryRun")
	if err != nil {
		return err
	}
	limit := int64(maxSyncPayload)
	if invType == "Event" {
		limit = maxAsyncPayload
	}
	fn, efn, req, err := s.newEngineRequest(w, r, c, limit)
	if err != nil {
		return err
	}

	switch invType {
	case "DryRun":
		w.WriteHeader(http.StatusNoContent)
		return nil
	case "Event":
		if err := s.enqueueAsync(r.Context(), fn.info(), req); err != nil {
			return err
		}
		w.WriteHeader(http.StatusAccepted)
		return nil
	}

	res, err := s.cfg.Engine.Invoke(r.Context(), efn, req)
	if err != nil {
		return s.invokeError(r.Context(), err)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Amz-Executed-Version", res.ExecutedVersion)
	if res.FunctionError != "" {
		h.Set("X-Amz-Function-Error", res.FunctionError)
	}
	if logType == "Tail" {
		h.Set("X-Amz-Log-Result", base64.StdEncoding.EncodeToString(logTail(res.Log)))
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(res.Payload)
	return nil
}

// invokeHeaders reads X-Amz-Invocation-Type (RequestResponse when absent) and
// X-Amz-Log-Type, refusing an invocation type not in invTypes (in the order
// AWS's message lists them) and a log type other than None and Tail.
func invokeHeaders(r *http.Request, invTypes ...string) (invType, logType string, err error) {
	invType = cmp.Or(r.Header.Get("X-Amz-Invocation-Type"), "RequestResponse")
	logType = r.Header.Get("X-Amz-Log-Type")
	var v validationError
	if !slices.Contains(invTypes, invType) {
		v.add(invType, "invocationType", "Member must satisfy enum value set: ["+strings.Join(invTypes, ", ")+"]")
	}
	switch logType {
	case "", "None", "Tail":
	default:
		v.add(logType, "logType", "Member must satisfy enum value set: [None, Tail]")
	}
	return invType, logType, v.err()
}

// readInvokePayload reads an invocation's payload within AWS's limit. AWS
// hands an absent payload to the function as an empty object and refuses one
// that is not JSON.
func readInvokePayload(r *http.Request, limit int64) ([]byte, error) {
	payload, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, newError("InvalidRequestContentException", "Could not read request body: %v", err)
	}
	if int64(len(payload)) > limit {
		return nil, newError("RequestTooLargeException", "Request must be smaller than %d bytes for the InvokeFunction operation", limit)
	}
	if len(bytes.TrimSpace(payload)) == 0 {
		return []byte("{}"), nil
	}
	if !json.Valid(payload) {
		return nil, newError("InvalidRequestContentException", "Could not parse request body into json: Could not parse payload into json: Unexpected character: was expecting a JSON value")
	}
	return payload, nil
}

// invokeError maps the engine's errors to AWS's.
func (s *Server) invokeError(ctx context.Context, err error) error {
	switch {
	case errors.Is(err, engine.ErrThrottled):
		return &awsError{Code: "TooManyRequestsException", Status: http.StatusTooManyRequests,
			Message: "Rate Exceeded.", Reason: "ReservedFunctionConcurrentInvocationLimitExceeded"}
	case errors.Is(err, engine.ErrClosed):
		return newError("ServiceException", "lamb is shutting down")
	case ctx.Err() != nil:
		return fmt.Errorf("invoke: client went away: %w", err)
	}
	s.log.ErrorContext(ctx, "invoke failed", "error", err)
	return &awsError{Code: "ServiceException", Status: http.StatusInternalServerError, Message: "lamb: " + err.Error()}
}

// logTail is the last 4 KB of a log, cut at a line start when one is near.
func logTail(log []byte) []byte {
	if len(log) <= maxTailBytes {
		return log
	}
	return log[len(log)-maxTailBytes:]
}

// newEngineRequest does what both Invoke operations do once their headers are
// read: find the function (versions.go: aliases route by weight), read the
// payload within limit, check the client context and the function's state,
// and build the engine's function and request. The request ID goes out in
// X-Amzn-RequestId.
func (s *Server) newEngineRequest(w http.ResponseWriter, r *http.Request, c *call, limit int64) (*functionRecord, *engine.Function, *engine.Request, error) {
	fn, invoked, err := s.lookupInvokeTarget(r.Context(), c)
	if err != nil {
		return nil, nil, nil, err
	}
	// After the lookup, so a bad name gets AWS's answer even without an engine.
	if s.cfg.Engine == nil {
		return nil, nil, nil, newError("ServiceException", "lamb: this server runs no engine")
	}
	payload, err := readInvokePayload(r, limit)
	if err != nil {
		return nil, nil, nil, err
	}
	clientContext, err := decodeClientContext(r.Header.Get("X-Amz-Client-Context"))
	if err != nil {
		return nil, nil, nil, err
	}
	if fn.State == "Failed" {
		return nil, nil, nil, newError("ResourceConflictException", "The operation cannot be performed at this time. The function is currently in the following state: Failed")
	}
	s.settleHotReload(r.Context(), fn) // hot_reload.go: a save under way settles first
	efn, err := s.engineFunction(fn.info())
	if err != nil {
		return nil, nil, nil, err
	}
	requestID := newRequestID()
	w.Header().Set("X-Amzn-RequestId", requestID)
	return fn, efn, &engine.Request{RequestID: requestID, Payload: payload, InvokedARN: invoked,
		ClientContext: clientContext, TraceID: traceID()}, nil
}

// loadInvokeTarget is loadQualified(ctx, sc, ref, pickWeighted) for the
// invoke path, reading $LATEST through s.invokeRecords: a warm invoke does not
// decode its function's record again while the stored record is unchanged.
func (s *Server) loadInvokeTarget(ctx context.Context, sc scope, ref functionRef) (*functionRecord, error) {
	// resolveQualifier sets only top-level fields of the cached record
	// (shownQualifier, and settleVersion on a version's own record): the
	// cache's maps stay as stored.
	return s.loadResolved(ctx, ref.Qualifier, pickWeighted, func(tx store.Tx) (*functionRecord, error) {
		latest, err := s.invokeRecords.Load(tx, bucketFunctions, functionKey(sc, ref.Name))
		if errors.Is(err, store.ErrNotFound) {
			return nil, errFunctionNotFound(ref.notFoundArn(sc))
		}
		return latest, err
	})
}

// engineFunction turns a function's configuration into what the engine runs.
func (s *Server) engineFunction(info FunctionInfo) (*engine.Function, error) {
	fn := &engine.Function{
		AccountID:          info.AccountID,
		Region:             info.Region,
		Name:               info.Name,
		ARN:                info.FunctionArn,
		Version:            info.Version,
		PackageType:        info.PackageType,
		Runtime:            info.Runtime,
		Handler:            info.Handler,
		Image:              info.ImageURI,
		MemoryMB:           int(info.MemorySize),
		EphemeralStorageMB: int(info.EphemeralSize),
		Timeout:            time.Duration(info.Timeout) * time.Second,
		Env:                info.Environment,
		CodeSHA256:         info.CodeSHA256,
		LogGroup:           info.LogGroup,
		LogFormat:          info.LogFormat,
		LogLevel:           info.LogLevel,
		SystemLogLevel:     info.SystemLogLevel,
	}
	if len(info.Architectures) > 0 {
		fn.Architecture = info.Architectures[0]
	}
	if info.ReservedConcurrency != nil {
		n := int(*info.ReservedConcurrency)
		fn.ReservedConcurrency = &n
	}
	if info.CodeSHA256 != "" {
		fn.Code = s.artifact(info.CodeSHA256, 0)
	}
	if info.CodeDir != "" {
		fn.Code = s.hotArtifact(functionKey(scope{Account: info.AccountID, Region: info.Region}, info.Name), info.CodeDir) // hot_reload.go
	}
	for _, l := range info.Layers {
		if l.Dir != "" {
			fn.Layers = append(fn.Layers, s.hotArtifact(functionKey(scope{Account: info.AccountID, Region: info.Region}, info.Name), l.Dir))
			continue
		}
		fn.Layers = append(fn.Layers, s.artifact(l.CodeSHA256, l.CodeSize))
	}
	return fn, nil
}

// artifact gives the engine a zip from the store's blobs.
func (s *Server) artifact(sha string, size int64) backend.Artifact {
	return backend.Artifact{
		SHA256: sha,
		Size:   size,
		Open: func(ctx context.Context) (io.ReadCloser, error) {
			rc, _, err := s.store.OpenBlob(ctx, sha)
			return rc, err
		},
	}
}

// newRequestID returns a random UUID, as AWS's request ids are.
func newRequestID() string { return newRevisionID() }

// traceID forms an X-Ray trace header as Lambda passes it to the runtime.
func traceID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	var p [8]byte
	_, _ = rand.Read(p[:])
	return fmt.Sprintf("Root=1-%08x-%x;Parent=%x;Sampled=0", time.Now().Unix(), b, p)
}

// prepare readies a function's new configuration: Config.Prepare if set, else
// the engine's pre-pull (a no-op on backends that run no images).
func (s *Server) prepare(ctx context.Context, info FunctionInfo) error {
	if s.cfg.Prepare != nil {
		return s.cfg.Prepare(ctx, info)
	}
	if s.cfg.Engine == nil {
		return nil
	}
	fn, err := s.engineFunction(info)
	if err != nil {
		return err
	}
	return s.cfg.Engine.Prepull(ctx, fn, func(p backend.Progress) {
		s.log.Info("pulling image", "function", info.FunctionArn, "image", p.Image, "status", p.Status,
			"current", p.Current, "total", p.Total)
	})
}

// evict stops the warm instances of a function that changed or went away.
func (s *Server) evict(ctx context.Context, f *functionRecord) {
	if s.cfg.Engine == nil || f == nil {
		return
	}
	fn, err := s.engineFunction(f.info())
	if err == nil {
		_, err = s.cfg.Engine.Evict(ctx, fn)
	}
	if err != nil {
		s.log.Warn("evicting instances", "function", f.arn(), "error", err)
	}
}
