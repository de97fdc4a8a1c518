package api

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// Re-enactments of TestLambdaProvisionedConcurrency.

func putPCInput(name, q string, n int32) *lambda.PutProvisionedConcurrencyConfigInput {
	return &lambda.PutProvisionedConcurrencyConfigInput{FunctionName: aws.String(name), Qualifier: aws.String(q), ProvisionedConcurrentExecutions: aws.Int32(n)}
}

func getPCInput(name, q string) *lambda.GetProvisionedConcurrencyConfigInput {
	return &lambda.GetProvisionedConcurrencyConfigInput{FunctionName: aws.String(name), Qualifier: aws.String(q)}
}

func deletePCInput(name, q string) *lambda.DeleteProvisionedConcurrencyConfigInput {
	return &lambda.DeleteProvisionedConcurrencyConfigInput{FunctionName: aws.String(name), Qualifier: aws.String(q)}
}

func listPCInput(name string) *lambda.ListProvisionedConcurrencyConfigsInput {
	return &lambda.ListProvisionedConcurrencyConfigsInput{FunctionName: aws.String(name)}
}

var _ = registerParity("TestLambdaProvisionedConcurrency::test_provisioned_concurrency_exceptions", []string{"pc-exc"}, func(p *parity) {
	name := "pc-exc"
	p.createHandlerFn(name)
	p.sendSteps(p.check, []parityStep{
		{"publish_version_result", publishInput(name)},
		{"get_provisioned_config_doesnotexist", getPCInput(name, "1")},
		{"get_provisioned_functionname_doesnotexist", getPCInput("doesnotexist", "noalias")},
		{"get_provisioned_qualifier_doesnotexist", getPCInput(name, "noalias")},
		{"get_provisioned_version_doesnotexist", getPCInput(name, "10")},
		{"get_provisioned_latest", getPCInput(name, "$LATEST")},
		{"list_provisioned_noconfigs", listPCInput(name)},
		{"list_provisioned_functionname_doesnotexist", listPCInput("doesnotexist")},
		{"delete_provisioned_functionname_doesnotexist", deletePCInput("doesnotexist", "1")},
		{"delete_provisioned_qualifier_doesnotexist", deletePCInput(name, "noalias")},
		{"delete_provisioned_version_doesnotexist", deletePCInput(name, "10")},
		{"delete_provisioned_latest", deletePCInput(name, "$LATEST")},
		{"delete_provisioned_config_doesnotexist", deletePCInput(name, "1")},
		{"put_provisioned_invalid_param_0", putPCInput(name, "1", 0)},
		{"put_provisioned_functionname_doesnotexist_alias", putPCInput("doesnotexist", "noalias", 1)},
		{"put_provisioned_functionname_doesnotexist_version", putPCInput("doesnotexist", "1", 1)},
		{"put_provisioned_qualifier_doesnotexist", putPCInput(name, "doesnotexist", 1)},
		{"put_provisioned_version_doesnotexist", putPCInput(name, "10", 1)},
		{"put_provisioned_latest", putPCInput(name, "$LATEST", 1)},
	})
})

var _ = registerParity("TestLambdaProvisionedConcurrency::test_lambda_provisioned_lifecycle", []string{"pc-life"}, func(p *parity) {
	name, alias := "pc-life", "pc-alias"
	p.replace(alias, "<alias-name>")
	p.createHandlerFn(name)
	p.sendSteps(p.check, []parityStep{
		{"publish_version_result", publishInput(name)},
		{"create_alias_result", createAliasInput(name, alias, "1", "", nil)},
		{"put_provisioned_on_version", putPCInput(name, "1", 1)},
		{"put_provisioned_on_alias_versionconflict", putPCInput(name, alias, 1)},
		{"delete_provisioned_version", deletePCInput(name, "1")},
		{"get_provisioned_version_postdelete", getPCInput(name, "1")},
		{"put_provisioned_on_alias", putPCInput(name, alias, 1)},
		{"put_provisioned_on_version_conflict", putPCInput(name, "1", 1)},
		{"delete_alias_result", &lambda.DeleteAliasInput{FunctionName: aws.String(name), Name: aws.String(alias)}},
		{"get_provisioned_alias_postaliasdelete", getPCInput(name, alias)},
		{"list_response_postdeletes", listPCInput(name)},
	})
})

var _ = registerParity("TestLambdaProvisionedConcurrency::test_provisioned_concurrency_limits", []string{"pc-limits"}, func(p *parity) {
	name := "pc-limits"
	p.createHandlerFn(name)
	v := p.publish(publishInput(name))
	settings, err := p.h.client.GetAccountSettings(p.ctx, &lambda.GetAccountSettingsInput{})
	if err != nil || v == nil {
		p.t.Fatalf("set-up: publish %v, GetAccountSettings: %v", v, err)
	}
	limit := settings.AccountLimit.ConcurrentExecutions
	// As the recording's transformers: the numbers are the account's own.
	p.replace(fmt.Sprintf("[%d]", limit), "[<unreserved_concurrency>]", fmt.Sprintf("[%d]", minUnreservedConcurrency), "[<min_unreserved_concurrency>]")
	p.sendSteps(p.check, []parityStep{
		{"put_provisioned_concurrency_account_limit_exceeded", putPCInput(name, *v.Version, limit+1)},
		{"put_provisioned_concurrency_below_unreserved_min_value", putPCInput(name, *v.Version, limit)},
	})
})
