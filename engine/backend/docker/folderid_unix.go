//go:build unix

package docker

import (
	"fmt"
	"os"
	"syscall"
)

// folderID is dir's device and inode: a folder replaced since (a build that
// recreates its output folder) has another. "" when it cannot be had.
func folderID(dir string) string {
	fi, err := os.Stat(dir)
	if err != nil {
		return ""
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	return fmt.Sprintf("%d:%d", st.Dev, st.Ino)
}
