package eventsource

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// kinesisSource reads a Kinesis data stream.
type kinesisSource struct {
	c      *kinesis.Client
	arn    string
	region string
}

// KinesisRecord is one record as Lambda's Kinesis event carries it.
type KinesisRecord struct {
	Kinesis struct {
		KinesisSchemaVersion        string  `json:"kinesisSchemaVersion"`
		PartitionKey                string  `json:"partitionKey"`
		SequenceNumber              string  `json:"sequenceNumber"`
		Data                        []byte  `json:"data"` // base64 in JSON
		ApproximateArrivalTimestamp float64 `json:"approximateArrivalTimestamp"`
	} `json:"kinesis"`
	EventSource    string `json:"eventSource"`
	EventVersion   string `json:"eventVersion"`
	EventID        string `json:"eventID"`
	EventName      string `json:"eventName"`
	AWSRegion      string `json:"awsRegion"`
	EventSourceARN string `json:"eventSourceARN"`
}

func (k kinesisSource) streamName() string {
	_, _, res, _ := arnParts(k.arn)
	return strings.TrimPrefix(res, "stream/")
}

func (k kinesisSource) shards(ctx context.Context) ([]shard, error) {
	var out []shard
	in := &kinesis.ListShardsInput{StreamName: aws.String(k.streamName())}
	for {
		r, err := k.c.ListShards(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("kinesis: list shards of %s: %w", k.arn, err)
		}
		for _, s := range r.Shards {
			out = append(out, shard{id: aws.ToString(s.ShardId), parent: aws.ToString(s.ParentShardId)})
		}
		if r.NextToken == nil {
			return out, nil
		}
		in = &kinesis.ListShardsInput{NextToken: r.NextToken}
	}
}

func (k kinesisSource) iterator(ctx context.Context, shardID, typ, seq string, ts time.Time) (string, error) {
	in := &kinesis.GetShardIteratorInput{StreamName: aws.String(k.streamName()), ShardId: aws.String(shardID), ShardIteratorType: types.ShardIteratorType(typ)}
	if seq != "" {
		in.StartingSequenceNumber = aws.String(seq)
	}
	if typ == "AT_TIMESTAMP" {
		in.Timestamp = aws.Time(ts)
	}
	r, err := k.c.GetShardIterator(ctx, in)
	if err != nil {
		return "", fmt.Errorf("kinesis: shard iterator of %s: %w", shardID, err)
	}
	return aws.ToString(r.ShardIterator), nil
}

func (k kinesisSource) records(ctx context.Context, shardID, iter string, limit int) ([]streamRecord, string, error) {
	r, err := k.c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String(iter), Limit: aws.Int32(int32(limit))})
	if err != nil {
		var exp *types.ExpiredIteratorException
		if errors.As(err, &exp) {
			return nil, "", fmt.Errorf("kinesis: %w: %w", errExpiredIterator, err)
		}
		return nil, "", fmt.Errorf("kinesis: get records: %w", err)
	}
	var recs []streamRecord
	for _, rec := range r.Records {
		var e KinesisRecord
		e.Kinesis.KinesisSchemaVersion = "1.0"
		e.Kinesis.PartitionKey = aws.ToString(rec.PartitionKey)
		e.Kinesis.SequenceNumber = aws.ToString(rec.SequenceNumber)
		e.Kinesis.Data = rec.Data
		arrival := aws.ToTime(rec.ApproximateArrivalTimestamp)
		e.Kinesis.ApproximateArrivalTimestamp = float64(arrival.UnixMilli()) / 1000
		e.EventSource, e.EventVersion, e.EventName = "aws:kinesis", "1.0", "aws:kinesis:record"
		e.EventID = shardID + ":" + e.Kinesis.SequenceNumber
		e.AWSRegion, e.EventSourceARN = k.region, k.arn
		// Filters see the kinesis member's fields at the top, data parsed.
		view := jsonView(e.Kinesis, "data", rec.Data)
		view["eventSource"], view["eventSourceARN"], view["awsRegion"], view["eventName"] = e.EventSource, e.EventSourceARN, e.AWSRegion, e.EventName
		recs = append(recs, streamRecord{seq: e.Kinesis.SequenceNumber, key: e.Kinesis.PartitionKey, arrival: arrival, event: e, view: view})
	}
	return recs, aws.ToString(r.NextShardIterator), nil
}

func (k kinesisSource) event(recs []streamRecord) ([]byte, error) {
	out := make([]any, len(recs))
	for i, r := range recs {
		out[i] = r.event
	}
	return json.Marshal(map[string]any{"Records": out})
}
