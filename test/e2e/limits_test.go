package e2e

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// rssBoundMB is what 16 parallel 69 MB CreateFunction bodies may take lamb
// to (peak RSS, VmHWM): uploads are read two at a time (api/limits.go), each
// holding its body and decoded zip.
const rssBoundMB = 700

func TestParallelLargeUploadsBoundMemory(t *testing.T) {
	s := startLamb(t, t.TempDir())
	pad := make([]byte, 49<<20) // under AWS's 50 MB zip limit
	if _, err := rand.Read(pad); err != nil {
		t.Fatal(err)
	}
	zip := zipOf(t, map[string]string{"handler.py": "def handler(e, c):\n    return 1\n", "pad.bin": string(pad)})
	code := base64.StdEncoding.EncodeToString(zip)
	t.Logf("body: %d MB", len(code)>>20)

	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := `{"FunctionName":"big` + strconv.Itoa(i) + `","Runtime":"python3.12","Role":"` + role +
				`","Handler":"handler.handler","Code":{"ZipFile":"` + code + `"}}`
			resp, err := http.Post(s.URL+"/2015-03-31/functions", "application/json", strings.NewReader(body))
			if err != nil {
				errs <- err
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 201 {
				errs <- fmt.Errorf("big%d: %d %s", i, resp.StatusCode, b)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for _, line := range bytes.Split(status, []byte("\n")) {
		if f := strings.Fields(string(line)); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.Atoi(f[1])
			t.Logf("peak RSS of lamb serve after 16 parallel uploads: %d MB (bound %d MB)", kb>>10, rssBoundMB)
			if kb>>10 > rssBoundMB {
				t.Errorf("peak RSS %d MB over %d MB", kb>>10, rssBoundMB)
			}
			return
		}
	}
	t.Fatal("no VmHWM in /proc status")
}
