package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/lambhq/lamb/engine"
	"github.com/lambhq/lamb/engine/backend"
)

// startWatch runs a folderWatch on dir until the test ends and waits until
// it watches.
func startWatch(t *testing.T, dir string, debounce time.Duration) *folderWatch {
	t.Helper()
	w := newFolderWatch(dir, debounce, slog.New(slog.DiscardHandler))
	w.pollEvery = 5 * time.Millisecond
	done := make(chan struct{})
	go func() { defer close(done); w.run(context.Background()) }()
	t.Cleanup(func() {
		w.stop()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("watch did not stop")
		}
	})
	<-w.ready
	return w
}

// waitRevision polls until w's revision differs from old, failing after 5 s.
func waitRevision(t *testing.T, w *folderWatch, old string) string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if r := w.revision(); r != old {
			return r
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatalf("revision still %s after 5 s", old)
	return ""
}

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestFolderWatchBurstIsOneChange(t *testing.T) {
	dir := t.TempDir()
	w := startWatch(t, dir, 150*time.Millisecond)
	r0 := w.revision()
	// An editor saving several files, a few ms apart: all within the debounce.
	for i, name := range []string{"a.py", "b.py", "c.py", "a.py"} {
		write(t, filepath.Join(dir, name), strings.Repeat("x", i+1))
		time.Sleep(10 * time.Millisecond)
	}
	start := time.Now()
	w.settle(context.Background(), 5*time.Second)
	if waited := time.Since(start); waited > 2*time.Second {
		t.Fatalf("settle waited %v", waited)
	}
	r1 := w.revision()
	if r1 == r0 {
		t.Fatal("revision unchanged after the burst settled")
	}
	if got, want := r1, hotReloadRevision(w.epoch, 1); got != want {
		t.Fatalf("after one burst revision = %s, want %s (one change)", got, want)
	}
	// Quiet now: nothing more moves it.
	time.Sleep(300 * time.Millisecond)
	if r := w.revision(); r != r1 {
		t.Fatalf("revision moved to %s with no change", r)
	}
}

// TestFolderWatchSettleSeesSaveAtOnce: settle called right after a write
// returns only after the write's change settled, even when the watch has not
// read the write's event yet (the barrier).
func TestFolderWatchSettleSeesSaveAtOnce(t *testing.T) {
	dir := t.TempDir()
	w := startWatch(t, dir, 20*time.Millisecond)
	for i := range 30 {
		r := w.revision()
		write(t, filepath.Join(dir, "h.py"), strings.Repeat("x", i+1))
		w.settle(context.Background(), 5*time.Second)
		if w.revision() == r {
			t.Fatalf("save %d: settle returned before the save's change settled", i)
		}
	}
	w.mu.Lock()
	n := len(w.barriers)
	w.mu.Unlock()
	if n != 0 {
		t.Errorf("%d barriers left", n)
	}
	left, _ := os.ReadDir(w.barrierDir)
	if len(left) != 0 {
		t.Errorf("barrier files left: %v", left)
	}
}

func TestFolderWatchNewSubdirectories(t *testing.T) {
	dir := t.TempDir()
	w := startWatch(t, dir, 20*time.Millisecond)
	r := w.revision()
	sub := filepath.Join(dir, "pkg", "deep")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	r = waitRevision(t, w, r)
	time.Sleep(50 * time.Millisecond) // the new folders' watches are added on the create event
	write(t, filepath.Join(sub, "mod.py"), "v2")
	r = waitRevision(t, w, r)
	write(t, filepath.Join(sub, "mod.py"), "v3")
	waitRevision(t, w, r)
}

func TestFolderWatchVanishAndReturn(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "code")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "h.py"), "1")
	w := startWatch(t, dir, 20*time.Millisecond)
	r := w.revision()
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	r = waitRevision(t, w, r)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	r = waitRevision(t, w, r) // seen back
	time.Sleep(50 * time.Millisecond)
	write(t, filepath.Join(dir, "h.py"), "2")
	waitRevision(t, w, r) // and watched again
}

func TestFolderWatchStops(t *testing.T) {
	w := newFolderWatch(t.TempDir(), 10*time.Millisecond, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.run(ctx) }()
	<-w.ready
	w.stop()
	w.stop() // twice is fine
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("run did not return after stop")
	}
	cancel()
	// A missing folder (polled) stops on its context too.
	w = newFolderWatch(filepath.Join(t.TempDir(), "missing"), 10*time.Millisecond, slog.New(slog.DiscardHandler))
	ctx, cancel = context.WithCancel(context.Background())
	done = make(chan struct{})
	go func() { defer close(done); w.run(ctx) }()
	<-w.ready
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("run did not return after its context ended")
	}
}

// TestHotReloadFunction drives the API with the SDK and a real engine on the
// process backend: a function whose code is a folder answers with the saved
// code on the next invoke, GetFunction answers as LocalStack does, a vanished
// folder is a function error, and deleting the function stops the watch.
func TestHotReloadFunction(t *testing.T) {
	needNode(t)
	h := newEngineHarness(t)
	h.srv.hot.debounce = 30 * time.Millisecond
	ctx := context.Background()
	parent := t.TempDir()
	if err := os.Chmod(parent, 0o755); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(parent, "fn")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "index.js"), `exports.handler = async () => "v1";`)
	_, err := h.client.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String("hot"), Runtime: types.RuntimeNodejs22x, Handler: aws.String("index.handler"),
		Role: aws.String("arn:aws:iam::111111111111:role/r"),
		Code: &types.FunctionCode{S3Bucket: aws.String("hot-reload"), S3Key: aws.String(dir)},
	})
	if err != nil {
		t.Fatal(err)
	}
	waitActive(t, h.client, "hot")
	got, err := h.client.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("hot")})
	if err != nil {
		t.Fatal(err)
	}
	if loc := aws.ToString(got.Code.Location); loc != "Code location: "+dir || aws.ToString(got.Code.RepositoryType) != "S3" {
		t.Errorf("Code = %s %q, want S3 %q", aws.ToString(got.Code.RepositoryType), loc, "Code location: "+dir)
	}
	if c := got.Configuration; aws.ToString(c.CodeSha256) != hotReloadCodeSHA256 || c.CodeSize != 0 {
		t.Errorf("CodeSha256, CodeSize = %q, %d", aws.ToString(c.CodeSha256), c.CodeSize)
	}

	invoke := func() (string, string) {
		t.Helper()
		out, err := h.client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("hot")})
		if err != nil {
			t.Fatal(err)
		}
		return string(out.Payload), aws.ToString(out.FunctionError)
	}
	if p, _ := invoke(); p != `"v1"` {
		t.Fatalf("first invoke = %s", p)
	}
	// Save, then invoke at once: the invoke waits for the save to settle.
	for _, v := range []string{"v2", "v3"} {
		write(t, filepath.Join(dir, "index.js"), `exports.handler = async () => "`+v+`";`)
		deadline := time.Now().Add(5 * time.Second)
		for {
			p, _ := invoke()
			if p == `"`+v+`"` {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("after saving %s the function still answers %s", v, p)
			}
		}
	}
	// One warm instance serves the function: the old ones were stopped.
	if n := countInstances(h, "hot"); n != 1 {
		t.Errorf("%d instances after two saves, want 1", n)
	}

	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		p, fe := invoke()
		if fe == "Unhandled" {
			var doc struct{ ErrorType, ErrorMessage string }
			if err := json.Unmarshal([]byte(p), &doc); err != nil || doc.ErrorType != engine.HotReloadErrorType || !strings.Contains(doc.ErrorMessage, dir) {
				t.Fatalf("vanished folder: error %s", p)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("folder removed, function still answers %s", p)
		}
	}

	if _, err := h.client.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("hot")}); err != nil {
		t.Fatal(err)
	}
	h.srv.hot.mu.Lock()
	n := len(h.srv.hot.watches)
	h.srv.hot.mu.Unlock()
	if n != 0 {
		t.Errorf("%d watches left after the function was deleted", n)
	}
}

func countInstances(h *harness, name string) int {
	n := 0
	for _, in := range h.srv.cfg.Engine.Instances() {
		if in.FunctionName == name {
			n++
		}
	}
	return n
}

// noFolders is an engine whose backend cannot use host folders.
type noFolders struct{ Invoker }

func (noFolders) Capabilities() backend.Capabilities { return backend.Capabilities{Images: true} }

func TestHotReloadRefused(t *testing.T) {
	dir := t.TempDir()
	h := newHarness(t, Config{Engine: noFolders{}, BackendName: "kubernetes", HotReloadBucket: "__local__"})
	ctx := context.Background()
	create := func(bucket, key string, zip []byte) error {
		_, err := h.client.CreateFunction(ctx, &lambda.CreateFunctionInput{
			FunctionName: aws.String("f"), Runtime: types.RuntimePython312, Handler: aws.String("h.handler"),
			Role: aws.String("arn:aws:iam::111111111111:role/r"),
			Code: &types.FunctionCode{S3Bucket: aws.String(bucket), S3Key: aws.String(key), ZipFile: zip},
		})
		return err
	}
	for _, tc := range []struct {
		bucket, key string
		zip         []byte
		want        string
	}{
		{"hot-reload", dir, nil, "kubernetes backend cannot run code from a folder"},
		{"__local__", dir, nil, "kubernetes backend cannot run code from a folder"},
		{"hot-reload", "relative/path", nil, "has to be an absolute path"},
		{"hot-reload", dir, []byte("zip"), "only one source"},
		{"my-bucket", "code.zip", nil, "only when started with --s3-endpoint"},
	} {
		err := create(tc.bucket, tc.key, tc.zip)
		var ipe *types.InvalidParameterValueException
		if !errors.As(err, &ipe) || !strings.Contains(ipe.ErrorMessage(), tc.want) {
			t.Errorf("%s %s: %v, want InvalidParameterValueException %q", tc.bucket, tc.key, err, tc.want)
		}
	}
}
