package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/lambhq/lamb/engine/backend/process"
	"github.com/lambhq/lamb/internal/testwait"
)

// blobListing is every entry under dataDir/blobs with its size (-1 for a
// directory).
func blobListing(t *testing.T, dataDir string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	root := filepath.Join(dataDir, "blobs")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && p != root {
			return nil // removed by a sweep meanwhile
		}
		if err != nil || p == root {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() {
			out[rel] = -1
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		out[rel] = info.Size()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func waitBlobListing(t *testing.T, dataDir string, want map[string]int64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := blobListing(t, dataDir)
		if reflect.DeepEqual(got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("blob dir holds %d entries, want %d:\n got %v\nwant %v", len(got), len(want), got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestDeletingFunctionsFreesBlobs: the data dir's blobs are back to what they
// were once the functions and layers that used them are deleted, and a blob a
// crash left behind goes at the next start.
func TestDeletingFunctionsFreesBlobs(t *testing.T) {
	dir := t.TempDir()
	s := startLamb(t, dir)
	ctx := ctxT(t)
	c := s.client("us-east-1", "123456789012")
	start := blobListing(t, dir)

	lv, err := c.PublishLayerVersion(ctx, &lambda.PublishLayerVersionInput{
		LayerName: aws.String("gc-layer"),
		Content:   &types.LayerVersionContentInput{ZipFile: zipOf(t, map[string]string{"python/lib.py": "X = 1\n"})},
	})
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	for i := range n {
		code := zipOf(t, map[string]string{"handler.py": fmt.Sprintf("def handler(e, c):\n    return %d\n", i)})
		if _, err := c.CreateFunction(ctx, &lambda.CreateFunctionInput{
			FunctionName: aws.String(fmt.Sprintf("gc-%d", i)), Runtime: types.RuntimePython312, Role: aws.String(role),
			Handler: aws.String("handler.handler"), Code: &types.FunctionCode{ZipFile: code},
			Layers: []string{aws.ToString(lv.LayerVersionArn)},
		}); err != nil {
			t.Fatal(err)
		}
	}
	files := 0
	for _, size := range blobListing(t, dir) {
		if size >= 0 {
			files++
		}
	}
	if files < n+1 {
		t.Fatalf("%d blob files after creating %d functions and a layer", files, n)
	}
	// Invoked, so the process backend extracts each function's code and the layer.
	for i := range n {
		if _, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(fmt.Sprintf("gc-%d", i))}); err != nil {
			t.Fatal(err)
		}
	}
	work, err := process.WorkDirFor(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := extracted(t, work); len(got) < n+1 {
		t.Fatalf("%d extracted copies after invoking %d functions with a layer: %v", len(got), n, got)
	}
	if _, err := c.DeleteLayerVersion(ctx, &lambda.DeleteLayerVersionInput{LayerName: aws.String("gc-layer"), VersionNumber: aws.Int64(lv.Version)}); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, err := c.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String(fmt.Sprintf("gc-%d", i))}); err != nil {
			t.Fatal(err)
		}
	}
	waitBlobListing(t, dir, start)
	testwait.For(t, "the extracted copies of deleted code to go", func() bool { return len(extracted(t, work)) == 0 })

	// A blob no record references, as a crash between a delete and its
	// sweep leaves one, is gone after a restart.
	s.stop(t)
	orphan := []byte("left behind by a crash")
	sum := sha256.Sum256(orphan)
	h := hex.EncodeToString(sum[:])
	p := filepath.Join(dir, "blobs", h[:2], h)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, orphan, 0o644); err != nil {
		t.Fatal(err)
	}
	startLamb(t, dir)
	waitBlobListing(t, dir, start)
}

// extracted lists the process backend's extracted copies of code and layer
// zips under its work dir (code/<uid>/<sha>, layers/<uid>/<sha>).
func extracted(t *testing.T, work string) []string {
	t.Helper()
	var out []string
	for _, kind := range []string{"code", "layers"} {
		users, _ := os.ReadDir(filepath.Join(work, kind))
		for _, u := range users {
			shas, _ := os.ReadDir(filepath.Join(work, kind, u.Name()))
			for _, s := range shas {
				out = append(out, filepath.Join(kind, u.Name(), s.Name()))
			}
		}
	}
	return out
}

// TestWorkDirGoesWithItsServer: as root the process backend's work dir lies
// outside the data dir (/var/lib/lamb/run-*); it goes when its server stops,
// and one whose data dir was deleted (its server killed) goes at the next
// start of any server.
func TestWorkDirGoesWithItsServer(t *testing.T) {
	dir := t.TempDir()
	work, err := process.WorkDirFor(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(work, "/var/lib/lamb/") {
		t.Skipf("work dir %s is inside the data dir (lamb not root): nothing to check", work)
	}
	s := startLamb(t, dir)
	c := s.client("us-east-1", "123456789012")
	createEcho(t, c, "workdir")
	invokeEcho(t, c, "workdir", `{}`)
	if _, err := os.Stat(work); err != nil {
		t.Fatalf("work dir of a running server: %v", err)
	}
	s.stop(t)
	if _, err := os.Stat(work); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("work dir %s outlived its server (%v)", work, err)
	}

	// A killed server's, whose data dir is then deleted.
	gone := t.TempDir()
	s = startLamb(t, gone)
	createEcho(t, s.client("us-east-1", "123456789012"), "killed")
	s.kill9()
	stale, err := process.WorkDirFor(gone)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); err != nil {
		t.Fatalf("a killed server's work dir is already gone: %v", err)
	}
	if err := os.RemoveAll(gone); err != nil {
		t.Fatal(err)
	}
	startLamb(t, t.TempDir())
	if _, err := os.Stat(stale); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("work dir %s of a deleted data dir survived the next start (%v)", stale, err)
	}
}
