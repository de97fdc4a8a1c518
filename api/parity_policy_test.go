package api

import (
	"encoding/json"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// Re-enactments of TestLambdaPermissions and the layer policy tests.

// parsePolicyMembers turns the JSON strings boto3 returns in Policy and
// Statement into objects, as the recordings show them.
func parsePolicyMembers(got map[string]any) {
	for _, k := range []string{"Policy", "Statement"} {
		if s, ok := got[k].(string); ok {
			var v any
			if json.Unmarshal([]byte(s), &v) == nil {
				got[k] = v
			}
		}
	}
}

func (p *parity) checkPolicy(label string) {
	p.t.Helper()
	p.checkWith(label, "<location>", parsePolicyMembers)
}

// replace adds normaliser replacements (old, new pairs) ahead of the others.
func (p *parity) replace(pairs ...string) { p.n.replace = append(pairs, p.n.replace...) }

func (p *parity) addPermission(in *lambda.AddPermissionInput) {
	_, _ = p.h.client.AddPermission(p.ctx, in)
}

func (p *parity) getPolicy(name, qualifier string) {
	in := &lambda.GetPolicyInput{FunctionName: aws.String(name)}
	if qualifier != "" {
		in.Qualifier = aws.String(qualifier)
	}
	_, _ = p.h.client.GetPolicy(p.ctx, in)
}

func s3Permission(name, sid, bucket string) *lambda.AddPermissionInput {
	in := &lambda.AddPermissionInput{FunctionName: aws.String(name), StatementId: aws.String(sid),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("s3.amazonaws.com")}
	if bucket != "" {
		in.SourceArn = aws.String("arn:aws:s3:::" + bucket)
	}
	return in
}

// addFirstPermission adds in to its function's policy and checks the answer
// and the unqualified policy after it (the recordings' add_permission and
// get_policy).
func (p *parity) addFirstPermission(in *lambda.AddPermissionInput) {
	p.t.Helper()
	p.addPermission(in)
	p.checkPolicy("add_permission")
	p.getPolicy(aws.ToString(in.FunctionName), "")
	p.checkPolicy("get_policy")
}

var _ = registerParity("TestLambdaPermissions::test_add_lambda_permission_aws", []string{"perm-aws"}, func(p *parity) {
	name := "perm-aws"
	p.replace("perm-bucket-aws", "<resource:3>")
	p.createFn(name, func(in *lambda.CreateFunctionInput) {
		in.Handler = aws.String("handler.handler")
		in.Environment = &types.Environment{Variables: map[string]string{}}
		in.Timeout = aws.Int32(30)
	}, true)
	p.check("create_lambda")
	p.addFirstPermission(s3Permission(name, "s3", "perm-bucket-aws"))
})

var _ = registerParity("TestLambdaPermissions::test_remove_multi_permissions", nil, func(p *parity) {
	name := "perm-multi"
	p.replace(name, "<resource:1>", "perm-bucket-multi", "<resource:2>")
	p.createFn(name, nil, true)
	p.addPermission(s3Permission(name, "s3", ""))
	p.checkPolicy("add_permission_1")
	in := s3Permission(name, "sqs", "perm-bucket-multi")
	in.Principal = aws.String("sqs.amazonaws.com")
	p.addPermission(in)
	p.checkPolicy("add_permission_2")
	p.getPolicy(name, "")
	p.checkPolicy("policy_after_2_add")
	_, _ = p.h.client.RemovePermission(p.ctx, &lambda.RemovePermissionInput{FunctionName: aws.String(name), StatementId: aws.String("non-existent")})
	p.checkPolicy("remove_permission_exception_nonexisting_sid")
	if _, err := p.h.client.RemovePermission(p.ctx, &lambda.RemovePermissionInput{FunctionName: aws.String(name), StatementId: aws.String("sqs")}); err != nil {
		p.t.Fatal(err)
	}
	p.getPolicy(name, "")
	p.checkPolicy("policy_after_removal")
	_, _ = p.h.client.RemovePermission(p.ctx, &lambda.RemovePermissionInput{FunctionName: aws.String(name), StatementId: aws.String("sqs")})
	p.getPolicy(name, "")
	p.checkPolicy("policy_after_removal_attempt")
	if _, err := p.h.client.RemovePermission(p.ctx, &lambda.RemovePermissionInput{FunctionName: aws.String(name), StatementId: aws.String("s3")}); err != nil {
		p.t.Fatal(err)
	}
	p.getPolicy(name, "")
	p.checkPolicy("get_policy_exception_removed_all")
})

var _ = registerParity("TestLambdaPermissions::test_create_multiple_lambda_permissions", nil, func(p *parity) {
	name := "perm-many"
	p.replace(name, "<resource:1>")
	p.createFn(name, nil, true)
	in := s3Permission(name, "logs", "")
	in.Principal = aws.String("logs.amazonaws.com")
	p.addPermission(in)
	p.checkPolicy("add_permission_response_1")
	in = s3Permission(name, "kinesis", "")
	in.Principal = aws.String("kinesis.amazonaws.com")
	p.addPermission(in)
	p.checkPolicy("add_permission_response_2")
	p.getPolicy(name, "")
	p.checkPolicy("policy_after_2_add")
})

var _ = registerParity("TestLambdaPermissions::test_permission_exceptions", nil, func(p *parity) {
	name := "perm-exc"
	p.replace(name, "<function-name>")
	p.createFn(name, nil, true)
	in := s3Permission(name, "example.com", "")
	p.addPermission(in)
	p.checkPolicy("add_permission_invalid_statement_id")
	in = s3Permission(name+":alias", "s3", "")
	in.Qualifier = aws.String("other")
	p.addPermission(in)
	p.checkPolicy("add_permission_fn_qualifier_mismatch")
	in = s3Permission(name, "s3", "")
	in.Qualifier = aws.String("$LATEST")
	p.addPermission(in)
	p.checkPolicy("add_permission_fn_qualifier_latest")
	in = s3Permission(name, "s3", "")
	in.Principal = aws.String("invalid.nonaws.com")
	p.addPermission(in)
	p.checkPolicy("add_permission_principal_invalid")
	p.getPolicy("doesnotexist", "")
	p.checkPolicy("get_policy_fn_doesnotexist")
	p.getPolicy(name, "42")
	p.checkPolicy("get_policy_fn_version_doesnotexist")
	p.addPermission(s3Permission("doesnotexist", "s3", ""))
	p.checkPolicy("add_permission_fn_doesnotexist")
	_, _ = p.h.client.RemovePermission(p.ctx, &lambda.RemovePermissionInput{FunctionName: aws.String(name), StatementId: aws.String("s3")})
	p.checkPolicy("remove_permission_policy_doesnotexist")
	in = s3Permission(name, "s3", "")
	in.Qualifier = aws.String("alias-doesnotexist")
	p.addPermission(in)
	p.checkPolicy("add_permission_fn_alias_doesnotexist")
	in = s3Permission(name, "s3", "")
	in.Qualifier = aws.String("42")
	p.addPermission(in)
	p.checkPolicy("add_permission_fn_version_doesnotexist")
	in = s3Permission(name, "s3", "")
	in.Qualifier = aws.String("invalid-qualifier-with-?-char")
	p.addPermission(in)
	p.checkPolicy("add_permission_fn_qualifier_invalid")
	in = s3Permission(name, "s3", "")
	in.Qualifier = aws.String("valid-with-$-but-doesnotexist")
	p.addPermission(in)
	p.checkPolicy("add_permission_fn_qualifier_valid_doesnotexist")
	p.addPermission(s3Permission(name, "s3", ""))
	p.addPermission(s3Permission(name, "s3", ""))
	p.checkPolicy("add_permission_conflicting_statement_id")
	_, _ = p.h.client.RemovePermission(p.ctx, &lambda.RemovePermissionInput{FunctionName: aws.String("doesnotexist"), StatementId: aws.String("s3")})
	p.checkPolicy("remove_permission_fn_doesnotexist")
	_, _ = p.h.client.RemovePermission(p.ctx, &lambda.RemovePermissionInput{FunctionName: aws.String(name), StatementId: aws.String("s3"), Qualifier: aws.String("alias-doesnotexist")})
	p.checkPolicy("remove_permission_fn_alias_doesnotexist")
})

var _ = registerParity("TestLambdaPermissions::test_add_lambda_permission_fields", nil, func(p *parity) {
	name := "perm-fields"
	p.replace(name, "<resource:1>", "perm-bucket-fields", "<resource:3>", "role/perm-user", "<resource:2>")
	p.createFn(name, nil, true)
	in := &lambda.AddPermissionInput{FunctionName: aws.String(name), StatementId: aws.String("wilcard"),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("*"), SourceAccount: aws.String(testAccount)}
	p.addPermission(in)
	p.checkPolicy("add_permission_principal_wildcard")
	in = &lambda.AddPermissionInput{FunctionName: aws.String(name), StatementId: aws.String("lambda"),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("lambda.amazonaws.com"), SourceAccount: aws.String(testAccount)}
	p.addPermission(in)
	p.checkPolicy("add_permission_principal_service")
	in = &lambda.AddPermissionInput{FunctionName: aws.String(name), StatementId: aws.String("account-id"),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String(testAccount)}
	p.addPermission(in)
	p.replace(":root", ":<resource:2>")
	p.checkPolicy("add_permission_principal_account")
	in = &lambda.AddPermissionInput{FunctionName: aws.String(name), StatementId: aws.String("user-arn"),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("arn:aws:iam::111111111111:user/perm-user"), SourceAccount: aws.String(testAccount)}
	p.addPermission(in)
	p.replace("arn:<partition>:iam::111111111111:user/perm-user", "<user_arn>")
	p.checkPolicy("add_permission_principal_arn")
	in = &lambda.AddPermissionInput{FunctionName: aws.String(name), StatementId: aws.String("urlPermission"),
		Action: aws.String("lambda:InvokeFunctionUrl"), Principal: aws.String("*"), SourceAccount: aws.String(testAccount),
		SourceArn: aws.String("arn:aws:s3:::perm-bucket-fields"), PrincipalOrgID: aws.String("o-1234567890"),
		FunctionUrlAuthType: types.FunctionUrlAuthTypeNone}
	p.addPermission(in)
	p.checkPolicy("add_permission_optional_fields")
	in = &lambda.AddPermissionInput{FunctionName: aws.String(name), StatementId: aws.String("alexaSkill"),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("*"),
		EventSourceToken: aws.String("amzn1.ask.skill.xxxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx")}
	p.addPermission(in)
	p.checkPolicy("add_permission_alexa_skill")
})

// test_lambda_permission_revisions was recorded in 2022; its source is no
// longer public. The steps after the RevisionId errors are inferred from the
// recorded RevisionIds: s3_2 went to the function and to version 1 after the
// publish (the unqualified policy shares its RevisionId with $LATEST, which
// a publish would have moved), then s3_3 to version 1.
var _ = registerParity("TestLambdaPermissions::test_lambda_permission_revisions", []string{"perm-rev"}, func(p *parity) {
	name := "perm-rev"
	p.replace("perm-bucket-rev", "<resource:1>")
	p.createFn(name, nil, true)
	in := s3Permission(name, "s3", "perm-bucket-rev")
	in.RevisionId = aws.String("wrong")
	if _, err := p.h.client.AddPermission(p.ctx, in); err == nil {
		p.t.Error("AddPermission with a wrong RevisionId succeeded")
	}
	p.addPermission(s3Permission(name, "s3", "perm-bucket-rev"))
	_, _ = p.h.client.RemovePermission(p.ctx, &lambda.RemovePermissionInput{FunctionName: aws.String(name), StatementId: aws.String("s3"), RevisionId: aws.String("wrong")})
	p.checkPolicy("remove_permission_fn_revision_id_doesnotmatch")
	p.publish(&lambda.PublishVersionInput{FunctionName: aws.String(name)})
	p.addPermission(bucketPermission(name, "", "s3_2", "perm-bucket-rev", ""))
	p.addPermission(bucketPermission(name, "1", "s3_2", "perm-bucket-rev", ""))
	p.getPolicy(name, "")
	p.checkPolicy("get_policy_after_publish_version")
	p.getPolicy(name, "1")
	p.checkPolicy("get_policy_v1_after_publish_version")
	// get_function_fn8* and fn9* recorded python3.8 functions (unmatchable);
	// their RevisionIds, compared alone, still must be the policies'.
	p.checkFunctionRevision("get_function_fn8", name, "")
	p.checkFunctionRevision("get_function_fn8_v1", name, "1")
	p.addPermission(bucketPermission(name, "1", "s3_3", "perm-bucket-rev", ""))
	p.checkFunctionRevision("get_function_fn9", name, "")
	p.checkFunctionRevision("get_function_fn9_v1", name, "1")
	p.getPolicy(name, "1")
	p.checkPolicy("get_policy_v1_after_add_permission9")
})

// checkFunctionRevision compares only Configuration.RevisionId of GetFunction
// with the recorded label's; it does not count the label.
func (p *parity) checkFunctionRevision(label, name, qualifier string) {
	p.t.Helper()
	p.getFn(name, qualifier)
	got := p.n.normalise(p.h.rec.lastResponse().boto3View(p.t), "<location>")
	want := expected(p.t, p.snap, label)
	g, _ := got["Configuration"].(map[string]any)
	w, _ := want["Configuration"].(map[string]any)
	if g == nil || w == nil || g["RevisionId"] != w["RevisionId"] {
		p.t.Errorf("%s: RevisionId %v, recorded %v", label, g["RevisionId"], w["RevisionId"])
	}
}

var _ = registerParity("TestLambdaLayer::test_layer_policy_lifecycle", nil, func(p *parity) {
	layer := "policy-layer"
	p.replace(layer, "<resource:1>")
	if _, err := p.h.client.PublishLayerVersion(p.ctx, &lambda.PublishLayerVersionInput{LayerName: aws.String(layer),
		Content: &types.LayerVersionContentInput{ZipFile: zipOf(p.t, map[string]string{"python/x.py": "X = 1\n"})}}); err != nil {
		p.t.Fatal(err)
	}
	add := func(sid string) {
		_, _ = p.h.client.AddLayerVersionPermission(p.ctx, &lambda.AddLayerVersionPermissionInput{LayerName: aws.String(layer), VersionNumber: aws.Int64(1),
			StatementId: aws.String(sid), Action: aws.String("lambda:GetLayerVersion"), Principal: aws.String("*")})
	}
	get := func() {
		_, _ = p.h.client.GetLayerVersionPolicy(p.ctx, &lambda.GetLayerVersionPolicyInput{LayerName: aws.String(layer), VersionNumber: aws.Int64(1)})
	}
	add("s1")
	p.checkPolicy("add_policy_s1")
	get()
	p.checkPolicy("get_layer_version_policy")
	add("s2")
	p.checkPolicy("add_policy_s2")
	get()
	p.checkPolicy("get_layer_version_policy_postadd2")
	if _, err := p.h.client.RemoveLayerVersionPermission(p.ctx, &lambda.RemoveLayerVersionPermissionInput{LayerName: aws.String(layer), VersionNumber: aws.Int64(1), StatementId: aws.String("s2")}); err != nil {
		p.t.Fatal(err)
	}
	get()
	p.checkPolicy("get_layer_version_policy_postdeletes2")
})

var _ = registerParity("TestLambdaLayer::test_layer_policy_exceptions", nil, func(p *parity) {
	layer := "policy-exc-layer"
	p.replace(layer, "<resource:1>")
	if _, err := p.h.client.PublishLayerVersion(p.ctx, &lambda.PublishLayerVersionInput{LayerName: aws.String(layer),
		Content: &types.LayerVersionContentInput{ZipFile: zipOf(p.t, map[string]string{"python/x.py": "X = 1\n"})}}); err != nil {
		p.t.Fatal(err)
	}
	get := func(name string, v int64) {
		_, _ = p.h.client.GetLayerVersionPolicy(p.ctx, &lambda.GetLayerVersionPolicyInput{LayerName: aws.String(name), VersionNumber: aws.Int64(v)})
	}
	add := func(name string, v int64, sid, action, rev string) {
		in := &lambda.AddLayerVersionPermissionInput{LayerName: aws.String(name), VersionNumber: aws.Int64(v),
			StatementId: aws.String(sid), Action: aws.String(action), Principal: aws.String("*")}
		if rev != "" {
			in.RevisionId = aws.String(rev)
		}
		_, _ = p.h.client.AddLayerVersionPermission(p.ctx, in)
	}
	remove := func(name string, v int64, sid, rev string) {
		in := &lambda.RemoveLayerVersionPermissionInput{LayerName: aws.String(name), VersionNumber: aws.Int64(v), StatementId: aws.String(sid)}
		if rev != "" {
			in.RevisionId = aws.String(rev)
		}
		_, _ = p.h.client.RemoveLayerVersionPermission(p.ctx, in)
	}
	get(layer, 1)
	p.checkPolicy("layer_permission_nopolicy_get")
	add(layer, 1, "s1", "lambda:GetLayerVersion", "")
	p.checkPolicy("add_layer_permission_result")
	add(layer, 1, "s2", "*", "")
	p.checkPolicy("layer_permission_action_invalid")
	add(layer, 1, "s1", "lambda:GetLayerVersion", "")
	p.checkPolicy("layer_permission_duplicate_statement")
	add(layer, 1, "s3", "lambda:GetLayerVersion", "wrong")
	p.checkPolicy("layer_permission_wrong_revision")
	add(layer+"-doesnotexist", 1, "s1", "lambda:GetLayerVersion", "")
	p.checkPolicy("layer_permission_layername_doesnotexist_add")
	get(layer+"-doesnotexist", 1)
	p.checkPolicy("layer_permission_layername_doesnotexist_get")
	remove(layer+"-doesnotexist", 1, "s1", "")
	p.checkPolicy("layer_permission_layername_doesnotexist_remove")
	add(layer, 2, "s1", "lambda:GetLayerVersion", "")
	p.checkPolicy("layer_permission_layerversion_doesnotexist_add")
	get(layer, 2)
	p.checkPolicy("layer_permission_layerversion_doesnotexist_get")
	remove(layer, 2, "s1", "")
	p.checkPolicy("layer_permission_layerversion_doesnotexist_remove")
	remove(layer, 1, "doesnotexist", "")
	p.checkPolicy("layer_permission_statementid_doesnotexist_remove")
	remove(layer, 1, "s1", "wrong")
	p.checkPolicy("layer_permission_wrong_revision_remove")
})
