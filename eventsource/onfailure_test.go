package eventsource

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

type fakeSender struct {
	mu     sync.Mutex
	bodies []string
}

func (f *fakeSender) GetQueueUrl(_ context.Context, in *sqs.GetQueueUrlInput, _ ...func(*sqs.Options)) (*sqs.GetQueueUrlOutput, error) {
	return &sqs.GetQueueUrlOutput{QueueUrl: aws.String("http://q/" + aws.ToString(in.QueueOwnerAWSAccountId) + "/" + aws.ToString(in.QueueName))}, nil
}

func (f *fakeSender) SendMessage(_ context.Context, in *sqs.SendMessageInput, _ ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.bodies = append(f.bodies, aws.ToString(in.MessageBody))
	return &sqs.SendMessageOutput{}, nil
}

func TestStreamOnFailureRecord(t *testing.T) {
	sender := &fakeSender{}
	h := &fakeHost{fail: func(b []int) (bool, string) { return contains1(b, 1), `{"errorMessage":"boom"}` }}
	m := Mapping{UUID: "u", FunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:f", BatchSize: 2,
		StartingPosition: "TRIM_HORIZON", MaximumRetryAttempts: 0}
	p := newStreamPoller(m, &fakeStream{n: 4}, h, quiet, 10*time.Millisecond)
	p.failed = &onFailure{c: sender, queueArn: "arn:aws:sqs:us-east-1:123456789012:dlq", functionArn: m.FunctionArn,
		streamArn: "arn:aws:kinesis:us-east-1:123456789012:stream/s", infoKey: "KinesisBatchInfo", log: quiet}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if !p.shard(ctx, "shardId-000000000000", "TRIM_HORIZON") {
		t.Fatal("shard not read to its end")
	}
	if len(sender.bodies) != 1 {
		t.Fatalf("sent %d records, want 1: %v", len(sender.bodies), sender.bodies)
	}
	var rec struct {
		RequestContext struct {
			FunctionArn            string `json:"functionArn"`
			Condition              string `json:"condition"`
			ApproximateInvokeCount int    `json:"approximateInvokeCount"`
		} `json:"requestContext"`
		ResponseContext struct {
			FunctionError string `json:"functionError"`
		} `json:"responseContext"`
		Info struct {
			ShardID   string `json:"shardId"`
			Start     string `json:"startSequenceNumber"`
			End       string `json:"endSequenceNumber"`
			BatchSize int    `json:"batchSize"`
			StreamArn string `json:"streamArn"`
		} `json:"KinesisBatchInfo"`
	}
	if err := json.Unmarshal([]byte(sender.bodies[0]), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.RequestContext.Condition != condRetriesExhausted || rec.RequestContext.ApproximateInvokeCount != 1 ||
		rec.RequestContext.FunctionArn != m.FunctionArn || rec.ResponseContext.FunctionError != "Unhandled" ||
		rec.Info.ShardID != "shardId-000000000000" || rec.Info.Start != "0" || rec.Info.End != "1" || rec.Info.BatchSize != 2 ||
		rec.Info.StreamArn != "arn:aws:kinesis:us-east-1:123456789012:stream/s" {
		t.Errorf("on-failure record %s", sender.bodies[0])
	}
	if h.checkpoints["u/shardId-000000000000"] != "3" {
		t.Errorf("checkpoint %q, want 3: the shard moves on", h.checkpoints["u/shardId-000000000000"])
	}
}
