package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lambhq/lamb/engine"
	"github.com/lambhq/lamb/store"
)

func TestLogsFilterPatterns(t *testing.T) {
	msgs := []string{
		"START RequestId: 1 Version: $LATEST",
		"[ERROR] ValueError: boom",
		"[WARN] disk almost full",
		"user signed in",
		`{"level":"ERROR","latency":1200,"user":{"id":"u-17"},"ok":false,"tags":["a","b"]}`,
		`{"level":"INFO","latency":30,"user":{"id":"u-2"},"ok":true,"note":null}`,
	}
	tests := []struct {
		pattern string
		want    []int // indexes of msgs matched
	}{
		{"", []int{0, 1, 2, 3, 4, 5}},
		{"ERROR", []int{1, 4}},
		{"ERROR boom", []int{1}},
		{"error", nil}, // case-sensitive
		{`"signed in"`, []int{3}},
		{"?boom ?WARN", []int{1, 2}},
		{"-ERROR -START", []int{2, 3, 5}},
		{`ERROR -"boom"`, []int{4}},
		{"%^\\[(ERROR|WARN)\\]%", []int{1, 2}},
		{`{ $.level = "ERROR" }`, []int{4}},
		{`{$.level != "ERROR"}`, []int{5}},
		{`{ $.latency > 1000 }`, []int{4}},
		{`{ $.latency <= 30 }`, []int{5}},
		{`{ $.user.id = "u-1*" }`, []int{4}},
		{`{ $.tags[1] = "b" }`, []int{4}},
		{`{ $.ok IS FALSE }`, []int{4}},
		{`{ $.ok IS TRUE && $.latency < 100 }`, []int{5}},
		{`{ ($.level = "INFO" || $.latency > 1000) && $.user.id = "u-2" }`, []int{5}},
		{`{ $.note IS NULL }`, []int{5}},
		{`{ $.note NOT EXISTS }`, []int{4}},
	}
	for _, tc := range tests {
		match, err := compileFilter(tc.pattern)
		if err != nil {
			t.Errorf("%q: %v", tc.pattern, err)
			continue
		}
		var got []int
		for i, m := range msgs {
			if match(m) {
				got = append(got, i)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%q matched %v, want %v", tc.pattern, got, tc.want)
		}
	}
	for _, bad := range []string{`{ $.level = }`, `{ $.level = "x"`, `"open`, `[ip, user]`, `{ level = "x" }`, `{ $.a > "x" }`, "%(%"} {
		if _, err := compileFilter(bad); err == nil {
			t.Errorf("%q compiled", bad)
		}
	}
}

// logsCall posts one Logs API request and decodes the answer.
func logsCall(t *testing.T, url, op string, in any, out any) (int, string) {
	t.Helper()
	b, _ := json.Marshal(in)
	req, _ := http.NewRequest("POST", url+"/", strings.NewReader(string(b)))
	req.Header.Set("X-Amz-Target", "Logs_20140328."+op)
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var raw json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&raw); err != nil {
		t.Fatalf("%s: decode: %v", op, err)
	}
	if resp.StatusCode != 200 {
		var e struct {
			Type string `json:"__type"`
		}
		_ = json.Unmarshal(raw, &e)
		if e.Type == "" || resp.Header.Get("X-Amzn-ErrorType") != e.Type {
			t.Errorf("%s: error %s without its __type and header", op, raw)
		}
		return resp.StatusCode, e.Type
	}
	if out != nil {
		reflect.ValueOf(out).Elem().SetZero() // fields the answer omits are not left from an earlier one
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s: %v in %s", op, err, raw)
		}
	}
	return 200, ""
}

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type filterOut struct {
	Events []struct {
		LogStreamName string
		Timestamp     int64
		Message       string
		EventID       string `json:"eventId"`
	} `json:"events"`
	NextToken string `json:"nextToken"`
}

func TestLogsAPI(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)}
	book := NewLogbook(0, withLogClock(clock.Now), WithLogRetention(time.Hour), WithLogMaxEvents(1000))
	ts := httptest.NewServer(New(Config{Store: store.NewMemory(), Logbook: book}))
	defer ts.Close()
	fn := &engine.Function{AccountID: "000000000000", Region: "us-east-1", Name: "echo", ARN: "arn:aws:lambda:us-east-1:000000000000:function:echo"}
	custom := &engine.Function{AccountID: "000000000000", Region: "us-east-1", Name: "other", LogGroup: "/custom/group"}
	a, b := "2026/12/03/[$LATEST]aaaa", "2026/12/03/[$LATEST]bbbb"
	for i := range 5 {
		book.LogLine(fn, a, fmt.Appendf(nil, "a line %d\n", i))
		clock.Add(time.Millisecond)
		book.LogLine(fn, b, fmt.Appendf(nil, "b line %d", i))
		clock.Add(time.Millisecond)
	}
	book.LogLine(custom, "2026/12/03/[1]cccc", []byte(`{"level":"ERROR"}`))
	book.LogLine(&engine.Function{AccountID: "222222222222", Region: "us-east-1", Name: "elsewhere"}, "s", []byte("x"))

	var groups struct {
		LogGroups []struct {
			LogGroupName string
			Arn          string
		}
		NextToken string
	}
	logsCall(t, ts.URL, "DescribeLogGroups", map[string]any{}, &groups)
	if len(groups.LogGroups) != 2 || groups.LogGroups[0].LogGroupName != "/aws/lambda/echo" || groups.LogGroups[1].LogGroupName != "/custom/group" ||
		groups.LogGroups[0].Arn != "arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/echo:*" {
		t.Errorf("groups %+v", groups)
	}
	logsCall(t, ts.URL, "DescribeLogGroups", map[string]any{"limit": 1}, &groups)
	if len(groups.LogGroups) != 1 || groups.NextToken == "" {
		t.Fatalf("first page %+v", groups)
	}
	logsCall(t, ts.URL, "DescribeLogGroups", map[string]any{"limit": 1, "nextToken": groups.NextToken}, &groups)
	if len(groups.LogGroups) != 1 || groups.LogGroups[0].LogGroupName != "/custom/group" || groups.NextToken != "" {
		t.Errorf("second page %+v", groups)
	}
	logsCall(t, ts.URL, "DescribeLogGroups", map[string]any{"logGroupNamePrefix": "/aws/"}, &groups)
	if len(groups.LogGroups) != 1 {
		t.Errorf("prefix: %+v", groups)
	}

	var streams struct {
		LogStreams []struct {
			LogStreamName      string
			LastEventTimestamp int64
		}
	}
	logsCall(t, ts.URL, "DescribeLogStreams", map[string]any{"logGroupName": "/aws/lambda/echo", "orderBy": "LastEventTime", "descending": true}, &streams)
	if len(streams.LogStreams) != 2 || streams.LogStreams[0].LogStreamName != b {
		t.Errorf("streams %+v", streams)
	}

	var events struct {
		Events []struct {
			Message   string
			Timestamp int64
		}
		NextForwardToken, NextBackwardToken string
	}
	// The tail of a stream by default, its head when asked, paged by tokens.
	logsCall(t, ts.URL, "GetLogEvents", map[string]any{"logGroupName": "/aws/lambda/echo", "logStreamName": a, "limit": 2}, &events)
	if len(events.Events) != 2 || events.Events[1].Message != "a line 4" {
		t.Errorf("tail %+v", events)
	}
	logsCall(t, ts.URL, "GetLogEvents", map[string]any{"logGroupName": "/aws/lambda/echo", "logStreamName": a, "limit": 2, "startFromHead": true}, &events)
	if len(events.Events) != 2 || events.Events[0].Message != "a line 0" {
		t.Fatalf("head %+v", events)
	}
	var seen []string
	for tok := events.NextForwardToken; ; {
		var page = events
		logsCall(t, ts.URL, "GetLogEvents", map[string]any{"logGroupName": "/aws/lambda/echo", "logStreamName": a, "limit": 2, "nextToken": tok}, &page)
		for _, e := range page.Events {
			seen = append(seen, e.Message)
		}
		if page.NextForwardToken == tok {
			break
		}
		tok = page.NextForwardToken
	}
	if fmt.Sprint(seen) != "[a line 2 a line 3 a line 4]" {
		t.Errorf("paged forward: %q", seen)
	}

	// FilterLogEvents interleaves the streams in time order and pages.
	var f filterOut
	logsCall(t, ts.URL, "FilterLogEvents", map[string]any{"logGroupName": "/aws/lambda/echo", "filterPattern": "line -3", "limit": 4}, &f)
	if len(f.Events) != 4 || f.Events[0].Message != "a line 0" || f.Events[1].Message != "b line 0" || f.NextToken == "" {
		t.Fatalf("filter page 1 %+v", f)
	}
	first := f.Events[0]
	logsCall(t, ts.URL, "FilterLogEvents", map[string]any{"logGroupName": "/aws/lambda/echo", "filterPattern": "line -3", "limit": 4, "nextToken": f.NextToken}, &f)
	if len(f.Events) != 4 || f.Events[3].Message != "b line 4" || f.NextToken != "" {
		t.Errorf("filter page 2 %+v", f)
	}
	logsCall(t, ts.URL, "FilterLogEvents", map[string]any{"logGroupName": "/aws/lambda/echo", "logStreamNames": []string{b}, "startTime": first.Timestamp + 4}, &f)
	if len(f.Events) != 3 || f.Events[0].Message != "b line 2" || f.Events[0].LogStreamName != b || len(f.Events[0].EventID) != 56 {
		t.Errorf("by stream and start time %+v", f)
	}
	logsCall(t, ts.URL, "FilterLogEvents", map[string]any{"logGroupIdentifier": "arn:aws:logs:us-east-1:000000000000:log-group:/custom/group:*", "filterPattern": `{ $.level = "ERROR" }`}, &f)
	if len(f.Events) != 1 {
		t.Errorf("JSON selector on a custom group %+v", f)
	}

	for _, c := range []struct {
		op   string
		in   map[string]any
		want string
	}{
		{"FilterLogEvents", map[string]any{"logGroupName": "/aws/lambda/nope"}, "ResourceNotFoundException"},
		{"GetLogEvents", map[string]any{"logGroupName": "/aws/lambda/echo", "logStreamName": "nope"}, "ResourceNotFoundException"},
		{"DescribeLogStreams", map[string]any{"logGroupName": "/aws/lambda/elsewhere"}, "ResourceNotFoundException"}, // another account's
		{"FilterLogEvents", map[string]any{"logGroupName": "/aws/lambda/echo", "nextToken": "garbage!"}, "InvalidParameterException"},
		{"FilterLogEvents", map[string]any{"logGroupName": "/aws/lambda/echo", "filterPattern": "{ $.x = }"}, "InvalidParameterException"},
		{"FilterLogEvents", map[string]any{}, "InvalidParameterException"},
		{"FilterLogEvents", map[string]any{"logGroupName": "/aws/lambda/echo", "limit": 0}, "InvalidParameterException"},
		{"DescribeLogStreams", map[string]any{"logGroupName": "/aws/lambda/echo", "orderBy": "LastEventTime", "logStreamNamePrefix": "2026"}, "InvalidParameterException"},
		{"PutLogEvents", map[string]any{}, "InvalidOperationException"},
	} {
		if code, typ := logsCall(t, ts.URL, c.op, c.in, nil); code != 400 || typ != c.want {
			t.Errorf("%s %v: %d %s, want 400 %s", c.op, c.in, code, typ, c.want)
		}
	}

	// Retention: an hour later only what came since is left.
	clock.Add(time.Hour)
	book.LogLine(fn, b, []byte("late"))
	logsCall(t, ts.URL, "FilterLogEvents", map[string]any{"logGroupName": "/aws/lambda/echo"}, &f)
	if len(f.Events) != 1 || f.Events[0].Message != "late" {
		t.Errorf("after retention %+v", f)
	}
	logsCall(t, ts.URL, "DescribeLogStreams", map[string]any{"logGroupName": "/aws/lambda/echo"}, &streams)
	if len(streams.LogStreams) != 1 {
		t.Errorf("expired stream still listed: %+v", streams)
	}
}

func TestLogsMaxEvents(t *testing.T) {
	book := NewLogbook(0, WithLogMaxEvents(3))
	fn := &engine.Function{AccountID: "0", Region: "r", Name: "f"}
	for i := range 5 {
		book.LogLine(fn, fmt.Sprintf("s%d", i%2), fmt.Appendf(nil, "%d", i))
	}
	g := book.groups[groupKey{"0", "r", "/aws/lambda/f"}]
	var got []string
	for _, name := range []string{"s0", "s1"} {
		for _, e := range g.streams[name].events {
			got = append(got, e.msg)
		}
	}
	if g.events != 3 || fmt.Sprint(got) != "[2 4 3]" {
		t.Errorf("kept %d events %v, want the newest 3", g.events, got)
	}
}
