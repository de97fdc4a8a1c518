package bench

import "testing"

func TestShimOf(t *testing.T) {
	const dir = "/tmp/soak-engines/docker"
	cases := []struct {
		name string
		argv []string
		want bool
	}{
		{"private engine's shim", []string{"/usr/bin/containerd-shim-runc-v2", "-namespace", "moby", "-id", "abc", "-address", dir + "/exec/containerd/containerd.sock"}, true},
		{"private engine's shim, -address=", []string{"containerd-shim-runc-v2", "-address=" + dir + "/exec/containerd.sock"}, true},
		{"the shared engine's shim", []string{"/usr/bin/containerd-shim-runc-v2", "-namespace", "moby", "-id", "abc", "-address", "/run/containerd/containerd.sock"}, false},
		{"a sibling dir with the same prefix", []string{"containerd-shim-runc-v2", "-address", dir + "2/containerd.sock"}, false},
		{"not a shim", []string{"/usr/bin/dockerd", "-address", dir + "/x.sock"}, false},
		{"no address", []string{"containerd-shim-runc-v2", "-id", "x"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := shimOf(c.argv, dir); got != c.want {
				t.Fatalf("shimOf(%q) = %v, want %v", c.argv, got, c.want)
			}
		})
	}
}
