package ziparchive

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// maxFuzzZip bounds a fuzzed archive: deflate expands about 1000:1, so this
// keeps a zip bomb among the inputs to tens of megabytes on disk.
const maxFuzzZip = 32 << 10

// FuzzExtract feeds arbitrary bytes to Validate and Extract as an uploaded
// zip (see checkExtract for the properties).
func FuzzExtract(f *testing.F) {
	for _, es := range seedArchives {
		z, err := zipFromEntries(es)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(z)
	}
	f.Add([]byte("PK\x05\x06" + string(make([]byte, 18)))) // an empty central directory
	f.Add([]byte("not a zip"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxFuzzZip {
			return
		}
		checkExtract(t, data)
	})
}

// FuzzExtractEntries builds a well-formed zip from a description of its
// entries (see parseEntries), so the fuzzer spends its time on names, link
// targets and types rather than on the zip format, then checks it as
// FuzzExtract does.
func FuzzExtractEntries(f *testing.F) {
	for _, es := range seedArchives {
		f.Add(specOf(es))
	}
	f.Fuzz(func(t *testing.T, spec []byte) {
		es := parseEntries(spec)
		z, err := zipFromEntries(es)
		if err != nil {
			return // a name archive/zip cannot write (over 65535 bytes)
		}
		checkExtract(t, z)
	})
}

// seedArchives are the interesting shapes: ordinary trees, every escape the
// package documents, links chained through links, and type conflicts.
var seedArchives = [][]entry{
	{file("index.py", "print(1)"), dirEntry("lib/"), file("lib/a/b.py", "x = 1"), exe("bootstrap", "#!/bin/sh\n")},
	{file("../evil", "x")},
	{file("a/../../evil", "x")},
	{file(`..\evil`, "x")},
	{file("/abs", "x")},
	{file(`C:\evil`, "x")},
	{file("a\x00b", "x")},
	{link("passwd", "/etc/passwd")},
	{link("up", "../..")},
	{link("a/b/up", "../../../x")},
	{file("a.txt", "hi"), link("lib/l", "../a.txt")},
	{link("d", "."), link("d/x", "..")},                          // a link whose parent is a link
	{link("a", "b"), link("b", "a")},                             // a loop: does not resolve
	{link("l1", "l2/.."), link("l2", "sub"), dirEntry("sub/")},   // lexically fine, chained
	{link("x", "sub/../../escape"), dirEntry("sub/")},            // climbs out via ..
	{link("x", "y"), link("y", "../outside/sentinel")},           // chained escape
	{dirEntry("d/"), file("d", "file and dir")},                  // type conflict
	{file("same", "one"), file("same", "two")},                   // duplicate names
	{link("l", "target"), file("l", "file where a link goes")},   // link over a file
	{link("dir", "sub"), dirEntry("sub/"), file("dir/f", "via")}, // file under a link
	{fifo("pipe")},
	{dirEntry("./"), dirEntry("a/./b/")},
}

// checkExtract runs Validate and Extract on z in a fresh directory out that
// has a sibling, outside, holding a sentinel file. Whatever z holds:
// neither panics; nothing appears or changes outside out; an archive
// Validate refuses leaves out empty; every symlink left in out resolves
// inside it; and what was written is bounded by Validate's Info (so by
// MaxUnzippedSize).
func checkExtract(t *testing.T, z []byte) {
	parent := t.TempDir()
	out := filepath.Join(parent, "out")
	outside := filepath.Join(parent, "outside")
	sentinel := filepath.Join(outside, "sentinel")
	for _, d := range []string{out, outside} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(sentinel, []byte("sentinel"), 0o644); err != nil {
		t.Fatal(err)
	}

	info, verr := Validate(bytes.NewReader(z), int64(len(z)))
	if verr != nil && !errors.Is(verr, ErrInvalid) {
		t.Fatalf("Validate: error %v does not wrap ErrInvalid", verr)
	}
	if verr == nil && info.UnzippedSize > MaxUnzippedSize {
		t.Fatalf("Validate accepted %d unzipped bytes", info.UnzippedSize)
	}
	eerr := Extract(context.Background(), bytes.NewReader(z), int64(len(z)), out)
	if verr != nil && eerr == nil {
		t.Fatalf("Validate refused the archive (%v) but Extract accepted it", verr)
	}

	// Nothing but out, outside and the unchanged sentinel under parent.
	err := filepath.WalkDir(parent, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch p {
		case parent, out, outside, sentinel:
			return nil
		}
		if !within(out, p) {
			t.Errorf("extraction wrote %s, outside its directory", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(sentinel); err != nil || string(b) != "sentinel" {
		t.Fatalf("sentinel outside the directory changed: %q, %v", b, err)
	}

	realOut, err := filepath.EvalSymlinks(out)
	if err != nil {
		t.Fatal(err)
	}
	var files int
	var written int64
	err = filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == out {
			return nil
		}
		if verr != nil {
			t.Errorf("Validate refused the archive (%v) but Extract wrote %s", verr, p)
		}
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			files++
			r, err := filepath.EvalSymlinks(p)
			if err != nil {
				t.Errorf("symlink %s left behind that does not resolve: %v (Extract: %v)", p, err, eerr)
			} else if !within(realOut, r) {
				t.Errorf("symlink %s resolves to %s, outside the directory (Extract: %v)", p, r, eerr)
			}
		case d.Type().IsRegular():
			files++
			fi, err := d.Info()
			if err != nil {
				return err
			}
			written += fi.Size()
		case !d.IsDir():
			t.Errorf("%s has type %v", p, d.Type())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if verr == nil && (files > info.Files || written > info.UnzippedSize) {
		t.Errorf("wrote %d entries, %d bytes; Validate counted %d entries, %d bytes", files, written, info.Files, info.UnzippedSize)
	}
}

// zipFromEntries writes es as a zip; a symlink's body is its target.
func zipFromEntries(es []entry) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range es {
		method := zip.Deflate
		if e.mode&fs.ModeSticky != 0 { // parseEntries' marker for Store
			method = zip.Store
		}
		h := &zip.FileHeader{Name: e.name, Method: method}
		mode := e.mode &^ fs.ModeSticky
		if mode == 0 {
			mode = 0o644
		}
		h.SetMode(mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			return nil, err
		}
		if _, err := w.Write([]byte(e.body)); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// entryModes are the types and modes parseEntries picks from.
var entryModes = []fs.FileMode{
	0o644, 0o755, fs.ModeDir | 0o755, fs.ModeSymlink | 0o777,
	fs.ModeNamedPipe | 0o644, fs.ModeDevice | 0o600, fs.ModeSocket | 0o600, 0o000, 0o444,
}

// parseEntries reads a description of a zip: for each entry a type byte
// (entryModes by index, the high bit asking for Store), a name length byte
// and the name, a body length byte and the body. A short record ends it.
func parseEntries(spec []byte) []entry {
	var es []entry
	for len(spec) >= 2 {
		kind := spec[0]
		n := int(spec[1])
		spec = spec[2:]
		if n > len(spec) {
			break
		}
		name := string(spec[:n])
		spec = spec[n:]
		var body string
		if len(spec) > 0 {
			m := min(int(spec[0]), len(spec)-1)
			body = string(spec[1 : 1+m])
			spec = spec[1+m:]
		}
		mode := entryModes[int(kind&0x7f)%len(entryModes)]
		if kind&0x80 != 0 {
			mode |= fs.ModeSticky
		}
		es = append(es, entry{name: name, body: body, mode: mode})
	}
	return es
}

// specOf is parseEntries' input for es (names and bodies cut at 255 bytes).
func specOf(es []entry) []byte {
	var b []byte
	for _, e := range es {
		kind := 0
		for i, m := range entryModes {
			if m == e.mode || (e.mode == 0 && m == 0o644) {
				kind = i
				break
			}
		}
		name, body := e.name[:min(len(e.name), 255)], e.body[:min(len(e.body), 255)]
		b = append(b, byte(kind), byte(len(name)))
		b = append(b, name...)
		b = append(b, byte(len(body)))
		b = append(b, body...)
	}
	return b
}
