package process

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/lambhq/lamb/engine/backend"
)

var _ backend.ArtifactCollector = (*Backend)(nil)

// CollectArtifacts implements backend.ArtifactCollector: it removes the
// extracted copies (every account's) of code and layer zips keep no longer
// holds, except those a live instance runs from.
func (b *Backend) CollectArtifacts(ctx context.Context, keep func(sha256 string) bool) (busy int, _ error) {
	inUse := map[string]bool{}
	for _, in := range b.live.All() {
		inUse[strings.ToLower(in.spec.Code.SHA256)] = true
		for _, l := range in.spec.Layers {
			inUse[strings.ToLower(l.SHA256)] = true
		}
	}
	busyCode, errCode := b.code.collect(ctx, keep, inUse)
	busyLayers, errLayers := b.layers.collect(ctx, keep, inUse)
	return busyCode + busyLayers, errors.Join(errCode, errLayers)
}

// collect removes dir/<uid>/<sha> for every sha that is neither kept nor in
// use, each under the lock its extraction takes, and counts those it left
// only because they are in use.
func (c *artifactCache) collect(ctx context.Context, keep func(string) bool, inUse map[string]bool) (busy int, _ error) {
	users, err := os.ReadDir(c.dir)
	if err != nil {
		return 0, fmt.Errorf("artifact cache: %w", err)
	}
	var errs []error
	for _, u := range users {
		if !u.IsDir() {
			continue
		}
		shas, err := os.ReadDir(filepath.Join(c.dir, u.Name()))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, s := range shas {
			sha := s.Name()
			if ctx.Err() != nil {
				return busy, ctx.Err()
			}
			if !shaRE.MatchString(sha) || keep(sha) {
				continue
			}
			if inUse[sha] {
				busy++
				continue
			}
			key := u.Name() + "/" + sha
			unlock := c.lock(key)
			c.mu.Lock()
			delete(c.made, key)
			c.mu.Unlock()
			if err := os.RemoveAll(filepath.Join(c.dir, key)); err != nil {
				errs = append(errs, fmt.Errorf("artifact cache: %w", err))
			}
			unlock()
		}
	}
	return busy, errors.Join(errs...)
}
