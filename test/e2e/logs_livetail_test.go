package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// TestLiveTail: boto3's start_live_tail on /aws/lambda/NAME against the real
// lamb binary sees an invocation's lines arrive in a sessionUpdate
// (testdata/boto3_live_tail.py). The AWS CLI v2 of Debian 12 (2.9.19) has no
// `aws logs start-live-tail`; `aws logs tail --follow` is TestObservability's.
func TestLiveTail(t *testing.T) {
	s := startLamb(t, "")
	ctx := ctxT(t)
	c := s.client("us-east-1", "AKIDEXAMPLE")
	createActive(ctx, t, c, &lambda.CreateFunctionInput{
		FunctionName: aws.String("tailed"), Runtime: types.RuntimePython312, Role: aws.String(role),
		Handler: aws.String("app.handler"), Code: &types.FunctionCode{ZipFile: zipOf(t, map[string]string{"app.py": obsHandler})},
	}, 30*time.Second)
	// One invocation before the session: its lines must not arrive in it.
	if _, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("tailed"), Payload: []byte(`{"who":"before"}`)}); err != nil {
		t.Fatal(err)
	}
	py := pythonWithBoto3(t)
	cmd := exec.Command(py, filepath.Join("testdata", "boto3_live_tail.py"))
	cmd.Env = append(os.Environ(), "LAMB_ENDPOINT="+s.URL, "LAMB_FUNCTION=tailed",
		"AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=secret", "AWS_EC2_METADATA_DISABLED=true")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("boto3_live_tail.py: %v\n%s", err, out)
	}
	t.Logf("boto3_live_tail.py:\n%s", out)
}
