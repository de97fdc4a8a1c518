package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// ricVersion is the last aws-lambda-ric that supports Node 20 (4.x needs 22).
const ricVersion = "3.3.0"

// ricPackage returns the installed node_modules/aws-lambda-ric directory. The
// package builds a native addon (curl and aws-lambda-cpp from bundled sources),
// which takes minutes, so it is installed once into a cache directory and reused.
func ricPackage(t *testing.T) string {
	t.Helper()
	cache, err := os.UserCacheDir() // $XDG_CACHE_HOME or ~/.cache
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "lamb-test", "ric-"+ricVersion)
	pkg := filepath.Join(dir, "node_modules", "aws-lambda-ric")
	if _, err := os.Stat(filepath.Join(pkg, "dist", "rapid-client.node")); err == nil {
		return pkg
	}
	for _, tool := range []string{"node", "npm", "cmake", "autoreconf", "libtoolize", "make", "g++"} {
		_, err := exec.LookPath(tool)
		need(t, tool+" (to build aws-lambda-ric; see scripts/setup.sh)", err == nil)
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		t.Fatal(err)
	}
	// Install into a fresh directory and rename it into place, so an interrupted
	// or concurrent build never leaves a half-built cache behind.
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".ric-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	if err := os.WriteFile(filepath.Join(tmp, "package.json"), []byte(`{"private":true}`), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "install", "--no-audit", "--no-fund", "aws-lambda-ric@"+ricVersion)
	cmd.Dir = tmp
	cmd.Env = os.Environ()
	if nodedir := localNodeDir(); nodedir != "" {
		// node-gyp would otherwise download Node's headers, and only the npm
		// registry is reachable here.
		cmd.Env = append(cmd.Env, "npm_config_nodedir="+nodedir)
	}
	start := time.Now()
	t.Logf("building aws-lambda-ric@%s into %s (once; takes a few minutes)", ricVersion, dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm install aws-lambda-ric@%s: %v\n%s", ricVersion, err, out)
	}
	t.Logf("aws-lambda-ric built in %s", time.Since(start).Round(time.Second))
	if err := os.Rename(tmp, dir); err != nil {
		if _, statErr := os.Stat(filepath.Join(pkg, "dist", "rapid-client.node")); statErr != nil {
			t.Fatalf("caching aws-lambda-ric: %v", err)
		}
		// Another test process cached it first: use its copy.
	}
	if _, err := os.Stat(filepath.Join(pkg, "dist", "rapid-client.node")); err != nil {
		t.Fatalf("aws-lambda-ric installed without its native addon: %v", err)
	}
	return pkg
}

// localNodeDir is the prefix holding the running node's headers (include/node),
// or "" when they are not installed.
func localNodeDir() string {
	node, err := exec.LookPath("node")
	if err != nil {
		return ""
	}
	if real, err := filepath.EvalSymlinks(node); err == nil {
		node = real
	}
	prefix := filepath.Dir(filepath.Dir(node))
	if _, err := os.Stat(filepath.Join(prefix, "include", "node", "common.gypi")); err != nil {
		return ""
	}
	return prefix
}

// ricZip builds the function's zip: testdata/ric (index.mjs, bootstrap) and what
// the ric needs at run time — package.json, bin/ and dist/ (which holds the
// native addon rapid-client.node). Its build-time dependencies (node-gyp,
// node-addon-api, the deps/ sources) stay out.
func ricZip(t *testing.T, pkg string) []byte {
	t.Helper()
	files := map[string]string{}
	for _, name := range []string{"index.mjs", "bootstrap"} {
		b, err := os.ReadFile(filepath.Join("testdata", "ric", name))
		if err != nil {
			t.Fatal(err)
		}
		files[name] = string(b)
	}
	add := func(path string) error {
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(pkg, path)
		if err != nil {
			return err
		}
		files["node_modules/aws-lambda-ric/"+filepath.ToSlash(rel)] = string(b)
		return nil
	}
	if err := add(filepath.Join(pkg, "package.json")); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"bin", "dist"} {
		err := filepath.WalkDir(filepath.Join(pkg, sub), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			return add(path)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	z := zipOf(t, files)
	if len(z) > 50<<20 {
		t.Fatalf("function zip is %d bytes, over Lambda's 50 MB", len(z))
	}
	return z
}

// createRICFunctions creates one provided.al2023 function per handler in
// testdata/ric/index.mjs, all from the same zip.
func createRICFunctions(ctx context.Context, t *testing.T, c *lambda.Client, zip []byte, handlers ...string) {
	t.Helper()
	for _, h := range handlers {
		createActive(ctx, t, c, &lambda.CreateFunctionInput{
			FunctionName: aws.String("ric-" + h), Runtime: types.RuntimeProvidedal2023, Role: aws.String(role),
			Handler: aws.String("index." + h), Code: &types.FunctionCode{ZipFile: zip}, Timeout: aws.Int32(30),
		}, 30*time.Second)
	}
}

func TestNodeRICInvoke(t *testing.T) {
	zip := ricZip(t, ricPackage(t)) // before ctxT: a first build takes minutes
	s := startLamb(t, "")
	ctx := ctxT(t)
	c := s.client("us-east-1", "123456789012")
	createRICFunctions(ctx, t, c, zip, "handler", "fail")

	t.Run("echo", func(t *testing.T) {
		// Twice: the second call reuses the warm runtime, whose ric loops on /next.
		for i, payload := range []string{`{"hello":"wörld","n":[1,2]}`, `"again"`} {
			out, err := c.Invoke(ctx, &lambda.InvokeInput{
				FunctionName: aws.String("ric-handler"), Payload: []byte(payload), LogType: types.LogTypeTail,
			})
			if err != nil {
				t.Fatal(err)
			}
			if out.FunctionError != nil || out.StatusCode != 200 {
				t.Fatalf("call %d: status %d, FunctionError %q: %s", i, out.StatusCode, aws.ToString(out.FunctionError), out.Payload)
			}
			var r struct {
				Event        json.RawMessage `json:"event"`
				RequestID    string          `json:"requestId"`
				ARN          string          `json:"arn"`
				FunctionName string          `json:"functionName"`
				RemainingMs  int64           `json:"remainingMs"`
			}
			if err := json.Unmarshal(out.Payload, &r); err != nil {
				t.Fatalf("call %d: payload %s: %v", i, out.Payload, err)
			}
			reqID, _ := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata)
			if reqID == "" || r.RequestID != reqID {
				t.Errorf("call %d: context.awsRequestId %q, invoke's request id %q", i, r.RequestID, reqID)
			}
			if string(r.Event) != payload {
				t.Errorf("call %d: event %s, want %s", i, r.Event, payload)
			}
			if r.ARN != "arn:aws:lambda:us-east-1:123456789012:function:ric-handler" || r.FunctionName != "ric-handler" {
				t.Errorf("call %d: arn %q, functionName %q", i, r.ARN, r.FunctionName)
			}
			// The deadline header is in ms since the epoch; 30 s timeout.
			if r.RemainingMs <= 0 || r.RemainingMs > 30_000 {
				t.Errorf("call %d: getRemainingTimeInMillis() = %d, want in (0, 30000]", i, r.RemainingMs)
			}
			// The ric prefixes console.log lines with the timestamp and request id.
			tail := decodeTail(t, out.LogResult)
			if !strings.Contains(tail, reqID+"\tINFO\techo-marker") || !strings.Contains(tail, "END RequestId: "+reqID) {
				t.Errorf("call %d: log tail lacks the ric's log line or END:\n%s", i, tail)
			}
		}
	})

	t.Run("error", func(t *testing.T) {
		out, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("ric-fail"), Payload: []byte(`{}`)})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(out.FunctionError) != "Unhandled" || out.StatusCode != 200 {
			t.Fatalf("status %d, FunctionError %q, want 200 Unhandled: %s", out.StatusCode, aws.ToString(out.FunctionError), out.Payload)
		}
		// AWS's shape for a Node handler's thrown error.
		var e struct {
			ErrorType    string   `json:"errorType"`
			ErrorMessage string   `json:"errorMessage"`
			Trace        []string `json:"trace"`
		}
		if err := json.Unmarshal(out.Payload, &e); err != nil {
			t.Fatalf("payload %s: %v", out.Payload, err)
		}
		if e.ErrorType != "TypeError" || e.ErrorMessage != "failed on request" ||
			len(e.Trace) == 0 || e.Trace[0] != "TypeError: failed on request" {
			t.Errorf("error payload %s", out.Payload)
		}
	})
}

func TestNodeRICStream(t *testing.T) {
	zip := ricZip(t, ricPackage(t)) // before ctxT: a first build takes minutes
	s := startLamb(t, "")
	ctx := ctxT(t)
	c := s.client("us-east-1", "123456789012")
	createRICFunctions(ctx, t, c, zip, "stream")

	tests := []struct {
		name     string
		fail     bool
		wantCode string // InvokeComplete's ErrorCode
		wantMsg  string // InvokeComplete's ErrorDetails
	}{
		{name: "ok"},
		{name: "fails mid-stream", fail: true, wantCode: "RangeError", wantMsg: "broke mid-stream"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// The handler blocks on this server after its first chunk until the
			// test has read that chunk from the event stream.
			release := make(chan struct{})
			var once sync.Once
			gate := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-release:
				case <-r.Context().Done():
				}
			}))
			t.Cleanup(gate.Close)
			t.Cleanup(func() { once.Do(func() { close(release) }) }) // runs before gate.Close

			event, _ := json.Marshal(map[string]any{"release": gate.URL, "fail": tc.fail})
			out, err := c.InvokeWithResponseStream(ctx, &lambda.InvokeWithResponseStreamInput{
				FunctionName: aws.String("ric-stream"), Payload: event,
			})
			if err != nil {
				t.Fatal(err)
			}
			// ResponseStreamContentType is the HTTP Content-Type, the event
			// stream's own, not the function's setContentType.
			if out.StatusCode != 200 {
				t.Errorf("status %d", out.StatusCode)
			}
			reqID, _ := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata)
			stream := out.GetStream()
			defer stream.Close()

			var body strings.Builder
			var complete *types.InvokeWithResponseStreamCompleteEvent
			for ev := range stream.Events() {
				switch v := ev.(type) {
				case *types.InvokeWithResponseStreamResponseEventMemberPayloadChunk:
					body.Write(v.Value.Payload)
					// The function is still blocked: this chunk was streamed.
					if body.String() == "first;" {
						once.Do(func() { close(release) })
					}
				case *types.InvokeWithResponseStreamResponseEventMemberInvokeComplete:
					complete = &v.Value
				default:
					t.Fatalf("unexpected event %T", ev)
				}
			}
			if err := stream.Err(); err != nil {
				t.Fatal(err)
			}
			select {
			case <-release:
			default:
				t.Fatalf("the first chunk did not arrive alone before the function finished; body %q", body.String())
			}
			if complete == nil {
				t.Fatal("no InvokeComplete event")
			}
			want := "first;second:" + reqID
			if tc.fail {
				want = "first;"
			}
			if body.String() != want {
				t.Errorf("body %q, want %q", body.String(), want)
			}
			if aws.ToString(complete.ErrorCode) != tc.wantCode || !strings.Contains(aws.ToString(complete.ErrorDetails), tc.wantMsg) {
				t.Errorf("InvokeComplete ErrorCode %q, ErrorDetails %q; want %q, %q",
					aws.ToString(complete.ErrorCode), aws.ToString(complete.ErrorDetails), tc.wantCode, tc.wantMsg)
			}
		})
	}
}

func decodeTail(t *testing.T, logResult *string) string {
	t.Helper()
	if logResult == nil {
		t.Error("no LogResult")
		return ""
	}
	b, err := base64.StdEncoding.DecodeString(aws.ToString(logResult))
	if err != nil {
		t.Errorf("LogResult: %v", err)
	}
	return string(b)
}
