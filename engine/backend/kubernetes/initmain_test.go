package kubernetes

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/lambhq/lamb/engine/backend"
)

func zipOf(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, body); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type initFixture struct {
	ic  initConfig
	reg *artifacts
}

func newInitFixture(t *testing.T, token string) *initFixture {
	t.Helper()
	reg := &artifacts{}
	srv := httptest.NewServer(ArtifactHandler("right", reg.lookup))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	self := filepath.Join(dir, "self")
	if err := os.WriteFile(self, []byte("#!/bin/true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ic := initConfig{URL: srv.URL + "/", Token: token, Self: self, Client: srv.Client(),
		AgentDir: filepath.Join(dir, "lamb"), Task: filepath.Join(dir, "task"), Opt: filepath.Join(dir, "opt"), Tmp: filepath.Join(dir, "tmp")}
	for _, d := range []string{ic.AgentDir, ic.Task, ic.Opt, ic.Tmp} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return &initFixture{ic: ic, reg: reg}
}

func (f *initFixture) serve(t *testing.T, files map[string]string) backend.Artifact {
	a := testArtifact(zipOf(t, files))
	if err := f.reg.add(a); err != nil {
		t.Fatal(err)
	}
	return a
}

func TestRunInit(t *testing.T) {
	f := newInitFixture(t, "right")
	code := f.serve(t, map[string]string{"app.py": "code", "pkg/mod.py": "mod"})
	l1 := f.serve(t, map[string]string{"python/a.py": "layer1", "python/b.py": "layer1"})
	l2 := f.serve(t, map[string]string{"python/b.py": "layer2"})
	f.ic.Code, f.ic.Layers = code.SHA256, []string{l1.SHA256, l2.SHA256}
	if err := runInit(context.Background(), f.ic); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		filepath.Join(f.ic.Task, "app.py"): "code", filepath.Join(f.ic.Task, "pkg/mod.py"): "mod",
		filepath.Join(f.ic.Opt, "python/a.py"): "layer1", filepath.Join(f.ic.Opt, "python/b.py"): "layer2",
		filepath.Join(f.ic.AgentDir, "lamb"): "#!/bin/true\n",
	} {
		got, err := os.ReadFile(path)
		if err != nil || string(got) != want {
			t.Errorf("%s = %q, %v; want %q", path, got, err, want)
		}
	}
	if st, err := os.Stat(filepath.Join(f.ic.AgentDir, "lamb")); err != nil || st.Mode().Perm()&0o111 == 0 {
		t.Errorf("agent not executable: %v %v", st, err)
	}
	if left, _ := os.ReadDir(f.ic.Tmp); len(left) != 0 {
		t.Errorf("scratch files left in tmp: %v", left)
	}
}

func TestRunInitFailures(t *testing.T) {
	cases := []struct {
		name  string
		token string
		setup func(t *testing.T, f *initFixture)
		check func(error) bool
	}{
		{"wrong token", "wrong", func(t *testing.T, f *initFixture) {
			f.ic.Code = f.serve(t, map[string]string{"a": "b"}).SHA256
		}, func(err error) bool { return errors.Is(err, errAuth) }},
		{"no token", "", func(t *testing.T, f *initFixture) {
			f.ic.Code = f.serve(t, map[string]string{"a": "b"}).SHA256
		}, func(err error) bool { return errors.Is(err, errAuth) }},
		{"unknown artifact", "right", func(t *testing.T, f *initFixture) {
			f.ic.Code = testArtifact([]byte("never served")).SHA256
		}, func(err error) bool { return err != nil && !errors.Is(err, errAuth) }},
		{"content does not match sha", "right", func(t *testing.T, f *initFixture) {
			a := testArtifact([]byte("claimed"))
			real := testArtifact(zipOf(t, map[string]string{"a": "b"}))
			a.Open, a.Size = real.Open, real.Size
			if err := f.reg.add(a); err != nil {
				t.Fatal(err)
			}
			f.ic.Code = a.SHA256
		}, func(err error) bool { return err != nil }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newInitFixture(t, c.token)
			c.setup(t, f)
			err := runInit(context.Background(), f.ic)
			if !c.check(err) {
				t.Fatalf("runInit: %v", err)
			}
			if ents, _ := os.ReadDir(f.ic.Task); len(ents) != 0 {
				t.Fatalf("something was extracted: %v", ents)
			}
		})
	}
}

// The handler serves what the backend registered under the status codes the
// init container tells apart.
func TestInitAgainstHandlerStatus(t *testing.T) {
	reg := &artifacts{}
	srv := httptest.NewServer(ArtifactHandler("right", reg.lookup))
	defer srv.Close()
	resp, err := http.Get(srv.URL + ArtifactPath + testArtifact([]byte("x")).SHA256)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401", resp.StatusCode)
	}
}
