package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

const obsHandler = `import json

def handler(event, context):
    who = event.get("who", "nobody")
    if event.get("fail"):
        print(json.dumps({"level": "ERROR", "who": who}))
        raise ValueError("boom")
    print("hello " + who)
    return {"who": who}
`

// TestObservability is issue 18 as a user tries it: invocations show on
// /metrics with the right counts and histograms, `aws logs tail --follow`
// prints new lines as the function is invoked, and boto3's
// filter_log_events finds lines by filter patterns. lamb runs with
// --credentials: the Logs API wants SigV4 (service logs), /metrics a bearer.
func TestObservability(t *testing.T) {
	const key, secret = "123456789012", "obs-secret"
	s := startLamb(t, "", "--credentials", key+":"+secret)
	ctx := ctxT(t)
	c := lambda.New(lambda.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.URL),
		Credentials: credentials.NewStaticCredentialsProvider(key, secret, ""), RetryMaxAttempts: 1})
	createActive(ctx, t, c, &lambda.CreateFunctionInput{
		FunctionName: aws.String("obs"), Runtime: types.RuntimePython312, Role: aws.String(role),
		Handler: aws.String("app.handler"), Code: &types.FunctionCode{ZipFile: zipOf(t, map[string]string{"app.py": obsHandler})},
	}, 30*time.Second)
	invoke := func(payload string) *lambda.InvokeOutput {
		t.Helper()
		out, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("obs"), Payload: []byte(payload)})
		if err != nil {
			t.Fatalf("invoke %s: %v", payload, err)
		}
		return out
	}
	for _, who := range []string{"one", "two", "three"} {
		if out := invoke(`{"who":"` + who + `"}`); out.FunctionError != nil {
			t.Fatalf("invoke %s: %s %s", who, aws.ToString(out.FunctionError), out.Payload)
		}
	}
	if out := invoke(`{"who":"failing","fail":true}`); aws.ToString(out.FunctionError) != "Unhandled" {
		t.Fatalf("failing invoke: %+v", out)
	}
	// A throttle: reserved concurrency 0 refuses every invocation.
	if _, err := c.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String("obs"), ReservedConcurrentExecutions: aws.Int32(0)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("obs")}); err == nil || !strings.Contains(err.Error(), "TooManyRequests") {
		t.Fatalf("invoke over reserved concurrency 0: %v, want a throttle", err)
	}
	if _, err := c.DeleteFunctionConcurrency(ctx, &lambda.DeleteFunctionConcurrencyInput{FunctionName: aws.String("obs")}); err != nil {
		t.Fatal(err)
	}

	t.Run("metrics", func(t *testing.T) {
		if code := scrapeStatus(t, s.URL, ""); code != http.StatusForbidden {
			t.Errorf("/metrics without credentials: %d, want 403", code)
		}
		fams := scrapeMetrics(t, s.URL, key+":"+secret)
		fn := map[string]string{"function": "obs", "version": "$LATEST"}
		with := func(extra map[string]string) map[string]string {
			l := map[string]string{}
			for k, v := range fn {
				l[k] = v
			}
			for k, v := range extra {
				l[k] = v
			}
			return l
		}
		for _, c := range []struct {
			name   string
			labels map[string]string
			want   float64
		}{
			{"lamb_invocations_total", with(map[string]string{"result": "success"}), 3},
			{"lamb_invocations_total", with(map[string]string{"result": "error"}), 1},
			{"lamb_invocations_total", with(map[string]string{"result": "throttled"}), 1},
			{"lamb_cold_starts_total", fn, 1},
			{"lamb_invocation_duration_seconds", fn, 4}, // histogram: its count
			{"lamb_init_duration_seconds", fn, 1},
			{"lamb_api_requests_total", map[string]string{"api": "lambda", "operation": "Invoke", "code": "200"}, 4},
			{"lamb_api_requests_total", map[string]string{"api": "lambda", "operation": "Invoke", "code": "429"}, 1},
			{"lamb_instances", with(map[string]string{"state": "idle", "backend": "process"}), 1},
			{"lamb_async_queue_events", nil, 0},
			{"lamb_build_info", map[string]string{"backend": "process"}, 1},
		} {
			got, ok := metricValue(fams, c.name, c.labels)
			if !ok || got != c.want {
				t.Errorf("%s%v = %v (found %v), want %v", c.name, c.labels, got, ok, c.want)
			}
		}
		// Every duration is under a second: the le="1" bucket holds all four.
		if h := histogram(fams, "lamb_invocation_duration_seconds", fn); h == nil || bucket(h, 1) != 4 || h.GetSampleSum() <= 0 {
			t.Errorf("duration histogram %v", h)
		}
	})

	t.Run("aws logs tail --follow", func(t *testing.T) {
		bin := awsCLIBin(t)
		tctx, cancel := context.WithTimeout(ctx, 40*time.Second)
		defer cancel()
		cmd := exec.CommandContext(tctx, bin, "logs", "tail", "/aws/lambda/obs", "--follow", "--format", "short",
			"--endpoint-url", s.URL, "--region", "us-east-1")
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+key, "AWS_SECRET_ACCESS_KEY="+secret,
			"AWS_PAGER=", "AWS_EC2_METADATA_DISABLED=true", "PYTHONUNBUFFERED=1")
		ownProcessGroup(cmd)
		cmd.Cancel = func() error { return killGroup(cmd.Process.Pid) }
		var stderr syncBuffer
		cmd.Stderr = &stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string)
		go func() {
			defer close(lines)
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				lines <- sc.Text()
			}
		}()
		waitFor := func(want string) {
			t.Helper()
			for {
				select {
				case l, ok := <-lines:
					if !ok {
						t.Fatalf("aws logs tail ended before printing %q: %v\n%s", want, cmd.Wait(), stderr.String())
					}
					if strings.HasSuffix(l, want) {
						return
					}
				case <-tctx.Done():
					t.Fatalf("aws logs tail did not print %q in time\n%s", want, stderr.String())
				}
			}
		}
		waitFor("hello three") // the lines of the last 10 minutes first
		invoke(`{"who":"tailed"}`)
		waitFor("hello tailed") // then new ones, within its 5 s poll
		cancel()
		for range lines {
		}
		_ = cmd.Wait()
	})

	t.Run("aws logs filter-log-events", func(t *testing.T) {
		bin := awsCLIBin(t)
		cmd := exec.Command(bin, "logs", "filter-log-events", "--log-group-name", "/aws/lambda/obs",
			"--filter-pattern", "?boom ?tailed", "--endpoint-url", s.URL, "--region", "us-east-1", "--output", "json")
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+key, "AWS_SECRET_ACCESS_KEY="+secret, "AWS_PAGER=", "AWS_EC2_METADATA_DISABLED=true")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("aws logs filter-log-events: %v", err)
		}
		var res struct{ Events []struct{ Message string } }
		if err := json.Unmarshal(out, &res); err != nil {
			t.Fatal(err)
		}
		var msgs []string
		for _, e := range res.Events {
			msgs = append(msgs, e.Message)
		}
		if len(msgs) != 2 || !strings.Contains(msgs[0], "ValueError: boom") || !strings.HasSuffix(msgs[1], "hello tailed") {
			t.Errorf("events %q", msgs)
		}
	})

	t.Run("boto3 filter_log_events", func(t *testing.T) {
		py := pythonWithBoto3(t)
		cmd := exec.Command(py, filepath.Join("testdata", "boto3_logs.py"))
		cmd.Env = append(os.Environ(), "LAMB_ENDPOINT="+s.URL, "LAMB_FUNCTION=obs", "LAMB_MARK=tailed",
			"AWS_ACCESS_KEY_ID="+key, "AWS_SECRET_ACCESS_KEY="+secret, "AWS_EC2_METADATA_DISABLED=true")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("boto3_logs.py: %v\n%s", err, out)
		}
		t.Logf("boto3_logs.py:\n%s", out)
	})
}

func awsCLIBin(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("LAMB_TEST_AWSCLI")
	if bin == "" {
		bin = "/usr/bin/aws"
	}
	v, err := exec.Command(bin, "--version").Output()
	need(t, "the AWS CLI v2 (/usr/bin/aws, Debian package awscli)", err == nil && strings.HasPrefix(string(v), "aws-cli/2"))
	return bin
}

func scrapeStatus(t *testing.T, base, bearer string) int {
	t.Helper()
	resp := scrape(t, base, bearer)
	resp.Body.Close()
	return resp.StatusCode
}

func scrape(t *testing.T, base, bearer string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/metrics", nil)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func scrapeMetrics(t *testing.T, base, bearer string) map[string]*dto.MetricFamily {
	t.Helper()
	resp := scrape(t, base, bearer)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %d %s", resp.StatusCode, body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("parse /metrics: %v\n%s", err, body)
	}
	return fams
}

// find returns the metric of family name whose labels include labels.
func find(fams map[string]*dto.MetricFamily, name string, labels map[string]string) *dto.Metric {
	f := fams[name]
	if f == nil {
		return nil
	}
next:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range labels {
			if have[k] != v {
				continue next
			}
		}
		return m
	}
	return nil
}

// metricValue is a counter's or gauge's value, or a histogram's count.
func metricValue(fams map[string]*dto.MetricFamily, name string, labels map[string]string) (float64, bool) {
	m := find(fams, name, labels)
	switch {
	case m == nil:
		return 0, false
	case m.Counter != nil:
		return m.Counter.GetValue(), true
	case m.Gauge != nil:
		return m.Gauge.GetValue(), true
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount()), true
	}
	return 0, false
}

func histogram(fams map[string]*dto.MetricFamily, name string, labels map[string]string) *dto.Histogram {
	if m := find(fams, name, labels); m != nil {
		return m.Histogram
	}
	return nil
}

func bucket(h *dto.Histogram, le float64) uint64 {
	for _, b := range h.GetBucket() {
		if b.GetUpperBound() == le {
			return b.GetCumulativeCount()
		}
	}
	return 0
}

// TestConsole opens the web console in Debian's headless chromium, driven by
// playwright-core (testdata/console, npm install there): the function is
// listed, an invocation from the page shows its answer and log, the live
// tail updates. LAMB_SCREENSHOT=path saves a screenshot.
func TestConsole(t *testing.T) {
	_, err := exec.LookPath("node")
	need(t, "node", err == nil)
	chromium := os.Getenv("LAMB_TEST_CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	_, err = os.Stat(chromium)
	need(t, "chromium (Debian package chromium)", err == nil)
	dir := filepath.Join("testdata", "console")
	_, err = os.Stat(filepath.Join(dir, "node_modules", "playwright-core"))
	need(t, "playwright-core (npm install in test/e2e/testdata/console)", err == nil)

	// Unsigned, the page's requests are in --account-id's account.
	for _, tc := range []struct {
		name, creds string
		logFormat   types.LogFormat
	}{
		{"unsigned", "", ""},
		// With --credentials the page signs the API's requests (SigV4, in
		// the browser) and sends /_lamb/'s a bearer.
		{"credentials", "123456789012:console-secret", ""},
		// With JSON logs the page reads durations from platform.report.
		{"json logs", "", types.LogFormatJson},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"--account-id", "123456789012"}
			secret := "secret"
			if tc.creds != "" {
				args = append(args, "--credentials", tc.creds)
				secret = strings.SplitN(tc.creds, ":", 2)[1]
			}
			s := startLamb(t, "", args...)
			ctx := ctxT(t)
			c := lambda.New(lambda.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.URL),
				Credentials: credentials.NewStaticCredentialsProvider("123456789012", secret, ""), RetryMaxAttempts: 1})
			in := &lambda.CreateFunctionInput{
				FunctionName: aws.String("console-fn"), Runtime: types.RuntimePython312, Role: aws.String(role),
				Handler: aws.String("app.handler"), Code: &types.FunctionCode{ZipFile: zipOf(t, map[string]string{"app.py": obsHandler})},
			}
			if tc.logFormat != "" {
				in.LoggingConfig = &types.LoggingConfig{LogFormat: tc.logFormat}
			}
			createActive(ctx, t, c, in, 30*time.Second)
			cmd := exec.CommandContext(ctx, "node", "console.mjs")
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "LAMB_ENDPOINT="+s.URL, "LAMB_FUNCTION=console-fn", "CHROMIUM="+chromium,
				"LAMB_CREDENTIALS="+tc.creds)
			if p := os.Getenv("LAMB_SCREENSHOT"); p != "" && tc.creds == "" {
				abs, _ := filepath.Abs(p)
				cmd.Env = append(cmd.Env, "SCREENSHOT="+abs)
			}
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("console.mjs: %v\n%s", err, out)
			}
			t.Logf("%s", out)
		})
	}
}
