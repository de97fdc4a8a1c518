//go:build !linux

package process

import "errors"

// canSwitchUsers says why functions cannot run as their accounts' uids here:
// the Runtime API port learns a connection's user from /proc/net/tcp, which
// only Linux has, and capabilities are Linux's too.
func canSwitchUsers() error {
	return errors.New("function uids are implemented on Linux only")
}
