package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/lambhq/lamb/agent/agentapi"
	"github.com/lambhq/lamb/runtimeapi"
)

// maxPayload bounds an invocation's request body (AWS: 6 MB buffered, 256 KB
// async; the engine enforces the exact limits).
const maxPayload = 32 << 20

func (a *agent) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+agentapi.PathEvents, a.events.serve)
	mux.HandleFunc("POST "+agentapi.PathInvoke, a.handleInvoke)
	mux.HandleFunc("POST "+agentapi.PathShutdown, a.handleShutdown)
	mux.HandleFunc("POST "+agentapi.PathStart, a.handleStart)
	mux.HandleFunc("POST "+agentapi.PathTunnel, func(w http.ResponseWriter, r *http.Request) {
		if a.ep == nil {
			http.Error(w, "the agent serves no endpoint", http.StatusNotFound)
			return
		}
		a.ep.ServeTunnel(w, r)
	})
	return mux
}

func (a *agent) handleShutdown(w http.ResponseWriter, _ *http.Request) {
	w.WriteHeader(http.StatusOK)
	a.stop()
}

// handleStart takes the environment of a deferred start (Config.Deferred)
// and lets Run start the runtime; a second start, or one to an agent that
// started on its own, is a conflict.
func (a *agent) handleStart(w http.ResponseWriter, r *http.Request) {
	var req agentapi.StartRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil {
		http.Error(w, "bad start request: "+err.Error(), http.StatusBadRequest)
		return
	}
	if !a.started.CompareAndSwap(false, true) {
		http.Error(w, "the runtime has started already", http.StatusConflict)
		return
	}
	a.startC <- req.Env
	w.WriteHeader(http.StatusOK)
}

func notDelivered(w http.ResponseWriter, msg string) {
	w.Header().Set(agentapi.HeaderNotDelivered, "1")
	http.Error(w, msg, http.StatusServiceUnavailable)
}

func (a *agent) handleInvoke(w http.ResponseWriter, r *http.Request) {
	if !a.invokeMu.TryLock() {
		notDelivered(w, "an invocation is already in progress")
		return
	}
	defer a.invokeMu.Unlock()
	if a.exited.Err() != nil || a.out == nil {
		notDelivered(w, "runtime not running")
		return
	}
	payload, err := io.ReadAll(io.LimitReader(r.Body, maxPayload+1))
	if err != nil || len(payload) > maxPayload {
		notDelivered(w, fmt.Sprintf("reading payload: %v (%d bytes)", err, len(payload)))
		return
	}
	h := r.Header
	inv := &runtimeapi.Invocation{
		RequestID: h.Get(agentapi.HeaderRequestID), Payload: payload,
		InvokedFunctionARN: h.Get(agentapi.HeaderFunctionARN), TraceID: h.Get(agentapi.HeaderTraceID),
		ClientContext: h.Get(agentapi.HeaderClientContext), CognitoIdentity: h.Get(agentapi.HeaderCognitoIdentity),
		StreamResponse: h.Get(agentapi.HeaderStream) == "1",
	}
	if ms, err := strconv.ParseInt(h.Get(agentapi.HeaderDeadlineMs), 10, 64); err == nil {
		inv.Deadline = time.UnixMilli(ms)
	}

	// The runtime may die without answering: its exit ends the wait.
	ctx, cancel := contextWithCancelOn(r.Context(), a.exited)
	defer cancel()
	a.out.Begin()
	resp, err := a.srv.Invoke(ctx, inv)
	if err != nil {
		_, _ = a.out.Take()
		switch {
		case errors.Is(err, runtimeapi.ErrNotDelivered):
			notDelivered(w, err.Error())
		case a.exited.Err() != nil:
			w.Header().Set(agentapi.HeaderRuntimeExited, "1")
			http.Error(w, "runtime exited: "+err.Error(), http.StatusBadGateway)
		default:
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
		return
	}
	defer resp.Body.Close()

	hdr := w.Header()
	hdr.Set("Content-Type", "application/vnd.lamb.frames")
	if resp.ContentType != "" {
		hdr.Set(agentapi.HeaderAnswerType, resp.ContentType)
	}
	if resp.ErrorType != "" {
		hdr.Set(agentapi.HeaderErrorType, resp.ErrorType)
	}
	if resp.Streaming {
		hdr.Set(agentapi.HeaderStreaming, "1")
	}
	w.WriteHeader(http.StatusOK)
	// A streamed answer goes out as the runtime writes it, headers first. A
	// buffered one is whole already: it leaves in one write at the end (with
	// a Content-Length when small), one packet for the host to wake up to.
	fl, _ := w.(http.Flusher)
	if !resp.Streaming {
		fl = nil
	}
	if fl != nil {
		fl.Flush()
	}
	end := &agentapi.End{}
	buf := make([]byte, 32<<10)
	for {
		n, rerr := resp.Body.Read(buf)
		if n > 0 {
			if werr := agentapi.WriteFrame(w, agentapi.FrameData, buf[:n]); werr != nil {
				end.Failure = "host went away: " + werr.Error()
				break
			}
			if fl != nil {
				fl.Flush()
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			end.Failure = rerr.Error()
			end.RuntimeExited = a.exited.Err() != nil
			break
		}
	}
	end.Log, end.LogSeq = a.out.Take()
	if end.Failure == "" {
		end.ErrorType, end.ErrorBody = resp.Trailer()
	}
	end.MaxMemoryUsedMB = maxMemoryUsedMB()
	_ = agentapi.WriteEnd(w, end)
}
