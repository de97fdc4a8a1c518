package agent

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
)

// The sandbox's own memory cgroup as a container runtime mounts it: cgroup v2
// at /sys/fs/cgroup, cgroup v1's memory controller at /sys/fs/cgroup/memory.
var (
	peakFiles = []string{"/sys/fs/cgroup/memory.peak", "/sys/fs/cgroup/memory/memory.max_usage_in_bytes"}
	oomFiles  = []string{"/sys/fs/cgroup/memory.events", "/sys/fs/cgroup/memory/memory.oom_control"}
)

// maxMemoryUsedMB is the cgroup's peak memory in MB (0 when unknown).
func maxMemoryUsedMB() int {
	for _, f := range peakFiles {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		n, err := strconv.ParseInt(string(bytes.TrimSpace(b)), 10, 64)
		if err != nil {
			continue
		}
		return int((n + (1<<20 - 1)) >> 20)
	}
	return 0
}

// oomKills is the number of processes the cgroup's OOM killer ended.
func oomKills() int {
	for _, f := range oomFiles {
		fh, err := os.Open(f)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			k, v, ok := bytes.Cut(sc.Bytes(), []byte(" "))
			if ok && string(k) == "oom_kill" {
				n, _ := strconv.Atoi(string(v))
				fh.Close()
				return n
			}
		}
		fh.Close()
	}
	return 0
}
