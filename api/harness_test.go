package api

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lambhq/lamb/internal/testenv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/lambhq/lamb/store"
)

// testAccount is the account id of the snapshot recordings; an access key id
// of 12 digits selects it.
const testAccount = "111111111111"

type harness struct {
	t      *testing.T
	srv    *Server
	ts     *httptest.Server
	rec    *recorder
	client *lambda.Client
}

// newHarness runs api.New on an in-memory store behind an httptest server and
// returns a real aws-sdk-go-v2 client pointed at it.
func newHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	if cfg.Store == nil {
		cfg.Store = store.NewMemory()
	}
	srv := New(cfg)
	ts := httptest.NewServer(srv)
	rec := &recorder{next: ts.Client().Transport}
	h := &harness{t: t, srv: srv, ts: ts, rec: rec}
	h.client = h.clientFor(testAccount, "us-east-1")
	t.Cleanup(func() {
		ts.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return h
}

// clientFor returns an SDK client signing as account (the access key id) in region.
func (h *harness) clientFor(account, region string) *lambda.Client {
	return lambda.New(lambda.Options{
		Region:           region,
		BaseEndpoint:     aws.String(h.ts.URL),
		Credentials:      credentials.NewStaticCredentialsProvider(account, "secret", ""),
		HTTPClient:       &http.Client{Transport: h.rec},
		RetryMaxAttempts: 1,
	})
}

// recorder keeps the last raw response, so tests compare exactly what the
// server sent with the snapshot while driving it with the real SDK.
type recorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	last recorded
}

type recorded struct {
	status int
	header http.Header
	body   []byte
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	r.mu.Lock()
	r.last = recorded{status: resp.StatusCode, header: resp.Header.Clone(), body: body}
	r.mu.Unlock()
	return resp, nil
}

func (r *recorder) lastResponse() recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last
}

// boto3View renders a raw response as boto3 shows it (and as the snapshot
// records it): the JSON body plus ResponseMetadata.HTTPStatusCode; for errors
// also Error.Code (from X-Amzn-ErrorType) and Error.Message.
func (rr recorded) boto3View(t *testing.T) map[string]any {
	t.Helper()
	out := map[string]any{}
	if len(bytes.TrimSpace(rr.body)) > 0 {
		if err := json.Unmarshal(rr.body, &out); err != nil {
			t.Fatalf("response body is not JSON: %v: %s", err, rr.body)
		}
	}
	if code := rr.header.Get("X-Amzn-ErrorType"); code != "" && rr.status >= 300 {
		msg, ok := out["message"]
		if !ok {
			msg = out["Message"]
		}
		if _, modelled := errorShapes[code]; !modelled {
			// boto3 copies body members to the top level only for modelled errors.
			out = map[string]any{}
		}
		out["Error"] = map[string]any{"Code": code, "Message": msg}
	}
	if rr.status == http.StatusNoContent && len(out) == 0 {
		out = map[string]any{}
	}
	out["ResponseMetadata"] = map[string]any{"HTTPStatusCode": float64(rr.status)}
	return out
}

// zipOf builds a zip holding files (name -> content).
func zipOf(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, content := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, content); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func handlerZip(t *testing.T, body string) []byte {
	return zipOf(t, map[string]string{"handler.py": "def handler(event, context):\n    return " + body + "\n"})
}

// snapshot is the recorded labels of one test id.
type snapshot struct {
	id       string // Class::test
	labels   map[string]any
	recorded time.Time // when AWS answered (the recording's recorded-date)
}

// clock returns a Config.Now stopped at the recording's date, so a test
// meets AWS's runtime dates as AWS did then.
func (s snapshot) clock() func() time.Time {
	return func() time.Time { return s.recorded }
}

// loadSnapshot returns the recorded labels of one test id, or skips (fails
// under CI=true) when the snapshot file is absent.
func loadSnapshot(t *testing.T, testID string) snapshot {
	t.Helper()
	entry, ok := loadSnapshotFile(t)["tests/aws/services/lambda_/test_lambda_api.py::"+testID]
	if !ok {
		t.Fatalf("no snapshot for %s", testID)
	}
	// LocalStack's recorder writes day-month-year in its local time; read
	// as UTC, hours off at most against runtime dates months apart.
	recorded, err := time.Parse("02-01-2006, 15:04:05", entry.Date)
	if err != nil {
		t.Fatalf("snapshot %s: recorded-date: %v", testID, err)
	}
	return snapshot{id: testID, labels: entry.Recorded, recorded: recorded}
}

// snapshotEntry is one test id's recording.
type snapshotEntry struct {
	Recorded map[string]any `json:"recorded-content"`
	Date     string         `json:"recorded-date"`
}

// loadSnapshotFile returns the recordings by the snapshot file's keys
// (path::Class::test), or skips (fails under CI=true) when it is absent.
func loadSnapshotFile(t *testing.T) map[string]snapshotEntry {
	t.Helper()
	raw, err := os.ReadFile("../../shared/aws-snapshots/lambda_api.snapshot.json")
	testenv.Need(t, "the AWS snapshots (../shared/aws-snapshots)", err == nil)
	var all map[string]snapshotEntry
	if err := json.Unmarshal(raw, &all); err != nil {
		t.Fatal(err)
	}
	return all
}

// raw sends an HTTP request as an unsigned client would (no Authorization),
// or signed-looking when auth is set, and returns the raw response.
func (h *harness) raw(method, path, body string, header map[string]string) recorded {
	h.t.Helper()
	req, err := http.NewRequest(method, h.ts.URL+path, strings.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := h.ts.Client().Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return recorded{status: resp.StatusCode, header: resp.Header, body: b}
}

// sigv4 returns an Authorization header with the credential scope of account
// and region (lamb does not verify signatures).
func sigv4(account, region string) map[string]string {
	return map[string]string{"Authorization": "AWS4-HMAC-SHA256 Credential=" + account + "/20260101/" + region + "/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000"}
}

// rawRecorded is raw, remembered as the last response like SDK calls are.
func (h *harness) rawRecorded(method, path, body string, header map[string]string) recorded {
	h.t.Helper()
	rr := h.raw(method, path, body, header)
	h.rec.mu.Lock()
	h.rec.last = rr
	h.rec.mu.Unlock()
	return rr
}
