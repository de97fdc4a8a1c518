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
	_, _ = p.h.client.UpdateCodeSigningConfig(p.ctx, &lambda.UpdateCodeSigningConfigInput{CodeSigningConfigArn: aws.String(arn),
		CodeSigningPolicies: &types.CodeSigningPolicies{UntrustedArtifactOnDeployment: types.CodeSigningPolicyWarn}})
	p.check("update_code_signing_config")
	_, _ = p.h.client.GetCodeSigningConfig(p.ctx, &lambda.GetCodeSigningConfigInput{CodeSigningConfigArn: aws.String(arn)})
	p.check("get_code_signing_config")
	_, _ = p.h.client.PutFunctionCodeSigningConfig(p.ctx, &lambda.PutFunctionCodeSigningConfigInput{CodeSigningConfigArn: aws.String(arn), FunctionName: aws.String(name)})
	p.check("put_function_code_signing_config")
	_, _ = p.h.client.GetFunctionCodeSigningConfig(p.ctx, &lambda.GetFunctionCodeSigningConfigInput{FunctionName: aws.String(name)})
	p.check("get_function_code_signing_config")
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
	_, _ = p.h.client.ListFunctionsByCodeSigningConfig(p.ctx, &lambda.ListFunctionsByCodeSigningConfigInput{CodeSigningConfigArn: aws.String(arn)})
	p.check("list_functions_by_code_signing_config")
	_, _ = p.h.client.DeleteFunctionCodeSigningConfig(p.ctx, &lambda.DeleteFunctionCodeSigningConfigInput{FunctionName: aws.String(name)})
	p.check("delete_function_code_signing_config")
	_, _ = p.h.client.DeleteCodeSigningConfig(p.ctx, &lambda.DeleteCodeSigningConfigInput{CodeSigningConfigArn: aws.String(arn)})
	p.check("delete_code_signing_config")
})

var _ = registerParity("TestCodeSigningConfig::test_code_signing_not_found_excs", []string{"csc-exc"}, func(p *parity) {
	name, missing := "csc-exc", "csc-test-doesnotexist"
	p.createFn(name, nil, true)
	arn := p.createCSC()
	p.check("create_code_signing_config")
	_, _ = p.h.client.DeleteCodeSigningConfig(p.ctx, &lambda.DeleteCodeSigningConfigInput{CodeSigningConfigArn: aws.String(cscInvalidArn)})
	p.check("delete_csc_notfound")
	_, _ = p.h.client.DeleteFunctionCodeSigningConfig(p.ctx, &lambda.DeleteFunctionCodeSigningConfigInput{FunctionName: aws.String(name)})
	p.check("nothing_to_delete_response")
	_, _ = p.h.client.DeleteFunctionCodeSigningConfig(p.ctx, &lambda.DeleteFunctionCodeSigningConfigInput{FunctionName: aws.String(missing)})
	p.check("delete_function_csc_fnnotfound")
	_, _ = p.h.client.PutFunctionCodeSigningConfig(p.ctx, &lambda.PutFunctionCodeSigningConfigInput{CodeSigningConfigArn: aws.String(arn), FunctionName: aws.String(missing)})
	p.check("put_function_csc_invalid_fnname")
	_, _ = p.h.client.PutFunctionCodeSigningConfig(p.ctx, &lambda.PutFunctionCodeSigningConfigInput{CodeSigningConfigArn: aws.String(cscInvalidArn), FunctionName: aws.String(name)})
	p.check("put_function_csc_invalid_csc_arn")
	_, _ = p.h.client.PutFunctionCodeSigningConfig(p.ctx, &lambda.PutFunctionCodeSigningConfigInput{CodeSigningConfigArn: aws.String(cscInvalidArn), FunctionName: aws.String(missing)})
	p.check("put_function_csc_invalid_both")
	_, _ = p.h.client.UpdateCodeSigningConfig(p.ctx, &lambda.UpdateCodeSigningConfigInput{CodeSigningConfigArn: aws.String(cscInvalidArn), Description: aws.String("new")})
	p.check("update_csc_invalid_csc_arn")
	_, _ = p.h.client.UpdateCodeSigningConfig(p.ctx, &lambda.UpdateCodeSigningConfigInput{CodeSigningConfigArn: aws.String(cscInvalidArn)})
	p.check("update_csc_noupdates")
	_, _ = p.h.client.UpdateCodeSigningConfig(p.ctx, &lambda.UpdateCodeSigningConfigInput{CodeSigningConfigArn: aws.String(arn)})
	p.check("update_csc_noupdate_response")
	_, _ = p.h.client.GetCodeSigningConfig(p.ctx, &lambda.GetCodeSigningConfigInput{CodeSigningConfigArn: aws.String(cscInvalidArn)})
	p.check("get_csc_invalid")
	_, _ = p.h.client.GetFunctionCodeSigningConfig(p.ctx, &lambda.GetFunctionCodeSigningConfigInput{FunctionName: aws.String(name)})
	p.check("get_function_csc_fnwithoutcsc")
	_, _ = p.h.client.GetFunctionCodeSigningConfig(p.ctx, &lambda.GetFunctionCodeSigningConfigInput{FunctionName: aws.String(missing)})
	p.check("get_function_csc_nonexistingfn")
	_, _ = p.h.client.ListFunctionsByCodeSigningConfig(p.ctx, &lambda.ListFunctionsByCodeSigningConfigInput{CodeSigningConfigArn: aws.String(arn)})
	p.check("list_functions_by_csc_fnwithoutcsc")
	_, _ = p.h.client.ListFunctionsByCodeSigningConfig(p.ctx, &lambda.ListFunctionsByCodeSigningConfigInput{CodeSigningConfigArn: aws.String(cscInvalidArn)})
	p.check("list_functions_by_csc_invalid_cscarn")
})
