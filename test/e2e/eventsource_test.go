package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lambhq/lamb/internal/testwait"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kinesistypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Event source mappings polled against moto's server (python3 -m
// moto.server), started by the fixture; lamb is started with
// --event-source-endpoint pointing at it.

// startMoto runs moto's server on a free port and returns its URL.
func startMoto(t *testing.T) string {
	t.Helper()
	err := exec.Command("python3", "-c", "import moto.server, flask").Run()
	need(t, "moto's server (pip install 'moto[server]')", err == nil)
	addr := freeAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command("python3", "-m", "moto.server", "-H", "127.0.0.1", "-p", port)
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	ownProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = killGroup(cmd.Process.Pid)
		<-done
		if t.Failed() {
			t.Logf("moto output (tail):\n%s", tail(logs.String(), 3000))
		}
	})
	testwait.Within(t, 30*time.Second, "moto's server to listen", func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return true
		}
		return false
	})
	return "http://" + addr
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// motoEnv is the AWS chain lamb's pollers read: moto takes any key.
var motoEnv = []string{"AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing", "AWS_EC2_METADATA_DISABLED=true",
	"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null"}

func sqsClient(endpoint string) *sqs.Client {
	return sqs.New(sqs.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", "")})
}

// recorder is a python function that appends one line per record it gets
// (its body, or its data/keys for streams) to OUT, and reports as failed
// every SQS record whose body starts with "fail".
const recorderPy = `import base64, json, os

def handler(event, context):
    lines, failures = [], []
    for r in event["Records"]:
        if "body" in r:
            if os.environ.get("WITH_RECEIVE_COUNT"):
                lines.append(r["body"] + " " + r["attributes"]["ApproximateReceiveCount"])
            else:
                lines.append(r["body"])
            if r["body"].startswith("fail"):
                failures.append({"itemIdentifier": r["messageId"]})
        elif "kinesis" in r:
            if b"poison" in base64.b64decode(r["kinesis"]["data"]):
                raise Exception("poisoned record")
            lines.append(r["kinesis"]["partitionKey"] + " " + base64.b64decode(r["kinesis"]["data"]).decode())
        else:
            d = r["dynamodb"]
            lines.append(r["eventName"] + " " + d["Keys"]["pk"]["S"] + " " + d.get("NewImage", {}).get("n", {}).get("N", "-"))
    with open(os.environ["OUT"], "a") as f:
        f.write("".join(l + "\n" for l in lines))
    return {"batchItemFailures": failures}
`

// createRecorder creates the recorder function name writing to a new file,
// whose path it returns.
func createRecorder(ctx context.Context, t *testing.T, c *lambda.Client, name string, env ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), name+".log")
	vars := map[string]string{"OUT": out}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	createActive(ctx, t, c, &lambda.CreateFunctionInput{
		FunctionName: aws.String(name), Runtime: types.RuntimePython312, Role: aws.String(role),
		Handler: aws.String("handler.handler"), Code: &types.FunctionCode{ZipFile: zipOf(t, map[string]string{"handler.py": recorderPy})},
		Timeout: aws.Int32(10), Environment: &types.Environment{Variables: vars},
	}, 30*time.Second)
	return out
}

// lines reads the recorder's file.
func lines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

func counts(ls []string) map[string]int {
	m := map[string]int{}
	for _, l := range ls {
		m[l]++
	}
	return m
}

// createQueue creates a queue with attrs and returns its URL and ARN.
func createQueue(ctx context.Context, t *testing.T, q *sqs.Client, name string, attrs map[string]string) (string, string) {
	t.Helper()
	out, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		t.Fatal(err)
	}
	a, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: out.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.QueueUrl), a.Attributes["QueueArn"]
}

func sendAll(ctx context.Context, t *testing.T, q *sqs.Client, url string, bodies []string, group func(i int) string) {
	t.Helper()
	for i := 0; i < len(bodies); i += 10 {
		in := &sqs.SendMessageBatchInput{QueueUrl: aws.String(url)}
		for j := i; j < min(i+10, len(bodies)); j++ {
			e := sqstypes.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(j)), MessageBody: aws.String(bodies[j])}
			if group != nil {
				e.MessageGroupId = aws.String(group(j))
				e.MessageDeduplicationId = aws.String(strconv.Itoa(j))
			}
			in.Entries = append(in.Entries, e)
		}
		out, err := q.SendMessageBatch(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Failed) > 0 {
			t.Fatalf("SendMessageBatch: %d failed: %s", len(out.Failed), aws.ToString(out.Failed[0].Message))
		}
	}
}

func queueDepth(ctx context.Context, t *testing.T, q *sqs.Client, url string) (visible, inflight int) {
	t.Helper()
	a, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: []sqstypes.QueueAttributeName{
		sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
	if err != nil {
		t.Fatal(err)
	}
	visible, _ = strconv.Atoi(a.Attributes["ApproximateNumberOfMessages"])
	inflight, _ = strconv.Atoi(a.Attributes["ApproximateNumberOfMessagesNotVisible"])
	return visible, inflight
}

func createMapping(ctx context.Context, t *testing.T, c *lambda.Client, in *lambda.CreateEventSourceMappingInput) string {
	t.Helper()
	out, err := c.CreateEventSourceMapping(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.UUID)
}

// TestEventSourceSQS drives SQS mappings as a user would: lamb serve
// --event-source-endpoint at moto's server, queues and messages made with
// aws-sdk-go-v2.
func TestEventSourceSQS(t *testing.T) {
	moto := startMoto(t)
	s := startLambEnv(t, freeAddr(t), "", motoEnv, "--event-source-endpoint", moto)
	ctx := ctxT(t)
	c := s.client("us-east-1", "123456789012")
	q := sqsClient(moto)

	t.Run("Standard1000", func(t *testing.T) {
		out := createRecorder(ctx, t, c, "std")
		url, arn := createQueue(ctx, t, q, "std", nil)
		const n = 1000
		bodies := make([]string, n)
		for i := range bodies {
			bodies[i] = fmt.Sprintf("m-%04d", i)
		}
		createMapping(ctx, t, c, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("std"), EventSourceArn: aws.String(arn),
			BatchSize: aws.Int32(10), ScalingConfig: &types.ScalingConfig{MaximumConcurrency: aws.Int32(5)}})
		// Sent while the mapping polls: moto's receive slows down with the
		// queue's length (a 1000-message queue takes it seconds a call).
		start := time.Now()
		sendAll(ctx, t, q, url, bodies, nil)
		t.Logf("sent %d messages in %v", n, time.Since(start).Round(time.Millisecond))
		testwait.Within(t, 60*time.Second, "1000 messages to be processed", func() bool { return len(counts(lines(t, out))) == n })
		elapsed := time.Since(start)
		seen := counts(lines(t, out))
		dups := 0
		for _, b := range bodies {
			if seen[b] == 0 {
				t.Errorf("%s never processed", b)
			}
			dups += seen[b] - 1
		}
		t.Logf("%d messages processed in %v, %d duplicates", n, elapsed.Round(time.Millisecond), dups)
		testwait.Within(t, 10*time.Second, "the queue to be empty (processed messages deleted)", func() bool {
			v, f := queueDepth(ctx, t, q, url)
			return v == 0 && f == 0
		})
	})

	t.Run("ReportBatchItemFailuresToDLQ", func(t *testing.T) {
		// Each line carries the message's receive count: a retry is a
		// receive count above 1. (moto may hand one message to two
		// concurrent receives, both counting 1: a duplicate, not a retry.)
		out := createRecorder(ctx, t, c, "partial", "WITH_RECEIVE_COUNT=1")
		_, dlqArn := createQueue(ctx, t, q, "partial-dlq", nil)
		dlqURL, _ := createQueue(ctx, t, q, "partial-dlq", nil)
		// Warm, so that no cold start outlasts the visibility timeout.
		if _, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("partial"), Payload: []byte(`{"Records":[]}`)}); err != nil {
			t.Fatal(err)
		}
		url, arn := createQueue(ctx, t, q, "partial", map[string]string{"VisibilityTimeout": "3",
			"RedrivePolicy": `{"deadLetterTargetArn":"` + dlqArn + `","maxReceiveCount":"2"}`})
		var bodies []string
		for i := range 20 {
			if i%4 == 0 {
				bodies = append(bodies, fmt.Sprintf("fail-%02d", i))
			} else {
				bodies = append(bodies, fmt.Sprintf("ok-%02d", i))
			}
		}
		sendAll(ctx, t, q, url, bodies, nil)
		createMapping(ctx, t, c, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("partial"), EventSourceArn: aws.String(arn),
			BatchSize: aws.Int32(10), FunctionResponseTypes: []types.FunctionResponseType{types.FunctionResponseTypeReportBatchItemFailures}})
		var inDLQ []string
		testwait.Within(t, 30*time.Second, "the 5 failed messages to land in the DLQ", func() bool {
			r, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(dlqURL), MaxNumberOfMessages: 10})
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range r.Messages {
				inDLQ = append(inDLQ, aws.ToString(m.Body))
			}
			return len(inDLQ) >= 5
		})
		maxReceive := map[string]int{}
		for _, l := range lines(t, out) {
			b, rc, _ := strings.Cut(l, " ")
			n, _ := strconv.Atoi(rc)
			maxReceive[b] = max(maxReceive[b], n)
		}
		for _, b := range bodies {
			want := 1
			if strings.HasPrefix(b, "fail") {
				want = 2 // maxReceiveCount: received twice, then redriven
			}
			if maxReceive[b] != want {
				t.Errorf("%s last processed at receive %d, want %d", b, maxReceive[b], want)
			}
		}
		for _, b := range inDLQ {
			if !strings.HasPrefix(b, "fail") {
				t.Errorf("%s in the DLQ", b)
			}
		}
		if len(inDLQ) != 5 {
			t.Errorf("DLQ holds %v, want the 5 failed messages", inDLQ)
		}
	})

	t.Run("FIFOGroupsInOrder", func(t *testing.T) {
		out := createRecorder(ctx, t, c, "fifo")
		url, arn := createQueue(ctx, t, q, "orders.fifo", map[string]string{"FifoQueue": "true"})
		const groups, per = 3, 20
		var bodies []string
		for i := range per {
			for g := range groups {
				bodies = append(bodies, fmt.Sprintf("g%d %03d", g, i))
			}
		}
		sendAll(ctx, t, q, url, bodies, func(i int) string { return "g" + strconv.Itoa(i%groups) })
		createMapping(ctx, t, c, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("fifo"), EventSourceArn: aws.String(arn),
			BatchSize: aws.Int32(10), ScalingConfig: &types.ScalingConfig{MaximumConcurrency: aws.Int32(3)}})
		testwait.Within(t, 30*time.Second, "all FIFO messages", func() bool { return len(lines(t, out)) >= groups*per })
		last := map[string]int{}
		for _, l := range lines(t, out) {
			g, seq, _ := strings.Cut(l, " ")
			n, _ := strconv.Atoi(seq)
			if prev, ok := last[g]; ok && n != prev+1 {
				t.Errorf("group %s: %d after %d", g, n, prev)
			}
			last[g] = n
		}
	})

	t.Run("FilterCriteria", func(t *testing.T) {
		out := createRecorder(ctx, t, c, "filtered")
		url, arn := createQueue(ctx, t, q, "filtered", nil)
		createMapping(ctx, t, c, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("filtered"), EventSourceArn: aws.String(arn),
			FilterCriteria: &types.FilterCriteria{Filters: []types.Filter{
				{Pattern: aws.String(`{"body": {"kind": ["keep"], "n": [{"numeric": [">=", 10]}]}}`)},
				{Pattern: aws.String(`{"body": {"kind": [{"prefix": "urg"}]}}`)},
			}}})
		var bodies, want []string
		for i := range 20 {
			for _, kind := range []string{"keep", "drop", "urgent"} {
				b := fmt.Sprintf(`{"kind":%q,"n":%d}`, kind, i)
				bodies = append(bodies, b)
				if kind == "urgent" || kind == "keep" && i >= 10 {
					want = append(want, b)
				}
			}
		}
		bodies = append(bodies, "not json")
		sendAll(ctx, t, q, url, bodies, nil)
		// More than the queue's 30 s visibility timeout: moto's server sometimes
		// hands one message to two concurrent receivers, and the copy whose
		// receipt handle went stale stays in flight until it times out.
		testwait.Within(t, 90*time.Second, "the filtered-out messages to be deleted, the others processed", func() bool {
			v, f := queueDepth(ctx, t, q, url)
			return v == 0 && f == 0 && len(lines(t, out)) >= len(want)
		})
		got := counts(lines(t, out))
		for _, b := range want {
			// moto may hand a message to two concurrent receives: counted, not failed.
			if got[b] == 0 {
				t.Errorf("%s never processed", b)
			} else if got[b] > 1 {
				t.Logf("%s processed %d times (a duplicate delivery)", b, got[b])
			}
		}
		if len(got) != len(want) {
			t.Errorf("processed %d distinct messages, want %d: %v", len(got), len(want), got)
		}
	})

	t.Run("Disabled", func(t *testing.T) {
		out := createRecorder(ctx, t, c, "toggled")
		url, arn := createQueue(ctx, t, q, "toggled", nil)
		uuid := createMapping(ctx, t, c, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("toggled"), EventSourceArn: aws.String(arn)})
		sendAll(ctx, t, q, url, []string{"before"}, nil)
		testwait.Within(t, 20*time.Second, "the enabled mapping to invoke", func() bool { return len(counts(lines(t, out))) == 1 })
		up, err := c.UpdateEventSourceMapping(ctx, &lambda.UpdateEventSourceMappingInput{UUID: aws.String(uuid), Enabled: aws.Bool(false)})
		if err != nil {
			t.Fatal(err)
		}
		if up.State == nil || *up.State != "Disabling" {
			t.Errorf("UpdateEventSourceMapping answered State %v, want Disabling", aws.ToString(up.State))
		}
		testwait.Within(t, 10*time.Second, "State Disabled", func() bool {
			g, err := c.GetEventSourceMapping(ctx, &lambda.GetEventSourceMappingInput{UUID: aws.String(uuid)})
			return err == nil && aws.ToString(g.State) == "Disabled"
		})
		// The poller's last long poll (1 s) may still be out: let it end.
		time.Sleep(1500 * time.Millisecond)
		sendAll(ctx, t, q, url, []string{"while-disabled-1", "while-disabled-2"}, nil)
		time.Sleep(3 * time.Second) // nothing to wait for: a disabled mapping must do nothing
		if ls := counts(lines(t, out)); len(ls) != 1 {
			t.Fatalf("disabled mapping invoked: %v", ls)
		}
		if v, _ := queueDepth(ctx, t, q, url); v != 2 {
			t.Errorf("queue holds %d visible messages while disabled, want 2", v)
		}
		if _, err := c.UpdateEventSourceMapping(ctx, &lambda.UpdateEventSourceMappingInput{UUID: aws.String(uuid), Enabled: aws.Bool(true)}); err != nil {
			t.Fatal(err)
		}
		testwait.Within(t, 20*time.Second, "the re-enabled mapping to invoke", func() bool { return len(counts(lines(t, out))) == 3 })
	})
}

func kinesisClient(endpoint string) *kinesis.Client {
	return kinesis.New(kinesis.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", "")})
}

func createStream(ctx context.Context, t *testing.T, k *kinesis.Client, name string, shards int32) string {
	t.Helper()
	if _, err := k.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(shards)}); err != nil {
		t.Fatal(err)
	}
	d, err := k.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(d.StreamDescriptionSummary.StreamARN)
}

// putKinesis puts n records per key, data {"k": key, "n": i}.
func putKinesis(ctx context.Context, t *testing.T, k *kinesis.Client, stream string, keys []string, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		in := &kinesis.PutRecordsInput{StreamName: aws.String(stream)}
		for _, key := range keys {
			in.Records = append(in.Records, kinesistypes.PutRecordsRequestEntry{PartitionKey: aws.String(key), Data: []byte(fmt.Sprintf(`{"k":%q,"n":%d}`, key, i))})
		}
		if _, err := k.PutRecords(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
}

// kinesisSeen reads the recorder's lines of Kinesis records: the n of each
// record, per partition key, in the order they were processed.
func kinesisSeen(t *testing.T, ls []string) map[string][]int {
	t.Helper()
	seen := map[string][]int{}
	for _, l := range ls {
		key, data, _ := strings.Cut(l, " ")
		var d struct {
			N int `json:"n"`
		}
		if err := json.Unmarshal([]byte(data), &d); err != nil {
			t.Fatalf("recorded %q: %v", l, err)
		}
		seen[key] = append(seen[key], d.N)
	}
	return seen
}

func distinct(ns []int) int {
	m := map[int]bool{}
	for _, n := range ns {
		m[n] = true
	}
	return len(m)
}

// lastProcessingResultOK waits for the mapping to report its last batch
// OK (the function's output is written before its invocation returns).
func lastProcessingResultOK(ctx context.Context, t *testing.T, c *lambda.Client, uuid string) {
	t.Helper()
	var r string
	testwait.Within(t, 10*time.Second, "LastProcessingResult OK", func() bool {
		g, err := c.GetEventSourceMapping(ctx, &lambda.GetEventSourceMappingInput{UUID: aws.String(uuid)})
		if err != nil {
			t.Fatal(err)
		}
		r = aws.ToString(g.LastProcessingResult)
		return r == "OK"
	})
}

// TestEventSourceStreams drives Kinesis and DynamoDB stream mappings
// against moto's server.
func TestEventSourceStreams(t *testing.T) {
	moto := startMoto(t)
	s := startLambEnv(t, freeAddr(t), "", motoEnv, "--event-source-endpoint", moto)
	ctx := ctxT(t)
	c := s.client("us-east-1", "123456789012")

	t.Run("KinesisOrderAndFilter", func(t *testing.T) {
		k := kinesisClient(moto)
		arn := createStream(ctx, t, k, "events", 2)
		keys := []string{"alpha", "bravo", "charlie", "delta"}
		const n = 25
		putKinesis(ctx, t, k, "events", keys, 0, n)
		all := createRecorder(ctx, t, c, "kin-all")
		low := createRecorder(ctx, t, c, "kin-low")
		uuid := createMapping(ctx, t, c, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("kin-all"), EventSourceArn: aws.String(arn),
			StartingPosition: types.EventSourcePositionTrimHorizon, BatchSize: aws.Int32(7)})
		createMapping(ctx, t, c, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("kin-low"), EventSourceArn: aws.String(arn),
			StartingPosition: types.EventSourcePositionTrimHorizon, BatchSize: aws.Int32(100),
			FilterCriteria: &types.FilterCriteria{Filters: []types.Filter{{Pattern: aws.String(`{"data": {"n": [{"numeric": ["<", 10]}], "k": [{"anything-but": ["delta"]}]}}`)}}}})
		testwait.Within(t, 30*time.Second, "every Kinesis record", func() bool { return len(lines(t, all)) >= n*len(keys) })
		for key, ns := range kinesisSeen(t, lines(t, all)) {
			for i, v := range ns {
				if v != i {
					t.Fatalf("key %s: records in order %v", key, ns)
				}
			}
		}
		testwait.Within(t, 30*time.Second, "the filtered Kinesis records", func() bool { return len(lines(t, low)) >= 10*3 })
		time.Sleep(500 * time.Millisecond) // nothing more may come: the rest is filtered out
		seen := kinesisSeen(t, lines(t, low))
		if _, ok := seen["delta"]; ok || len(seen) != 3 {
			t.Errorf("filtered mapping saw keys %v, want alpha, bravo, charlie", seen)
		}
		for key, ns := range seen {
			if len(ns) != 10 || ns[0] != 0 || ns[9] != 9 {
				t.Errorf("key %s: filtered mapping saw %v, want 0..9", key, ns)
			}
		}
		lastProcessingResultOK(ctx, t, c, uuid)
	})

	t.Run("KinesisLatestAndAtTimestamp", func(t *testing.T) {
		k := kinesisClient(moto)
		arn := createStream(ctx, t, k, "positions", 1)
		putKinesis(ctx, t, k, "positions", []string{"old"}, 0, 5)
		// A margin on both sides of the timestamp: arrival times are moto's clock.
		time.Sleep(1100 * time.Millisecond)
		at := time.Now()
		time.Sleep(100 * time.Millisecond)
		putKinesis(ctx, t, k, "positions", []string{"new"}, 0, 5)
		latest := createRecorder(ctx, t, c, "kin-latest")
		stamped := createRecorder(ctx, t, c, "kin-at")
		createMapping(ctx, t, c, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("kin-latest"), EventSourceArn: aws.String(arn),
			StartingPosition: types.EventSourcePositionLatest})
		createMapping(ctx, t, c, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("kin-at"), EventSourceArn: aws.String(arn),
			StartingPosition: types.EventSourcePositionAtTimestamp, StartingPositionTimestamp: aws.Time(at)})
		testwait.Within(t, 30*time.Second, "AT_TIMESTAMP to deliver what came after it", func() bool { return len(lines(t, stamped)) >= 5 })
		if seen := kinesisSeen(t, lines(t, stamped)); len(seen) != 1 || len(seen["new"]) != 5 {
			t.Errorf("AT_TIMESTAMP delivered %v, want the 5 records after the timestamp", seen)
		}
		// LATEST: only what is put once the poller holds its iterator; put
		// until something arrives, and never the records from before.
		i := 5
		testwait.Within(t, 30*time.Second, "LATEST to deliver a new record", func() bool {
			putKinesis(ctx, t, k, "positions", []string{"late"}, i, i+1)
			i++
			return len(lines(t, latest)) > 0
		})
		if seen := kinesisSeen(t, lines(t, latest)); len(seen["old"])+len(seen["new"]) > 0 {
			t.Errorf("LATEST delivered records from before the mapping: %v", seen)
		}
	})

	t.Run("KinesisRetriesThenOnFailureQueue", func(t *testing.T) {
		k := kinesisClient(moto)
		q := sqsClient(moto)
		arn := createStream(ctx, t, k, "poisoned", 1)
		dlqURL, dlqArn := createQueue(ctx, t, q, "stream-failures", nil)
		for i := range 6 {
			data := fmt.Sprintf(`{"k":"p","n":%d}`, i)
			if i == 3 {
				data = fmt.Sprintf(`{"k":"p","n":%d,"poison":true}`, i)
			}
			if _, err := k.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("poisoned"), PartitionKey: aws.String("p"), Data: []byte(data)}); err != nil {
				t.Fatal(err)
			}
		}
		out := createRecorder(ctx, t, c, "kin-poisoned")
		uuid := createMapping(ctx, t, c, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("kin-poisoned"), EventSourceArn: aws.String(arn),
			StartingPosition: types.EventSourcePositionTrimHorizon, BatchSize: aws.Int32(2), MaximumRetryAttempts: aws.Int32(1),
			DestinationConfig: &types.DestinationConfig{OnFailure: &types.OnFailure{Destination: aws.String(dlqArn)}}})
		testwait.Within(t, 30*time.Second, "the batches around the poisoned one", func() bool { return len(lines(t, out)) >= 4 })
		if got := kinesisSeen(t, lines(t, out))["p"]; fmt.Sprint(got) != "[0 1 4 5]" {
			t.Errorf("processed %v, want [0 1 4 5] (the batch [2 3] given up)", got)
		}
		var body string
		testwait.Within(t, 10*time.Second, "the on-failure record", func() bool {
			r, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(dlqURL), MaxNumberOfMessages: 10})
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Messages) > 0 {
				body = aws.ToString(r.Messages[0].Body)
			}
			return body != ""
		})
		var rec struct {
			RequestContext struct {
				Condition              string `json:"condition"`
				ApproximateInvokeCount int    `json:"approximateInvokeCount"`
			} `json:"requestContext"`
			Info struct {
				BatchSize int    `json:"batchSize"`
				StreamArn string `json:"streamArn"`
			} `json:"KinesisBatchInfo"`
		}
		if err := json.Unmarshal([]byte(body), &rec); err != nil {
			t.Fatal(err)
		}
		if rec.RequestContext.Condition != "RetryAttemptsExhausted" || rec.RequestContext.ApproximateInvokeCount != 2 || rec.Info.BatchSize != 2 || rec.Info.StreamArn != arn {
			t.Errorf("on-failure record %s", body)
		}
		lastProcessingResultOK(ctx, t, c, uuid)
	})

	t.Run("DynamoDBOrder", func(t *testing.T) {
		d := dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(moto),
			Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", "")})
		tbl, err := d.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("items"), BillingMode: ddbtypes.BillingModePayPerRequest,
			AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
			KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}},
			StreamSpecification:  &ddbtypes.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: ddbtypes.StreamViewTypeNewAndOldImages}})
		if err != nil {
			t.Fatal(err)
		}
		out := createRecorder(ctx, t, c, "ddb")
		createMapping(ctx, t, c, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("ddb"), EventSourceArn: tbl.TableDescription.LatestStreamArn,
			StartingPosition: types.EventSourcePositionTrimHorizon, BatchSize: aws.Int32(4),
			FilterCriteria: &types.FilterCriteria{Filters: []types.Filter{{Pattern: aws.String(`{"dynamodb": {"Keys": {"pk": {"S": [{"prefix": "k"}]}}}}`)}}}})
		const n = 12
		for i := range n {
			for _, key := range []string{"k1", "k2", "other"} {
				if _, err := d.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("items"), Item: map[string]ddbtypes.AttributeValue{
					"pk": &ddbtypes.AttributeValueMemberS{Value: key}, "n": &ddbtypes.AttributeValueMemberN{Value: strconv.Itoa(i)}}}); err != nil {
					t.Fatal(err)
				}
			}
		}
		testwait.Within(t, 30*time.Second, "every DynamoDB change of k1 and k2", func() bool { return len(lines(t, out)) >= 2*n })
		time.Sleep(500 * time.Millisecond) // nothing more may come: "other" is filtered out
		next := map[string]int{}
		for _, l := range lines(t, out) {
			f := strings.Fields(l)
			if len(f) != 3 {
				t.Fatalf("recorded %q", l)
			}
			want := "MODIFY"
			if next[f[1]] == 0 {
				want = "INSERT"
			}
			if f[0] != want || f[2] != strconv.Itoa(next[f[1]]) {
				t.Errorf("%s: got %q, want %s of n=%d", f[1], l, want, next[f[1]])
			}
			next[f[1]]++
		}
		if next["k1"] != n || next["k2"] != n || next["other"] != 0 {
			t.Errorf("changes seen per key %v, want %d of k1 and k2, none of other", next, n)
		}
	})
}

// TestEventSourceKinesisSurvivesKill9: a mapping's checkpoint is in lamb's
// store, so a restart after kill -9 resumes where the poller acknowledged,
// losing nothing; the batch in flight at the kill may run twice.
func TestEventSourceKinesisSurvivesKill9(t *testing.T) {
	moto := startMoto(t)
	dataDir := t.TempDir()
	addr := freeAddr(t)
	s := startLambEnv(t, addr, dataDir, motoEnv, "--event-source-endpoint", moto)
	ctx := ctxT(t)
	c := s.client("us-east-1", "123456789012")
	k := kinesisClient(moto)
	arn := createStream(ctx, t, k, "durable", 1)
	out := createRecorder(ctx, t, c, "kin-durable")
	keys := []string{"a", "b"}
	putKinesis(ctx, t, k, "durable", keys, 0, 20)
	createMapping(ctx, t, c, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("kin-durable"), EventSourceArn: aws.String(arn),
		StartingPosition: types.EventSourcePositionTrimHorizon, BatchSize: aws.Int32(5)})
	testwait.Within(t, 30*time.Second, "some records before the kill", func() bool { return len(lines(t, out)) >= 10 })
	s.kill9()
	before := len(lines(t, out))
	putKinesis(ctx, t, k, "durable", keys, 20, 40)
	startLambEnv(t, addr, dataDir, motoEnv, "--event-source-endpoint", moto)
	testwait.Within(t, 30*time.Second, "every record after the restart", func() bool {
		seen := kinesisSeen(t, lines(t, out))
		return distinct(seen["a"]) == 40 && distinct(seen["b"]) == 40
	})
	seen := kinesisSeen(t, lines(t, out))
	dups := len(lines(t, out)) - 80
	t.Logf("%d records processed before the kill; %d duplicates after the restart", before, dups)
	if dups > 5 {
		t.Errorf("%d duplicates: more than the one batch (5) in flight at the kill ran again", dups)
	}
	for key, ns := range seen {
		// In order once the replayed batch is set aside: each record's first
		// delivery comes after its predecessor's.
		firsts := []int{}
		for _, v := range ns {
			if !slices.Contains(firsts, v) {
				firsts = append(firsts, v)
			}
		}
		for i, v := range firsts {
			if v != i {
				t.Errorf("key %s: out of order %v", key, ns)
				break
			}
		}
	}
}

// TestEventSourceSQSSurvivesKill9: the mapping is restored from lamb's
// store after kill -9; messages in flight at the kill come back after their
// visibility timeout; every message is processed.
func TestEventSourceSQSSurvivesKill9(t *testing.T) {
	moto := startMoto(t)
	dataDir := t.TempDir()
	addr := freeAddr(t)
	s := startLambEnv(t, addr, dataDir, motoEnv, "--event-source-endpoint", moto)
	ctx := ctxT(t)
	c := s.client("us-east-1", "123456789012")
	q := sqsClient(moto)
	out := createRecorder(ctx, t, c, "sqs-durable")
	url, arn := createQueue(ctx, t, q, "durable", map[string]string{"VisibilityTimeout": "2"})
	createMapping(ctx, t, c, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("sqs-durable"), EventSourceArn: aws.String(arn),
		BatchSize: aws.Int32(5), ScalingConfig: &types.ScalingConfig{MaximumConcurrency: aws.Int32(2)}})
	bodies := make([]string, 100)
	for i := range bodies {
		bodies[i] = fmt.Sprintf("d-%03d", i)
	}
	sendAll(ctx, t, q, url, bodies[:50], nil)
	testwait.Within(t, 30*time.Second, "some messages before the kill", func() bool { return len(counts(lines(t, out))) >= 10 })
	s.kill9()
	before := len(counts(lines(t, out)))
	sendAll(ctx, t, q, url, bodies[50:], nil)
	startLambEnv(t, addr, dataDir, motoEnv, "--event-source-endpoint", moto)
	testwait.Within(t, 30*time.Second, "every message after the restart", func() bool { return len(counts(lines(t, out))) == len(bodies) })
	t.Logf("%d messages processed before the kill; %d duplicates in all", before, len(lines(t, out))-len(bodies))
	testwait.Within(t, 10*time.Second, "the queue to be empty", func() bool {
		v, f := queueDepth(ctx, t, q, url)
		return v == 0 && f == 0
	})
}
