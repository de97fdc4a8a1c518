package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// TestBoto3Streaming: boto3's invoke_with_response_stream on a node function
// and function URLs (NONE, BUFFERED and RESPONSE_STREAM) over plain HTTP.
func TestBoto3Streaming(t *testing.T) {
	s := startLamb(t, "")
	runPython(t, s, "boto3_streaming.py")
}

// TestGoSDKStreamsAWSLambdaGo: aws-lambda-go's streaming (a handler returning
// an io.Reader) reaches aws-sdk-go-v2's event-stream reader chunk by chunk.
func TestGoSDKStreamsAWSLambdaGo(t *testing.T) {
	ctx, c := startGoFunction(t, "gostream")
	// Not in a t.TempDir (inside a 0700 dir): as root, lamb runs the
	// function as its account's uid, which must be able to see the gate.
	gateDir, err := os.MkdirTemp("", "lamb-e2e-gate-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(gateDir) })
	if err := os.Chmod(gateDir, 0o755); err != nil {
		t.Fatal(err)
	}
	gate := filepath.Join(gateDir, "gate")
	out, err := c.InvokeWithResponseStream(ctx, &lambda.InvokeWithResponseStreamInput{
		FunctionName: aws.String("gostream"), Payload: []byte(`{"gate":"` + gate + `"}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	st := out.GetStream()
	defer st.Close()
	var got strings.Builder
	complete := false
	for ev := range st.Events() {
		switch e := ev.(type) {
		case *types.InvokeWithResponseStreamResponseEventMemberPayloadChunk:
			got.Write(e.Value.Payload)
			if got.String() == "first;" {
				// The handler waits for the gate: "first;" came while it ran.
				if err := os.WriteFile(gate, nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		case *types.InvokeWithResponseStreamResponseEventMemberInvokeComplete:
			complete = true
			if e.Value.ErrorCode != nil {
				t.Errorf("ErrorCode %s: %s", aws.ToString(e.Value.ErrorCode), aws.ToString(e.Value.ErrorDetails))
			}
		}
	}
	if err := st.Err(); err != nil {
		t.Fatal(err)
	}
	if got.String() != "first;second;" || !complete {
		t.Errorf("stream %q, InvokeComplete %v", got.String(), complete)
	}
}

// TestCurlAndCLI: curl reaches a URL by its *.localhost host name (curl
// resolves .localhost itself); `lamb urls` lists it; `lamb invoke --stream`
// prints a streamed response.
func TestCurlAndCLI(t *testing.T) {
	curl, err := exec.LookPath("curl")
	need(t, "curl", err == nil)
	s := startLamb(t, "")
	ctx := ctxT(t)
	// The CLI sends unsigned requests: the default account.
	c := s.client("us-east-1", "test")
	js := `exports.handler = awslambda.streamifyResponse(async (event, stream) => {
  stream.write("hello ");
  stream.write("stream\n");
  stream.end();
});`
	createActive(ctx, t, c, &lambda.CreateFunctionInput{
		FunctionName: aws.String("hello"), Runtime: types.RuntimeNodejs22x, Handler: aws.String("index.handler"),
		Role: aws.String("arn:aws:iam::000000000000:role/r"), Code: &types.FunctionCode{ZipFile: zipOf(t, map[string]string{"index.js": js})},
	}, time.Minute)
	cfg, err := c.CreateFunctionUrlConfig(ctx, &lambda.CreateFunctionUrlConfigInput{
		FunctionName: aws.String("hello"), AuthType: types.FunctionUrlAuthTypeNone, InvokeMode: types.InvokeModeResponseStream})
	if err != nil {
		t.Fatal(err)
	}
	url := aws.ToString(cfg.FunctionUrl)
	// Not public until the policy allows it (AWS since October 2025).
	out, err := exec.CommandContext(ctx, curl, "-sS", url).CombinedOutput()
	if err != nil || string(out) != `{"Message":"Forbidden"}`+"\n" {
		t.Errorf("curl %s before the policy: %v: %q", url, err, out)
	}
	out, err = exec.CommandContext(ctx, lambBin, "urls", "--endpoint", s.URL).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "no: no statement allows lambda:InvokeFunctionUrl") {
		t.Errorf("lamb urls before the policy: %v\n%s", err, out)
	}
	for _, p := range []*lambda.AddPermissionInput{
		{FunctionName: aws.String("hello"), StatementId: aws.String("public-url"), Action: aws.String("lambda:InvokeFunctionUrl"),
			Principal: aws.String("*"), FunctionUrlAuthType: types.FunctionUrlAuthTypeNone},
		{FunctionName: aws.String("hello"), StatementId: aws.String("public-invoke"), Action: aws.String("lambda:InvokeFunction"),
			Principal: aws.String("*"), InvokedViaFunctionUrl: aws.Bool(true)},
	} {
		if _, err := c.AddPermission(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	out, err = exec.CommandContext(ctx, curl, "-sS", "--fail", url+"path?x=1").CombinedOutput()
	if err != nil || string(out) != "hello stream\n" {
		t.Errorf("curl %s: %v: %q", url, err, out)
	}

	out, err = exec.CommandContext(ctx, lambBin, "urls", "--endpoint", s.URL).CombinedOutput()
	if err != nil || !strings.Contains(string(out), url) || !strings.Contains(string(out), "RESPONSE_STREAM") ||
		!regexp.MustCompile(`NONE\s+RESPONSE_STREAM\s+yes\s`).Match(out) {
		t.Errorf("lamb urls: %v\n%s", err, out)
	}
	out, err = exec.CommandContext(ctx, lambBin, "invoke", "hello", "--stream", "--endpoint", s.URL).CombinedOutput()
	if err != nil || string(out) != "hello stream\n" {
		t.Errorf("lamb invoke --stream: %v: %q", err, out)
	}
}
