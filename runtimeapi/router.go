package runtimeapi

import "net/http"

// Header names of the Runtime API.
const (
	headerRequestID       = "Lambda-Runtime-Aws-Request-Id"
	headerDeadlineMs      = "Lambda-Runtime-Deadline-Ms"
	headerFunctionARN     = "Lambda-Runtime-Invoked-Function-Arn"
	headerTraceID         = "Lambda-Runtime-Trace-Id"
	headerClientContext   = "Lambda-Runtime-Client-Context"
	headerCognitoIdentity = "Lambda-Runtime-Cognito-Identity"
	headerErrorType       = "Lambda-Runtime-Function-Error-Type"
	headerErrorBody       = "Lambda-Runtime-Function-Error-Body" // a trailer, base64
	headerResponseMode    = "Lambda-Runtime-Function-Response-Mode"

	responseModeStreaming = "streaming"
	defaultErrorType      = "Unhandled"
)

// newRouter is the table of contents of the Runtime API. The mux answers 404 for unknown paths
// and 405 (with Allow) for a known path with the wrong method. Every handler validates the
// request before it fires a state transition, because transitions cannot be undone.
func newRouter(s *Server) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /2018-06-01/runtime/invocation/next", newInvocationNextHandler(s))
	mux.Handle("POST /2018-06-01/runtime/invocation/{id}/response", newInvocationResponseHandler(s))
	mux.Handle("POST /2018-06-01/runtime/invocation/{id}/error", newInvocationErrorHandler(s))
	mux.Handle("POST /2018-06-01/runtime/init/error", newInitErrorHandler(s))
	return mux
}
