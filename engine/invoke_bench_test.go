package engine

import (
	"context"
	"strconv"
	"testing"
	"time"
)

// BenchmarkInvokeWarm is the engine's share of a warm invoke on the in-memory
// fake backend: pool key, acquire, the START/END/REPORT lines, release. Run
// with -benchmem; compare runs with benchstat.
func BenchmarkInvokeWarm(b *testing.B) {
	for _, format := range []string{"Text", "JSON"} {
		b.Run(format, func(b *testing.B) {
			e := New(newFake(), WithLogSink(func(*Function, []byte) {}))
			b.Cleanup(func() { _ = e.Close(context.Background()) })
			fn := testFunction()
			fn.LogFormat = format
			req := &Request{RequestID: "8f5e5c8a-3b1e-4a51-9c9f-2f7f1d4c0b6e", Payload: []byte(`{"n":1}`)}
			ctx := context.Background()
			if _, err := e.Invoke(ctx, fn, req); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.Invoke(ctx, fn, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPoolKey is poolKey on a function with a few variables and layers.
func BenchmarkPoolKey(b *testing.B) {
	fn := testFunction()
	for i := range 8 {
		fn.Env["VAR_"+strconv.Itoa(i)] = "value-" + strconv.Itoa(i)
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = poolKey(fn)
	}
}

// BenchmarkPlatformLines is the text START, END and REPORT lines of one
// invocation.
func BenchmarkPlatformLines(b *testing.B) {
	fn := testFunction()
	now := time.Now()
	const id = "8f5e5c8a-3b1e-4a51-9c9f-2f7f1d4c0b6e"
	b.ReportAllocs()
	for b.Loop() {
		_ = startLine(fn, id, now)
		_ = endLines(fn, id, now, 1234567*time.Nanosecond, "success", "")
		_ = reportLine(fn, id, now, 1234567*time.Nanosecond, 0, 40, "success", "")
	}
}
