package process

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Reap implements backend.Backend: it kills the process groups of instances
// left under WorkDir by a server that is gone, and removes their directories.
// Instances of a server that is still running (another lamb sharing WorkDir)
// and this backend's own are left alone.
func (b *Backend) Reap(ctx context.Context) error {
	entries, err := os.ReadDir(b.instDir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("reap: %w", err)
	}
	var errs []error
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !e.IsDir() || b.live.Has(e.Name()) {
			continue
		}
		dir := filepath.Join(b.instDir, e.Name())
		var st state
		if data, err := os.ReadFile(filepath.Join(dir, "state.json")); err == nil {
			if json.Unmarshal(data, &st) != nil {
				st = state{}
			}
		}
		if st.OwnerPID == os.Getpid() || (st.OwnerPID != 0 && processAlive(st.OwnerPID)) {
			continue // a live server's instance (or one being launched)
		}
		if st.PID > 0 && st.StartTime != 0 && procStartTime(st.PID) == st.StartTime {
			if err := killGroup(st.PID); err != nil {
				errs = append(errs, fmt.Errorf("reap %s: kill %d: %w", e.Name(), st.PID, err))
				continue
			}
			b.log.Info("process backend: reaped instance", "instance", e.Name(), "pid", st.PID, "server", st.ServerID)
		}
		if err := os.RemoveAll(dir); err != nil {
			errs = append(errs, fmt.Errorf("reap %s: %w", e.Name(), err))
		}
	}
	return errors.Join(errs...)
}
