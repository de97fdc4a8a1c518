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
	_, _ = p.h.client.CreateAlias(p.ctx, createAliasInput(name, alias, version, desc, weights))
}

func createAliasInput(name, alias, version, desc string, weights map[string]float64) *lambda.CreateAliasInput {
	in := &lambda.CreateAliasInput{FunctionName: aws.String(name), Name: aws.String(alias), FunctionVersion: aws.String(version), Description: optional(desc)}
	if weights != nil {
		in.RoutingConfig = &types.AliasRoutingConfiguration{AdditionalVersionWeights: weights}
	}
	return in
}

func (p *parity) getAlias(name, alias string) {
	_, _ = p.h.client.GetAlias(p.ctx, getAliasInput(name, alias))
}

func getAliasInput(name, alias string) *lambda.GetAliasInput {
	return &lambda.GetAliasInput{FunctionName: aws.String(name), Name: aws.String(alias)}
}

func listAliasesInput(name, version string) *lambda.ListAliasesInput {
	return &lambda.ListAliasesInput{FunctionName: aws.String(name), FunctionVersion: optional(version)}
}

var _ = registerParity("TestLambdaAlias::test_alias_lifecycle", []string{"al-life"}, func(p *parity) {
	name := "al-life"
	arn := functionArn(scope{Account: testAccount, Region: "us-east-1"}, name)
	p.aliasFixture(name, false, "create_response", "publish_v1", "publish_v2")
	p.sendSteps(p.check, []parityStep{
		{"create_alias_1_1", createAliasInput(name, "aliasname1_1", "1", "custom-alias", map[string]float64{"2": 0.2})},
		{"get_alias_1_1", getAliasInput(name, "aliasname1_1")},
		{"get_function_alias_1_1", getFunctionInput(name, "aliasname1_1")},
		{"get_function_byarn_alias_1_1", getFunctionInput(arn+":aliasname1_1", "")},
		{"get_function_alias_notfound_exc", getFunctionInput(name, "aliasdoesnotexist")},
		{"get_function_alias_byarn_notfound_exc", getFunctionInput(arn+":aliasdoesnotexist", "")},
		{"create_alias_1_2", createAliasInput(name, "aliasname1_2", "1", "custom-alias", nil)},
		{"get_alias_1_2", getAliasInput(name, "aliasname1_2")},
		{"create_alias_1_3", createAliasInput(name, "aliasname1_3", "1", "", nil)},
		{"get_alias_1_3", getAliasInput(name, "aliasname1_3")},
		{"create_alias_2", createAliasInput(name, "aliasname2", "2", "custom-alias", nil)},
		{"get_alias_2", getAliasInput(name, "aliasname2")},
		{"list_aliases_for_fnname", listAliasesInput(name, "")},
		{"update_alias_1_1", &lambda.UpdateAliasInput{FunctionName: aws.String(name), Name: aws.String("aliasname1_1"),
			RoutingConfig: &types.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{}}}},
		{"get_alias_1_1_after_update", getAliasInput(name, "aliasname1_1")},
		{"list_aliases_for_fnname_after_update", listAliasesInput(name, "")},
		{"update_alias_1_2", &lambda.UpdateAliasInput{FunctionName: aws.String(name), Name: aws.String("aliasname1_2"), FunctionVersion: aws.String("1")}},
		{"get_alias_1_2_after_update", getAliasInput(name, "aliasname1_2")},
		{"list_aliases_for_fnname_after_update_2", listAliasesInput(name, "")},
		{"list_aliases_for_version", listAliasesInput(name, "1")},
		{"delete_alias_response", &lambda.DeleteAliasInput{FunctionName: aws.String(name), Name: aws.String("aliasname1_1")}},
		{"list_aliases_for_fnname_afterdelete", listAliasesInput(name, "")},
	})
})

var _ = registerParity("TestLambdaAlias::test_notfound_and_invalid_routingconfigs", []string{"al-invalid"}, func(p *parity) {
	name := "al-invalid"
	p.aliasFixture(name, true, "create_response", "publish_v1", "publish_v2")
	p.sendSteps(p.check, []parityStep{
		{"routing_config_exc_toomany", createAliasInput(name, "custom", "1", "", map[string]float64{"2": 0.5, "3": 0.5})},
		{"routing_config_exc_toohigh", createAliasInput(name, "custom", "1", "", map[string]float64{"2": 2})},
		{"routing_config_exc_subzero", createAliasInput(name, "custom", "1", "", map[string]float64{"2": -1})},
		{"routing_config_exc_sameversion", createAliasInput(name, "custom", "1", "", map[string]float64{"1": 0.5})},
		{"target_version_doesnotexist", createAliasInput(name, "custom", "10", "", nil)},
		{"routing_config_exc_version_doesnotexist", createAliasInput(name, "custom", "1", "", map[string]float64{"10": 0.5})},
		{"target_version_exc_version_latest", createAliasInput(name, "custom", "$LATEST", "", map[string]float64{"1": 0.5})},
		{"routing_config_exc_version_latest", createAliasInput(name, "custom", "1", "", map[string]float64{"$LATEST": 0.5})},
		{"create-alias-latest", createAliasInput(name, "custom-latest", "$LATEST", "", nil)},
		{"routing_config_exc_fn_doesnotexist", createAliasInput(name+"-unknown", "custom", "1", "", nil)},
		{"create_alias_empty_routingconfig", createAliasInput(name, "custom-empty-routingconfig", "1", "", map[string]float64{})},
		{"create_alias_response", createAliasInput(name, "custom", "1", "", map[string]float64{"2": 0.5})},
		{"routing_config_exc_already_exist", createAliasInput(name, "custom", "1", "", map[string]float64{"2": 0.5})},
		{"alias_does_not_exist_esc", getAliasInput(name, "non-existent")},
	})
})

var _ = registerParity("TestLambdaAlias::test_alias_naming", []string{"al-naming"}, func(p *parity) {
	name := "al-naming"
	p.aliasFixture(name, false, "create_response", "publish_v1", "")
	p.sendSteps(p.check, []parityStep{
		{"create_alias_date", createAliasInput(name, "2024-01-02", "1", "custom-alias", nil)},
		{"get_alias_date", getAliasInput(name, "2024-01-02")},
		{"create_alias_number_exception", createAliasInput(name, "2024", "1", "custom-alias", nil)},
	})
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
