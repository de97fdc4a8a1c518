package api

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// Re-enactments of TestLambdaEventInvokeConfig.

// datetimeLastModified: boto3 shows these timestamps as datetimes, which the
// recordings normalised to "datetime".
func datetimeLastModified(got map[string]any) {
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if _, ok := x["LastModified"]; ok {
				x["LastModified"] = "datetime"
			}
			for _, y := range x {
				walk(y)
			}
		case []any:
			for _, y := range x {
				walk(y)
			}
		}
	}
	walk(got)
}

func (p *parity) checkEIC(label string) {
	p.t.Helper()
	p.checkWith(label, "", datetimeLastModified)
}

func (p *parity) putEIC(name, qualifier string, retries, age *int32, dc *types.DestinationConfig) {
	in := &lambda.PutFunctionEventInvokeConfigInput{FunctionName: aws.String(name), MaximumRetryAttempts: retries,
		MaximumEventAgeInSeconds: age, DestinationConfig: dc}
	if qualifier != "" {
		in.Qualifier = aws.String(qualifier)
	}
	_, _ = p.h.client.PutFunctionEventInvokeConfig(p.ctx, in)
}

func (p *parity) updateEIC(name, qualifier string, retries, age *int32) {
	in := &lambda.UpdateFunctionEventInvokeConfigInput{FunctionName: aws.String(name), MaximumRetryAttempts: retries, MaximumEventAgeInSeconds: age}
	if qualifier != "" {
		in.Qualifier = aws.String(qualifier)
	}
	_, _ = p.h.client.UpdateFunctionEventInvokeConfig(p.ctx, in)
}

func onSuccess(arn string) *types.DestinationConfig {
	return &types.DestinationConfig{OnSuccess: &types.OnSuccess{Destination: aws.String(arn)}}
}

var _ = registerParity("TestLambdaEventInvokeConfig::test_lambda_eventinvokeconfig_exceptions", []string{"eic-exc"}, func(p *parity) {
	name, other := "eic-exc", "eic-other"
	p.replace("role/lambda-test-role", "role/<resource:2>", "runtime:"+runtimeHash("python3.12"), "runtime:<resource:3>", other, "<resource:5>")
	sc := scope{Account: testAccount, Region: "us-east-1"}
	arn := functionArn(sc, name)
	mk := func(in *lambda.CreateFunctionInput) {
		in.Handler = aws.String("handler.handler")
		in.Timeout = aws.Int32(30)
		in.Environment = &types.Environment{Variables: map[string]string{}}
	}
	p.createFn(name, mk, true)
	p.createFn(other, mk, true)
	p.publish(&lambda.PublishVersionInput{FunctionName: aws.String(name)})
	p.check("fn_version_result")
	p.createAlias(name, "eventinvokealias", "1", "", nil)
	p.check("fn_alias_result")
	one := aws.Int32(1)
	p.putEIC("doesnotexist", "", one, nil, nil)
	p.checkEIC("put_functionname_name_notfound")
	p.putEIC(functionArn(sc, "doesnotexist"), "", one, nil, nil)
	p.checkEIC("put_functionname_arn_notfound")
	p.putEIC(name, "", nil, nil, nil)
	p.checkEIC("put_functionname_nootherargs")
	p.putEIC(name, "", nil, nil, onSuccess(functionArn(sc, "doesnotexist")))
	p.checkEIC("put_destination_lambda_doesntexist")
	p.putEIC(name, "", nil, nil, onSuccess(arn))
	p.checkEIC("put_destination_recursive")
	p.putEIC(name, "", nil, nil, onSuccess(functionArn(sc, other)))
	p.checkEIC("put_destination_other_lambda")
	p.putEIC(name, "", nil, nil, onSuccess("arn:aws:iam:us-east-1:111111111111:function:"+name))
	p.checkEIC("put_destination_invalid_service_arn")
	p.putEIC(name, "", nil, nil, &types.DestinationConfig{OnSuccess: &types.OnSuccess{}})
	p.checkEIC("put_destination_success_no_destination_arn")
	p.putEIC(name, "", nil, nil, &types.DestinationConfig{OnFailure: &types.OnFailure{}})
	p.checkEIC("put_destination_failure_no_destination_arn")
	p.putEIC(name, "", nil, nil, &types.DestinationConfig{OnFailure: &types.OnFailure{Destination: aws.String("arn:aws:_-/!lambda:us-east-1:111111111111:function:" + name)}})
	p.checkEIC("put_destination_invalid_arn_pattern")
	p.putEIC(name, "", one, nil, nil)
	p.checkEIC("put_destination_latest")
	p.putEIC(name, "$LATEST", one, nil, nil)
	p.checkEIC("put_destination_latest_explicit_qualifier")
	p.putEIC(name, "1", one, nil, nil)
	p.checkEIC("put_destination_version")
	p.putEIC(name, "eventinvokealias", one, nil, nil)
	p.checkEIC("put_alias_functionname_qualifier")
	p.putEIC(name, "doesnotexist", one, nil, nil)
	p.checkEIC("put_alias_doesnotexist")
	p.putEIC(arn+":eventinvokealias", "", one, nil, nil)
	p.checkEIC("put_alias_qualifiedarn")
	p.putEIC(arn+":eventinvokealias", "eventinvokealias", one, nil, nil)
	p.checkEIC("put_alias_qualifiedarn_qualifier")
	p.putEIC(arn+":eventinvokealias", "1", one, nil, nil)
	p.checkEIC("put_alias_qualifiedarn_qualifierconflict")
	p.putEIC(name+":eventinvokealias", "", one, nil, nil)
	p.checkEIC("put_alias_shorthand")
	p.putEIC(name+":eventinvokealias", "eventinvokealias", one, nil, nil)
	p.checkEIC("put_alias_shorthand_qualifier")
	p.putEIC(name+":eventinvokealias", "1", one, nil, nil)
	p.checkEIC("put_alias_shorthand_qualifierconflict")
	p.putEIC(name+":1", "", one, nil, nil)
	p.checkEIC("put_version_shorthand")
	p.putEIC(name+":$LATEST", "$LATEST", one, nil, nil)
	p.checkEIC("put_shorthand_qualifier_match")
	p.putEIC(name+":1", "$LATEST", one, nil, nil)
	p.checkEIC("put_shorthand_qualifier_mismatch_1")
	p.putEIC(name+":$LATEST", "1", one, nil, nil)
	p.checkEIC("put_shorthand_qualifier_mismatch_2")
	p.putEIC(name+":eventinvokealias", "$LATEST", one, nil, nil)
	p.checkEIC("put_shorthand_qualifier_mismatch_3")
	p.putEIC(name, "", aws.Int32(2), aws.Int32(21600), nil)
	p.checkEIC("put_maxevent_maxvalue_result")
	p.putEIC(name, "", aws.Int32(2), aws.Int32(60), nil)
	p.checkEIC("put_pre_overwrite")
	p.putEIC(name, "", aws.Int32(0), nil, nil)
	p.checkEIC("put_post_overwrite")
	p.putEIC(name, "", aws.Int32(0), nil, nil)
	p.checkEIC("second_overwrite_existing_response")
	_, _ = p.h.client.GetFunctionEventInvokeConfig(p.ctx, &lambda.GetFunctionEventInvokeConfigInput{FunctionName: aws.String(name)})
	p.checkEIC("get_post_overwrite")
	p.putEIC(name, "", aws.Int32(2), aws.Int32(60), nil)
	p.checkEIC("pre_update_response")
	p.updateEIC(name, "", aws.Int32(0), nil)
	p.checkEIC("update_response")
	p.updateEIC(name, "", aws.Int32(0), nil)
	p.checkEIC("update_response_existing")
	_, _ = p.h.client.ListFunctionEventInvokeConfigs(p.ctx, &lambda.ListFunctionEventInvokeConfigsInput{FunctionName: aws.String(name)})
	p.checkEIC("list_configs")
	for _, q := range []struct{ q, label string }{{"", "delete_latest"}, {"1", "delete_version"}, {"eventinvokealias", "delete_alias"}} {
		in := &lambda.DeleteFunctionEventInvokeConfigInput{FunctionName: aws.String(name)}
		if q.q != "" {
			in.Qualifier = aws.String(q.q)
		}
		_, _ = p.h.client.DeleteFunctionEventInvokeConfig(p.ctx, in)
		p.checkEIC(q.label)
	}
	_, _ = p.h.client.ListFunctionEventInvokeConfigs(p.ctx, &lambda.ListFunctionEventInvokeConfigsInput{FunctionName: aws.String(name)})
	p.checkEIC("list_configs_postdelete")
	_, _ = p.h.client.DeleteFunctionEventInvokeConfig(p.ctx, &lambda.DeleteFunctionEventInvokeConfigInput{FunctionName: aws.String(name)})
	p.checkEIC("delete_function_not_found")
	_, _ = p.h.client.DeleteFunctionEventInvokeConfig(p.ctx, &lambda.DeleteFunctionEventInvokeConfigInput{FunctionName: aws.String("doesnotexist")})
	p.checkEIC("delete_function_doesnotexist")
	_, _ = p.h.client.ListFunctionEventInvokeConfigs(p.ctx, &lambda.ListFunctionEventInvokeConfigsInput{FunctionName: aws.String("doesnotexist")})
	p.checkEIC("list_function_doesnotexist")
	_, _ = p.h.client.GetFunctionEventInvokeConfig(p.ctx, &lambda.GetFunctionEventInvokeConfigInput{FunctionName: aws.String("doesnotexist")})
	p.checkEIC("get_function_doesnotexist")
	_, _ = p.h.client.GetFunctionEventInvokeConfig(p.ctx, &lambda.GetFunctionEventInvokeConfigInput{FunctionName: aws.String(name), Qualifier: aws.String("doesnotexist")})
	p.checkEIC("get_qualifier_doesnotexist")
	p.updateEIC("doesnotexist", "", one, nil)
	p.checkEIC("update_eventinvokeconfig_function_doesnotexist")
	_, _ = p.h.client.GetFunctionEventInvokeConfig(p.ctx, &lambda.GetFunctionEventInvokeConfigInput{FunctionName: aws.String(name), Qualifier: aws.String("eventinvokealias")})
	p.checkEIC("get_eventinvokeconfig_doesnotexist")
	p.updateEIC(name, "eventinvokealias", one, nil)
	p.checkEIC("update_eventinvokeconfig_config_doesnotexist_with_qualifier")
	p.updateEIC(name, "", one, nil)
	p.checkEIC("update_eventinvokeconfig_config_doesnotexist_without_qualifier")
})

var _ = registerParity("TestLambdaEventInvokeConfig::test_lambda_eventinvokeconfig_lifecycle", []string{"eic-life"}, func(p *parity) {
	name := "eic-life"
	p.createHandlerFn(name)
	p.putEIC(name, "", aws.Int32(0), nil, nil)
	p.checkEIC("put_invokeconfig_retries_0")
	p.putEIC(name, "", nil, aws.Int32(60), nil)
	p.checkEIC("put_invokeconfig_eventage_60")
	p.updateEIC(name, "", nil, aws.Int32(60))
	p.checkEIC("update_invokeconfig_eventage_nochange")
	p.updateEIC(name, "", aws.Int32(1), nil)
	p.checkEIC("update_invokeconfig_retries")
	_, _ = p.h.client.GetFunctionEventInvokeConfig(p.ctx, &lambda.GetFunctionEventInvokeConfigInput{FunctionName: aws.String(name)})
	p.checkEIC("get_invokeconfig")
	_, _ = p.h.client.GetFunctionEventInvokeConfig(p.ctx, &lambda.GetFunctionEventInvokeConfigInput{FunctionName: aws.String(name), Qualifier: aws.String("$LATEST")})
	p.checkEIC("get_invokeconfig_latest")
	_, _ = p.h.client.ListFunctionEventInvokeConfigs(p.ctx, &lambda.ListFunctionEventInvokeConfigsInput{FunctionName: aws.String(name)})
	p.checkEIC("list_single_invokeconfig")
	p.publish(&lambda.PublishVersionInput{FunctionName: aws.String(name)})
	p.check("publish_version_result")
	_, _ = p.h.client.GetFunctionEventInvokeConfig(p.ctx, &lambda.GetFunctionEventInvokeConfigInput{FunctionName: aws.String(name), Qualifier: aws.String("1")})
	p.checkEIC("get_invokeconfig_postpublish")
	p.putEIC(name, "1", nil, aws.Int32(120), nil)
	p.checkEIC("put_published_invokeconfig")
	_, _ = p.h.client.GetFunctionEventInvokeConfig(p.ctx, &lambda.GetFunctionEventInvokeConfigInput{FunctionName: aws.String(name), Qualifier: aws.String("1")})
	p.checkEIC("get_published_invokeconfig")
	_, _ = p.h.client.DeleteFunctionEventInvokeConfig(p.ctx, &lambda.DeleteFunctionEventInvokeConfigInput{FunctionName: aws.String(name)})
	_, _ = p.h.client.ListFunctionEventInvokeConfigs(p.ctx, &lambda.ListFunctionEventInvokeConfigsInput{FunctionName: aws.String(name)})
	p.checkEIC("list_paging_nolimit_postdelete")
})
