//go:build linux || darwin

package process

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/lambhq/lamb/engine/backend"
	"github.com/lambhq/lamb/engine/backend/backendtest"
)

// A copy is reused only as it was extracted: each kind of change is found,
// and get extracts the zip again.
func TestExtractionCheckedBeforeReuse(t *testing.T) {
	tests := []struct {
		name   string
		change func(t *testing.T, dir string)
	}{
		{"unchanged", nil},
		{"content rewritten", func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, "app.py"), "evil = True\n")
		}},
		{"content rewritten, same size", func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, "app.py"), "x = 2\n") // the original is "x = 1\n"
		}},
		{"file added", func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, "pkg", "__init__.py"), "")
		}},
		{"file removed", func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, "pkg", "mod.py")); err != nil {
				t.Fatal(err)
			}
		}},
		{"file replaced by a copy", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "app.py")
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
			write(t, p, string(data))
		}},
		{"mode changed", func(t *testing.T, dir string) {
			if err := os.Chmod(filepath.Join(dir, "app.py"), 0o666); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newArtifactCache(t.TempDir(), slog.New(slog.DiscardHandler))
			if err := os.MkdirAll(c.dir, 0o755); err != nil {
				t.Fatal(err)
			}
			a := backendtest.ZipArtifact(t, map[string]string{"app.py": "x = 1\n", "pkg/mod.py": "y = 1\n"})
			dir, err := c.get(context.Background(), a, lambUser(), true)
			if err != nil {
				t.Fatal(err)
			}
			if tt.change != nil {
				tt.change(t, dir)
			}
			m := c.made[cacheKey(lambUser(), a.SHA256)]
			changed := m.check(dir) != nil
			if changed != (tt.change != nil) {
				t.Fatalf("check found a change: %v, want %v", changed, tt.change != nil)
			}
			again, err := c.get(context.Background(), a, lambUser(), true)
			if err != nil || again != dir {
				t.Fatalf("get again = %q, %v", again, err)
			}
			if got := read(t, filepath.Join(dir, "app.py")); got != "x = 1\n" {
				t.Errorf("app.py after get = %q, want the zip's", got)
			}
			if _, err := os.Stat(filepath.Join(dir, "pkg", "__init__.py")); err == nil {
				t.Error("an added file survived get")
			}
			if err := c.made[cacheKey(lambUser(), a.SHA256)].check(dir); err != nil {
				t.Errorf("after get: %v", err)
			}
		})
	}
}

// A copy this process did not make (an earlier server's) is not trusted.
func TestExtractionOfAnEarlierServerIsRedone(t *testing.T) {
	root := t.TempDir()
	a := backendtest.ZipArtifact(t, map[string]string{"app.py": "x = 1\n"})
	first := newArtifactCache(root, slog.New(slog.DiscardHandler))
	dir, err := first.get(context.Background(), a, lambUser(), true)
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "app.py"), "evil = True\n")
	second := newArtifactCache(root, slog.New(slog.DiscardHandler))
	if _, err := second.get(context.Background(), a, lambUser(), true); err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(dir, "app.py")); got != "x = 1\n" {
		t.Errorf("app.py = %q, want the zip's", got)
	}
}

// Bytes that are not the zip an artifact names are refused before extraction.
func TestExtractRefusesWrongDigest(t *testing.T) {
	good := backendtest.ZipArtifact(t, map[string]string{"app.py": "x = 1\n"})
	other := backendtest.ZipArtifact(t, map[string]string{"app.py": "evil = True\n"})
	a := backend.Artifact{SHA256: good.SHA256, Open: other.Open}
	c := newArtifactCache(t.TempDir(), slog.New(slog.DiscardHandler))
	if _, err := c.get(context.Background(), a, lambUser(), true); !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("get = %v, want ErrDigestMismatch", err)
	}
	entries, _ := os.ReadDir(filepath.Join(c.dir, lambUser().dirName()))
	for _, e := range entries {
		t.Errorf("left behind: %s", e.Name())
	}
}

func write(t *testing.T, p, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, p string) string {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// lamb's bootstraps are written again when something changed them.
func TestBootstrapsCheckedBeforeUse(t *testing.T) {
	b := newTestBackend(t)
	entries, err := os.ReadDir(b.runtimeDir)
	if err != nil || len(entries) == 0 {
		t.Fatalf("runtime dir: %v %v", entries, err)
	}
	p := filepath.Join(b.runtimeDir, entries[0].Name())
	want := read(t, p)
	write(t, p, "import os; os.system('evil')\n")
	if err := b.checkBootstraps(); err != nil {
		t.Fatal(err)
	}
	if got := read(t, p); got != want {
		t.Errorf("%s after checkBootstraps = %q, want lamb's bootstrap", p, got)
	}
	if err := b.bootManifest.check(b.runtimeDir); err != nil {
		t.Errorf("after checkBootstraps: %v", err)
	}
}

// BenchmarkManifestCheck measures the check before each reuse of a copy (a
// node_modules-sized tree: 10000 files in 500 dirs).
func BenchmarkManifestCheck(b *testing.B) {
	dir := b.TempDir()
	for i := range 10000 {
		p := filepath.Join(dir, strconv.Itoa(i%500), strconv.Itoa(i)+".js")
		if i < 500 {
			if err := os.Mkdir(filepath.Dir(p), 0o755); err != nil {
				b.Fatal(err)
			}
		}
		if err := os.WriteFile(p, []byte("module.exports = 1\n"), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	m, err := snapshot(dir)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if err := m.check(dir); err != nil {
			b.Fatal(err)
		}
	}
}

// New clears what an older lamb's layout (code/<sha>, readable by all) and
// extractions cut short left, and keeps the current layout's copies.
func TestNewRemovesLeftovers(t *testing.T) {
	dir := t.TempDir()
	b, err := New(Config{WorkDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	a := backendtest.ZipArtifact(t, map[string]string{"app.py": "x = 1\n"})
	kept, err := b.code.get(context.Background(), a, lambUser(), true)
	if err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(dir, "code", a.SHA256)
	cut := filepath.Join(filepath.Dir(kept), ".extract-123")
	for _, p := range []string{filepath.Join(old, "app.py"), filepath.Join(cut, "app.py")} {
		write(t, p, "x = 1\n")
	}
	if _, err := New(Config{WorkDir: dir}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{old, cut} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s survived New", p)
		}
	}
	if _, err := os.Stat(filepath.Join(kept, "app.py")); err != nil {
		t.Errorf("current copy: %v", err)
	}
}
