package engine_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lambhq/lamb/internal/testenv"

	"github.com/lambhq/lamb/engine"
	"github.com/lambhq/lamb/engine/backend/backendtest"
)

// These tests run lamb's own python and node bootstraps on the process
// backend with each LoggingConfig and check every line the function logged,
// in order: text logs stay as they were, JSON logs are the records AWS's
// managed runtimes write, and the application log level drops records.

const pyLogApp = `import logging
logger = logging.getLogger()
def handler(event, context):
    print("printed line")
    logger.debug("debug msg")
    logger.info("info %s", "msg")
    logger.warning("warn msg")
    logging.getLogger("app.sub").error("error msg", extra={"orderId": 7})
    try:
        raise LookupError("missing")
    except LookupError:
        logger.exception("caught")
    if event.get("raise"):
        raise ValueError("bad value")
    return "ok"
`

const nodeLogApp = `
exports.handler = async (event) => {
  console.log("log msg");
  console.info("info %d", 2);
  console.debug("debug msg");
  console.trace("trace msg");
  console.warn({ k: "v" });
  console.error("failed:", new TypeError("boom"));
  if (event.raise) throw new RangeError("bad range");
  return "ok";
};
`

// logLine is what one line of a function's log must be: a text line matching
// Text, or a JSON object with exactly the keys Keys, in that order, and the
// given field values (a string starting with "~" is a regexp).
type logLine struct {
	Text   string
	Keys   []string
	Fields map[string]any
}

const (
	msTime  = `~^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`
	secTime = `~^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$`
)

func TestProcessEngineLogFormats(t *testing.T) {
	pyRecord := []string{"timestamp", "level", "message", "logger", "requestId"}
	pyException := []string{"timestamp", "level", "message", "logger", "stackTrace", "errorType", "errorMessage", "requestId", "location"}
	pyErrorRecord := logLine{Keys: []string{"timestamp", "level", "message", "logger", "requestId", "orderId"},
		Fields: map[string]any{"timestamp": msTime, "level": "ERROR", "message": "error msg", "logger": "app.sub", "requestId": "{id}", "orderId": 7.0}}
	pyCaught := logLine{Keys: pyException, Fields: map[string]any{
		"timestamp": msTime, "level": "ERROR", "message": "caught", "logger": "root", "requestId": "{id}",
		"errorType": "LookupError", "errorMessage": "missing",
		"stackTrace": `~^\[" +File \\".*/app\.py\\", line 10, in handler\\n +raise LookupError\(\\"missing\\"\)\\n"\]$`,
		"location":   `~^/.*/app\.py:handler:12$`,
	}}
	// What Python's JSON logging prints at DEBUG, and at TRACE, which
	// Python's logging lacks and reads as DEBUG.
	pyDebug := []logLine{
		{Text: `^printed line$`},
		{Keys: pyRecord, Fields: map[string]any{"level": "DEBUG", "message": "debug msg", "requestId": "{id}"}},
		{Keys: pyRecord, Fields: map[string]any{"level": "INFO", "message": "info msg"}},
		{Keys: pyRecord, Fields: map[string]any{"level": "WARNING", "message": "warn msg"}},
		pyErrorRecord,
		pyCaught,
	}
	nodeRecord := []string{"timestamp", "level", "requestId", "message"}
	nodeFailed := logLine{Keys: append(nodeRecord[:4:4], "errorType", "errorMessage", "stackTrace"), Fields: map[string]any{
		"timestamp": msTime, "level": "ERROR", "requestId": "{id}", "message": `~^failed: TypeError: boom\n +at `,
		"errorType": "TypeError", "errorMessage": "boom", "stackTrace": `~^\["TypeError: boom"," +at .*index\.js`,
	}}

	tests := []struct {
		name          string
		runtime       string
		format, level string
		raise         bool
		want          []logLine
	}{
		{
			name: "python text", runtime: "python3.12",
			want: []logLine{
				{Text: `^printed line$`},
				{Text: `^\[WARNING\]\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\t{id}\twarn msg$`},
				{Text: `^\[ERROR\]\t[\dT:.-]+Z\t{id}\terror msg$`},
				{Text: `^\[ERROR\]\t[\dT:.-]+Z\t{id}\tcaught$`},
				{Text: `^Traceback \(most recent call last\):$`}, // logger.exception's traceback, as Python prints it
				{Text: `^  File ".*app\.py", line 10, in handler$`},
				{Text: `^    raise LookupError\("missing"\)$`},
				{Text: `^LookupError: missing$`},
			},
		},
		{
			name: "python text uncaught error", runtime: "python3.12", raise: true,
			want: []logLine{
				{Text: `^printed line$`},
				{Text: `^\[WARNING\]`}, {Text: `^\[ERROR\].*error msg$`}, {Text: `^\[ERROR\].*caught$`},
				{Text: `^Traceback`}, {Text: `^  File`}, {Text: `^    raise LookupError`}, {Text: `^LookupError: missing$`},
				{Text: `^\[ERROR\] ValueError: bad value\rTraceback \(most recent call last\):\r\x{a0}\x{a0}File ".*app\.py", line 14, in handler\r\x{a0}{4}raise ValueError\("bad value"\)$`},
			},
		},
		{
			name: "python json info", runtime: "python3.12", format: "JSON", level: "INFO",
			want: []logLine{
				{Text: `^printed line$`}, // print() stays plain text, as on AWS
				{Keys: pyRecord, Fields: map[string]any{"timestamp": msTime, "level": "INFO", "message": "info msg", "logger": "root", "requestId": "{id}"}},
				{Keys: pyRecord, Fields: map[string]any{"level": "WARNING", "message": "warn msg"}},
				pyErrorRecord,
				pyCaught,
			},
		},
		{
			name: "python json debug", runtime: "python3.12", format: "JSON", level: "DEBUG",
			want: pyDebug,
		},
		{
			name: "python json trace means debug", runtime: "python3.12", format: "JSON", level: "TRACE",
			want: pyDebug,
		},
		{
			name: "python json error level", runtime: "python3.12", format: "JSON", level: "ERROR",
			want: []logLine{{Text: `^printed line$`}, pyErrorRecord, pyCaught},
		},
		{
			name: "python json uncaught error", runtime: "python3.12", format: "JSON", level: "ERROR", raise: true,
			want: []logLine{
				{Text: `^printed line$`}, pyErrorRecord, pyCaught,
				{Keys: []string{"timestamp", "level", "errorMessage", "errorType", "requestId", "stackTrace"}, Fields: map[string]any{
					"timestamp": secTime, "level": "ERROR", "errorMessage": "bad value", "errorType": "ValueError", "requestId": "{id}",
					"stackTrace": `~^\[" +File \\".*/app\.py\\", line 14, in handler\\n +raise ValueError\(\\"bad value\\"\)\\n"\]$`,
				}},
			},
		},
		{
			name: "node text", runtime: "nodejs22.x",
			want: []logLine{
				{Text: `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\t{id}\tINFO\tlog msg$`},
				{Text: `^[\dT:.-]+Z\t{id}\tINFO\tinfo 2$`},
				{Text: `^[\dT:.-]+Z\t{id}\tDEBUG\tdebug msg$`},
				{Text: `^[\dT:.-]+Z\t{id}\tTRACE\ttrace msg\r +at `},
				{Text: `^[\dT:.-]+Z\t{id}\tWARN\t\{ k: 'v' \}$`},
				{Text: `^[\dT:.-]+Z\t{id}\tERROR\tfailed: TypeError: boom\r +at `},
			},
		},
		{
			name: "node text uncaught error", runtime: "nodejs22.x", raise: true,
			want: []logLine{
				{Text: `INFO\tlog msg$`}, {Text: `INFO\tinfo 2$`}, {Text: `DEBUG\t`}, {Text: `TRACE\t`}, {Text: `WARN\t`}, {Text: `ERROR\tfailed`},
				{Text: `^[\dT:.-]+Z\t{id}\tERROR\tInvoke Error \t\{"errorType":"RangeError","errorMessage":"bad range","stack":\["RangeError: bad range",`},
			},
		},
		{
			name: "node json info", runtime: "nodejs22.x", format: "JSON", level: "INFO",
			want: []logLine{
				{Keys: nodeRecord, Fields: map[string]any{"timestamp": msTime, "level": "INFO", "requestId": "{id}", "message": "log msg"}},
				{Keys: nodeRecord, Fields: map[string]any{"level": "INFO", "message": "info 2"}},
				{Keys: nodeRecord, Fields: map[string]any{"level": "WARN", "message": map[string]any{"k": "v"}}},
				nodeFailed,
			},
		},
		{
			name: "node json trace", runtime: "nodejs22.x", format: "JSON", level: "TRACE",
			want: []logLine{
				{Keys: nodeRecord, Fields: map[string]any{"level": "INFO", "message": "log msg"}},
				{Keys: nodeRecord, Fields: map[string]any{"level": "INFO", "message": "info 2"}},
				{Keys: nodeRecord, Fields: map[string]any{"level": "DEBUG", "message": "debug msg", "requestId": "{id}"}},
				{Keys: nodeRecord, Fields: map[string]any{"level": "TRACE", "message": "trace msg"}},
				{Keys: nodeRecord, Fields: map[string]any{"level": "WARN"}},
				nodeFailed,
			},
		},
		{
			name: "node json warn level", runtime: "nodejs22.x", format: "JSON", level: "WARN",
			want: []logLine{
				{Keys: nodeRecord, Fields: map[string]any{"level": "WARN", "message": map[string]any{"k": "v"}}},
				nodeFailed,
			},
		},
		{
			name: "node json uncaught error", runtime: "nodejs22.x", format: "JSON", level: "ERROR", raise: true,
			want: []logLine{
				nodeFailed,
				{Keys: nodeRecord, Fields: map[string]any{"timestamp": msTime, "level": "ERROR", "requestId": "{id}",
					// (nested keys compare sorted)
					"message": `~^\{"errorMessage":"bad range","errorType":"RangeError","stackTrace":\["RangeError: bad range"," +at `}},
			},
		},
		{
			name: "node json fatal level drops uncaught error", runtime: "nodejs22.x", format: "JSON", level: "FATAL", raise: true,
			want: nil,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if strings.HasPrefix(tc.runtime, "python") {
				testenv.LookPath(t, "python3")
			} else {
				testenv.LookPath(t, "node")
			}
			e := newProcessEngine(t)
			fn := logFunction(t, tc.runtime)
			fn.LogFormat, fn.LogLevel = tc.format, tc.level
			// Two calls: the second runs on the warm instance, so the request
			// ID in the records must follow the invocation.
			for i := range 2 {
				id := fmt.Sprintf("log-%d", i)
				payload := `{}`
				if tc.raise {
					payload = `{"raise":true}`
				}
				res, err := e.Invoke(context.Background(), fn, &engine.Request{RequestID: id, Payload: []byte(payload)})
				if err != nil {
					t.Fatal(err)
				}
				if (res.FunctionError != "") != tc.raise {
					t.Fatalf("function error %q, payload %s", res.FunctionError, res.Payload)
				}
				checkLogLines(t, functionLines(res.Log), tc.want, id)
			}
		})
	}
}

func logFunction(t *testing.T, runtime string) *engine.Function {
	t.Helper()
	files := map[string]string{"app.py": pyLogApp}
	if strings.HasPrefix(runtime, "nodejs") {
		files = map[string]string{"index.js": nodeLogApp}
	}
	handler := map[bool]string{true: "app.handler", false: "index.handler"}[strings.HasPrefix(runtime, "python")]
	code := backendtest.ZipArtifact(t, files)
	return &engine.Function{
		AccountID: "000000000000", Region: "us-east-1", Name: "logs", Version: "$LATEST",
		ARN:     "arn:aws:lambda:us-east-1:000000000000:function:logs",
		Runtime: runtime, Handler: handler, MemoryMB: 128, Timeout: 10 * time.Second,
		Code: code, CodeSHA256: code.SHA256,
	}
}

// functionLines returns the lines the function wrote: the log without the
// platform's START, END and REPORT lines (text or JSON).
func functionLines(log []byte) []string {
	var out []string
	for _, line := range strings.Split(strings.TrimSuffix(string(log), "\n"), "\n") {
		if strings.HasPrefix(line, "START RequestId: ") || strings.HasPrefix(line, "END RequestId: ") ||
			strings.HasPrefix(line, "REPORT RequestId: ") || strings.HasPrefix(line, "INIT_START ") {
			continue
		}
		var platform struct{ Type string }
		if json.Unmarshal([]byte(line), &platform) == nil && strings.HasPrefix(platform.Type, "platform.") {
			continue
		}
		out = append(out, line)
	}
	return out
}

func checkLogLines(t *testing.T, got []string, want []logLine, id string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("request %s: %d log lines, want %d:\n%s", id, len(got), len(want), strings.Join(got, "\n"))
	}
	for i, w := range want {
		line := got[i]
		if w.Text != "" {
			if !regexp.MustCompile(strings.ReplaceAll(w.Text, "{id}", id)).MatchString(line) {
				t.Errorf("request %s line %d = %q, want match for %q", id, i, line, w.Text)
			}
			continue
		}
		keys, fields, err := jsonObject(line)
		if err != nil {
			t.Errorf("request %s line %d is not a JSON object (%v): %q", id, i, err, line)
			continue
		}
		if strings.Join(keys, ",") != strings.Join(w.Keys, ",") {
			t.Errorf("request %s line %d keys = %q, want %q: %s", id, i, keys, w.Keys, line)
		}
		for k, want := range w.Fields {
			if s, ok := want.(string); ok {
				s = strings.ReplaceAll(s, "{id}", id)
				if re, ok := strings.CutPrefix(s, "~"); ok {
					// Compare a non-string field by its JSON text.
					v, isString := fields[k].(string)
					if !isString {
						b, _ := json.Marshal(fields[k])
						v = string(b)
					}
					if !regexp.MustCompile(re).MatchString(v) {
						t.Errorf("request %s line %d: %s = %q, want match for %q", id, i, k, v, re)
					}
					continue
				}
				want = s
			}
			if g, _ := json.Marshal(fields[k]); !bytes.Equal(g, mustJSON(want)) {
				t.Errorf("request %s line %d: %s = %s, want %s", id, i, k, g, mustJSON(want))
			}
		}
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// jsonObject decodes one JSON object, keeping the order of its keys (AWS's
// records have a fixed field order).
func jsonObject(line string) (keys []string, fields map[string]any, err error) {
	dec := json.NewDecoder(strings.NewReader(line))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, nil, fmt.Errorf("not an object: %v", err)
	}
	fields = map[string]any{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, err
		}
		k := tok.(string)
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, nil, err
		}
		keys = append(keys, k)
		fields[k] = v
	}
	if _, err := dec.Token(); err != nil {
		return nil, nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, fmt.Errorf("trailing data after the object")
	}
	return keys, fields, nil
}
