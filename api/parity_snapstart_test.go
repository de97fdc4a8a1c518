package api

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// Re-enactments of TestLambdaSnapStart. The recorded lifecycle scenario's
// create answer carries ApplyOn None, so its create sets no SnapStart.

var snapStartHandlers = map[string]string{
	"java11": "echo.Handler", "java17": "echo.Handler", "java21": "echo.Handler", "java25": "echo.Handler",
	"python3.12": "handler.handler", "python3.13": "handler.handler",
	"dotnet8": "dotnet::Dotnet.Function::FunctionHandler", "dotnet10": "dotnet::Dotnet.Function::FunctionHandler",
}

// createSnapStartFn creates the scenario's function for runtime (1024 MB, 5 s).
func (p *parity) createSnapStartFn(name, runtime string, snap *types.SnapStart) {
	p.replace("runtime:"+runtimeHash(runtime), "runtime:<resource:2>")
	p.createFn(name, func(in *lambda.CreateFunctionInput) {
		in.Runtime = types.Runtime(runtime)
		in.Handler = aws.String(snapStartHandlers[runtime])
		in.MemorySize = aws.Int32(1024)
		in.Timeout = aws.Int32(5)
		in.SnapStart = snap
	}, true)
}

func init() {
	for rt := range snapStartHandlers {
		registerParity("TestLambdaSnapStart::test_snapstart_lifecycle["+rt+"]", []string{"snap-life"}, func(p *parity) {
			name := "snap-life"
			p.createSnapStartFn(name, rt, nil)
			p.check("create_function_response")
			p.getFn(name, "")
			p.check("get_function_response_latest")
			p.publish(&lambda.PublishVersionInput{FunctionName: aws.String(name), Description: aws.String("version1")})
			p.getFn(name, "1")
			p.check("get_function_response_version_1")
		})
		registerParity("TestLambdaSnapStart::test_snapstart_update_function_configuration["+rt+"]", []string{"snap-upd"}, func(p *parity) {
			name := "snap-upd"
			p.createSnapStartFn(name, rt, nil)
			p.check("create_function_response")
			release := p.hold()
			defer release()
			_, err := p.h.client.UpdateFunctionConfiguration(p.ctx, &lambda.UpdateFunctionConfigurationInput{
				FunctionName: aws.String(name), SnapStart: &types.SnapStart{ApplyOn: types.SnapStartApplyOnPublishedVersions}})
			if err != nil {
				p.t.Fatal(err)
			}
			p.check("update_function_response")
		})
	}
}

var _ = registerParity("TestLambdaSnapStart::test_snapstart_exceptions", nil, func(p *parity) {
	_, err := p.h.client.CreateFunction(p.ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String("snap-exc"), Runtime: types.RuntimeJava21, Role: aws.String(testRole),
		Handler: aws.String("echo.Handler"), Code: &types.FunctionCode{ZipFile: zipOf(p.t, map[string]string{"a.txt": "x"})},
		SnapStart: &types.SnapStart{ApplyOn: "invalidOption"},
	})
	if err == nil {
		p.t.Fatal("CreateFunction with an invalid ApplyOn succeeded")
	}
	p.check("create_function_invalid_snapstart_apply")
})
