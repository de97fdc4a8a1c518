package eventsource

import (
	"encoding/json"
	"strings"
	"testing"
)

func decode(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestFilterMatch(t *testing.T) {
	rec := `{"body": {"kind": "order", "n": 12, "tags": ["a", "b"], "city": "Seattle", "nothing": null, "deep": {"x": "y"}}, "eventSource": "aws:sqs"}`
	tests := []struct {
		pattern string
		want    bool
	}{
		{`{"body": {"kind": ["order"]}}`, true},
		{`{"body": {"kind": ["refund"]}}`, false},
		{`{"body": {"kind": ["refund", "order"]}}`, true},
		{`{"body": {"n": [12]}}`, true},
		{`{"body": {"n": ["12"]}}`, false}, // a string is not the number
		{`{"body": {"tags": ["b"]}}`, true},
		{`{"body": {"city": [{"prefix": "Sea"}]}}`, true},
		{`{"body": {"city": [{"prefix": "sea"}]}}`, false},
		{`{"body": {"city": [{"prefix": {"equals-ignore-case": "sea"}}]}}`, true},
		{`{"body": {"city": [{"suffix": "tle"}]}}`, true},
		{`{"body": {"city": [{"equals-ignore-case": "SEATTLE"}]}}`, true},
		{`{"body": {"n": [{"numeric": [">", 10, "<=", 12]}]}}`, true},
		{`{"body": {"n": [{"numeric": ["<", 12]}]}}`, false},
		{`{"body": {"n": [{"numeric": ["=", 12]}]}}`, true},
		{`{"body": {"kind": [{"exists": true}]}}`, true},
		{`{"body": {"missing": [{"exists": true}]}}`, false},
		{`{"body": {"missing": [{"exists": false}]}}`, true},
		{`{"body": {"kind": [{"exists": false}]}}`, false},
		{`{"body": {"nothing": [null]}}`, true},
		{`{"body": {"kind": [{"anything-but": ["refund"]}]}}`, true},
		{`{"body": {"kind": [{"anything-but": "order"}]}}`, false},
		{`{"body": {"kind": [{"anything-but": {"prefix": "ord"}}]}}`, false},
		{`{"body": {"deep": {"x": ["y"]}}}`, true},
		{`{"body": {"deep": {"x": ["z"]}}}`, false},
		{`{"body": {"kind": ["order"], "n": [13]}}`, false}, // every field must match
		{`{"body": {"$or": [{"kind": ["refund"]}, {"n": [12]}]}}`, true},
		{`{"body": {"$or": [{"kind": ["refund"]}, {"n": [13]}]}}`, false},
		{`{"eventSource": ["aws:sqs"]}`, true},
		{`{"body": {"kind": {"sub": ["x"]}}}`, false}, // a string has no fields
	}
	for _, tc := range tests {
		f, err := ParseFilter([]string{tc.pattern})
		if err != nil {
			t.Fatalf("%s: %v", tc.pattern, err)
		}
		if got := f.Match(decode(t, rec)); got != tc.want {
			t.Errorf("%s: Match = %v, want %v", tc.pattern, got, tc.want)
		}
	}
}

func TestFilterAnyPattern(t *testing.T) {
	f, err := ParseFilter([]string{`{"body": {"kind": ["a"]}}`, `{"body": {"kind": ["b"]}}`})
	if err != nil {
		t.Fatal(err)
	}
	for kind, want := range map[string]bool{"a": true, "b": true, "c": false} {
		if got := f.Match(decode(t, `{"body": {"kind": "`+kind+`"}}`)); got != want {
			t.Errorf("kind %s: %v, want %v", kind, got, want)
		}
	}
	var none *Filter
	if !none.Match(map[string]any{}) || !none.Empty() {
		t.Error("no filter must let every record through")
	}
}

func TestParseFilterRefuses(t *testing.T) {
	for _, p := range []string{`not json`, `{"body": "x"}`, `{"body": {"kind": "x"}}`, `{"$or": ["x"]}`} {
		if _, err := ParseFilter([]string{p}); err == nil {
			t.Errorf("%s: accepted", p)
		}
	}
}

func TestSQSFilterViewParsesJSONBody(t *testing.T) {
	v := filterView(SQSRecord{Body: `{"a": 1}`, EventSource: "aws:sqs"})
	if b, ok := v["body"].(map[string]any); !ok || b["a"] != json.Number("1") {
		t.Errorf("body = %#v, want the parsed object", v["body"])
	}
	v = filterView(SQSRecord{Body: `plain text`})
	if v["body"] != "plain text" {
		t.Errorf("body = %#v, want the string", v["body"])
	}
}

func TestBatchItemFailures(t *testing.T) {
	tests := []struct {
		payload string
		ids     []string
		all     bool
	}{
		{``, nil, false},
		{`null`, nil, false},
		{`{}`, nil, false},
		{`{"batchItemFailures": []}`, nil, false},
		{`{"batchItemFailures": [{"itemIdentifier": "a"}, {"itemIdentifier": "b"}]}`, []string{"a", "b"}, false},
		{`{"batchItemFailures": [{"itemIdentifier": ""}]}`, nil, true},
		{`{"batchItemFailures": [{"other": "a"}]}`, nil, true},
		{`"a string"`, nil, true},
	}
	for _, tc := range tests {
		ids, all := batchItemFailures([]byte(tc.payload))
		if all != tc.all || strings.Join(ids, ",") != strings.Join(tc.ids, ",") {
			t.Errorf("%s: %v %v, want %v %v", tc.payload, ids, all, tc.ids, tc.all)
		}
	}
}
