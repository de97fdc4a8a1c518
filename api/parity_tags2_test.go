package api

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// Re-enactments of TestLambdaTags (function tags seen through ListTags and
// GetFunction; every tag change is a new RevisionId).

// createTaggedFn creates the scenarios' function (handler.handler, 30 s,
// empty environment) with tags.
func (p *parity) createTaggedFn(name string, tags map[string]string) {
	p.createFn(name, func(in *lambda.CreateFunctionInput) {
		in.Handler = aws.String("handler.handler")
		in.Timeout = aws.Int32(30)
		in.Environment = &types.Environment{Variables: map[string]string{}}
		in.Tags = tags
	}, true)
}

var _ = registerParity("TestLambdaTags::test_tag_lifecycle", []string{"tags-life"}, func(p *parity) {
	name := "tags-life"
	arn := functionArn(scope{Account: testAccount, Region: "us-east-1"}, name)
	p.createTaggedFn(name, map[string]string{"key_a": "value_a"})
	look := func(suffix string) {
		_, _ = p.h.client.ListTags(p.ctx, &lambda.ListTagsInput{Resource: aws.String(arn)})
		p.check("list_tags_response_" + suffix)
		p.getFn(name, "")
		p.check("get_fn_response_" + suffix)
	}
	look("postfncreate")
	_, _ = p.h.client.TagResource(p.ctx, &lambda.TagResourceInput{Resource: aws.String(arn),
		Tags: map[string]string{"key_b": "value_b", "key_c": "value_c", "key_d": "value_d", "key_e": "value_e"}})
	p.check("tag_resource_response")
	look("postaddtags")
	_, _ = p.h.client.TagResource(p.ctx, &lambda.TagResourceInput{Resource: aws.String(arn), Tags: map[string]string{"key_c": "value_x"}})
	p.check("tag_resource_overwrite")
	look("overwrite")
	_, _ = p.h.client.UntagResource(p.ctx, &lambda.UntagResourceInput{Resource: aws.String(arn), TagKeys: []string{"key_c", "key_d"}})
	look("postuntag")
	_, _ = p.h.client.UntagResource(p.ctx, &lambda.UntagResourceInput{Resource: aws.String(arn), TagKeys: []string{"key_a", "key_b", "key_e"}})
	look("postuntagall")
	if _, err := p.h.client.DeleteFunction(p.ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String(name)}); err != nil {
		p.t.Fatal(err)
	}
	_, _ = p.h.client.ListTags(p.ctx, &lambda.ListTagsInput{Resource: aws.String(arn)})
	p.check("list_tags_postdelete")
})

var _ = registerParity("TestLambdaTags::test_tag_limits", []string{"tags-limit"}, func(p *parity) {
	name := "tags-limit"
	arn := functionArn(scope{Account: testAccount, Region: "us-east-1"}, name)
	tags := func(n int) map[string]string {
		m := map[string]string{}
		for i := range n {
			m[fmt.Sprintf("%d_key", i)] = fmt.Sprintf("%d_value", i)
		}
		return m
	}
	p.createTaggedFn(name, nil)
	_, _ = p.h.client.TagResource(p.ctx, &lambda.TagResourceInput{Resource: aws.String(arn), Tags: tags(51)})
	p.check("tag_lambda_too_many_tags")
	_, _ = p.h.client.TagResource(p.ctx, &lambda.TagResourceInput{Resource: aws.String(arn), Tags: tags(50)})
	p.check("tag_response")
	_, _ = p.h.client.ListTags(p.ctx, &lambda.ListTagsInput{Resource: aws.String(arn)})
	p.check("list_tags_response")
	p.getFn(name, "")
	p.check("get_fn_response")
	_, _ = p.h.client.TagResource(p.ctx, &lambda.TagResourceInput{Resource: aws.String(arn), Tags: map[string]string{"a_key": "a_value"}})
	p.check("tag_lambda_too_many_tags_additional")
	in := createInput(p.t, "tags-limit-2")
	in.Tags = tags(51)
	_, _ = p.h.client.CreateFunction(p.ctx, in)
	p.check("create_function_invalid_tags")
})

var _ = registerParity("TestLambdaTags::test_tag_versions", []string{"tags-versions"}, func(p *parity) {
	name := "tags-versions"
	arn := functionArn(scope{Account: testAccount, Region: "us-east-1"}, name)
	p.createTaggedFn(name, map[string]string{"key_a": "value_a"})
	p.publish(&lambda.PublishVersionInput{FunctionName: aws.String(name)})
	_, _ = p.h.client.TagResource(p.ctx, &lambda.TagResourceInput{Resource: aws.String(arn + ":1"), Tags: map[string]string{"key_b": "value_b"}})
	p.check("tag_resource_exception")
	_, _ = p.h.client.TagResource(p.ctx, &lambda.TagResourceInput{Resource: aws.String(arn + ":$LATEST"), Tags: map[string]string{"key_b": "value_b"}})
	p.check("tag_resource_latest_exception")
})
