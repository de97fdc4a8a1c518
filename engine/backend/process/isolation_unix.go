//go:build linux || darwin

package process

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// safeAncestors returns nil when no user but root and lamb's own can replace
// dir or what leads to it: dir and every directory above it are theirs, and
// those above are writable by others only with the sticky bit (/tmp).
// Otherwise a user could swap the tree functions' code is served from. (New
// sets dir's own mode.)
func safeAncestors(dir string) error {
	me := uint32(os.Geteuid())
	for d := dir; ; d = filepath.Dir(d) {
		fi, err := os.Lstat(d)
		if err != nil {
			return err
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			return fmt.Errorf("%s: no owner information", d)
		}
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			return fmt.Errorf("%s is a symbolic link", d)
		case st.Uid != 0 && st.Uid != me:
			return fmt.Errorf("%s belongs to uid %d", d, st.Uid)
		case d != dir && fi.Mode().Perm()&0o002 != 0 && fi.Mode()&fs.ModeSticky == 0:
			return fmt.Errorf("%s is writable by every user", d)
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}
