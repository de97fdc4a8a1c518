//go:build pprof

package main

// Built with -tags pprof, lamb serves net/http/pprof on LAMB_PPROF_ADDR
// (default 127.0.0.1:6060), for profiling the invoke path.

import (
	"log/slog"
	"net/http"
	_ "net/http/pprof"
	"os"
)

func init() {
	addr := os.Getenv("LAMB_PPROF_ADDR")
	if addr == "" {
		addr = "127.0.0.1:6060"
	}
	go func() {
		// Owned by the process: it ends with it.
		if err := http.ListenAndServe(addr, nil); err != nil {
			slog.Warn("pprof", "err", err)
		}
	}()
}
