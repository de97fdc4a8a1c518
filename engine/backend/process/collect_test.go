//go:build linux || darwin

package process

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lambhq/lamb/engine/backend"
	"github.com/lambhq/lamb/engine/backend/backendtest"
)

// CollectArtifacts removes the extracted copies of zips nobody keeps, but not
// one a live instance runs from, nor a kept one.
func TestCollectArtifacts(t *testing.T) {
	b := newTestBackend(t)
	ctx := context.Background()
	running := backendtest.ZipArtifact(t, map[string]string{"app.py": "def handler(e, c):\n    return e\n"})
	kept := backendtest.ZipArtifact(t, map[string]string{"app.py": "x = 'kept'\n"})
	gone := backendtest.ZipArtifact(t, map[string]string{"app.py": "x = 'gone'\n"})
	dirs := map[string]string{}
	for name, a := range map[string]backend.Artifact{"kept": kept, "gone": gone} {
		d, err := b.code.get(ctx, a, lambUser(), false)
		if err != nil {
			t.Fatal(err)
		}
		dirs[name] = d
	}
	spec := &backend.Spec{InstanceID: "collect-1", PoolKey: "pool", ServerID: "test",
		FunctionName: "fn", FunctionARN: "arn:aws:lambda:us-east-1:000000000000:function:fn", Version: "$LATEST",
		PackageType: "Zip", Runtime: "python3.12", Handler: "app.handler", Architecture: "x86_64",
		MemoryMB: 256, Timeout: 30 * time.Second, Code: running, Env: map[string]string{"_HANDLER": "app.handler", "AWS_REGION": "us-east-1"}}
	in, err := b.Launch(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = in.Stop(context.Background()) })
	entries, _ := os.ReadDir(filepath.Join(b.code.dir))
	var runDir string
	for _, u := range entries {
		if p := filepath.Join(b.code.dir, u.Name(), running.SHA256); dirExists(p) {
			runDir = p
		}
	}
	if runDir == "" {
		t.Fatal("no extracted copy of the running instance's code")
	}

	keep := func(sha string) bool { return sha == kept.SHA256 }
	if busy, err := b.CollectArtifacts(ctx, keep); err != nil || busy != 1 {
		t.Fatalf("collect: %d kept for a running instance (want 1), %v", busy, err)
	}
	for name, want := range map[string]bool{dirs["kept"]: true, dirs["gone"]: false, runDir: true} {
		if got := dirExists(name); got != want {
			t.Errorf("%s exists %v after collecting, want %v", name, got, want)
		}
	}
	if err := in.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	<-in.Done()
	if _, err := b.CollectArtifacts(ctx, keep); err != nil {
		t.Fatal(err)
	}
	if dirExists(runDir) {
		t.Errorf("%s outlived its last instance and its zip", runDir)
	}
	// Collected code comes back when it is needed again.
	if d, err := b.code.get(ctx, gone, lambUser(), false); err != nil || read(t, filepath.Join(d, "app.py")) != "x = 'gone'\n" {
		t.Fatalf("extracting collected code again: %q, %v", d, err)
	}
}

func dirExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
