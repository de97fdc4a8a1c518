package eventsource

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// sqsAPI is what the SQS poller calls (*sqs.Client).
type sqsAPI interface {
	GetQueueUrl(ctx context.Context, in *sqs.GetQueueUrlInput, opts ...func(*sqs.Options)) (*sqs.GetQueueUrlOutput, error)
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
}

// sqsPoller runs one SQS mapping: MaxConcurrency workers, each holding at
// most one batch.
type sqsPoller struct {
	m    Mapping
	c    sqsAPI
	host Host
	log  *slog.Logger
	wait time.Duration // longest long poll

	url    string
	region string
	// fifo: workers receive one at a time, so that no two receives race
	// for a message group (the queue hands out a group's messages only
	// while none of it is in flight; some servers, moto's, check that
	// without a lock). The batches still run concurrently.
	fifo      bool
	receiving sync.Mutex
}

// SQSRecord is one message as Lambda hands it to the function.
type SQSRecord struct {
	MessageID              string                         `json:"messageId"`
	ReceiptHandle          string                         `json:"receiptHandle"`
	Body                   string                         `json:"body"`
	Attributes             map[string]string              `json:"attributes"`
	MessageAttributes      map[string]SQSMessageAttribute `json:"messageAttributes"`
	MD5OfMessageAttributes string                         `json:"md5OfMessageAttributes,omitempty"`
	MD5OfBody              string                         `json:"md5OfBody"`
	EventSource            string                         `json:"eventSource"`
	EventSourceARN         string                         `json:"eventSourceARN"`
	AWSRegion              string                         `json:"awsRegion"`
}

// SQSMessageAttribute is a message attribute as Lambda's event carries it.
type SQSMessageAttribute struct {
	StringValue      *string  `json:"stringValue,omitempty"`
	BinaryValue      []byte   `json:"binaryValue,omitempty"`
	StringListValues []string `json:"stringListValues"`
	BinaryListValues [][]byte `json:"binaryListValues"`
	DataType         string   `json:"dataType"`
}

func (p *sqsPoller) run(ctx context.Context) error {
	region, account, name, err := arnParts(p.m.EventSourceArn)
	if err != nil {
		return err
	}
	p.region = region
	p.fifo = strings.HasSuffix(name, ".fifo")
	for attempt := 0; p.url == ""; attempt++ {
		out, err := p.c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name), QueueOwnerAWSAccountId: aws.String(account)})
		if err == nil {
			p.url = aws.ToString(out.QueueUrl)
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		p.log.Warn("sqs: finding the queue", "error", err)
		if !sleep(ctx, backoff(attempt)) {
			return nil
		}
	}
	n := p.m.MaxConcurrency
	if n <= 0 {
		n = DefaultSQSConcurrency
	}
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.worker(ctx)
		}()
	}
	wg.Wait()
	return nil
}

// worker gathers a batch, invokes the function with it and deletes what
// succeeded, until ctx ends.
func (p *sqsPoller) worker(ctx context.Context) {
	fails := 0
	for ctx.Err() == nil {
		msgs, err := p.gather(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			p.log.Warn("sqs: receive", "error", err)
			fails++
			if !sleep(ctx, backoff(fails)) {
				return
			}
			continue
		}
		fails = 0
		if len(msgs) == 0 {
			continue // the long poll waited already
		}
		p.handle(ctx, msgs)
	}
}

// gather receives up to BatchSize messages, for at most the batching
// window once the first arrived (none: what the first receive returned).
func (p *sqsPoller) gather(ctx context.Context) ([]types.Message, error) {
	size := max(p.m.BatchSize, 1)
	var msgs []types.Message
	var deadline time.Time
	for len(msgs) < size {
		wait := p.wait
		if len(msgs) > 0 {
			left := time.Until(deadline)
			if left <= 0 {
				break
			}
			wait = min(wait, left)
		}
		out, err := p.receive(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:                    aws.String(p.url),
			MaxNumberOfMessages:         int32(min(size-len(msgs), 10)),
			WaitTimeSeconds:             int32(max(wait/time.Second, 1)),
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
			MessageAttributeNames:       []string{"All"},
		})
		if err != nil {
			if len(msgs) > 0 && ctx.Err() == nil {
				break // hand over what was received; the error comes back next poll
			}
			return nil, fmt.Errorf("receive from %s: %w", p.url, err)
		}
		if len(msgs) == 0 {
			if len(out.Messages) == 0 {
				return nil, nil
			}
			deadline = time.Now().Add(p.m.MaxBatchingWindow)
		}
		msgs = append(msgs, out.Messages...)
		if p.m.MaxBatchingWindow <= 0 {
			break
		}
	}
	return msgs, nil
}

func (p *sqsPoller) receive(ctx context.Context, in *sqs.ReceiveMessageInput) (*sqs.ReceiveMessageOutput, error) {
	if p.fifo {
		p.receiving.Lock()
		defer p.receiving.Unlock()
	}
	return p.c.ReceiveMessage(ctx, in)
}

// record shapes a message as Lambda's SQS event does.
func (p *sqsPoller) record(m types.Message) SQSRecord {
	r := SQSRecord{
		MessageID: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle), Body: aws.ToString(m.Body),
		Attributes: map[string]string{}, MessageAttributes: map[string]SQSMessageAttribute{},
		MD5OfMessageAttributes: aws.ToString(m.MD5OfMessageAttributes), MD5OfBody: aws.ToString(m.MD5OfBody),
		EventSource: "aws:sqs", EventSourceARN: p.m.EventSourceArn, AWSRegion: p.region,
	}
	for k, v := range m.Attributes {
		r.Attributes[k] = v
	}
	for k, v := range m.MessageAttributes {
		a := SQSMessageAttribute{StringValue: v.StringValue, BinaryValue: v.BinaryValue, DataType: aws.ToString(v.DataType),
			StringListValues: v.StringListValues, BinaryListValues: v.BinaryListValues}
		if a.StringListValues == nil {
			a.StringListValues = []string{}
		}
		if a.BinaryListValues == nil {
			a.BinaryListValues = [][]byte{}
		}
		r.MessageAttributes[k] = a
	}
	return r
}

// filterView is the record as FilterCriteria see it: body parsed when it
// is JSON.
func filterView(r SQSRecord) map[string]any {
	b, _ := json.Marshal(r)
	var v map[string]any
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.UseNumber()
	_ = d.Decode(&v)
	var body any
	bd := json.NewDecoder(strings.NewReader(r.Body))
	bd.UseNumber()
	if err := bd.Decode(&body); err == nil && !bd.More() {
		v["body"] = body
	}
	return v
}

// handle filters, invokes and deletes one batch.
func (p *sqsPoller) handle(ctx context.Context, msgs []types.Message) {
	var records []SQSRecord
	var drop []types.Message
	for _, m := range msgs {
		r := p.record(m)
		if !p.m.Filter.Empty() && !p.m.Filter.Match(filterView(r)) {
			drop = append(drop, m) // AWS deletes what the filter drops
			continue
		}
		records = append(records, r)
	}
	if len(drop) > 0 {
		p.delete(ctx, drop)
	}
	if len(records) == 0 {
		return
	}
	payload, err := json.Marshal(map[string]any{"Records": records})
	if err != nil {
		p.log.Error("sqs: encode event", "error", err)
		return
	}
	res, err := p.host.Invoke(ctx, p.m.FunctionArn, payload)
	if err != nil {
		if ctx.Err() == nil {
			p.log.Warn("sqs: invoke failed; the batch returns after the visibility timeout", "messages", len(records), "error", err)
		}
		return
	}
	if res.FunctionError != "" {
		p.log.Info("sqs: function error; the batch returns after the visibility timeout", "messages", len(records), "error", res.FunctionError, "payload", truncate(res.Payload, 512))
		return
	}
	var ok []types.Message
	kept := 0
	failed := map[string]bool{}
	if p.m.ReportItemFailures {
		ids, all := batchItemFailures(res.Payload)
		if all {
			p.log.Info("sqs: batch item failures not understood; the whole batch failed", "messages", len(records))
			return
		}
		for _, id := range ids {
			if !containsRecord(records, id) {
				p.log.Info("sqs: batch item failure names no message of the batch; the whole batch failed", "id", id)
				return
			}
			failed[id] = true
		}
	}
	for _, m := range msgs {
		id := aws.ToString(m.MessageId)
		if failed[id] {
			kept++
			continue
		}
		if !contains(drop, id) {
			ok = append(ok, m)
		}
	}
	if kept > 0 {
		p.log.Debug("sqs: partial batch failure", "failed", kept, "succeeded", len(ok))
	}
	p.delete(ctx, ok)
}

func containsRecord(rs []SQSRecord, id string) bool {
	for _, r := range rs {
		if r.MessageID == id {
			return true
		}
	}
	return false
}

func contains(ms []types.Message, id string) bool {
	for _, m := range ms {
		if aws.ToString(m.MessageId) == id {
			return true
		}
	}
	return false
}

// batchItemFailures reads a ReportBatchItemFailures response: the failed
// item ids, or all when the response fails the whole batch (an item
// without an id, or a response that is not JSON of that shape). A null or
// empty response, or one without batchItemFailures, fails nothing.
func batchItemFailures(payload []byte) (ids []string, all bool) {
	s := strings.TrimSpace(string(payload))
	if s == "" || s == "null" {
		return nil, false
	}
	var resp struct {
		BatchItemFailures []struct {
			ItemIdentifier *string `json:"itemIdentifier"`
		} `json:"batchItemFailures"`
	}
	if err := json.Unmarshal(payload, &resp); err != nil {
		return nil, true // AWS fails the whole batch on a response it cannot read
	}
	for _, f := range resp.BatchItemFailures {
		if f.ItemIdentifier == nil || *f.ItemIdentifier == "" {
			return nil, true
		}
		ids = append(ids, *f.ItemIdentifier)
	}
	return ids, false
}

// delete removes messages from the queue, ten per call.
func (p *sqsPoller) delete(ctx context.Context, msgs []types.Message) {
	for len(msgs) > 0 {
		chunk := msgs[:min(10, len(msgs))]
		msgs = msgs[len(chunk):]
		in := &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(p.url)}
		for i, m := range chunk {
			in.Entries = append(in.Entries, types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle})
		}
		// Deleting must not be cut short by a stop: the function ran.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		out, err := p.c.DeleteMessageBatch(dctx, in)
		cancel()
		if err != nil {
			p.log.Warn("sqs: delete; the messages return after the visibility timeout", "messages", len(chunk), "error", err)
			continue
		}
		for _, f := range out.Failed {
			p.log.Warn("sqs: delete failed", "id", aws.ToString(f.Id), "code", aws.ToString(f.Code), "message", aws.ToString(f.Message))
		}
	}
}

// truncate is a payload for a log line.
func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}
