package engine_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"os"
	"time"

	"github.com/lambhq/lamb/engine"
	"github.com/lambhq/lamb/engine/backend"
	"github.com/lambhq/lamb/engine/backend/process"
)

// Embed the engine with the process backend and invoke a python function.
func Example() {
	ctx := context.Background()
	workDir, err := os.MkdirTemp("", "lamb-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(workDir)

	b, err := process.New(process.Config{WorkDir: workDir})
	if err != nil {
		log.Fatal(err)
	}
	e := engine.New(b, engine.WithMaxInstances(2), engine.WithIdleTTL(time.Minute))
	defer e.Close(ctx)

	// The function's code: a zip holding app.py.
	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	w, _ := zw.Create("app.py")
	io.WriteString(w, "def handler(event, context):\n    return {'hello': event['name']}\n")
	zw.Close()
	data := zbuf.Bytes()
	sum := sha256.Sum256(data)
	code := backend.Artifact{
		SHA256: hex.EncodeToString(sum[:]), Size: int64(len(data)),
		Open: func(context.Context) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil },
	}

	fn := &engine.Function{
		Region: "us-east-1", Name: "hello", Version: "$LATEST",
		ARN:     "arn:aws:lambda:us-east-1:000000000000:function:hello",
		Runtime: "python3.12", Handler: "app.handler", MemoryMB: 128, Timeout: 3 * time.Second,
		Code: code, CodeSHA256: code.SHA256,
	}
	res, err := e.Invoke(ctx, fn, &engine.Request{RequestID: "8d6f8e3a-0000-4000-8000-000000000001", Payload: []byte(`{"name":"lamb"}`)})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(res.Payload), res.FunctionError == "")
	// Output: {"hello": "lamb"} true
}
