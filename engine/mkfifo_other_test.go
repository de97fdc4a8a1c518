//go:build !unix

package engine_test

import "errors"

// mkfifo fails off Unix, where there are no FIFOs; its callers skip.
func mkfifo(string) error { return errors.New("no FIFOs on this platform") }
