package api

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lambhq/lamb/engine"
	"github.com/lambhq/lamb/engine/backend/process"
	"github.com/lambhq/lamb/internal/testenv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

const urlPy = `import base64, json
def handler(event, context):
    p = event["rawPath"]
    if p == "/created":
        return {"statusCode": 201, "headers": {"x-custom": "yes", "content-type": "text/plain"},
                "cookies": ["a=1", "b=2; Path=/"], "body": "hi"}
    if p == "/bare":
        return {"hello": "world"}
    if p == "/string":
        return "just text"
    if p == "/binary":
        return {"statusCode": 200, "headers": {"content-type": "application/octet-stream"},
                "body": base64.b64encode(b"\x00\x01\xff").decode(), "isBase64Encoded": True}
    if p == "/fail":
        raise Exception("boom")
    return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": json.dumps(event)}
`

func (h *harness) createFunction(name, runtime, handler string, files map[string]string) {
	h.t.Helper()
	ctx := context.Background()
	_, err := h.client.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String(name), Runtime: types.Runtime(runtime), Handler: aws.String(handler),
		Role: aws.String("arn:aws:iam::111111111111:role/r"), Code: &types.FunctionCode{ZipFile: zipOf(h.t, files)},
		Timeout: aws.Int32(10),
	})
	if err != nil {
		h.t.Fatal(err)
	}
	waiter := lambda.NewFunctionActiveV2Waiter(h.client, func(o *lambda.FunctionActiveV2WaiterOptions) {
		o.MinDelay = 10 * time.Millisecond
		o.MaxDelay = 100 * time.Millisecond
	})
	if err := waiter.Wait(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name)}, 20*time.Second); err != nil {
		h.t.Fatal(err)
	}
}

// createURL makes a URL config and returns its url-id.
func (h *harness) createURL(in *lambda.CreateFunctionUrlConfigInput) string {
	h.t.Helper()
	out, err := h.client.CreateFunctionUrlConfig(context.Background(), in)
	if err != nil {
		h.t.Fatal(err)
	}
	u := aws.ToString(out.FunctionUrl)
	id, _, _ := strings.Cut(strings.TrimPrefix(u, "http://"), ".")
	return id
}

// allowPublicURL adds the two statements AWS requires, since October 2025,
// before anyone may call a NONE URL of the function (or of its alias
// qualifier): lambda:InvokeFunctionUrl with the FunctionUrlAuthType NONE
// condition and lambda:InvokeFunction, both to "*" (urls-auth.html).
func (h *harness) allowPublicURL(name, qualifier string) {
	h.t.Helper()
	var q *string
	if qualifier != "" {
		q = aws.String(qualifier)
	}
	for _, in := range []*lambda.AddPermissionInput{
		{FunctionName: aws.String(name), Qualifier: q, StatementId: aws.String("public-url"), Action: aws.String("lambda:InvokeFunctionUrl"),
			Principal: aws.String("*"), FunctionUrlAuthType: types.FunctionUrlAuthTypeNone},
		{FunctionName: aws.String(name), Qualifier: q, StatementId: aws.String("public-invoke"), Action: aws.String("lambda:InvokeFunction"),
			Principal: aws.String("*"), InvokedViaFunctionUrl: aws.Bool(true)},
	} {
		if _, err := h.client.AddPermission(context.Background(), in); err != nil {
			h.t.Fatal(err)
		}
	}
}

// urlRequest sends a request to a function URL by host name.
func (h *harness) urlRequest(method, id, pathQuery string, body io.Reader, header http.Header) *http.Response {
	h.t.Helper()
	req, err := http.NewRequest(method, h.ts.URL+pathQuery, body)
	if err != nil {
		h.t.Fatal(err)
	}
	req.Host = id + ".lambda-url.us-east-1.localhost"
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := h.ts.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func readAll(t *testing.T, r io.Reader) string {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestFunctionURLBuffered(t *testing.T) {
	needPython3(t)
	h := newEngineHarness(t)
	h.createFunction("web", "python3.12", "app.handler", map[string]string{"app.py": urlPy})
	id := h.createURL(&lambda.CreateFunctionUrlConfigInput{FunctionName: aws.String("web"), AuthType: types.FunctionUrlAuthTypeNone})
	h.allowPublicURL("web", "")

	t.Run("event is payload format 2.0", func(t *testing.T) {
		resp := h.urlRequest(http.MethodPost, id, "/some/path?a=1&b=x%20y&a=2", strings.NewReader(`{"k":"v"}`), http.Header{
			"Content-Type": {"application/json"}, "User-Agent": {"lamb-test"}, "Cookie": {"c1=v1; c2=v2"}, "X-Multi": {"one", "two"},
		})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %s", resp.StatusCode, readAll(t, resp.Body))
		}
		var ev map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&ev); err != nil {
			t.Fatal(err)
		}
		rc := ev["requestContext"].(map[string]any)
		httpc := rc["http"].(map[string]any)
		headers := ev["headers"].(map[string]any)
		for _, c := range []struct {
			name      string
			got, want any
		}{
			{"version", ev["version"], "2.0"},
			{"routeKey", ev["routeKey"], "$default"},
			{"rawPath", ev["rawPath"], "/some/path"},
			{"rawQueryString", ev["rawQueryString"], "a=1&b=x%20y&a=2"},
			{"queryStringParameters", ev["queryStringParameters"], map[string]any{"a": "1,2", "b": "x y"}},
			{"cookies", ev["cookies"], []any{"c1=v1", "c2=v2"}},
			{"body", ev["body"], `{"k":"v"}`},
			{"isBase64Encoded", ev["isBase64Encoded"], false},
			{"header content-type", headers["content-type"], "application/json"},
			{"header content-length", headers["content-length"], "9"},
			{"repeated header", headers["x-multi"], "one,two"},
			{"no cookie header", headers["cookie"], nil},
			{"method", httpc["method"], "POST"},
			{"path", httpc["path"], "/some/path"},
			{"protocol", httpc["protocol"], "HTTP/1.1"},
			{"sourceIp", httpc["sourceIp"], "127.0.0.1"},
			{"userAgent", httpc["userAgent"], "lamb-test"},
			{"accountId", rc["accountId"], testAccount},
			{"apiId", rc["apiId"], id},
			{"domainName", rc["domainName"], id + ".lambda-url.us-east-1.localhost"},
			{"domainPrefix", rc["domainPrefix"], id},
			{"stage", rc["stage"], "$default"},
		} {
			if !reflect.DeepEqual(c.got, c.want) {
				t.Errorf("%s: got %#v, want %#v", c.name, c.got, c.want)
			}
		}
		if _, err := time.Parse("02/Jan/2006:15:04:05 -0700", rc["time"].(string)); err != nil {
			t.Errorf("time %q: %v", rc["time"], err)
		}
		if epoch, _ := rc["timeEpoch"].(float64); time.Since(time.UnixMilli(int64(epoch))) > time.Minute {
			t.Errorf("timeEpoch %v", rc["timeEpoch"])
		}
		if rid, _ := rc["requestId"].(string); rid == "" || resp.Header.Get("X-Amzn-RequestId") != rid {
			t.Errorf("requestId %q, X-Amzn-RequestId %q", rid, resp.Header.Get("X-Amzn-RequestId"))
		}
	})
	t.Run("binary request body is base64", func(t *testing.T) {
		resp := h.urlRequest(http.MethodPut, id, "/", bytes.NewReader([]byte{0, 1, 2, 0xff}), http.Header{"Content-Type": {"application/octet-stream"}})
		var ev map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&ev); err != nil {
			t.Fatal(err)
		}
		if ev["isBase64Encoded"] != true || ev["body"] != base64.StdEncoding.EncodeToString([]byte{0, 1, 2, 0xff}) {
			t.Errorf("body %v isBase64Encoded %v", ev["body"], ev["isBase64Encoded"])
		}
		if _, ok := ev["queryStringParameters"]; ok {
			t.Error("queryStringParameters present without a query")
		}
	})
	t.Run("structured result", func(t *testing.T) {
		resp := h.urlRequest(http.MethodGet, id, "/created", nil, nil)
		body := readAll(t, resp.Body)
		if resp.StatusCode != 201 || body != "hi" || resp.Header.Get("X-Custom") != "yes" || resp.Header.Get("Content-Type") != "text/plain" {
			t.Errorf("got %d %q headers %v", resp.StatusCode, body, resp.Header)
		}
		if got := resp.Header.Values("Set-Cookie"); !reflect.DeepEqual(got, []string{"a=1", "b=2; Path=/"}) {
			t.Errorf("Set-Cookie %v", got)
		}
	})
	t.Run("bare value is 200 application/json", func(t *testing.T) {
		resp := h.urlRequest(http.MethodGet, id, "/bare", nil, nil)
		body := readAll(t, resp.Body)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" || strings.TrimSpace(body) != `{"hello": "world"}` {
			t.Errorf("got %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	})
	t.Run("bare string is the body", func(t *testing.T) {
		resp := h.urlRequest(http.MethodGet, id, "/string", nil, nil)
		if body := readAll(t, resp.Body); resp.StatusCode != 200 || body != "just text" {
			t.Errorf("got %d %q", resp.StatusCode, body)
		}
	})
	t.Run("base64 result body is decoded", func(t *testing.T) {
		resp := h.urlRequest(http.MethodGet, id, "/binary", nil, nil)
		if body := readAll(t, resp.Body); body != "\x00\x01\xff" {
			t.Errorf("body %q", body)
		}
	})
	t.Run("function error is 502", func(t *testing.T) {
		resp := h.urlRequest(http.MethodGet, id, "/fail", nil, nil)
		if resp.StatusCode != http.StatusBadGateway {
			t.Errorf("status %d", resp.StatusCode)
		}
	})
	t.Run("oversized request is 413", func(t *testing.T) {
		resp := h.urlRequest(http.MethodPost, id, "/", bytes.NewReader(make([]byte, maxSyncPayload+1)), http.Header{"Content-Type": {"text/plain"}})
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("status %d", resp.StatusCode)
		}
	})
	t.Run("unknown url is 404", func(t *testing.T) {
		for _, host := range []string{strings.Repeat("a", 32), id[:31] + "-"} {
			resp := h.urlRequest(http.MethodGet, host, "/", nil, nil)
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s: status %d", host, resp.StatusCode)
			}
		}
	})
	t.Run("path form and any host suffix route the same", func(t *testing.T) {
		for _, tc := range []struct {
			what, path, host string // host "" is the test server's own
			want             int
		}{
			{"path form", "/_lamb/urls/" + id + "/created", "", 201},
			{"loopback suffix", "/created", strings.ToUpper(id) + ".lambda-url.us-east-1.127.0.0.1:9999", 201},
			{"foreign suffix (a rebinding name)", "/created", id + ".lambda-url.us-east-1.example.test:9999", 403},
			{"wrong region", "/created", id + ".lambda-url.eu-west-1.localhost", 404},
		} {
			req, _ := http.NewRequest(http.MethodGet, h.ts.URL+tc.path, nil)
			if tc.host != "" {
				req.Host = tc.host
			}
			resp, err := h.ts.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("%s: status %d", tc.what, resp.StatusCode)
			}
		}
	})
	t.Run("listed by /_lamb/urls", func(t *testing.T) {
		rr := h.raw(http.MethodGet, "/_lamb/urls", "", nil)
		if rr.status != 200 || !strings.Contains(string(rr.body), `"urlId":"`+id+`"`) || !strings.Contains(string(rr.body), "/_lamb/urls/"+id+"/") {
			t.Errorf("%d %s", rr.status, rr.body)
		}
	})
}

func TestFunctionURLAuthAndCORS(t *testing.T) {
	needPython3(t)
	h := newEngineHarness(t)
	h.createFunction("web", "python3.12", "app.handler", map[string]string{"app.py": urlPy})
	iamID := h.createURL(&lambda.CreateFunctionUrlConfigInput{FunctionName: aws.String("web"), AuthType: types.FunctionUrlAuthTypeAwsIam,
		Cors: &types.Cors{AllowOrigins: []string{"https://app.example"}, AllowMethods: []string{"GET", "POST"}, AllowHeaders: []string{"x-token"},
			ExposeHeaders: []string{"x-custom"}, MaxAge: aws.Int32(300), AllowCredentials: aws.Bool(true)}})

	t.Run("AWS_IAM refuses unsigned requests", func(t *testing.T) {
		if resp := h.urlRequest(http.MethodGet, iamID, "/created", nil, nil); resp.StatusCode != http.StatusForbidden {
			t.Errorf("status %d", resp.StatusCode)
		}
	})
	t.Run("AWS_IAM accepts signed requests", func(t *testing.T) {
		hdr := http.Header{}
		for k, v := range sigv4(testAccount, "us-east-1") {
			hdr.Set(k, v)
		}
		resp := h.urlRequest(http.MethodGet, iamID, "/echo", nil, hdr)
		var ev map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&ev); err != nil {
			t.Fatalf("status %d: %v", resp.StatusCode, err)
		}
		iam := ev["requestContext"].(map[string]any)["authorizer"].(map[string]any)["iam"].(map[string]any)
		if iam["accountId"] != testAccount || iam["accessKey"] != testAccount {
			t.Errorf("authorizer %v", iam)
		}
	})
	t.Run("another account needs lambda:InvokeFunctionUrl in the policy", func(t *testing.T) {
		other := http.Header{}
		for k, v := range sigv4("222222222222", "us-east-1") {
			other.Set(k, v)
		}
		if resp := h.urlRequest(http.MethodGet, iamID, "/created", nil, other); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("before AddPermission: status %d", resp.StatusCode)
		}
		if _, err := h.client.AddPermission(context.Background(), &lambda.AddPermissionInput{
			FunctionName: aws.String("web"), StatementId: aws.String("url"), Action: aws.String("lambda:InvokeFunctionUrl"),
			Principal: aws.String("222222222222"), FunctionUrlAuthType: types.FunctionUrlAuthTypeAwsIam,
		}); err != nil {
			t.Fatal(err)
		}
		if resp := h.urlRequest(http.MethodGet, iamID, "/created", nil, other); resp.StatusCode != http.StatusCreated {
			t.Errorf("after AddPermission: status %d", resp.StatusCode)
		}
		third := http.Header{}
		for k, v := range sigv4("333333333333", "us-east-1") {
			third.Set(k, v)
		}
		if resp := h.urlRequest(http.MethodGet, iamID, "/created", nil, third); resp.StatusCode != http.StatusForbidden {
			t.Errorf("a third account: status %d", resp.StatusCode)
		}
	})
	t.Run("preflight answered from the config", func(t *testing.T) {
		resp := h.urlRequest(http.MethodOptions, iamID, "/anything", nil, http.Header{
			"Origin": {"https://app.example"}, "Access-Control-Request-Method": {"POST"}})
		want := map[string]string{
			"Access-Control-Allow-Origin": "https://app.example", "Access-Control-Allow-Methods": "GET,POST",
			"Access-Control-Allow-Headers": "x-token", "Access-Control-Max-Age": "300", "Access-Control-Allow-Credentials": "true",
		}
		if resp.StatusCode != 200 {
			t.Errorf("status %d", resp.StatusCode)
		}
		for k, v := range want {
			if got := resp.Header.Get(k); got != v {
				t.Errorf("%s: %q, want %q", k, got, v)
			}
		}
	})
	t.Run("preflight from another origin gets no CORS headers", func(t *testing.T) {
		resp := h.urlRequest(http.MethodOptions, iamID, "/", nil, http.Header{
			"Origin": {"https://evil.example"}, "Access-Control-Request-Method": {"POST"}})
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("Access-Control-Allow-Origin %q", got)
		}
	})
	t.Run("actual request carries CORS headers", func(t *testing.T) {
		hdr := http.Header{"Origin": {"https://app.example"}}
		for k, v := range sigv4(testAccount, "us-east-1") {
			hdr.Set(k, v)
		}
		resp := h.urlRequest(http.MethodGet, iamID, "/created", nil, hdr)
		if resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example" || resp.Header.Get("Access-Control-Expose-Headers") != "x-custom" {
			t.Errorf("headers %v", resp.Header)
		}
	})
}

// urlStreamJS streams "first;", waits for the gate file named in the query
// (or 5 s), then "second;". ?http=1 sends a prelude with HttpResponseStream.from;
// ?fail=mid throws after the first chunk, ?fail=early before any.
const urlStreamJS = `
const fs = require("node:fs");
exports.handler = awslambda.streamifyResponse(async (event, stream) => {
  const q = event.queryStringParameters || {};
  if (q.fail === "early") throw new Error("early boom");
  if (q.http) {
    stream = awslambda.HttpResponseStream.from(stream, {
      statusCode: 202, headers: { "x-lamb": "yes", "content-type": "text/plain" }, cookies: ["s=1"] });
  }
  stream.write("first;");
  const until = Date.now() + 5000;
  while (q.gate && !fs.existsSync(q.gate) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 5));
  }
  if (q.fail === "mid") throw new Error("boom");
  stream.write("second;");
  stream.end();
});
`

func TestFunctionURLResponseStream(t *testing.T) {
	needNode(t)
	h := newEngineHarness(t)
	h.createNode("streamer", urlStreamJS)
	id := h.createURL(&lambda.CreateFunctionUrlConfigInput{FunctionName: aws.String("streamer"), AuthType: types.FunctionUrlAuthTypeNone,
		InvokeMode: types.InvokeModeResponseStream})
	h.allowPublicURL("streamer", "")

	for _, tc := range []struct {
		name        string
		query       string
		status      int
		contentType string
		header      string // X-Lamb
	}{
		{"with prelude", "http=1", 202, "text/plain", "yes"},
		{"without prelude", "", 200, "application/octet-stream", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gate := t.TempDir() + "/go"
			resp := h.urlRequest(http.MethodGet, id, "/?gate="+gate+"&"+tc.query, nil, nil)
			if resp.StatusCode != tc.status || resp.Header.Get("Content-Type") != tc.contentType || resp.Header.Get("X-Lamb") != tc.header {
				t.Errorf("status %d, headers %v", resp.StatusCode, resp.Header)
			}
			if tc.header != "" && resp.Header.Get("Set-Cookie") != "s=1" {
				t.Errorf("Set-Cookie %q", resp.Header.Get("Set-Cookie"))
			}
			// The function waits for the gate: reading "first;" now proves the
			// body is streamed, not buffered until the end.
			first := make([]byte, len("first;"))
			if _, err := io.ReadFull(resp.Body, first); err != nil || string(first) != "first;" {
				t.Fatalf("first chunk %q: %v", first, err)
			}
			if err := os.WriteFile(gate, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			if rest := readAll(t, resp.Body); rest != "second;" {
				t.Errorf("rest %q", rest)
			}
		})
	}
	t.Run("error before any chunk is 502", func(t *testing.T) {
		if resp := h.urlRequest(http.MethodGet, id, "/?fail=early", nil, nil); resp.StatusCode != http.StatusBadGateway {
			t.Errorf("status %d", resp.StatusCode)
		}
	})
	t.Run("error mid-stream ends the body", func(t *testing.T) {
		resp := h.urlRequest(http.MethodGet, id, "/?fail=mid", nil, nil)
		if resp.StatusCode != 200 {
			t.Errorf("status %d", resp.StatusCode)
		}
		if body := readAll(t, resp.Body); body != "first;" {
			t.Errorf("body %q", body)
		}
	})
}

func needPython3(t *testing.T) {
	t.Helper()
	testenv.LookPath(t, "python3")
}

// TestFunctionURLNoneNeedsPublicPolicy: a NONE URL answers AWS's 403
// {"Message":"Forbidden"} until the resource policy of its function (or
// alias) allows both lambda:InvokeFunctionUrl and lambda:InvokeFunction to
// "*" ("Starting in October 2025, new function URLs will require both
// lambda:InvokeFunctionUrl and lambda:InvokeFunction permissions",
// docs.aws.amazon.com/lambda/latest/dg/urls-auth.html); Config.
// URLsWithoutPolicy serves it anyway. /_lamb/urls says what is missing.
func TestFunctionURLNoneNeedsPublicPolicy(t *testing.T) {
	needPython3(t)
	type grant struct {
		action, principal string
		urlAuth           types.FunctionUrlAuthType
		viaURL            bool
	}
	urlGrant := grant{"lambda:InvokeFunctionUrl", "*", types.FunctionUrlAuthTypeNone, false}
	invokeGrant := grant{"lambda:InvokeFunction", "*", "", false}
	for _, tc := range []struct {
		name      string
		grants    []grant
		onAlias   bool // the URL is the alias's, the grants the function's
		open      bool // Config.URLsWithoutPolicy
		want      int
		notPublic []string
	}{
		{name: "no policy", want: 403, notPublic: []string{needURLGrant, needInvokeGrant}},
		{name: "only InvokeFunctionUrl (before October 2025)", grants: []grant{urlGrant}, want: 403, notPublic: []string{needInvokeGrant}},
		{name: "only InvokeFunction", grants: []grant{invokeGrant}, want: 403, notPublic: []string{needURLGrant}},
		{name: "both", grants: []grant{urlGrant, invokeGrant}, want: 200},
		{name: "InvokeFunction only via the URL", grants: []grant{urlGrant, {"lambda:InvokeFunction", "*", "", true}}, want: 200},
		{name: "InvokeFunctionUrl without the condition", grants: []grant{{"lambda:InvokeFunctionUrl", "*", "", false}, invokeGrant}, want: 200},
		{name: "lambda:* to everyone", grants: []grant{{"lambda:*", "*", "", false}}, want: 200},
		{name: "InvokeFunctionUrl for AWS_IAM only", grants: []grant{{"lambda:InvokeFunctionUrl", "*", types.FunctionUrlAuthTypeAwsIam, false}, invokeGrant},
			want: 403, notPublic: []string{needURLGrant}},
		{name: "granted to one account, not the public", grants: []grant{{"lambda:InvokeFunctionUrl", "222222222222", types.FunctionUrlAuthTypeNone, false}, {"lambda:InvokeFunction", "222222222222", "", false}},
			want: 403, notPublic: []string{needURLGrant, needInvokeGrant}},
		{name: "an alias's URL needs the alias's policy", grants: []grant{urlGrant, invokeGrant}, onAlias: true, want: 403, notPublic: []string{needURLGrant, needInvokeGrant}},
		{name: "check off", open: true, want: 200, notPublic: []string{needURLGrant, needInvokeGrant}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := process.New(process.Config{WorkDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			e := engine.New(b)
			t.Cleanup(func() { _ = e.Close(context.Background()) })
			h := newHarness(t, Config{Engine: e, URLsWithoutPolicy: tc.open})
			h.createFunction("web", "python3.12", "app.handler", map[string]string{"app.py": urlPy})
			in := &lambda.CreateFunctionUrlConfigInput{FunctionName: aws.String("web"), AuthType: types.FunctionUrlAuthTypeNone}
			if tc.onAlias {
				if _, err := h.client.CreateAlias(context.Background(), &lambda.CreateAliasInput{FunctionName: aws.String("web"), Name: aws.String("live"), FunctionVersion: aws.String("$LATEST")}); err != nil {
					t.Fatal(err)
				}
				in.Qualifier = aws.String("live")
			}
			id := h.createURL(in)
			for i, g := range tc.grants {
				p := &lambda.AddPermissionInput{FunctionName: aws.String("web"), StatementId: aws.String(fmt.Sprint("s", i)), Action: aws.String(g.action),
					Principal: aws.String(g.principal), FunctionUrlAuthType: g.urlAuth}
				if g.viaURL {
					p.InvokedViaFunctionUrl = aws.Bool(true)
				}
				if _, err := h.client.AddPermission(context.Background(), p); err != nil {
					t.Fatal(err)
				}
			}
			resp := h.urlRequest(http.MethodGet, id, "/echo", nil, nil)
			body := readAll(t, resp.Body)
			if resp.StatusCode != tc.want {
				t.Errorf("status %d %s, want %d", resp.StatusCode, body, tc.want)
			}
			if tc.want == 403 && strings.TrimSpace(body) != `{"Message":"Forbidden"}` {
				t.Errorf("body %s, want AWS's {\"Message\":\"Forbidden\"}", body)
			}
			rr := h.raw("GET", "/_lamb/urls", "", nil)
			var rows []urlListEntry
			if err := json.Unmarshal(rr.body, &rows); err != nil || len(rows) != 1 {
				t.Fatalf("/_lamb/urls: %s %v", rr.body, err)
			}
			if !reflect.DeepEqual(rows[0].NotPublic, tc.notPublic) || rows[0].PolicyCheckOff != (tc.open && len(tc.notPublic) > 0) {
				t.Errorf("/_lamb/urls says %q (check off %v), want %q", rows[0].NotPublic, rows[0].PolicyCheckOff, tc.notPublic)
			}
		})
	}
}
