package api

import (
	"context"
	"net/url"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
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
	tag := func(tags map[string]string) func() error {
		return func() error {
			_, err := h.client.TagResource(ctx, &lambda.TagResourceInput{Resource: aws.String(arn), Tags: tags})
			return err
		}
	}
	untag := func(keys ...string) func() error {
		return func() error {
			_, err := h.client.UntagResource(ctx, &lambda.UntagResourceInput{Resource: aws.String(arn), TagKeys: keys})
			return err
		}
	}
	list := func() error {
		_, err := h.client.ListTags(ctx, &lambda.ListTagsInput{Resource: aws.String(arn)})
		return err
	}
	steps := []struct {
		testID, label string
		do            func() error
	}{
		{"TestLambdaTags::test_tag_exceptions", "list_tag_lambda_empty", list},
		{"TestLambdaTag::test_tag_lifecycle[lambda_function]", "tag_single_response", tag(map[string]string{"A": "tag-a"})},
		{"TestLambdaTag::test_tag_lifecycle[lambda_function]", "tag_single_response_listtags", list},
		{"TestLambdaTag::test_tag_lifecycle[lambda_function]", "tag_multiple_response", tag(map[string]string{"B": "tag-b", "C": "tag-c"})},
		{"TestLambdaTag::test_tag_lifecycle[lambda_function]", "tag_multiple_response_listtags", list},
		{"TestLambdaTag::test_tag_lifecycle[lambda_function]", "tag_overlap_response", tag(map[string]string{"C": "tag-c-newsuffix", "D": "tag-d"})},
		{"TestLambdaTag::test_tag_lifecycle[lambda_function]", "tag_overlap_response_listtags", list},
		{"TestLambdaTag::test_tag_lifecycle[lambda_function]", "untag_single_response", untag("A")},
		{"TestLambdaTag::test_tag_lifecycle[lambda_function]", "untag_single_response_listtags", list},
		{"TestLambdaTag::test_tag_lifecycle[lambda_function]", "untag_multiple_response", untag("B", "C")},
		{"TestLambdaTag::test_tag_lifecycle[lambda_function]", "untag_multiple_response_listtags", list},
		{"TestLambdaTag::test_tag_lifecycle[lambda_function]", "untag_nonexisting_response", untag("F")},
		{"TestLambdaTag::test_tag_lifecycle[lambda_function]", "untag_nonexisting_response_listtags", list},
		{"TestLambdaTag::test_tag_lifecycle[lambda_function]", "untag_existing_and_nonexisting_response", untag("D", "F")},
		{"TestLambdaTag::test_tag_lifecycle[lambda_function]", "untag_existing_and_nonexisting_response_listtags", list},
		{"TestLambdaTags::test_tag_exceptions", "untag_nomatch", untag("nomatch")},
		{"TestLambdaTags::test_tag_exceptions", "untag_empty_keys", func() error {
			// The SDK refuses to send this one (TagKeys is required), boto3 does not.
			h.rawRecorded("DELETE", "/2017-03-31/tags/"+url.PathEscape(arn), "", sigv4(testAccount, "us-east-1"))
			return nil
		}},
		{"TestLambdaTags::test_tag_exceptions", "tag_empty_tags", tag(map[string]string{})},
		{"TestLambdaTags::test_tag_exceptions", "tag_lambda_invalidarn", func() error {
			_, err := h.client.TagResource(ctx, &lambda.TagResourceInput{Resource: aws.String("arn:aws:something"), Tags: map[string]string{"a": "b"}})
			return err
		}},
		{"TestLambdaTags::test_tag_exceptions", "tag_lambda_doesnotexist", func() error {
			_, err := h.client.TagResource(ctx, &lambda.TagResourceInput{Resource: aws.String("arn:aws:lambda:us-east-1:111111111111:function:doesnotexist"), Tags: map[string]string{"a": "b"}})
			return err
		}},
		{"TestLambdaTags::test_tag_exceptions", "tag_lambda_qualifier_doesnotexist", func() error {
			_, err := h.client.TagResource(ctx, &lambda.TagResourceInput{Resource: aws.String(arn + ":v1"), Tags: map[string]string{"a": "b"}})
			return err
		}},
		{"TestLambdaReservedConcurrency::test_function_concurrency", "put_function_concurrency_with_reserved_0", func() error {
			_, err := h.client.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String(fn), ReservedConcurrentExecutions: aws.Int32(0)})
			return err
		}},
		{"TestLambdaReservedConcurrency::test_function_concurrency", "put_function_concurrency_with_reserved_1", func() error {
			_, err := h.client.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String(fn), ReservedConcurrentExecutions: aws.Int32(1)})
			return err
		}},
		{"TestLambdaReservedConcurrency::test_function_concurrency", "get_function_concurrency", func() error {
			_, err := h.client.GetFunctionConcurrency(ctx, &lambda.GetFunctionConcurrencyInput{FunctionName: aws.String(fn)})
			return err
		}},
		{"TestLambdaReservedConcurrency::test_function_concurrency", "delete_response", func() error {
			_, err := h.client.DeleteFunctionConcurrency(ctx, &lambda.DeleteFunctionConcurrencyInput{FunctionName: aws.String(fn)})
			return err
		}},
		{"TestLambdaReservedConcurrency::test_function_concurrency", "get_function_concurrency_after_delete", func() error {
			_, err := h.client.GetFunctionConcurrency(ctx, &lambda.GetFunctionConcurrencyInput{FunctionName: aws.String(fn)})
			return err
		}},
		{"TestLambdaReservedConcurrency::test_function_concurrency_exceptions", "put_function_concurrency_with_function_name_doesnotexist", func() error {
			_, err := h.client.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String("doesnotexist"), ReservedConcurrentExecutions: aws.Int32(1)})
			return err
		}},
		{"TestLambdaReservedConcurrency::test_function_concurrency_exceptions", "put_function_concurrency_with_function_name_doesnotexist_and_invalid_concurrency", func() error {
			_, err := h.client.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String("doesnotexist"), ReservedConcurrentExecutions: aws.Int32(-1)})
			return err
		}},
		{"TestLambdaReservedConcurrency::test_function_concurrency_exceptions", "put_function_concurrency_with_qualified_arn", func() error {
			_, err := h.client.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String(arn + ":1"), ReservedConcurrentExecutions: aws.Int32(1)})
			return err
		}},
	}
	for _, st := range steps {
		_ = st.do()
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
