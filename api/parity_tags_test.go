package api

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// Re-enactments of TestLambdaTag for functions (and their versions and aliases).

func tagLifecycle(p *parity) {
	name := "tag-life"
	p.createFn(name, nil, true)
	tagLifecycleOn(p, functionArn(scope{Account: testAccount, Region: "us-east-1"}, name))
}

// tagLifecycleOn re-enacts test_tag_lifecycle's tag and untag steps on res,
// each checked with the ListTags that follows it.
func tagLifecycleOn(p *parity, res string) {
	tag := func(label string, tags map[string]string) {
		_, _ = p.h.client.TagResource(p.ctx, &lambda.TagResourceInput{Resource: aws.String(res), Tags: tags})
		p.check(label)
		_, _ = p.h.client.ListTags(p.ctx, &lambda.ListTagsInput{Resource: aws.String(res)})
		p.check(label + "_listtags")
	}
	untag := func(label string, keys ...string) {
		_, _ = p.h.client.UntagResource(p.ctx, &lambda.UntagResourceInput{Resource: aws.String(res), TagKeys: keys})
		p.check(label)
		_, _ = p.h.client.ListTags(p.ctx, &lambda.ListTagsInput{Resource: aws.String(res)})
		p.check(label + "_listtags")
	}
	tag("tag_single_response", map[string]string{"A": "tag-a"})
	tag("tag_multiple_response", map[string]string{"B": "tag-b", "C": "tag-c"})
	tag("tag_overlap_response", map[string]string{"C": "tag-c-newsuffix", "D": "tag-d"})
	untag("untag_single_response", "A")
	untag("untag_multiple_response", "B", "C")
	untag("untag_nonexisting_response", "F")
	untag("untag_existing_and_nonexisting_response", "D", "F")
}

// tagNotFound re-enacts the not-found checks of test_tag_exceptions: tag,
// untag and list on res, which names nothing.
func tagNotFound(p *parity, res string) {
	_, _ = p.h.client.TagResource(p.ctx, &lambda.TagResourceInput{Resource: aws.String(res), Tags: map[string]string{"A": "a"}})
	p.check("not_found_exception_tag")
	_, _ = p.h.client.UntagResource(p.ctx, &lambda.UntagResourceInput{Resource: aws.String(res), TagKeys: []string{"A"}})
	p.check("not_found_exception_untag")
	_, _ = p.h.client.ListTags(p.ctx, &lambda.ListTagsInput{Resource: aws.String(res)})
	p.check("not_found_exception_list")
}

// tagBadArns re-enacts the ARN checks of test_tag_exceptions: res with an
// alias, and id under a resource type that does not exist.
func tagBadArns(p *parity, res, id string) {
	_, _ = p.h.client.TagResource(p.ctx, &lambda.TagResourceInput{Resource: aws.String(res + ":alias"), Tags: map[string]string{"A": "a"}})
	p.check("aliased_arn_exception")
	_, _ = p.h.client.TagResource(p.ctx, &lambda.TagResourceInput{Resource: aws.String("arn:aws:lambda:us-east-1:111111111111:foobar:" + id), Tags: map[string]string{"A": "a"}})
	p.check("invalid_arn_exception")
}

var _ = registerParity("TestLambdaTag::test_tag_lifecycle", nil, tagLifecycle)
var _ = registerParity("TestLambdaTag::test_tag_lifecycle[lambda_function]", nil, tagLifecycle)

var _ = registerParity("TestLambdaTag::test_tag_exceptions[lambda_function]", nil, func(p *parity) {
	name := "tag-exc"
	p.replace(name, "<resource-name>")
	res := functionArn(scope{Account: testAccount, Region: "us-east-1"}, name)
	tagNotFound(p, res)
	p.createFn(name, nil, true)
	p.publish(&lambda.PublishVersionInput{FunctionName: aws.String(name)})
	p.createAlias(name, "alias", "1", "", nil)
	tagBadArns(p, res, name)
})

var _ = registerParity("TestLambdaTag::test_tag_nonexisting_resource", []string{"tag-gone"}, func(p *parity) {
	name := "tag-gone"
	p.createHandlerFnPlain(name)
	p.getFn(name, "")
	p.check("pre_delete_get_function")
	if _, err := p.h.client.DeleteFunction(p.ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String(name)}); err != nil {
		p.t.Fatal(err)
	}
	res := functionArn(scope{Account: testAccount, Region: "us-east-1"}, name)
	tagNotFound(p, res)
})

var _ = registerParity("TestLambdaTag::test_create_tag_on_fn_create", []string{"tag-create"}, func(p *parity) {
	name := "tag-create"
	p.replace("tag-value-1", "<custom-tag>")
	p.createFn(name, func(in *lambda.CreateFunctionInput) {
		in.Tags = map[string]string{"testtag": "tag-value-1"}
		in.Handler = aws.String("handler.handler")
		in.Timeout = aws.Int32(30)
		in.Environment = &types.Environment{Variables: map[string]string{}}
	}, true)
	p.getFn(name, "")
	p.check("get_function_result")
	_, _ = p.h.client.ListTags(p.ctx, &lambda.ListTagsInput{Resource: aws.String(functionArn(scope{Account: testAccount, Region: "us-east-1"}, name))})
	p.check("list_tags_result")
})
