package eventsource

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// ddbSource reads a DynamoDB table's stream.
type ddbSource struct {
	c      *dynamodbstreams.Client
	arn    string
	region string
}

// DynamoDBRecord is one record as Lambda's DynamoDB event carries it.
type DynamoDBRecord struct {
	EventID        string         `json:"eventID"`
	EventName      string         `json:"eventName"`
	EventVersion   string         `json:"eventVersion"`
	EventSource    string         `json:"eventSource"`
	AWSRegion      string         `json:"awsRegion"`
	DynamoDB       DynamoDBChange `json:"dynamodb"`
	EventSourceARN string         `json:"eventSourceARN"`
}

// DynamoDBChange is a record's dynamodb member: images in DynamoDB JSON.
type DynamoDBChange struct {
	ApproximateCreationDateTime float64        `json:"ApproximateCreationDateTime,omitempty"`
	Keys                        map[string]any `json:"Keys,omitempty"`
	NewImage                    map[string]any `json:"NewImage,omitempty"`
	OldImage                    map[string]any `json:"OldImage,omitempty"`
	SequenceNumber              string         `json:"SequenceNumber"`
	SizeBytes                   int64          `json:"SizeBytes"`
	StreamViewType              string         `json:"StreamViewType"`
}

func (d ddbSource) shards(ctx context.Context) ([]shard, error) {
	var out []shard
	in := &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(d.arn)}
	for {
		r, err := d.c.DescribeStream(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("dynamodb streams: describe %s: %w", d.arn, err)
		}
		for _, s := range r.StreamDescription.Shards {
			out = append(out, shard{id: aws.ToString(s.ShardId), parent: aws.ToString(s.ParentShardId)})
		}
		if r.StreamDescription.LastEvaluatedShardId == nil {
			return out, nil
		}
		in = &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(d.arn), ExclusiveStartShardId: r.StreamDescription.LastEvaluatedShardId}
	}
}

func (d ddbSource) iterator(ctx context.Context, shardID, typ, seq string, _ time.Time) (string, error) {
	in := &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(d.arn), ShardId: aws.String(shardID), ShardIteratorType: types.ShardIteratorType(typ)}
	if seq != "" {
		in.SequenceNumber = aws.String(seq)
	}
	r, err := d.c.GetShardIterator(ctx, in)
	if err != nil {
		return "", fmt.Errorf("dynamodb streams: shard iterator of %s: %w", shardID, err)
	}
	return aws.ToString(r.ShardIterator), nil
}

func (d ddbSource) records(ctx context.Context, _, iter string, limit int) ([]streamRecord, string, error) {
	r, err := d.c.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: aws.String(iter), Limit: aws.Int32(int32(min(limit, 1000)))})
	if err != nil {
		var exp *types.ExpiredIteratorException
		if errors.As(err, &exp) {
			return nil, "", fmt.Errorf("dynamodb streams: %w: %w", errExpiredIterator, err)
		}
		return nil, "", fmt.Errorf("dynamodb streams: get records: %w", err)
	}
	var recs []streamRecord
	for _, rec := range r.Records {
		e := DynamoDBRecord{EventID: aws.ToString(rec.EventID), EventName: string(rec.EventName), EventVersion: aws.ToString(rec.EventVersion),
			EventSource: "aws:dynamodb", AWSRegion: d.region, EventSourceARN: d.arn}
		if e.EventVersion == "" {
			e.EventVersion = "1.1"
		}
		var arrival time.Time
		if sr := rec.Dynamodb; sr != nil {
			arrival = aws.ToTime(sr.ApproximateCreationDateTime)
			e.DynamoDB = DynamoDBChange{Keys: attrMap(sr.Keys), NewImage: attrMap(sr.NewImage), OldImage: attrMap(sr.OldImage),
				SequenceNumber: aws.ToString(sr.SequenceNumber), SizeBytes: aws.ToInt64(sr.SizeBytes), StreamViewType: string(sr.StreamViewType)}
			if !arrival.IsZero() {
				e.DynamoDB.ApproximateCreationDateTime = float64(arrival.Unix())
			}
		}
		key, _ := json.Marshal(e.DynamoDB.Keys) // map keys sorted: one string per item
		recs = append(recs, streamRecord{seq: e.DynamoDB.SequenceNumber, key: string(key), arrival: arrival, event: e, view: jsonView(e, "", nil)})
	}
	return recs, aws.ToString(r.NextShardIterator), nil
}

func (d ddbSource) event(recs []streamRecord) ([]byte, error) {
	out := make([]any, len(recs))
	for i, r := range recs {
		out[i] = r.event
	}
	return json.Marshal(map[string]any{"Records": out})
}

// attrMap is an item in DynamoDB JSON ({"S": "x"}, {"N": "1"}, ...).
func attrMap(m map[string]types.AttributeValue) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = attr(v)
	}
	return out
}

func attr(v types.AttributeValue) any {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return map[string]any{"S": v.Value}
	case *types.AttributeValueMemberN:
		return map[string]any{"N": v.Value}
	case *types.AttributeValueMemberB:
		return map[string]any{"B": v.Value}
	case *types.AttributeValueMemberSS:
		return map[string]any{"SS": v.Value}
	case *types.AttributeValueMemberNS:
		return map[string]any{"NS": v.Value}
	case *types.AttributeValueMemberBS:
		return map[string]any{"BS": v.Value}
	case *types.AttributeValueMemberBOOL:
		return map[string]any{"BOOL": v.Value}
	case *types.AttributeValueMemberNULL:
		return map[string]any{"NULL": v.Value}
	case *types.AttributeValueMemberM:
		return map[string]any{"M": attrMap(v.Value)}
	case *types.AttributeValueMemberL:
		l := make([]any, len(v.Value))
		for i, x := range v.Value {
			l[i] = attr(x)
		}
		return map[string]any{"L": l}
	}
	return nil
}
