package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

func TestBoto3Invoke(t *testing.T) {
	s := startLamb(t, "")
	runPython(t, s, "boto3_invoke.py")
}

// buildGoBootstrap compiles testdata/goecho (aws-lambda-go) as a provided.al2023 bootstrap zip.
func buildGoBootstrap(t *testing.T) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "bootstrap")
	cmd := exec.Command("go", "build", "-o", out, "./testdata/goecho")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build goecho: %v\n%s", err, b)
	}
	bin, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return zipOf(t, map[string]string{"bootstrap": string(bin)})
}

func TestGoSDKInvokeAWSLambdaGo(t *testing.T) {
	s := startLamb(t, "")
	ctx := ctxT(t)
	c := s.client("us-east-1", "123456789012")
	_, err := c.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String("goecho"), Runtime: types.RuntimeProvidedal2023, Role: aws.String(role),
		Handler: aws.String("bootstrap"), Code: &types.FunctionCode{ZipFile: buildGoBootstrap(t)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := lambda.NewFunctionActiveV2Waiter(c).Wait(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("goecho")}, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		payload   string
		wantError string
	}{
		{`{"hello":"wörld"}`, ""},
		{`"fail"`, "Unhandled"},
	}
	for _, tc := range tests {
		out, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("goecho"), Payload: []byte(tc.payload)})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(out.FunctionError) != tc.wantError {
			t.Fatalf("payload %s: FunctionError %q, want %q (%s)", tc.payload, aws.ToString(out.FunctionError), tc.wantError, out.Payload)
		}
		if tc.wantError != "" {
			var e struct{ ErrorMessage, ErrorType string }
			if err := json.Unmarshal(out.Payload, &e); err != nil || e.ErrorMessage != "failed on request" {
				t.Errorf("error payload %s (%v)", out.Payload, err)
			}
			continue
		}
		var r reply
		if err := json.Unmarshal(out.Payload, &r); err != nil {
			t.Fatalf("payload %s: %v", out.Payload, err)
		}
		if string(r.Event) != tc.payload || r.RequestID == "" ||
			r.ARN != "arn:aws:lambda:us-east-1:123456789012:function:goecho" {
			t.Errorf("reply = %+v", r)
		}
		if aws.ToString(out.ExecutedVersion) != "$LATEST" || out.StatusCode != 200 {
			t.Errorf("ExecutedVersion %q, status %d", aws.ToString(out.ExecutedVersion), out.StatusCode)
		}
	}
}

type reply struct {
	Event     json.RawMessage `json:"event"`
	RequestID string          `json:"requestId"`
	ARN       string          `json:"arn"`
}
