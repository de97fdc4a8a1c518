package process

import (
	"errors"
	"net"
	"os"
	"testing"
)

// peerUID finds the owner of a real loopback connection.
func TestPeerUID(t *testing.T) {
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
