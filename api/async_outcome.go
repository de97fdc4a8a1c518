package api

import (
	"context"
	"strings"
	"time"

	"github.com/lambhq/lamb/destinations"
	"github.com/lambhq/lamb/engine"
	"github.com/lambhq/lamb/store"
)

// What Event invocations honour of their event invoke config, and where
// their outcome is delivered (the destinations package builds the record and
// sends it to SQS, SNS or EventBridge; a Lambda destination is invoked here).

// asyncPolicy is the retry/age/destination setting of one Event invocation.
type asyncPolicy struct {
	retries   int
	maxAge    time.Duration
	onSuccess string
	onFailure string
}

// asyncQualifier is the qualifier an Event invocation addressed ("$LATEST"
// when none).
func asyncQualifier(ev *asyncEvent) string {
	if q, ok := strings.CutPrefix(ev.req.InvokedARN, ev.fn.ARN+":"); ok && q != "" {
		return q
	}
	return "$LATEST"
}

// asyncPolicyFor reads the event invoke config of ev's function and qualifier.
func (s *Server) asyncPolicyFor(ctx context.Context, ev *asyncEvent) asyncPolicy {
	p := asyncPolicy{retries: defaultAsyncRetries, maxAge: defaultMaxEventAge}
	sc := scope{Account: ev.fn.AccountID, Region: ev.fn.Region}
	var cfg eventInvokeConfig
	err := s.store.View(ctx, func(tx store.Tx) error {
		return tx.Get(bucketEventInvokeConfigs, qualifierKey(sc, ev.fn.Name, asyncQualifier(ev)), &cfg)
	})
	if err != nil {
		return p // none configured (or unreadable): AWS's defaults
	}
	if cfg.MaximumRetryAttempts != nil {
		p.retries = int(*cfg.MaximumRetryAttempts)
	}
	if cfg.MaximumEventAgeInSeconds != nil {
		p.maxAge = time.Duration(*cfg.MaximumEventAgeInSeconds) * time.Second
	}
	p.onSuccess = cfg.DestinationConfig.OnSuccess.Destination
	p.onFailure = cfg.DestinationConfig.OnFailure.Destination
	return p
}

// deliverOutcome sends ev's outcome to dest (an ARN; "" means none).
// condition is Success, RetriesExhausted or EventAgeExceeded.
func (s *Server) deliverOutcome(ctx context.Context, ev *asyncEvent, dest, condition string, res *engine.Result, invokeErr error) {
	if dest == "" {
		return
	}
	body, err := destinations.Outcome{
		RequestID: ev.req.RequestID, FunctionARN: ev.fn.ARN + ":" + asyncQualifier(ev),
		Condition: condition, Attempts: ev.attempt + 1,
		Request: ev.req.Payload, ExecutedVersion: ev.fn.Version,
		Result: res, Err: invokeErr,
	}.Record(time.Now())
	if err != nil {
		s.log.Error("destination record", "error", err)
		return
	}
	log := s.log.With("function", ev.fn.ARN, "request_id", ev.req.RequestID, "destination", dest, "condition", condition)
	if err := s.deliver(ctx, dest, condition, body); err != nil {
		log.Error("destination not delivered", "error", err)
		return
	}
	log.Info("destination delivered")
}

// deliver sends a record to a Lambda function of this server (an Event
// invocation of it) or to SQS, SNS or EventBridge at Config.DestinationsEndpoint.
func (s *Server) deliver(ctx context.Context, dest, condition string, record []byte) error {
	arn, err := destinations.ParseARN(dest)
	if err != nil {
		return err
	}
	if arn.Service != "lambda" {
		c := destinations.Client{Endpoint: s.cfg.DestinationsEndpoint}
		return c.Send(ctx, dest, condition, record)
	}
	sc := scope{Account: arn.Account, Region: arn.Region}
	ref, err := parseFunctionName(dest, sc, 256)
	if err != nil {
		return err
	}
	f, err := s.loadQualified(ctx, sc, ref, pickWeighted)
	if err != nil {
		return err
	}
	efn, err := s.engineFunction(f.info())
	if err != nil {
		return err
	}
	invoked := efn.ARN
	if ref.Qualifier != "" {
		invoked += ":" + ref.Qualifier
	}
	return s.enqueueAsync(ctx, f.info(), &engine.Request{RequestID: newRequestID(), Payload: record, InvokedARN: invoked, TraceID: traceID()})
}
