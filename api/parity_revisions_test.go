package api

import (
	"reflect"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// Re-enactments of TestLambdaRevisions and TestLambdaReservedConcurrency.

func (p *parity) createRevFn(name string, handler ...string) {
	p.t.Helper()
	p.createFn(name, func(in *lambda.CreateFunctionInput) {
		if len(handler) > 0 {
			in.Handler = aws.String(handler[0])
		}
		in.Timeout = aws.Int32(30)
		in.Environment = &types.Environment{Variables: map[string]string{}}
	}, true)
}

var _ = registerParity("TestLambdaRevisions::test_function_revisions_basic", []string{"rev-basic"}, func(p *parity) {
	name := "rev-basic"
	p.replace("runtime:"+runtimeHash("python3.8"), "runtime:<resource:3>")
	p.createRevFn(name)
	p.check("create_function_response_rev1")
	p.getFn(name, "")
	p.check("get_function_response_rev2")
	_, _ = p.h.client.UpdateFunctionCode(p.ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String(name),
		ZipFile: zipOf(p.t, map[string]string{"index.py": "def handler(event, context):\n    return event\n"}), RevisionId: aws.String("wrong")})
	p.check("update_function_revision_exception")
	rev := p.revisionNoRecord(name)
	_, _ = p.h.client.UpdateFunctionCode(p.ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String(name),
		ZipFile: zipOf(p.t, map[string]string{"index.py": "def handler(event, context):\n    return event\n"}), RevisionId: aws.String(rev)})
	p.check("update_function_code_response_rev3")
	waitUpdated(p.t, p.h.client, name)
	p.getFn(name, "")
	p.check("get_function_response_rev4")
	_, _ = p.h.client.UpdateFunctionConfiguration(p.ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String(name), Runtime: types.RuntimePython38, RevisionId: aws.String("wrong")})
	p.check("update_function_configuration_revision_exception")
	rev = p.revisionNoRecord(name)
	_, _ = p.h.client.UpdateFunctionConfiguration(p.ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String(name), Runtime: types.RuntimePython38, RevisionId: aws.String(rev)})
	p.check("update_function_configuration_response_rev5")
	waitUpdated(p.t, p.h.client, name)
	p.getFn(name, "")
	p.check("get_function_response_rev6")
})

var _ = registerParity("TestLambdaRevisions::test_function_revisions_version_and_alias", []string{"rev-va"}, func(p *parity) {
	name := "rev-va"
	p.createRevFn(name, "handler.handler")
	p.check("create_function_response_rev1")
	p.getFn(name, "")
	p.check("get_function_active_rev2")
	p.publish(&lambda.PublishVersionInput{FunctionName: aws.String(name), RevisionId: aws.String("wrong")})
	p.check("publish_version_revision_exception")
	p.publish(&lambda.PublishVersionInput{FunctionName: aws.String(name), RevisionId: aws.String(p.revisionNoRecord(name))})
	p.check("publish_version_response_rev_v1")
	p.getFn(name, "1")
	p.check("get_function_published_version_rev_v2")
	p.getFn(name, "")
	p.check("get_function_latest_rev3")
	p.createAlias(name, "revision_alias", "1", "", nil)
	p.check("create_alias_response_rev_a1")
	p.getFn(name, "")
	p.check("get_function_latest_rev4")
	p.getFn(name, "1")
	p.check("get_function_published_version_rev_v3")
	_, _ = p.h.client.UpdateAlias(p.ctx, &lambda.UpdateAliasInput{FunctionName: aws.String(name), Name: aws.String("revision_alias"),
		Description: aws.String("something changed"), RevisionId: aws.String("wrong")})
	p.check("update_alias_revision_exception")
	a, err := p.h.client.GetAlias(p.ctx, &lambda.GetAliasInput{FunctionName: aws.String(name), Name: aws.String("revision_alias")})
	if err != nil {
		p.t.Fatal(err)
	}
	_, _ = p.h.client.UpdateAlias(p.ctx, &lambda.UpdateAliasInput{FunctionName: aws.String(name), Name: aws.String("revision_alias"),
		Description: aws.String("something changed"), RevisionId: a.RevisionId})
	p.check("update_alias_response_rev_a2")
})

var _ = registerParity("TestLambdaRevisions::test_function_revisions_permissions", []string{"rev-perm"}, func(p *parity) {
	name := "rev-perm"
	p.createRevFn(name, "handler.handler")
	rev2 := p.revisionNoRecord(name)
	in := &lambda.AddPermissionInput{FunctionName: aws.String(name), StatementId: aws.String("s3"),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("s3.amazonaws.com"), RevisionId: aws.String("wrong")}
	p.addPermission(in)
	p.checkWithRequestID("add_permission_revision_exception")
	// The steps the recording kept no answer of: the function's RevisionId
	// is accepted while there is no policy, and becomes the policy's.
	in.RevisionId = aws.String(rev2)
	if _, err := p.h.client.AddPermission(p.ctx, in); err != nil {
		p.t.Fatalf("AddPermission with the function's RevisionId: %v", err)
	}
	rev3 := p.policyRevision(name, "")
	if rev3 == rev2 || p.revisionNoRecord(name) != rev3 {
		p.t.Errorf("after AddPermission: policy RevisionId %s, function %s (was %s); want a new one shared by both", rev3, p.revisionNoRecord(name), rev2)
	}
	if _, err := p.h.client.RemovePermission(p.ctx, &lambda.RemovePermissionInput{FunctionName: aws.String(name), StatementId: aws.String("s3"), RevisionId: aws.String("wrong")}); err == nil {
		p.t.Error("RemovePermission with a wrong RevisionId succeeded")
	}
	if _, err := p.h.client.RemovePermission(p.ctx, &lambda.RemovePermissionInput{FunctionName: aws.String(name), StatementId: aws.String("s3"), RevisionId: aws.String(rev3)}); err != nil {
		p.t.Fatalf("RemovePermission with the policy's RevisionId: %v", err)
	}
	if rev4 := p.revisionNoRecord(name); rev4 == rev3 {
		p.t.Errorf("RemovePermission left the function's RevisionId at %s", rev4)
	}
})

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// checkWithRequestID is check for a recording that kept boto3's
// ResponseMetadata.RequestId and RetryAttempts (the recorder scrubbed the
// other ids, not these). lamb's RequestId is the X-Amzn-RequestId it sent,
// as boto3 reads it; both ids must be UUIDs and then compare as one
// placeholder, as the recorder's own uuid transformer would have made them.
func (p *parity) checkWithRequestID(label string) {
	p.t.Helper()
	rr := p.h.rec.lastResponse()
	got := p.n.normalise(rr.boto3View(p.t), "<location>")
	want := expected(p.t, p.snap, label)
	gmd, _ := got["ResponseMetadata"].(map[string]any)
	wmd, _ := want["ResponseMetadata"].(map[string]any)
	if gmd == nil || wmd == nil {
		p.t.Fatalf("%s: no ResponseMetadata", label)
	}
	gmd["RequestId"] = rr.header.Get("X-Amzn-RequestId")
	gmd["RetryAttempts"] = float64(0) // the SDK does not retry a 4xx answer
	for _, md := range []map[string]any{gmd, wmd} {
		if id, _ := md["RequestId"].(string); uuidPattern.MatchString(id) {
			md["RequestId"] = "<request-id>"
		}
	}
	if !reflect.DeepEqual(got, want) {
		p.t.Errorf("%s differs from AWS's recording:\n%s", label, strings.Join(jsonDiff("", got, want), "\n"))
		return
	}
	tallyParity(p.snap.id, label)
}

var _ = registerParity("TestLambdaReservedConcurrency::test_function_concurrency_exceptions", nil, func(p *parity) {
	name := "rc-exc"
	p.createRevFn(name)
	_, _ = p.h.client.PutFunctionConcurrency(p.ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String("doesnotexist"), ReservedConcurrentExecutions: aws.Int32(1)})
	p.check("put_function_concurrency_with_function_name_doesnotexist")
	_, _ = p.h.client.PutFunctionConcurrency(p.ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String("doesnotexist"), ReservedConcurrentExecutions: aws.Int32(-1)})
	p.check("put_function_concurrency_with_function_name_doesnotexist_and_invalid_concurrency")
	p.publish(&lambda.PublishVersionInput{FunctionName: aws.String(name)})
	_, _ = p.h.client.PutFunctionConcurrency(p.ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String(name + ":1"), ReservedConcurrentExecutions: aws.Int32(1)})
	p.check("put_function_concurrency_with_qualified_arn")
})

var _ = registerParity("TestLambdaReservedConcurrency::test_function_concurrency", nil, func(p *parity) {
	name := "rc-life"
	p.createRevFn(name)
	put := func(n int32) {
		_, _ = p.h.client.PutFunctionConcurrency(p.ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String(name), ReservedConcurrentExecutions: aws.Int32(n)})
	}
	put(0)
	p.check("put_function_concurrency_with_reserved_0")
	put(1)
	p.check("put_function_concurrency_with_reserved_1")
	_, _ = p.h.client.GetFunctionConcurrency(p.ctx, &lambda.GetFunctionConcurrencyInput{FunctionName: aws.String(name)})
	p.check("get_function_concurrency")
	_, _ = p.h.client.DeleteFunctionConcurrency(p.ctx, &lambda.DeleteFunctionConcurrencyInput{FunctionName: aws.String(name)})
	p.check("delete_response")
	_, _ = p.h.client.GetFunctionConcurrency(p.ctx, &lambda.GetFunctionConcurrencyInput{FunctionName: aws.String(name)})
	p.check("get_function_concurrency_after_delete")
})

var _ = registerParity("TestLambdaReservedConcurrency::test_function_concurrency_limits", nil, func(p *parity) {
	name := "rc-limits"
	p.replace("[100]", "[<min_unreserved_concurrency>]")
	p.createRevFn(name)
	_, _ = p.h.client.PutFunctionConcurrency(p.ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String(name), ReservedConcurrentExecutions: aws.Int32(accountConcurrency + 1)})
	p.check("put_function_concurrency_account_limit_exceeded")
	_, _ = p.h.client.PutFunctionConcurrency(p.ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String(name), ReservedConcurrentExecutions: aws.Int32(accountConcurrency - minUnreservedConcurrency + 1)})
	p.check("put_function_concurrency_below_unreserved_min_value")
})
