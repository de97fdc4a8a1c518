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
	_, _ = p.h.client.GetPolicy(p.ctx, getPolicyInput(name, qualifier))
}

func getPolicyInput(name, qualifier string) *lambda.GetPolicyInput {
	return &lambda.GetPolicyInput{FunctionName: aws.String(name), Qualifier: optional(qualifier)}
}

func removePermissionInput(name, sid string) *lambda.RemovePermissionInput {
	return &lambda.RemovePermissionInput{FunctionName: aws.String(name), StatementId: aws.String(sid)}
}

func s3Permission(name, sid, bucket string) *lambda.AddPermissionInput {
	in := &lambda.AddPermissionInput{FunctionName: aws.String(name), StatementId: aws.String(sid),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("s3.amazonaws.com")}
	if bucket != "" {
		in.SourceArn = aws.String("arn:aws:s3:::" + bucket)
	}
	return in
}

// withPrincipal sets in's Principal and returns in.
func withPrincipal(in *lambda.AddPermissionInput, principal string) *lambda.AddPermissionInput {
	in.Principal = aws.String(principal)
	return in
}

// withQualifier sets in's Qualifier and returns in.
func withQualifier(in *lambda.AddPermissionInput, qualifier string) *lambda.AddPermissionInput {
	in.Qualifier = aws.String(qualifier)
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
	p.sendSteps(p.checkPolicy, []parityStep{
		{"add_permission_1", s3Permission(name, "s3", "")},
		{"add_permission_2", withPrincipal(s3Permission(name, "sqs", "perm-bucket-multi"), "sqs.amazonaws.com")},
		{"policy_after_2_add", getPolicyInput(name, "")},
		{"remove_permission_exception_nonexisting_sid", removePermissionInput(name, "non-existent")},
	})
	p.mustSend(removePermissionInput(name, "sqs"))
	p.sendSteps(p.checkPolicy, []parityStep{
		{"policy_after_removal", getPolicyInput(name, "")},
		{"", removePermissionInput(name, "sqs")},
		{"policy_after_removal_attempt", getPolicyInput(name, "")},
	})
	p.mustSend(removePermissionInput(name, "s3"))
	p.getPolicy(name, "")
	p.checkPolicy("get_policy_exception_removed_all")
})

var _ = registerParity("TestLambdaPermissions::test_create_multiple_lambda_permissions", nil, func(p *parity) {
	name := "perm-many"
	p.replace(name, "<resource:1>")
	p.createFn(name, nil, true)
	p.sendSteps(p.checkPolicy, []parityStep{
		{"add_permission_response_1", withPrincipal(s3Permission(name, "logs", ""), "logs.amazonaws.com")},
		{"add_permission_response_2", withPrincipal(s3Permission(name, "kinesis", ""), "kinesis.amazonaws.com")},
		{"policy_after_2_add", getPolicyInput(name, "")},
	})
})

var _ = registerParity("TestLambdaPermissions::test_permission_exceptions", nil, func(p *parity) {
	name := "perm-exc"
	p.replace(name, "<function-name>")
	p.createFn(name, nil, true)
	p.sendSteps(p.checkPolicy, []parityStep{
		{"add_permission_invalid_statement_id", s3Permission(name, "example.com", "")},
		{"add_permission_fn_qualifier_mismatch", withQualifier(s3Permission(name+":alias", "s3", ""), "other")},
		{"add_permission_fn_qualifier_latest", withQualifier(s3Permission(name, "s3", ""), "$LATEST")},
		{"add_permission_principal_invalid", withPrincipal(s3Permission(name, "s3", ""), "invalid.nonaws.com")},
		{"get_policy_fn_doesnotexist", getPolicyInput("doesnotexist", "")},
		{"get_policy_fn_version_doesnotexist", getPolicyInput(name, "42")},
		{"add_permission_fn_doesnotexist", s3Permission("doesnotexist", "s3", "")},
		{"remove_permission_policy_doesnotexist", removePermissionInput(name, "s3")},
		{"add_permission_fn_alias_doesnotexist", withQualifier(s3Permission(name, "s3", ""), "alias-doesnotexist")},
		{"add_permission_fn_version_doesnotexist", withQualifier(s3Permission(name, "s3", ""), "42")},
		{"add_permission_fn_qualifier_invalid", withQualifier(s3Permission(name, "s3", ""), "invalid-qualifier-with-?-char")},
		{"add_permission_fn_qualifier_valid_doesnotexist", withQualifier(s3Permission(name, "s3", ""), "valid-with-$-but-doesnotexist")},
		{"", s3Permission(name, "s3", "")},
		{"add_permission_conflicting_statement_id", s3Permission(name, "s3", "")},
		{"remove_permission_fn_doesnotexist", removePermissionInput("doesnotexist", "s3")},
		{"remove_permission_fn_alias_doesnotexist", &lambda.RemovePermissionInput{FunctionName: aws.String(name), StatementId: aws.String("s3"), Qualifier: aws.String("alias-doesnotexist")}},
	})
})

var _ = registerParity("TestLambdaPermissions::test_add_lambda_permission_fields", nil, func(p *parity) {
	name := "perm-fields"
	// Only the statement naming the account has :root, only the one naming
	// the user its ARN.
	p.replace(name, "<resource:1>", "perm-bucket-fields", "<resource:3>", "role/perm-user", "<resource:2>")
	p.replace(":root", ":<resource:2>")
	p.replace("arn:<partition>:iam::111111111111:user/perm-user", "<user_arn>")
	p.createFn(name, nil, true)
	perm := func(sid, action, principal string) *lambda.AddPermissionInput {
		return &lambda.AddPermissionInput{FunctionName: aws.String(name), StatementId: aws.String(sid),
			Action: aws.String(action), Principal: aws.String(principal), SourceAccount: aws.String(testAccount)}
	}
	account := perm("account-id", "lambda:InvokeFunction", testAccount)
	account.SourceAccount = nil
	optional := perm("urlPermission", "lambda:InvokeFunctionUrl", "*")
	optional.SourceArn, optional.PrincipalOrgID = aws.String("arn:aws:s3:::perm-bucket-fields"), aws.String("o-1234567890")
	optional.FunctionUrlAuthType = types.FunctionUrlAuthTypeNone
	alexa := perm("alexaSkill", "lambda:InvokeFunction", "*")
	alexa.SourceAccount, alexa.EventSourceToken = nil, aws.String("amzn1.ask.skill.xxxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx")
	p.sendSteps(p.checkPolicy, []parityStep{
		{"add_permission_principal_wildcard", perm("wilcard", "lambda:InvokeFunction", "*")},
		{"add_permission_principal_service", perm("lambda", "lambda:InvokeFunction", "lambda.amazonaws.com")},
		{"add_permission_principal_account", account},
		{"add_permission_principal_arn", perm("user-arn", "lambda:InvokeFunction", "arn:aws:iam::111111111111:user/perm-user")},
		{"add_permission_optional_fields", optional},
		{"add_permission_alexa_skill", alexa},
	})
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
	if err := p.send(bucketPermission(name, "", "s3", "perm-bucket-rev", "wrong")); err == nil {
		p.t.Error("AddPermission with a wrong RevisionId succeeded")
	}
	p.sendSteps(p.checkPolicy, []parityStep{
		{"", s3Permission(name, "s3", "perm-bucket-rev")},
		{"remove_permission_fn_revision_id_doesnotmatch", &lambda.RemovePermissionInput{FunctionName: aws.String(name), StatementId: aws.String("s3"), RevisionId: aws.String("wrong")}},
		{"", &lambda.PublishVersionInput{FunctionName: aws.String(name)}},
		{"", bucketPermission(name, "", "s3_2", "perm-bucket-rev", "")},
		{"", bucketPermission(name, "1", "s3_2", "perm-bucket-rev", "")},
		{"get_policy_after_publish_version", getPolicyInput(name, "")},
		{"get_policy_v1_after_publish_version", getPolicyInput(name, "1")},
	})
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

// publishPolicyLayer publishes version 1 of layer, named <resource:1>.
func (p *parity) publishPolicyLayer(layer string) {
	p.t.Helper()
	p.replace(layer, "<resource:1>")
	p.mustSend(&lambda.PublishLayerVersionInput{LayerName: aws.String(layer),
		Content: &types.LayerVersionContentInput{ZipFile: zipOf(p.t, map[string]string{"python/x.py": "X = 1\n"})}})
}

func layerPermission(layer string, version int64, sid, action, rev string) *lambda.AddLayerVersionPermissionInput {
	return &lambda.AddLayerVersionPermissionInput{LayerName: aws.String(layer), VersionNumber: aws.Int64(version),
		StatementId: aws.String(sid), Action: aws.String(action), Principal: aws.String("*"), RevisionId: optional(rev)}
}

func removeLayerPermission(layer string, version int64, sid, rev string) *lambda.RemoveLayerVersionPermissionInput {
	return &lambda.RemoveLayerVersionPermissionInput{LayerName: aws.String(layer), VersionNumber: aws.Int64(version),
		StatementId: aws.String(sid), RevisionId: optional(rev)}
}

func layerPolicy(layer string, version int64) *lambda.GetLayerVersionPolicyInput {
	return &lambda.GetLayerVersionPolicyInput{LayerName: aws.String(layer), VersionNumber: aws.Int64(version)}
}

var _ = registerParity("TestLambdaLayer::test_layer_policy_lifecycle", nil, func(p *parity) {
	layer := "policy-layer"
	p.publishPolicyLayer(layer)
	p.sendSteps(p.checkPolicy, []parityStep{
		{"add_policy_s1", layerPermission(layer, 1, "s1", "lambda:GetLayerVersion", "")},
		{"get_layer_version_policy", layerPolicy(layer, 1)},
		{"add_policy_s2", layerPermission(layer, 1, "s2", "lambda:GetLayerVersion", "")},
		{"get_layer_version_policy_postadd2", layerPolicy(layer, 1)},
	})
	p.mustSend(removeLayerPermission(layer, 1, "s2", ""))
	p.sendSteps(p.checkPolicy, []parityStep{{"get_layer_version_policy_postdeletes2", layerPolicy(layer, 1)}})
})

var _ = registerParity("TestLambdaLayer::test_layer_policy_exceptions", nil, func(p *parity) {
	layer, missing := "policy-exc-layer", "policy-exc-layer-doesnotexist"
	p.publishPolicyLayer(layer)
	p.sendSteps(p.checkPolicy, []parityStep{
		{"layer_permission_nopolicy_get", layerPolicy(layer, 1)},
		{"add_layer_permission_result", layerPermission(layer, 1, "s1", "lambda:GetLayerVersion", "")},
		{"layer_permission_action_invalid", layerPermission(layer, 1, "s2", "*", "")},
		{"layer_permission_duplicate_statement", layerPermission(layer, 1, "s1", "lambda:GetLayerVersion", "")},
		{"layer_permission_wrong_revision", layerPermission(layer, 1, "s3", "lambda:GetLayerVersion", "wrong")},
		{"layer_permission_layername_doesnotexist_add", layerPermission(missing, 1, "s1", "lambda:GetLayerVersion", "")},
		{"layer_permission_layername_doesnotexist_get", layerPolicy(missing, 1)},
		{"layer_permission_layername_doesnotexist_remove", removeLayerPermission(missing, 1, "s1", "")},
		{"layer_permission_layerversion_doesnotexist_add", layerPermission(layer, 2, "s1", "lambda:GetLayerVersion", "")},
		{"layer_permission_layerversion_doesnotexist_get", layerPolicy(layer, 2)},
		{"layer_permission_layerversion_doesnotexist_remove", removeLayerPermission(layer, 2, "s1", "")},
		{"layer_permission_statementid_doesnotexist_remove", removeLayerPermission(layer, 1, "doesnotexist", "")},
		{"layer_permission_wrong_revision_remove", removeLayerPermission(layer, 1, "s1", "wrong")},
	})
})
