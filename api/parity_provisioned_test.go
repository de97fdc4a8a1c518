package api

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// Re-enactments of TestLambdaProvisionedConcurrency.

func (p *parity) putPC(name, q string, n int32) {
	_, _ = p.h.client.PutProvisionedConcurrencyConfig(p.ctx, &lambda.PutProvisionedConcurrencyConfigInput{
		FunctionName: aws.String(name), Qualifier: aws.String(q), ProvisionedConcurrentExecutions: aws.Int32(n)})
}

func (p *parity) getPC(name, q string) {
	_, _ = p.h.client.GetProvisionedConcurrencyConfig(p.ctx, &lambda.GetProvisionedConcurrencyConfigInput{FunctionName: aws.String(name), Qualifier: aws.String(q)})
}

func (p *parity) deletePC(name, q string) {
	_, _ = p.h.client.DeleteProvisionedConcurrencyConfig(p.ctx, &lambda.DeleteProvisionedConcurrencyConfigInput{FunctionName: aws.String(name), Qualifier: aws.String(q)})
}

var _ = registerParity("TestLambdaProvisionedConcurrency::test_provisioned_concurrency_exceptions", []string{"pc-exc"}, func(p *parity) {
	name := "pc-exc"
	p.createHandlerFn(name)
	p.publish(&lambda.PublishVersionInput{FunctionName: aws.String(name)})
	p.check("publish_version_result")
	p.getPC(name, "1")
	p.check("get_provisioned_config_doesnotexist")
	p.getPC("doesnotexist", "noalias")
	p.check("get_provisioned_functionname_doesnotexist")
	p.getPC(name, "noalias")
	p.check("get_provisioned_qualifier_doesnotexist")
	p.getPC(name, "10")
	p.check("get_provisioned_version_doesnotexist")
	p.getPC(name, "$LATEST")
	p.check("get_provisioned_latest")
	_, _ = p.h.client.ListProvisionedConcurrencyConfigs(p.ctx, &lambda.ListProvisionedConcurrencyConfigsInput{FunctionName: aws.String(name)})
	p.check("list_provisioned_noconfigs")
	_, _ = p.h.client.ListProvisionedConcurrencyConfigs(p.ctx, &lambda.ListProvisionedConcurrencyConfigsInput{FunctionName: aws.String("doesnotexist")})
	p.check("list_provisioned_functionname_doesnotexist")
	p.deletePC("doesnotexist", "1")
	p.check("delete_provisioned_functionname_doesnotexist")
	p.deletePC(name, "noalias")
	p.check("delete_provisioned_qualifier_doesnotexist")
	p.deletePC(name, "10")
	p.check("delete_provisioned_version_doesnotexist")
	p.deletePC(name, "$LATEST")
	p.check("delete_provisioned_latest")
	p.deletePC(name, "1")
	p.check("delete_provisioned_config_doesnotexist")
	p.putPC(name, "1", 0)
	p.check("put_provisioned_invalid_param_0")
	p.putPC("doesnotexist", "noalias", 1)
	p.check("put_provisioned_functionname_doesnotexist_alias")
	p.putPC("doesnotexist", "1", 1)
	p.check("put_provisioned_functionname_doesnotexist_version")
	p.putPC(name, "doesnotexist", 1)
	p.check("put_provisioned_qualifier_doesnotexist")
	p.putPC(name, "10", 1)
	p.check("put_provisioned_version_doesnotexist")
	p.putPC(name, "$LATEST", 1)
	p.check("put_provisioned_latest")
})

var _ = registerParity("TestLambdaProvisionedConcurrency::test_lambda_provisioned_lifecycle", []string{"pc-life"}, func(p *parity) {
	name, alias := "pc-life", "pc-alias"
	p.replace(alias, "<alias-name>")
	p.createHandlerFn(name)
	p.publish(&lambda.PublishVersionInput{FunctionName: aws.String(name)})
	p.check("publish_version_result")
	p.createAlias(name, alias, "1", "", nil)
	p.check("create_alias_result")
	p.putPC(name, "1", 1)
	p.check("put_provisioned_on_version")
	p.putPC(name, alias, 1)
	p.check("put_provisioned_on_alias_versionconflict")
	p.deletePC(name, "1")
	p.check("delete_provisioned_version")
	p.getPC(name, "1")
	p.check("get_provisioned_version_postdelete")
	p.putPC(name, alias, 1)
	p.check("put_provisioned_on_alias")
	p.putPC(name, "1", 1)
	p.check("put_provisioned_on_version_conflict")
	_, _ = p.h.client.DeleteAlias(p.ctx, &lambda.DeleteAliasInput{FunctionName: aws.String(name), Name: aws.String(alias)})
	p.check("delete_alias_result")
	p.getPC(name, alias)
	p.check("get_provisioned_alias_postaliasdelete")
	_, _ = p.h.client.ListProvisionedConcurrencyConfigs(p.ctx, &lambda.ListProvisionedConcurrencyConfigsInput{FunctionName: aws.String(name)})
	p.check("list_response_postdeletes")
})

var _ = registerParity("TestLambdaProvisionedConcurrency::test_provisioned_concurrency_limits", []string{"pc-limits"}, func(p *parity) {
	name := "pc-limits"
	p.createHandlerFn(name)
	v := p.publish(&lambda.PublishVersionInput{FunctionName: aws.String(name)})
	settings, err := p.h.client.GetAccountSettings(p.ctx, &lambda.GetAccountSettingsInput{})
	if err != nil || v == nil {
		p.t.Fatalf("set-up: publish %v, GetAccountSettings: %v", v, err)
	}
	limit := settings.AccountLimit.ConcurrentExecutions
	// As the recording's transformers: the numbers are the account's own.
	p.replace(fmt.Sprintf("[%d]", limit), "[<unreserved_concurrency>]", fmt.Sprintf("[%d]", minUnreservedConcurrency), "[<min_unreserved_concurrency>]")
	p.putPC(name, *v.Version, limit+1)
	p.check("put_provisioned_concurrency_account_limit_exceeded")
	p.putPC(name, *v.Version, limit)
	p.check("put_provisioned_concurrency_below_unreserved_min_value")
})
