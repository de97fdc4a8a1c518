package e2e

import (
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	smithy "github.com/aws/smithy-go"
)

// A web page's attacks on a lamb run as the README says: a simple POST with
// a foreign Origin and a DNS-rebinding Host create and read nothing, while
// the SDKs work unchanged.
func TestBrowserAttacksRefused(t *testing.T) {
	s := startLamb(t, "")
	zip := zipOf(t, map[string]string{"handler.py": "def handler(e, c):\n    return 'pwned'\n"})
	create := `{"FunctionName":"pwn","Runtime":"python3.12","Role":"` + role + `","Handler":"handler.handler","Code":{"ZipFile":"` + base64.StdEncoding.EncodeToString(zip) + `"}}`
	for _, tc := range []struct {
		name   string
		method string
		path   string
		host   string
		hdr    map[string]string
	}{
		{"text/plain POST from a foreign page", "POST", "/2015-03-31/functions", "", map[string]string{"Origin": "http://evil.example", "Content-Type": "text/plain"}},
		{"rebinding page", "POST", "/2015-03-31/functions", "evil.example:" + strings.Split(s.Addr, ":")[1], map[string]string{"Content-Type": "text/plain"}},
		{"rebinding page reading", "GET", "/2015-03-31/functions/", "evil.example", nil},
	} {
		req, _ := http.NewRequest(tc.method, s.URL+tc.path, strings.NewReader(create))
		if tc.host != "" {
			req.Host = tc.host
		}
		for k, v := range tc.hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 403 || resp.Header.Get("X-Amzn-ErrorType") != "AccessDeniedException" || !strings.Contains(string(b), "--allow-") {
			t.Errorf("%s: %d %s", tc.name, resp.StatusCode, b)
		}
	}
	ctx := ctxT(t)
	out, err := s.client("us-east-1", "test").ListFunctions(ctx, &lambda.ListFunctionsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Functions) != 0 {
		t.Errorf("a refused page created %d function(s)", len(out.Functions))
	}
}

// lamb serve beyond loopback refuses to start without credentials, naming
// the flags that change that.
func TestNonLoopbackNeedsCredentials(t *testing.T) {
	cmd := exec.Command(lambBin, "serve", "--addr", "0.0.0.0:0", "--ephemeral", "--backend", "process")
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || !strings.Contains(string(out), "--credentials") || !strings.Contains(string(out), "--insecure-no-auth") {
		t.Fatalf("serve 0.0.0.0 without credentials: %v\n%s", err, out)
	}
}

// With --credentials, the SDKs, boto3, the AWS CLI and lamb's own CLI sign
// and are accepted; a wrong secret gets AWS's 403.
func TestCredentialsVerified(t *testing.T) {
	s := startLamb(t, "", "--credentials", "AKIDLAMBTEST:s3cret", "--credentials", "123456789012:acct-secret")
	ctx := ctxT(t)
	good := lambda.New(lambda.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDLAMBTEST", "s3cret", "")})
	bad := lambda.New(lambda.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDLAMBTEST", "wrong", "")})
	if _, err := good.ListFunctions(ctx, &lambda.ListFunctionsInput{}); err != nil {
		t.Fatalf("aws-sdk-go-v2 with the right secret: %v", err)
	}
	var ae smithy.APIError
	if _, err := bad.ListFunctions(ctx, &lambda.ListFunctionsInput{}); !errors.As(err, &ae) || ae.ErrorCode() != "InvalidSignatureException" {
		t.Errorf("aws-sdk-go-v2 with a wrong secret: %v", err)
	}

	// boto3: create (a signed 1 MB+ body), wait, invoke; a wrong secret is refused.
	py := pythonWithBoto3(t)
	script := `
import io, os, sys, zipfile, boto3, botocore.config, botocore.exceptions
ep = os.environ["LAMB_ENDPOINT"]
def client(secret):
    return boto3.client("lambda", endpoint_url=ep, region_name="us-east-1",
        aws_access_key_id="123456789012", aws_secret_access_key=secret,
        config=botocore.config.Config(retries={"max_attempts": 1}))
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as z:
    z.writestr("handler.py", "def handler(e, c):\n    return {'ok': e['n']}\n")
    z.writestr("pad.bin", os.urandom(1200000))
c = client("acct-secret")
c.create_function(FunctionName="signed", Runtime="python3.12", Role="arn:aws:iam::123456789012:role/r",
    Handler="handler.handler", Code={"ZipFile": buf.getvalue()})
c.get_waiter("function_active_v2").wait(FunctionName="signed")
r = c.invoke(FunctionName="signed", Payload=b'{"n": 7}')
body = r["Payload"].read()
assert body == b'{"ok": 7}', body
try:
    client("nope").list_functions()
    sys.exit("wrong secret accepted")
except botocore.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "InvalidSignatureException", e.response
    assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 403, e.response
print("boto3 ok")
`
	cmd := exec.Command(py, "-c", script)
	cmd.Env = append(os.Environ(), "LAMB_ENDPOINT="+s.URL, "AWS_EC2_METADATA_DISABLED=true")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("boto3: %v\n%s", err, out)
	}

	// The AWS CLI v2.
	cli := func(secret string, args ...string) (string, error) {
		c := exec.Command("/usr/bin/aws", append([]string{"--endpoint-url", s.URL, "--region", "us-east-1", "--output", "json"}, args...)...)
		c.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=123456789012", "AWS_SECRET_ACCESS_KEY="+secret, "AWS_PAGER=", "AWS_MAX_ATTEMPTS=1", "AWS_EC2_METADATA_DISABLED=true")
		b, err := c.CombinedOutput()
		return string(b), err
	}
	_, verr := exec.Command("/usr/bin/aws", "--version").Output()
	need(t, "the AWS CLI v2 (/usr/bin/aws)", verr == nil)
	if out, err := cli("acct-secret", "lambda", "get-function", "--function-name", "signed"); err != nil || !strings.Contains(out, `"FunctionName": "signed"`) {
		t.Errorf("aws lambda get-function, right secret: %v\n%s", err, out)
	}
	if out, err := cli("nope", "lambda", "list-functions"); err == nil || !strings.Contains(out, "InvalidSignatureException") {
		t.Errorf("aws lambda list-functions, wrong secret: %v\n%s", err, out)
	}

	// lamb's own client signs with the environment's credentials.
	lamb := func(secret string, args ...string) (string, error) {
		c := exec.Command(lambBin, append(args, "--endpoint", s.URL)...)
		c.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=123456789012", "AWS_SECRET_ACCESS_KEY="+secret)
		b, err := c.CombinedOutput()
		return string(b), err
	}
	if out, err := lamb("acct-secret", "invoke", "signed", "--payload", `{"n":1}`); err != nil || !strings.Contains(out, `"ok": 1`) {
		t.Errorf("lamb invoke: %v\n%s", err, out)
	}
	if out, err := lamb("acct-secret", "ps"); err != nil {
		t.Errorf("lamb ps: %v\n%s", err, out)
	}
	if out, err := lamb("nope", "ps"); err == nil {
		t.Errorf("lamb ps with a wrong secret: accepted\n%s", out)
	}
}
