package engine

import (
	"encoding/json"
	"math"
	"strconv"
	"time"
)

// The platform's own log lines around each invocation. With LogFormat Text
// they are AWS's START, END and REPORT lines; with JSON they are the records
// AWS writes to CloudWatch instead — the Telemetry API's event shapes
// (docs.aws.amazon.com/lambda/latest/dg/telemetry-schema-reference.html):
//
//	{"time":"…","type":"platform.initStart","record":{"initializationType":…,"phase":"init",…}}
//	{"time":"…","type":"platform.start","record":{"requestId":…,"version":"$LATEST"}}
//	{"time":"…","type":"platform.report","record":{"requestId":…,"metrics":{…},"status":"success"}}
//
// There is no platform.end in CloudWatch (the END line has no JSON twin), and
// SystemLogLevel filters them: at the default INFO AWS "sends start and report"
// (monitoring-cloudwatchlogs-log-level.html); platform.runtimeDone is DEBUG;
// WARN drops them all.

// platformEvent is one JSON platform record.
type platformEvent struct {
	Time   string `json:"time"`
	Type   string `json:"type"`
	Record any    `json:"record"`
}

type initStartRecord struct {
	InitializationType string `json:"initializationType"`
	Phase              string `json:"phase"`
	FunctionName       string `json:"functionName"`
	FunctionVersion    string `json:"functionVersion"`
	InstanceMaxMemory  int64  `json:"instanceMaxMemory"`
}

type startRecord struct {
	RequestID string `json:"requestId"`
	Version   string `json:"version"`
}

type runtimeDoneRecord struct {
	RequestID string             `json:"requestId"`
	Metrics   runtimeDoneMetrics `json:"metrics"`
	Status    string             `json:"status"`
	ErrorType string             `json:"errorType,omitempty"`
}

type runtimeDoneMetrics struct {
	DurationMs float64 `json:"durationMs"`
}

type reportRecord struct {
	RequestID string        `json:"requestId"`
	Metrics   reportMetrics `json:"metrics"`
	Status    string        `json:"status"`
	ErrorType string        `json:"errorType,omitempty"`
}

// reportMetrics keeps AWS's key order.
type reportMetrics struct {
	DurationMs       float64 `json:"durationMs"`
	BilledDurationMs int64   `json:"billedDurationMs"`
	MemorySizeMB     int     `json:"memorySizeMB"`
	MaxMemoryUsedMB  int     `json:"maxMemoryUsedMB"`
	InitDurationMs   float64 `json:"initDurationMs,omitempty"`
}

func (fn *Function) jsonLogs() bool { return fn.LogFormat == "JSON" }

// systemLogs reports whether a platform record of level passes the function's
// SystemLogLevel (DEBUG < INFO < WARN; INFO when unset, as AWS defaults it).
func (fn *Function) systemLogs(level string) bool {
	want := logRank(fn.SystemLogLevel)
	if want < 0 {
		want = 1
	}
	return logRank(level) >= want
}

// logRank orders the system log levels; -1 for another name.
func logRank(level string) int {
	switch level {
	case "DEBUG":
		return 0
	case "INFO":
		return 1
	case "WARN":
		return 2
	}
	return -1
}

// platformJSON is one record as a line ("" when the level filters it out).
func (fn *Function) platformJSON(level, typ string, now time.Time, rec any) string {
	if !fn.systemLogs(level) {
		return ""
	}
	b, err := json.Marshal(platformEvent{Time: now.UTC().Format("2006-01-02T15:04:05.000Z"), Type: typ, Record: rec})
	if err != nil {
		panic(err) // only plain structs are marshalled
	}
	return string(b) + "\n"
}

// ms is a duration in milliseconds to AWS's three decimals.
func ms(d time.Duration) float64 {
	return math.Round(float64(d)/float64(time.Microsecond)) / 1000
}

// billedMs rounds up to the millisecond and, as AWS bills the init phase
// since August 2025, includes the init duration on a cold start.
func billedMs(dur, initDur time.Duration) int64 {
	b := int64(math.Ceil(float64(dur+initDur) / float64(time.Millisecond)))
	return max(b, 1)
}

// initStartLine is written as an instance's init begins: JSON logs only (lamb
// writes no INIT_START text line).
func initStartLine(fn *Function, initType string, now time.Time) string {
	if !fn.jsonLogs() {
		return ""
	}
	return fn.platformJSON("INFO", "platform.initStart", now, initStartRecord{
		InitializationType: initType, Phase: "init", FunctionName: fn.Name, FunctionVersion: fn.version(),
		InstanceMaxMemory: int64(fn.memoryMB()) << 20,
	})
}

func startLine(fn *Function, id string, now time.Time) string {
	if fn.jsonLogs() {
		return fn.platformJSON("INFO", "platform.start", now, startRecord{RequestID: id, Version: fn.version()})
	}
	return "START RequestId: " + id + " Version: " + fn.version() + "\n"
}

// endLines are what follows the runtime's output: END in text, the DEBUG
// platform.runtimeDone in JSON.
func endLines(fn *Function, id string, now time.Time, dur time.Duration, status, errType string) string {
	if fn.jsonLogs() {
		return fn.platformJSON("DEBUG", "platform.runtimeDone", now, runtimeDoneRecord{
			RequestID: id, Metrics: runtimeDoneMetrics{DurationMs: ms(dur)}, Status: status, ErrorType: errType})
	}
	return "END RequestId: " + id + "\n"
}

// reportLine is AWS's REPORT line, or its platform.report record.
func reportLine(fn *Function, id string, now time.Time, dur, initDur time.Duration, memUsed int, status, errType string) string {
	if fn.jsonLogs() {
		m := reportMetrics{DurationMs: ms(dur), BilledDurationMs: billedMs(dur, initDur), MemorySizeMB: fn.memoryMB(),
			MaxMemoryUsedMB: memUsed}
		if initDur > 0 {
			m.InitDurationMs = ms(initDur)
		}
		return fn.platformJSON("INFO", "platform.report", now, reportRecord{RequestID: id, Metrics: m, Status: status, ErrorType: errType})
	}
	return string(appendReport(make([]byte, 0, 160+len(id)), fn, id, dur, initDur, memUsed))
}

// appendReport appends the text REPORT line: built by appending, since it is
// written on every invoke (strconv's 'f' format is fmt's %.2f).
func appendReport(b []byte, fn *Function, id string, dur, initDur time.Duration, memUsed int) []byte {
	b = append(b, "REPORT RequestId: "...)
	b = append(b, id...)
	b = append(b, "\tDuration: "...)
	b = strconv.AppendFloat(b, ms(dur), 'f', 2, 64)
	b = append(b, " ms\tBilled Duration: "...)
	b = strconv.AppendInt(b, billedMs(dur, initDur), 10)
	b = append(b, " ms\tMemory Size: "...)
	b = strconv.AppendInt(b, int64(fn.memoryMB()), 10)
	b = append(b, " MB\tMax Memory Used: "...)
	b = strconv.AppendInt(b, int64(memUsed), 10)
	b = append(b, " MB\t"...)
	if initDur > 0 {
		b = append(b, "Init Duration: "...)
		b = strconv.AppendFloat(b, ms(initDur), 'f', 2, 64)
		b = append(b, " ms\t"...)
	}
	return append(b, '\n')
}

// reportStatus is the Telemetry API's status of an invocation (success,
// error, timeout, failure) and, unless it succeeded, its error type.
func reportStatus(o outcome) (status, errType string) {
	switch {
	case o.outcome == OutcomeTimeout:
		return "timeout", "Sandbox.Timedout"
	case o.outcome == OutcomeAborted:
		return "failure", ""
	case o.fnErr:
		if t := errorTypeOf(o.payload); t != "" {
			return "error", t
		}
		return "error", "Unhandled"
	}
	return "success", ""
}
