package api

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lambhq/lamb/engine"
	"github.com/lambhq/lamb/store"
)

// Function URLs served over HTTP on lamb's own port. A request reaches a
// config by host name ("<url-id>.lambda-url.<region>.<anything>") or by the
// path form /_lamb/urls/<url-id>/<path>. lamb builds AWS's payload format 2.0
// event, invokes the function (BUFFERED: one answer mapped back as AWS maps
// it; RESPONSE_STREAM: the body streamed as the function writes it) and
// answers CORS preflights from the config itself.

// urlHostID returns the url-id and region a function URL host name carries.
func urlHostID(host string) (id, region string, ok bool) {
	labels := strings.SplitN(strings.ToLower(trimHostPort(host)), ".", 4)
	if len(labels) < 4 || labels[1] != "lambda-url" || labels[2] == "" || labels[3] == "" {
		return "", "", false
	}
	return labels[0], labels[2], true
}

// serveURLByHost serves r if its host names a function URL; false otherwise.
func (s *Server) serveURLByHost(w http.ResponseWriter, r *http.Request) bool {
	id, region, ok := urlHostID(r.Host)
	if !ok {
		return false
	}
	s.serveURL(w, r, id, region, r.URL.EscapedPath())
	return true
}

// serveURLByPath serves /_lamb/urls/<url-id>/<path> (rest is what follows /_lamb/urls/).
func (s *Server) serveURLByPath(w http.ResponseWriter, r *http.Request, rest string) {
	id, _, _ := strings.Cut(rest, "/")
	escaped := strings.TrimPrefix(r.URL.EscapedPath(), "/_lamb/urls/"+id)
	if escaped == "" {
		escaped = "/"
	}
	s.serveURL(w, r, strings.ToLower(id), "", escaped)
}

// urlError answers as a function URL does: JSON {"Message": ...}.
func urlError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", http.StatusText(status))
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"Message": msg})
}

// maxURLRequestBytes is AWS's limit on a function URL request (the event's 6 MB).
const maxURLRequestBytes = maxSyncPayload

func (s *Server) serveURL(w http.ResponseWriter, r *http.Request, id, region, rawPath string) {
	ctx := r.Context()
	u, found, err := s.lookupURL(ctx, id)
	if err != nil {
		s.log.ErrorContext(ctx, "function url", "id", id, "error", err)
		urlError(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	if !found || (region != "" && region != u.Region) {
		urlError(w, http.StatusNotFound, "No function URL "+id)
		return
	}
	if s.cfg.Engine == nil {
		urlError(w, http.StatusInternalServerError, "lamb: this server runs no engine")
		return
	}
	if u.Cors != nil && r.Method == http.MethodOptions && r.Header.Get("Origin") != "" && r.Header.Get("Access-Control-Request-Method") != "" {
		preflight(w, r, u.Cors)
		return
	}
	if u.AuthType == "NONE" && !s.cfg.URLsWithoutPolicy {
		gaps, err := s.urlPublicGaps(ctx, u)
		if err != nil {
			s.log.ErrorContext(ctx, "function url policy", "id", id, "error", err)
			urlError(w, http.StatusInternalServerError, "Internal Server Error")
			return
		}
		if len(gaps) > 0 {
			// AWS's answer to a NONE URL its policy does not make public.
			s.log.DebugContext(ctx, "function url not public", "id", id, "why", strings.Join(gaps, "; "))
			urlError(w, http.StatusForbidden, "Forbidden")
			return
		}
	}
	if u.AuthType == "AWS_IAM" {
		// A request must be signed (verified when lamb has --credentials, as
		// the API's), and by a caller the function's policy lets in.
		if !sigV4Signed(r) {
			urlError(w, http.StatusForbidden, "Forbidden")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxURLRequestBytes)
		if err := s.authenticate(r); err != nil {
			if ae := (*awsError)(nil); errors.As(err, &ae) && ae.Code == "RequestEntityTooLargeException" {
				urlError(w, http.StatusRequestEntityTooLarge, "Request must be smaller than 6291456 bytes for the InvokeFunction operation")
				return
			}
			urlError(w, http.StatusForbidden, "Forbidden")
			return
		}
		ok, err := s.urlCallerAllowed(r, u)
		if err != nil {
			s.log.ErrorContext(ctx, "function url policy", "id", id, "error", err)
			urlError(w, http.StatusInternalServerError, "Internal Server Error")
			return
		}
		if !ok {
			urlError(w, http.StatusForbidden, "Forbidden")
			return
		}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxURLRequestBytes+1))
	if err != nil {
		urlError(w, http.StatusBadRequest, "Could not read request body")
		return
	}
	if len(body) > maxURLRequestBytes {
		urlError(w, http.StatusRequestEntityTooLarge, "Request must be smaller than 6291456 bytes for the InvokeFunction operation")
		return
	}
	fn, err := s.loadQualified(ctx, u.scope(), functionRef{Name: u.Function, Qualifier: u.Qualifier}, pickWeighted)
	if err != nil {
		var ae *awsError
		if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
			urlError(w, http.StatusNotFound, "No function URL "+id)
			return
		}
		s.log.ErrorContext(ctx, "function url", "id", id, "error", err)
		urlError(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	info := fn.info()
	efn, err := s.engineFunction(info)
	if err != nil {
		urlError(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	requestID := newRequestID()
	event := buildURLEvent(r, u, rawPath, body, requestID, time.Now())
	payload, err := json.Marshal(event)
	if err != nil {
		urlError(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	invoked := info.FunctionArn
	if u.Qualifier != "" {
		invoked += ":" + u.Qualifier
	}
	req := &engine.Request{RequestID: requestID, Payload: payload, InvokedARN: invoked, TraceID: traceID()}
	w.Header().Set("X-Amzn-RequestId", requestID)
	if u.Cors != nil {
		corsHeaders(w.Header(), r, u.Cors)
	}
	if u.invokeMode() == "RESPONSE_STREAM" {
		s.serveURLStream(w, r, efn, req)
		return
	}
	res, err := s.cfg.Engine.Invoke(ctx, efn, req)
	if err != nil {
		s.urlInvokeError(w, r, err)
		return
	}
	if res.FunctionError != "" {
		s.log.DebugContext(ctx, "function url: function error", "request", requestID, "error", string(res.Payload))
		urlError(w, http.StatusBadGateway, "Internal Server Error")
		return
	}
	writeURLResult(w, res.Payload)
}

func (s *Server) urlInvokeError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, engine.ErrThrottled):
		urlError(w, http.StatusTooManyRequests, "Rate Exceeded.")
	case r.Context().Err() != nil:
		// The client went away; nobody reads an answer.
	default:
		s.log.ErrorContext(r.Context(), "function url invoke", "error", err)
		urlError(w, http.StatusInternalServerError, "Internal Server Error")
	}
}

// urlCallerAllowed reports whether the signer of an AWS_IAM request may call
// the URL. Callers of the function's own account may (lamb has no identity
// policies that could deny them); others need a statement of the resource
// policy of the URL's function or alias (policy.go) that allows
// lambda:InvokeFunctionUrl (or lambda:*) to them, with a
// lambda:FunctionUrlAuthType condition, if any, of AWS_IAM.
func (s *Server) urlCallerAllowed(r *http.Request, u *urlRecord) (bool, error) {
	caller := s.requestScope(r).Account
	if caller == u.Account {
		return true, nil
	}
	var doc policyDoc
	err := s.store.View(r.Context(), func(tx store.Tx) error {
		return tx.Get(bucketPolicies, qualifierKey(u.scope(), u.Function, u.Qualifier), &doc)
	})
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	for _, raw := range doc.Statements {
		if statementAllowsURL(raw, caller) {
			return true, nil
		}
	}
	return false, nil
}

// statementAllowsURL reports whether one policy statement lets caller (an
// account id) invoke a function URL with AWS_IAM auth.
func statementAllowsURL(raw json.RawMessage, caller string) bool {
	var st struct {
		Effect    string
		Action    json.RawMessage
		Principal json.RawMessage
		Condition map[string]map[string]json.RawMessage
	}
	if json.Unmarshal(raw, &st) != nil || st.Effect != "Allow" {
		return false
	}
	if !anyOf(st.Action, func(a string) bool { return a == "lambda:InvokeFunctionUrl" || a == "lambda:*" || a == "*" }) {
		return false
	}
	var principal struct{ AWS json.RawMessage }
	switch {
	case string(st.Principal) == `"*"`:
	case json.Unmarshal(st.Principal, &principal) == nil && principal.AWS != nil:
		if !anyOf(principal.AWS, func(p string) bool {
			return p == "*" || p == caller || strings.HasPrefix(p, "arn:aws:iam::"+caller+":")
		}) {
			return false
		}
	default:
		return false // service principals do not sign URL requests
	}
	for _, cond := range st.Condition {
		if v, ok := cond["lambda:FunctionUrlAuthType"]; ok && !anyOf(v, func(t string) bool { return t == "AWS_IAM" }) {
			return false
		}
	}
	return true
}

// anyOf reports whether a JSON string, or any string of a JSON list, matches.
func anyOf(raw json.RawMessage, match func(string) bool) bool {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return match(one)
	}
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		for _, v := range list {
			if match(v) {
				return true
			}
		}
	}
	return false
}

// sigV4Signed reports whether r carries a SigV4 signature (header or presigned query).
func sigV4Signed(r *http.Request) bool {
	auth := r.Header.Get("Authorization")
	if strings.HasPrefix(auth, "AWS4-HMAC-SHA256 ") && strings.Contains(auth, "Credential=") && strings.Contains(auth, "Signature=") {
		return true
	}
	q := r.URL.Query()
	return q.Get("X-Amz-Algorithm") == "AWS4-HMAC-SHA256" && q.Get("X-Amz-Credential") != "" && q.Get("X-Amz-Signature") != ""
}

// urlEvent is payload format 2.0 as AWS builds it for function URLs.
type urlEvent struct {
	Version               string            `json:"version"`
	RouteKey              string            `json:"routeKey"`
	RawPath               string            `json:"rawPath"`
	RawQueryString        string            `json:"rawQueryString"`
	Cookies               []string          `json:"cookies,omitempty"`
	Headers               map[string]string `json:"headers"`
	QueryStringParameters map[string]string `json:"queryStringParameters,omitempty"`
	RequestContext        urlRequestContext `json:"requestContext"`
	Body                  *string           `json:"body,omitempty"`
	IsBase64Encoded       bool              `json:"isBase64Encoded"`
}

type urlRequestContext struct {
	AccountID    string         `json:"accountId"`
	APIID        string         `json:"apiId"`
	Authorizer   *urlAuthorizer `json:"authorizer,omitempty"`
	DomainName   string         `json:"domainName"`
	DomainPrefix string         `json:"domainPrefix"`
	HTTP         urlHTTP        `json:"http"`
	RequestID    string         `json:"requestId"`
	RouteKey     string         `json:"routeKey"`
	Stage        string         `json:"stage"`
	Time         string         `json:"time"`
	TimeEpoch    int64          `json:"timeEpoch"`
}

type urlHTTP struct {
	Method    string `json:"method"`
	Path      string `json:"path"`
	Protocol  string `json:"protocol"`
	SourceIP  string `json:"sourceIp"`
	UserAgent string `json:"userAgent"`
}

type urlAuthorizer struct {
	IAM *urlIAM `json:"iam,omitempty"`
}

type urlIAM struct {
	AccessKey       string  `json:"accessKey"`
	AccountID       string  `json:"accountId"`
	CallerID        string  `json:"callerId"`
	CognitoIdentity *string `json:"cognitoIdentity"`
	PrincipalOrgID  *string `json:"principalOrgId"`
	UserArn         string  `json:"userArn"`
	UserID          string  `json:"userId"`
}

// buildURLEvent turns r into the function's event.
func buildURLEvent(r *http.Request, u *urlRecord, rawPath string, body []byte, requestID string, now time.Time) *urlEvent {
	domain := u.URLID + ".lambda-url." + u.Region + "." + urlHostSuffix
	sourceIP := r.RemoteAddr
	if h, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		sourceIP = h
	}
	ev := &urlEvent{
		Version: "2.0", RouteKey: "$default", RawPath: rawPath, RawQueryString: r.URL.RawQuery,
		Headers: map[string]string{},
		RequestContext: urlRequestContext{
			AccountID: u.Account, APIID: u.URLID, DomainName: domain, DomainPrefix: u.URLID,
			HTTP: urlHTTP{
				Method: r.Method, Path: rawPath, Protocol: r.Proto, SourceIP: sourceIP, UserAgent: r.UserAgent(),
			},
			RequestID: requestID, RouteKey: "$default", Stage: "$default",
			Time:      now.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch: now.UnixMilli(),
		},
	}
	// Header names are lower-cased and repeated values joined with commas;
	// cookies move to their own list, as AWS does.
	for name, values := range r.Header {
		lname := strings.ToLower(name)
		if lname == "cookie" {
			for _, v := range values {
				for _, c := range strings.Split(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						ev.Cookies = append(ev.Cookies, c)
					}
				}
			}
			continue
		}
		ev.Headers[lname] = strings.Join(values, ",")
	}
	ev.Headers["host"] = r.Host
	if r.ContentLength > 0 {
		ev.Headers["content-length"] = strconv.FormatInt(r.ContentLength, 10)
	}
	ev.Headers["x-forwarded-for"] = sourceIP
	ev.Headers["x-forwarded-proto"] = "http"
	if _, port, err := net.SplitHostPort(r.Host); err == nil {
		ev.Headers["x-forwarded-port"] = port
	}
	if q, err := url.ParseQuery(r.URL.RawQuery); err == nil && len(q) > 0 {
		ev.QueryStringParameters = make(map[string]string, len(q))
		for k, vs := range q {
			ev.QueryStringParameters[k] = strings.Join(vs, ",")
		}
	}
	if u.AuthType == "AWS_IAM" {
		ev.RequestContext.Authorizer = iamAuthorizer(r, u.Account)
	}
	if len(body) > 0 {
		var b string
		if isTextContent(r.Header.Get("Content-Type"), body) {
			b = string(body)
		} else {
			b = base64.StdEncoding.EncodeToString(body)
			ev.IsBase64Encoded = true
		}
		ev.Body = &b
	}
	return ev
}

// iamAuthorizer describes the signer of an AWS_IAM request from its
// credential scope (lamb does not know IAM users, so ids are derived).
func iamAuthorizer(r *http.Request, account string) *urlAuthorizer {
	cred := ""
	if auth := r.Header.Get("Authorization"); auth != "" {
		if i := strings.Index(auth, "Credential="); i >= 0 {
			cred = auth[i+len("Credential="):]
		}
	} else {
		cred = r.URL.Query().Get("X-Amz-Credential")
	}
	key, _, _ := strings.Cut(cred, "/")
	caller := account
	if accountIDPattern.MatchString(key) {
		caller = key
	}
	return &urlAuthorizer{IAM: &urlIAM{
		AccessKey: key, AccountID: caller, CallerID: "AIDA" + strings.ToUpper(key),
		UserArn: "arn:aws:iam::" + caller + ":user/lamb", UserID: "AIDA" + strings.ToUpper(key),
	}}
}

// isTextContent reports whether a request body is passed as text (AWS
// base64-encodes everything else).
func isTextContent(contentType string, body []byte) bool {
	if contentType == "" {
		return utf8.Valid(body)
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	switch {
	case strings.HasPrefix(mt, "text/"),
		mt == "application/json", strings.HasSuffix(mt, "+json"),
		mt == "application/xml", strings.HasSuffix(mt, "+xml"),
		mt == "application/javascript",
		mt == "application/graphql", mt == "application/yaml":
		return utf8.Valid(body)
	}
	return false
}

// urlResult is a structured function result (payload format 2.0).
type urlResult struct {
	StatusCode      *int              `json:"statusCode"`
	Headers         map[string]string `json:"headers"`
	Cookies         []string          `json:"cookies"`
	Body            *string           `json:"body"`
	IsBase64Encoded bool              `json:"isBase64Encoded"`
}

// writeURLResult maps a buffered function result to the HTTP answer as AWS
// does: an object with statusCode is a structured response; anything else is
// the body of a 200 application/json answer (a JSON string without its quotes).
func writeURLResult(w http.ResponseWriter, payload []byte) {
	var res urlResult
	trimmed := bytes.TrimSpace(payload)
	if len(trimmed) == 0 || trimmed[0] != '{' || json.Unmarshal(trimmed, &res) != nil || res.StatusCode == nil {
		// A JSON string is the body itself; any other value is its JSON text.
		var str string
		if len(trimmed) > 0 && trimmed[0] == '"' && json.Unmarshal(trimmed, &str) == nil {
			payload = []byte(str)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(payload)
		return
	}
	var body []byte
	if res.Body != nil {
		body = []byte(*res.Body)
		if res.IsBase64Encoded {
			dec, err := base64.StdEncoding.DecodeString(*res.Body)
			if err != nil {
				urlError(w, http.StatusBadGateway, "Internal Server Error")
				return
			}
			body = dec
		}
	}
	h := w.Header()
	setResultHeaders(h, res.Headers, res.Cookies)
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/json")
	}
	status := *res.StatusCode
	if status < 100 || status > 599 {
		urlError(w, http.StatusBadGateway, "Internal Server Error")
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// setResultHeaders applies a function's headers and cookies. CORS headers
// set by lamb from the URL config win over the function's, as on AWS.
func setResultHeaders(h http.Header, headers map[string]string, cookies []string) {
	keys := make([]string, 0, len(headers))
	for k := range headers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if strings.HasPrefix(strings.ToLower(k), "access-control-") && h.Get(k) != "" {
			continue
		}
		h.Set(k, headers[k])
	}
	for _, c := range cookies {
		h.Add("Set-Cookie", c)
	}
}

// preludeContentType marks a stream that starts with HttpResponseStream.from's
// JSON prelude and eight NUL bytes.
const preludeContentType = "application/vnd.awslambda.http-integration-response"

// maxPrelude bounds the prelude lamb buffers before the body starts.
const maxPrelude = 64 << 10

// serveURLStream serves a RESPONSE_STREAM URL: status and headers from the
// prelude (if any), then the body flushed chunk by chunk.
func (s *Server) serveURLStream(w http.ResponseWriter, r *http.Request, fn *engine.Function, req *engine.Request) {
	st, err := s.openStream(r.Context(), fn, req)
	if err != nil {
		s.urlInvokeError(w, r, err)
		return
	}
	defer st.Close()
	rc := http.NewResponseController(w)
	buf := make([]byte, 32<<10)
	var head []byte // what arrived before the response started
	status, started := http.StatusOK, false
	h := w.Header()
	prelude := st.contentType() == preludeContentType
	start := func(body []byte) bool {
		started = true
		if h.Get("Content-Type") == "" {
			h.Set("Content-Type", "application/octet-stream")
		}
		w.WriteHeader(status)
		if len(body) > 0 {
			if _, err := w.Write(body); err != nil {
				return false
			}
		}
		return rc.Flush() == nil
	}
	for {
		n, rerr := st.Read(buf)
		if n > 0 {
			if started {
				if _, err := w.Write(buf[:n]); err != nil || rc.Flush() != nil {
					return // the client left; Close aborts the invocation
				}
			} else {
				head = append(head, buf[:n]...)
				if !prelude {
					if !start(head) {
						return
					}
				} else if i := bytes.Index(head, make([]byte, 8)); i >= 0 {
					status = applyPrelude(h, head[:i])
					if !start(head[i+8:]) {
						return
					}
				} else if len(head) > maxPrelude {
					s.log.WarnContext(r.Context(), "function url: stream prelude too large", "request", req.RequestID)
					urlError(w, http.StatusBadGateway, "Internal Server Error")
					return
				}
			}
		}
		if errors.Is(rerr, io.EOF) {
			break
		}
		if rerr != nil {
			if !started {
				s.urlInvokeError(w, r, rerr)
			}
			return
		}
	}
	res := st.Result()
	if started {
		return // an error after the answer began just ends the body, as on AWS
	}
	if res != nil && res.FunctionError != "" {
		urlError(w, http.StatusBadGateway, "Internal Server Error")
		return
	}
	if prelude && len(head) > 0 {
		// A prelude without its delimiter: the whole stream is the prelude.
		status = applyPrelude(h, head)
		head = nil
	}
	start(head)
}

// applyPrelude sets the headers of HttpResponseStream.from's prelude and
// returns its status (200 when absent).
func applyPrelude(h http.Header, prelude []byte) int {
	var p struct {
		StatusCode int               `json:"statusCode"`
		Headers    map[string]string `json:"headers"`
		Cookies    []string          `json:"cookies"`
	}
	if err := json.Unmarshal(prelude, &p); err != nil {
		return http.StatusOK
	}
	setResultHeaders(h, p.Headers, p.Cookies)
	if p.StatusCode < 100 || p.StatusCode > 599 {
		return http.StatusOK
	}
	return p.StatusCode
}

// preflight answers a CORS preflight from the URL config (the function is not called).
func preflight(w http.ResponseWriter, r *http.Request, c *urlCors) {
	h := w.Header()
	origin := r.Header.Get("Origin")
	method := r.Header.Get("Access-Control-Request-Method")
	if allowOrigin := matchOrigin(c, origin); allowOrigin != "" && listAllows(c.AllowMethods, method) {
		h.Set("Access-Control-Allow-Origin", allowOrigin)
		h.Set("Access-Control-Allow-Methods", strings.Join(c.AllowMethods, ","))
		if len(c.AllowHeaders) > 0 {
			allowed := strings.Join(c.AllowHeaders, ",")
			if listAllows(c.AllowHeaders, "*") {
				allowed = r.Header.Get("Access-Control-Request-Headers")
			}
			if allowed != "" {
				h.Set("Access-Control-Allow-Headers", allowed)
			}
		}
		if c.MaxAge != nil {
			h.Set("Access-Control-Max-Age", strconv.Itoa(int(*c.MaxAge)))
		}
		if c.AllowCredentials != nil && *c.AllowCredentials {
			h.Set("Access-Control-Allow-Credentials", "true")
		}
		h.Add("Vary", "Origin")
	}
	w.WriteHeader(http.StatusOK)
}

// corsHeaders adds the CORS headers of an actual (non-preflight) request.
func corsHeaders(h http.Header, r *http.Request, c *urlCors) {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return
	}
	allowOrigin := matchOrigin(c, origin)
	if allowOrigin == "" {
		return
	}
	h.Set("Access-Control-Allow-Origin", allowOrigin)
	if len(c.ExposeHeaders) > 0 {
		h.Set("Access-Control-Expose-Headers", strings.Join(c.ExposeHeaders, ","))
	}
	if c.AllowCredentials != nil && *c.AllowCredentials {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	h.Add("Vary", "Origin")
}

// matchOrigin returns the Access-Control-Allow-Origin value for origin, or "".
func matchOrigin(c *urlCors, origin string) string {
	for _, o := range c.AllowOrigins {
		switch {
		case o == "*":
			if c.AllowCredentials != nil && *c.AllowCredentials {
				return origin // browsers refuse "*" with credentials
			}
			return "*"
		case strings.EqualFold(o, origin):
			return origin
		}
	}
	return ""
}

func listAllows(list []string, v string) bool {
	for _, x := range list {
		if x == "*" || strings.EqualFold(x, v) {
			return true
		}
	}
	return false
}

// urlListEntry is one row of GET /_lamb/urls.
type urlListEntry struct {
	URLID       string `json:"urlId"`
	FunctionArn string `json:"functionArn"`
	AuthType    string `json:"authType"`
	InvokeMode  string `json:"invokeMode"`
	// NotPublic says why a NONE URL answers 403 to everyone: what its
	// resource policy lacks (empty: nothing, or an AWS_IAM URL).
	// PolicyCheckOff is set when the server serves such URLs anyway.
	NotPublic      []string `json:"notPublic,omitempty"`
	PolicyCheckOff bool     `json:"policyCheckOff,omitempty"`
	// FunctionURL is addressed by host name; PathURL reaches the same
	// function through lamb's own host, for clients that cannot set one.
	FunctionURL string `json:"functionUrl"`
	PathURL     string `json:"pathUrl"`
}

// serveURLList serves GET /_lamb/urls: every function URL of every account.
func (s *Server) serveURLList(w http.ResponseWriter, r *http.Request) {
	all, err := s.allURLs(r.Context())
	if err != nil {
		s.log.ErrorContext(r.Context(), "list function urls", "error", err)
		writeError(w, err)
		return
	}
	port := requestPort(r)
	out := make([]urlListEntry, 0, len(all))
	for _, u := range all {
		gaps, err := s.urlPublicGaps(r.Context(), u)
		if err != nil {
			s.log.ErrorContext(r.Context(), "list function urls", "error", err)
			writeError(w, err)
			return
		}
		out = append(out, urlListEntry{
			URLID: u.URLID, FunctionArn: u.functionArn(), AuthType: u.AuthType, InvokeMode: u.invokeMode(),
			NotPublic: gaps, PolicyCheckOff: len(gaps) > 0 && s.cfg.URLsWithoutPolicy,
			FunctionURL: functionURL(u.URLID, u.Region, port),
			PathURL:     "http://" + r.Host + "/_lamb/urls/" + u.URLID + "/",
		})
	}
	writeJSON(w, http.StatusOK, out)
}
