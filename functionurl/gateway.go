// Package functionurl is the gateway of function URLs: it turns an HTTP
// request into AWS's payload format 2.0 event, answers CORS preflights from
// the URL's config, invokes the function through its Host and maps the
// answer back as AWS does (BUFFERED: one result, structured or not;
// RESPONSE_STREAM: the body streamed as the function writes it, after the
// HttpResponseStream prelude if it sends one).
//
// It knows nothing of where URL configs are stored or how callers are
// authorised: the Lambda API implements Host for that. A Gateway is safe for
// concurrent use.
package functionurl

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lambhq/lamb/engine"
)

// MaxRequestBytes is AWS's limit on a function URL request (the event's 6 MB).
const MaxRequestBytes = 6 << 20

// HostSuffix is what follows "<url-id>.lambda-url.<region>." in lamb's URL host names.
const HostSuffix = "localhost"

// Config is what the gateway needs of one function URL's config.
type Config struct {
	URLID   string
	Account string
	Region  string
	// Function is the name of the function the URL invokes, Qualifier its
	// alias ("" for the function itself).
	Function, Qualifier string
	// AuthType is NONE or AWS_IAM.
	AuthType string
	// InvokeMode is BUFFERED or RESPONSE_STREAM.
	InvokeMode string
	Cors       *CORS
}

// CORS is the model's Cors shape (also how the API stores it).
type CORS struct {
	AllowCredentials *bool    `json:"AllowCredentials,omitempty"`
	AllowHeaders     []string `json:"AllowHeaders,omitempty"`
	AllowMethods     []string `json:"AllowMethods,omitempty"`
	AllowOrigins     []string `json:"AllowOrigins,omitempty"`
	ExposeHeaders    []string `json:"ExposeHeaders,omitempty"`
	MaxAge           *int32   `json:"MaxAge,omitempty"`
}

// Error is an answer a Host gives instead of going on: the gateway writes
// it as a function URL does, {"Message": ...} with its status.
type Error struct {
	Status  int
	Message string
}

func (e *Error) Error() string { return strconv.Itoa(e.Status) + " " + e.Message }

// ErrNotFound is returned by a Host for a URL, or the function behind it,
// that does not exist (404 "No function URL <id>").
var ErrNotFound = errors.New("functionurl: not found")

// Stream is an invocation's response read as the function writes it. Read
// returns io.EOF at the end, also when the function failed; Result is valid
// after that. Close before the end aborts the invocation.
type Stream interface {
	io.ReadCloser
	Result() *engine.Result
	MediaType() string
}

// Host is what the gateway needs of the server behind it. An error that is
// an *Error is answered as it says, ErrNotFound as a 404; any other is
// logged and answered 500.
type Host interface {
	// Lookup returns the config of the URL id, reached in region ("" when
	// addressed by path, which names no region).
	Lookup(ctx context.Context, id, region string) (*Config, error)
	// Authorize lets r call u, or refuses it. It may wrap r.Body.
	Authorize(w http.ResponseWriter, r *http.Request, u *Config) error
	// Target resolves the function u invokes and starts its request (id,
	// invoked ARN, trace); the gateway adds the payload.
	Target(ctx context.Context, u *Config) (*engine.Function, *engine.Request, error)
	// Invoke runs a buffered invocation.
	Invoke(ctx context.Context, fn *engine.Function, req *engine.Request) (*engine.Result, error)
	// InvokeStream runs an invocation whose response is streamed.
	InvokeStream(ctx context.Context, fn *engine.Function, req *engine.Request) (Stream, error)
}

// Gateway serves function URLs for a Host.
type Gateway struct {
	Host Host
	Log  *slog.Logger
}

// HostID returns the url-id and region a function URL host name carries
// ("<url-id>.lambda-url.<region>.<anything>").
func HostID(host string) (id, region string, ok bool) {
	labels := strings.SplitN(strings.ToLower(trimHostPort(host)), ".", 4)
	if len(labels) < 4 || labels[1] != "lambda-url" || labels[2] == "" || labels[3] == "" {
		return "", "", false
	}
	return labels[0], labels[2], true
}

// trimHostPort strips a port from a Host header value.
func trimHostPort(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return strings.TrimSuffix(host, ".")
}

// ServeByHost serves r if its host names a function URL; false otherwise.
func (g *Gateway) ServeByHost(w http.ResponseWriter, r *http.Request) bool {
	id, region, ok := HostID(r.Host)
	if !ok {
		return false
	}
	g.serve(w, r, id, region, r.URL.EscapedPath())
	return true
}

// ServeByPath serves the path form /<prefix><url-id>/<path> of a function
// URL, for clients that cannot set a Host; rest is what follows prefix.
func (g *Gateway) ServeByPath(w http.ResponseWriter, r *http.Request, prefix, rest string) {
	id, _, _ := strings.Cut(rest, "/")
	escaped := strings.TrimPrefix(r.URL.EscapedPath(), prefix+id)
	if escaped == "" {
		escaped = "/"
	}
	g.serve(w, r, strings.ToLower(id), "", escaped)
}

// WriteError answers as a function URL does: JSON {"Message": ...}.
func WriteError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", http.StatusText(status))
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"Message": msg})
}

// hostError answers a Host's error: its own *Error, a 404 for ErrNotFound,
// else (logged) a 500.
func (g *Gateway) hostError(w http.ResponseWriter, r *http.Request, id, what string, err error) {
	var e *Error
	switch {
	case errors.As(err, &e):
		WriteError(w, e.Status, e.Message)
	case errors.Is(err, ErrNotFound):
		WriteError(w, http.StatusNotFound, "No function URL "+id)
	default:
		g.Log.ErrorContext(r.Context(), what, "id", id, "error", err)
		WriteError(w, http.StatusInternalServerError, "Internal Server Error")
	}
}

func (g *Gateway) serve(w http.ResponseWriter, r *http.Request, id, region, rawPath string) {
	ctx := r.Context()
	u, err := g.Host.Lookup(ctx, id, region)
	if err != nil {
		g.hostError(w, r, id, "function url", err)
		return
	}
	if u.Cors != nil && r.Method == http.MethodOptions && r.Header.Get("Origin") != "" && r.Header.Get("Access-Control-Request-Method") != "" {
		preflight(w, r, u.Cors)
		return
	}
	if err := g.Host.Authorize(w, r, u); err != nil {
		g.hostError(w, r, id, "function url policy", err)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxRequestBytes+1))
	if err != nil {
		WriteError(w, http.StatusBadRequest, "Could not read request body")
		return
	}
	if len(body) > MaxRequestBytes {
		WriteError(w, http.StatusRequestEntityTooLarge, "Request must be smaller than 6291456 bytes for the InvokeFunction operation")
		return
	}
	fn, req, err := g.Host.Target(ctx, u)
	if err != nil {
		g.hostError(w, r, id, "function url", err)
		return
	}
	event := buildEvent(r, u, rawPath, body, req.RequestID, time.Now())
	req.Payload, err = json.Marshal(event)
	if err != nil {
		WriteError(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	w.Header().Set("X-Amzn-RequestId", req.RequestID)
	if u.Cors != nil {
		corsHeaders(w.Header(), r, u.Cors)
	}
	if u.InvokeMode == "RESPONSE_STREAM" {
		g.serveStream(w, r, fn, req)
		return
	}
	res, err := g.Host.Invoke(ctx, fn, req)
	if err != nil {
		g.invokeError(w, r, err)
		return
	}
	if res.FunctionError != "" {
		g.Log.DebugContext(ctx, "function url: function error", "request", req.RequestID, "error", string(res.Payload))
		WriteError(w, http.StatusBadGateway, "Internal Server Error")
		return
	}
	writeResult(w, res.Payload)
}

func (g *Gateway) invokeError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, engine.ErrThrottled):
		WriteError(w, http.StatusTooManyRequests, "Rate Exceeded.")
	case r.Context().Err() != nil:
		// The client went away; nobody reads an answer.
	default:
		g.Log.ErrorContext(r.Context(), "function url invoke", "error", err)
		WriteError(w, http.StatusInternalServerError, "Internal Server Error")
	}
}

// SigV4Signed reports whether r carries a SigV4 signature (header or presigned query).
func SigV4Signed(r *http.Request) bool {
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

// buildEvent turns r into the function's event.
func buildEvent(r *http.Request, u *Config, rawPath string, body []byte, requestID string, now time.Time) *urlEvent {
	domain := u.URLID + ".lambda-url." + u.Region + "." + HostSuffix
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

// accountID is an AWS account id: an access key of that form names its account.
var accountID = regexp.MustCompile(`^\d{12}$`)

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
	if accountID.MatchString(key) {
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
func writeResult(w http.ResponseWriter, payload []byte) {
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
				WriteError(w, http.StatusBadGateway, "Internal Server Error")
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
		WriteError(w, http.StatusBadGateway, "Internal Server Error")
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
func (g *Gateway) serveStream(w http.ResponseWriter, r *http.Request, fn *engine.Function, req *engine.Request) {
	st, err := g.Host.InvokeStream(r.Context(), fn, req)
	if err != nil {
		g.invokeError(w, r, err)
		return
	}
	defer st.Close()
	rc := http.NewResponseController(w)
	buf := make([]byte, 32<<10)
	var head []byte // what arrived before the response started
	status, started := http.StatusOK, false
	h := w.Header()
	prelude := st.MediaType() == preludeContentType
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
					g.Log.WarnContext(r.Context(), "function url: stream prelude too large", "request", req.RequestID)
					WriteError(w, http.StatusBadGateway, "Internal Server Error")
					return
				}
			}
		}
		if errors.Is(rerr, io.EOF) {
			break
		}
		if rerr != nil {
			if !started {
				g.invokeError(w, r, rerr)
			}
			return
		}
	}
	res := st.Result()
	if started {
		return // an error after the answer began just ends the body, as on AWS
	}
	if res != nil && res.FunctionError != "" {
		WriteError(w, http.StatusBadGateway, "Internal Server Error")
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
func preflight(w http.ResponseWriter, r *http.Request, c *CORS) {
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
func corsHeaders(h http.Header, r *http.Request, c *CORS) {
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
func matchOrigin(c *CORS, origin string) string {
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
