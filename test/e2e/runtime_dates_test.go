package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/lambhq/lamb/runtimes"
)

// runtimeDatesScript creates one function per runtime named in argv[2:] with
// boto3 against the lamb at argv[1] and prints, per runtime, "created" or
// AWS's error code, message and status.
const runtimeDatesScript = `
import io, json, sys, zipfile, boto3, botocore.config
from botocore.exceptions import ClientError
c = boto3.client("lambda", endpoint_url=sys.argv[1], region_name="us-east-1",
                 aws_access_key_id="123456789012", aws_secret_access_key="x",
                 config=botocore.config.Config(retries={"max_attempts": 1}))
out = {}
for i, rt in enumerate(sys.argv[2:]):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        if rt.startswith("nodejs"):
            z.writestr("index.mjs", "export const handler = async (e) => e;\n")
        else:
            z.writestr("index.py", "def handler(e, c):\n    return e\n")
    try:
        c.create_function(FunctionName="dates-%d" % i, Runtime=rt, Role="arn:aws:iam::123456789012:role/lambda-role",
                          Handler="index.handler", Code={"ZipFile": buf.getvalue()})
        out[rt] = "created"
    except ClientError as e:
        out[rt] = [e.response["Error"]["Code"], e.response["Error"]["Message"], e.response["ResponseMetadata"]["HTTPStatusCode"]]
print(json.dumps(out))
`

// TestBoto3RuntimeDates creates functions on the real binary with boto3 on
// runtimes around AWS's block-create dates. Run on 2026-12-02, python3.11
// (blocked from 2027-07-31), nodejs20.x (2027-02-01), java17 and
// provided.al2 are created, as AWS creates them that day; python3.7 (blocked
// since 2024-01-09) gets AWS's refusal. The expectation follows the table's
// dates on the day the test runs, so it stays true after them.
func TestBoto3RuntimeDates(t *testing.T) {
	py := pythonWithBoto3(t)
	s := startLamb(t, "")
	ids := []string{"python3.11", "nodejs20.x", "java17", "provided.al2", "python3.7"}
	cmd := exec.Command(py, append([]string{"-c", runtimeDatesScript, s.URL}, ids...)...)
	cmd.Env = append(os.Environ(), "AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("boto3 script: %v\n%s", err, b)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("boto3 printed %q: %v", b, err)
	}
	t.Logf("boto3 saw %s", b)
	now := time.Now()
	for _, id := range ids {
		rt, ok := runtimes.Lookup(id)
		if !ok {
			t.Fatalf("no runtime %s", id)
		}
		want := any("created")
		if rt.CreateBlocked(now) {
			want = []any{"InvalidParameterValueException", "The runtime parameter of " + id + " is no longer supported for creating or updating AWS Lambda functions. We recommend you use a supported runtime while creating or updating functions.", float64(400)}
		}
		g, _ := json.Marshal(got[id])
		w, _ := json.Marshal(want)
		if string(g) != string(w) {
			t.Errorf("%s on %s: boto3 saw %s, want %s", id, now.UTC().Format(time.DateOnly), g, w)
		}
	}
	// Independent of the table: AWS creates both until 2027-02-01 at least
	// (issue #13's reading of AWS's page).
	if now.Before(time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC)) {
		for _, id := range []string{"python3.11", "nodejs20.x"} {
			if got[id] != "created" {
				t.Errorf("%s not created before 2027-02-01: %v", id, got[id])
			}
		}
	}
}
