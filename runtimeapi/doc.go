// Package runtimeapi serves the Lambda Runtime API
// (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html) for one sandbox: the HTTP
// endpoints under /2018-06-01/runtime that a function's runtime client polls for invocations
// and posts answers to.
//
// # Use
//
// A [Server] serves exactly one runtime process. Mount [Server.Handler] on a listener the runtime
// reaches (AWS_LAMBDA_RUNTIME_API=host:port), wait on [Server.Ready] or [Server.InitErr], then call
// [Server.Invoke] once per invocation. The caller owns the http.Server and its shutdown; Close only
// ends the waiters this package holds.
//
// # Protocol
//
// The rules of the protocol live in a small state machine (state.go): init → idle → invoking →
// responding → idle. A call the current state does not allow gets 403 with an
// InvalidStateTransition JSON body, a response for another request id gets 400 InvalidRequestID
// (as AWS's Runtime Interface Emulator does), unknown paths 404 and wrong methods 405.
//
// # Streaming
//
// A response is streamed when the runtime sends Lambda-Runtime-Function-Response-Mode: streaming,
// or when the invocation asked for it ([Invocation.StreamResponse]; aws-lambda-go never sends the
// header, AWS streams it because of the invoke mode). A streamed body is piped to
// [Response.Body] write by write, with backpressure: the runtime's next chunk is read only after
// the reader took the previous one.
package runtimeapi
