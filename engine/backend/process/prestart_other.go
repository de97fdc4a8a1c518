//go:build !linux

package process

import (
	"context"
	"errors"
	"os"
	"syscall"

	"github.com/lambhq/lamb/engine/backend"
)

// Pre-started runtimes need Linux (Pdeathsig, SCM_RIGHTS as the zygote uses
// them): elsewhere every runtime starts the normal way.
type prestarts struct{}

func (*prestarts) close() {}

type zygote struct{}

func (b *Backend) zygoteFor(string, string, *backend.Spec, []string, string, []string) *zygote {
	return nil
}

func (*zygote) spawn(context.Context, []string, string, user, *os.File) (int, <-chan syscall.WaitStatus, error) {
	return 0, nil, errors.New("pre-started runtimes need Linux")
}
