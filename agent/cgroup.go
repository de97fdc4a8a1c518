package agent

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"strconv"
	"sync"
)

// The sandbox's own memory cgroup as a container runtime mounts it: cgroup v2
// at /sys/fs/cgroup, cgroup v1's memory controller at /sys/fs/cgroup/memory.
var (
	peakFiles = []string{"/sys/fs/cgroup/memory.peak", "/sys/fs/cgroup/memory/memory.max_usage_in_bytes"}
	oomFiles  = []string{"/sys/fs/cgroup/memory.events", "/sys/fs/cgroup/memory/memory.oom_control"}
)

// peak is the first of peakFiles that opens, kept open: it is read after
// every invocation, one pread instead of an open, a stat, reads and a close.
var peak struct {
	once sync.Once
	f    *os.File // nil: none opens
}

// maxMemoryUsedMB is the cgroup's peak memory in MB (0 when unknown).
func maxMemoryUsedMB() int {
	peak.once.Do(func() {
		for _, name := range peakFiles {
			if f, err := os.Open(name); err == nil {
				peak.f = f
				return
			}
		}
	})
	if peak.f == nil {
		return 0
	}
	var buf [32]byte
	n, err := peak.f.ReadAt(buf[:], 0)
	if err != nil && err != io.EOF {
		return 0
	}
	v, err := strconv.ParseInt(string(bytes.TrimSpace(buf[:n])), 10, 64)
	if err != nil {
		return 0
	}
	return int((v + (1<<20 - 1)) >> 20)
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
