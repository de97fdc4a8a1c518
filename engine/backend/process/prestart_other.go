//go:build !linux

package process

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"syscall"

	"github.com/lambhq/lamb/engine/backend"
)

// Pre-started runtimes need Linux (Pdeathsig, SCM_RIGHTS as the zygote uses
// them, FIONREAD on a pipe as spares do): elsewhere every runtime starts
// the normal way.
type prestarts struct{}

func (*prestarts) close() {}

type zygote struct{}

func (b *Backend) zygoteFor(string, string, *backend.Spec, []string, string, []string) *zygote {
	return nil
}

type spares struct{}

func (*spares) close() {}

type spare struct{ cmd *exec.Cmd }

func (b *Backend) spareFor(string, string, []string, *backend.Spec, user, []string, string, []string) *spare {
	return nil
}

func (*spare) claim([]string, string) error { return errors.New("pre-started runtimes need Linux") }

func (*spare) wait() (int, string) { return -1, "" }

func (*spare) output() *os.File { return nil }

func (*zygote) spawn(context.Context, []string, string, user, *os.File) (int, <-chan syscall.WaitStatus, error) {
	return 0, nil, errors.New("pre-started runtimes need Linux")
}
