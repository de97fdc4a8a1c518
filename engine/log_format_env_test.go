package engine

import (
	"testing"
	"time"
)

// The runtime learns the function's log format from its environment, as on
// AWS, and a format change means new instances.
func TestLogFormatReachesTheRuntime(t *testing.T) {
	tests := []struct {
		name             string
		format, level    string
		wantFormat       string
		wantLevel        string
		wantFormatAbsent bool
	}{
		{name: "default text", wantFormatAbsent: true},
		{name: "explicit text", format: "Text", wantFormatAbsent: true},
		{name: "json", format: "JSON", level: "INFO", wantFormat: "JSON", wantLevel: "INFO"},
		{name: "json debug", format: "JSON", level: "DEBUG", wantFormat: "JSON", wantLevel: "DEBUG"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fn := &Function{Name: "f", Runtime: "python3.12", Handler: "h.h", LogFormat: tc.format, LogLevel: tc.level}
			env := composeEnv(fn, time.Now())
			format, ok := env["AWS_LAMBDA_LOG_FORMAT"]
			if tc.wantFormatAbsent {
				if ok {
					t.Fatalf("AWS_LAMBDA_LOG_FORMAT = %q, want unset", format)
				}
				if lvl, ok := env["AWS_LAMBDA_LOG_LEVEL"]; ok {
					t.Fatalf("AWS_LAMBDA_LOG_LEVEL = %q, want unset", lvl)
				}
				return
			}
			if format != tc.wantFormat || env["AWS_LAMBDA_LOG_LEVEL"] != tc.wantLevel {
				t.Fatalf("format %q level %q, want %q %q", format, env["AWS_LAMBDA_LOG_LEVEL"], tc.wantFormat, tc.wantLevel)
			}
		})
	}

	text := &Function{ARN: "arn:aws:lambda:us-east-1:000000000000:function:f", Runtime: "python3.12", Handler: "h.h"}
	json := *text
	json.LogFormat, json.LogLevel = "JSON", "INFO"
	debug := json
	debug.LogLevel = "DEBUG"
	if poolKey(text) == poolKey(&json) || poolKey(&json) == poolKey(&debug) {
		t.Fatal("a log format or level change kept the pool key")
	}
}
