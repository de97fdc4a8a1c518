package api

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

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
	for _, withCreds := range []bool{false, true} {
		cfg := Config{Store: store.NewMemory(), Metrics: metrics}
		if withCreds {
			cfg.Credentials = map[string]string{"AKID": "SECRET"}
		}
		ts := httptest.NewServer(New(cfg))
		get := func(h map[string]string) (int, string) {
			req, _ := http.NewRequest("GET", ts.URL+"/metrics", nil)
			for k, v := range h {
				if k == "Host" {
					req.Host = v
				} else {
					req.Header.Set(k, v)
				}
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var b strings.Builder
			_, _ = fmt.Fprint(&b, resp.Header.Get("X-Amzn-ErrorType"))
			return resp.StatusCode, b.String()
		}
		bearer := map[string]string{"Authorization": "Bearer AKID:SECRET"}
		cases := []struct {
			name    string
			headers map[string]string
			want    int
		}{
			{"a rebinding page's Host", map[string]string{"Host": "evil.example:80"}, 403},
			{"another site's page", map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
			{"a wrong bearer", map[string]string{"Authorization": "Bearer AKID:nope"}, 403},
		}
		if withCreds {
			cases = append(cases,
				struct {
					name    string
					headers map[string]string
					want    int
				}{"no credentials", nil, 403},
				struct {
					name    string
					headers map[string]string
					want    int
				}{"the bearer", bearer, 200})
		} else {
			cases = append(cases, struct {
				name    string
				headers map[string]string
				want    int
			}{"a scraper on loopback", nil, 200})
		}
		for _, c := range cases {
			if withCreds && c.name == "a rebinding page's Host" {
				continue // signed requests skip the Host check; unsigned ones fail authentication instead
			}
			if !withCreds && c.name == "a wrong bearer" {
				continue // without credentials there is nothing to check a bearer against
			}
			if code, typ := get(c.headers); code != c.want {
				t.Errorf("credentials %v, %s: %d %s, want %d", withCreds, c.name, code, typ, c.want)
			}
		}
		ts.Close()
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
