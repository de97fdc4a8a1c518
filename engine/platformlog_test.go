package engine

import (
	"strings"
	"testing"
	"time"
)

// The JSON records are compared with AWS's own, as CloudWatch shows them for a
// function with LogFormat JSON: key order, names and number formats follow the
// Telemetry API schema (docs.aws.amazon.com/lambda/latest/dg/telemetry-schema-reference.html,
// platform.start / platform.report / platform.initStart examples) and a
// CloudWatch capture of a JSON-format function, e.g.
// {"time":"2025-01-07T19:49:07.924Z","type":"platform.report","record":{"requestId":"06e8…",
// "metrics":{"durationMs":329.177,"billedDurationMs":330,"memorySizeMB":1792,"maxMemoryUsedMB":125,
// "initDurationMs":503.083},"status":"success"}}.
func TestPlatformLines(t *testing.T) {
	at := time.Date(2025, 1, 7, 19, 49, 7, 924_400_000, time.UTC)
	dur, initDur := 329177*time.Microsecond, 503083*time.Microsecond
	fn := func(format, sys string) *Function {
		f := testFunction()
		f.LogFormat, f.SystemLogLevel = format, sys
		return f
	}
	tests := []struct {
		name                  string
		fn                    *Function
		o                     outcome
		init                  time.Duration
		initStart, start, end string
		report                string
	}{
		{name: "text", fn: fn("Text", ""), init: initDur,
			start:  "START RequestId: r1 Version: $LATEST\n",
			end:    "END RequestId: r1\n",
			report: "REPORT RequestId: r1\tDuration: 329.18 ms\tBilled Duration: 833 ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB\tInit Duration: 503.08 ms\t\n"},
		{name: "json info", fn: fn("JSON", "INFO"), init: initDur,
			initStart: `{"time":"2025-01-07T19:49:07.924Z","type":"platform.initStart","record":{"initializationType":"on-demand","phase":"init","functionName":"echo","functionVersion":"$LATEST","instanceMaxMemory":134217728}}` + "\n",
			start:     `{"time":"2025-01-07T19:49:07.924Z","type":"platform.start","record":{"requestId":"r1","version":"$LATEST"}}` + "\n",
			report:    `{"time":"2025-01-07T19:49:07.924Z","type":"platform.report","record":{"requestId":"r1","metrics":{"durationMs":329.177,"billedDurationMs":833,"memorySizeMB":128,"maxMemoryUsedMB":40,"initDurationMs":503.083},"status":"success"}}` + "\n"},
		{name: "json default level is INFO, warm", fn: fn("JSON", ""),
			initStart: `{"time":"2025-01-07T19:49:07.924Z","type":"platform.initStart","record":{"initializationType":"on-demand","phase":"init","functionName":"echo","functionVersion":"$LATEST","instanceMaxMemory":134217728}}` + "\n",
			start:     `{"time":"2025-01-07T19:49:07.924Z","type":"platform.start","record":{"requestId":"r1","version":"$LATEST"}}` + "\n",
			report:    `{"time":"2025-01-07T19:49:07.924Z","type":"platform.report","record":{"requestId":"r1","metrics":{"durationMs":329.177,"billedDurationMs":330,"memorySizeMB":128,"maxMemoryUsedMB":40},"status":"success"}}` + "\n"},
		{name: "json debug adds runtimeDone; an error's type", fn: fn("JSON", "DEBUG"),
			o:         outcome{fnErr: true, payload: []byte(`{"errorType":"ValueError","errorMessage":"bad"}`), outcome: OutcomeError},
			initStart: `{"time":"2025-01-07T19:49:07.924Z","type":"platform.initStart","record":{"initializationType":"on-demand","phase":"init","functionName":"echo","functionVersion":"$LATEST","instanceMaxMemory":134217728}}` + "\n",
			start:     `{"time":"2025-01-07T19:49:07.924Z","type":"platform.start","record":{"requestId":"r1","version":"$LATEST"}}` + "\n",
			end:       `{"time":"2025-01-07T19:49:07.924Z","type":"platform.runtimeDone","record":{"requestId":"r1","metrics":{"durationMs":329.177},"status":"error","errorType":"ValueError"}}` + "\n",
			report:    `{"time":"2025-01-07T19:49:07.924Z","type":"platform.report","record":{"requestId":"r1","metrics":{"durationMs":329.177,"billedDurationMs":330,"memorySizeMB":128,"maxMemoryUsedMB":40},"status":"error","errorType":"ValueError"}}` + "\n"},
		{name: "json timeout", fn: fn("JSON", "INFO"), o: outcome{fnErr: true, outcome: OutcomeTimeout},
			initStart: `{"time":"2025-01-07T19:49:07.924Z","type":"platform.initStart","record":{"initializationType":"on-demand","phase":"init","functionName":"echo","functionVersion":"$LATEST","instanceMaxMemory":134217728}}` + "\n",
			start:     `{"time":"2025-01-07T19:49:07.924Z","type":"platform.start","record":{"requestId":"r1","version":"$LATEST"}}` + "\n",
			report:    `{"time":"2025-01-07T19:49:07.924Z","type":"platform.report","record":{"requestId":"r1","metrics":{"durationMs":329.177,"billedDurationMs":330,"memorySizeMB":128,"maxMemoryUsedMB":40},"status":"timeout","errorType":"Sandbox.Timedout"}}` + "\n"},
		{name: "json WARN drops them all", fn: fn("JSON", "WARN"), init: initDur},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, errType := reportStatus(tt.o)
			for _, c := range []struct{ what, got, want string }{
				{"initStart", initStartLine(tt.fn, "on-demand", at), tt.initStart},
				{"start", startLine(tt.fn, "r1", at), tt.start},
				{"end", endLines(tt.fn, "r1", at, dur, status, errType), tt.end},
				{"report", reportLine(tt.fn, "r1", at, dur, tt.init, 40, status, errType), tt.report},
			} {
				if c.got != c.want {
					t.Errorf("%s:\ngot  %s\nwant %s", c.what, strings.TrimSpace(c.got), strings.TrimSpace(c.want))
				}
			}
		})
	}
}
