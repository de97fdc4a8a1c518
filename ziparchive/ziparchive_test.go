package ziparchive

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// entry describes one zip entry to build. A symlink's body is its target.
type entry struct {
	name string
	body string
	mode fs.FileMode // 0 means a 0644 regular file
}

func dirEntry(name string) entry { return entry{name: name, mode: fs.ModeDir | 0o755} }
func link(name, target string) entry {
	return entry{name: name, body: target, mode: fs.ModeSymlink | 0o777}
}
func file(name, body string) entry { return entry{name: name, body: body} }
func exe(name, body string) entry  { return entry{name: name, body: body, mode: 0o755} }
func fifo(name string) entry       { return entry{name: name, mode: fs.ModeNamedPipe | 0o644} }
func buildZip(t *testing.T, es ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range es {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		mode := e.mode
		if mode == 0 {
			mode = 0o644
		}
		h.SetMode(mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// rawZip builds a one-entry zip whose header claims size declared while
// holding data as stored bytes.
func rawZip(t *testing.T, declared uint64, data string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: "big", Method: zip.Store, CompressedSize64: uint64(len(data)), UncompressedSize64: declared}
	h.SetMode(0o644)
	w, err := zw.CreateRaw(h)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte(data)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestValidate(t *testing.T) {
	normal := buildZip(t, file("index.py", "print(1)"), dirEntry("lib/"), file("lib/a/b.py", "x = 1"), exe("bootstrap", "#!/bin/sh\n"))
	tests := []struct {
		name    string
		zip     []byte
		want    Info
		wantErr error
	}{
		{"normal", normal, Info{Files: 3, UnzippedSize: 8 + 5 + 10}, nil},
		{"empty zip is accepted", buildZip(t), Info{}, nil},
		{"symlink inside", buildZip(t, file("a.txt", "hi"), link("lib/l", "../a.txt")), Info{Files: 2, UnzippedSize: 2 + 8}, nil},
		{"dot-dot that stays inside", buildZip(t, file("a/../b.txt", "b")), Info{Files: 1, UnzippedSize: 1}, nil},
		{"parent escape", buildZip(t, file("../evil", "x")), Info{}, ErrInvalid},
		{"absolute path", buildZip(t, file("/abs", "x")), Info{}, ErrInvalid},
		{"nested escape", buildZip(t, file("a/../../evil", "x")), Info{}, ErrInvalid},
		{"backslash escape", buildZip(t, file(`..\evil`, "x")), Info{}, ErrInvalid},
		{"drive letter", buildZip(t, file(`C:\evil`, "x")), Info{}, ErrInvalid},
		{"symlink to /etc/passwd", buildZip(t, link("passwd", "/etc/passwd")), Info{}, ErrInvalid},
		{"symlink climbing out", buildZip(t, link("up", "../..")), Info{}, ErrInvalid},
		{"nested symlink climbing out", buildZip(t, link("a/b/up", "../../../x")), Info{}, ErrInvalid},
		{"named pipe", buildZip(t, fifo("p")), Info{}, ErrInvalid},
		{"not a zip", []byte("this is not a zip file at all, not even close"), Info{}, ErrInvalid},
		{"truncated zip", normal[:len(normal)-10], Info{}, ErrInvalid},
		{"no bytes", nil, Info{}, ErrInvalid},
		{"too large", rawZip(t, uint64(MaxUnzippedSize)+1, ""), Info{}, ErrTooLarge},
		{"exactly the limit", rawZip(t, uint64(MaxUnzippedSize), ""), Info{Files: 1, UnzippedSize: MaxUnzippedSize}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Validate(bytes.NewReader(tc.zip), int64(len(tc.zip)))
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("info = %+v, want %+v", got, tc.want)
			}
		})
	}
	if !errors.Is(ErrTooLarge, ErrInvalid) {
		t.Error("ErrTooLarge must wrap ErrInvalid")
	}
}

// extractInto extracts z into parent/out and returns out's path.
func extractInto(t *testing.T, parent string, z []byte) (string, error) {
	t.Helper()
	out := filepath.Join(parent, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	return out, Extract(context.Background(), bytes.NewReader(z), int64(len(z)), out)
}

func TestExtractWritesTree(t *testing.T) {
	z := buildZip(t,
		file("index.py", "print(1)"),
		dirEntry("lib/"),
		file("lib/a/b.py", "x = 1"),
		exe("bootstrap", "#!/bin/sh\necho hi\n"),
		entry{name: "readonly.txt", body: "ro", mode: 0o444},
		file("a/../top.txt", "top"),
		link("lib/link", "../index.py"),
		link("dirlink", "lib/a"),
	)
	out, err := extractInto(t, t.TempDir(), z)
	if err != nil {
		t.Fatal(err)
	}
	files := []struct {
		path string
		body string
		perm fs.FileMode
	}{
		{"index.py", "print(1)", 0o644},
		{"lib/a/b.py", "x = 1", 0o644},
		{"bootstrap", "#!/bin/sh\necho hi\n", 0o755},
		{"readonly.txt", "ro", 0o444},
		{"top.txt", "top", 0o644},
		{"lib/link", "print(1)", 0o644},  // read through the symlink
		{"dirlink/b.py", "x = 1", 0o644}, // through a directory symlink
	}
	for _, f := range files {
		p := filepath.Join(out, f.path)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Errorf("%s: %v", f.path, err)
			continue
		}
		if string(b) != f.body {
			t.Errorf("%s = %q, want %q", f.path, b, f.body)
		}
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != f.perm {
			t.Errorf("%s mode = %v, want %v", f.path, fi.Mode().Perm(), f.perm)
		}
	}
	for _, d := range []string{"lib", "lib/a"} {
		fi, err := os.Lstat(filepath.Join(out, d))
		if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o755 {
			t.Errorf("dir %s: %v, %v", d, fi, err)
		}
	}
	if target, err := os.Readlink(filepath.Join(out, "lib/link")); err != nil || target != "../index.py" {
		t.Errorf("lib/link = %q, %v; want a symlink to ../index.py", target, err)
	}
}

func TestExtractRefusesAndWritesNothingOutside(t *testing.T) {
	tests := []struct {
		name string
		zip  []byte
	}{
		{"parent escape", buildZip(t, file("ok.txt", "ok"), file("../evil", "x"))},
		{"absolute path", buildZip(t, file("/tmp/evil", "x"))},
		{"nested escape", buildZip(t, file("a/../../evil", "x"))},
		{"backslash escape", buildZip(t, file(`a\..\..\evil`, "x"))},
		{"symlink to /etc/passwd", buildZip(t, link("passwd", "/etc/passwd"))},
		{"symlink climbing out", buildZip(t, link("up", "../.."), file("up/evil", "x"))},
		// Each link passes the lexical check alone; chained they escape.
		{"chained symlinks", buildZip(t, dirEntry("a/b/"), link("a/b/s", "../.."), link("a/b/s/l", "../evil"))},
		{"dangling symlink", buildZip(t, link("dangling", "nope/x"))},
		// Passes the lexical check ("a/b/s/../x" is "a/b/x") but really
		// resolves through s to ../x.
		{"link target through a link", buildZip(t, dirEntry("a/b/"), link("a/b/s", "../.."), link("a/b/t", "s/../x"), file("x", "x"))},
		{"lying size", rawZip(t, 3, "0123456789")},
		{"not a zip", []byte("definitely not a zip")},
		{"named pipe", buildZip(t, fifo("p"))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			parent := t.TempDir()
			out, err := extractInto(t, parent, tc.zip)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			// The parent must hold only out/, and nothing may be named evil
			// anywhere under it.
			if got := listTree(t, parent); len(got) == 0 || got[0] != "out" || strings.Contains(strings.Join(got, "\n"), "evil") {
				t.Errorf("tree after refused extraction: %q", got)
			}
			for _, p := range listTree(t, parent) {
				if !strings.HasPrefix(p, "out") {
					t.Errorf("written outside the extraction dir: %s", p)
				}
			}
			// No symlink left behind may lead outside out/.
			_ = filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
				if err == nil && d.Type()&fs.ModeSymlink != 0 {
					t.Errorf("symlink left behind: %s", p)
				}
				return nil
			})
		})
	}
}

func TestExtractCancelled(t *testing.T) {
	z := buildZip(t, file("a", "1"), file("b", "2"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := Extract(ctx, bytes.NewReader(z), int64(len(z)), t.TempDir())
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestExtractMissingDir(t *testing.T) {
	z := buildZip(t, file("a", "1"))
	err := Extract(context.Background(), bytes.NewReader(z), int64(len(z)), filepath.Join(t.TempDir(), "missing"))
	if err == nil || errors.Is(err, ErrInvalid) {
		t.Fatalf("err = %v, want a non-ErrInvalid error", err)
	}
}

func listTree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != dir {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}
