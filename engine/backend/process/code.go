package process

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lambhq/lamb/engine/backend"
	"github.com/lambhq/lamb/ziparchive"
)

// ErrDigestMismatch is returned (wrapped) by Launch when an artifact's bytes
// do not have the sha256 it is named by.
var ErrDigestMismatch = errors.New("artifact content does not match its sha256")

// artifactCache extracts zips into dir/<uid>/<sha>, one copy per user that
// runs them, shared by that user's instances. Extraction goes into a
// temporary directory renamed into place, so a half-extracted tree is never
// under the final name.
//
// A copy this process did not make (an earlier server's) is extracted afresh
// rather than trusted: one extraction per zip and user after each start.
//
// A copy this process made is reused only while it is exactly as it was
// left, when anything untrusted could have written to it (get's verify):
// each reuse then compares every entry's inode, change time, size, mode and
// owner with what was recorded after extraction (one stat per entry, no
// reading; about 6 µs an entry on our CI machines, 60 ms for a 10000-file
// node_modules). Content cannot change without the change time moving, which
// no user can set back, so a function that rewrote code it could write is
// caught before the next instance starts. Copies made for function uids can
// be written by root alone, so the backend asks for the check only once a
// function ran as lamb's user (see Launch).
type artifactCache struct {
	dir string
	log *slog.Logger

	mu    sync.Mutex
	locks map[string]*sync.Mutex // per uid/sha: one extraction at a time
	made  map[string]manifest    // per uid/sha: the copy this process made
}

var shaRE = regexp.MustCompile(`^[0-9a-fA-F]{64}$`)

func newArtifactCache(dir string, log *slog.Logger) *artifactCache {
	return &artifactCache{dir: dir, log: log, locks: map[string]*sync.Mutex{}, made: map[string]manifest{}}
}

func (c *artifactCache) lock(key string) func() {
	c.mu.Lock()
	l := c.locks[key]
	if l == nil {
		l = &sync.Mutex{}
		c.locks[key] = l
	}
	c.mu.Unlock()
	l.Lock()
	return l.Unlock
}

// get returns the directory holding a's extracted content for u. verify
// says whether a copy this process made must be checked before reuse.
func (c *artifactCache) get(ctx context.Context, a backend.Artifact, u user, verify bool) (string, error) {
	if !shaRE.MatchString(a.SHA256) {
		return "", fmt.Errorf("artifact sha256 %q is not a hex sha256 digest", a.SHA256)
	}
	if a.Open == nil {
		return "", fmt.Errorf("artifact %s has no content", a.SHA256)
	}
	sha := strings.ToLower(a.SHA256)
	key := cacheKey(u, sha)
	parent := filepath.Join(c.dir, u.dirName())
	final := filepath.Join(parent, sha)
	unlock := c.lock(key)
	defer unlock()

	c.mu.Lock()
	m, ok := c.made[key]
	c.mu.Unlock()
	if ok && !verify {
		return final, nil
	}
	if ok {
		err := m.check(final)
		if err == nil {
			return final, nil
		}
		c.log.Warn("process backend: extracted code changed after extraction; extracting it again", "dir", final, "change", err)
	}

	// dir/<uid> is the account's (root's with its group, 0750), or lamb's
	// alone when lamb's user runs the code: function uids never read the
	// code of functions that run as lamb. Mkdir, not MkdirAll, so that
	// nothing is made again under a WorkDir that is gone.
	if err := os.Mkdir(parent, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return "", fmt.Errorf("artifact cache: %w", err)
	}
	mode := fs.FileMode(0o750)
	if u.lamb {
		mode = 0o700
	}
	if err := seal(parent, u, mode); err != nil {
		return "", fmt.Errorf("artifact cache: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, ".extract-")
	if err != nil {
		return "", fmt.Errorf("artifact cache: %w", err)
	}
	defer os.RemoveAll(tmp) // a no-op after the rename
	if err := fetchAndExtract(ctx, a, tmp); err != nil {
		return "", fmt.Errorf("extract %s: %w", sha, err)
	}
	if err := sealTree(tmp, u); err != nil {
		return "", fmt.Errorf("artifact cache: %w", err)
	}
	// rename(2) does not replace a non-empty directory: move the old copy
	// (an earlier server's, or one found changed) aside first.
	if _, err := os.Lstat(final); err == nil {
		old, err := os.MkdirTemp(parent, ".old-")
		if err != nil {
			return "", fmt.Errorf("artifact cache: %w", err)
		}
		defer os.RemoveAll(old)
		if err := os.Rename(final, filepath.Join(old, "x")); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("artifact cache: %w", err)
		}
	}
	if err := os.Rename(tmp, final); err != nil {
		return "", fmt.Errorf("artifact cache: %w", err)
	}
	// After the rename: it changes the directory's change time.
	m, err = snapshot(final)
	if err != nil {
		return "", fmt.Errorf("artifact cache: %w", err)
	}
	m.settle()
	c.mu.Lock()
	c.made[key] = m
	c.mu.Unlock()
	return final, nil
}

// cacheKey names u's copy of the zip sha.
func cacheKey(u user, sha string) string { return u.dirName() + "/" + strings.ToLower(sha) }

// dirName is the directory under code/ and layers/ that holds u's copies.
func (u user) dirName() string { return strconv.FormatUint(uint64(u.uid), 10) }

// fetchAndExtract copies the zip into a temporary file (zip needs random
// access), checking its sha256 on the way, and extracts it into dir.
func fetchAndExtract(ctx context.Context, a backend.Artifact, dir string) error {
	rc, err := a.Open(ctx)
	if err != nil {
		return fmt.Errorf("open: %w", err)
	}
	defer rc.Close()
	f, err := os.CreateTemp(filepath.Dir(dir), ".zip-")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(f, io.TeeReader(rc, h))
	if err != nil {
		return fmt.Errorf("read: %w", err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); !strings.EqualFold(got, a.SHA256) {
		return fmt.Errorf("%w: got %s", ErrDigestMismatch, got)
	}
	return ziparchive.Extract(ctx, f, n, dir)
}

// sealTree gives an extracted tree to u: as a function uid, root owns every
// entry and u's group may read (and enter, and run what is executable) but
// not write — dirs 0750, files 0640 or 0750 — so other accounts' uids cannot
// even look. For lamb's own user only write for group and others is taken
// away (it could not keep its own functions out anyway).
func sealTree(dir string, u user) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		var mode fs.FileMode
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			if u.lamb {
				return nil
			}
			return os.Lchown(p, 0, int(u.gid))
		case fi.IsDir():
			mode = 0o750
			if u.lamb {
				mode = 0o755
			}
		case fi.Mode()&0o111 != 0:
			mode = 0o750
			if u.lamb {
				mode = 0o755
			}
		default:
			mode = 0o640
			if u.lamb {
				mode = 0o644
			}
		}
		return seal(p, u, mode)
	})
}

// seal sets p's mode and, for a function uid, its owner (root, u's group).
func seal(p string, u user, mode fs.FileMode) error {
	if !u.lamb {
		if err := os.Lchown(p, 0, int(u.gid)); err != nil {
			return err
		}
	}
	return os.Chmod(p, mode)
}

// stamp is what changes when anything about a file does.
type stamp struct {
	mode, uid, gid uint32
	size, ino      uint64
	ctime          timespec // walk_unix.go
}

// manifest records a tree: its entries by path relative to its root.
type manifest map[string]stamp

// snapshot records the tree at dir.
func snapshot(dir string) (manifest, error) {
	m := manifest{}
	err := walkStamps(dir, func(rel string, s stamp) error {
		m[rel] = s
		return nil
	})
	return m, err
}

// settle returns once the clock that file times come from has passed every
// change time in m, so that any later change gets a later one. Before Linux
// 6.13 file times have that clock's granularity (a few ms): a same-size
// rewrite within the tick of the extraction would otherwise keep every stamp.
// It waits at most 50 ms (a file system whose clock is ahead gets no more).
func (m manifest) settle() {
	var latest timespec
	for _, s := range m {
		if s.ctime.Sec > latest.Sec || (s.ctime.Sec == latest.Sec && s.ctime.Nsec > latest.Nsec) {
			latest = s.ctime
		}
	}
	for range 50 {
		var now timespec
		if fileClockNow(&now) != nil {
			return
		}
		if now.Sec > latest.Sec || (now.Sec == latest.Sec && now.Nsec > latest.Nsec) {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// check returns nil when the tree at dir is still as m recorded it, or an
// error describing the first difference.
func (m manifest) check(dir string) error {
	seen := 0
	err := walkStamps(dir, func(rel string, got stamp) error {
		want, ok := m[rel]
		switch {
		case !ok:
			return fmt.Errorf("%s was added", rel)
		case got != want:
			return fmt.Errorf("%s was modified", rel)
		}
		seen++
		return nil
	})
	if err == nil && seen != len(m) {
		err = fmt.Errorf("%d entries were removed", len(m)-seen)
	}
	return err
}

// removeLeftovers removes what older lambs extracted straight into
// dir/<sha> (readable by every user) and what extractions cut short by a
// crash left in dir/<uid> (.extract-*, .old-*, .zip-*). It runs before this
// server extracts anything, and no other live server extracts into the
// same WorkDir (serve gives each data dir its own).
func (c *artifactCache) removeLeftovers() error {
	entries, err := os.ReadDir(c.dir)
	if err != nil {
		return fmt.Errorf("artifact cache: %w", err)
	}
	var remove []string
	for _, e := range entries {
		p := filepath.Join(c.dir, e.Name())
		if _, err := strconv.ParseUint(e.Name(), 10, 32); err != nil || !e.IsDir() {
			remove = append(remove, p)
			continue
		}
		inner, err := os.ReadDir(p)
		if err != nil {
			return fmt.Errorf("artifact cache: %w", err)
		}
		for _, f := range inner {
			if strings.HasPrefix(f.Name(), ".") {
				remove = append(remove, filepath.Join(p, f.Name()))
			}
		}
	}
	for _, p := range remove {
		if err := os.RemoveAll(p); err != nil {
			return fmt.Errorf("artifact cache: %w", err)
		}
	}
	return nil
}
