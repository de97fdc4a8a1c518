package e2e

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

const role = "arn:aws:iam::123456789012:role/lambda-role"

func pythonWithBoto3(t *testing.T) string {
	t.Helper()
	py := os.Getenv("LAMB_TEST_PYTHON")
	if py == "" {
		py = "python3"
	}
	err := exec.Command(py, "-c", "import boto3").Run()
	need(t, "python3 with boto3", err == nil)
	return py
}

// runPython runs a unittest script from testdata against the server.
func runPython(t *testing.T, s *server, script string) {
	t.Helper()
	py := pythonWithBoto3(t)
	cmd := exec.Command(py, filepath.Join("testdata", script))
	cmd.Env = append(os.Environ(), "LAMB_ENDPOINT="+s.URL, "AWS_EC2_METADATA_DISABLED=true")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s failed: %v\n%s", script, err, out)
	}
	t.Logf("%s:\n%s", script, out)
}

func TestBoto3ControlPlane(t *testing.T) {
	s := startLamb(t, "")
	runPython(t, s, "boto3_controlplane.py")
}

// awsCLI runs the AWS CLI v2 against the server and decodes its JSON output.
func awsCLI(t *testing.T, s *server, out any, args ...string) error {
	t.Helper()
	bin := os.Getenv("LAMB_TEST_AWSCLI")
	if bin == "" {
		bin = "/usr/bin/aws"
	}
	v, err := exec.Command(bin, "--version").Output()
	need(t, "the AWS CLI v2 (/usr/bin/aws, Debian package awscli)", err == nil && strings.HasPrefix(string(v), "aws-cli/2"))
	cmd := exec.Command(bin, append([]string{"--endpoint-url", s.URL, "--region", "us-east-1", "--output", "json"}, args...)...)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=123456789012", "AWS_SECRET_ACCESS_KEY=x",
		"AWS_PAGER=", "AWS_EC2_METADATA_DISABLED=true", "AWS_MAX_ATTEMPTS=1")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		return errors.New(strings.TrimSpace(stderr.String()))
	}
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("aws %v: decoding %q: %v", args, b, err)
		}
	}
	return nil
}

func TestAWSCLIControlPlane(t *testing.T) {
	s := startLamb(t, "")
	dir := t.TempDir()
	zipPath := filepath.Join(dir, "code.zip")
	if err := os.WriteFile(zipPath, zipOf(t, map[string]string{"handler.py": "def handler(e, c):\n    return e\n"}), 0o644); err != nil {
		t.Fatal(err)
	}
	var created struct{ FunctionArn, State string }
	if err := awsCLI(t, s, &created, "lambda", "create-function", "--function-name", "cli-fn",
		"--runtime", "python3.12", "--role", role, "--handler", "handler.handler",
		"--zip-file", "fileb://"+zipPath); err != nil {
		t.Fatal(err)
	}
	if created.FunctionArn != "arn:aws:lambda:us-east-1:123456789012:function:cli-fn" {
		t.Errorf("FunctionArn = %q", created.FunctionArn)
	}
	if err := awsCLI(t, s, nil, "lambda", "wait", "function-active-v2", "--function-name", "cli-fn"); err != nil {
		t.Fatal(err)
	}
	var list struct {
		Functions []struct{ FunctionName string }
	}
	if err := awsCLI(t, s, &list, "lambda", "list-functions"); err != nil {
		t.Fatal(err)
	}
	if len(list.Functions) != 1 || list.Functions[0].FunctionName != "cli-fn" {
		t.Errorf("list-functions = %+v", list)
	}
	err := awsCLI(t, s, nil, "lambda", "get-function", "--function-name", "nope")
	if err == nil || !strings.Contains(err.Error(), "ResourceNotFoundException") ||
		!strings.Contains(err.Error(), "Function not found: arn:aws:lambda:us-east-1:123456789012:function:nope") {
		t.Errorf("get-function nope: %v", err)
	}
	if err := awsCLI(t, s, nil, "lambda", "delete-function", "--function-name", "cli-fn"); err != nil {
		t.Fatal(err)
	}
}

// A function acknowledged with 201 survives kill -9 of the server, and a restart on
// the same data dir serves it again.
func TestStateSurvivesKill9(t *testing.T) {
	dataDir := t.TempDir()
	addr := freeAddr(t)
	s := startLambAt(t, addr, dataDir)
	ctx := ctxT(t)
	c := s.client("us-east-1", "123456789012")
	code := zipOf(t, map[string]string{"handler.py": "def handler(e, c):\n    return e\n"})
	out, err := c.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String("durable"), Runtime: types.RuntimePython312, Role: aws.String(role),
		Handler: aws.String("handler.handler"), Code: &types.FunctionCode{ZipFile: code},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PublishLayerVersion(ctx, &lambda.PublishLayerVersionInput{
		LayerName: aws.String("durable-layer"), Content: &types.LayerVersionContentInput{ZipFile: code},
	}); err != nil {
		t.Fatal(err)
	}
	s.kill9()

	s2 := startLambAt(t, addr, dataDir)
	c2 := s2.client("us-east-1", "123456789012")
	got, err := c2.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("durable")})
	if err != nil {
		t.Fatalf("after kill -9 and restart: %v", err)
	}
	if aws.ToString(got.Configuration.CodeSha256) != aws.ToString(out.CodeSha256) ||
		aws.ToString(got.Configuration.RevisionId) == "" {
		t.Errorf("restored function differs: %+v", got.Configuration)
	}
	layers, err := c2.ListLayerVersions(ctx, &lambda.ListLayerVersionsInput{LayerName: aws.String("durable-layer")})
	if err != nil || len(layers.LayerVersions) != 1 {
		t.Fatalf("layer after restart: %+v, %v", layers, err)
	}
}
