package api

import (
	"regexp"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// Re-enactments of TestLambdaImages: functions of PackageType Image. lamb
// reaches no registry, so an image's CodeSha256 is derived from its URI
// (code.go) where AWS reports the pushed image's digest; the recording
// numbers both as <code-sha256:N> alike.

const (
	imageRepo1 = "111111111111.dkr.ecr.us-east-1.amazonaws.com/test-repo-one"
	imageRepo2 = "111111111111.dkr.ecr.us-east-1.amazonaws.com/test-repo-two"
)

var resolvedDigest = regexp.MustCompile(`@sha256:([0-9a-f]{64})$`)

// checkImage is check with ResolvedImageUri's digest numbered as CodeSha256.
func (p *parity) checkImage(label string) {
	p.t.Helper()
	p.checkWith(label, "<location>", func(got map[string]any) {
		code, ok := got["Code"].(map[string]any)
		if !ok {
			return
		}
		if r, ok := code["ResolvedImageUri"].(string); ok {
			if m := resolvedDigest.FindStringSubmatch(r); m != nil {
				code["ResolvedImageUri"] = r[:len(r)-len(m[1])] + number(p.n.shas, m[1], "code-sha256")
			}
		}
	})
}

func (p *parity) createImageFn(name string, mutate func(in *lambda.CreateFunctionInput)) {
	p.t.Helper()
	p.replace(imageRepo1, "<repo_uri>", imageRepo2, "<repo_uri_2>")
	in := &lambda.CreateFunctionInput{
		FunctionName: aws.String(name), Role: aws.String(testRole), PackageType: types.PackageTypeImage,
		Code:        &types.FunctionCode{ImageUri: aws.String(imageRepo1 + ":latest")},
		Environment: &types.Environment{Variables: map[string]string{"CUSTOM_ENV": "test"}},
	}
	if mutate != nil {
		mutate(in)
	}
	if _, err := p.h.client.CreateFunction(p.ctx, in); err != nil {
		p.t.Fatalf("CreateFunction %s: %v", name, err)
	}
}

func (p *parity) getImageFn(name, codeLabel, configLabel string) {
	p.t.Helper()
	p.getFn(name, "")
	p.checkImage(codeLabel)
	_, _ = p.h.client.GetFunctionConfiguration(p.ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(name)})
	p.check(configLabel)
}

var _ = registerParity("TestLambdaImages::test_lambda_image_crud", []string{"img-crud"}, func(p *parity) {
	name := "img-crud"
	p.createImageFn(name, nil)
	p.check("create-image-response")
	waitActive(p.t, p.h.client, name)
	p.getImageFn(name, "get-function-code-response", "get-function-config-response")
	_, _ = p.h.client.UpdateFunctionCode(p.ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String(name),
		ZipFile: zipOf(p.t, map[string]string{"index.py": "def handler(e, c):\n    return e\n"})})
	p.check("image-to-zipfile-error")
	release := p.hold()
	_, _ = p.h.client.UpdateFunctionCode(p.ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String(name), ImageUri: aws.String(imageRepo2 + ":latest")})
	p.check("update-function-code-response")
	release()
	waitUpdated(p.t, p.h.client, name)
	p.getImageFn(name, "get-function-code-response-after-update", "get-function-config-response-after-update")
})

var _ = registerParity("TestLambdaImages::test_lambda_zip_file_to_image", []string{"img-zip"}, func(p *parity) {
	name := "img-zip"
	p.replace(imageRepo1, "<repo_uri>")
	p.createFn(name, func(in *lambda.CreateFunctionInput) { in.Handler = aws.String("handler.handler") }, false)
	p.check("create-image-response")
	waitActive(p.t, p.h.client, name)
	p.getImageFn(name, "get-function-code-response", "get-function-config-response")
	_, _ = p.h.client.UpdateFunctionCode(p.ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String(name), ImageUri: aws.String(imageRepo1 + ":latest")})
	p.check("zipfile-to-image-error")
	p.getImageFn(name, "get-function-code-response-after-update", "get-function-config-response-after-update")
})

var _ = registerParity("TestLambdaImages::test_lambda_image_and_image_config_crud", []string{"img-config"}, func(p *parity) {
	name := "img-config"
	p.createImageFn(name, func(in *lambda.CreateFunctionInput) {
		in.ImageConfig = &types.ImageConfig{EntryPoint: []string{"sh"}, Command: []string{"-c", "echo test"}, WorkingDirectory: aws.String("/app1")}
	})
	p.check("create-image-with-config-response")
	waitActive(p.t, p.h.client, name)
	p.getImageFn(name, "get-function-code-with-config-response", "get-function-config-with-config-response")
	update := func(label string, cfg *types.ImageConfig) {
		release := p.hold()
		_, _ = p.h.client.UpdateFunctionConfiguration(p.ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String(name), ImageConfig: cfg})
		p.check(label)
		release()
		waitUpdated(p.t, p.h.client, name)
	}
	update("update-function-code-response", &types.ImageConfig{Command: []string{"-c", "echo test1"}, WorkingDirectory: aws.String("/app1")})
	p.getImageFn(name, "get-function-code-response-after-update", "get-function-config-response-after-update")
	update("update-function-code-delete-imageconfig-response", &types.ImageConfig{})
	p.getImageFn(name, "get-function-code-response-after-delete-imageconfig", "get-function-config-response-after-delete-imageconfig")
})

var _ = registerParity("TestLambdaImages::test_lambda_image_versions", []string{"img-versions"}, func(p *parity) {
	name := "img-versions"
	p.createImageFn(name, func(in *lambda.CreateFunctionInput) { in.Publish = true })
	p.check("create_image_response")
	waitActive(p.t, p.h.client, name)
	out, err := p.h.client.GetFunction(p.ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name)})
	if err != nil {
		p.t.Fatal(err)
	}
	p.checkImage("get_function_result")
	p.replace(aws.ToString(out.Configuration.CodeSha256), "<code-sha256:1>") // AWS's message names it
	p.listVersions(name)
	p.check("list_versions_result")
	update := func(label, getLabel, desc string) {
		release := p.hold()
		_, _ = p.h.client.UpdateFunctionConfiguration(p.ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String(name), Description: aws.String(desc)})
		p.check(label)
		release()
		waitUpdated(p.t, p.h.client, name)
		p.getFn(name, "")
		p.checkImage(getLabel)
	}
	update("first_update_response", "first_update_get_function", "Second version :)")
	p.publish(&lambda.PublishVersionInput{FunctionName: aws.String(name), Description: aws.String("Second version description :)"),
		CodeSha256: aws.String("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")})
	p.check("invalid_sha_publish")
	p.publish(&lambda.PublishVersionInput{FunctionName: aws.String(name), Description: aws.String("Second version description :)"),
		CodeSha256: out.Configuration.CodeSha256})
	p.check("first_publish_response")
	update("second_update_response", "second_update_get_function", "Third version :)")
	p.publish(&lambda.PublishVersionInput{FunctionName: aws.String(name), Description: aws.String("Third version description :)")})
	p.check("second_publish_response")
})
