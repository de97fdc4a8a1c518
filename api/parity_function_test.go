package api

import (
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// Re-enactments of TestLambdaFunction's recorded scenarios.

// functionOps are the per-function reads and deletes the parametrised
// scenarios call by their boto3 names, with FunctionName (and Qualifier).
func functionOps(p *parity) map[string]func(name string, qualifier *string) {
	c := p.h.client
	return map[string]func(string, *string){
		"delete_function": func(n string, q *string) {
			_, _ = c.DeleteFunction(p.ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String(n), Qualifier: q})
		},
		"get_function": func(n string, q *string) {
			_, _ = c.GetFunction(p.ctx, &lambda.GetFunctionInput{FunctionName: aws.String(n), Qualifier: q})
		},
		"get_function_configuration": func(n string, q *string) {
			_, _ = c.GetFunctionConfiguration(p.ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(n), Qualifier: q})
		},
		"get_function_url_config": func(n string, q *string) {
			_, _ = c.GetFunctionUrlConfig(p.ctx, &lambda.GetFunctionUrlConfigInput{FunctionName: aws.String(n), Qualifier: q})
		},
		"get_function_code_signing_config": func(n string, _ *string) {
			_, _ = c.GetFunctionCodeSigningConfig(p.ctx, &lambda.GetFunctionCodeSigningConfigInput{FunctionName: aws.String(n)})
		},
		"get_function_event_invoke_config": func(n string, q *string) {
			_, _ = c.GetFunctionEventInvokeConfig(p.ctx, &lambda.GetFunctionEventInvokeConfigInput{FunctionName: aws.String(n), Qualifier: q})
		},
		"get_function_concurrency": func(n string, _ *string) {
			_, _ = c.GetFunctionConcurrency(p.ctx, &lambda.GetFunctionConcurrencyInput{FunctionName: aws.String(n)})
		},
		"invoke": func(n string, q *string) {
			_, _ = c.Invoke(p.ctx, &lambda.InvokeInput{FunctionName: aws.String(n), Qualifier: q, Payload: []byte("{}")})
		},
	}
}

func init() {
	for _, op := range []string{"delete_function", "get_function", "get_function_configuration", "get_function_url_config",
		"get_function_code_signing_config", "get_function_event_invoke_config", "get_function_concurrency"} {
		registerParity("TestLambdaFunction::test_ops_on_nonexisting_fn["+op+"]", nil, func(p *parity) {
			name := "i-dont-exist-fn"
			p.replace(name, "<nonexisting-fn-name>")
			functionOps(p)[op](name, nil)
			p.check("not_found_exception")
		})
	}
	for _, op := range []string{"get_function", "get_function_configuration", "get_function_url_config",
		"get_function_code_signing_config", "get_function_event_invoke_config", "get_function_concurrency",
		"delete_function", "invoke"} {
		registerParity("TestLambdaFunction::test_get_function_wrong_region["+op+"]", nil, func(p *parity) {
			name := "i-exist-wr"
			p.replace(name, "<fn-name>", "eu-central-1", "<wrong-region>")
			p.createFn(name, nil, true)
			functionOps(p)[op]("arn:aws:lambda:eu-central-1:111111111111:function:"+name, nil)
			p.check("wrong_region_exception")
		})
	}
	for _, op := range []string{"get_function", "get_function_configuration", "get_function_event_invoke_config"} {
		registerParity("TestLambdaFunction::test_ops_on_nonexisting_version["+op+"]", nil, func(p *parity) {
			name := "i-exist-nv"
			p.replace(name, "<fn-name>")
			p.createFn(name, nil, true)
			functionOps(p)[op](name, aws.String("1221"))
			p.check("version_not_found_exception")
		})
	}
	for _, op := range []string{"delete_function", "get_function", "get_function_configuration"} {
		registerParity("TestLambdaFunction::test_ops_with_arn_qualifier_mismatch["+op+"]", nil, func(p *parity) {
			arn := "arn:aws:lambda:us-east-1:111111111111:function:some-function"
			functionOps(p)[op](arn+":1", aws.String("$LATEST"))
			p.check("not_match_exception")
			functionOps(p)[op](arn+":$LATEST", aws.String("$LATEST"))
			p.check("match_exception")
		})
	}
}

var _ = registerParity("TestLambdaFunction::test_delete_on_nonexisting_version", nil, func(p *parity) {
	name := "i-exist-del"
	p.replace(name, "<fn-name>")
	p.createFn(name, nil, true)
	ops := functionOps(p)
	for range 2 {
		if _, err := p.h.client.DeleteFunction(p.ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String(name), Qualifier: aws.String("1233")}); err != nil {
			p.t.Fatalf("deleting a version that does not exist is idempotent on AWS: %v", err)
		}
	}
	if _, err := p.h.client.DeleteFunction(p.ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String(name)}); err != nil {
		p.t.Fatal(err)
	}
	ops["delete_function"](name, nil)
	p.check("delete_function_response_non_existent")
	ops["delete_function"](name, aws.String("1233"))
	p.check("delete_function_response_non_existent_with_qualifier")
})

var _ = registerParity("TestLambdaFunction::test_invalid_invoke", nil, func(p *parity) {
	functionOps(p)["invoke"]("arn:aws:lambda:us-east-1:123400000000@function:myfn", nil)
	p.check("invoke_function_name_pattern_exc")
})

var _ = registerParity("TestLambdaFunction::test_update_lambda_exceptions", nil, func(p *parity) {
	name := "invalid-function-upd"
	p.createFn(name, nil, true)
	for _, st := range []struct {
		label string
		in    lambda.UpdateFunctionConfigurationInput
	}{
		{"invalid_role_arn_exc", lambda.UpdateFunctionConfigurationInput{Role: aws.String("r1")}},
		{"invalid_runtime_exc", lambda.UpdateFunctionConfigurationInput{Runtime: "non-existent-runtime"}},
		{"uppercase_runtime_exc", lambda.UpdateFunctionConfigurationInput{Runtime: types.Runtime("PYTHON3.9")}},
	} {
		in := st.in
		in.FunctionName = aws.String(name)
		if _, err := p.h.client.UpdateFunctionConfiguration(p.ctx, &in); err == nil {
			p.t.Errorf("%s: update succeeded", st.label)
		}
		p.check(st.label)
	}
})

var _ = registerParity("TestLambdaFunction::test_redundant_updates", []string{"fn-redundant"}, func(p *parity) {
	name := "fn-redundant"
	p.createFn(name, func(in *lambda.CreateFunctionInput) {
		in.Handler = aws.String("handler.handler")
		in.Timeout = aws.Int32(30)
		in.Environment = &types.Environment{Variables: map[string]string{}}
		in.Description = aws.String("Initial description")
	}, true)
	p.check("create_response")
	update := func(label string) {
		release := p.hold() // the recording read the update while AWS was applying it
		_, _ = p.h.client.UpdateFunctionConfiguration(p.ctx, &lambda.UpdateFunctionConfigurationInput{
			FunctionName: aws.String(name), Description: aws.String("1st update description")})
		p.check(label)
		release()
		waitUpdated(p.t, p.h.client, name)
	}
	update("first_update_result")
	_, _ = p.h.client.GetFunctionConfiguration(p.ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(name)})
	p.check("get_fn_config_result")
	p.getFn(name, "")
	p.check("get_fn_result")
	update("redundant_update_result")
	p.getFn(name, "")
	p.check("get_fn_result_after_redundant_update")
})

var _ = registerParity("TestLambdaFunction::test_lambda_code_location_zipfile", []string{"code-function-zip"}, func(p *parity) {
	name := "code-function-zip"
	p.createFn(name, nil, false)
	p.check("create-response-zip-file")
	waitActive(p.t, p.h.client, name)
	p.getFn(name, "")
	p.check("get-function-response")
	release := p.hold() // still updating when the recording read it back
	defer release()
	_, _ = p.h.client.UpdateFunctionCode(p.ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String(name),
		ZipFile: zipOf(p.t, map[string]string{"index.py": "def handler(event, context):\n    return 'v2'\n"})})
	p.check("update-function-response")
	p.getFn(name, "")
	p.check("get-function-response-updated")
})

func concurrentUpdates(code bool) func(p *parity) {
	return func(p *parity) {
		name := "fn-concurrent"
		if code {
			p.createFn(name, func(in *lambda.CreateFunctionInput) { in.Handler = aws.String("handler.handler") }, true)
		} else {
			p.createHandlerFnPlain(name)
		}
		p.check("create-function-response")
		release := p.hold()
		defer release()
		update := func() {
			if code {
				_, _ = p.h.client.UpdateFunctionCode(p.ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String(name),
					ZipFile: zipOf(p.t, map[string]string{"index.py": "def handler(event, context):\n    return 'v2'\n"})})
				return
			}
			_, _ = p.h.client.UpdateFunctionConfiguration(p.ctx, &lambda.UpdateFunctionConfigurationInput{
				FunctionName: aws.String(name), Description: aws.String("changed")})
		}
		update()
		update()
		p.check("update-during-in-progress-update-exc")
	}
}

var _ = registerParity("TestLambdaFunction::test_lambda_concurrent_code_updates", []string{"fn-concurrent"}, concurrentUpdates(true))
var _ = registerParity("TestLambdaFunction::test_lambda_concurrent_config_updates", []string{"fn-concurrent"}, concurrentUpdates(false))

var _ = registerParity("TestLambdaFunction::test_function_arns", []string{"test-function-arn", "test-partial-arn"}, func(p *parity) {
	p.createFn("arn:aws:lambda:us-east-1:111111111111:function:test-function-arn", func(in *lambda.CreateFunctionInput) {
		in.Handler = aws.String("handler.handler")
		in.Timeout = aws.Int32(30)
		in.Environment = &types.Environment{Variables: map[string]string{}}
	}, true)
	p.check("create-function-arn-response")
	// The recorder zipped the code afresh for each function (a different sha).
	p.createFn("111111111111:function:test-partial-arn", func(in *lambda.CreateFunctionInput) {
		in.Handler = aws.String("handler.handler")
		in.Timeout = aws.Int32(30)
		in.Environment = &types.Environment{Variables: map[string]string{}}
		in.Code.ZipFile = zipOf(p.t, map[string]string{"index.py": "def handler(event, context):\n    return event  # 2\n"})
	}, true)
	p.check("create-function-partial-arn-response")
})

var _ = registerParity("TestLambdaFunction::test_list_functions", []string{"list-fn-1", "list-fn-2"}, func(p *parity) {
	for i, name := range []string{"list-fn-1", "list-fn-2"} {
		p.createFn(name, func(in *lambda.CreateFunctionInput) {
			in.Handler = aws.String("handler.handler")
			in.Timeout = aws.Int32(30)
			in.Environment = &types.Environment{Variables: map[string]string{}}
			in.Publish = i == 0
			// The recorder zipped the code afresh for each function (a different sha).
			in.Code.ZipFile = zipOf(p.t, map[string]string{"index.py": fmt.Sprintf("def handler(event, context):\n    return event  # %d\n", i)})
		}, true)
		p.check(fmt.Sprintf("create_response_%d", i+1))
	}
	_, _ = p.h.client.ListFunctions(p.ctx, &lambda.ListFunctionsInput{FunctionVersion: "invalid"})
	p.check("list_functions_invalid_functionversion")
	list := func(label string, version types.FunctionVersion) {
		pages := lambda.NewListFunctionsPaginator(p.h.client, &lambda.ListFunctionsInput{FunctionVersion: version, MaxItems: aws.Int32(1)})
		var raw []any
		for pages.HasMorePages() {
			out, err := pages.NextPage(p.ctx)
			if err != nil {
				p.t.Fatal(err)
			}
			if len(out.Functions) > 1 {
				p.t.Errorf("%s: a page of %d functions with MaxItems 1", label, len(out.Functions))
			}
			page := p.n.normalise(p.h.rec.lastResponse().boto3View(p.t), "")
			raw = append(raw, page["Functions"].([]any)...)
		}
		// boto3's build_full_result joins the pages; the recording sorted them by ARN.
		sort.Slice(raw, func(i, j int) bool {
			return raw[i].(map[string]any)["FunctionArn"].(string) < raw[j].(map[string]any)["FunctionArn"].(string)
		})
		got := map[string]any{"Functions": raw} // build_full_result keeps no ResponseMetadata
		p.checkGot(label, got)
	}
	list("list_all", types.FunctionVersionAll)
	list("list_default", "")
})
