package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// jsSDKVersion is the @aws-sdk/client-lambda the JavaScript tests install
// from npm (pinned; cached per version).
const jsSDKVersion = "3.1178.0"

// jsSDK returns a node_modules dir holding @aws-sdk/client-lambda.
func jsSDK(t *testing.T) string {
	t.Helper()
	return npmPackage(t, "@aws-sdk/client-lambda", jsSDKVersion, "package.json")
}

// npmPackage returns the node_modules dir of pkg@version installed from npm,
// once, into the user's cache (a directory per package and version); probe,
// a file inside the package, says the install is complete.
func npmPackage(t *testing.T, pkg, version, probe string) string {
	t.Helper()
	for _, tool := range []string{"node", "npm"} {
		_, err := exec.LookPath(tool)
		need(t, tool+" (see scripts/setup.sh)", err == nil)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "lamb-test", strings.ReplaceAll(strings.TrimPrefix(pkg, "@"), "/", "-")+"-"+version)
	mods := filepath.Join(dir, "node_modules")
	done := filepath.Join(mods, pkg, probe)
	if _, err := os.Stat(done); err == nil {
		return mods
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		t.Fatal(err)
	}
	// A fresh directory renamed into place: an interrupted or concurrent
	// install never leaves half a cache.
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".npm-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	if err := os.WriteFile(filepath.Join(tmp, "package.json"), []byte(`{"private":true}`), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "install", "--no-audit", "--no-fund", pkg+"@"+version)
	cmd.Dir = tmp
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm install %s@%s: %v\n%s", pkg, version, err, out)
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, statErr := os.Stat(done); statErr != nil {
			t.Fatalf("caching %s@%s: %v", pkg, version, err)
		}
	}
	return mods
}

// runJS runs testdata/jssdk/lambda_sdk.mjs against s with env added.
func runJS(t *testing.T, s *server, env ...string) {
	t.Helper()
	mods := jsSDK(t)
	dir := t.TempDir()
	// ESM resolves bare imports from the script's own directory up, not from
	// NODE_PATH: the script runs from a copy beside a node_modules link.
	src, err := os.ReadFile(filepath.Join("testdata", "jssdk", "lambda_sdk.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "lambda_sdk.mjs")
	if err := os.WriteFile(script, src, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(mods, filepath.Join(dir, "node_modules")); err != nil {
		t.Fatal(err)
	}
	zip := filepath.Join(dir, "fn.zip")
	if err := os.WriteFile(zip, zipOf(t, map[string]string{"handler.py": `def handler(event, context):
    if event.get("fail"):
        raise ValueError("asked to fail")
    return event
`}), 0o644); err != nil {
		t.Fatal(err)
	}
	streamZip := filepath.Join(dir, "stream.zip")
	if err := os.WriteFile(streamZip, zipOf(t, map[string]string{"index.js": `exports.handler = awslambda.streamifyResponse(async (event, stream) => {
  for (const part of ["one;", "two;", "three;"]) {
    stream.write(part);
    await new Promise((r) => setTimeout(r, 50));
  }
  stream.end();
});`}), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), append([]string{"LAMB_ENDPOINT=" + s.URL, "LAMB_ZIP=" + zip, "LAMB_STREAM_ZIP=" + streamZip,
		"AWS_EC2_METADATA_DISABLED=true"}, env...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("lambda_sdk.mjs: %v\n%s", err, out)
	}
	t.Logf("lambda_sdk.mjs:\n%s", out)
}

// TestJavaScriptSDK drives lamb with @aws-sdk/client-lambda: create, invoke
// (sync, Event, DryRun, with a function error), configuration updates,
// versions, aliases, tags, every waiter, paginators over several pages,
// InvokeWithResponseStream and the SDK's exception classes.
func TestJavaScriptSDK(t *testing.T) {
	runJS(t, startLamb(t, ""))
}

// TestJavaScriptSDKCredentials: with --credentials the JavaScript SDK's
// signatures verify, and a wrong secret or an unknown key get AWS's 403s.
func TestJavaScriptSDKCredentials(t *testing.T) {
	s := startLamb(t, "", "--credentials", "AKIDJSTEST:js-s3cret")
	runJS(t, s, "LAMB_KEY=AKIDJSTEST", "LAMB_SECRET=js-s3cret")
}
