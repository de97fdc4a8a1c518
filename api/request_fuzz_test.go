package api

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lambhq/lamb/engine"
	"github.com/lambhq/lamb/engine/backend"
	"github.com/lambhq/lamb/internal/testwait"
	"github.com/lambhq/lamb/store"
)

// fuzzOps are the operations FuzzRequest sends: those whose input is a
// restJson1 body, labels and a query that lamb decodes and validates, and
// none that delete anything (so the fixture function outlives every request).
var fuzzOps = []string{
	"CreateFunction", "UpdateFunctionConfiguration", "UpdateFunctionCode",
	"Invoke", "InvokeWithResponseStream", "InvokeAsync",
	"PublishVersion", "CreateAlias", "PutFunctionConcurrency",
	"AddPermission", "PutFunctionEventInvokeConfig", "CreateFunctionUrlConfig",
	"TagResource", "CreateEventSourceMapping",
	"PublishLayerVersion", "GetLayerVersionByArn",
	"GetFunction", "ListFunctions",
}

var uriLabel = regexp.MustCompile(`\{[A-Za-z]+\+?\}`)

// FuzzRequest sends one request built of fuzzed parts (operation, the
// value of every URI label, the query, the invocation headers and the body)
// to a fresh Server holding one Active function, fixture. Whatever the parts:
// the handler does not panic; it answers a success or an AWS-shaped client
// error (a 4xx with X-Amzn-ErrorType naming a known type and a JSON object
// body), never a 5xx; and the Server then still serves GetFunction of the
// fixture.
func FuzzRequest(f *testing.F) {
	const role = `"Role":"arn:aws:iam::111111111111:role/r"`
	seeds := []struct {
		op                string
		label, query, hdr string
		body              string
	}{
		{"CreateFunction", "", "", "", `{"FunctionName":"f2","Runtime":"python3.12",` + role + `,"Handler":"h.h","Code":{"ZipFile":"UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA=="}}`},
		{"CreateFunction", "", "", "", `{"FunctionName":"f2","PackageType":"Image","Code":{"ImageUri":"x"},` + role + `}`},
		{"CreateFunction", "", "", "", `{"FunctionName":"f2","Runtime":"python3.12",` + role + `,"Handler":"h.h","Code":{"ZipFile":"not base64"},"Layers":["arn:aws:lambda:us-east-1:111111111111:layer:l:1"]}`},
		{"CreateFunction", "", "", "", `{"FunctionName":null,"MemorySize":"128","Timeout":1e99,"Environment":{"Variables":{"A":1}}}`},
		{"CreateFunction", "", "", "", `{"FunctionName":"f2","Code":{"S3Bucket":"b","S3Key":"k"}}`},
		{"CreateFunction", "", "", "", `[`},
		{"UpdateFunctionConfiguration", "fixture", "", "", `{"MemorySize":10241,"Timeout":0,"EphemeralStorage":{"Size":100}}`},
		{"UpdateFunctionConfiguration", "fixture", "", "", `{"Environment":{"Variables":{"AWS_REGION":"x","":""}},"Layers":[""],"LoggingConfig":{"LogFormat":"Text","ApplicationLogLevel":"DEBUG"}}`},
		{"UpdateFunctionConfiguration", "fixture", "", "", `{"Description":"` + strings.Repeat("d", 300) + `","RevisionId":"nope","DeadLetterConfig":{"TargetArn":"arn:aws:sqs:us-east-1:111111111111:q"}}`},
		{"UpdateFunctionConfiguration", "arn:aws:lambda:us-east-1:111111111111:function:fixture", "", "", `{"Handler":"` + "\x00" + `"}`},
		{"UpdateFunctionCode", "fixture", "", "", `{"ZipFile":"UEsDBA==","Publish":true,"Architectures":["arm64","x86_64"]}`},
		{"Invoke", "fixture", "Qualifier=$LATEST", "RequestResponse\nTail\neyJjdXN0b20iOnt9fQ==", `{"key":"value"}`},
		{"Invoke", "fixture:1", "Qualifier=2", "Event", `{}`},
		{"Invoke", "fixture", "", "DryRun", `not json`},
		{"Invoke", "fixture", "", "Bogus\nBogus\n%%%", ``},
		{"Invoke", "nope", "Qualifier=%zz", "", `1`},
		{"InvokeWithResponseStream", "fixture", "", "RequestResponse\nTail", `"streamed"`},
		{"InvokeAsync", "fixture", "", "", `{"async":true}`},
		{"PublishVersion", "fixture", "", "", `{"CodeSha256":"x","RevisionId":""}`},
		{"CreateAlias", "fixture", "", "", `{"Name":"live","FunctionVersion":"$LATEST","RoutingConfig":{"AdditionalVersionWeights":{"1":0.5}}}`},
		{"PutFunctionConcurrency", "fixture", "", "", `{"ReservedConcurrentExecutions":-1}`},
		{"AddPermission", "fixture", "Qualifier=live", "", `{"StatementId":"s","Action":"lambda:InvokeFunction","Principal":"*","FunctionUrlAuthType":"NONE"}`},
		{"PutFunctionEventInvokeConfig", "fixture", "", "", `{"MaximumRetryAttempts":3,"DestinationConfig":{"OnFailure":{"Destination":"arn:aws:lambda:us-east-1:111111111111:function:fixture"}}}`},
		{"CreateFunctionUrlConfig", "fixture", "Qualifier=123", "", `{"AuthType":"NONE","Cors":{"AllowOrigins":["*"],"MaxAge":-1}}`},
		{"TagResource", "arn:aws:lambda:us-east-1:111111111111:function:fixture", "", "", `{"Tags":{"k":"v","aws:x":"y"}}`},
		{"CreateEventSourceMapping", "", "", "", `{"FunctionName":"fixture","EventSourceArn":"arn:aws:sqs:us-east-1:111111111111:q","BatchSize":0}`},
		{"PublishLayerVersion", "layer", "", "", `{"Content":{"ZipFile":"UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA=="},"CompatibleRuntimes":["python3.12"]}`},
		{"PublishLayerVersion", "arn:aws:lambda:us-east-1:111111111111:layer:l", "", "", `{"Content":{}}`},
		{"GetLayerVersionByArn", "", "Arn=arn:aws:lambda:us-east-1:111111111111:layer:l:1", "", ``},
		{"GetFunction", "fixture", "Qualifier=$LATEST.PUBLISHED", "", ``},
		{"GetFunction", "a/b/../c", "", "", ``},
		{"ListFunctions", "", "MaxItems=0&Marker=%ff&FunctionVersion=ALL&MasterRegion=us-east-1", "", ``},
		{"ListFunctions", "", "MaxItems=99999999999999999999", "", ``},
	}
	for _, s := range seeds {
		i := 0
		for i < len(fuzzOps) && fuzzOps[i] != s.op {
			i++
		}
		if i == len(fuzzOps) {
			f.Fatalf("seed op %s is not in fuzzOps", s.op)
		}
		f.Add(uint8(i), s.label, s.query, s.hdr, []byte(s.body))
	}
	ops := map[string]*operation{}
	for i := range operations {
		ops[operations[i].Name] = &operations[i]
	}
	f.Fuzz(func(t *testing.T, op uint8, label, query, hdr string, body []byte) {
		o := ops[fuzzOps[int(op)%len(fuzzOps)]]
		path, literalQuery, _ := strings.Cut(o.URI, "?")
		path = uriLabel.ReplaceAllLiteralString(path, label)
		if literalQuery != "" {
			query = literalQuery + "&" + query
		}
		target := "http://lambda.us-east-1.amazonaws.com" + path
		if query != "" {
			target += "?" + query
		}
		req, err := http.NewRequest(o.Method, target, bytes.NewReader(body))
		if err != nil {
			return // no client can send it: net/http refuses the URL
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", sigv4(testAccount, "us-east-1")["Authorization"])
		for i, name := range []string{"X-Amz-Invocation-Type", "X-Amz-Log-Type", "X-Amz-Client-Context"} {
			if v := strings.Split(hdr, "\n"); i < len(v) && v[i] != "" {
				req.Header[name] = []string{v[i]}
			}
		}

		srv, panics := newFuzzServer(t)
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if p := panics(); len(p) > 0 {
			t.Fatalf("%s %s: the handler panicked: %s", o.Method, target, p)
		}
		checkAWSAnswer(t, o.Name, rec)

		get := httptest.NewRequest("GET", "/2015-03-31/functions/fixture", nil)
		get.Header.Set("Authorization", req.Header.Get("Authorization"))
		after := httptest.NewRecorder()
		srv.ServeHTTP(after, get)
		if after.Code != http.StatusOK {
			t.Fatalf("after %s %s: GetFunction fixture answers %d %s", o.Method, target, after.Code, after.Body)
		}
	})
}

// checkAWSAnswer fails unless rec is a success or an AWS-shaped client error.
func checkAWSAnswer(t *testing.T, op string, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Code < 400 {
		return
	}
	code := rec.Header().Get("X-Amzn-ErrorType")
	_, modelled := errorShapes[code]
	_, unmodelled := unmodelledErrors[code]
	if rec.Code >= 500 || !(modelled || unmodelled) {
		t.Fatalf("%s answered %d %q: %s", op, rec.Code, code, rec.Body)
	}
	var body map[string]any
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" || json.Unmarshal(rec.Body.Bytes(), &body) != nil {
		t.Fatalf("%s answered %d %s with a body that is not a JSON object (%s): %q", op, rec.Code, code, ct, rec.Body)
	}
}

// newFuzzServer returns a Server on a fresh in-memory store, with an engine
// that echoes payloads and a function named fixture, Active; panics returns
// the handler panics the Server recovered from (it logs each one).
func newFuzzServer(t *testing.T) (srv *Server, panics func() []string) {
	t.Helper()
	log := &panicLog{}
	// Every Host passes the browser guard (guard_test.go covers it): what is
	// fuzzed here is what the handlers make of a request.
	srv = New(Config{Store: store.NewMemory(), Engine: echoPayloadEngine{}, Logger: slog.New(log), AllowedHosts: []string{"*"},
		Now: func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	auth := sigv4(testAccount, "us-east-1")["Authorization"]
	create := httptest.NewRequest("POST", "/2015-03-31/functions", strings.NewReader(createBody(t, "fixture")))
	create.Header.Set("Authorization", auth)
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, create)
	if rec.Code != http.StatusCreated {
		t.Fatalf("create fixture: %d %s", rec.Code, rec.Body)
	}
	testwait.For(t, "fixture to be Active", func() bool {
		get := httptest.NewRequest("GET", "/2015-03-31/functions/fixture", nil)
		get.Header.Set("Authorization", auth)
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, get)
		var out struct{ Configuration struct{ State string } }
		return json.Unmarshal(rec.Body.Bytes(), &out) == nil && out.Configuration.State == "Active"
	})
	return srv, log.recorded
}

// echoPayloadEngine answers every invocation with its payload.
type echoPayloadEngine struct{}

func (echoPayloadEngine) Invoke(_ context.Context, fn *engine.Function, req *engine.Request) (*engine.Result, error) {
	return &engine.Result{Payload: req.Payload, ExecutedVersion: fn.Version}, nil
}
func (echoPayloadEngine) Prepull(context.Context, *engine.Function, func(backend.Progress)) error {
	return nil
}
func (echoPayloadEngine) Evict(context.Context, *engine.Function) (bool, error) { return false, nil }
func (echoPayloadEngine) Instances() []engine.InstanceInfo                      { return nil }

// panicLog is a slog handler keeping the "panic serving request" records.
type panicLog struct {
	mu     sync.Mutex
	panics []string
}

func (l *panicLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *panicLog) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "panic serving request" {
		return nil
	}
	var b strings.Builder
	r.Attrs(func(a slog.Attr) bool { b.WriteString(" " + a.String()); return true })
	l.mu.Lock()
	l.panics = append(l.panics, b.String())
	l.mu.Unlock()
	return nil
}
func (l *panicLog) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *panicLog) WithGroup(string) slog.Handler      { return l }
func (l *panicLog) recorded() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.panics...)
}
