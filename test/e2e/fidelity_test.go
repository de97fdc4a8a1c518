package e2e

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// runBoto3Script runs script with boto3 against s (its URL is argv[1]) and
// decodes the JSON object it prints.
func runBoto3Script(t *testing.T, s *server, script string) map[string]any {
	t.Helper()
	py := pythonWithBoto3(t)
	cmd := exec.Command(py, "-c", script, s.URL)
	cmd.Env = append(os.Environ(), "AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	b, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("boto3 script: %v\n%s\n%s", err, b, stderr)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("boto3 printed %q: %v", b, err)
	}
	t.Logf("boto3 saw %s", b)
	return got
}

// boto3Prelude makes a client and a function zip; call(name, fn) records
// fn's result or AWS's error (code, message, status) under name.
const boto3Prelude = `
import io, json, sys, zipfile, boto3, botocore.config
from botocore.exceptions import ClientError
c = boto3.client("lambda", endpoint_url=sys.argv[1], region_name="us-east-1",
                 aws_access_key_id="123456789012", aws_secret_access_key="x",
                 config=botocore.config.Config(retries={"max_attempts": 1}))
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as z:
    z.writestr("index.py", "def handler(e, c):\n    return e\n")
ZIP = buf.getvalue()
ROLE = "arn:aws:iam::123456789012:role/lambda-role"
out = {}
def call(name, fn):
    try:
        r = fn()
        r.pop("ResponseMetadata", None)
        out[name] = r
    except ClientError as e:
        out[name] = [e.response["Error"]["Code"], e.response["Error"]["Message"], e.response["ResponseMetadata"]["HTTPStatusCode"]]
`

// terraformDriftScript drives what Terraform's aws_lambda_code_signing_config
// and aws_lambda_function (dead_letter_config, file_system_config) do.
const terraformDriftScript = boto3Prelude + `
csc = c.create_code_signing_config(AllowedPublishers={"SigningProfileVersionArns": ["arn:aws:signer:us-east-1:123456789012:/signing-profiles/p/abcdefghij"]},
                                   Tags={"team": "a"})["CodeSigningConfig"]
arn = csc["CodeSigningConfigArn"]
out["csc_has_tags_key"] = "Tags" in csc
call("csc_tags", lambda: c.list_tags(Resource=arn))
c.tag_resource(Resource=arn, Tags={"env": "dev"})
c.untag_resource(Resource=arn, TagKeys=["team"])
call("csc_tags_after", lambda: c.list_tags(Resource=arn))
c.update_code_signing_config(CodeSigningConfigArn=arn, Description="d")
call("csc_tags_after_update", lambda: c.list_tags(Resource=arn))
missing = arn[:-17] + "0" * 17
call("csc_tags_missing", lambda: c.list_tags(Resource=missing))

dlq = "arn:aws:sqs:us-east-1:123456789012:dlq"
efs = "arn:aws:elasticfilesystem:us-east-1:123456789012:access-point/fsap-0123456789abcdef0"
r = c.create_function(FunctionName="drift", Runtime="python3.12", Role=ROLE, Handler="index.handler", Code={"ZipFile": ZIP},
                      DeadLetterConfig={"TargetArn": dlq},
                      FileSystemConfigs=[{"Arn": efs, "LocalMountPath": "/mnt/data"}], Publish=True)
out["create_dlc"] = r.get("DeadLetterConfig")
out["create_fs"] = r.get("FileSystemConfigs")
out["create_version"] = r["Version"]
c.get_waiter("function_active_v2").wait(FunctionName="drift", WaiterConfig={"Delay": 1, "MaxAttempts": 30})
g = c.get_function_configuration(FunctionName="drift")
out["get_dlc"] = g.get("DeadLetterConfig")
out["get_fs"] = g.get("FileSystemConfigs")
out["version_dlc"] = c.get_function_configuration(FunctionName="drift", Qualifier="1").get("DeadLetterConfig")
out["publish_again"] = c.publish_version(FunctionName="drift")["Version"]
c.get_waiter("function_updated_v2").wait(FunctionName="drift", WaiterConfig={"Delay": 1, "MaxAttempts": 30})
u = c.update_function_configuration(FunctionName="drift", DeadLetterConfig={"TargetArn": ""}, FileSystemConfigs=[])
out["cleared_dlc"] = u.get("DeadLetterConfig")
out["cleared_fs"] = u.get("FileSystemConfigs")
c.get_waiter("function_updated_v2").wait(FunctionName="drift", WaiterConfig={"Delay": 1, "MaxAttempts": 30})
call("bad_mount", lambda: c.update_function_configuration(FunctionName="drift", FileSystemConfigs=[{"Arn": efs, "LocalMountPath": "/data"}]))
call("bad_efs_arn", lambda: c.update_function_configuration(FunctionName="drift", FileSystemConfigs=[{"Arn": "arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/fs-1", "LocalMountPath": "/mnt/x"}]))
call("bad_dlq", lambda: c.update_function_configuration(FunctionName="drift", DeadLetterConfig={"TargetArn": "not-an-arn"}))
print(json.dumps(out))
`

// TestBoto3TerraformDrift checks the three resources issue #13 found
// drifting under Terraform: tags on code signing configs (the model's
// CreateCodeSigningConfigRequest has Tags and its TaggableResource pattern
// takes code-signing-config ARNs, /work/shared/aws-models/lambda.json), and
// DeadLetterConfig and FileSystemConfigs stored and answered by
// Create/UpdateFunctionConfiguration and GetFunctionConfiguration, cleared by
// an empty TargetArn or list. The validation messages follow the model's
// patterns as AWS prints them: "Value '/flock/q3-00' at
// 'fileSystemConfigs.1.member.localMountPath' failed to satisfy constraint:
// Member must satisfy regular expression pattern: ^/mnt/[a-zA-Z0-9-_.]+$"
// (AWS's answer quoted in flock-lab/flock#391).
func TestBoto3TerraformDrift(t *testing.T) {
	s := startLamb(t, "")
	got := runBoto3Script(t, s, terraformDriftScript)
	efs := "arn:aws:elasticfilesystem:us-east-1:123456789012:access-point/fsap-0123456789abcdef0"
	want := map[string]string{
		"csc_has_tags_key":      `false`,
		"csc_tags":              `{"Tags":{"team":"a"}}`,
		"csc_tags_after":        `{"Tags":{"env":"dev"}}`,
		"csc_tags_after_update": `{"Tags":{"env":"dev"}}`,
		"create_dlc":            `{"TargetArn":"arn:aws:sqs:us-east-1:123456789012:dlq"}`,
		"create_fs":             `[{"Arn":"` + efs + `","LocalMountPath":"/mnt/data"}]`,
		"create_version":        `"1"`,
		"get_dlc":               `{"TargetArn":"arn:aws:sqs:us-east-1:123456789012:dlq"}`,
		"get_fs":                `[{"Arn":"` + efs + `","LocalMountPath":"/mnt/data"}]`,
		"version_dlc":           `{"TargetArn":"arn:aws:sqs:us-east-1:123456789012:dlq"}`,
		"publish_again":         `"1"`,
		"cleared_dlc":           `null`,
		"cleared_fs":            `null`,
		"bad_mount":             `["ValidationException","1 validation error detected: Value '/data' at 'fileSystemConfigs.1.member.localMountPath' failed to satisfy constraint: Member must satisfy regular expression pattern: ^/mnt/[a-zA-Z0-9-_.]+$",400]`,
		"bad_efs_arn":           `["ValidationException","1 validation error detected: Value 'arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/fs-1' at 'fileSystemConfigs.1.member.arn' failed to satisfy constraint: Member must satisfy regular expression pattern: ^arn:aws[a-zA-Z-]*:elasticfilesystem:[a-z]{2}((-gov)|(-iso(b?)))?-[a-z]+-\\d{1}:\\d{12}:access-point/fsap-[a-f0-9]{17}$",400]`,
		"bad_dlq":               `["ValidationException","1 validation error detected: Value 'not-an-arn' at 'deadLetterConfig.targetArn' failed to satisfy constraint: Member must satisfy regular expression pattern: ^(arn:(aws[a-zA-Z-]*)?:[a-z0-9-.]+:.*)|()$",400]`,
	}
	checkJSON(t, got, want)
	if m, _ := json.Marshal(got["csc_tags_missing"]); !strings.Contains(string(m), `"ResourceNotFoundException"`) {
		t.Errorf("ListTags of a missing config: %s, want ResourceNotFoundException", m)
	}
}

// checkJSON compares each key of got, marshalled, with want's JSON text.
func checkJSON(t *testing.T, got map[string]any, want map[string]string) {
	t.Helper()
	for k, w := range want {
		g, _ := json.Marshal(got[k])
		var wv any
		if err := json.Unmarshal([]byte(w), &wv); err != nil {
			t.Fatalf("want[%s]: %v", k, err)
		}
		wb, _ := json.Marshal(wv)
		if string(g) != string(wb) {
			t.Errorf("%s: got %s\nwant %s", k, g, wb)
		}
	}
}

// cscOnCreateScript creates functions with CodeSigningConfigArn: a config
// that exists, a malformed ARN and one that names no config.
const cscOnCreateScript = boto3Prelude + `
arn = c.create_code_signing_config(AllowedPublishers={"SigningProfileVersionArns": ["arn:aws:signer:us-east-1:123456789012:/signing-profiles/p/abcdefghij"]})["CodeSigningConfig"]["CodeSigningConfigArn"]
def create(name, csc):
    return lambda: c.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="index.handler",
                                     Code={"ZipFile": ZIP}, CodeSigningConfigArn=csc)
create("signed", arn)()
call("get_fcsc", lambda: c.get_function_code_signing_config(FunctionName="signed"))
out["get_fcsc_matches"] = out["get_fcsc"].get("CodeSigningConfigArn") == arn
call("users", lambda: c.list_functions_by_code_signing_config(CodeSigningConfigArn=arn))
out["users_match"] = out["users"].get("FunctionArns") == ["arn:aws:lambda:us-east-1:123456789012:function:signed"]
call("malformed", create("malformed", "arn:aws:lambda:us-east-1:123456789012:code-signing-config:nope"))
call("unknown", create("unknown", "arn:aws:lambda:us-east-1:123456789012:code-signing-config:csc-0000000000000000a"))
call("unknown_not_created", lambda: c.get_function(FunctionName="unknown"))
call("delete_in_use", lambda: c.delete_code_signing_config(CodeSigningConfigArn=arn))
print(json.dumps(out))
`

// TestBoto3CodeSigningConfigOnCreate checks CreateFunction's
// CodeSigningConfigArn: attached as PutFunctionCodeSigningConfig attaches it;
// a malformed ARN refused by the model's CodeSigningConfigArn pattern
// (lambda.json, printed without anchors as AWS prints every pattern in its
// recorded ValidationExceptions); a config that does not exist refused with
// the CodeSigningConfigNotFoundException AWS answers
// PutFunctionCodeSigningConfig (recorded in
// TestCodeSigningConfig::test_code_signing_not_found_excs), and no function
// created.
func TestBoto3CodeSigningConfigOnCreate(t *testing.T) {
	s := startLamb(t, "")
	got := runBoto3Script(t, s, cscOnCreateScript)
	checkJSON(t, got, map[string]string{
		"get_fcsc_matches":    `true`,
		"users_match":         `true`,
		"malformed":           `["ValidationException","1 validation error detected: Value 'arn:aws:lambda:us-east-1:123456789012:code-signing-config:nope' at 'codeSigningConfigArn' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:lambda:[a-z]{2}((-gov)|(-iso(b?)))?-[a-z]+-\\d{1}:\\d{12}:code-signing-config:csc-[a-z0-9]{17}",400]`,
		"unknown":             `["CodeSigningConfigNotFoundException","The code signing configuration cannot be found. Check that the provided configuration is not deleted: arn:aws:lambda:us-east-1:123456789012:code-signing-config:csc-0000000000000000a.",404]`,
		"unknown_not_created": `["ResourceNotFoundException","Function not found: arn:aws:lambda:us-east-1:123456789012:function:unknown",404]`,
	})
	if m, _ := json.Marshal(got["delete_in_use"]); !strings.Contains(string(m), "ResourceConflictException") {
		t.Errorf("deleting a config in use: %s, want ResourceConflictException", m)
	}
}

// exitingBootstrap takes the next event from the Runtime API, then leaves
// without answering as _HANDLER says: exit status 0, exit status 3 or
// SIGSEGV.
const exitingBootstrap = `#!/bin/sh
exec python3 -c '
import os, signal, sys, urllib.request
urllib.request.urlopen("http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime/invocation/next").read()
print("leaving as", os.environ["_HANDLER"], flush=True)
h = os.environ["_HANDLER"]
if h == "segv":
    os.kill(os.getpid(), signal.SIGSEGV)
os._exit(0 if h == "exit0" else 3)
'
`

const runtimeExitScript = boto3Prelude + `
import base64
for h in ["exit0", "exit3", "segv"]:
    c.create_function(FunctionName="leave-" + h, Runtime="provided.al2023", Role=ROLE, Handler=h,
                      Code={"ZipFile": base64.b64decode(sys.argv[2])})
    c.get_waiter("function_active_v2").wait(FunctionName="leave-" + h, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    r = c.invoke(FunctionName="leave-" + h, LogType="Tail")
    out[h] = {"FunctionError": r.get("FunctionError"), "Payload": json.loads(r["Payload"].read()),
              "Log": base64.b64decode(r["LogResult"]).decode()}
print(json.dumps(out))
`

// TestBoto3RuntimeExits invokes, on the process backend, runtimes that take
// an event and leave without answering. AWS words each way apart: status 0
// is "Runtime exited without providing a reason" (AWS's example of a
// runtime crash, "Failure during the invoke phase" in
// docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html, and
// bref's tests against AWS assert the same errorType and message); status N
// is "Runtime exited with error: exit status N" and a signal "Runtime exited
// with error: signal: segmentation fault" (Go's exec error text, which
// AWS's RAPID prints; "Runtime exited with error: signal: killed" is AWS's
// widely reported OOM answer). The log carries "RequestId: <id> Error: <msg>"
// and then "Runtime.ExitError", AWS's documented (text format) lines.
func TestBoto3RuntimeExits(t *testing.T) {
	s := startLamb(t, "")
	zip := zipOf(t, map[string]string{"bootstrap": exitingBootstrap})
	py := pythonWithBoto3(t)
	cmd := exec.Command(py, "-c", runtimeExitScript, s.URL, base64.StdEncoding.EncodeToString(zip))
	cmd.Env = append(os.Environ(), "AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("boto3 script: %v\n%s", err, b)
	}
	var got map[string]struct {
		FunctionError string
		Payload       map[string]string
		Log           string
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("boto3 printed %q: %v", b, err)
	}
	for h, msg := range map[string]string{
		"exit0": "Runtime exited without providing a reason",
		"exit3": "Runtime exited with error: exit status 3",
		"segv":  "Runtime exited with error: signal: segmentation fault",
	} {
		g := got[h]
		if g.FunctionError != "Unhandled" || g.Payload["errorType"] != "Runtime.ExitError" ||
			!regexp.MustCompile(`^RequestId: [0-9a-f-]{36} Error: `+regexp.QuoteMeta(msg)+`$`).MatchString(g.Payload["errorMessage"]) {
			t.Errorf("%s: FunctionError %q, payload %v; want Runtime.ExitError %q", h, g.FunctionError, g.Payload, msg)
		}
		if !regexp.MustCompile(`leaving as ` + h + `\n(.|\n)*RequestId: [0-9a-f-]{36} Error: ` + regexp.QuoteMeta(msg) + `\nRuntime.ExitError\nEND RequestId: `).MatchString(g.Log) {
			t.Errorf("%s: log\n%s\nwant the runtime's line, then %q and Runtime.ExitError before END", h, g.Log, msg)
		}
	}
}

// TestAWSCLIPublicFunctionURL: a NONE URL made with the AWS CLI answers
// AWS's 403 {"Message":"Forbidden"} until add-permission grants the public
// both lambda:InvokeFunctionUrl (--function-url-auth-type NONE) and
// lambda:InvokeFunction ("Starting in October 2025, new function URLs will
// require both lambda:InvokeFunctionUrl and lambda:InvokeFunction
// permissions", docs.aws.amazon.com/lambda/latest/dg/urls-auth.html). With
// `lamb serve --urls-without-policy` the same URL is served without them.
func TestAWSCLIPublicFunctionURL(t *testing.T) {
	dir := t.TempDir()
	zipPath := dir + "/code.zip"
	if err := os.WriteFile(zipPath, zipOf(t, map[string]string{"index.py": "def handler(e, c):\n    return {'statusCode': 200, 'body': 'public'}\n"}), 0o644); err != nil {
		t.Fatal(err)
	}
	get := func(t *testing.T, s *server, url string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, s.URL+"/", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Host = strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, strings.TrimSpace(string(b))
	}
	setup := func(t *testing.T, s *server) string {
		t.Helper()
		if err := awsCLI(t, s, nil, "lambda", "create-function", "--function-name", "pub", "--runtime", "python3.12",
			"--role", role, "--handler", "index.handler", "--zip-file", "fileb://"+zipPath); err != nil {
			t.Fatal(err)
		}
		if err := awsCLI(t, s, nil, "lambda", "wait", "function-active-v2", "--function-name", "pub"); err != nil {
			t.Fatal(err)
		}
		var u struct{ FunctionUrl string }
		if err := awsCLI(t, s, &u, "lambda", "create-function-url-config", "--function-name", "pub", "--auth-type", "NONE"); err != nil {
			t.Fatal(err)
		}
		return u.FunctionUrl
	}
	t.Run("enforced", func(t *testing.T) {
		s := startLamb(t, "")
		url := setup(t, s)
		if code, body := get(t, s, url); code != 403 || body != `{"Message":"Forbidden"}` {
			t.Errorf("without a policy: %d %s", code, body)
		}
		if err := awsCLI(t, s, nil, "lambda", "add-permission", "--function-name", "pub", "--statement-id", "url",
			"--action", "lambda:InvokeFunctionUrl", "--principal", "*", "--function-url-auth-type", "NONE"); err != nil {
			t.Fatal(err)
		}
		if code, body := get(t, s, url); code != 403 || body != `{"Message":"Forbidden"}` {
			t.Errorf("with lambda:InvokeFunctionUrl only: %d %s", code, body)
		}
		if err := awsCLI(t, s, nil, "lambda", "add-permission", "--function-name", "pub", "--statement-id", "invoke",
			"--action", "lambda:InvokeFunction", "--principal", "*"); err != nil {
			t.Fatal(err)
		}
		if code, body := get(t, s, url); code != 200 || body != "public" {
			t.Errorf("with both grants: %d %s", code, body)
		}
	})
	t.Run("--urls-without-policy", func(t *testing.T) {
		s := startLamb(t, "", "--urls-without-policy")
		url := setup(t, s)
		if code, body := get(t, s, url); code != 200 || body != "public" {
			t.Errorf("without a policy, check off: %d %s", code, body)
		}
	})
}
