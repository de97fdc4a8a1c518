package runtimes

import (
	"bytes"
	"encoding/base64"
	"regexp"
	"strings"
	"testing"
)

const nodeESM = `
export const echo = async (event) => event;

export const ctx = async (event, context) => ({
  awsRequestId: context.awsRequestId,
  functionName: context.functionName,
  functionVersion: context.functionVersion,
  invokedFunctionArn: context.invokedFunctionArn,
  memoryLimitInMB: context.memoryLimitInMB,
  logGroupName: context.logGroupName,
  logStreamName: context.logStreamName,
  remaining: context.getRemainingTimeInMillis(),
  identity: context.identity,
  clientContext: context.clientContext,
  callbackWaitsForEmptyEventLoop: context.callbackWaitsForEmptyEventLoop,
});

export const boom = async () => { throw new TypeError("bad thing"); };

export const logs = async (event) => {
  console.log("hello %s", "world");
  console.error("oops");
  return "ok";
};

export const nested = { deeper: async () => "deep" };

const gate = () => fetch("http://" + process.env.AWS_LAMBDA_RUNTIME_API + "/gate").then((r) => r.text());

export const stream = awslambda.streamifyResponse(async (event, responseStream) => {
  responseStream.setContentType("text/plain");
  responseStream.write("first;");
  await gate();
  responseStream.write("second;");
  responseStream.end();
});

export const httpStream = awslambda.streamifyResponse(async (event, responseStream) => {
  const s = awslambda.HttpResponseStream.from(responseStream, {
    statusCode: 201,
    headers: { "x-custom": "v" },
    cookies: ["a=b"],
  });
  s.write("hello ");
  s.end("world");
});

export const streamFail = awslambda.streamifyResponse(async (event, responseStream) => {
  responseStream.write("partial;");
  await gate();
  throw new RangeError("mid-stream failure");
});
`

func TestNodeBootstrapInvocations(t *testing.T) {
	runInvocations(t, FamilyNodejs, map[string]string{"app.mjs": nodeESM}, []invocationCase{
		{
			name: "ESM echo with unicode", handler: "app.echo", payload: `{"msg":"héllo ✓ 日本 🚀"}`,
			check: wantBody(`{"msg":"héllo ✓ 日本 🚀"}`),
		},
		{
			name: "CommonJS .js", handler: "cjs.handler", payload: `{"a":1}`,
			files: map[string]string{"cjs.js": `exports.handler = async (e) => ({ cjs: e.a, type: typeof require });`},
			check: wantBody(`{"cjs":1,"type":"function"}`),
		},
		{
			name: "CommonJS module.exports object", handler: "cjs2.handler", payload: `{}`,
			files: map[string]string{"cjs2.cjs": `module.exports = { handler: async () => "cjs2" };`},
			check: wantBody(`"cjs2"`),
		},
		{
			name: ".js as ESM through package.json type module", handler: "src/esm.handler", payload: `{}`,
			files: map[string]string{
				"src/package.json": `{"type":"module"}`,
				"src/esm.js":       `export const handler = async () => typeof import.meta.url;`,
			},
			check: wantBody(`"string"`),
		},
		{
			name: "callback handler", handler: "cb.handler", payload: `{"n":2}`,
			files: map[string]string{"cb.cjs": `exports.handler = (event, context, callback) => { setImmediate(() => callback(null, { doubled: event.n * 2 })); };`},
			check: wantBody(`{"doubled":4}`),
		},
		{
			name: "callback error", handler: "cberr.handler", payload: `{}`,
			files: map[string]string{"cberr.js": `exports.handler = (event, context, callback) => callback(new Error("cb failed"));`},
			check: func(t *testing.T, r result) {
				wantKind(t, r, "error")
				e := decodeJSON(t, r.body)
				if e["errorType"] != "Error" || e["errorMessage"] != "cb failed" {
					t.Errorf("error = %v", e)
				}
			},
		},
		{
			name: "nested path and property", handler: "lib/sub/app.nested.deeper", payload: `{}`,
			files: map[string]string{"lib/sub/app.mjs": nodeESM},
			check: wantBody(`"deep"`),
		},
		{
			name: "context fields", handler: "app.ctx", payload: `{}`, headers: contextHeaders,
			check: func(t *testing.T, r result) {
				m := wantContext(t, r, map[string]any{
					"awsRequestId":                   "req-1",
					"functionName":                   "fn",
					"functionVersion":                "$LATEST",
					"invokedFunctionArn":             "arn:aws:lambda:us-east-1:000000000000:function:fn",
					"memoryLimitInMB":                "256",
					"logGroupName":                   "/aws/lambda/fn",
					"logStreamName":                  "2026/11/27/[$LATEST]abc",
					"callbackWaitsForEmptyEventLoop": true,
				})
				if id, _ := m["identity"].(map[string]any); id["cognitoIdentityId"] != "cid" {
					t.Errorf("identity = %v", m["identity"])
				}
				if cc, _ := m["clientContext"].(map[string]any); cc["custom"].(map[string]any)["k"] != "v" {
					t.Errorf("clientContext = %v", m["clientContext"])
				}
			},
		},
		{
			name: "handler error", handler: "app.boom", payload: `{}`,
			check: func(t *testing.T, r result) {
				e := wantFunctionError(t, r, "TypeError", "bad thing")
				if len(e.Trace) < 2 || e.Trace[0] != "TypeError: bad thing" || !strings.Contains(e.Trace[1], "app.mjs") {
					t.Errorf("trace = %q", e.Trace)
				}
			},
		},
	})
}

func TestNodeBootstrapInitErrors(t *testing.T) {
	files := map[string]string{
		"app.mjs":    nodeESM,
		"broken.mjs": "export const handler = async ( => 1;\n",
	}
	runInitErrors(t, FamilyNodejs, files, "SyntaxError: ", []initErrorCase{
		{"missing module", "missing.handler", "Runtime.ImportModuleError", "Error: Cannot find module 'missing'\nRequire stack:\n- /var/runtime/index.mjs"},
		{"missing handler", "app.nope", "Runtime.HandlerNotFound", "app.nope is undefined or not exported"},
		{"malformed handler", "app", "Runtime.MalformedHandlerName", "Bad handler"},
		{"syntax error", "broken.handler", "Runtime.UserCodeSyntaxError", ""},
	}, func(t *testing.T, tc initErrorCase, e map[string]any) {
		if trace, _ := e["trace"].([]any); len(trace) == 0 || !strings.HasPrefix(trace[0].(string), tc.wantType+": ") {
			t.Errorf("trace = %v, want it to start with %q", e["trace"], tc.wantType+": ")
		}
	})
}

func TestNodeBootstrapConsoleAndKeepAlive(t *testing.T) {
	invokeThrice(t, FamilyNodejs, "app.logs", map[string]string{"app.mjs": nodeESM}, func(p *proc, id string, _ result) {
		out := p.waitOutput(t, "\t"+id+"\tERROR\toops\n")
		if !regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\t` + id + `\tINFO\thello world\n`).MatchString(out) {
			t.Errorf("console.log line not in AWS's format:\n%s", out)
		}
	})
}

// gatedStream starts handler of nodeESM streaming an answer to invocation
// id, wants firstChunk before it opens the gate the handler waits on, and
// returns the whole streamed response.
func gatedStream(t *testing.T, handler, id, firstChunk string) result {
	t.Helper()
	api := newFakeAPI(t)
	startBootstrap(t, api, FamilyNodejs, handler, map[string]string{"app.mjs": nodeESM})
	api.next <- invocation{id: id, payload: `{}`}
	// The handler blocks on the gate after its first write, so seeing the
	// first chunk here proves it was sent before the handler finished.
	if got := string(recv(t, api.chunks, "first chunk")); got != firstChunk {
		t.Fatalf("first chunk = %q", got)
	}
	close(api.gate)
	r := recv(t, api.results, "streamed response")
	wantKind(t, r, "response")
	return r
}

func TestNodeBootstrapStreaming(t *testing.T) {
	t.Run("chunks arrive as written", func(t *testing.T) {
		r := gatedStream(t, "app.stream", "req-s", "first;")
		if string(r.body) != "first;second;" {
			t.Errorf("body = %q", r.body)
		}
		for k, want := range map[string]string{
			"Lambda-Runtime-Function-Response-Mode": "streaming",
			"Content-Type":                          "text/plain",
		} {
			if got := r.header.Get(k); got != want {
				t.Errorf("%s = %q, want %q", k, got, want)
			}
		}
		if r.trailer.Get("Lambda-Runtime-Function-Error-Type") != "" {
			t.Errorf("unexpected error trailer: %v", r.trailer)
		}
	})

	t.Run("HttpResponseStream prelude", func(t *testing.T) {
		api := newFakeAPI(t)
		startBootstrap(t, api, FamilyNodejs, "app.httpStream", map[string]string{"app.mjs": nodeESM})
		r := api.invoke(t, invocation{id: "req-h", payload: `{}`})
		wantKind(t, r, "response")
		if ct := r.header.Get("Content-Type"); ct != "application/vnd.awslambda.http-integration-response" {
			t.Errorf("Content-Type = %q", ct)
		}
		prelude, body, ok := bytes.Cut(r.body, make([]byte, 8))
		if !ok {
			t.Fatalf("no 8-NUL delimiter in %q", r.body)
		}
		if string(prelude) != `{"statusCode":201,"headers":{"x-custom":"v"},"cookies":["a=b"]}` {
			t.Errorf("prelude = %s", prelude)
		}
		if string(body) != "hello world" {
			t.Errorf("body = %q", body)
		}
	})

	t.Run("mid-stream error trailers", func(t *testing.T) {
		r := gatedStream(t, "app.streamFail", "req-f", "partial;")
		if string(r.body) != "partial;" {
			t.Errorf("body = %q", r.body)
		}
		// net/http only keeps trailers the request declared in its Trailer
		// header, so these checks also prove the declaration.
		if got := r.trailer.Get("Lambda-Runtime-Function-Error-Type"); got != "RangeError" {
			t.Errorf("error type trailer = %q (trailers %v)", got, r.trailer)
		}
		raw, err := base64.StdEncoding.DecodeString(r.trailer.Get("Lambda-Runtime-Function-Error-Body"))
		if err != nil {
			t.Fatalf("error body trailer not base64: %v", err)
		}
		e := decodeJSON(t, raw)
		if e["errorType"] != "RangeError" || e["errorMessage"] != "mid-stream failure" {
			t.Errorf("error body = %v", e)
		}
	})
}

func TestNodeBootstrapCallbackWaitsForEmptyEventLoop(t *testing.T) {
	const src = `
const gate = () => fetch("http://" + process.env.AWS_LAMBDA_RUNTIME_API + "/gate").then((r) => r.text());
exports.waits = (event, context, callback) => { gate(); callback(null, "waited"); };
exports.nowait = (event, context, callback) => {
  context.callbackWaitsForEmptyEventLoop = false;
  gate();
  callback(null, "early");
};
exports.silent = () => {};
`
	t.Run("waits by default", func(t *testing.T) {
		api := newFakeAPI(t)
		startBootstrap(t, api, FamilyNodejs, "cb.waits", map[string]string{"cb.js": src})
		api.next <- invocation{id: "req-w", payload: `{}`}
		close(api.gate)
		r := recv(t, api.results, "response")
		wantBody(`"waited"`)(t, r)
		if !r.gated {
			t.Error("response posted before the pending request finished")
		}
	})
	t.Run("callbackWaitsForEmptyEventLoop false", func(t *testing.T) {
		api := newFakeAPI(t)
		startBootstrap(t, api, FamilyNodejs, "cb.nowait", map[string]string{"cb.js": src})
		api.next <- invocation{id: "req-n", payload: `{}`}
		// The gate is still closed, so the response must not wait for it.
		r := recv(t, api.results, "response")
		wantBody(`"early"`)(t, r)
		close(api.gate)
	})
	t.Run("sync handler without callback returns null", func(t *testing.T) {
		api := newFakeAPI(t)
		startBootstrap(t, api, FamilyNodejs, "cb.silent", map[string]string{"cb.js": src})
		wantBody(`null`)(t, api.invoke(t, invocation{id: "req-s", payload: `{}`}))
	})
}

func wantBody(want string) func(t *testing.T, r result) {
	return func(t *testing.T, r result) {
		t.Helper()
		wantKind(t, r, "response")
		if string(r.body) != want {
			t.Errorf("body = %s, want %s", r.body, want)
		}
	}
}
