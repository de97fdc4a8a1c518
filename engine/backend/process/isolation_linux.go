package process

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// canSwitchUsers returns nil when this process can run its children as the
// function uids: root with the capabilities to change users, to own and
// remove their files and to signal them, and the uid range mapped in its user
// namespace (root in a rootless container often has neither).
func canSwitchUsers() error {
	if os.Geteuid() != 0 {
		return errors.New("lamb is not running as root")
	}
	eff, err := effectiveCaps()
	if err != nil {
		return err
	}
	for _, c := range []struct {
		bit  uint
		name string
	}{
		{unix.CAP_CHOWN, "CAP_CHOWN"}, {unix.CAP_DAC_OVERRIDE, "CAP_DAC_OVERRIDE"}, {unix.CAP_FOWNER, "CAP_FOWNER"},
		{unix.CAP_KILL, "CAP_KILL"}, {unix.CAP_SETGID, "CAP_SETGID"}, {unix.CAP_SETUID, "CAP_SETUID"},
	} {
		if eff&(1<<c.bit) == 0 {
			return fmt.Errorf("lamb lacks %s", c.name)
		}
	}
	for _, f := range []string{"/proc/self/uid_map", "/proc/self/gid_map"} {
		if err := idRangeMapped(f, uidBase, uidCount); err != nil {
			return err
		}
	}
	return nil
}

// effectiveCaps reads this process's effective capability set.
func effectiveCaps() (uint64, error) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, fmt.Errorf("read capabilities: %w", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			caps, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				return 0, fmt.Errorf("read capabilities: %w", err)
			}
			return caps, nil
		}
	}
	return 0, errors.New("read capabilities: no CapEff in /proc/self/status")
}

// idRangeMapped returns nil when ids [base, base+n) all exist in the user
// namespace whose map file (uid_map or gid_map) is given.
func idRangeMapped(file string, base, n uint64) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("read %s: %w", file, err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		inside, err1 := strconv.ParseUint(f[0], 10, 64)
		count, err2 := strconv.ParseUint(f[2], 10, 64)
		if err1 == nil && err2 == nil && inside <= base && base+n <= inside+count {
			return nil
		}
	}
	return fmt.Errorf("ids %d-%d are not mapped in this user namespace (%s)", base, base+n-1, file)
}
