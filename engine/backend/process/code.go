package process

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"github.com/lambhq/lamb/engine/backend"
	"github.com/lambhq/lamb/ziparchive"
)

// artifactCache extracts zips once per sha256 into dir/<sha>, shared read-only
// by every instance. Extraction goes into a temporary directory renamed into
// place, so a crash never leaves a half-extracted tree under the final name and
// concurrent launches (even from two servers sharing WorkDir) are safe.
type artifactCache struct {
	dir string

	mu    sync.Mutex
	locks map[string]*sync.Mutex // per sha: one extraction at a time in this process
}

var shaRE = regexp.MustCompile(`^[0-9a-fA-F]{8,128}$`)

func newArtifactCache(dir string) *artifactCache {
	return &artifactCache{dir: dir, locks: map[string]*sync.Mutex{}}
}

func (c *artifactCache) lock(sha string) func() {
	c.mu.Lock()
	l := c.locks[sha]
	if l == nil {
		l = &sync.Mutex{}
		c.locks[sha] = l
	}
	c.mu.Unlock()
	l.Lock()
	return l.Unlock
}

// get returns the directory holding a's extracted content.
func (c *artifactCache) get(ctx context.Context, a backend.Artifact) (string, error) {
	if !shaRE.MatchString(a.SHA256) {
		return "", fmt.Errorf("artifact sha256 %q is not a hex digest", a.SHA256)
	}
	if a.Open == nil {
		return "", fmt.Errorf("artifact %s has no content", a.SHA256)
	}
	final := filepath.Join(c.dir, strings.ToLower(a.SHA256))
	if _, err := os.Stat(final); err == nil {
		return final, nil
	}
	unlock := c.lock(a.SHA256)
	defer unlock()
	if _, err := os.Stat(final); err == nil {
		return final, nil
	}
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return "", fmt.Errorf("artifact cache: %w", err)
	}
	tmp, err := os.MkdirTemp(c.dir, ".extract-")
	if err != nil {
		return "", fmt.Errorf("artifact cache: %w", err)
	}
	defer os.RemoveAll(tmp) // a no-op after the rename
	if err := fetchAndExtract(ctx, a, tmp); err != nil {
		return "", fmt.Errorf("extract %s: %w", a.SHA256, err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return "", fmt.Errorf("artifact cache: %w", err)
	}
	if err := os.Rename(tmp, final); err != nil {
		// Another server sharing WorkDir won the race: use its copy.
		if _, serr := os.Stat(final); serr == nil {
			return final, nil
		}
		return "", fmt.Errorf("artifact cache: %w", err)
	}
	return final, nil
}

// fetchAndExtract copies the zip into a temporary file (zip needs random
// access) and extracts it into dir.
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
	n, err := io.Copy(f, rc)
	if err != nil {
		return fmt.Errorf("read: %w", err)
	}
	return ziparchive.Extract(ctx, f, n, dir)
}
