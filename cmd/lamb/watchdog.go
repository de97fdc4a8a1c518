package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// A container or Pod lamb started outlives a lamb killed with SIGKILL: no
// code of lamb's runs to remove it. So a server whose backend is not the
// process backend (whose runtimes die with lamb through Pdeathsig) starts a
// watchdog: the same lamb binary, run as `lamb serve <same flags>
// --watchdog-for ID`, in a process group of its own, holding the read end of
// a pipe only lamb writes to. When lamb shuts down cleanly it writes "done"
// and the watchdog exits; when lamb dies the pipe ends without it, and the
// watchdog removes everything labelled with lamb's server ID, as the next
// server on the same data dir would (Backend.Reap), then exits.
//
// The server's life lock keeps it from removing a newer server's instances:
// a server holds it from start to exit (the kernel drops it when the server
// dies), the watchdog reaps only while holding it itself, and a server that
// starts while a watchdog reaps waits for it.

const watchdogDone = "done"

// lifeLockPath is the file a server with this ID locks for its life.
func lifeLockPath(o serveOptions, id string) string {
	if !o.ephemeral {
		return filepath.Join(o.dataDir, "serve.lock")
	}
	sum := sha256.Sum256([]byte(id))
	return filepath.Join(os.TempDir(), "lamb-serve-"+hex.EncodeToString(sum[:8])+".lock")
}

// lockLife takes the server's life lock, waiting up to wait for a watchdog
// or an exiting server that holds it.
func lockLife(ctx context.Context, path string, wait time.Duration, log *slog.Logger) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("life lock: %w", err)
	}
	deadline := time.Now().Add(wait)
	warned := false
	for {
		err := tryLock(f) // lock_*.go
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, errLocked) {
			f.Close()
			return nil, fmt.Errorf("life lock %s: %w", path, err)
		}
		if time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("life lock %s: held by another lamb server (or its watchdog) for more than %s", path, wait)
		}
		if !warned {
			log.Info("waiting for an earlier lamb server (or its watchdog) to let go of its life lock", "lock", path)
			warned = true
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// watchdog is the running watchdog process, as its server sees it.
type watchdog struct {
	cmd  *exec.Cmd
	pipe io.WriteCloser
}

// startWatchdog starts the watchdog of the server with ID id, with the flags
// this process was started with.
func startWatchdog(id string) (*watchdog, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("watchdog: %w", err)
	}
	args := append(append([]string(nil), os.Args[1:]...), "--watchdog-for", id)
	cmd := exec.Command(exe, args...)
	// Its own process group: a Ctrl-C at the terminal, or a kill of lamb's
	// group, must not end the watchdog with lamb.
	cmd.SysProcAttr = detachedAttr() // lock_*.go
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	pipe, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("watchdog: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("watchdog: %w", err)
	}
	return &watchdog{cmd: cmd, pipe: pipe}, nil
}

// stop tells the watchdog lamb is exiting cleanly, and waits for it.
func (w *watchdog) stop() {
	io.WriteString(w.pipe, watchdogDone+"\n")
	w.pipe.Close()
	done := make(chan struct{})
	go func() { w.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		w.cmd.Process.Kill()
		<-done
	}
}

// runWatchdog is the watchdog's life: wait for the server's end, and reap
// after it if it died.
func runWatchdog(ctx context.Context, o serveOptions, stdin io.Reader) error {
	// The terminal's signals are the server's business; a broken stderr
	// (the server's terminal gone) must not kill the watchdog mid-reap.
	signal.Ignore(syscall.SIGINT, syscall.SIGHUP, syscall.SIGPIPE)
	log, err := newLogger(o.logLevel, o.logFormat)
	if err != nil {
		return err
	}
	log = log.With("watchdog", o.watchdogFor)
	parent := os.Getppid()
	line, _ := bufio.NewReader(stdin).ReadString('\n')
	if strings.TrimSpace(line) == watchdogDone {
		return nil
	}
	// The pipe may end while the dying server still closes its other files,
	// its life lock among them; the kernel gives its children to another
	// parent only after that.
	for deadline := time.Now().Add(5 * time.Second); os.Getppid() == parent && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	// The server died. A server that already took the lock again is a new
	// one, which reaps for itself and whose instances are not ours to remove.
	f, err := lockLife(ctx, lifeLockPath(o, o.watchdogFor), 0, log)
	if err != nil {
		log.Info("lamb server ended; a newer server holds its lock, leaving its instances alone", "error", err)
		return nil
	}
	defer f.Close()
	rctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	be, err := newBackend(rctx, o, "", o.watchdogFor, nil, log)
	if err != nil {
		return fmt.Errorf("watchdog: %w", err)
	}
	log.Warn("lamb server died without cleaning up; removing its instances", "backend", be.Name())
	if err := be.Reap(rctx); err != nil {
		return fmt.Errorf("watchdog: reap: %w", err)
	}
	return nil
}
