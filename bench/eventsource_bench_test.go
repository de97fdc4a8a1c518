package bench

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/lambhq/lamb/eventsource"
)

// BenchmarkSQSEventSource measures SQS → lamb → a function that does
// nothing but note each record (python, ~0 ms), against moto's server:
//
//   - msgs/s: a pre-filled queue of sqsBenchN messages drained by a mapping
//     at BatchSize 10 and MaximumConcurrency 5, against the baseline of a
//     plain SDK consumer (5 goroutines receiving 10 and deleting them) on an
//     equal queue of the same server: the ratio lamb/baseline is the share
//     of what the endpoint allows that lamb reaches.
//   - latency: one message at a time, from just before SendMessage to the
//     handler's start (its clock, the same machine's), p50 and p99, and the
//     p50 as a multiple of the poll interval (the receive's long poll,
//     eventsource.DefaultPollWait; goal ≤ 1.5).
//
// It needs python3 with moto[server]; it starts its own moto and lamb.
func BenchmarkSQSEventSource(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	lambBin, err := binary(ctx, "LAMB_BENCH_LAMB", filepath.Join(dir, "lamb"), nil,
		"go", "build", "-o", filepath.Join(dir, "lamb"), "github.com/lambhq/lamb/cmd/lamb")
	if err != nil {
		b.Fatal(err)
	}
	motoAddr, err := freeAddr()
	if err != nil {
		b.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(motoAddr)
	moto, err := startProc(filepath.Join(dir, "moto.log"), dir, nil, "python3", "-m", "moto.server", "-H", "127.0.0.1", "-p", port)
	if err != nil {
		b.Fatal(err)
	}
	defer moto.stop()
	if err := moto.waitReady(ctx, func() bool { return canDial(motoAddr) }); err != nil {
		b.Fatalf("moto: %v", err)
	}
	motoURL := "http://" + motoAddr
	addr, err := freeAddr()
	if err != nil {
		b.Fatal(err)
	}
	lamb, err := startProc(filepath.Join(dir, "lamb.log"), dir,
		[]string{"AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing", "AWS_EC2_METADATA_DISABLED=true"},
		lambBin, "serve", "--ephemeral", "--backend", "process", "--addr", addr, "--event-source-endpoint", motoURL)
	if err != nil {
		b.Fatal(err)
	}
	defer lamb.stop()
	h := &harness{lambURL: "http://" + addr, httpc: newBenchHTTP()}
	if err := lamb.waitReady(ctx, func() bool { return httpOK(h.httpc, h.lambURL+"/_lamb/health") }); err != nil {
		b.Fatalf("lamb: %v", err)
	}
	lc := h.newSDK()
	q := sqs.New(sqs.Options{Region: "us-east-1", BaseEndpoint: aws.String(motoURL),
		Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", "")})

	for b.Loop() {
		tput, base := sqsThroughput(ctx, b, lc, q, dir)
		lat := sqsLatency(ctx, b, lc, q, dir)
		b.ReportMetric(tput, "lamb-msgs/s")
		b.ReportMetric(base, "baseline-msgs/s")
		b.ReportMetric(ratio(tput, base), "lamb/baseline")
		b.ReportMetric(millis(lat.percentile(50)), "latency-p50-ms")
		b.ReportMetric(millis(lat.percentile(99)), "latency-p99-ms")
		b.ReportMetric(ratio(float64(lat.percentile(50)), float64(eventsource.DefaultPollWait)), "p50/poll-interval")
	}
}

const sqsBenchN = 300

// noterPy notes each record's body and the handler's start (unix ns).
const noterPy = `import os, time

def handler(event, context):
    start = time.time_ns()
    with open(os.environ["OUT"], "a") as f:
        f.write("".join("%s %d\n" % (r["body"], start) for r in event["Records"]))
    return {}
`

var benchSeq int

func benchFunction(ctx context.Context, b *testing.B, lc *lambda.Client, dir string) (name, out string) {
	b.Helper()
	benchSeq++
	name = fmt.Sprintf("sqs-bench-%d", benchSeq)
	out = filepath.Join(dir, name+".log")
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("handler.py")
	_, _ = w.Write([]byte(noterPy))
	_ = zw.Close()
	if _, err := lc.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String(name), Runtime: types.RuntimePython312,
		Role: aws.String("arn:aws:iam::123456789012:role/bench"), Handler: aws.String("handler.handler"),
		Code: &types.FunctionCode{ZipFile: buf.Bytes()}, Environment: &types.Environment{Variables: map[string]string{"OUT": out}}}); err != nil {
		b.Fatal(err)
	}
	if err := lambda.NewFunctionActiveV2Waiter(lc).Wait(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name)}, time.Minute); err != nil {
		b.Fatal(err)
	}
	return name, out
}

func benchQueue(ctx context.Context, b *testing.B, q *sqs.Client, name string) (url, arn string) {
	b.Helper()
	c, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name)})
	if err != nil {
		b.Fatal(err)
	}
	a, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: c.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		b.Fatal(err)
	}
	return aws.ToString(c.QueueUrl), a.Attributes["QueueArn"]
}

func fill(ctx context.Context, b *testing.B, q *sqs.Client, url string, n int) {
	b.Helper()
	for i := 0; i < n; i += 10 {
		in := &sqs.SendMessageBatchInput{QueueUrl: aws.String(url)}
		for j := i; j < min(i+10, n); j++ {
			in.Entries = append(in.Entries, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(j)), MessageBody: aws.String("m" + strconv.Itoa(j))})
		}
		if _, err := q.SendMessageBatch(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}

// noted reads the function's notes: body -> handler start.
func noted(path string) map[string]time.Time {
	out := map[string]time.Time{}
	f, err := os.Open(path)
	if err != nil {
		return out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		body, ns, ok := strings.Cut(sc.Text(), " ")
		if n, err := strconv.ParseInt(ns, 10, 64); ok && err == nil {
			if _, seen := out[body]; !seen {
				out[body] = time.Unix(0, n)
			}
		}
	}
	return out
}

func waitFor(b *testing.B, d time.Duration, what string, cond func() bool) {
	b.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			b.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func sqsThroughput(ctx context.Context, b *testing.B, lc *lambda.Client, q *sqs.Client, dir string) (lambRate, baseRate float64) {
	b.Helper()
	name, out := benchFunction(ctx, b, lc, dir)
	// Warm the function's instances, so that cold starts are not counted.
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			_, _ = lc.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(name), Payload: []byte(`{"Records":[{"body":"warm"}]}`)})
		})
	}
	wg.Wait()

	// The baseline first: moto slows down as it keeps more (deleted) messages.
	// moto answers concurrent receives slower than sequential ones: the
	// baseline is the better of 1 and 5 consumers.
	baseRate = max(consume(ctx, b, q, name+"-baseline1", 1), consume(ctx, b, q, name+"-baseline5", 5))

	url, arn := benchQueue(ctx, b, q, name)
	fill(ctx, b, q, url, sqsBenchN)
	start := time.Now()
	m, err := lc.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String(name), EventSourceArn: aws.String(arn),
		BatchSize: aws.Int32(10), ScalingConfig: &types.ScalingConfig{MaximumConcurrency: aws.Int32(5)}})
	if err != nil {
		b.Fatal(err)
	}
	waitFor(b, 5*time.Minute, "the mapping to drain the queue", func() bool { return len(noted(out)) >= sqsBenchN+1 })
	lambRate = float64(sqsBenchN) / time.Since(start).Seconds()
	if _, err := lc.DeleteEventSourceMapping(ctx, &lambda.DeleteEventSourceMappingInput{UUID: m.UUID}); err != nil {
		b.Fatal(err)
	}

	return lambRate, baseRate
}

// consume is the baseline: workers receiving 10 messages and deleting
// them from a queue of sqsBenchN, in messages/s.
func consume(ctx context.Context, b *testing.B, q *sqs.Client, queue string, workers int) float64 {
	b.Helper()
	url, _ := benchQueue(ctx, b, q, queue)
	fill(ctx, b, q, url, sqsBenchN)
	start := time.Now()
	var mu sync.Mutex
	var wg sync.WaitGroup
	got := 0
	for range workers {
		wg.Go(func() {
			for {
				mu.Lock()
				done := got >= sqsBenchN
				mu.Unlock()
				if done {
					return
				}
				r, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
				if err != nil || len(r.Messages) == 0 {
					continue
				}
				in := &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(url)}
				for i, msg := range r.Messages {
					in.Entries = append(in.Entries, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: msg.ReceiptHandle})
				}
				_, _ = q.DeleteMessageBatch(ctx, in)
				mu.Lock()
				got += len(r.Messages)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return float64(sqsBenchN) / time.Since(start).Seconds()
}

func sqsLatency(ctx context.Context, b *testing.B, lc *lambda.Client, q *sqs.Client, dir string) samples {
	b.Helper()
	name, out := benchFunction(ctx, b, lc, dir)
	url, arn := benchQueue(ctx, b, q, name)
	m, err := lc.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String(name), EventSourceArn: aws.String(arn), BatchSize: aws.Int32(10)})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _, _ = lc.DeleteEventSourceMapping(ctx, &lambda.DeleteEventSourceMappingInput{UUID: m.UUID}) }()
	// The first message pays the cold start; it is not sampled.
	var lat samples
	for i := range 21 {
		body := "lat" + strconv.Itoa(i)
		sent := time.Now()
		if _, err := q.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(body)}); err != nil {
			b.Fatal(err)
		}
		var started time.Time
		waitFor(b, time.Minute, "message "+body, func() bool {
			t, ok := noted(out)[body]
			started = t
			return ok
		})
		if i > 0 {
			lat = append(lat, started.Sub(sent))
		}
		// Let the pollers go back to an idle long poll.
		time.Sleep(300 * time.Millisecond)
	}
	return lat
}

func newBenchHTTP() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}, Timeout: 2 * time.Minute}
}
