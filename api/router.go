package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// handlerFunc serves one operation. It returns an error instead of writing one
// (the router renders it with writeError), so it must return before writing
// anything when it fails. Handlers that stream (Invoke) write the response
// themselves and return nil.
type handlerFunc func(w http.ResponseWriter, r *http.Request, c *call) error

// call is what the router learned about a request before the handler runs.
type call struct {
	Op     *operation
	Scope  scope             // account and region from the SigV4 credential scope
	Labels map[string]string // URI labels, already URL-decoded ("FunctionName" -> "arn:aws:lambda:...")
	Query  url.Values
}

// handlers is the table of contents of the API: one line per operation with
// real behaviour. Every other operation of the model answers notImplemented.
// To add an operation, write its handler in a file of its own (e.g. invoke.go
// with func (s *Server) invoke(w, r, c) error) and add one line here.
func (s *Server) handlers() map[string]handlerFunc {
	return map[string]handlerFunc{
		// Functions ($LATEST only until versions exist).
		"CreateFunction":              s.createFunction,
		"GetFunction":                 s.getFunction,
		"GetFunctionConfiguration":    s.getFunctionConfiguration,
		"ListFunctions":               s.listFunctions,
		"UpdateFunctionCode":          s.updateFunctionCode,
		"UpdateFunctionConfiguration": s.updateFunctionConfiguration,
		"DeleteFunction":              s.deleteFunction,

		// Invocations.
		"Invoke":                   s.invoke,
		"InvokeWithResponseStream": s.invokeWithResponseStream, // invoke_stream.go
		"InvokeAsync":              s.invokeAsync,

		// Tags and reserved concurrency (functions only).
		"TagResource":               s.tagResource,
		"UntagResource":             s.untagResource,
		"ListTags":                  s.listTags,
		"PutFunctionConcurrency":    s.putFunctionConcurrency,
		"GetFunctionConcurrency":    s.getFunctionConcurrency,
		"DeleteFunctionConcurrency": s.deleteFunctionConcurrency,

		// Versions and aliases (versions.go, aliases.go).
		"PublishVersion":         s.publishVersion,
		"ListVersionsByFunction": s.listVersionsByFunction,
		"CreateAlias":            s.createAlias,
		"GetAlias":               s.getAlias,
		"UpdateAlias":            s.updateAlias,
		"DeleteAlias":            s.deleteAlias,
		"ListAliases":            s.listAliases,

		// Function URLs (function_url.go).
		"CreateFunctionUrlConfig": s.createFunctionUrlConfig,
		"GetFunctionUrlConfig":    s.getFunctionUrlConfig,
		"UpdateFunctionUrlConfig": s.updateFunctionUrlConfig,
		"DeleteFunctionUrlConfig": s.deleteFunctionUrlConfig,
		"ListFunctionUrlConfigs":  s.listFunctionUrlConfigs,

		// Resource policies (policy.go).
		"AddPermission":                s.addPermission,
		"GetPolicy":                    s.getPolicy,
		"RemovePermission":             s.removePermission,
		"AddLayerVersionPermission":    s.addLayerVersionPermission,
		"GetLayerVersionPolicy":        s.getLayerVersionPolicy,
		"RemoveLayerVersionPermission": s.removeLayerVersionPermission,

		// Event invoke configs (event_invoke_config.go, honoured in async.go).
		"PutFunctionEventInvokeConfig":    s.putFunctionEventInvokeConfig,
		"UpdateFunctionEventInvokeConfig": s.updateFunctionEventInvokeConfig,
		"GetFunctionEventInvokeConfig":    s.getFunctionEventInvokeConfig,
		"DeleteFunctionEventInvokeConfig": s.deleteFunctionEventInvokeConfig,
		"ListFunctionEventInvokeConfigs":  s.listFunctionEventInvokeConfigs,

		// Provisioned concurrency (provisioned.go, engine.Provision).
		"PutProvisionedConcurrencyConfig":    s.putProvisionedConcurrencyConfig,
		"GetProvisionedConcurrencyConfig":    s.getProvisionedConcurrencyConfig,
		"DeleteProvisionedConcurrencyConfig": s.deleteProvisionedConcurrencyConfig,
		"ListProvisionedConcurrencyConfigs":  s.listProvisionedConcurrencyConfigs,

		// State-only function settings (function_settings.go).
		"PutFunctionRecursionConfig": s.putFunctionRecursionConfig,
		"GetFunctionRecursionConfig": s.getFunctionRecursionConfig,
		"PutRuntimeManagementConfig": s.putRuntimeManagementConfig,
		"GetRuntimeManagementConfig": s.getRuntimeManagementConfig,

		// Code signing configs (code_signing.go; recorded, not enforced).
		"CreateCodeSigningConfig":          s.createCodeSigningConfig,
		"GetCodeSigningConfig":             s.getCodeSigningConfig,
		"UpdateCodeSigningConfig":          s.updateCodeSigningConfig,
		"DeleteCodeSigningConfig":          s.deleteCodeSigningConfig,
		"ListCodeSigningConfigs":           s.listCodeSigningConfigs,
		"ListFunctionsByCodeSigningConfig": s.listFunctionsByCodeSigningConfig,
		"PutFunctionCodeSigningConfig":     s.putFunctionCodeSigningConfig,
		"GetFunctionCodeSigningConfig":     s.getFunctionCodeSigningConfig,
		"DeleteFunctionCodeSigningConfig":  s.deleteFunctionCodeSigningConfig,

		// Event source mappings (event_source_mapping.go; stored, never polled).
		"CreateEventSourceMapping": s.createEventSourceMapping,
		"GetEventSourceMapping":    s.getEventSourceMapping,
		"UpdateEventSourceMapping": s.updateEventSourceMapping,
		"DeleteEventSourceMapping": s.deleteEventSourceMapping,
		"ListEventSourceMappings":  s.listEventSourceMappings,

		// Account (account_settings.go).
		"GetAccountSettings": s.getAccountSettings,

		// Capacity providers and function scaling (capacity_provider.go,
		// scaling_config.go; state only: no managed instances run).
		"CreateCapacityProvider":                 s.createCapacityProvider,
		"GetCapacityProvider":                    s.getCapacityProvider,
		"UpdateCapacityProvider":                 s.updateCapacityProvider,
		"DeleteCapacityProvider":                 s.deleteCapacityProvider,
		"ListCapacityProviders":                  s.listCapacityProviders,
		"ListFunctionVersionsByCapacityProvider": s.listFunctionVersionsByCapacityProvider,
		"PutFunctionScalingConfig":               s.putFunctionScalingConfig,
		"GetFunctionScalingConfig":               s.getFunctionScalingConfig,

		// Durable executions (durable.go): lamb has no durable runtime, so
		// none exist; these answer so, in AWS's error shapes.
		"ListDurableExecutionsByFunction":       s.listDurableExecutionsByFunction,
		"GetDurableExecution":                   s.durableExecutionNotFound,
		"GetDurableExecutionHistory":            s.durableExecutionNotFound,
		"StopDurableExecution":                  s.durableExecutionNotFound,
		"GetDurableExecutionState":              s.durableExecutionUnknown,
		"CheckpointDurableExecution":            s.durableExecutionUnknown,
		"SendDurableExecutionCallbackSuccess":   s.durableCallback,
		"SendDurableExecutionCallbackFailure":   s.durableCallback,
		"SendDurableExecutionCallbackHeartbeat": s.durableCallback,

		// Layers.
		"PublishLayerVersion":  s.publishLayerVersion,
		"GetLayerVersion":      s.getLayerVersion,
		"GetLayerVersionByArn": s.getLayerVersionByArn,
		"ListLayers":           s.listLayers,
		"ListLayerVersions":    s.listLayerVersions,
		"DeleteLayerVersion":   s.deleteLayerVersion,
	}
}

// route is an operation's URI template, split for matching.
type route struct {
	op       *operation
	segments []segment
	query    map[string]string // literal query pairs the URI requires (?find=LayerVersion)
	handler  handlerFunc
}

type segment struct {
	literal string
	label   string // set for {Label} and {Label+}
	greedy  bool   // {Label+}: matches the rest of the path
}

func compileRoutes(ops []operation, handlers map[string]handlerFunc) []*route {
	routes := make([]*route, 0, len(ops))
	for i := range ops {
		op := &ops[i]
		path, rawQuery, _ := strings.Cut(op.URI, "?")
		rt := &route{op: op, query: map[string]string{}, handler: handlers[op.Name]}
		for _, p := range splitPath(path) {
			if strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}") {
				name := p[1 : len(p)-1]
				greedy := strings.HasSuffix(name, "+")
				rt.segments = append(rt.segments, segment{label: strings.TrimSuffix(name, "+"), greedy: greedy})
				continue
			}
			rt.segments = append(rt.segments, segment{literal: p})
		}
		if rawQuery != "" {
			q, _ := url.ParseQuery(rawQuery)
			for k := range q {
				rt.query[k] = q.Get(k)
			}
		}
		if rt.handler == nil {
			rt.handler = notImplemented
		}
		routes = append(routes, rt)
	}
	// Routes that require literal query pairs are tried first: they are more
	// specific than a route with the same path (GetLayerVersionByArn vs ListLayers).
	sort.SliceStable(routes, func(i, j int) bool { return len(routes[i].query) > len(routes[j].query) })
	return routes
}

func splitPath(p string) []string {
	var out []string
	for _, s := range strings.Split(p, "/") {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// match reports whether the escaped path segments fit the route, returning the
// decoded labels.
func (rt *route) match(parts []string, q url.Values) (map[string]string, bool) {
	// Literals and length first, without allocating: dispatch tries every
	// route in turn and most fail here.
	i := 0
	for _, seg := range rt.segments {
		if i >= len(parts) {
			return nil, false
		}
		if seg.greedy {
			i = len(parts)
			continue
		}
		if seg.label == "" && parts[i] != seg.literal {
			return nil, false
		}
		i++
	}
	if i != len(parts) {
		return nil, false
	}
	for k, v := range rt.query {
		if q.Get(k) != v {
			return nil, false
		}
	}
	labels := make(map[string]string, 2)
	i = 0
	for _, seg := range rt.segments {
		switch {
		case seg.greedy:
			v, err := url.PathUnescape(strings.Join(parts[i:], "/"))
			if err != nil {
				return nil, false
			}
			labels[seg.label] = v
			i = len(parts)
			continue
		case seg.label != "":
			v, err := url.PathUnescape(parts[i])
			if err != nil || v == "" {
				return nil, false
			}
			labels[seg.label] = v
		}
		i++
	}
	return labels, true
}

// dispatch finds the operation for r and runs its handler, returning the
// operation's name ("Unknown" when none matches).
func (s *Server) dispatch(w http.ResponseWriter, r *http.Request) string {
	parts := splitPath(r.URL.EscapedPath())
	q := r.URL.Query()
	var (
		found      *route
		labels     map[string]string
		pathExists bool
	)
	for _, rt := range s.routes {
		l, ok := rt.match(parts, q)
		if !ok {
			continue
		}
		pathExists = true
		if rt.op.Method == r.Method {
			found, labels = rt, l
			break
		}
	}
	if found == nil {
		if pathExists {
			writeError(w, errMethodNotAllowed(r))
			return "Unknown"
		}
		writeError(w, newError("UnknownOperationException", "No operation of the Lambda API matches %s %s", r.Method, r.URL.Path))
		return "Unknown"
	}
	s.serveOp(w, r, found, labels, q)
	return found.op.Name
}

// serveOp runs the handler of the operation found for r.
func (s *Server) serveOp(w http.ResponseWriter, r *http.Request, found *route, labels map[string]string, q url.Values) {
	c := &call{Op: found.op, Scope: s.requestScope(r), Labels: labels, Query: q}
	// A request body is never allowed to be larger than AWS's own limit for
	// its operation, and large uploads are read a few at a time, so that
	// neither one huge body nor many can exhaust memory (limits.go).
	limitBody(w, r, found.op.Name)
	if takesUploadSlot(found.op.Name, r) {
		release, err := s.acquireUpload(r.Context())
		if err != nil {
			return // the client went away while waiting
		}
		defer release()
	}
	if !isInternal(r) {
		if err := s.authenticate(r); err != nil {
			if isTooLarge(err) {
				err = errTooLarge(found.op.Name)
			}
			writeError(w, err)
			return
		}
	}
	if err := found.handler(w, r, c); err != nil {
		var ae *awsError
		if !errors.As(err, &ae) {
			s.log.ErrorContext(r.Context(), "operation failed", slog.String("operation", found.op.Name), slog.Any("error", err))
		}
		writeError(w, err)
	}
}

// notImplemented answers every operation of the model lamb does not serve yet.
// 501 is not retried by the AWS SDKs (unlike 500), and ServiceException is in
// every operation's error list, so clients surface the message as is.
func notImplemented(w http.ResponseWriter, r *http.Request, c *call) error {
	return &awsError{
		Code:    "ServiceException",
		Status:  http.StatusNotImplemented,
		Message: fmt.Sprintf("lamb does not implement the %s operation yet", c.Op.Name),
	}
}

// decodeBody reads r's JSON body into v. An empty body decodes as {}.
func decodeBody(r *http.Request, c *call, v any) error {
	data, err := readBody(r)
	if err != nil {
		if isTooLarge(err) {
			return errTooLarge(c.Op.Name)
		}
		return fmt.Errorf("read request body: %w", err)
	}
	if len(strings.TrimSpace(string(data))) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, v); err != nil {
		return errUnparsableBody(err)
	}
	return nil
}

// readBody returns r's body, without a copy when authenticate has read it.
func readBody(r *http.Request) ([]byte, error) {
	if b, ok := r.Body.(bufferedBody); ok {
		return b.data, nil
	}
	return io.ReadAll(r.Body)
}

// readRequest reads what the request names (resolve: resolveFunction,
// unqualifiedFunction, ...) and its JSON body as a T, answering AWS's error
// for either; the name first, as AWS checks it first.
func readRequest[T, R any](r *http.Request, c *call, resolve func(*call) (R, error)) (R, *T, error) {
	target, err := resolve(c)
	if err != nil {
		return target, nil, err
	}
	in := new(T)
	if err := decodeBody(r, c, in); err != nil {
		return target, nil, err
	}
	return target, in, nil
}

// jsonErrorText describes a JSON decoding error without Go type names.
func jsonErrorText(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("Could not parse payload into json: field %q has the wrong type (%s)", te.Field, te.Value)
	}
	return "Could not parse payload into json: " + err.Error()
}
