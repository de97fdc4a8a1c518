//go:build !linux && !darwin

package process

import (
	"errors"
	"fmt"
	"runtime"
	"syscall"
)

// errPlatform is what New returns here. The backend needs process groups and
// POSIX signals (Stop kills a runtime with all it started), and functions'
// bootstraps are Unix executables and scripts.
var errPlatform = fmt.Errorf("%w: the process backend needs Linux or macOS (process groups, POSIX signals, Unix bootstraps), not %s: use the docker backend (lamb serve --backend docker)",
	errors.ErrUnsupported, runtime.GOOS)

// platformError says why the process backend cannot run here.
func platformError() error { return errPlatform }

// RuntimesDieWithServer: nothing runs here (see errPlatform).
const RuntimesDieWithServer = false

// The rest is never reached, as New refuses: it lets the package build.

type timespec struct{ Sec, Nsec int64 }

func fileClockNow(*timespec) error { return errPlatform }

func walkStamps(string, func(string, stamp) error) error { return errPlatform }

func safeAncestors(string) error { return errPlatform }

func sysProcAttr(user) *syscall.SysProcAttr { return nil }

func (in *instance) applyMemoryLimit(string) {}

// openStatus does nothing: there is no /proc to read Max Memory Used from.
func (in *instance) openStatus() {}

func (in *instance) maxMemoryUsedMB() int { return 0 }

func procStartTime(int) uint64 { return 0 }

func killGroup(int) error { return errPlatform }

func processAlive(int) bool { return false }
