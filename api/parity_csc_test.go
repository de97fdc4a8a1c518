package api

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// Re-enactments of TestCodeSigningConfig.

const cscInvalidArn = "arn:aws:lambda:us-east-1:111111111111:code-signing-config:csc-0000000000000000a"

func (p *parity) createCSC() string {
	p.t.Helper()
	out, err := p.h.client.CreateCodeSigningConfig(p.ctx, &lambda.CreateCodeSigningConfigInput{
		Description:         aws.String("Testing CodeSigning Config"),
		AllowedPublishers:   &types.AllowedPublishers{SigningProfileVersionArns: []string{"arn:aws:signer:us-east-1:111111111111:/signing-profiles/test"}},
		CodeSigningPolicies: &types.CodeSigningPolicies{UntrustedArtifactOnDeployment: types.CodeSigningPolicyEnforce},
	})
	if err != nil {
		p.t.Fatal(err)
	}
	id := aws.ToString(out.CodeSigningConfig.CodeSigningConfigId)
	p.replace(id, "<resource:1>", "arn:<partition>:lambda:<region>:111111111111:code-signing-config:csc-0000000000000000a", "<csc_arn_invalid>")
	return aws.ToString(out.CodeSigningConfig.CodeSigningConfigArn)
}

var _ = registerParity("TestCodeSigningConfig::test_function_code_signing_config", []string{"csc-fn"}, func(p *parity) {
	name := "csc-fn"
	p.createFn(name, nil, true)
	arn := p.createCSC()
	p.check("create_code_signing_config")
	p.sendSteps(p.check, []parityStep{
		{"update_code_signing_config", &lambda.UpdateCodeSigningConfigInput{CodeSigningConfigArn: aws.String(arn),
			CodeSigningPolicies: &types.CodeSigningPolicies{UntrustedArtifactOnDeployment: types.CodeSigningPolicyWarn}}},
		{"get_code_signing_config", &lambda.GetCodeSigningConfigInput{CodeSigningConfigArn: aws.String(arn)}},
		{"put_function_code_signing_config", &lambda.PutFunctionCodeSigningConfigInput{CodeSigningConfigArn: aws.String(arn), FunctionName: aws.String(name)}},
		{"get_function_code_signing_config", &lambda.GetFunctionCodeSigningConfigInput{FunctionName: aws.String(name)}},
	})
	if _, err := p.h.client.ListCodeSigningConfigs(p.ctx, &lambda.ListCodeSigningConfigsInput{}); err != nil {
		p.t.Fatal(err)
	}
	// The recording keeps the listed config, not the whole answer.
	view := p.h.rec.lastResponse().boto3View(p.t)
	for _, item := range view["CodeSigningConfigs"].([]any) {
		if item.(map[string]any)["CodeSigningConfigArn"] == arn {
			p.checkValue("list_code_signing_configs", p.n.value("", item))
		}
	}
	p.sendSteps(p.check, []parityStep{
		{"list_functions_by_code_signing_config", &lambda.ListFunctionsByCodeSigningConfigInput{CodeSigningConfigArn: aws.String(arn)}},
		{"delete_function_code_signing_config", &lambda.DeleteFunctionCodeSigningConfigInput{FunctionName: aws.String(name)}},
		{"delete_code_signing_config", &lambda.DeleteCodeSigningConfigInput{CodeSigningConfigArn: aws.String(arn)}},
	})
})

var _ = registerParity("TestCodeSigningConfig::test_code_signing_not_found_excs", []string{"csc-exc"}, func(p *parity) {
	name, missing := "csc-exc", "csc-test-doesnotexist"
	p.createFn(name, nil, true)
	arn := p.createCSC()
	p.check("create_code_signing_config")
	p.sendSteps(p.check, []parityStep{
		{"delete_csc_notfound", &lambda.DeleteCodeSigningConfigInput{CodeSigningConfigArn: aws.String(cscInvalidArn)}},
		{"nothing_to_delete_response", &lambda.DeleteFunctionCodeSigningConfigInput{FunctionName: aws.String(name)}},
		{"delete_function_csc_fnnotfound", &lambda.DeleteFunctionCodeSigningConfigInput{FunctionName: aws.String(missing)}},
		{"put_function_csc_invalid_fnname", &lambda.PutFunctionCodeSigningConfigInput{CodeSigningConfigArn: aws.String(arn), FunctionName: aws.String(missing)}},
		{"put_function_csc_invalid_csc_arn", &lambda.PutFunctionCodeSigningConfigInput{CodeSigningConfigArn: aws.String(cscInvalidArn), FunctionName: aws.String(name)}},
		{"put_function_csc_invalid_both", &lambda.PutFunctionCodeSigningConfigInput{CodeSigningConfigArn: aws.String(cscInvalidArn), FunctionName: aws.String(missing)}},
		{"update_csc_invalid_csc_arn", &lambda.UpdateCodeSigningConfigInput{CodeSigningConfigArn: aws.String(cscInvalidArn), Description: aws.String("new")}},
		{"update_csc_noupdates", &lambda.UpdateCodeSigningConfigInput{CodeSigningConfigArn: aws.String(cscInvalidArn)}},
		{"update_csc_noupdate_response", &lambda.UpdateCodeSigningConfigInput{CodeSigningConfigArn: aws.String(arn)}},
		{"get_csc_invalid", &lambda.GetCodeSigningConfigInput{CodeSigningConfigArn: aws.String(cscInvalidArn)}},
		{"get_function_csc_fnwithoutcsc", &lambda.GetFunctionCodeSigningConfigInput{FunctionName: aws.String(name)}},
		{"get_function_csc_nonexistingfn", &lambda.GetFunctionCodeSigningConfigInput{FunctionName: aws.String(missing)}},
		{"list_functions_by_csc_fnwithoutcsc", &lambda.ListFunctionsByCodeSigningConfigInput{CodeSigningConfigArn: aws.String(arn)}},
		{"list_functions_by_csc_invalid_cscarn", &lambda.ListFunctionsByCodeSigningConfigInput{CodeSigningConfigArn: aws.String(cscInvalidArn)}},
	})
})
