//go:build linux || darwin

package process

import (
	"io/fs"
	"os"

	"golang.org/x/sys/unix"
)

// timespec is a file time as the kernel reports it.
type timespec = unix.Timespec

// fileClockNow reads the clock file times come from (fileClock, proc_*.go).
func fileClockNow(now *timespec) error { return unix.ClockGettime(fileClock, now) }

// walkStamps calls fn for dir and everything under it, parents first, with
// paths relative to dir ("." for dir). It stats each entry relative to its
// directory's descriptor, not by path: that halves the time a check takes.
// Symbolic links are not followed.
func walkStamps(dir string, fn func(rel string, s stamp) error) error {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return &fs.PathError{Op: "open", Path: dir, Err: err}
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return &fs.PathError{Op: "stat", Path: dir, Err: err}
	}
	if err := fn(".", stampOf(&st)); err != nil {
		unix.Close(fd)
		return err
	}
	return walkDirFD(fd, "", fn)
}

// walkDirFD walks the directory open as fd (which it closes), whose path
// relative to the walk's root is rel.
func walkDirFD(fd int, rel string, fn func(rel string, s stamp) error) error {
	f := os.NewFile(uintptr(fd), rel)
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return err
	}
	for _, name := range names {
		p := name
		if rel != "" {
			p = rel + "/" + name
		}
		var st unix.Stat_t
		if err := unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return &fs.PathError{Op: "stat", Path: p, Err: err}
		}
		if err := fn(p, stampOf(&st)); err != nil {
			return err
		}
		if st.Mode&unix.S_IFMT != unix.S_IFDIR {
			continue
		}
		sub, err := unix.Openat(fd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return &fs.PathError{Op: "open", Path: p, Err: err}
		}
		if err := walkDirFD(sub, p, fn); err != nil {
			return err
		}
	}
	return nil
}

func stampOf(st *unix.Stat_t) stamp {
	return stamp{mode: uint32(st.Mode) /* uint16 on darwin */, uid: st.Uid, gid: st.Gid, size: uint64(st.Size), ino: st.Ino, ctime: st.Ctim}
}
