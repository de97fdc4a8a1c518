package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"

	"github.com/lambhq/lamb/engine"
	"github.com/lambhq/lamb/store"
)

func TestStartLiveTailErrors(t *testing.T) {
	book := NewLogbook(0)
	book.LogLine(&engine.Function{AccountID: "000000000000", Region: "us-east-1", Name: "echo"}, "s", []byte("x"))
	ts := httptest.NewServer(New(Config{Store: store.NewMemory(), Logbook: book}))
	defer ts.Close()
	many := make([]string, 11)
	for i := range many {
		many[i] = "/aws/lambda/echo"
	}
	for _, tc := range []struct {
		in   map[string]any
		want string
	}{
		{map[string]any{}, "InvalidParameterException"},
		{map[string]any{"logGroupIdentifiers": many}, "InvalidParameterException"},
		{map[string]any{"logGroupIdentifiers": []string{"/aws/lambda/echo"}, "logStreamNames": []string{"s"}, "logStreamNamePrefixes": []string{"s"}}, "InvalidParameterException"},
		{map[string]any{"logGroupIdentifiers": []string{"/aws/lambda/echo", "/aws/lambda/echo"}, "logStreamNames": []string{"s"}}, "InvalidParameterException"},
		{map[string]any{"logGroupIdentifiers": []string{"/aws/lambda/echo"}, "logEventFilterPattern": "{ $.x = "}, "InvalidParameterException"},
		{map[string]any{"logGroupIdentifiers": []string{"arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/nope"}}, "ResourceNotFoundException"},
	} {
		if code, typ := logsCall(t, ts.URL, "StartLiveTail", tc.in, nil); code != 400 || typ != tc.want {
			t.Errorf("%v: %d %s, want 400 %s", tc.in, code, typ, tc.want)
		}
	}
}

// TestStartLiveTailStream reads the stream with aws-sdk-go-v2's decoder: the
// initial-response, sessionStart, then sessionUpdates holding only what was
// logged after the session began, filtered, and capped at 500 (sampled).
func TestStartLiveTailStream(t *testing.T) {
	old := liveTailInterval
	liveTailInterval = 20 * time.Millisecond
	defer func() { liveTailInterval = old }()
	book := NewLogbook(0)
	fn := &engine.Function{AccountID: "000000000000", Region: "us-east-1", Name: "echo"}
	book.LogLine(fn, "2026/12/03/[$LATEST]aaaa", []byte("hello before"))
	ts := httptest.NewServer(New(Config{Store: store.NewMemory(), Logbook: book}))
	defer ts.Close()

	body := `{"logGroupIdentifiers":["/aws/lambda/echo"],"logStreamNamePrefixes":["2026/12/03/[$LATEST]a"],"logEventFilterPattern":"hello"}`
	req, _ := http.NewRequest("POST", ts.URL+"/", strings.NewReader(body))
	req.Header.Set("X-Amz-Target", "Logs_20140328.StartLiveTail")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != eventStreamContentType {
		t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	dec := eventstream.NewDecoder()
	next := func() (string, map[string]any) {
		t.Helper()
		m, err := dec.Decode(resp.Body, nil)
		if err != nil {
			t.Fatal(err)
		}
		if mt := m.Headers.Get(":message-type"); mt == nil || mt.String() != "event" {
			t.Fatalf("message type %v", mt)
		}
		var v map[string]any
		if err := json.Unmarshal(m.Payload, &v); err != nil {
			t.Fatal(err)
		}
		return m.Headers.Get(":event-type").String(), v
	}
	if typ, _ := next(); typ != "initial-response" {
		t.Fatalf("first event %s", typ)
	}
	typ, start := next()
	if typ != "sessionStart" || start["sessionId"] == "" || fmt.Sprint(start["logStreamNamePrefixes"]) != "[2026/12/03/[$LATEST]a]" {
		t.Fatalf("%s %v", typ, start)
	}
	book.LogLine(fn, "2026/12/03/[$LATEST]aaaa", []byte("hello after"))
	book.LogLine(fn, "2026/12/03/[$LATEST]aaaa", []byte("goodbye"))
	book.LogLine(fn, "2026/12/03/[$LATEST]bbbb", []byte("hello elsewhere"))
	book.LogLine(fn, "2026/12/03/[$LATEST]aaaa", []byte("hello again"))
	var got []string
	for len(got) < 2 {
		typ, up := next()
		if typ != "sessionUpdate" || up["sessionMetadata"].(map[string]any)["sampled"] != false {
			t.Fatalf("event %s %v", typ, up)
		}
		for _, r := range up["sessionResults"].([]any) {
			got = append(got, r.(map[string]any)["message"].(string))
		}
	}
	if fmt.Sprint(got) != "[hello after hello again]" {
		t.Errorf("results %q", got)
	}
}

// A busy second keeps its newest 500 events and says it sampled.
func TestLiveTailEventsSampled(t *testing.T) {
	book := NewLogbook(0)
	fn := &engine.Function{AccountID: "000000000000", Region: "us-east-1", Name: "echo"}
	book.LogLine(fn, "s", []byte("before"))
	after := book.seq
	for i := range 600 {
		book.LogLine(fn, "s", fmt.Appendf(nil, "line %d", i))
	}
	all, _ := compileFilter("")
	groups := []liveTailGroup{{key: groupKey{"000000000000", "us-east-1", "/aws/lambda/echo"}, id: "g"}}
	got, last, sampled := book.liveTailEvents(groups, after, func(string) bool { return true }, all)
	if len(got) != 500 || got[0].Message != "line 100" || got[499].Message != "line 599" || !sampled || last != book.seq {
		t.Errorf("%d events, %q, sampled %v, last %d of %d", len(got), got[0].Message, sampled, last, book.seq)
	}
	if got, _, sampled := book.liveTailEvents(groups, last, func(string) bool { return true }, all); len(got) != 0 || sampled {
		t.Errorf("after the last: %v", got)
	}
}
