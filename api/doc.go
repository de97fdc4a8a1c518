// Package api serves AWS Lambda's control-plane API (restJson1, service
// version 2015-03-31) so that the AWS CLI, boto3 and the AWS SDKs work against
// lamb unchanged, plus lamb's own endpoints under /_lamb/.
//
// # Routing
//
// Every operation's method, URI template and success code come from the
// smithy.api#http traits of AWS's model, rendered into model_gen.go by
// internal/gen. Requests are matched against that table (labels are
// URL-decoded, so clients may send arn%3Aaws%3Alambda%3A... in
// {FunctionName}; literal query pairs such as ?find=LayerVersion select their
// operation). Handlers are looked up by operation name in Server.handlers
// (router.go); an operation of the model without a handler answers 501 with
// X-Amzn-ErrorType ServiceException and a message naming the operation.
//
// # Adding an operation (e.g. Invoke in invoke.go)
//
// Write the handler in a file of its own as a method with the signature
//
//	func (s *Server) invoke(w http.ResponseWriter, r *http.Request, c *call) error
//
// and add one line to the table in Server.handlers (router.go):
// "Invoke": s.invoke. The router has already matched the route, decoded the
// labels (c.Labels["FunctionName"]), parsed the query (c.Query) and found the
// account and region (c.Scope); r.Body is capped at AWS's request size.
// Return an error instead of writing one (before writing anything): an
// *awsError (newError, errInvalidParameter, errFunctionNotFound, ...) is
// rendered as AWS would, anything else is logged and answered as a 500
// ServiceException. A streaming handler writes its own answer and returns nil.
// Helpers: s.lookupFunction(ctx, c) resolves {FunctionName} (name, full or
// partial ARN, name:qualifier, ?Qualifier=) and loads the function;
// f.info() gives the FunctionInfo the engine needs; decodeBody reads a JSON
// body with AWS's errors; writeJSON and writeError render answers;
// c.Op.successCode() is the model's success status.
//
// # Errors
//
// Errors are AWS-shaped: the status the model gives the error type, the
// header X-Amzn-ErrorType, and a JSON body {"Type":"User","Message":...}
// whose message member is spelled as the model spells it for that type
// ("Message" or "message"), which is what boto3 and the SDKs read.
// ValidationException (not in the model) carries only {"message":...}.
//
// # Accounts and regions
//
// The account and region come from the SigV4 credential scope of the
// Authorization header (signatures are not verified); an access key id of 12
// digits is used as the account id. Unsigned requests use Config.AccountID and
// Config.Region. Resources of one account and region are invisible to others.
//
// # Logs and metrics
//
// The same port serves the part of the CloudWatch Logs API Lambda users touch
// (logs.go: POST / with X-Amz-Target Logs_20140328.*, answered from the
// Logbook's per-instance log streams, filter patterns in logs_filter.go) and
// Prometheus's /metrics (metrics.go, the handler in Config.Metrics); every
// API request is reported to Config.Observer. See docs/observability.md.
package api

//go:generate go run ./internal/gen -model ../../shared/aws-models/lambda.json -out model_gen.go
