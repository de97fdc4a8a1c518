package main

import (
	"cmp"
	"context"
	"log/slog"

	"github.com/spf13/pflag"

	"github.com/lambhq/lamb/api"
	"github.com/lambhq/lamb/eventsource"
)

// eventSourceOptions are serve's flags for polling event source mappings.
type eventSourceOptions struct {
	endpoint        string // all three services
	sqs             string
	kinesis         string
	dynamodbStreams string
}

func addEventSourceFlags(f *pflag.FlagSet, o *eventSourceOptions) {
	f.StringVar(&o.endpoint, "event-source-endpoint", "", "AWS-compatible endpoint (moto, LocalStack, ElasticMQ) whose SQS queues, Kinesis streams and DynamoDB streams event source mappings poll; credentials from the AWS chain (AWS_ACCESS_KEY_ID, ~/.aws)")
	f.StringVar(&o.sqs, "event-source-sqs-endpoint", "", "endpoint for SQS mappings (overrides --event-source-endpoint)")
	f.StringVar(&o.kinesis, "event-source-kinesis-endpoint", "", "endpoint for Kinesis mappings (overrides --event-source-endpoint)")
	f.StringVar(&o.dynamodbStreams, "event-source-dynamodb-endpoint", "", "endpoint for DynamoDB stream mappings (overrides --event-source-endpoint)")
}

func (o eventSourceOptions) endpoints() eventsource.Endpoints {
	return eventsource.Endpoints{
		SQS:             cmp.Or(o.sqs, o.endpoint),
		Kinesis:         cmp.Or(o.kinesis, o.endpoint),
		DynamoDBStreams: cmp.Or(o.dynamodbStreams, o.endpoint),
	}
}

// eventSources is the pollers' wiring: the manager is made before the API
// server, which is its host, so the host is set once the server exists.
type eventSources struct {
	mgr  *eventsource.Manager
	host lateHost
}

// lateHost forwards to the API server's host once it is set.
type lateHost struct{ eventsource.Host }

// newEventSources returns nil when no endpoint is set: mappings are stored only.
func newEventSources(o eventSourceOptions, log *slog.Logger) *eventSources {
	eps := o.endpoints()
	if eps == (eventsource.Endpoints{}) {
		return nil
	}
	es := &eventSources{}
	es.mgr = eventsource.NewManager(eventsource.Config{Host: &es.host, Endpoints: eps, Logger: log})
	log.Info("event source mappings poll", "sqs", eps.SQS, "kinesis", eps.Kinesis, "dynamodb-streams", eps.DynamoDBStreams)
	return es
}

// poller is the API's view of the manager (nil when none).
func (es *eventSources) poller() api.EventSourcePoller {
	if es == nil {
		return nil
	}
	return es.mgr
}

// run restores the stored mappings and polls until ctx ends.
func (es *eventSources) run(ctx context.Context, srv *api.Server, log *slog.Logger) error {
	if es == nil {
		return nil
	}
	es.host.Host = srv.EventSourceHost()
	if err := srv.RestoreEventSources(ctx); err != nil {
		log.Warn("restoring event source mappings", "error", err)
	}
	return es.mgr.Run(ctx)
}
