package api

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/lambhq/lamb/eventsource"
	"github.com/lambhq/lamb/store"
)

// fakePoller records what the API hands the pollers.
type fakePoller struct {
	mu      sync.Mutex
	applied []eventsource.Mapping
	removed []string
}

func (p *fakePoller) Polls(arn string) bool { return eventsource.Kind(arn) != "" }
func (p *fakePoller) Apply(m eventsource.Mapping) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.applied = append(p.applied, m)
}
func (p *fakePoller) Remove(uuid string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.removed = append(p.removed, uuid)
}

func (p *fakePoller) last(t *testing.T) eventsource.Mapping {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.applied) == 0 {
		t.Fatal("nothing applied")
	}
	return p.applied[len(p.applied)-1]
}

func TestEventSourceMappingsReachThePollers(t *testing.T) {
	ctx := context.Background()
	st := store.NewMemory()
	poller := &fakePoller{}
	h := newHarness(t, Config{Store: st, EventSources: poller})
	c := h.client
	if _, err := c.CreateFunction(ctx, createInput(t, "fn")); err != nil {
		t.Fatal(err)
	}
	out, err := c.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("fn"),
		EventSourceArn: aws.String("arn:aws:sqs:us-east-1:123456789012:q"), BatchSize: aws.Int32(25), MaximumBatchingWindowInSeconds: aws.Int32(2),
		ScalingConfig:         &types.ScalingConfig{MaximumConcurrency: aws.Int32(3)},
		FunctionResponseTypes: []types.FunctionResponseType{types.FunctionResponseTypeReportBatchItemFailures},
		FilterCriteria:        &types.FilterCriteria{Filters: []types.Filter{{Pattern: aws.String(`{"body": {"a": ["b"]}}`)}}}})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.State) != "Creating" {
		t.Errorf("Create answered State %s, want Creating", aws.ToString(out.State))
	}
	uuid := aws.ToString(out.UUID)
	m := poller.last(t)
	if m.UUID != uuid || !m.Enabled || m.BatchSize != 25 || m.MaxBatchingWindow != 2*time.Second || m.MaxConcurrency != 3 ||
		!m.ReportItemFailures || m.Filter.Empty() || m.FunctionArn != "arn:aws:lambda:us-east-1:"+testAccount+":function:fn" {
		t.Errorf("applied %+v", m)
	}
	if !m.Filter.Match(map[string]any{"body": map[string]any{"a": "b"}}) || m.Filter.Match(map[string]any{"body": map[string]any{"a": "c"}}) {
		t.Error("the applied filter is not the mapping's")
	}

	up, err := c.UpdateEventSourceMapping(ctx, &lambda.UpdateEventSourceMappingInput{UUID: out.UUID, Enabled: aws.Bool(false)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(up.State) != "Disabling" || poller.last(t).Enabled {
		t.Errorf("disable: answered %s, applied Enabled=%v", aws.ToString(up.State), poller.last(t).Enabled)
	}
	if g, _ := c.GetEventSourceMapping(ctx, &lambda.GetEventSourceMappingInput{UUID: out.UUID}); aws.ToString(g.State) != "Disabled" {
		t.Errorf("after disable, Get reads %s", aws.ToString(g.State))
	}

	// A stream mapping: checkpoints and LastProcessingResult go through the host.
	sm, err := c.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("fn"),
		EventSourceArn: aws.String("arn:aws:kinesis:us-east-1:123456789012:stream/s"), StartingPosition: types.EventSourcePositionTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	if m := poller.last(t); m.StartingPosition != "TRIM_HORIZON" || m.BatchSize != 100 || m.MaximumRetryAttempts != -1 || m.MaximumRecordAge != 0 {
		t.Errorf("stream mapping applied %+v", m)
	}
	host := h.srv.EventSourceHost()
	host.Processed(ctx, aws.ToString(sm.UUID), eventsource.ResultProblem)
	g, err := c.GetEventSourceMapping(ctx, &lambda.GetEventSourceMappingInput{UUID: sm.UUID})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(g.LastProcessingResult) != eventsource.ResultProblem {
		t.Errorf("LastProcessingResult %q", aws.ToString(g.LastProcessingResult))
	}
	if err := host.SaveCheckpoint(ctx, aws.ToString(sm.UUID), "shardId-0", "42"); err != nil {
		t.Fatal(err)
	}
	if seq, err := host.Checkpoint(ctx, aws.ToString(sm.UUID), "shardId-0"); err != nil || seq != "42" {
		t.Errorf("checkpoint %q, %v", seq, err)
	}

	// A new server on the same store hands every mapping over again.
	poller2 := &fakePoller{}
	h2 := newHarness(t, Config{Store: st, EventSources: poller2})
	if err := h2.srv.RestoreEventSources(ctx); err != nil {
		t.Fatal(err)
	}
	if len(poller2.applied) != 2 {
		t.Fatalf("restored %d mappings, want 2", len(poller2.applied))
	}
	for _, m := range poller2.applied {
		if m.UUID == uuid && m.Enabled {
			t.Error("the disabled mapping was restored enabled")
		}
	}

	if _, err := c.DeleteEventSourceMapping(ctx, &lambda.DeleteEventSourceMappingInput{UUID: sm.UUID}); err != nil {
		t.Fatal(err)
	}
	if len(poller.removed) != 1 || poller.removed[0] != aws.ToString(sm.UUID) {
		t.Errorf("removed %v", poller.removed)
	}
	if seq, _ := host.Checkpoint(ctx, aws.ToString(sm.UUID), "shardId-0"); seq != "" {
		t.Errorf("delete left checkpoint %q", seq)
	}
}

func TestBatchSource(t *testing.T) {
	for _, tc := range []struct {
		payload, source string
		n               int
	}{
		{`{"Records":[{"eventSource":"aws:sqs"},{"eventSource":"aws:sqs"}]}`, "sqs", 2},
		{`{"Records":[{"eventSource":"aws:kinesis"}]}`, "kinesis", 1},
		{`{"Records":[{"eventSource":"aws:dynamodb"}]}`, "dynamodb", 1},
		{`{"Records":[]}`, "unknown", 0},
		{`not json`, "unknown", 0},
	} {
		if src, n := batchSource([]byte(tc.payload)); src != tc.source || n != tc.n {
			t.Errorf("batchSource(%s) = %q, %d; want %q, %d", tc.payload, src, n, tc.source, tc.n)
		}
	}
}
