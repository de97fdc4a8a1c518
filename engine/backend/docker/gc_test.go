package docker

import (
	"context"
	"strings"
	"testing"

	"github.com/containerd/errdefs"

	"github.com/lambhq/lamb/engine/backend/backendtest"
)

// CollectArtifacts removes this server's code volume once no container uses
// it and its zip is not kept; the server that filled it, and another server
// that used the same volume, both fill it again on their next launch.
func TestCollectArtifacts(t *testing.T) {
	a, other := newTestBackend(t), newTestBackend(t)
	ctx := context.Background()
	// Unique code, so that no other test's server shares the volume.
	code := backendtest.ZipArtifact(t, map[string]string{"app.py": "def handler(e, c):\n    return {'gc': '" + randomID() + "'}\n"})
	vol := "lamb-code-" + shortSHA(code.SHA256)
	exists := func() bool {
		_, err := a.cli.VolumeInspect(ctx, vol)
		if err != nil && !errdefs.IsNotFound(err) {
			t.Fatal(err)
		}
		return err == nil
	}
	in := launch(t, a, testSpec(t, "python3.12", "app.handler", code))
	if !exists() {
		t.Fatalf("no volume %s after a launch", vol)
	}
	// The other server finds the volume filled and remembers it.
	in2 := launch(t, other, testSpec(t, "python3.12", "app.handler", code))
	if err := in2.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	waitDone(t, in2)

	keepNone := func(string) bool { return false }
	if _, err := a.CollectArtifacts(ctx, keepNone); err != nil {
		t.Fatal(err)
	}
	if !exists() {
		t.Fatal("collected a volume a running instance uses")
	}
	if _, err := a.CollectArtifacts(ctx, func(sha string) bool { return sha == strings.ToLower(code.SHA256) }); err != nil || !exists() {
		t.Fatalf("collected a kept volume (%v)", err)
	}
	if err := in.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	waitDone(t, in)
	if _, err := a.CollectArtifacts(ctx, keepNone); err != nil {
		t.Fatal(err)
	}
	if exists() {
		t.Fatalf("volume %s outlived its last container and its zip", vol)
	}
	for name, b := range map[string]*Backend{"the collecting server": a, "another server": other} {
		in := launch(t, b, testSpec(t, "python3.12", "app.handler", code))
		if _, body, err := invoke(t, in, `{}`); err != nil || !strings.Contains(string(body), `"gc"`) {
			t.Fatalf("%s after the volume was collected: %v %s", name, err, body)
		}
	}
}
