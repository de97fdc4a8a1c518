package api

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/lambhq/lamb/store"
)

// blobUsage is what a data dir's blobs/ holds: entries (files and
// directories) and bytes.
type blobUsage struct{ entries, bytes int64 }

func blobDirUsage(t *testing.T, dataDir string) blobUsage {
	t.Helper()
	var u blobUsage
	root := filepath.Join(dataDir, "blobs")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && p != root {
			return nil // removed by a sweep meanwhile
		}
		if err != nil {
			return err
		}
		if p == root {
			return nil
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if errors.Is(err, fs.ErrNotExist) {
				return nil // removed by a sweep between listing and lstat
			}
			if err != nil {
				return err
			}
			u.bytes += info.Size()
		}
		u.entries++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// waitUsage waits for the background sweeps to bring the blob dir to want.
func waitUsage(t *testing.T, dataDir string, want blobUsage) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := blobDirUsage(t, dataDir)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("blob dir holds %+v, want %+v", got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func boltHarness(t *testing.T) (*harness, string) {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	// Cleanups run last-in first-out: newHarness's, closing the server, first.
	t.Cleanup(func() { st.Close() })
	return newHarness(t, Config{Store: st}), dir
}

func hasBlob(t *testing.T, st store.Store, sha string) bool {
	t.Helper()
	rc, _, err := st.OpenBlob(context.Background(), sha)
	if errors.Is(err, store.ErrNotFound) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	rc.Close()
	return true
}

func codeSHA(t *testing.T, st store.Store, name string) string {
	t.Helper()
	var sha string
	if err := st.View(context.Background(), func(tx store.Tx) error {
		f, err := loadFunction(tx, scope{Account: testAccount, Region: "us-east-1"}, name)
		if err != nil {
			return err
		}
		sha = f.CodeSHA256Hex
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return sha
}

// TestGCThousandFunctions: creating and deleting 1000 functions leaves the
// blob dir as it was.
func TestGCThousandFunctions(t *testing.T) {
	h, dir := boltHarness(t)
	ctx := context.Background()
	before := blobDirUsage(t, dir)
	const n, workers = 1000, 8
	run := func(op func(i int) error) {
		t.Helper()
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < n; i += workers {
					if err := op(i); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	}
	run(func(i int) error {
		in := createInput(t, fmt.Sprintf("gc-%d", i))
		in.Code.ZipFile = handlerZip(t, fmt.Sprint(i)) // distinct contents
		_, err := h.client.CreateFunction(ctx, in)
		return err
	})
	if got := blobDirUsage(t, dir); got.bytes <= before.bytes || got.entries < before.entries+n {
		t.Fatalf("after %d creates the blob dir holds %+v (before: %+v)", n, got, before)
	}
	run(func(i int) error {
		_, err := h.client.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String(fmt.Sprintf("gc-%d", i))})
		return err
	})
	waitUsage(t, dir, before)
}

// TestGCSharedAndLayerBlobs: a blob stays while anything references it.
func TestGCSharedAndLayerBlobs(t *testing.T) {
	h, dir := boltHarness(t)
	ctx := context.Background()
	st := h.srv.store
	before := blobDirUsage(t, dir)
	sweep := func() {
		t.Helper()
		if _, _, err := h.srv.sweepBlobs(ctx); err != nil {
			t.Fatal(err)
		}
	}

	// Two functions with the same code share one blob.
	for _, name := range []string{"share-a", "share-b"} {
		if _, err := h.client.CreateFunction(ctx, createInput(t, name)); err != nil {
			t.Fatal(err)
		}
	}
	shared := codeSHA(t, st, "share-a")
	if codeSHA(t, st, "share-b") != shared {
		t.Fatal("same zip, different blobs")
	}
	if _, err := h.client.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("share-a")}); err != nil {
		t.Fatal(err)
	}
	sweep()
	if !hasBlob(t, st, shared) {
		t.Fatal("a blob still used by share-b was removed")
	}

	// A published version keeps its code after $LATEST's is replaced.
	if _, err := h.client.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("share-b")}); err != nil {
		t.Fatal(err)
	}
	waitActive(t, h.client, "share-b")
	if _, err := h.client.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String("share-b"), ZipFile: handlerZip(t, "2")}); err != nil {
		t.Fatal(err)
	}
	sweep()
	if !hasBlob(t, st, shared) {
		t.Fatal("the code of version 1 was removed")
	}
	if _, err := h.client.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("share-b"), Qualifier: aws.String("1")}); err != nil {
		t.Fatal(err)
	}
	sweep()
	if hasBlob(t, st, shared) {
		t.Fatal("the code nothing references any more is still stored")
	}

	// A layer version's blob stays while it exists, and while a function uses it.
	lv, err := h.client.PublishLayerVersion(ctx, &lambda.PublishLayerVersionInput{LayerName: aws.String("gl"),
		Content: &types.LayerVersionContentInput{ZipFile: zipOf(t, map[string]string{"python/lib.py": "x = 1\n"})}})
	if err != nil {
		t.Fatal(err)
	}
	var layerSHA string
	if err := st.View(ctx, func(tx store.Tx) error {
		l, err := loadLayerVersion(tx, scope{Account: testAccount, Region: "us-east-1"}, "gl", 1)
		if err != nil {
			return err
		}
		layerSHA = l.CodeSHA256Hex
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	sweep()
	if !hasBlob(t, st, layerSHA) {
		t.Fatal("an existing layer version's blob was removed")
	}
	in := createInput(t, "uses-layer")
	in.Layers = []string{aws.ToString(lv.LayerVersionArn)}
	if _, err := h.client.CreateFunction(ctx, in); err != nil {
		t.Fatal(err)
	}
	if _, err := h.client.DeleteLayerVersion(ctx, &lambda.DeleteLayerVersionInput{LayerName: aws.String("gl"), VersionNumber: aws.Int64(1)}); err != nil {
		t.Fatal(err)
	}
	sweep()
	if !hasBlob(t, st, layerSHA) {
		t.Fatal("a deleted layer version's blob was removed while a function uses it")
	}
	for _, name := range []string{"share-b", "uses-layer"} {
		if _, err := h.client.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
	}
	waitUsage(t, dir, before)
}

// TestGCAtStartup: a blob left unreferenced (a crash between a record's
// delete and the sweep) goes with CollectGarbage.
func TestGCAtStartup(t *testing.T) {
	h, dir := boltHarness(t)
	ctx := context.Background()
	before := blobDirUsage(t, dir)
	if _, err := h.srv.store.PutBlob(ctx, []byte("orphan")); err != nil {
		t.Fatal(err)
	}
	h.srv.CollectGarbage()
	waitUsage(t, dir, before)
}

// TestGCRacesUploads: sweeps running all the time never remove the code of a
// function that exists, even one uploading bytes a deleted function had.
func TestGCRacesUploads(t *testing.T) {
	h, _ := boltHarness(t)
	ctx, cancel := context.WithCancel(context.Background())
	st := h.srv.store
	var sweeps sync.WaitGroup
	sweeps.Add(1)
	go func() {
		defer sweeps.Done()
		for ctx.Err() == nil {
			if _, _, err := h.srv.sweepBlobs(ctx); err != nil && ctx.Err() == nil {
				t.Error(err)
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 25 {
				name := fmt.Sprintf("race-%d-%d", w, i)
				in := createInput(t, name)
				in.Code.ZipFile = handlerZip(t, fmt.Sprint(i%2)) // shared by the workers
				if _, err := h.client.CreateFunction(ctx, in); err != nil {
					t.Error(err)
					return
				}
				if sha := codeSHA(t, st, name); !hasBlob(t, st, sha) {
					t.Errorf("%s: its code %s was removed", name, sha)
					return
				}
				if _, err := h.client.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String(name)}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	cancel()
	sweeps.Wait()
}
