package eventsource

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Mapping is what a poller needs of an event source mapping.
type Mapping struct {
	UUID           string
	FunctionArn    string // as the mapping names it (qualified or not)
	EventSourceArn string
	Enabled        bool

	BatchSize          int
	MaxBatchingWindow  time.Duration
	MaxConcurrency     int // SQS ScalingConfig.MaximumConcurrency; 0: DefaultSQSConcurrency
	ReportItemFailures bool
	Filter             *Filter
	StartingPosition   string // streams: TRIM_HORIZON, LATEST, AT_TIMESTAMP
	StartingTimestamp  time.Time
	BisectOnError      bool
	// ParallelizationFactor is the number of batches of one shard in
	// flight at once (streams; 0 or 1: one).
	ParallelizationFactor int
	MaximumRetryAttempts  int // -1: until the record expires
	MaximumRecordAge      time.Duration
	// OnFailure is DestinationConfig.OnFailure.Destination (streams): an
	// SQS queue's ARN gets the records of discarded batches.
	OnFailure string
}

// Kind is the service an event source ARN names: "sqs", "kinesis",
// "dynamodb" or "" for one lamb does not poll.
func Kind(arn string) string {
	switch {
	case strings.HasPrefix(arn, "arn:aws:sqs:"):
		return "sqs"
	case strings.HasPrefix(arn, "arn:aws:kinesis:"):
		return "kinesis"
	case strings.HasPrefix(arn, "arn:aws:dynamodb:") && strings.Contains(arn, "/stream/"):
		return "dynamodb"
	}
	return ""
}

// arnParts splits arn:aws:service:region:account:resource.
func arnParts(arn string) (region, account, resource string, err error) {
	p := strings.SplitN(arn, ":", 6)
	if len(p) != 6 {
		return "", "", "", fmt.Errorf("event source ARN %q: want arn:aws:service:region:account:resource", arn)
	}
	return p[3], p[4], p[5], nil
}

// Result is one invocation's outcome.
type Result struct {
	Payload       []byte
	FunctionError string // "Unhandled" or "Handled" when the function failed
}

// ErrThrottled is what a Host's Invoke wraps when the function's
// concurrency is used up; the batch is retried without counting it.
var ErrThrottled = errors.New("eventsource: function throttled")

// Host is what the pollers need of lamb: invoking the function, keeping
// stream checkpoints and hearing how the last batch went.
type Host interface {
	// Invoke runs the function synchronously with payload. An error means
	// the function did not run (or its outcome is unknown).
	Invoke(ctx context.Context, functionArn string, payload []byte) (Result, error)
	// Checkpoint returns the sequence number a stream mapping's shard was
	// acknowledged up to ("" when none).
	Checkpoint(ctx context.Context, uuid, shard string) (string, error)
	// SaveCheckpoint records it durably before returning.
	SaveCheckpoint(ctx context.Context, uuid, shard, sequence string) error
	// Processed reports a stream mapping's LastProcessingResult ("OK",
	// "PROBLEM: Function call failed.").
	Processed(ctx context.Context, uuid, result string)
}

// AWS's wording of LastProcessingResult.
const (
	ResultOK      = "OK"
	ResultProblem = "PROBLEM: Function call failed."
)
