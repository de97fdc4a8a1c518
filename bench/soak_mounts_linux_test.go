package bench

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// detachMounts lazily unmounts everything mounted below dir, deepest first.
func detachMounts(dir string) {
	b, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		return
	}
	var mounts []string
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) > 1 && strings.HasPrefix(f[1], dir+"/") {
			mounts = append(mounts, f[1])
		}
	}
	for i := len(mounts) - 1; i >= 0; i-- {
		_ = syscall.Unmount(mounts[i], syscall.MNT_DETACH)
	}
}

// killShims kills the containerd shims whose -address (the containerd they
// report to) is below dir: a private dockerd's shims are not its children
// and outlive it, holding the state's mounts. Shims of other engines, whose
// address is elsewhere, are never touched.
func killShims(dir string) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		if shimOf(strings.Split(strings.TrimRight(string(b), "\x00"), "\x00"), dir) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// shimOf says whether argv is a containerd shim's whose -address is below dir.
func shimOf(argv []string, dir string) bool {
	if len(argv) == 0 || !strings.HasPrefix(filepath.Base(argv[0]), "containerd-shim") {
		return false
	}
	for i, a := range argv {
		v, ok := "", false
		switch {
		case (a == "-address" || a == "--address") && i+1 < len(argv):
			v, ok = argv[i+1], true
		case strings.HasPrefix(a, "-address="), strings.HasPrefix(a, "--address="):
			_, v, ok = strings.Cut(a, "=")
		}
		if ok && strings.HasPrefix(filepath.Clean(v), filepath.Clean(dir)+"/") {
			return true
		}
	}
	return false
}
