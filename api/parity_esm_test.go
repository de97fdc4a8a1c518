package api

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// Re-enactments of TestLambdaEventSourceMappings that need no real queue or
// stream (lamb stores mappings but polls nothing).

func (p *parity) checkESM(label string) {
	p.t.Helper()
	p.checkWith(label, "", datetimeLastModified)
}

var _ = registerParity("TestLambdaEventSourceMappings::test_event_source_mapping_exceptions", nil, func(p *parity) {
	name := "esm-exc"
	p.createFn(name, nil, true)
	_, _ = p.h.client.GetEventSourceMapping(p.ctx, &lambda.GetEventSourceMappingInput{UUID: aws.String("00000000-0000-4000-8000-000000000000")})
	p.checkESM("get_unknown_uuid")
	_, _ = p.h.client.DeleteEventSourceMapping(p.ctx, &lambda.DeleteEventSourceMappingInput{UUID: aws.String("00000000-0000-4000-8000-000000000000")})
	p.checkESM("delete_unknown_uuid")
	_, _ = p.h.client.UpdateEventSourceMapping(p.ctx, &lambda.UpdateEventSourceMappingInput{UUID: aws.String("00000000-0000-4000-8000-000000000000"), Enabled: aws.Bool(false)})
	p.checkESM("update_unknown_uuid")
	_, _ = p.h.client.CreateEventSourceMapping(p.ctx, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("doesnotexist")})
	p.checkESM("create_no_event_source_arn")
	_, _ = p.h.client.CreateEventSourceMapping(p.ctx, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("doesnotexist"),
		EventSourceArn: aws.String("arn:aws:sqs:us-east-1:111111111111:somequeue")})
	p.checkESM("create_unknown_params")
	_, _ = p.h.client.CreateEventSourceMapping(p.ctx, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String(name),
		EventSourceArn:    aws.String("arn:aws:sqs:us-east-1:111111111111:somequeue"),
		DestinationConfig: &types.DestinationConfig{OnFailure: &types.OnFailure{Destination: aws.String("arn:aws:sqs:us-east-1:111111111111:dlq")}}})
	p.checkESM("destination_config_failure")
})

var _ = registerParity("TestLambdaEventSourceMappings::test_create_event_source_validation", nil, func(p *parity) {
	name := "esm-val"
	stream := "arn:aws:dynamodb:us-east-1:111111111111:table/esm-table/stream/2024-01-01T00:00:00.000"
	p.replace("esm-table", "<table-name>", "2024-01-01T00:00:00.000", "<stream-name>")
	p.createFn(name, nil, true)
	_, _ = p.h.client.CreateEventSourceMapping(p.ctx, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String(name), EventSourceArn: aws.String(stream)})
	p.checkESM("no_starting_position")
	_, _ = p.h.client.CreateEventSourceMapping(p.ctx, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String(name), EventSourceArn: aws.String(stream), StartingPosition: "invalid"})
	p.checkESM("invalid_starting_position")
	_, _ = p.h.client.CreateEventSourceMapping(p.ctx, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String(name), EventSourceArn: aws.String(stream), StartingPosition: types.EventSourcePositionAtTimestamp})
	p.checkESM("incompatible_starting_position")
})

var _ = registerParity("TestLambdaEventSourceMappings::test_create_event_source_self_managed", nil, func(p *parity) {
	name := "esm-kafka"
	p.replace(name, "<resource:1>", "esm-secret", "<resource:2>")
	p.createFn(name, nil, true)
	sac := []types.SourceAccessConfiguration{{Type: types.SourceAccessTypeBasicAuth, URI: aws.String("arn:aws:secretsmanager:us-east-1:111111111111:secret:esm-secret")}}
	servers := func(s ...string) *types.SelfManagedEventSource {
		return &types.SelfManagedEventSource{Endpoints: map[string][]string{"KAFKA_BOOTSTRAP_SERVERS": s}}
	}
	_, _ = p.h.client.CreateEventSourceMapping(p.ctx, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String(name),
		SelfManagedEventSource: servers("kafka:1000"), Topics: []string{"topic"}})
	p.checkESM("missing-source-access-configuration")
	out, err := p.h.client.CreateEventSourceMapping(p.ctx, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String(name),
		SelfManagedEventSource: servers("kafka:1000"), Topics: []string{"topic"}, SourceAccessConfigurations: sac})
	if err != nil {
		p.t.Fatal(err)
	}
	p.replace(aws.ToString(out.UUID), "<uuid:1>")
	p.checkESM("event-source-mapping-default")
	_, _ = p.h.client.CreateEventSourceMapping(p.ctx, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String(name),
		SelfManagedEventSource: servers("kafka:1000"), Topics: []string{"topic"}, SourceAccessConfigurations: sac})
	p.checkESM("duplicate-source")
	out, err = p.h.client.CreateEventSourceMapping(p.ctx, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String(name),
		SelfManagedEventSource: servers("kafka:1000"), Topics: []string{"topic_2"}, SourceAccessConfigurations: sac,
		BatchSize: aws.Int32(1), StartingPosition: types.EventSourcePositionLatest,
		SelfManagedKafkaEventSourceConfig: &types.SelfManagedKafkaEventSourceConfig{ConsumerGroupId: aws.String("random_id")}})
	if err != nil {
		p.t.Fatal(err)
	}
	p.replace(aws.ToString(out.UUID), "<uuid:2>")
	p.checkESM("event-source-mapping-values")
	out, err = p.h.client.CreateEventSourceMapping(p.ctx, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String(name),
		SelfManagedEventSource: servers("kafka:1000", "kafka:2000"), Topics: []string{"topic"}, SourceAccessConfigurations: sac})
	if err != nil {
		p.t.Fatal(err)
	}
	// The recording numbered this mapping's UUID afresh.
	p.replace(aws.ToString(out.UUID), "<uuid:1>")
	_, _ = p.h.client.CreateEventSourceMapping(p.ctx, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String(name),
		SelfManagedEventSource: servers("kafka:1000", "kafka:2000"), Topics: []string{"topic"}, SourceAccessConfigurations: sac})
	p.checkESM("multiple-duplicate-source")
})

var _ = registerParity("TestLambdaEventSourceMappings::test_function_name_variations", nil, func(p *parity) {
	name, queue := "esm-names", "esm-queue"
	p.replace(queue, "<resource:1>", name, "<resource:3>")
	p.createFn(name, nil, true)
	p.publish(&lambda.PublishVersionInput{FunctionName: aws.String(name)})
	p.createAlias(name, "myalias", "1", "", nil)
	arn := functionArn(scope{Account: testAccount, Region: "us-east-1"}, name)
	for _, tc := range []struct{ fn, label, uuid string }{
		{name, "name_only_create_esm", "<resource:2>"},
		{name + ":$LATEST", "partial_arn_latest_create_esm", "<resource:4>"},
		{name + ":1", "partial_arn_version_create_esm", "<resource:5>"},
		{name + ":myalias", "partial_arn_alias_create_esm", "<resource:7>"},
		{arn, "full_arn_latest_create_esm", "<resource:9>"},
		{arn + ":1", "full_arn_version_create_esm", "<resource:10>"},
		{arn + ":myalias", "full_arn_alias_create_esm", "<resource:11>"},
	} {
		out, err := p.h.client.CreateEventSourceMapping(p.ctx, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String(tc.fn),
			EventSourceArn: aws.String("arn:aws:sqs:us-east-1:111111111111:" + queue)})
		if err != nil {
			p.t.Fatalf("%s: %v", tc.label, err)
		}
		p.replace(aws.ToString(out.UUID), tc.uuid)
		p.checkESM(tc.label)
	}
})

var _ = registerParity("TestLambdaEventSourceMappings::test_create_event_filter_criteria_validation", nil, func(p *parity) {
	name := "esm-filters"
	stream := "arn:aws:dynamodb:us-east-1:111111111111:table/esm-ftable/stream/2024-02-02T00:00:00.000"
	p.replace("esm-ftable", "<table-name>", "2024-02-02T00:00:00.000", "<resource:1>", name, "<resource:3>")
	p.createFn(name, nil, true)
	out, err := p.h.client.CreateEventSourceMapping(p.ctx, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String(name),
		EventSourceArn: aws.String(stream), StartingPosition: types.EventSourcePositionLatest, FilterCriteria: &types.FilterCriteria{Filters: []types.Filter{}}})
	if err != nil {
		p.t.Fatal(err)
	}
	p.replace(aws.ToString(out.UUID), "<resource:2>")
	p.checkESM("response-with-empty-filters")
})
