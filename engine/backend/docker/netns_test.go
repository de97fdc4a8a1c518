package docker

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/lambhq/lamb/engine/backend/backendtest"
)

// waitReady waits until s has a ready spare that match accepts, and returns it.
func waitReady(t *testing.T, s *spares, match func(key string, sp *spare) bool) *holder {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		s.mu.Lock()
		for k, sp := range s.ready {
			if match(k, sp) {
				s.mu.Unlock()
				return sp.holder
			}
		}
		s.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no %s within a minute", s.what)
	return nil
}

// waitSpare waits for b's spare network holder for img and returns it.
func waitSpare(t *testing.T, b *Backend, img string) *holder {
	t.Helper()
	return waitReady(t, b.spares, func(key string, _ *spare) bool { return key == img })
}

// TestSpareNetwork: after a pull, a started network holder waits for the
// image's next cold start; the instance joins it (and sees the host alias),
// a new spare follows, the holder goes with its instance, a dead spare is
// survived, and Close leaves nothing.
func TestSpareNetwork(t *testing.T) {
	b := newTestBackend(t)
	_, images, _ := setup(t)
	img := images["python"]
	ctx := context.Background()
	if err := b.Prepull(ctx, img, nil); err != nil {
		t.Fatal(err)
	}
	spare := waitSpare(t, b, img)

	spec := testSpec(t, "python3.12", "app.handler", backendtest.ZipArtifact(t, map[string]string{"app.py": probeApp}))
	in := launch(t, b, spec).(*instance)
	if in.holder != spare.id {
		t.Fatalf("instance joined holder %q, want the spare %q", trimID(in.holder), trimID(spare.id))
	}
	ci, err := b.cli.ContainerInspect(ctx, in.cid)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(ci.HostConfig.NetworkMode); got != "container:"+spare.id {
		t.Errorf("network mode %q", got)
	}
	_, body, err := invoke(t, in, `{"read":["/etc/hosts"]}`)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	if hosts, _ := got["/etc/hosts"].(string); !strings.Contains(hosts, b.hostAlias()) {
		t.Errorf("/etc/hosts of an instance in a holder's namespace lacks %s:\n%s", b.hostAlias(), hosts)
	}

	next := waitSpare(t, b, img)
	if next.id == spare.id {
		t.Fatal("the taken holder is still the spare")
	}
	if err := in.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	waitDone(t, in)
	if _, err := b.cli.ContainerInspect(ctx, spare.id); err == nil {
		t.Error("the holder outlived its instance")
	}

	// A spare that dies is removed (and the next launch gets a network of
	// its own).
	if err := b.cli.ContainerKill(ctx, next.id, "KILL"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, err := b.cli.ContainerInspect(ctx, next.id); err == nil; _, err = b.cli.ContainerInspect(ctx, next.id) {
		if time.Now().After(deadline) {
			t.Fatal("a dead spare network holder was not removed within 30s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	in2 := launch(t, b, testSpec(t, "python3.12", "app.handler", backendtest.ZipArtifact(t, map[string]string{"app.py": probeApp})))
	if _, _, err := invoke(t, in2, `{}`); err != nil {
		t.Fatalf("invoke after the spare died: %v", err)
	}
	if h := in2.(*instance).holder; h != "" {
		t.Errorf("instance joined holder %s after its spare died", trimID(h))
	}
	waitSpare(t, b, img)

	if err := b.Close(ctx); err != nil {
		t.Fatal(err)
	}
	waitDone(t, in2)
	if n := countContainers(t, b, b.cfg.ServerID); n != 0 {
		t.Errorf("%d containers (instances or holders) after Close", n)
	}
}
