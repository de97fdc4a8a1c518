package api

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// Re-enactments of TestLambdaAlias.

// aliasFixture creates a function (env testenv=staging), publishes version 1,
// switches to testenv=prod and publishes version 2, checking the labels
// given (empty to skip).
func (p *parity) aliasFixture(name string, publishOnCreate bool, createLabel, v1Label, v2Label string) {
	p.t.Helper()
	p.createFn(name, func(in *lambda.CreateFunctionInput) {
		in.Environment = &types.Environment{Variables: map[string]string{"testenv": "staging"}}
		in.Publish = publishOnCreate
	}, !publishOnCreate)
	if createLabel != "" {
		p.check(createLabel)
	}
	if publishOnCreate {
		waitActive(p.t, p.h.client, name)
	}
	p.publish(&lambda.PublishVersionInput{FunctionName: aws.String(name)})
	if v1Label != "" {
		p.check(v1Label)
	}
	if v2Label == "" {
		return
	}
	if _, err := p.h.client.UpdateFunctionConfiguration(p.ctx, &lambda.UpdateFunctionConfigurationInput{
		FunctionName: aws.String(name), Environment: &types.Environment{Variables: map[string]string{"testenv": "prod"}},
	}); err != nil {
		p.t.Fatal(err)
	}
	waitUpdated(p.t, p.h.client, name)
	p.publish(&lambda.PublishVersionInput{FunctionName: aws.String(name)})
	p.check(v2Label)
}

func (p *parity) createAlias(name, alias, version, desc string, weights map[string]float64) {
	in := &lambda.CreateAliasInput{FunctionName: aws.String(name), Name: aws.String(alias), FunctionVersion: aws.String(version)}
	if desc != "" {
		in.Description = aws.String(desc)
	}
	if weights != nil {
		in.RoutingConfig = &types.AliasRoutingConfiguration{AdditionalVersionWeights: weights}
	}
	_, _ = p.h.client.CreateAlias(p.ctx, in)
}

func (p *parity) getAlias(name, alias string) {
	_, _ = p.h.client.GetAlias(p.ctx, &lambda.GetAliasInput{FunctionName: aws.String(name), Name: aws.String(alias)})
}

func (p *parity) listAliases(name, version string) {
	in := &lambda.ListAliasesInput{FunctionName: aws.String(name)}
	if version != "" {
		in.FunctionVersion = aws.String(version)
	}
	_, _ = p.h.client.ListAliases(p.ctx, in)
}

var _ = registerParity("TestLambdaAlias::test_alias_lifecycle", []string{"al-life"}, func(p *parity) {
	name := "al-life"
	p.aliasFixture(name, false, "create_response", "publish_v1", "publish_v2")
	p.createAlias(name, "aliasname1_1", "1", "custom-alias", map[string]float64{"2": 0.2})
	p.check("create_alias_1_1")
	p.getAlias(name, "aliasname1_1")
	p.check("get_alias_1_1")
	p.getFn(name, "aliasname1_1")
	p.check("get_function_alias_1_1")
	p.getFn(functionArn(scope{Account: testAccount, Region: "us-east-1"}, name)+":aliasname1_1", "")
	p.check("get_function_byarn_alias_1_1")
	p.getFn(name, "aliasdoesnotexist")
	p.check("get_function_alias_notfound_exc")
	p.getFn(functionArn(scope{Account: testAccount, Region: "us-east-1"}, name)+":aliasdoesnotexist", "")
	p.check("get_function_alias_byarn_notfound_exc")
	p.createAlias(name, "aliasname1_2", "1", "custom-alias", nil)
	p.check("create_alias_1_2")
	p.getAlias(name, "aliasname1_2")
	p.check("get_alias_1_2")
	p.createAlias(name, "aliasname1_3", "1", "", nil)
	p.check("create_alias_1_3")
	p.getAlias(name, "aliasname1_3")
	p.check("get_alias_1_3")
	p.createAlias(name, "aliasname2", "2", "custom-alias", nil)
	p.check("create_alias_2")
	p.getAlias(name, "aliasname2")
	p.check("get_alias_2")
	p.listAliases(name, "")
	p.check("list_aliases_for_fnname")
	_, _ = p.h.client.UpdateAlias(p.ctx, &lambda.UpdateAliasInput{FunctionName: aws.String(name), Name: aws.String("aliasname1_1"),
		RoutingConfig: &types.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{}}})
	p.check("update_alias_1_1")
	p.getAlias(name, "aliasname1_1")
	p.check("get_alias_1_1_after_update")
	p.listAliases(name, "")
	p.check("list_aliases_for_fnname_after_update")
	_, _ = p.h.client.UpdateAlias(p.ctx, &lambda.UpdateAliasInput{FunctionName: aws.String(name), Name: aws.String("aliasname1_2"), FunctionVersion: aws.String("1")})
	p.check("update_alias_1_2")
	p.getAlias(name, "aliasname1_2")
	p.check("get_alias_1_2_after_update")
	p.listAliases(name, "")
	p.check("list_aliases_for_fnname_after_update_2")
	p.listAliases(name, "1")
	p.check("list_aliases_for_version")
	_, _ = p.h.client.DeleteAlias(p.ctx, &lambda.DeleteAliasInput{FunctionName: aws.String(name), Name: aws.String("aliasname1_1")})
	p.check("delete_alias_response")
	p.listAliases(name, "")
	p.check("list_aliases_for_fnname_afterdelete")
})

var _ = registerParity("TestLambdaAlias::test_notfound_and_invalid_routingconfigs", []string{"al-invalid"}, func(p *parity) {
	name := "al-invalid"
	p.aliasFixture(name, true, "create_response", "publish_v1", "publish_v2")
	p.createAlias(name, "custom", "1", "", map[string]float64{"2": 0.5, "3": 0.5})
	p.check("routing_config_exc_toomany")
	p.createAlias(name, "custom", "1", "", map[string]float64{"2": 2})
	p.check("routing_config_exc_toohigh")
	p.createAlias(name, "custom", "1", "", map[string]float64{"2": -1})
	p.check("routing_config_exc_subzero")
	p.createAlias(name, "custom", "1", "", map[string]float64{"1": 0.5})
	p.check("routing_config_exc_sameversion")
	p.createAlias(name, "custom", "10", "", nil)
	p.check("target_version_doesnotexist")
	p.createAlias(name, "custom", "1", "", map[string]float64{"10": 0.5})
	p.check("routing_config_exc_version_doesnotexist")
	p.createAlias(name, "custom", "$LATEST", "", map[string]float64{"1": 0.5})
	p.check("target_version_exc_version_latest")
	p.createAlias(name, "custom", "1", "", map[string]float64{"$LATEST": 0.5})
	p.check("routing_config_exc_version_latest")
	p.createAlias(name, "custom-latest", "$LATEST", "", nil)
	p.check("create-alias-latest")
	p.createAlias(name+"-unknown", "custom", "1", "", nil)
	p.check("routing_config_exc_fn_doesnotexist")
	p.createAlias(name, "custom-empty-routingconfig", "1", "", map[string]float64{})
	p.check("create_alias_empty_routingconfig")
	p.createAlias(name, "custom", "1", "", map[string]float64{"2": 0.5})
	p.check("create_alias_response")
	p.createAlias(name, "custom", "1", "", map[string]float64{"2": 0.5})
	p.check("routing_config_exc_already_exist")
	p.getAlias(name, "non-existent")
	p.check("alias_does_not_exist_esc")
})

var _ = registerParity("TestLambdaAlias::test_alias_naming", []string{"al-naming"}, func(p *parity) {
	name := "al-naming"
	p.aliasFixture(name, false, "create_response", "publish_v1", "")
	p.createAlias(name, "2024-01-02", "1", "custom-alias", nil)
	p.check("create_alias_date")
	p.getAlias(name, "2024-01-02")
	p.check("get_alias_date")
	p.createAlias(name, "2024", "1", "custom-alias", nil)
	p.check("create_alias_number_exception")
})

var _ = registerParity("TestLambdaAlias::test_non_existent_alias_deletion", []string{"al-nodelete"}, func(p *parity) {
	name := "al-nodelete"
	p.aliasFixture(name, false, "create_response", "", "")
	_, _ = p.h.client.DeleteAlias(p.ctx, &lambda.DeleteAliasInput{FunctionName: aws.String(name), Name: aws.String("non-existent")})
	p.check("delete_alias_response")
})

var _ = registerParity("TestLambdaAlias::test_non_existent_alias_update", []string{"al-noupdate"}, func(p *parity) {
	name := "al-noupdate"
	p.aliasFixture(name, false, "create_response", "", "")
	_, _ = p.h.client.UpdateAlias(p.ctx, &lambda.UpdateAliasInput{FunctionName: aws.String(name), Name: aws.String("non-existent"), Description: aws.String("d")})
	p.check("update_alias_response")
})
