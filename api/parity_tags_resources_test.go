package api

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// Re-enactments of TestLambdaTag for event source mappings and capacity
// providers: the tag operations on their ARNs.

// createTagESM creates a function and an SQS mapping to it (tags optional)
// and returns the mapping.
func (p *parity) createTagESM(fn string, tags map[string]string) *lambda.CreateEventSourceMappingOutput {
	p.t.Helper()
	p.createFn(fn, nil, true)
	out, err := p.h.client.CreateEventSourceMapping(p.ctx, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String(fn),
		EventSourceArn: aws.String("arn:aws:sqs:us-east-1:111111111111:tag-queue"), Tags: tags})
	if err != nil {
		p.t.Fatal(err)
	}
	return out
}

var _ = registerParity("TestLambdaTag::test_tag_lifecycle[event_source_mapping]", nil, func(p *parity) {
	tagLifecycleOn(p, aws.ToString(p.createTagESM("tag-esm-life", nil).EventSourceMappingArn))
})

// tagExceptions re-enacts test_tag_exceptions for a resource ARN that names
// nothing (its last segment is the recording's <resource-name>).
func tagExceptions(p *parity, kind, id string) {
	p.replace(id, "<resource-name>")
	res := "arn:aws:lambda:us-east-1:111111111111:" + kind + ":" + id
	tagNotFound(p, res)
	tagBadArns(p, res, id)
}

var _ = registerParity("TestLambdaTag::test_tag_exceptions[event_source_mapping]", nil, func(p *parity) {
	tagExceptions(p, "event-source-mapping", "6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b")
})

var _ = registerParity("TestLambdaTag::test_tag_exceptions[capacity_provider]", nil, func(p *parity) {
	tagExceptions(p, "capacity-provider", "tag-cp-missing")
})

var _ = registerParity("TestLambdaTag::test_create_tag_on_esm_create", nil, func(p *parity) {
	p.replace("tag-value-1", "<custom-tag>")
	created := p.createTagESM("tag-esm-create", map[string]string{"testtag": "tag-value-1"})
	got, err := p.h.client.GetEventSourceMapping(p.ctx, &lambda.GetEventSourceMappingInput{UUID: created.UUID})
	if err != nil {
		p.t.Fatal(err)
	}
	// The recording stores a plain true here; what lamb can state is that the
	// tagged mapping is the one found, answered without a Tags member (the
	// model's EventSourceMappingConfiguration has none).
	view := p.h.rec.lastResponse().boto3View(p.t)
	_, hasTags := view["Tags"]
	p.checkValue("get_event_source_mapping_with_tag", aws.ToString(got.EventSourceMappingArn) == aws.ToString(created.EventSourceMappingArn) && !hasTags)
	_, _ = p.h.client.ListTags(p.ctx, &lambda.ListTagsInput{Resource: created.EventSourceMappingArn})
	p.check("list_tags_result")
})
