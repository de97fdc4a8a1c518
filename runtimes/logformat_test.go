package runtimes

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// These tests cover the JSON log format (AWS_LAMBDA_LOG_FORMAT=JSON, as lamb
// sets it for LoggingConfig.LogFormat JSON) where the engine-level tests in
// engine/logformat_process_test.go do not reach: output during init, init
// errors, and what each console/logging call turns into.

var jsonEnv = []string{"AWS_LAMBDA_LOG_FORMAT=JSON", "AWS_LAMBDA_LOG_LEVEL=INFO"}

// jsonLines returns the stdout lines that are JSON objects, decoded.
func jsonLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var recs []map[string]any
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("bad JSON log line %q: %v", line, err)
		}
		recs = append(recs, m)
	}
	return recs
}

// findRecord returns the first record that has want's fields (see subset).
func findRecord(recs []map[string]any, want map[string]any) map[string]any {
	for _, r := range recs {
		if subset(r, want) {
			return r
		}
	}
	return nil
}

// subset reports whether got has want's value: objects may have more fields
// than want lists, recursively; a nil in want means the field is absent.
func subset(got, want any) bool {
	if w, ok := want.(map[string]any); ok {
		g, ok := got.(map[string]any)
		if !ok {
			return false
		}
		for k, wv := range w {
			gv, present := g[k]
			if wv == nil {
				if present {
					return false
				}
				continue
			}
			if !present || !subset(gv, wv) {
				return false
			}
		}
		return true
	}
	a, _ := json.Marshal(got)
	b, _ := json.Marshal(want)
	return string(a) == string(b)
}

func TestJSONLogsDuringInit(t *testing.T) {
	tests := []struct {
		name    string
		family  string
		handler string
		files   map[string]string
		env     []string
		waitFor string // stdout contains this once the init-time records are out
		want    []map[string]any
		notWant string // must not be in stdout
	}{
		{
			name: "python logging at import has an empty request id; basicConfig stays a no-op", family: FamilyPython,
			handler: "fn.handler", env: jsonEnv, waitFor: `"message": "from handler"`,
			files: map[string]string{"fn.py": `import logging
logging.basicConfig(level=logging.DEBUG, format="%(message)s")
logging.getLogger().info("at import")
logging.getLogger().debug("debug dropped")
def handler(event, context):
    logging.getLogger("h").info("from handler")
    return "ok"
`},
			want: []map[string]any{
				{"level": "INFO", "message": "at import", "logger": "root", "requestId": ""},
				{"level": "INFO", "message": "from handler", "logger": "h", "requestId": "req-1"},
			},
			notWant: "debug dropped",
		},
		{
			name: "python custom levels round down to AWS's steps; unserialisable extras become text", family: FamilyPython,
			handler: "fn.handler", env: jsonEnv, waitFor: `"message": "odd"`,
			files: map[string]string{"fn.py": `import logging
def handler(event, context):
    logging.getLogger().log(35, "odd", extra={"obj": object(), "n": None, "ok": [1]})
    return "ok"
`},
			want: []map[string]any{{"level": "WARNING", "message": "odd", "ok": []any{1.0}, "n": nil}},
		},
		{
			name: "python level from the environment also applies to text logs, as in awslambdaric", family: FamilyPython,
			handler: "fn.handler", env: []string{"AWS_LAMBDA_LOG_LEVEL=DEBUG"}, waitFor: "\treq-1\tdebug shown\n",
			files: map[string]string{"fn.py": `import logging
def handler(event, context):
    logging.getLogger().debug("debug shown")
    return "ok"
`},
		},
		{
			name: "node console before the first invocation has no request id", family: FamilyNodejs,
			handler: "app.handler", env: jsonEnv, waitFor: `"message":"from handler"`,
			files: map[string]string{"app.mjs": `console.info("at import");
console.fatal("fatal at import");
export const handler = async () => { console.log("from handler"); return "ok"; };
`},
			want: []map[string]any{
				{"level": "INFO", "message": "at import", "requestId": nil},
				{"level": "FATAL", "message": "fatal at import"},
				{"level": "INFO", "message": "from handler", "requestId": "req-1"},
			},
		},
		{
			name: "node lone error keeps its own properties; format args render", family: FamilyNodejs,
			handler: "app.handler", env: jsonEnv, waitFor: `"message":"n=5"`,
			files: map[string]string{"app.mjs": `export const handler = async () => {
  console.error(Object.assign(new Error("with code"), { code: "E_X" }));
  console.warn(42);
  console.warn("n=%d", 5);
  return "ok";
};
`},
			want: []map[string]any{
				{"level": "ERROR", "message": map[string]any{"errorType": "Error", "errorMessage": "with code", "code": "E_X"}},
				{"level": "WARN", "message": 42}, // a lone argument is the message as it is
				{"level": "WARN", "message": "n=5"},
			},
		},
		{
			name: "node text format is untouched by JSON code paths", family: FamilyNodejs,
			handler: "app.handler", waitFor: "\treq-1\tINFO\t{ a: 1 }\n",
			files: map[string]string{"app.mjs": "export const handler = async () => { console.log({ a: 1 }); return 'ok'; };\n"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			api := newFakeAPI(t)
			p := startBootstrap(t, api, tc.family, tc.handler, tc.files, tc.env...)
			wantKind(t, api.invoke(t, invocation{id: "req-1", payload: `{}`}), "response")
			out := p.waitOutput(t, tc.waitFor)
			recs := jsonLines(t, out)
			for _, w := range tc.want {
				r := findRecord(recs, w)
				if r == nil {
					t.Errorf("no record with %v in:\n%s", w, out)
					continue
				}
				if ts, _ := r["timestamp"].(string); !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`).MatchString(ts) {
					t.Errorf("timestamp %q", ts)
				}
			}
			if tc.notWant != "" && strings.Contains(out, tc.notWant) {
				t.Errorf("stdout has %q:\n%s", tc.notWant, out)
			}
			if len(tc.want) == 0 && len(recs) != 0 {
				t.Errorf("JSON records in a text-format log:\n%s", out)
			}
		})
	}
}

func TestJSONLogsInitError(t *testing.T) {
	tests := []struct {
		name   string
		family string
		files  map[string]string
		want   map[string]any
		keys   []string // the record's keys, in order, where the order is AWS's
	}{
		{
			name: "python", family: FamilyPython, files: map[string]string{"other.py": ""},
			want: map[string]any{"level": "ERROR", "errorType": "Runtime.ImportModuleError",
				"errorMessage": "Unable to import module 'app': No module named 'app'", "requestId": "", "stackTrace": []any{}},
			keys: []string{"timestamp", "level", "errorMessage", "errorType", "requestId", "stackTrace"},
		},
		{
			name: "node", family: FamilyNodejs, files: map[string]string{"other.mjs": ""},
			want: map[string]any{"level": "ERROR"},
			keys: []string{"timestamp", "level", "message"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			api := newFakeAPI(t)
			p := startBootstrap(t, api, tc.family, "app.handler", tc.files, jsonEnv...)
			wantKind(t, recv(t, api.results, "init error"), "init")
			if code := p.waitExit(t); code != 1 {
				t.Errorf("exit code = %d, want 1", code)
			}
			out := p.stdout.String()
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if len(lines) != 1 {
				t.Fatalf("want one log record, got:\n%s", out)
			}
			recs := jsonLines(t, out)
			if len(recs) != 1 || findRecord(recs, tc.want) == nil {
				t.Fatalf("record %s lacks %v", out, tc.want)
			}
			if keys := objectKeys(t, lines[0]); !slices.Equal(keys, tc.keys) {
				t.Errorf("keys %q, want %q", keys, tc.keys)
			}
			if tc.family == FamilyNodejs {
				msg, _ := recs[0]["message"].(map[string]any)
				// AWS's runtime errors are classes named after the error, with
				// "Runtime." in their name: JSON logs show the class name.
				if msg["errorType"] != "ImportModuleError" || !strings.HasPrefix(msg["errorMessage"].(string), "Error: Cannot find module 'app'") {
					t.Errorf("message %v", msg)
				}
				if _, ok := msg["name"]; ok {
					t.Errorf("message has the error's name as an own property: %v", msg)
				}
			}
		})
	}
}

// objectKeys returns a JSON object's keys in order.
func objectKeys(t *testing.T, line string) []string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(line))
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}
