package api

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// Re-enactments of the permission tests that mix policies with versions and
// aliases: a policy per qualifier, each with its own RevisionId.

// bucketPermission is s3Permission for the qualified FunctionName
// name:qualifier with ?Qualifier=qualifier (as the recorded tests call it).
func bucketPermission(name, qualifier, sid, bucket, rev string) *lambda.AddPermissionInput {
	fn := name
	if qualifier != "" {
		fn += ":" + qualifier
	}
	in := s3Permission(fn, sid, bucket)
	if qualifier != "" {
		in.Qualifier = aws.String(qualifier)
	}
	if rev != "" {
		in.RevisionId = aws.String(rev)
	}
	return in
}

// policyRevision reads a policy's RevisionId without disturbing the
// normaliser's numbering (the recorded test reads it from a checked answer).
func (p *parity) policyRevision(name, qualifier string) string {
	p.t.Helper()
	rr := p.h.rec.lastResponse()
	defer func() {
		p.h.rec.mu.Lock()
		p.h.rec.last = rr
		p.h.rec.mu.Unlock()
	}()
	out, err := p.h.client.GetPolicy(p.ctx, getPolicyInput(name, qualifier))
	if err != nil {
		p.t.Fatalf("GetPolicy %s:%s: %v", name, qualifier, err)
	}
	return aws.ToString(out.RevisionId)
}

var _ = registerParity("TestLambdaPermissions::test_lambda_permission_fn_versioning", []string{"perm-fnv"}, func(p *parity) {
	name := "perm-fnv"
	p.replace("perm-bucket-fnv", "<resource:1>", "role/lambda-test-role", "role/<resource:3>",
		"runtime:"+runtimeHash("python3.12"), "runtime:<resource:4>")
	p.createHandlerFnPlain(name)
	p.addFirstPermission(bucketPermission(name, "", "s3", "perm-bucket-fnv", ""))
	p.publish(&lambda.PublishVersionInput{FunctionName: aws.String(name)})
	p.check("publish_version_result")
	p.getFn(name, "")
	p.check("get_function_result_after_publishing")
	// The unqualified policy keeps its RevisionId though $LATEST's moved.
	p.getPolicy(name, "")
	p.checkPolicy("get_policy_after_publishing_latest")
	p.getPolicy(name, "1")
	p.checkPolicy("get_policy_after_publishing_new_version")
	p.addPermission(bucketPermission(name, "1", "s3", "perm-bucket-fnv", ""))
	p.getPolicy(name, "1")
	p.checkPolicy("get_policy_version")
	alias := "permission-alias"
	p.createAlias(name, alias, "1", "", nil)
	p.check("create_alias_response")
	p.getAlias(name, alias)
	p.check("get_alias")
	out, err := p.h.client.GetAlias(p.ctx, &lambda.GetAliasInput{FunctionName: aws.String(name), Name: aws.String(alias)})
	if err != nil {
		p.t.Fatal(err)
	}
	in := bucketPermission(name, "", "s3", "perm-bucket-fnv", "wrong")
	in.Qualifier = aws.String(alias)
	p.addPermission(in)
	p.checkPolicy("add_permission_alias_revision_exception")
	// The alias has no policy yet: its own RevisionId is the one to give.
	if _, err := p.h.client.AddPermission(p.ctx, bucketPermission(name, alias, "s3", "perm-bucket-fnv", aws.ToString(out.RevisionId))); err != nil {
		p.t.Fatalf("AddPermission on the alias with its RevisionId: %v", err)
	}
	p.getPolicy(name, alias)
	p.checkPolicy("get_policy_alias")
	p.getPolicy(name, "")
	p.checkPolicy("get_policy_after_adding_to_new_version")
	// The policy's RevisionId, not $LATEST's, is what AddPermission checks.
	rev := p.policyRevision(name, "")
	if _, err := p.h.client.AddPermission(p.ctx, bucketPermission(name, "", "s3_2", "perm-bucket-fnv", rev)); err != nil {
		p.t.Fatalf("AddPermission with the policy's RevisionId: %v", err)
	}
	p.getPolicy(name, "")
	p.checkPolicy("get_policy_after_adding_2")
})

// test_lambda_permission_versioning (recorded 2022) is the earlier form of
// test_lambda_permission_fn_versioning: the same steps without the alias.
var _ = registerParity("TestLambdaPermissions::test_lambda_permission_versioning", nil, func(p *parity) {
	name := "perm-ver"
	p.replace(name, "<resource:1>", "perm-bucket-ver", "<resource:2>")
	p.createFn(name, nil, true)
	p.addFirstPermission(bucketPermission(name, "", "s3", "perm-bucket-ver", ""))
	p.publish(&lambda.PublishVersionInput{FunctionName: aws.String(name)})
	p.getPolicy(name, "1")
	p.checkPolicy("get_policy_after_publishing_new_version")
})
