package api

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
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
	// Barriers (see settle): a directory of the watch's own, watched by the
	// same inotify instance; settle creates a file named by a sequence
	// number there and waits until run has seen it, and so every event
	// queued before it.
	barrierDir string // "" while nothing watches (the folder is gone)
	barrierSeq uint64
	barriers   map[uint64]chan struct{}
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
// ends. A change counts if its events were queued before settle was called,
// even if run has not read them yet: settle first passes a barrier through
// the watch's event queue (events of one inotify instance arrive in order),
// so that an invoke right after a save cannot slip in before the save's
// events are read. That costs a file create and remove in a directory of
// lamb's own, some 50 µs.
func (w *folderWatch) settle(ctx context.Context, limit time.Duration) {
	t := time.NewTimer(limit)
	defer t.Stop()
	if seen := w.barrier(); seen != nil {
		select {
		case <-seen:
		case <-t.C:
			return
		case <-ctx.Done():
			return
		case <-w.stopped:
			return
		}
	}
	w.mu.Lock()
	quiet := w.quiet
	w.mu.Unlock()
	select {
	case <-quiet:
	case <-t.C:
	case <-ctx.Done():
	case <-w.stopped:
	}
}

// barrier creates the next barrier file and returns a channel closed once
// run has read its event; nil when there is no watch to pass it through.
func (w *folderWatch) barrier() <-chan struct{} {
	w.mu.Lock()
	if w.barrierDir == "" {
		w.mu.Unlock()
		return nil
	}
	w.barrierSeq++
	seq, dir := w.barrierSeq, w.barrierDir
	ch := make(chan struct{})
	if w.barriers == nil {
		w.barriers = map[uint64]chan struct{}{}
	}
	w.barriers[seq] = ch
	w.mu.Unlock()
	f, err := os.OpenFile(filepath.Join(dir, strconv.FormatUint(seq, 10)), os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o600)
	if err != nil {
		w.mu.Lock()
		delete(w.barriers, seq)
		w.mu.Unlock()
		return nil
	}
	_ = f.Close()
	return ch
}

// passBarrier releases the settles waiting on barriers up to the one named
// by the event's file, and removes its file.
func (w *folderWatch) passBarrier(name string) {
	seq, err := strconv.ParseUint(filepath.Base(name), 10, 64)
	if err != nil {
		return
	}
	_ = os.Remove(name)
	w.mu.Lock()
	defer w.mu.Unlock()
	for s, ch := range w.barriers {
		if s <= seq {
			close(ch)
			delete(w.barriers, s)
		}
	}
}

// setBarrierDir publishes (or, with "", withdraws) the barrier directory,
// releasing every settle waiting on a barrier when it is withdrawn.
func (w *folderWatch) setBarrierDir(dir string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.barrierDir = dir
	if dir == "" {
		for s, ch := range w.barriers {
			close(ch)
			delete(w.barriers, s)
		}
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
	barrierDir, err := os.MkdirTemp("", "lamb-hot-barrier-")
	if err != nil {
		w.log.Warn("hot reload: no barrier directory: an invoke right after a save may run the code before it", "error", err)
	}
	if barrierDir != "" {
		defer os.RemoveAll(barrierDir)
	}
	for {
		fw, err := w.watchTree()
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			w.log.Warn("hot reload: cannot watch folder; saves are not seen until it is readable", "folder", w.dir, "error", err)
		}
		if fw != nil && barrierDir != "" {
			if err := fw.Add(barrierDir); err != nil {
				w.log.Warn("hot reload: cannot watch the barrier directory", "dir", barrierDir, "error", err)
			} else {
				w.setBarrierDir(barrierDir)
			}
		}
		w.markReady()
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
				w.setBarrierDir("")
				closeWatch(fw, ticker)
				return
			case <-w.stopped:
				w.setBarrierDir("")
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
				if barrierDir != "" && filepath.Dir(ev.Name) == barrierDir {
					if ev.Has(fsnotify.Create) {
						w.passBarrier(ev.Name)
					}
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
		w.setBarrierDir("")
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
