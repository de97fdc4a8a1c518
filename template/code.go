package template

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// zipEpoch is the modification time of every entry lamb zips, so that the
// same folder always makes the same zip (and the same CodeSha256).
var zipEpoch = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// loadCode returns the zip for a CodeUri or ContentUri: a folder is zipped,
// a .zip or .jar file is read as it is. rel is relative to dir.
func loadCode(dir, rel string) ([]byte, error) {
	if strings.HasPrefix(rel, "s3://") {
		return nil, fmt.Errorf("%s: code in S3 needs an S3 endpoint, which lamb deploy does not read yet: give a local folder or zip", rel)
	}
	p := rel
	if !filepath.IsAbs(p) {
		p = filepath.Join(dir, rel)
	}
	fi, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return os.ReadFile(p)
	}
	return zipDir(p)
}

// zipDir zips a folder's files (not its symlinks' targets outside it) in
// name order with fixed times.
func zipDir(root string) ([]byte, error) {
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != root && (d.Name() == ".aws-sam" || d.Name() == ".git" || d.Name() == "__pycache__") {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, p := range files {
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return nil, err
		}
		fi, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		mode := fs.FileMode(0o644)
		if fi.Mode()&0o111 != 0 {
			mode = 0o755
		}
		h := &zip.FileHeader{Name: filepath.ToSlash(rel), Method: zip.Deflate, Modified: zipEpoch}
		h.SetMode(mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			return nil, err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(data); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// inlineZip zips inline source (InlineCode, Code.ZipFile) as the one file
// AWS names it: index.py, index.js, ... after the runtime.
func inlineZip(source, runtime string) ([]byte, error) {
	name := "index.js"
	switch {
	case strings.HasPrefix(runtime, "python"):
		name = "index.py"
	case strings.HasPrefix(runtime, "ruby"):
		name = "index.rb"
	case strings.HasPrefix(runtime, "nodejs"):
		name = "index.js"
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: zipEpoch}
	h.SetMode(0o644)
	w, err := zw.CreateHeader(h)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write([]byte(source)); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
