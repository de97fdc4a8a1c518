package api

import (
	"container/heap"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lambhq/lamb/store"
)

type countingObserver struct {
	mu   sync.Mutex
	seen []string
}

func (o *countingObserver) APIRequest(api, op string, code int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.seen = append(o.seen, fmt.Sprintf("%s %s %d", api, op, code))
}

func TestMetricsEndpointGuardAndCredentials(t *testing.T) {
	metrics := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "lamb_up 1") })
	open := New(Config{Store: store.NewMemory(), Metrics: metrics})
	guarded := New(Config{Store: store.NewMemory(), Metrics: metrics, Credentials: map[string]string{"AKID": "SECRET"}})
	tests := []struct {
		name    string
		srv     *Server
		headers map[string]string
		want    int
	}{
		{"a scraper on loopback", open, nil, 200},
		{"a rebinding page's Host", open, map[string]string{"Host": "evil.example"}, 403},
		{"another site's page", open, map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
		{"with credentials, none given", guarded, nil, 403},
		{"with credentials, a wrong bearer", guarded, map[string]string{"Authorization": "Bearer AKID:nope"}, 403},
		{"with credentials, a page of another site", guarded, map[string]string{"Authorization": "Bearer AKID:SECRET", "Sec-Fetch-Site": "cross-site"}, 403},
		{"with credentials, the bearer", guarded, map[string]string{"Authorization": "Bearer AKID:SECRET"}, 200},
		{"a POST", open, map[string]string{"Method": "POST"}, 405},
	}
	for _, tc := range tests {
		method := "GET"
		if m := tc.headers["Method"]; m != "" {
			method = m
		}
		req := httptest.NewRequest(method, "http://127.0.0.1:3001/metrics", nil)
		for k, v := range tc.headers {
			switch k {
			case "Host":
				req.Host = v
			case "Method":
			default:
				req.Header.Set(k, v)
			}
		}
		rec := httptest.NewRecorder()
		tc.srv.ServeHTTP(rec, req)
		if rec.Code != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.name, rec.Code, rec.Body, tc.want)
		}
		if tc.want == 200 && rec.Body.String() != "lamb_up 1\n" {
			t.Errorf("%s: body %q", tc.name, rec.Body)
		}
	}
}

func TestMetricsObserveAPIRequests(t *testing.T) {
	obs := &countingObserver{}
	ts := httptest.NewServer(New(Config{Store: store.NewMemory(), Observer: obs, Logbook: NewLogbook(0)}))
	defer ts.Close()
	for _, r := range []struct{ method, path, target string }{
		{"GET", "/2015-03-31/functions/", ""},
		{"GET", "/2015-03-31/functions/nope", ""},
		{"GET", "/no/such/path", ""},
		{"POST", "/", "Logs_20140328.DescribeLogGroups"},
	} {
		req, _ := http.NewRequest(r.method, ts.URL+r.path, strings.NewReader("{}"))
		if r.target != "" {
			req.Header.Set("X-Amz-Target", r.target)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	want := "[lambda ListFunctions 200 lambda GetFunction 404 lambda Unknown 404 logs DescribeLogGroups 200]"
	if fmt.Sprint(obs.seen) != want {
		t.Errorf("observed %v, want %v", obs.seen, want)
	}
}

func TestAsyncQueueStats(t *testing.T) {
	s := New(Config{Store: store.NewMemory()})
	if n, b, oldest := s.AsyncQueueStats(); n != 0 || b != 0 || !oldest.IsZero() {
		t.Fatalf("empty queue: %d %d %v", n, b, oldest)
	}
	t0 := time.Date(2026, 12, 3, 10, 0, 0, 123456789, time.UTC)
	q := &s.async
	q.mu.Lock()
	for i, at := range []time.Time{t0.Add(time.Minute), t0, t0.Add(2 * time.Minute)} {
		heap.Push(&q.ready, &asyncItem{key: asyncEventKey("000000000000", "us-east-1", at, fmt.Sprint("req-", i)), size: 10, next: at})
		q.count++
		q.bytes += 10
	}
	q.mu.Unlock()
	n, b, oldest := s.AsyncQueueStats()
	if n != 3 || b != 30 || !oldest.Equal(t0) {
		t.Errorf("stats %d %d %v, want 3 30 %v", n, b, oldest, t0)
	}
}

func TestConsoleRoute(t *testing.T) {
	ui := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ui "+r.URL.Path) })
	// The console's assets need no credentials (the page's API calls do),
	// but a web page of another site still may not read them.
	srv := New(Config{Store: store.NewMemory(), Console: ui, Credentials: map[string]string{"AKID": "SECRET"}})
	for _, tc := range []struct {
		path, fetchSite string
		code            int
		body            string
	}{
		{"/_lamb/ui/", "", 200, "ui /_lamb/ui/"},
		{"/_lamb/ui/app.js", "same-origin", 200, "ui /_lamb/ui/app.js"},
		{"/_lamb/ui", "", 301, ""},
		{"/_lamb/ui/", "cross-site", 403, ""},
		{"/_lamb/instances", "", 403, ""}, // the data behind it wants credentials
	} {
		req := httptest.NewRequest("GET", "http://127.0.0.1:3001"+tc.path, nil)
		if tc.fetchSite != "" {
			req.Header.Set("Sec-Fetch-Site", tc.fetchSite)
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code != tc.code || (tc.body != "" && rec.Body.String() != tc.body) {
			t.Errorf("%s (%s): %d %q, want %d %q", tc.path, tc.fetchSite, rec.Code, rec.Body, tc.code, tc.body)
		}
	}
}
