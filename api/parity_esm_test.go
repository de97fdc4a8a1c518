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
		// As the recorded test does: AWS refuses a second mapping of the
		// same queue to the same function.
		if _, err := p.h.client.DeleteEventSourceMapping(p.ctx, &lambda.DeleteEventSourceMappingInput{UUID: out.UUID}); err != nil {
			p.t.Fatalf("%s: delete: %v", tc.label, err)
		}
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

var _ = registerParity("TestLambdaEventSourceMappings::test_create_event_source_validation_kinesis", nil, func(p *parity) {
	name := "esm-kval"
	stream := "arn:aws:kinesis:us-east-1:111111111111:stream/esm-kstream"
	p.createFn(name, nil, true)
	_, _ = p.h.client.CreateEventSourceMapping(p.ctx, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String(name), EventSourceArn: aws.String(stream)})
	p.checkESM("no_starting_position")
	_, _ = p.h.client.CreateEventSourceMapping(p.ctx, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String(name), EventSourceArn: aws.String(stream), StartingPosition: "invalid"})
	p.checkESM("invalid_starting_position")
})

// esmLifecycleStart creates the recorded lifecycle scenarios' function and
// DynamoDB-stream mapping (with an SQS on-failure destination) and checks
// create_response and get_response. lamb cannot create the table, so the
// stream ARN is shaped like the recorded one; update_table_response is
// DynamoDB's own answer and is not re-enacted.
func (p *parity) esmLifecycleStart() (fn, uuid string) {
	p.t.Helper()
	fn, table, label, queue := "esm-lc-fn", "esm-lc-table", "2024-03-03T00:00:00.000", "esm-lc-dlq"
	p.replace(label, "<resource:1>", table, "<resource:2>", queue, "<resource:3>", fn, "<resource:5>")
	p.createFn(fn, nil, true)
	out, err := p.h.client.CreateEventSourceMapping(p.ctx, &lambda.CreateEventSourceMappingInput{
		FunctionName:                   aws.String(fn),
		EventSourceArn:                 aws.String("arn:aws:dynamodb:us-east-1:111111111111:table/" + table + "/stream/" + label),
		StartingPosition:               types.EventSourcePositionTrimHorizon,
		BatchSize:                      aws.Int32(1),
		MaximumBatchingWindowInSeconds: aws.Int32(1),
		MaximumRetryAttempts:           aws.Int32(1),
		DestinationConfig:              &types.DestinationConfig{OnFailure: &types.OnFailure{Destination: aws.String("arn:aws:sqs:us-east-1:111111111111:" + queue)}},
	})
	if err != nil {
		p.t.Fatal(err)
	}
	uuid = aws.ToString(out.UUID)
	p.replace(uuid, "<resource:4>")
	p.checkESM("create_response")
	_, _ = p.h.client.GetEventSourceMapping(p.ctx, &lambda.GetEventSourceMappingInput{UUID: aws.String(uuid)})
	p.checkESM("get_response")
	return fn, uuid
}

var _ = registerParity("TestLambdaEventSourceMappings::test_event_source_mapping_lifecycle", nil, func(p *parity) {
	_, uuid := p.esmLifecycleStart()
	_, _ = p.h.client.DeleteEventSourceMapping(p.ctx, &lambda.DeleteEventSourceMappingInput{UUID: aws.String(uuid)})
	p.checkESM("delete_response")
	// Deleting goes on to gone: the mapping is no longer found.
	if _, err := p.h.client.GetEventSourceMapping(p.ctx, &lambda.GetEventSourceMappingInput{UUID: aws.String(uuid)}); err == nil {
		p.t.Error("GetEventSourceMapping after DeleteEventSourceMapping succeeded")
	}
})

var _ = registerParity("TestLambdaEventSourceMappings::test_event_source_mapping_lifecycle_delete_function", nil, func(p *parity) {
	fn, uuid := p.esmLifecycleStart()
	_, _ = p.h.client.DeleteFunction(p.ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String(fn)})
	p.checkWith("delete_function_response", "", func(got map[string]any) {
		// boto3 fills DeleteFunction's StatusCode member from the status line.
		got["StatusCode"] = got["ResponseMetadata"].(map[string]any)["HTTPStatusCode"]
	})
	// The mapping outlives its function, as on AWS.
	_, _ = p.h.client.GetEventSourceMapping(p.ctx, &lambda.GetEventSourceMappingInput{UUID: aws.String(uuid)})
	p.checkESM("get_response_post_delete")
	_, _ = p.h.client.DeleteEventSourceMapping(p.ctx, &lambda.DeleteEventSourceMappingInput{UUID: aws.String(uuid)})
	p.checkESM("delete_response")
})
