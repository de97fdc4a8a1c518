package process

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/lambhq/lamb/engine/backend"
)

// Function uids: uidBase plus a hash of the account id, uidCount of them.
// The range sits above systemd-nspawn's container ranges (up to 0x6FFFFFFF)
// and the subordinate ids useradd hands out (/etc/subuid, from 100000), and
// below 2^31, which some tools still read as negative. No /etc/passwd entry
// is needed: the kernel only sees numbers. The gid is the same number.
const (
	uidBase  = 0x70000000
	uidCount = 1 << 24
)

// user is who an instance's runtime runs as.
type user struct {
	uid, gid uint32
	lamb     bool // lamb's own user: no switch, so nothing of the below protects
}

func lambUser() user {
	return user{uid: uint32(os.Geteuid()), gid: uint32(os.Getegid()), lamb: true}
}

// accountUID maps an account id to its uid. It is stable across restarts and
// machines, so files and processes of an account keep one owner.
func accountUID(account string) uint32 {
	sum := sha256.Sum256([]byte(account))
	return uidBase + uint32(binary.BigEndian.Uint64(sum[:8])%uidCount)
}

// accountOf returns the account id in a function ARN
// (arn:aws:lambda:region:account:function:name), "" when there is none.
func accountOf(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 || parts[0] != "arn" {
		return ""
	}
	return parts[4]
}

// othersCanReach returns nil when a user who owns none of path's directories
// and is in none of their groups (a function's uid) can get to path and use
// it as want says (0o1: enter or execute; 0o4: read), or an error naming what
// stops it. It reads mode bits only, not ACLs, so it errs towards "cannot".
func othersCanReach(path string, want fs.FileMode) error {
	paths := []string{path}
	if real, err := filepath.EvalSymlinks(path); err == nil && real != path {
		paths = append(paths, real) // the kernel walks both
	}
	for _, p := range paths {
		for d := filepath.Dir(p); ; d = filepath.Dir(d) {
			fi, err := os.Stat(d)
			if err != nil {
				return err
			}
			if fi.Mode().Perm()&0o001 == 0 {
				return fmt.Errorf("%s is mode %04o, closed to other users", d, fi.Mode().Perm())
			}
			if d == filepath.Dir(d) {
				break
			}
		}
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&want != want {
			return fmt.Errorf("%s is mode %04o, closed to other users", p, fi.Mode().Perm())
		}
	}
	return nil
}

// uidListener accepts only connections from the given uids. A Runtime API
// port is on loopback, where every local user can connect: one that did could
// take another account's invocations and answer them.
type uidListener struct {
	net.Listener
	allow    []uint32
	log      *slog.Logger
	instance string
}

// Accept implements net.Listener; refused connections are closed, logged and
// not returned.
func (l *uidListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		uid, err := peerUID(c.RemoteAddr(), c.LocalAddr())
		if err == nil && slices.Contains(l.allow, uid) {
			return c, nil
		}
		if err != nil {
			l.log.Warn("process backend: refused a Runtime API connection: its user is unknown", "instance", l.instance, "err", err)
		} else {
			l.log.Warn("process backend: refused a Runtime API connection from another user", "instance", l.instance, "uid", uid)
		}
		_ = c.Close()
	}
}

var errNoSocket = errors.New("no such socket")

// peerUID returns the owner of the local TCP socket connected from peer to
// local, as /proc/net/tcp{,6} list it (the uid that created the socket).
func peerUID(peer, local net.Addr) (uint32, error) {
	p, ok1 := peer.(*net.TCPAddr)
	l, ok2 := local.(*net.TCPAddr)
	if !ok1 || !ok2 {
		return 0, fmt.Errorf("not a TCP connection: %v", peer)
	}
	pa, la := p.AddrPort(), l.AddrPort()
	// An IPv4 client is in tcp; one on a dual-stack socket, v4-mapped, in tcp6.
	for _, f := range []struct {
		file string
		v6   bool
	}{{"/proc/net/tcp", false}, {"/proc/net/tcp6", true}} {
		uid, err := socketUID(f.file, procAddr(pa, f.v6), procAddr(la, f.v6))
		if !errors.Is(err, errNoSocket) {
			return uid, err
		}
	}
	return 0, fmt.Errorf("connection from %v: %w", peer, errNoSocket)
}

// procAddr formats ap as /proc/net/tcp{,6} do: the address's 32-bit words in
// the host's byte order, then the port, in hex; "" when ap cannot be there.
func procAddr(ap netip.AddrPort, v6 bool) string {
	a := ap.Addr().Unmap()
	var b []byte
	switch {
	case v6:
		b16 := a.As16() // an IPv4 address comes out v4-mapped
		b = b16[:]
	case a.Is4():
		b4 := a.As4()
		b = b4[:]
	default:
		return ""
	}
	var sb strings.Builder
	for i := 0; i < len(b); i += 4 {
		fmt.Fprintf(&sb, "%08X", binary.NativeEndian.Uint32(b[i:i+4]))
	}
	fmt.Fprintf(&sb, ":%04X", ap.Port())
	return sb.String()
}

// socketUID finds the socket with the given local and remote addresses in a
// /proc/net/tcp{,6} file and returns its uid.
func socketUID(file, local, remote string) (uint32, error) {
	if local == "" || remote == "" {
		return 0, errNoSocket
	}
	f, err := os.Open(file)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return 0, errNoSocket // no IPv6 on this host
		}
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// sl local_address rem_address st tx:rx tr:when retrnsmt uid ...
		fields := strings.Fields(sc.Text())
		if len(fields) < 8 || fields[1] != local || fields[2] != remote {
			continue
		}
		uid, err := strconv.ParseUint(fields[7], 10, 32)
		if err != nil {
			return 0, fmt.Errorf("%s: uid %q: %w", file, fields[7], err)
		}
		return uint32(uid), nil
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("read %s: %w", file, err)
	}
	return 0, errNoSocket
}

// userFor picks who runs an instance of spec whose interpreter (python,
// node; "" for provided runtimes) is interp.
func (b *Backend) userFor(spec *backend.Spec, interp string) (user, error) {
	if b.noUsers != nil {
		return lambUser(), nil
	}
	if interp != "" {
		if err := othersCanReach(interp, 0o001); err != nil {
			b.usersMu.Lock()
			if !b.warned[interp] {
				b.warned[interp] = true
				b.log.Warn("process backend: function uids cannot run this interpreter: its functions run as lamb's user, unisolated",
					"interpreter", interp, "err", err)
			}
			b.usersMu.Unlock()
			return lambUser(), nil
		}
	}
	account := accountOf(spec.FunctionARN)
	uid := accountUID(account)
	b.usersMu.Lock()
	defer b.usersMu.Unlock()
	if other, ok := b.accounts[uid]; ok && other != account {
		return user{}, fmt.Errorf("process backend: accounts %q and %q map to the same uid %d: not running them as one user", other, account, uid)
	}
	b.accounts[uid] = account
	return user{uid: uid, gid: uid}, nil
}

// Isolation describes in one line, for people (serve's banner), what keeps
// this backend's functions apart from each other and from lamb on this
// machine. It may run the python interpreter once, to find the one PythonBin
// leads to (Launch would).
func (b *Backend) Isolation() string {
	if b.noUsers != nil {
		who := fmt.Sprintf("uid %d", os.Geteuid())
		if os.Geteuid() == 0 {
			who = "root"
		}
		return fmt.Sprintf("functions run as %s, the user running lamb: no isolation (%v); they can read lamb's data dir and other functions' code",
			who, b.noUsers)
	}
	s := "each account's functions run as a uid of their own: other accounts' code, TMPDIRs and Runtime API ports and lamb's data dir are out of their reach (the network and /tmp are not)"
	var interps []string
	if py, err := b.python(); err == nil {
		interps = append(interps, py)
	}
	if node, err := lookPath(b.cfg.NodeBin); err == nil {
		interps = append(interps, node)
	}
	for _, p := range interps {
		if err := othersCanReach(p, 0o001); err != nil {
			s += fmt.Sprintf("; except functions run by %s, which run as lamb's user, unisolated (%v)", p, err)
		}
	}
	return s
}
