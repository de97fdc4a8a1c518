package api

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// Re-enactments of TestLambdaVersions and TestLambdaAlias.

func (p *parity) getFn(name, qualifier string) {
	in := &lambda.GetFunctionInput{FunctionName: aws.String(name)}
	if qualifier != "" {
		in.Qualifier = aws.String(qualifier)
	}
	_, _ = p.h.client.GetFunction(p.ctx, in)
}

func (p *parity) getFnConfig(name, qualifier string) {
	in := &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(name)}
	if qualifier != "" {
		in.Qualifier = aws.String(qualifier)
	}
	_, _ = p.h.client.GetFunctionConfiguration(p.ctx, in)
}

func (p *parity) listVersions(name string) {
	_, _ = p.h.client.ListVersionsByFunction(p.ctx, &lambda.ListVersionsByFunctionInput{FunctionName: aws.String(name)})
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
	p.getFn(name, "")
	p.check("get_function_result")
	p.getFn(name, "1")
	p.check("get_function_version_result")
	p.getFn(name, "$LATEST")
	p.check("get_function_latest_result")
	p.listVersions(name)
	p.check("list_versions_result")
	p.publish(&lambda.PublishVersionInput{FunctionName: aws.String(name)})
	p.check("repeated_publish_response")
	p.listVersions(name)
	p.check("list_versions_result_after_publish")
})

var _ = registerParity("TestLambdaVersions::test_version_lifecycle", []string{"pv-lifecycle"}, func(p *parity) {
	name := "pv-lifecycle"
	p.createFn(name, func(in *lambda.CreateFunctionInput) { in.Description = aws.String("No version :(") }, true)
	p.check("create_response")
	p.getFn(name, "")
	p.check("get_function_result")
	p.listVersions(name)
	p.check("list_versions_result")
	_, _ = p.h.client.UpdateFunctionConfiguration(p.ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String(name), Description: aws.String("First version :)")})
	p.check("first_update_response")
	waitUpdated(p.t, p.h.client, name)
	p.getFn(name, "")
	p.check("first_update_get_function")
	p.publish(&lambda.PublishVersionInput{FunctionName: aws.String(name), Description: aws.String("First version description :)")})
	p.check("first_publish_response")
	p.getFn(name, "1")
	p.check("first_publish_get_function")
	p.getFnConfig(name, "1")
	p.check("first_publish_get_function_config")
	_, _ = p.h.client.UpdateFunctionConfiguration(p.ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String(name), Description: aws.String("Second version :))")})
	p.check("second_update_response")
	waitUpdated(p.t, p.h.client, name)
	p.getFn(name, "1")
	p.check("first_publish_get_function_after_update")
	p.publish(&lambda.PublishVersionInput{FunctionName: aws.String(name)})
	p.check("second_publish_response")
	p.publish(&lambda.PublishVersionInput{FunctionName: aws.String(name)})
	p.check("third_publish_response")
	p.listVersions(name)
	p.check("list_versions_result_after_third_publish")
	if _, err := p.h.client.DeleteFunction(p.ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String(name), Qualifier: aws.String("1")}); err != nil {
		p.t.Fatalf("DeleteFunction version 1: %v", err)
	}
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
	p.getFn(name, "")
	p.check("get_function_result")
	release := p.hold() // AWS was still updating when the recording read it
	defer release()
	_, _ = p.h.client.UpdateFunctionCode(p.ctx, &lambda.UpdateFunctionCodeInput{
		FunctionName: aws.String(name), Publish: true,
		ZipFile: zipOf(p.t, map[string]string{"index.py": "def handler(event, context):\n    return 2\n"}),
	})
	p.check("update_function_code_result")
	p.getFn(name, "1")
	p.check("get_function_version_result")
	p.getFn(name, "$LATEST")
	p.check("get_function_latest_result")
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
