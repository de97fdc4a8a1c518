//go:build linux || darwin

package process

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/lambhq/lamb/engine/backend"
	"github.com/lambhq/lamb/engine/backend/backendtest"
	"github.com/lambhq/lamb/store"
)

// probeApp runs the operations in its event and reports each one's result:
// "ok" (or a value), or the errno name of the OSError it raised.
const probeApp = `import errno, os, socket
def handler(event, context):
    out = []
    for op in event["ops"]:
        kind, arg = op["op"], op.get("arg", "")
        try:
            if kind == "ids":
                r = {"uid": os.getuid(), "gid": os.getgid(), "groups": os.getgroups()}
            elif kind == "env":
                r = {k: os.environ.get(k, "") for k in arg.split(",")}
            elif kind == "read":
                with open(arg, "rb") as f:
                    f.read()
                r = "ok"
            elif kind == "list":
                os.listdir(arg)
                r = "ok"
            elif kind == "write":
                with open(arg, "a") as f:
                    f.write("x")
                r = "ok"
            elif kind == "http":
                host, port = arg.rsplit(":", 1)
                s = socket.create_connection((host, int(port)), timeout=10)
                s.settimeout(10)
                try:
                    s.sendall(b"GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n")
                    r = "answered" if s.recv(12).startswith(b"HTTP/1.1") else "closed"
                except (ConnectionResetError, BrokenPipeError):
                    r = "closed"
                s.close()
            else:
                r = "unknown op " + kind
        except OSError as e:
            r = errno.errorcode.get(e.errno, str(e))
        out.append(r)
    return out
`

type probeOp struct {
	Op  string `json:"op"`
	Arg string `json:"arg,omitempty"`
}

// probe runs ops in in and returns their results.
func probe(t *testing.T, in backend.Instance, ops ...probeOp) []json.RawMessage {
	t.Helper()
	payload, _ := json.Marshal(map[string]any{"ops": ops})
	body, _ := invokeOK(t, in, payload)
	var out []json.RawMessage
	if err := json.Unmarshal(body, &out); err != nil || len(out) != len(ops) {
		t.Fatalf("probe answer %s: %v", body, err)
	}
	return out
}

func launchProbe(t *testing.T, b *Backend, id, account string) backend.Instance {
	t.Helper()
	code := backendtest.ZipArtifact(t, map[string]string{"app.py": probeApp, "secret.txt": "account " + account})
	spec := &backend.Spec{InstanceID: id, PoolKey: "pool", ServerID: "test", FunctionName: id,
		FunctionARN: "arn:aws:lambda:us-east-1:" + account + ":function:" + id, Version: "$LATEST",
		PackageType: "Zip", Runtime: "python3.12", Handler: "app.handler", MemoryMB: 256, Timeout: time.Minute,
		Env: map[string]string{"_HANDLER": "app.handler", "LANG": "en_US.UTF-8"}, Code: code} // LANG: as the engine sets it
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	in, err := b.Launch(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = in.Stop(context.Background()) })
	return in
}

type ids struct {
	UID    uint32   `json:"uid"`
	GID    uint32   `json:"gid"`
	Groups []uint32 `json:"groups"`
}

// As root, a function runs as its account's uid: it can read its own code and
// use its TMPDIR and Runtime API, and can reach neither lamb's data dir nor
// another account's code, TMPDIR or Runtime API.
func TestFunctionsRunAsTheirAccount(t *testing.T) {
	b := newUsersBackend(t)
	t.Cleanup(func() { _ = b.Close(context.Background()) })

	// lamb's data dir as serve has it, with a blob in it, where other users
	// could reach it but for its own mode.
	dataDir := filepath.Join(reachableWorkDir(t), "data")
	st, err := store.Open(context.Background(), dataDir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sha, err := st.PutBlob(context.Background(), []byte("another account's code"))
	if err != nil {
		t.Fatal(err)
	}
	blob := filepath.Join(dataDir, "blobs", sha[:2], sha)
	if _, err := os.Stat(blob); err != nil {
		t.Fatalf("blob layout: %v", err)
	}

	a := launchProbe(t, b, "fn-a", "111111111111")
	a2 := launchProbe(t, b, "fn-a2", "111111111111")
	other := launchProbe(t, b, "fn-b", "222222222222")

	envOf := func(in backend.Instance) map[string]string {
		var env map[string]string
		r := probe(t, in, probeOp{Op: "env", Arg: "LAMBDA_TASK_ROOT,TMPDIR,AWS_LAMBDA_RUNTIME_API,HOME"})
		if err := json.Unmarshal(r[0], &env); err != nil {
			t.Fatal(err)
		}
		return env
	}
	ea, eb := envOf(a), envOf(other)
	if eb["HOME"] != eb["TMPDIR"] {
		t.Errorf("HOME = %q, want TMPDIR %q: a function uid has no passwd entry to find one in", eb["HOME"], eb["TMPDIR"])
	}
	idsOf := func(in backend.Instance) ids {
		var v ids
		if err := json.Unmarshal(probe(t, in, probeOp{Op: "ids"})[0], &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	ia, ia2, ib := idsOf(a), idsOf(a2), idsOf(other)
	if ia.UID == 0 || ia.UID == uint32(os.Geteuid()) || ia.GID != ia.UID || len(ia.Groups) != 0 {
		t.Errorf("account a runs as %+v, want a uid of its own (not lamb's %d), its own gid and no other groups", ia, os.Geteuid())
	}
	if ia2.UID != ia.UID {
		t.Errorf("two functions of one account run as uids %d and %d, want one", ia.UID, ia2.UID)
	}
	if ib.UID == ia.UID || ib.UID == 0 {
		t.Errorf("accounts a and b run as uids %d and %d, want two uids of their own", ia.UID, ib.UID)
	}

	tests := []struct {
		name string
		op   probeOp
		want string
	}{
		{"reads its own code", probeOp{"read", filepath.Join(eb["LAMBDA_TASK_ROOT"], "secret.txt")}, "ok"},
		{"cannot change its own code", probeOp{"write", filepath.Join(eb["LAMBDA_TASK_ROOT"], "app.py")}, "EACCES"},
		{"cannot add to its own code", probeOp{"write", filepath.Join(eb["LAMBDA_TASK_ROOT"], "new.py")}, "EACCES"},
		{"writes its TMPDIR", probeOp{"write", filepath.Join(eb["TMPDIR"], "scratch")}, "ok"},
		{"uses its Runtime API", probeOp{"http", eb["AWS_LAMBDA_RUNTIME_API"]}, "answered"},
		{"cannot read lamb.db", probeOp{"read", filepath.Join(dataDir, "lamb.db")}, "EACCES"},
		{"cannot read a blob", probeOp{"read", blob}, "EACCES"},
		{"cannot list the code dirs", probeOp{"list", b.code.dir}, "EACCES"},
		{"cannot read another account's code", probeOp{"read", filepath.Join(ea["LAMBDA_TASK_ROOT"], "secret.txt")}, "EACCES"},
		{"cannot list another account's code", probeOp{"list", ea["LAMBDA_TASK_ROOT"]}, "EACCES"},
		{"cannot write another account's code", probeOp{"write", filepath.Join(ea["LAMBDA_TASK_ROOT"], "app.py")}, "EACCES"},
		{"cannot use another account's TMPDIR", probeOp{"write", filepath.Join(ea["TMPDIR"], "planted")}, "EACCES"},
		{"cannot use another account's Runtime API", probeOp{"http", ea["AWS_LAMBDA_RUNTIME_API"]}, "closed"},
	}
	ops := make([]probeOp, len(tests))
	for i, tt := range tests {
		ops[i] = tt.op
	}
	got := probe(t, other, ops...)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r string
			if err := json.Unmarshal(got[i], &r); err != nil || r != tt.want {
				t.Errorf("%s %s: %s, want %q", tt.op.Op, tt.op.Arg, got[i], tt.want)
			}
		})
	}
	// Account a is still served after b's attempt on its Runtime API.
	if r := probe(t, a, probeOp{Op: "ids"}); len(r) != 1 {
		t.Fatalf("account a after b's attempt: %s", r)
	}
}

// A function whose interpreter other users cannot run falls back to lamb's
// user, and Isolation says so.
func TestUnreachableInterpreterRunsAsLamb(t *testing.T) {
	needRoot(t)
	// A copy of a usable python behind a 0700 directory stands in for
	// pyenv under /root.
	closed := filepath.Join(reachableWorkDir(t), "home")
	if err := os.Mkdir(closed, 0o700); err != nil {
		t.Fatal(err)
	}
	py := filepath.Join(closed, "python3")
	if err := os.Symlink(pythonForUsers(t), py); err != nil {
		t.Fatal(err)
	}
	b, err := New(Config{WorkDir: reachableWorkDir(t), PythonBin: py})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close(context.Background()) })
	if b.noUsers != nil {
		t.Fatalf("functions would run as lamb's user: %v", b.noUsers)
	}
	if s := b.Isolation(); !strings.Contains(s, "which run as lamb's user, unisolated") || !strings.Contains(s, closed) {
		t.Errorf("Isolation() = %q, want it to name %s and say its functions run as lamb's user", s, closed)
	}
	var v ids
	if err := json.Unmarshal(probe(t, launchProbe(t, b, "fn-py", "111111111111"), probeOp{Op: "ids"})[0], &v); err != nil {
		t.Fatal(err)
	}
	if v.UID != uint32(os.Geteuid()) {
		t.Errorf("runs as uid %d, want lamb's %d", v.UID, os.Geteuid())
	}
}

func TestIsolationDescription(t *testing.T) {
	tests := []struct {
		name string
		new  func(t *testing.T) *Backend
		want string
	}{
		{"own uids", newUsersBackend, "each account's functions run as a uid of their own"},
		{"lamb's user", newTestBackend, "the user running lamb: no isolation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.new(t)
			if s := b.Isolation(); !strings.Contains(s, tt.want) {
				t.Errorf("Isolation() = %q, want %q in it", s, tt.want)
			}
		})
	}
}

// peerUID finds the owner of a real loopback connection.
func TestPeerUID(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("skipping: peerUID reads /proc/net/tcp")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, ok := <-accepted
	if !ok {
		t.Fatal("accept failed")
	}
	defer s.Close()
	uid, err := peerUID(s.RemoteAddr(), s.LocalAddr())
	if err != nil || uid != uint32(os.Geteuid()) {
		t.Fatalf("peerUID = %d, %v; want %d", uid, err, os.Geteuid())
	}
	// The listener's own end is not the peer: swapping the addresses finds
	// the accepted socket, and an address nobody uses finds nothing.
	if _, err := peerUID(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}, s.LocalAddr()); !errors.Is(err, errNoSocket) {
		t.Errorf("unknown peer: %v, want errNoSocket", err)
	}
}

func TestAccountUID(t *testing.T) {
	tests := []struct {
		arn, account string
	}{
		{"arn:aws:lambda:us-east-1:111111111111:function:f", "111111111111"},
		{"arn:aws:lambda:eu-west-1:222222222222:function:f:live", "222222222222"},
		{"not an arn", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := accountOf(tt.arn); got != tt.account {
			t.Errorf("accountOf(%q) = %q, want %q", tt.arn, got, tt.account)
		}
	}
	seen := map[uint32]string{}
	for _, acct := range []string{"", "000000000000", "111111111111", "222222222222", "123456789012"} {
		uid := accountUID(acct)
		if uid < uidBase || uid >= uidBase+uidCount {
			t.Errorf("accountUID(%q) = %d, outside [%d, %d)", acct, uid, uidBase, uidBase+uidCount)
		}
		if uid != accountUID(acct) {
			t.Errorf("accountUID(%q) is not stable", acct)
		}
		if other, ok := seen[uid]; ok {
			t.Errorf("accounts %q and %q share uid %d", other, acct, uid)
		}
		seen[uid] = acct
	}
}

// Two accounts that hash to one uid are not run as one user.
func TestUIDCollisionRefused(t *testing.T) {
	b := newTestBackend(t)
	b.noUsers = nil // as if root: userFor only decides, it starts nothing
	b.accounts[accountUID("222222222222")] = "someone else"
	spec := &backend.Spec{FunctionARN: "arn:aws:lambda:us-east-1:222222222222:function:f"}
	if _, err := b.userFor(spec, ""); err == nil || !strings.Contains(err.Error(), "same uid") {
		t.Fatalf("userFor = %v, want a refusal", err)
	}
	spec.FunctionARN = "arn:aws:lambda:us-east-1:333333333333:function:f"
	u, err := b.userFor(spec, "")
	if err != nil || u.lamb || u.uid != accountUID("333333333333") {
		t.Fatalf("userFor = %+v, %v", u, err)
	}
}

func TestWorkDirFor(t *testing.T) {
	data := t.TempDir()
	got, err := WorkDirFor(data)
	if err != nil {
		t.Fatal(err)
	}
	if canSwitchUsers() != nil {
		if got != filepath.Join(data, "run") {
			t.Errorf("WorkDirFor(%q) = %q, want it under the data dir: functions run as lamb's user", data, got)
		}
		return
	}
	if filepath.Dir(got) != sharedWorkRoot || !strings.HasPrefix(filepath.Base(got), "run-") {
		t.Errorf("WorkDirFor(%q) = %q, want %s/run-<hash>", data, got, sharedWorkRoot)
	}
	if again, _ := WorkDirFor(data); again != got {
		t.Errorf("WorkDirFor is not stable: %q then %q", got, again)
	}
	if other, _ := WorkDirFor(data + "2"); other == got {
		t.Errorf("two data dirs share WorkDir %q", got)
	}
	// What serve would then do: a data dir as store.Open leaves it, and
	// functions run as their own uids from the WorkDir it names.
	if err := os.Chmod(data, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Remove(sharedWorkRoot) }) // if this test made it: it is empty then
	t.Cleanup(func() { _ = os.RemoveAll(got) })
	b, err := New(Config{WorkDir: got})
	if err != nil {
		t.Fatal(err)
	}
	if b.noUsers != nil {
		t.Errorf("with WorkDir %s: functions run as lamb's user: %v", got, b.noUsers)
	}
}
