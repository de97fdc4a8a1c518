package api

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// folderWatch follows one folder and everything under it (new
// subdirectories included) and counts its settled changes: a change settles
// once the folder was quiet for the debounce interval, and then the
// revision moves on. A folder that disappears is a change too; it is polled
// for until it comes back, and watched again then.
//
// Its one goroutine is run, which returns when the context ends or stop is
// called.
type folderWatch struct {
	dir      string
	debounce time.Duration
	log      *slog.Logger
	epoch    int64 // when the watch started: revisions differ across watches of one folder

	// maxDelay bounds how long a folder written without a pause keeps its
	// revision; pollEvery is how often a vanished folder is looked for.
	maxDelay, pollEvery time.Duration

	mu      sync.Mutex
	gen     uint64
	pending bool
	quiet   chan struct{} // closed while no change is pending
	// ready is closed once the first watch is in place (or the folder found missing).
	ready   chan struct{}
	stopped chan struct{}
	once    sync.Once
}

func newFolderWatch(dir string, debounce time.Duration, log *slog.Logger) *folderWatch {
	quiet := make(chan struct{})
	close(quiet)
	return &folderWatch{dir: dir, debounce: debounce, log: log, epoch: time.Now().UnixNano(),
		maxDelay: 20 * debounce, pollEvery: max(debounce/2, 10*time.Millisecond),
		quiet: quiet, ready: make(chan struct{}), stopped: make(chan struct{})}
}

// revision names the folder's current settled state.
func (w *folderWatch) revision() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return hotReloadRevision(w.epoch, w.gen)
}

// stop ends run; safe to call more than once.
func (w *folderWatch) stop() { w.once.Do(func() { close(w.stopped) }) }

// settle returns once no change is pending, after at most limit, or when ctx
// ends.
func (w *folderWatch) settle(ctx context.Context, limit time.Duration) {
	w.mu.Lock()
	quiet := w.quiet
	w.mu.Unlock()
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case <-quiet:
	case <-t.C:
	case <-ctx.Done():
	case <-w.stopped:
	}
}

// markPending records that the folder changed and the change has not settled.
func (w *folderWatch) markPending() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.pending {
		w.pending = true
		w.quiet = make(chan struct{})
	}
}

// settled moves the revision on and releases invocations waiting in settle.
func (w *folderWatch) settled() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.gen++
	if w.pending {
		w.pending = false
		close(w.quiet)
	}
}

// run watches until ctx ends or stop is called.
func (w *folderWatch) run(ctx context.Context) {
	defer w.markReady()
	debounce := time.NewTimer(time.Hour)
	debounce.Stop()
	defer debounce.Stop()
	var first time.Time // first event of the change pending; zero when none
	change := func() {
		w.markPending()
		now := time.Now()
		if first.IsZero() {
			first = now
		}
		if now.Sub(first) >= w.maxDelay {
			debounce.Reset(0)
			return
		}
		debounce.Reset(w.debounce)
	}
	for {
		fw, err := w.watchTree()
		w.markReady()
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			w.log.Warn("hot reload: cannot watch folder; saves are not seen until it is readable", "folder", w.dir, "error", err)
		}
		var events <-chan fsnotify.Event
		var errs <-chan error
		var poll <-chan time.Time
		var ticker *time.Ticker
		if fw != nil {
			events, errs = fw.Events, fw.Errors
		} else {
			ticker = time.NewTicker(w.pollEvery)
			poll = ticker.C
		}
		rewatch := false
		for !rewatch {
			select {
			case <-ctx.Done():
				closeWatch(fw, ticker)
				return
			case <-w.stopped:
				closeWatch(fw, ticker)
				return
			case <-debounce.C:
				first = time.Time{}
				w.settled()
			case ev, ok := <-events:
				if !ok {
					rewatch = true
					break
				}
				if ev.Name == w.dir && (ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename)) {
					// The folder itself went: look for it until it is back.
					change()
					rewatch = true
					break
				}
				if ev.Has(fsnotify.Create) {
					if fi, err := os.Lstat(ev.Name); err == nil && fi.IsDir() {
						// A new subdirectory, maybe with files in it already.
						if err := addTree(fw, ev.Name); err != nil {
							w.log.Debug("hot reload: watch new folder", "folder", ev.Name, "error", err)
						}
					}
				}
				change()
			case err, ok := <-errs:
				if !ok {
					rewatch = true
					break
				}
				// Overflow (events lost) or similar: treat it as a change.
				w.log.Debug("hot reload: watch error", "folder", w.dir, "error", err)
				change()
			case <-poll:
				if fi, err := os.Stat(w.dir); err == nil && fi.IsDir() {
					change()
					rewatch = true
				}
			}
		}
		closeWatch(fw, ticker)
	}
}

func (w *folderWatch) markReady() {
	select {
	case <-w.ready:
	default:
		close(w.ready)
	}
}

func closeWatch(fw *fsnotify.Watcher, t *time.Ticker) {
	if fw != nil {
		_ = fw.Close()
	}
	if t != nil {
		t.Stop()
	}
}

// watchTree starts a watcher on w.dir and every directory under it; nil and
// the error when w.dir cannot be watched (fs.ErrNotExist when it is gone).
func (w *folderWatch) watchTree() (*fsnotify.Watcher, error) {
	fi, err := os.Stat(w.dir)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, fs.ErrNotExist
	}
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	if err := addTree(fw, w.dir); err != nil {
		_ = fw.Close()
		return nil, err
	}
	return fw, nil
}

// addTree adds dir and the directories under it to fw. Symbolic links are
// not followed. A subdirectory that vanishes meanwhile is skipped.
func addTree(fw *fsnotify.Watcher, dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p != dir && errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if err := fw.Add(p); err != nil {
			if p != dir && errors.Is(err, fs.ErrNotExist) {
				return fs.SkipDir
			}
			return err
		}
		return nil
	})
}
