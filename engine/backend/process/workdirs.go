package process

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Work dirs outside a data dir (WorkDirFor as root) would outlive their
// server: nothing in them is reused by a later server (an extraction it did
// not make is extracted again), so a server removes its own when it stops
// (RemoveWorkDir), and any server sweeps those whose data dir is gone
// (SweepWorkDirs). Each records its data dir in dataDirFile (ClaimWorkDir).

const dataDirFile = ".data-dir"

// ClaimWorkDir records dataDir in dir, WorkDirFor(dataDir), when dir lies
// outside dataDir.
func ClaimWorkDir(dir, dataDir string) error {
	if !outside(dir, dataDir) {
		return nil
	}
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return fmt.Errorf("process backend: %w", err)
	}
	if err := os.MkdirAll(dir, 0o711); err != nil {
		return fmt.Errorf("process backend: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, dataDirFile), []byte(abs), 0o600); err != nil {
		return fmt.Errorf("process backend: %w", err)
	}
	return nil
}

// RemoveWorkDir removes dir, WorkDirFor(dataDir), once its server stopped
// every instance, when dir lies outside dataDir.
func RemoveWorkDir(dir, dataDir string) error {
	if !outside(dir, dataDir) {
		return nil
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("process backend: %w", err)
	}
	return nil
}

// SweepWorkDirs removes the shared work dirs whose data dir no longer
// exists: a server killed before it could remove its own, whose data dir was
// deleted since, left them. It returns what it removed.
func SweepWorkDirs() ([]string, error) {
	ents, err := os.ReadDir(sharedWorkRoot)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("process backend: %w", err)
	}
	var removed []string
	var errs []error
	for _, e := range ents {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), "run-") {
			continue
		}
		dir := filepath.Join(sharedWorkRoot, e.Name())
		b, err := os.ReadFile(filepath.Join(dir, dataDirFile))
		if err != nil {
			continue // not claimed (an older lamb's, or being set up): leave it
		}
		if _, err := os.Stat(string(b)); !errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err := os.RemoveAll(dir); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, dir)
	}
	return removed, errors.Join(errs...)
}

// outside says whether dir is not inside dataDir.
func outside(dir, dataDir string) bool {
	d, err1 := filepath.Abs(dir)
	dd, err2 := filepath.Abs(dataDir)
	if err1 != nil || err2 != nil {
		return false
	}
	rel, err := filepath.Rel(dd, d)
	return err == nil && (rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)))
}
