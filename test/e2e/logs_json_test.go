package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestJSONLogFormat: a python function with LoggingConfig LogFormat JSON on
// the process backend, created and invoked with boto3, read back through the
// Logs API (boto3's filter_log_events with JSON selectors) in
// testdata/boto3_logs_json.py, then through `lamb logs`: every line is a JSON
// record, the platform's as AWS writes them (see the script for the sources).
func TestJSONLogFormat(t *testing.T) {
	s := startLamb(t, "")
	py := pythonWithBoto3(t)
	cmd := exec.Command(py, filepath.Join("testdata", "boto3_logs_json.py"))
	cmd.Env = append(os.Environ(), "LAMB_ENDPOINT="+s.URL, "LAMB_FUNCTION=jsonlogs",
		"AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=secret", "AWS_EC2_METADATA_DISABLED=true")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("boto3_logs_json.py: %v\n%s", err, out)
	}
	t.Logf("boto3_logs_json.py:\n%s", out)

	out, err = exec.Command(lambBin, "logs", "jsonlogs", "--endpoint", s.URL).Output()
	if err != nil {
		t.Fatalf("lamb logs: %v", err)
	}
	types := map[string]int{}
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var rec struct {
			Type    string `json:"type"`
			Message string `json:"message"`
			Record  struct {
				RequestID string `json:"requestId"`
			} `json:"record"`
		}
		// The python runtime's traceback of the failing invocation is one
		// JSON record too (its stackTrace field), so every line parses.
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Errorf("lamb logs printed a line that is not JSON: %q", l)
			continue
		}
		if rec.Type != "" {
			types[rec.Type]++
		} else {
			types["function"]++
		}
	}
	// Three invocations at INFO, one at WARN (no platform records), one at
	// DEBUG. SystemLogLevel does not shape the sandbox: one instance, one init.
	want := map[string]int{"platform.initStart": 1, "platform.start": 4, "platform.runtimeDone": 1, "platform.report": 4, "function": 6}
	for k, n := range want {
		if types[k] != n {
			t.Errorf("lamb logs: %d %s lines, want %d (all: %v)\n%s", types[k], k, n, types, out)
		}
	}
}
