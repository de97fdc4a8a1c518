package template

import (
	"archive/zip"
	"bytes"
	"context"
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

// loadCode returns the zip for a CodeUri or ContentUri: s3://bucket/key is
// fetched (s3Code), a folder is zipped, a .zip or .jar file is read as it is;
// a relative path is relative to the template's folder.
func (r *run) loadCode(rel string) ([]byte, error) {
	if loc, ok := strings.CutPrefix(rel, "s3://"); ok {
		bucket, key, _ := strings.Cut(loc, "/")
		return r.s3Code(bucket, key, "")
	}
	return loadCode(r.t.Dir, rel)
}

// s3Code fetches a zip the template keeps in S3 (sam package, CDK asset
// buckets) through Deployer.S3Get.
func (r *run) s3Code(bucket, key, version string) ([]byte, error) {
	if r.d.S3Get == nil {
		return nil, fmt.Errorf("s3://%s/%s: code in S3 needs lamb deploy --s3-endpoint URL (the S3 it was packaged to)", bucket, key)
	}
	if bucket == "" || key == "" {
		return nil, fmt.Errorf("s3://%s/%s: want a bucket and a key", bucket, key)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	b, err := r.d.S3Get(ctx, bucket, key, version)
	if err != nil {
		return nil, fmt.Errorf("s3://%s/%s: %w", bucket, key, err)
	}
	return b, nil
}

// loadCode reads rel (relative to dir) as loadCode does a local path.
func loadCode(dir, rel string) ([]byte, error) {
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
