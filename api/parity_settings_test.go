package api

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// Re-enactments of TestLambdaRecursion.

var _ = registerParity("TestLambdaRecursion::test_put_function_recursion_config_allow", nil, func(p *parity) {
	p.createFn("rec-allow", nil, true)
	_, _ = p.h.client.PutFunctionRecursionConfig(p.ctx, &lambda.PutFunctionRecursionConfigInput{FunctionName: aws.String("rec-allow"), RecursiveLoop: types.RecursiveLoopAllow})
	p.check("put_recursion_config_response")
	_, _ = p.h.client.GetFunctionRecursionConfig(p.ctx, &lambda.GetFunctionRecursionConfigInput{FunctionName: aws.String("rec-allow")})
	p.check("get_recursion_config_response")
})

var _ = registerParity("TestLambdaRecursion::test_put_function_recursion_config_default_terminate", nil, func(p *parity) {
	p.createFn("rec-default", nil, true)
	_, _ = p.h.client.GetFunctionRecursionConfig(p.ctx, &lambda.GetFunctionRecursionConfigInput{FunctionName: aws.String("rec-default")})
	p.check("get_recursion_default_terminate_response")
})

var _ = registerParity("TestLambdaRecursion::test_put_function_recursion_config_invalid_value", nil, func(p *parity) {
	p.createFn("rec-invalid", nil, true)
	_, _ = p.h.client.PutFunctionRecursionConfig(p.ctx, &lambda.PutFunctionRecursionConfigInput{FunctionName: aws.String("rec-invalid"), RecursiveLoop: "InvalidValue"})
	p.check("put_recursion_invalid_value_error")
})
