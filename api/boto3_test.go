package api

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// boto3Script drives the server with boto3 and prints what boto3 parsed.
const boto3Script = `
import base64, io, json, sys, zipfile, boto3
from botocore.exceptions import ClientError
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as z:
    z.writestr("handler.py", "def handler(e, c):\n    return 1\n")
c = boto3.client("lambda", endpoint_url=sys.argv[1], region_name="us-east-1",
                 aws_access_key_id="111111111111", aws_secret_access_key="x")
out = {}
r = c.create_function(FunctionName="b3", Runtime="python3.12", Role="arn:aws:iam::111111111111:role/r",
                      Handler="handler.handler", Code={"ZipFile": buf.getvalue()})
out["create_state"] = r["State"]
c.get_waiter("function_active_v2").wait(FunctionName="b3", WaiterConfig={"Delay": 1, "MaxAttempts": 10})
out["get_state"] = c.get_function(FunctionName="arn:aws:lambda:us-east-1:111111111111:function:b3")["Configuration"]["State"]
for name, call in [("notfound", lambda: c.get_function(FunctionName="nope")),
                   ("conflict", lambda: c.create_function(FunctionName="b3", Runtime="python3.12", Role="arn:aws:iam::111111111111:role/r", Handler="h.h", Code={"ZipFile": buf.getvalue()})),
                   ("validation", lambda: c.get_function(FunctionName="bad:name:x:y"))]:
    try:
        call()
        out[name] = "no error"
    except ClientError as e:
        out[name] = [e.response["Error"]["Code"], e.response["Error"]["Message"], e.response["ResponseMetadata"]["HTTPStatusCode"]]
print(json.dumps(out))
`

// needBoto3 skips the test when python3 with boto3 is missing (or under
// -short); under CI=true a missing boto3 fails it instead.
func needBoto3(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs python; skipped with -short")
	}
	if err := exec.Command("python3", "-c", "import boto3").Run(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("python3 with boto3 is required under CI: %v", err)
		}
		t.Skipf("python3 with boto3 not available: %v", err)
	}
}

// runBoto3 runs script with python3, the server's URL as its argument, and
// returns what it printed. AWS settings of the machine are kept out.
func runBoto3(t *testing.T, script, url string) []byte {
	t.Helper()
	cmd := exec.Command("python3", "-c", script, url)
	cmd.Env = append(os.Environ(), "AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("boto3 script: %v\n%s", err, out)
	}
	return out
}

// TestBoto3ReadsOurAnswers checks the answers with boto3 itself (skipped when
// python3 with boto3 is missing, failing then under CI=true).
func TestBoto3ReadsOurAnswers(t *testing.T) {
	needBoto3(t)
	h := newHarness(t, Config{})
	got := strings.TrimSpace(string(runBoto3(t, boto3Script, h.ts.URL)))
	for _, want := range []string{
		`"create_state": "Pending"`,
		`"get_state": "Active"`,
		`"notfound": ["ResourceNotFoundException", "Function not found: arn:aws:lambda:us-east-1:111111111111:function:nope", 404]`,
		`"conflict": ["ResourceConflictException", "Function already exist: b3", 409]`,
		`"validation": ["ValidationException", "1 validation error detected: Value 'bad:name:x:y' at 'functionName'`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("boto3 saw %s\nmissing %s", got, want)
		}
	}
}
