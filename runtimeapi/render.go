package runtimeapi

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// errorBody is the JSON error shape of the Runtime API and of Lambda function errors.
type errorBody struct {
	ErrorMessage string `json:"errorMessage"`
	ErrorType    string `json:"errorType"`
}

// Error types rendered to the runtime.
const (
	errorTypeInvalidStateTransition = "InvalidStateTransition"
	errorTypeInvalidRequestID       = "InvalidRequestID"
	errorTypeRequestEntityTooLarge  = "RequestEntityTooLarge"
	errorTypeInvalidResponseMode    = "InvalidFunctionResponseMode"

	// ErrorTypeResponseSizeTooLarge is the Response.ErrorType (or streaming trailer type) when the
	// function's answer exceeded the size limit.
	ErrorTypeResponseSizeTooLarge = "Function.ResponseSizeTooLarge"
)

func renderJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only our own fixed shapes reach here; a failure is a programming error.
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func renderAccepted(w http.ResponseWriter) {
	renderJSON(w, http.StatusAccepted, map[string]string{"status": "OK"})
}

// forbid answers a call the protocol state does not allow.
func (s *Server) forbid(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Debug("runtimeapi: call refused", "method", r.Method, "path", r.URL.Path, "err", err)
	renderForbidden(w, err)
}

func renderForbidden(w http.ResponseWriter, err error) {
	renderJSON(w, http.StatusForbidden, errorBody{ErrorMessage: err.Error(), ErrorType: errorTypeInvalidStateTransition})
}

func renderInvalidRequestID(w http.ResponseWriter) {
	renderJSON(w, http.StatusBadRequest, errorBody{ErrorMessage: "Invalid request ID", ErrorType: errorTypeInvalidRequestID})
}

func renderInvalidResponseMode(w http.ResponseWriter) {
	renderJSON(w, http.StatusBadRequest, errorBody{ErrorMessage: "Invalid function response mode", ErrorType: errorTypeInvalidResponseMode})
}

func renderTooLarge(w http.ResponseWriter, limit int64) {
	renderJSON(w, http.StatusRequestEntityTooLarge, errorBody{
		ErrorMessage: fmt.Sprintf("Exceeded maximum allowed payload size (%d bytes).", limit),
		ErrorType:    errorTypeRequestEntityTooLarge,
	})
}

// responseTooLargeBody is the function error AWS returns to the invoker for an oversized answer.
func responseTooLargeBody(limit int64) []byte {
	b, _ := json.Marshal(errorBody{
		ErrorMessage: fmt.Sprintf("Response payload size exceeded maximum allowed payload size (%d bytes).", limit),
		ErrorType:    ErrorTypeResponseSizeTooLarge,
	})
	return b
}
