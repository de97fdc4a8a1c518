package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/lambhq/lamb/store"
)

// Blob garbage collection. A code or layer zip is stored once per content
// (putZip) and referenced by sha from three buckets: functions ($LATEST and
// the layers it uses), function-versions (the same) and layer-versions. A
// sweep removes every blob none of them references.
//
// Why a sweep never removes a blob something still references:
//
//   - References are only ever created in two ways. Copied, inside one Update
//     transaction, from a record that already holds the sha (PublishVersion
//     copies $LATEST, CreateFunction and UpdateFunctionConfiguration copy a
//     layer version's sha); or written by an upload: PutBlob, then the
//     record's Update.
//   - A sweep reads every reference in one View transaction, a consistent
//     snapshot. A sha no record holds in that snapshot cannot be copied by a
//     later transaction, as there is nothing to copy it from; so only an
//     upload can bring it back.
//   - An upload holds blobGC.uploads for reading from before its PutBlob until
//     its record's Update has returned; a sweep holds it for writing from
//     before its View until its last delete. So no upload is between PutBlob
//     and commit while a sweep runs: an upload that committed before is in the
//     snapshot, one that starts after finds its blob gone and PutBlob writes
//     it again (PutBlob skips the write only when the file exists).
//   - A crash between a record's delete and its blob's removal only leaves a
//     blob behind, never a reference to a missing one: the sweep at start-up
//     (CollectGarbage) removes it. A crash inside PutBlob leaves a temporary
//     file that store.Open removes.
//
// An invocation that resolved a function just before the function was deleted
// may find its code gone; it fails as an invocation of a deleted function does.
type blobGC struct {
	uploads sync.RWMutex

	mu      sync.Mutex
	running bool // a sweep goroutine is running
	again   bool // a sweep was requested while one ran: run once more
}

// errNotCommitted and errCodeReplaced are outcomes passed to putZip's done:
// both ask for a sweep.
var (
	errNotCommitted = errors.New("record not committed")
	errCodeReplaced = errors.New("code replaced")
)

// putZip stores a checked zip in the blobs (once per content). The caller
// must call done with the outcome of the transaction that records the zip's
// sha (nil when it committed), after that transaction: until then no sweep
// runs. A failed transaction may leave the blob unreferenced, so done then
// asks for a sweep.
func (s *Server) putZip(ctx context.Context, data []byte, z storedZip) (_ storedZip, done func(error), err error) {
	s.gc.uploads.RLock()
	var once sync.Once
	done = func(err error) {
		once.Do(func() {
			s.gc.uploads.RUnlock()
			if err != nil {
				s.requestSweep()
			}
		})
	}
	h, err := s.store.PutBlob(ctx, data)
	if err != nil {
		done(err)
		return storedZip{}, nil, fmt.Errorf("store zip: %w", err)
	}
	z.SHA256Hex = h
	return z, done, nil
}

// CollectGarbage starts a sweep of unreferenced blobs in the background. lamb
// serve calls it at start-up, for blobs a crash left behind; the API requests
// one itself after each delete.
func (s *Server) CollectGarbage() { s.requestSweep() }

// requestSweep runs sweepBlobs in the background. Requests coalesce: while a
// sweep runs, any number of requests make one more sweep after it, so a
// thousand deletes cause a handful of sweeps, not a thousand.
func (s *Server) requestSweep() {
	s.gc.mu.Lock()
	defer s.gc.mu.Unlock()
	if s.gc.running {
		s.gc.again = true
		return
	}
	s.gc.running = true
	s.goBackground(func(ctx context.Context) {
		busyRounds := 0
		for {
			_, busy, err := s.sweepBlobs(ctx)
			if err != nil && ctx.Err() == nil {
				s.log.WarnContext(ctx, "blob garbage collection", slog.Any("error", err))
			}
			// Copies kept only because an instance still ran from them (a
			// deleted function's instances stop in the background) are
			// looked at again shortly, for a while.
			if busy > 0 && busyRounds < maxBusyRounds {
				busyRounds++
				select {
				case <-ctx.Done():
				case <-time.After(busyRetry):
					continue
				}
			}
			s.gc.mu.Lock()
			if !s.gc.again || ctx.Err() != nil {
				s.gc.running = false
				s.gc.mu.Unlock()
				return
			}
			s.gc.again = false
			s.gc.mu.Unlock()
		}
	})
}

// How often, and how many times, a sweep comes back for copies it kept only
// because an instance ran from them.
const (
	busyRetry     = 2 * time.Second
	maxBusyRounds = 30
)

// sweepBlobs removes every blob no function, version or layer version
// references, and what the backend made of them, and returns how many blobs
// it removed and how many of the backend's copies of them it kept only
// because an instance still runs from them.
func (s *Server) sweepBlobs(ctx context.Context) (removed, busy int, _ error) {
	s.gc.uploads.Lock()
	defer s.gc.uploads.Unlock()
	keep, err := referencedBlobs(ctx, s.store)
	if err != nil {
		return 0, 0, err
	}
	var garbage []string
	if err := s.store.Blobs(ctx, func(h string, _ int64) error {
		if !keep[h] {
			garbage = append(garbage, h)
		}
		return nil
	}); err != nil {
		return 0, 0, fmt.Errorf("list blobs: %w", err)
	}
	for i, h := range garbage {
		if err := s.store.DeleteBlob(ctx, h); err != nil {
			return i, 0, fmt.Errorf("delete blob %s: %w", h, err)
		}
	}
	if len(garbage) > 0 {
		s.log.DebugContext(ctx, "removed unreferenced blobs", slog.Int("count", len(garbage)), slog.Int("kept", len(keep)))
	}
	// What the backend made of them (extracted code, volumes) goes too; a
	// failure there leaves a cache entry, not a reference to a missing blob.
	if c, ok := s.cfg.Engine.(artifactCollector); ok {
		if busy, err = c.CollectArtifacts(ctx, func(h string) bool { return keep[h] }); err != nil {
			s.log.WarnContext(ctx, "collecting the backend's copies of unreferenced code", slog.Any("error", err))
		}
	}
	return len(garbage), busy, nil
}

// artifactCollector is the engine's CollectArtifacts.
type artifactCollector interface {
	CollectArtifacts(ctx context.Context, keep func(sha256 string) bool) (busy int, err error)
}

// referencedBlobs reads, in one transaction, the sha of every blob a
// function, a function version, a layer version or a queued Event
// invocation references.
func referencedBlobs(ctx context.Context, st store.Store) (map[string]bool, error) {
	keep := map[string]bool{}
	err := st.View(ctx, func(tx store.Tx) error {
		for _, b := range []string{bucketFunctions, bucketVersions} {
			if err := tx.Scan(b, "", "", func(key string, raw []byte) error {
				var f functionRecord
				if err := json.Unmarshal(raw, &f); err != nil {
					return fmt.Errorf("%s/%s: %w", b, key, err)
				}
				if f.CodeSHA256Hex != "" {
					keep[f.CodeSHA256Hex] = true
				}
				// A function keeps working with a layer version deleted
				// after it was attached, as on AWS.
				for _, l := range f.Layers {
					if l.CodeSHA256 != "" {
						keep[l.CodeSHA256] = true
					}
				}
				return nil
			}); err != nil {
				return err
			}
		}
		// A queued Event invocation runs with the code it was accepted for,
		// even after its function was updated or deleted (async.go).
		if err := tx.Scan(bucketAsyncEvents, "", "", func(key string, raw []byte) error {
			var ev asyncRecord
			if err := json.Unmarshal(raw, &ev); err != nil {
				return fmt.Errorf("%s/%s: %w", bucketAsyncEvents, key, err)
			}
			if ev.Function.CodeSHA256 != "" {
				keep[ev.Function.CodeSHA256] = true
			}
			for _, l := range ev.Function.Layers {
				if l.CodeSHA256 != "" {
					keep[l.CodeSHA256] = true
				}
			}
			return nil
		}); err != nil {
			return err
		}
		return tx.Scan(bucketLayerVersions, "", "", func(key string, raw []byte) error {
			var l layerVersionRecord
			if err := json.Unmarshal(raw, &l); err != nil {
				return fmt.Errorf("%s/%s: %w", bucketLayerVersions, key, err)
			}
			if l.CodeSHA256Hex != "" {
				keep[l.CodeSHA256Hex] = true
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read blob references: %w", err)
	}
	return keep, nil
}
