package api

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// Snapshot labels covered: every label of
// TestLambdaTag::test_tag_lifecycle[lambda_function]; of
// TestLambdaTags::test_tag_exceptions: tag_lambda_invalidarn,
// tag_lambda_doesnotexist, tag_lambda_qualifier_doesnotexist,
// list_tag_lambda_empty, untag_nomatch, untag_empty_keys, tag_empty_tags; and
// every label of TestLambdaReservedConcurrency::test_function_concurrency and
// test_function_concurrency_exceptions.
var _ = registerParityTest("TagsAndConcurrencyMatchSnapshot", testTagsAndConcurrencyMatchSnapshot)

func testTagsAndConcurrencyMatchSnapshot(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, Config{})
	fn := "tagged"
	if _, err := h.client.CreateFunction(ctx, createInput(t, fn)); err != nil {
		t.Fatal(err)
	}
	arn := "arn:aws:lambda:us-east-1:111111111111:function:" + fn
	tag := func(tags map[string]string) *lambda.TagResourceInput {
		return &lambda.TagResourceInput{Resource: aws.String(arn), Tags: tags}
	}
	untag := func(keys ...string) *lambda.UntagResourceInput {
		return &lambda.UntagResourceInput{Resource: aws.String(arn), TagKeys: keys}
	}
	list := &lambda.ListTagsInput{Resource: aws.String(arn)}
	concurrency := func(name string, n int32) *lambda.PutFunctionConcurrencyInput {
		return &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String(name), ReservedConcurrentExecutions: aws.Int32(n)}
	}
	const (
		lifecycle = "TestLambdaTag::test_tag_lifecycle[lambda_function]"
		exc       = "TestLambdaTags::test_tag_exceptions"
		rc        = "TestLambdaReservedConcurrency::test_function_concurrency"
		rcExc     = "TestLambdaReservedConcurrency::test_function_concurrency_exceptions"
	)
	steps := []struct {
		testID, label string
		in            any // sent by sendInput; a func() sends itself
	}{
		{exc, "list_tag_lambda_empty", list},
		{lifecycle, "tag_single_response", tag(map[string]string{"A": "tag-a"})},
		{lifecycle, "tag_single_response_listtags", list},
		{lifecycle, "tag_multiple_response", tag(map[string]string{"B": "tag-b", "C": "tag-c"})},
		{lifecycle, "tag_multiple_response_listtags", list},
		{lifecycle, "tag_overlap_response", tag(map[string]string{"C": "tag-c-newsuffix", "D": "tag-d"})},
		{lifecycle, "tag_overlap_response_listtags", list},
		{lifecycle, "untag_single_response", untag("A")},
		{lifecycle, "untag_single_response_listtags", list},
		{lifecycle, "untag_multiple_response", untag("B", "C")},
		{lifecycle, "untag_multiple_response_listtags", list},
		{lifecycle, "untag_nonexisting_response", untag("F")},
		{lifecycle, "untag_nonexisting_response_listtags", list},
		{lifecycle, "untag_existing_and_nonexisting_response", untag("D", "F")},
		{lifecycle, "untag_existing_and_nonexisting_response_listtags", list},
		{exc, "untag_nomatch", untag("nomatch")},
		{exc, "untag_empty_keys", func() {
			// The SDK refuses to send this one (TagKeys is required), boto3 does not.
			h.rawRecorded("DELETE", "/2017-03-31/tags/"+url.PathEscape(arn), "", sigv4(testAccount, "us-east-1"))
		}},
		{exc, "tag_empty_tags", tag(map[string]string{})},
		{exc, "tag_lambda_invalidarn", &lambda.TagResourceInput{Resource: aws.String("arn:aws:something"), Tags: map[string]string{"a": "b"}}},
		{exc, "tag_lambda_doesnotexist", &lambda.TagResourceInput{Resource: aws.String("arn:aws:lambda:us-east-1:111111111111:function:doesnotexist"), Tags: map[string]string{"a": "b"}}},
		{exc, "tag_lambda_qualifier_doesnotexist", &lambda.TagResourceInput{Resource: aws.String(arn + ":v1"), Tags: map[string]string{"a": "b"}}},
		{rc, "put_function_concurrency_with_reserved_0", concurrency(fn, 0)},
		{rc, "put_function_concurrency_with_reserved_1", concurrency(fn, 1)},
		{rc, "get_function_concurrency", &lambda.GetFunctionConcurrencyInput{FunctionName: aws.String(fn)}},
		{rc, "delete_response", &lambda.DeleteFunctionConcurrencyInput{FunctionName: aws.String(fn)}},
		{rc, "get_function_concurrency_after_delete", &lambda.GetFunctionConcurrencyInput{FunctionName: aws.String(fn)}},
		{rcExc, "put_function_concurrency_with_function_name_doesnotexist", concurrency("doesnotexist", 1)},
		{rcExc, "put_function_concurrency_with_function_name_doesnotexist_and_invalid_concurrency", concurrency("doesnotexist", -1)},
		{rcExc, "put_function_concurrency_with_qualified_arn", concurrency(arn+":1", 1)},
	}
	for _, st := range steps {
		if send, ok := st.in.(func()); ok {
			send()
		} else {
			_ = sendInput(t, h.client, ctx, st.in)
		}
		snap := loadSnapshot(t, st.testID)
		rr := h.rec.lastResponse()
		got := newNormaliser(fn, "<function-name:1>").normalise(rr.boto3View(t), "")
		matchSnapshot(t, snap, st.label, got)
	}

	// GetFunction shows tags and reserved concurrency while set.
	if _, err := h.client.TagResource(ctx, &lambda.TagResourceInput{Resource: aws.String(arn), Tags: map[string]string{"k": "v"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.client.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String(fn), ReservedConcurrentExecutions: aws.Int32(7)}); err != nil {
		t.Fatal(err)
	}
	out, err := h.client.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(fn)})
	if err != nil || out.Tags["k"] != "v" || out.Concurrency == nil || aws.ToInt32(out.Concurrency.ReservedConcurrentExecutions) != 7 {
		t.Fatalf("GetFunction tags/concurrency: %+v %v", out, err)
	}
}

// TestTagsOnMappingsAndProviders drives the tag operations on event source
// mapping and capacity provider ARNs with the real SDK: tags given at
// creation, changes, what other answers show, and the errors once a
// resource is gone or out of reach.
func TestTagsOnMappingsAndProviders(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, Config{})
	c := h.client
	if _, err := c.CreateFunction(ctx, createInput(t, "tag-target")); err != nil {
		t.Fatal(err)
	}
	esm, err := c.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("tag-target"),
		EventSourceArn: aws.String("arn:aws:sqs:us-east-1:111111111111:q"), Tags: map[string]string{"team": "a"}})
	if err != nil {
		t.Fatal(err)
	}
	esmArn := aws.ToString(esm.EventSourceMappingArn)
	if _, err := c.CreateCapacityProvider(ctx, func() *lambda.CreateCapacityProviderInput {
		in := cpInput("tag-cp")
		in.Tags = map[string]string{"team": "b"}
		return in
	}()); err != nil {
		t.Fatal(err)
	}
	cpArn := "arn:aws:lambda:us-east-1:111111111111:capacity-provider:tag-cp"

	list := func(arn string) (map[string]string, error) {
		out, err := c.ListTags(ctx, &lambda.ListTagsInput{Resource: aws.String(arn)})
		if err != nil {
			return nil, err
		}
		return out.Tags, nil
	}
	for _, tc := range []struct {
		name, arn string
		created   string
	}{
		{"event source mapping", esmArn, "a"},
		{"capacity provider", cpArn, "b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tags, err := list(tc.arn)
			if err != nil || len(tags) != 1 || tags["team"] != tc.created {
				t.Fatalf("tags given at creation: %v %v", tags, err)
			}
			if _, err := c.TagResource(ctx, &lambda.TagResourceInput{Resource: aws.String(tc.arn), Tags: map[string]string{"env": "dev", "team": "z"}}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.UntagResource(ctx, &lambda.UntagResourceInput{Resource: aws.String(tc.arn), TagKeys: []string{"env", "absent"}}); err != nil {
				t.Fatal(err)
			}
			if tags, err := list(tc.arn); err != nil || len(tags) != 1 || tags["team"] != "z" {
				t.Fatalf("after tag and untag: %v %v", tags, err)
			}
			many := map[string]string{}
			for i := range maxTags {
				many[fmt.Sprintf("k%d", i)] = "v"
			}
			if _, err := c.TagResource(ctx, &lambda.TagResourceInput{Resource: aws.String(tc.arn), Tags: many}); !isCode(err, "InvalidParameterValueException") {
				t.Errorf("51 tags: %v", err)
			}
			if tags, _ := list(tc.arn); len(tags) != 1 {
				t.Errorf("a refused TagResource changed the tags: %v", tags)
			}
			// Another account's resource is refused; another region's is not found.
			other := strings.Replace(tc.arn, ":111111111111:", ":222222222222:", 1)
			if _, err := list(other); !isCode(err, "AccessDeniedException") {
				t.Errorf("other account: %v", err)
			}
			if _, err := list(strings.Replace(tc.arn, ":us-east-1:", ":eu-west-1:", 1)); !isCode(err, "ResourceNotFoundException") {
				t.Errorf("other region: %v", err)
			}
		})
	}

	// Tags stay out of the mapping's own answers (the model has no Tags there).
	h.rawRecorded("GET", "/2015-03-31/event-source-mappings/"+aws.ToString(esm.UUID), "", sigv4(testAccount, "us-east-1"))
	if body := string(h.rec.lastResponse().body); strings.Contains(body, "team") {
		t.Errorf("GetEventSourceMapping shows tags: %s", body)
	}
	// UpdateCapacityProvider keeps the provider's tags.
	if _, err := c.UpdateCapacityProvider(ctx, &lambda.UpdateCapacityProviderInput{CapacityProviderName: aws.String("tag-cp"),
		CapacityProviderScalingConfig: &types.CapacityProviderScalingConfig{MaxVCpuCount: aws.Int32(8)}}); err != nil {
		t.Fatal(err)
	}
	if tags, err := list(cpArn); err != nil || tags["team"] != "z" {
		t.Errorf("tags after UpdateCapacityProvider: %v %v", tags, err)
	}

	// Deleted resources take their tags with them.
	if _, err := c.DeleteEventSourceMapping(ctx, &lambda.DeleteEventSourceMappingInput{UUID: esm.UUID}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteCapacityProvider(ctx, &lambda.DeleteCapacityProviderInput{CapacityProviderName: aws.String("tag-cp")}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ arn, msg string }{
		{esmArn, "Event source mapping not found: " + esmArn},
		{cpArn, "Capacity provider not found: " + cpArn},
	} {
		_, err := list(tc.arn)
		var nf *types.ResourceNotFoundException
		if !errors.As(err, &nf) || aws.ToString(nf.Message) != tc.msg {
			t.Errorf("ListTags %s after delete: %v", tc.arn, err)
		}
	}

	// CreateEventSourceMapping refuses more than 50 tags, and stores nothing.
	many := map[string]string{}
	for i := range maxTags + 1 {
		many[fmt.Sprintf("k%d", i)] = "v"
	}
	if _, err := c.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("tag-target"),
		EventSourceArn: aws.String("arn:aws:sqs:us-east-1:111111111111:q"), Tags: many}); !isCode(err, "InvalidParameterValueException") {
		t.Errorf("51 tags at creation: %v", err)
	}
	if out, err := c.ListEventSourceMappings(ctx, &lambda.ListEventSourceMappingsInput{}); err != nil || len(out.EventSourceMappings) != 0 {
		t.Errorf("mappings after refused create: %+v %v", out, err)
	}
}
