package runtimes

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

const pyApp = `
import logging

def echo(event, context):
    return event

def ctx(event, context):
    return {
        "aws_request_id": context.aws_request_id,
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "remaining": context.get_remaining_time_in_millis(),
        "cognito_identity_id": context.identity.cognito_identity_id,
        "cognito_identity_pool_id": context.identity.cognito_identity_pool_id,
        "client_app_title": context.client_context.client.app_title,
        "client_custom": context.client_context.custom,
    }

def boom(event, context):
    raise ValueError("bad value")

def unmarshalable(event, context):
    return {"s": {1, 2}}

def raw(event, context):
    return b"\x00raw"

def logs(event, context):
    print("printed line")
    logging.getLogger().warning("warned %s", "here")
    return "ok"
`

func TestPythonBootstrapInvocations(t *testing.T) {
	tests := []struct {
		name    string
		handler string
		files   map[string]string
		payload string
		headers map[string]string
		env     []string
		check   func(t *testing.T, r result)
	}{
		{
			name: "echo with unicode", handler: "app.echo", payload: `{"msg":"héllo ✓ 日本 🚀"}`,
			check: func(t *testing.T, r result) {
				wantKind(t, r, "response")
				if !strings.Contains(string(r.body), "héllo ✓ 日本 🚀") {
					t.Errorf("body %q: want the text as raw UTF-8", r.body)
				}
				if got := decodeJSON(t, r.body)["msg"]; got != "héllo ✓ 日本 🚀" {
					t.Errorf("msg = %q", got)
				}
			},
		},
		{
			name: "unicode escaped before python3.12", handler: "app.echo", payload: `{"msg":"é✓"}`,
			env: []string{"AWS_EXECUTION_ENV=AWS_Lambda_python3.11"},
			check: func(t *testing.T, r result) {
				wantKind(t, r, "response")
				if string(r.body) != `{"msg": "\u00e9\u2713"}` {
					t.Errorf("body = %s", r.body)
				}
			},
		},
		{
			name: "bytes returned raw", handler: "app.raw", payload: `{}`,
			check: func(t *testing.T, r result) {
				wantKind(t, r, "response")
				if string(r.body) != "\x00raw" || r.header.Get("Content-Type") != "application/unknown" {
					t.Errorf("body = %q, content type %q", r.body, r.header.Get("Content-Type"))
				}
			},
		},
		{
			name: "context fields", handler: "app.ctx", payload: `{}`,
			headers: map[string]string{
				"Lambda-Runtime-Cognito-Identity": `{"cognitoIdentityId":"cid","cognitoIdentityPoolId":"pool"}`,
				"Lambda-Runtime-Client-Context":   `{"client":{"app_title":"title"},"custom":{"k":"v"},"env":{}}`,
			},
			check: func(t *testing.T, r result) {
				wantKind(t, r, "response")
				m := decodeJSON(t, r.body)
				want := map[string]any{
					"aws_request_id":           "req-1",
					"function_name":            "fn",
					"function_version":         "$LATEST",
					"invoked_function_arn":     "arn:aws:lambda:us-east-1:000000000000:function:fn",
					"memory_limit_in_mb":       "256",
					"log_group_name":           "/aws/lambda/fn",
					"log_stream_name":          "2026/11/27/[$LATEST]abc",
					"cognito_identity_id":      "cid",
					"cognito_identity_pool_id": "pool",
					"client_app_title":         "title",
				}
				for k, v := range want {
					if m[k] != v {
						t.Errorf("%s = %#v, want %#v", k, m[k], v)
					}
				}
				if rem, _ := m["remaining"].(float64); rem <= 20000 || rem > 30000 {
					t.Errorf("remaining = %v, want about 30000", m["remaining"])
				}
				if c, _ := m["client_custom"].(map[string]any); c["k"] != "v" {
					t.Errorf("client_custom = %v", m["client_custom"])
				}
			},
		},
		{
			name: "handler exception", handler: "app.boom", payload: `{}`,
			check: func(t *testing.T, r result) {
				wantKind(t, r, "error")
				if got := r.header.Get("Lambda-Runtime-Function-Error-Type"); got != "ValueError" {
					t.Errorf("error type header = %q", got)
				}
				var e struct {
					ErrorMessage string   `json:"errorMessage"`
					ErrorType    string   `json:"errorType"`
					RequestID    string   `json:"requestId"`
					StackTrace   []string `json:"stackTrace"`
				}
				if err := json.Unmarshal(r.body, &e); err != nil {
					t.Fatal(err)
				}
				if e.ErrorMessage != "bad value" || e.ErrorType != "ValueError" || e.RequestID != "req-1" {
					t.Errorf("error = %+v", e)
				}
				if len(e.StackTrace) != 1 || !regexp.MustCompile(`^  File ".*/app\.py", line \d+, in boom\n    raise ValueError\("bad value"\)\n$`).MatchString(e.StackTrace[0]) {
					t.Errorf("stackTrace = %q, want only the user's frame", e.StackTrace)
				}
			},
		},
		{
			name: "marshal error", handler: "app.unmarshalable", payload: `{}`,
			check: func(t *testing.T, r result) {
				wantKind(t, r, "error")
				e := decodeJSON(t, r.body)
				if e["errorType"] != "Runtime.MarshalError" || e["errorMessage"] != "Unable to marshal response: Object of type set is not JSON serializable" {
					t.Errorf("error = %v", e)
				}
			},
		},
		{
			name: "nested handler with slashes", handler: "pkg/sub/mod.handler", payload: `{"x":1}`,
			files: map[string]string{"pkg/sub/mod.py": "def handler(e, c):\n    return {'nested': e['x']}\n"},
			check: func(t *testing.T, r result) {
				wantKind(t, r, "response")
				if string(r.body) != `{"nested": 1}` {
					t.Errorf("body = %s", r.body)
				}
			},
		},
		{
			name: "nested handler with dots", handler: "pkg.sub.mod.handler", payload: `{"x":2}`,
			files: map[string]string{"pkg/sub/mod.py": "def handler(e, c):\n    return {'nested': e['x']}\n"},
			check: func(t *testing.T, r result) {
				wantKind(t, r, "response")
				if string(r.body) != `{"nested": 2}` {
					t.Errorf("body = %s", r.body)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			api := newFakeAPI(t)
			files := map[string]string{"app.py": pyApp}
			for k, v := range tc.files {
				files[k] = v
			}
			startBootstrap(t, api, FamilyPython, tc.handler, files, tc.env...)
			tc.check(t, api.invoke(t, invocation{id: "req-1", payload: tc.payload, headers: tc.headers}))
		})
	}
}

func TestPythonBootstrapInitErrors(t *testing.T) {
	tests := []struct {
		name, handler, wantType, wantMessage string
	}{
		{"missing module", "missing.handler", "Runtime.ImportModuleError", "Unable to import module 'missing': No module named 'missing'"},
		{"missing handler", "app.nope", "Runtime.HandlerNotFound", "Handler 'nope' missing on module 'app'"},
		{"malformed handler", "app", "Runtime.MalformedHandlerName", "Bad handler 'app': not enough values to unpack (expected 2, got 1)"},
		{"syntax error", "broken.handler", "Runtime.UserCodeSyntaxError", ""},
		{"built-in module", "sys.handler", "Runtime.BuiltInModuleConflict", "Cannot use built-in module sys as a handler module"},
		{"exception at import", "raises.handler", "KeyError", "'at import'"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			api := newFakeAPI(t)
			p := startBootstrap(t, api, FamilyPython, tc.handler, map[string]string{
				"app.py":    pyApp,
				"broken.py": "def handler(e, c)\n    return 1\n",
				"raises.py": "raise KeyError('at import')\n",
			})
			r := recv(t, api.results, "init error")
			wantKind(t, r, "init")
			if got := r.header.Get("Lambda-Runtime-Function-Error-Type"); got != tc.wantType {
				t.Errorf("error type header = %q, want %q", got, tc.wantType)
			}
			e := decodeJSON(t, r.body)
			if e["errorType"] != tc.wantType {
				t.Errorf("errorType = %v, want %s", e["errorType"], tc.wantType)
			}
			msg, _ := e["errorMessage"].(string)
			if tc.wantMessage != "" && msg != tc.wantMessage {
				t.Errorf("errorMessage = %q, want %q", msg, tc.wantMessage)
			}
			if tc.wantMessage == "" && !strings.HasPrefix(msg, "Syntax error in module 'broken': ") {
				t.Errorf("errorMessage = %q", msg)
			}
			if code := p.waitExit(t); code != 1 {
				t.Errorf("exit code = %d, want 1", code)
			}
		})
	}
}

func TestPythonBootstrapLogsUncaughtError(t *testing.T) {
	api := newFakeAPI(t)
	p := startBootstrap(t, api, FamilyPython, "app.boom", map[string]string{"app.py": pyApp})
	wantKind(t, api.invoke(t, invocation{id: "req-1", payload: `{}`}), "error")
	out := p.waitOutput(t, "[ERROR] ValueError: bad value\r")
	if !regexp.MustCompile(`\[ERROR\] ValueError: bad value\rTraceback \(most recent call last\):\r\x{a0}\x{a0}File ".*app\.py", line \d+, in boom\r\x{a0}{4}raise ValueError\("bad value"\)\n`).MatchString(out) {
		t.Errorf("error log not in AWS's format:\n%q", out)
	}
}

func TestPythonBootstrapLogsAndKeepAlive(t *testing.T) {
	api := newFakeAPI(t)
	p := startBootstrap(t, api, FamilyPython, "app.logs", map[string]string{"app.py": pyApp})
	for _, id := range []string{"req-a", "req-b", "req-c"} {
		r := api.invoke(t, invocation{id: id, payload: `{}`})
		wantKind(t, r, "response")
		if string(r.body) != `"ok"` {
			t.Fatalf("body = %s", r.body)
		}
		out := p.waitOutput(t, "\t"+id+"\twarned here\n")
		if !regexp.MustCompile(`\[WARNING\]\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\t` + id + `\twarned here\n`).MatchString(out) {
			t.Errorf("log line not in AWS's format:\n%s", out)
		}
	}
	if got := strings.Count(p.stdout.String(), "printed line\n"); got != 3 {
		t.Errorf("print output seen %d times, want 3", got)
	}
	if n := api.conns.Load(); n != 1 {
		t.Errorf("runtime opened %d connections for 3 invocations, want 1 (keep-alive)", n)
	}
}

func wantKind(t *testing.T, r result, kind string) {
	t.Helper()
	if r.kind != kind {
		t.Fatalf("runtime posted %s (%s), want %s", r.kind, r.body, kind)
	}
}
