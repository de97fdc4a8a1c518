package api

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// Re-enactments of TestLambdaVersions and TestLambdaAlias.

func (p *parity) getFn(name, qualifier string) {
	_, _ = p.h.client.GetFunction(p.ctx, getFunctionInput(name, qualifier))
}

func getFunctionInput(name, qualifier string) *lambda.GetFunctionInput {
	return &lambda.GetFunctionInput{FunctionName: aws.String(name), Qualifier: optional(qualifier)}
}

func (p *parity) getFnConfig(name, qualifier string) {
	_, _ = p.h.client.GetFunctionConfiguration(p.ctx, getFunctionConfigurationInput(name, qualifier))
}

func getFunctionConfigurationInput(name, qualifier string) *lambda.GetFunctionConfigurationInput {
	return &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(name), Qualifier: optional(qualifier)}
}

func (p *parity) listVersions(name string) {
	_, _ = p.h.client.ListVersionsByFunction(p.ctx, listVersionsInput(name))
}

func listVersionsInput(name string) *lambda.ListVersionsByFunctionInput {
	return &lambda.ListVersionsByFunctionInput{FunctionName: aws.String(name)}
}

func publishInput(name string) *lambda.PublishVersionInput {
	return &lambda.PublishVersionInput{FunctionName: aws.String(name)}
}

func (p *parity) publish(in *lambda.PublishVersionInput) *lambda.PublishVersionOutput {
	out, _ := p.h.client.PublishVersion(p.ctx, in)
	return out
}

func (p *parity) revision(name string) string {
	out, err := p.h.client.GetFunction(p.ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name)})
	if err != nil {
		p.t.Fatalf("GetFunction: %v", err)
	}
	return aws.ToString(out.Configuration.RevisionId)
}

var _ = registerParity("TestLambdaVersions::test_publish_version_on_create", []string{"pv-create"}, func(p *parity) {
	name := "pv-create"
	p.createFn(name, func(in *lambda.CreateFunctionInput) { in.Publish = true }, false)
	p.check("create_response")
	waitActive(p.t, p.h.client, name)
	p.sendSteps(p.check, []parityStep{
		{"get_function_result", getFunctionInput(name, "")},
		{"get_function_version_result", getFunctionInput(name, "1")},
		{"get_function_latest_result", getFunctionInput(name, "$LATEST")},
		{"list_versions_result", listVersionsInput(name)},
		{"repeated_publish_response", publishInput(name)},
		{"list_versions_result_after_publish", listVersionsInput(name)},
	})
})

var _ = registerParity("TestLambdaVersions::test_version_lifecycle", []string{"pv-lifecycle"}, func(p *parity) {
	name := "pv-lifecycle"
	p.createFn(name, func(in *lambda.CreateFunctionInput) { in.Description = aws.String("No version :(") }, true)
	p.check("create_response")
	p.sendSteps(p.check, []parityStep{
		{"get_function_result", getFunctionInput(name, "")},
		{"list_versions_result", listVersionsInput(name)},
		{"first_update_response", &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String(name), Description: aws.String("First version :)")}},
	})
	waitUpdated(p.t, p.h.client, name)
	p.sendSteps(p.check, []parityStep{
		{"first_update_get_function", getFunctionInput(name, "")},
		{"first_publish_response", &lambda.PublishVersionInput{FunctionName: aws.String(name), Description: aws.String("First version description :)")}},
		{"first_publish_get_function", getFunctionInput(name, "1")},
		{"first_publish_get_function_config", getFunctionConfigurationInput(name, "1")},
		{"second_update_response", &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String(name), Description: aws.String("Second version :))")}},
	})
	waitUpdated(p.t, p.h.client, name)
	p.sendSteps(p.check, []parityStep{
		{"first_publish_get_function_after_update", getFunctionInput(name, "1")},
		{"second_publish_response", publishInput(name)},
		{"third_publish_response", publishInput(name)},
		{"list_versions_result_after_third_publish", listVersionsInput(name)},
	})
	p.mustSend(&lambda.DeleteFunctionInput{FunctionName: aws.String(name), Qualifier: aws.String("1")})
	p.listVersions(name)
	p.check("list_versions_result_after_deletion_of_first_version")
})

var _ = registerParity("TestLambdaVersions::test_publish_with_wrong_revisionid", []string{"pv-wrongrev"}, func(p *parity) {
	name := "pv-wrongrev"
	// Recorded in 2022 with python3.9, before AWS added LoggingConfig,
	// SnapStart and RuntimeVersionConfig: only the error still applies.
	p.createFn(name, nil, true)
	p.publish(&lambda.PublishVersionInput{FunctionName: aws.String(name), RevisionId: aws.String("somenonexistentrevisionid")})
	p.check("publish_wrong_revisionid_exc")
	if out := p.publish(&lambda.PublishVersionInput{FunctionName: aws.String(name), RevisionId: aws.String(p.revisionNoRecord(name))}); out == nil || aws.ToString(out.Version) != "1" {
		p.t.Errorf("PublishVersion with the current RevisionId: %+v", out)
	}
})

var _ = registerParity("TestLambdaVersions::test_publish_with_wrong_sha256", []string{"pv-wrongsha"}, func(p *parity) {
	name := "pv-wrongsha"
	p.createFn(name, nil, true)
	p.check("create_response")
	p.getFn(name, "")
	p.check("get_fn_response")
	out, err := p.h.client.GetFunction(p.ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name)})
	if err != nil {
		p.t.Fatal(err)
	}
	p.n.replace = append(p.n.replace, aws.ToString(out.Configuration.CodeSha256), "<code-sha256:1>")
	p.publish(&lambda.PublishVersionInput{FunctionName: aws.String(name), CodeSha256: aws.String("somenonexistentsha256")})
	p.check("publish_wrong_sha256_exc")
	p.publish(&lambda.PublishVersionInput{FunctionName: aws.String(name), CodeSha256: out.Configuration.CodeSha256})
	p.check("publish_result")
})

var _ = registerParity("TestLambdaVersions::test_publish_with_update", []string{"pv-update"}, func(p *parity) {
	name := "pv-update"
	p.createFn(name, nil, true)
	p.check("create_response")
	// AWS was still updating when the recording read the update's version
	// (holding Prepare does not touch reads of the Active function before).
	release := p.hold()
	defer release()
	p.sendSteps(p.check, []parityStep{
		{"get_function_result", getFunctionInput(name, "")},
		{"update_function_code_result", &lambda.UpdateFunctionCodeInput{FunctionName: aws.String(name), Publish: true,
			ZipFile: zipOf(p.t, map[string]string{"index.py": "def handler(event, context):\n    return 2\n"})}},
		{"get_function_version_result", getFunctionInput(name, "1")},
		{"get_function_latest_result", getFunctionInput(name, "$LATEST")},
	})
})

// revisionNoRecord reads the current RevisionId without disturbing the
// normaliser's numbering (the recorded test read it from get_fn_response).
func (p *parity) revisionNoRecord(name string) string {
	rr := p.h.rec.lastResponse()
	rev := p.revision(name)
	p.h.rec.mu.Lock()
	p.h.rec.last = rr
	p.h.rec.mu.Unlock()
	return rev
}

var _ = types.RuntimePython312
