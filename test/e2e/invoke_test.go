package e2e

import (
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

func TestBoto3Invoke(t *testing.T) {
	s := startLamb(t, "")
	runPython(t, s, "boto3_invoke.py")
}

func TestGoSDKInvokeAWSLambdaGo(t *testing.T) {
	ctx, c := startGoFunction(t, "goecho")
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
