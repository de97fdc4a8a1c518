package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// lambDeploy runs `lamb deploy` (or any lamb client command) against s in
// dir and returns its output; it fails the test when the command fails.
func lambCmd(t *testing.T, s *server, dir string, args ...string) string {
	t.Helper()
	out, err := lambCmdErr(t, s, dir, args...)
	if err != nil {
		t.Fatalf("lamb %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func lambCmdErr(t *testing.T, s *server, dir string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(lambBin, append(args, "--endpoint", s.URL)...)
	cmd.Dir = dir
	cmd.Env = withoutAWSCredentials(os.Environ())
	b, err := cmd.CombinedOutput()
	return string(b), err
}

func withoutAWSCredentials(env []string) []string {
	var out []string
	for _, e := range env {
		if !strings.HasPrefix(e, "AWS_ACCESS_KEY_ID=") && !strings.HasPrefix(e, "AWS_SECRET_ACCESS_KEY=") {
			out = append(out, e)
		}
	}
	return out
}

// copyDir copies testdata/deploy/<name> into a temporary folder, so a test
// can edit it.
func copyDir(t *testing.T, name string) string {
	t.Helper()
	src := filepath.Join("testdata", "deploy", name)
	dst := filepath.Join(t.TempDir(), name)
	err := filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if fi.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

type inspection struct {
	Invoke    map[string]map[string]any `json:"invoke"`
	Sha       map[string]string         `json:"sha"`
	Functions []string                  `json:"functions"`
	Layers    []string                  `json:"layers"`
	Mappings  []struct {
		Function, Source string
		Batch            int
	} `json:"mappings"`
}

// inspect reads the server's state with boto3 (testdata/deploy/lamb_state.py),
// invoking each of fns (NAME or NAME:QUALIFIER).
func inspect(t *testing.T, s *server, fns ...string) inspection {
	t.Helper()
	py := pythonWithBoto3(t)
	cmd := exec.Command(py, append([]string{filepath.Join("testdata", "deploy", "lamb_state.py")}, fns...)...)
	cmd.Env = append(os.Environ(), "LAMB_ENDPOINT="+s.URL, "AWS_EC2_METADATA_DISABLED=true")
	b, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("lamb_state.py %v: %v\n%s", fns, err, stderr)
	}
	var in inspection
	if err := json.Unmarshal(b, &in); err != nil {
		t.Fatalf("lamb_state.py: %v\n%s", err, b)
	}
	return in
}

// output returns the value of "  NAME = VALUE" in lamb deploy's output.
func output(t *testing.T, out, name string) string {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+" = "); ok {
			return v
		}
	}
	t.Fatalf("no output %s in:\n%s", name, out)
	return ""
}

// getURL fetches a function URL from s, addressing it by Host header (the
// *.localhost name need not resolve).
func getURL(t *testing.T, s *server, fnURL string) string {
	t.Helper()
	u, err := url.Parse(fnURL)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodGet, s.URL+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = u.Host
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %s", fnURL, resp.Status, b)
	}
	return string(b)
}

// wantLines fails unless every want is a substring of some line of out.
func wantLines(t *testing.T, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

// TestDeploySAM deploys a SAM app (a python and a node function from
// folders, a layer, AutoPublishAlias, a function URL, an SQS event),
// redeploys it after an edit, restarts lamb and deletes the stack.
func TestDeploySAM(t *testing.T) {
	pythonWithBoto3(t)
	data := t.TempDir()
	s := startLamb(t, data)
	dir := copyDir(t, "sam")

	out := lambCmd(t, s, dir, "deploy", "template.yaml", "--stack-name", "app")
	wantLines(t, out,
		"create    AWS::Serverless::LayerVersion      SharedLayer",
		"create    AWS::Serverless::Function          PyFunction (app-PyFunction)",
		"create    AWS::Serverless::Function          NodeFunction (app-NodeFunction)",
		"skip      AWS::SQS::Queue                    Queue",
		"PyAlias = arn:aws:lambda:us-east-1:000000000000:function:app-PyFunction:live",
		"stack app: CREATE_COMPLETE")
	got := inspect(t, s, "app-PyFunction:live", "app-NodeFunction")
	py := got.Invoke["app-PyFunction:live"]
	if py["greeting"] != "hello" || py["stage"] != "dev" || py["prod"] != "no" || py["shared"] != "from the layer" || py["version"] != "1" ||
		py["queue"] != "https://sqs.us-east-1.amazonaws.com/000000000000/app-Queue" {
		t.Errorf("python function answered %v", py)
	}
	node := got.Invoke["app-NodeFunction"]
	if node["from"] != "node" || node["peer"] != "app-PyFunction" || node["where"] != "us-east-1:000000000000" || node["az"] != "us-east-1a" || node["memory"] != "256" {
		t.Errorf("node function answered %v", node)
	}
	if len(got.Mappings) != 1 || got.Mappings[0].Source != "arn:aws:sqs:us-east-1:000000000000:app-Queue" || got.Mappings[0].Batch != 5 ||
		got.Mappings[0].Function != "arn:aws:lambda:us-east-1:000000000000:function:app-PyFunction:live" {
		t.Errorf("event source mappings = %+v, want the SQS event's, on the alias", got.Mappings)
	}
	if body := getURL(t, s, output(t, out, "PyUrl")); !strings.Contains(body, `"from the layer"`) {
		t.Errorf("function URL answered %s", body)
	}

	// An edit to the node function's code changes only that function.
	src := filepath.Join(dir, "hello_node", "index.js")
	b, _ := os.ReadFile(src)
	if err := os.WriteFile(src, []byte(strings.Replace(string(b), `from: "node"`, `from: "node, edited"`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	out = lambCmd(t, s, dir, "deploy", "template.yaml", "--stack-name", "app")
	wantLines(t, out,
		"unchanged AWS::Serverless::LayerVersion      SharedLayer",
		"unchanged AWS::Serverless::Function          PyFunction",
		"update    AWS::Serverless::Function          NodeFunction",
		"stack app: UPDATE_COMPLETE")
	again := inspect(t, s, "app-PyFunction:live", "app-NodeFunction")
	if again.Sha["app-PyFunction"] != got.Sha["app-PyFunction"] {
		t.Errorf("PyFunction's CodeSha256 changed: %s, was %s", again.Sha["app-PyFunction"], got.Sha["app-PyFunction"])
	}
	if again.Sha["app-NodeFunction"] == got.Sha["app-NodeFunction"] {
		t.Errorf("NodeFunction's CodeSha256 did not change")
	}
	if v := again.Invoke["app-PyFunction:live"]["version"]; v != "1" {
		t.Errorf("the alias moved to version %v, want 1 (PyFunction did not change)", v)
	}
	if from := again.Invoke["app-NodeFunction"]["from"]; from != "node, edited" {
		t.Errorf("node function answered from %v after the edit", from)
	}

	// A parameter override reaches the python function through a mapping
	// and a condition, and publishes a new version for the alias.
	out = lambCmd(t, s, dir, "deploy", "template.yaml", "--stack-name", "app", "--parameter-overrides", "Stage=prod")
	wantLines(t, out, "update    AWS::Serverless::Function          PyFunction")
	prod := inspect(t, s, "app-PyFunction:live").Invoke["app-PyFunction:live"]
	if prod["greeting"] != "good day" || prod["prod"] != "yes" || prod["version"] != "2" {
		t.Errorf("after Stage=prod the python function answered %v", prod)
	}

	// Stacks are durable.
	s.stop(t)
	s = startLambAt(t, s.Addr, data)
	list := lambCmd(t, s, dir, "stacks")
	wantLines(t, list, "STACK app  UPDATE_COMPLETE", "PyFunctionAliaslive", "PyFunctionFromQueue", "PyUrl = http://",
		"PyFunctionEveryMinute  AWS::Events::Rule")
	if sch := getLamb(t, s, "/_lamb/schedules"); !strings.Contains(sch, `"name":"app-PyFunctionEveryMinute"`) || !strings.Contains(sch, `"expression":"rate(1 minute)"`) ||
		!strings.Contains(sch, `"function":"arn:aws:lambda:us-east-1:000000000000:function:app-PyFunction:live"`) {
		t.Errorf("schedules: %s", sch)
	}

	out = lambCmd(t, s, dir, "deploy", "--delete", "--stack-name", "app")
	wantLines(t, out, "stack app deleted")
	left := inspect(t, s)
	if len(left.Functions) != 0 || len(left.Layers) != 0 || len(left.Mappings) != 0 {
		t.Errorf("after --delete: functions %v, layers %v, mappings %v", left.Functions, left.Layers, left.Mappings)
	}
	if list := lambCmd(t, s, dir, "stacks"); !strings.Contains(list, "no stacks") {
		t.Errorf("lamb stacks after --delete:\n%s", list)
	}
	if sch := getLamb(t, s, "/_lamb/schedules"); sch != `{"schedules":[]}` {
		t.Errorf("schedules after --delete: %s", sch)
	}
}

// getLamb GETs one of lamb's own endpoints and returns the body.
func getLamb(t *testing.T, s *server, path string) string {
	t.Helper()
	resp, err := http.Get(s.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return strings.TrimSpace(string(b))
}

// TestDeployCloudFormation deploys a plain CloudFormation template (a
// layer, two functions, a version, an alias, a permission and a URL).
func TestDeployCloudFormation(t *testing.T) {
	pythonWithBoto3(t)
	s := startLamb(t, "")
	dir := copyDir(t, "cfn")
	out := lambCmd(t, s, dir, "deploy", ".", "--stack-name", "cfn")
	wantLines(t, out,
		"create    AWS::Lambda::Permission            UrlPermission",
		"create    AWS::Lambda::Url                   Url",
		"RoleArn = arn:aws:iam::000000000000:role/cfn-Role")
	got := inspect(t, s, "cfn-fn:live", "cfn-Inline")
	if fn := got.Invoke["cfn-fn:live"]; fn["second"] != "beta" || fn["joined"] != "x+y+z" || fn["layer"] != "cfn layer" || fn["version"] != "1" {
		t.Errorf("cfn-fn:live answered %v", fn)
	}
	if in := got.Invoke["cfn-Inline"]; in["inline"] != true {
		t.Errorf("cfn-Inline answered %v", in)
	}
	if body := getURL(t, s, output(t, out, "FunctionUrl")); !strings.Contains(body, `"cfn layer"`) {
		t.Errorf("function URL answered %s", body)
	}

	src := filepath.Join(dir, "src", "app.py")
	b, _ := os.ReadFile(src)
	if err := os.WriteFile(src, []byte(strings.Replace(string(b), `"second"`, `"edited": True, "second"`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	out = lambCmd(t, s, dir, "deploy", ".", "--stack-name", "cfn")
	wantLines(t, out, "update    AWS::Lambda::Function              Fn", "unchanged AWS::Lambda::Function              Inline",
		"unchanged AWS::Lambda::LayerVersion          Layer", "unchanged AWS::Lambda::Url                   Url")
	again := inspect(t, s, "cfn-fn", "cfn-Inline")
	if again.Sha["cfn-Inline"] != got.Sha["cfn-Inline"] || again.Sha["cfn-fn"] == got.Sha["cfn-fn"] {
		t.Errorf("CodeSha256 before %v, after %v: want only cfn-fn's changed", got.Sha, again.Sha)
	}
	if again.Invoke["cfn-fn"]["edited"] != true {
		t.Errorf("cfn-fn ($LATEST) answered %v after the edit", again.Invoke["cfn-fn"])
	}

	lambCmd(t, s, dir, "deploy", ".", "--stack-name", "cfn", "--delete")
	left := inspect(t, s)
	if len(left.Functions) != 0 || len(left.Layers) != 0 {
		t.Errorf("after --delete: functions %v, layers %v", left.Functions, left.Layers)
	}
}

// A template error names the resource and the property, exits non-zero and
// deploys nothing, not even the resources before the faulty one.
func TestDeployTemplateErrors(t *testing.T) {
	s := startLamb(t, "")
	dir := t.TempDir()
	head := "Transform: AWS::Serverless-2016-10-31\nResources:\n" +
		"  First:\n    Type: AWS::Serverless::Function\n    Properties:\n      InlineCode: 'def handler(e, c): return 1'\n      Handler: index.handler\n      Runtime: python3.12\n"
	tests := []struct {
		name, resources string
		want            []string
	}{
		{"bad number", "  Second:\n    Type: AWS::Serverless::Function\n    Properties:\n      InlineCode: x\n      Handler: index.handler\n      Runtime: python3.12\n      MemorySize: lots\n",
			[]string{"resource Second, property Properties.MemorySize (line 15)", `want a number, got "lots"`}},
		{"missing handler", "  Second:\n    Type: AWS::Serverless::Function\n    Properties:\n      InlineCode: x\n      Runtime: python3.12\n",
			[]string{"resource Second, property Properties.Handler", "is required"}},
		{"unknown ref", "  Second:\n    Type: AWS::Lambda::Alias\n    Properties:\n      FunctionName: !Ref First\n      FunctionVersion: !GetAtt Nope.Version\n      Name: live\n",
			[]string{"resource Second, property Properties.FunctionVersion.Fn::GetAtt", "Nope, which is neither a parameter nor a resource"}},
		{"missing code folder", "  Second:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: nowhere/\n      Handler: a.b\n      Runtime: python3.12\n",
			[]string{"resource Second, property Properties.CodeUri", "nowhere"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(filepath.Join(dir, "template.yaml"), []byte(head+tc.resources), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := lambCmdErr(t, s, dir, "deploy", "template.yaml", "--stack-name", "bad")
			if err == nil {
				t.Fatalf("lamb deploy succeeded:\n%s", out)
			}
			wantLines(t, out, tc.want...)
			if strings.Contains(out, "create") {
				t.Errorf("something was created:\n%s", out)
			}
		})
	}
	if list := lambCmd(t, s, dir, "stacks"); !strings.Contains(list, "no stacks") {
		t.Errorf("lamb stacks after failed deploys:\n%s", list)
	}
}

// lamb serve --template deploys at start-up, as stack "cfn" (the
// template's folder).
func TestServeTemplate(t *testing.T) {
	s := startLamb(t, "", "--template", filepath.Join("testdata", "deploy", "cfn", "template.yaml"))
	ctx := ctxT(t)
	c := s.client("us-east-1", "test")
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := c.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String("cfn-fn"), Name: aws.String("live")})
		if err == nil {
			if v := aws.ToString(out.FunctionVersion); v != "1" {
				t.Errorf("alias live is on version %s, want 1", v)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the template was not deployed within 30s: %v\n%s", err, s.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The stack record is written when the whole deploy is done, after the alias.
	var out string
	for {
		var err error
		if out, err = lambCmdErr(t, s, ".", "stacks", "cfn"); err == nil && strings.Contains(out, "CREATE_COMPLETE") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no complete stack cfn within 30s: %v\n%s", err, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	wantLines(t, out, "STACK cfn  CREATE_COMPLETE", "Url ", "FunctionUrl = http://")
}

// TestDeployCDK deploys a checked-in cdk.out of a two-function CDK app
// (testdata/deploy/cdk/README.md says how it was made): its assets are read
// from the cloud assembly instead of the S3 bucket the template names.
func TestDeployCDK(t *testing.T) {
	pythonWithBoto3(t)
	s := startLamb(t, "")
	dir := copyDir(t, "cdk")
	out := lambCmd(t, s, dir, "deploy", "cdk.out")
	wantLines(t, out,
		"skip      AWS::IAM::Role                     PyFnServiceRole320C8A8D",
		"create    AWS::Lambda::Function              PyFnBEFD4AB6 (CdkDemo-PyFnBEFD4AB6)",
		"create    AWS::Lambda::Function              NodeFn9490805D (CdkDemo-NodeFn9490805D)",
		"stack CdkDemo: CREATE_COMPLETE")
	py, node := output(t, out, "PyName"), output(t, out, "NodeName")
	got := inspect(t, s, py, node)
	if got.Invoke[py]["from"] != "cdk python" || got.Invoke[node]["from"] != "cdk node" || got.Invoke[node]["peer"] != py {
		t.Errorf("the CDK functions answered %v", got.Invoke)
	}

	asset := filepath.Join(dir, "cdk.out", "asset.099d9c451fba2d55059d679eebb7fc78cd837aceddf8d83c45c8767f3b285c7e", "app.py")
	if err := os.WriteFile(asset, []byte("def handler(event, context):\n    return {\"from\": \"cdk python, edited\"}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out = lambCmd(t, s, dir, "deploy", "cdk.out")
	wantLines(t, out, "update    AWS::Lambda::Function              PyFnBEFD4AB6", "unchanged AWS::Lambda::Function              NodeFn9490805D")
	again := inspect(t, s, py, node)
	if again.Sha[node] != got.Sha[node] || again.Sha[py] == got.Sha[py] || again.Invoke[py]["from"] != "cdk python, edited" {
		t.Errorf("after editing the python asset: %v, CodeSha256 %v (was %v)", again.Invoke, again.Sha, got.Sha)
	}

	lambCmd(t, s, dir, "deploy", "cdk.out", "--delete")
	if left := inspect(t, s); len(left.Functions) != 0 {
		t.Errorf("after --delete: functions %v", left.Functions)
	}
}

// lamb deploy --watch deploys again when a file changes, updating only the
// function whose code changed.
func TestDeployWatch(t *testing.T) {
	s := startLamb(t, "")
	dir := t.TempDir()
	write := func(name, body string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("template.yaml", "Transform: AWS::Serverless-2016-10-31\nResources:\n"+
		"  Edited:\n    Type: AWS::Serverless::Function\n    Properties: {CodeUri: edited/, Handler: index.handler, Runtime: nodejs20.x}\n"+
		"  Other:\n    Type: AWS::Serverless::Function\n    Properties: {CodeUri: other/, Handler: index.handler, Runtime: nodejs20.x}\n")
	write("edited/index.js", `exports.handler = async () => "v1";`)
	write("other/index.js", `exports.handler = async () => "other";`)

	logs := &syncBuffer{}
	cmd := exec.Command(lambBin, "deploy", "--watch", "--watch-interval", "100ms", "--stack-name", "w", "--endpoint", s.URL, dir)
	cmd.Env = withoutAWSCredentials(os.Environ())
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("lamb deploy --watch exited with %v:\n%s", err, logs.String())
			}
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("lamb deploy --watch did not stop on SIGINT")
		}
	})
	ctx := ctxT(t)
	c := s.client("us-east-1", "test")
	// answer polls the function until it answers want.
	answer := func(want string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		var last string
		for time.Now().Before(deadline) {
			out, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("w-Edited")})
			if err == nil {
				if last = string(out.Payload); last == `"`+want+`"` {
					return
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("w-Edited answered %s, want %q; lamb deploy --watch said:\n%s", last, want, logs.String())
	}
	answer("v1")
	write("edited/index.js", `exports.handler = async () => "v2, edited";`)
	answer("v2, edited")
	// The deploy goes on past the function: wait for its end.
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(logs.String(), "stack w: UPDATE_COMPLETE") && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	wantLines(t, logs.String(), "change detected: deploying again", "update    AWS::Serverless::Function          Edited",
		"unchanged AWS::Serverless::Function          Other")
}
