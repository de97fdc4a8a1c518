package eventsource

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/uuid"
)

// A stream batch that is given up (MaximumRetryAttempts, or records older
// than MaximumRecordAgeInSeconds) goes to the mapping's
// DestinationConfig.OnFailure when that is an SQS queue and lamb has an SQS
// endpoint: one message, the invocation record AWS sends, naming the
// batch's shard and sequence numbers (not its records). SNS and S3
// destinations are logged only.

// Conditions of an on-failure record, as AWS words them.
const (
	condRetriesExhausted = "RetryAttemptsExhausted"
	condRecordAge        = "RecordAgeExceeded"
)

// failure is a batch a stream poller gave up on.
type failure struct {
	shardID   string
	condition string
	batch     []streamRecord
	attempts  int
	res       Result
}

// onFailure sends failures to an SQS queue.
type onFailure struct {
	c           sqsSender
	queueArn    string
	functionArn string
	streamArn   string
	infoKey     string // KinesisBatchInfo or DDBStreamBatchInfo
	log         *slog.Logger

	once sync.Once
	url  string
	err  error
}

type sqsSender interface {
	GetQueueUrl(ctx context.Context, in *sqs.GetQueueUrlInput, opts ...func(*sqs.Options)) (*sqs.GetQueueUrlOutput, error)
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// record is the invocation record of a failure.
func (o *onFailure) record(f failure) ([]byte, error) {
	first, last := f.batch[0], f.batch[len(f.batch)-1]
	info := map[string]any{
		"shardId": f.shardID, "startSequenceNumber": first.seq, "endSequenceNumber": last.seq,
		"batchSize": len(f.batch), "streamArn": o.streamArn,
	}
	if !first.arrival.IsZero() {
		info["approximateArrivalOfFirstRecord"] = first.arrival.UTC().Format("2006-01-02T15:04:05.000Z")
		info["approximateArrivalOfLastRecord"] = last.arrival.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	rec := map[string]any{
		"requestContext": map[string]any{"requestId": uuid.NewString(), "functionArn": o.functionArn,
			"condition": f.condition, "approximateInvokeCount": f.attempts},
		"version": "1.0", "timestamp": time.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
		o.infoKey: info,
	}
	if f.attempts > 0 {
		rc := map[string]any{"statusCode": 200, "executedVersion": "$LATEST"}
		if f.res.FunctionError != "" {
			rc["functionError"] = f.res.FunctionError
		}
		rec["responseContext"] = rc
	}
	return json.Marshal(rec)
}

// send delivers a failure once; an error is logged and the shard moves on.
func (o *onFailure) send(ctx context.Context, f failure) {
	body, err := o.record(f)
	if err == nil {
		err = o.deliver(ctx, string(body))
	}
	if err != nil {
		o.log.Error("stream: delivering the on-failure record", "destination", o.queueArn, "error", err)
		return
	}
	o.log.Info("stream: on-failure record sent", "destination", o.queueArn, "shard", f.shardID, "records", len(f.batch), "condition", f.condition)
}

func (o *onFailure) deliver(ctx context.Context, body string) error {
	o.once.Do(func() {
		_, account, name, err := arnParts(o.queueArn)
		if err != nil {
			o.err = err
			return
		}
		out, err := o.c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name), QueueOwnerAWSAccountId: aws.String(account)})
		if err != nil {
			o.err = fmt.Errorf("find %s: %w", o.queueArn, err)
			return
		}
		o.url = aws.ToString(out.QueueUrl)
	})
	if o.err != nil {
		return o.err
	}
	in := &sqs.SendMessageInput{QueueUrl: aws.String(o.url), MessageBody: aws.String(body)}
	if strings.HasSuffix(o.url, ".fifo") {
		in.MessageGroupId = aws.String(o.streamArn)
		in.MessageDeduplicationId = aws.String(uuid.NewString())
	}
	if _, err := o.c.SendMessage(ctx, in); err != nil {
		return fmt.Errorf("send to %s: %w", o.queueArn, err)
	}
	return nil
}
