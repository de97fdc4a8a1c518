package api

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// Snapshot labels covered:
//   - TestLambdaSizeLimits::test_lambda_envvars_near_limit_succeeds: successful_create_fn_result
//   - TestLambdaSizeLimits::test_large_lambda: create_function_large_zip (the
//     shape of a function created without Environment; AWS's scenario uploads
//     through S3, which lamb lacks, so the zip goes in directly)
//   - TestLambdaFunction::test_function_arns: create-function-arn-response
var _ = registerParityTest("CreateVariantsMatchSnapshot", testCreateVariantsMatchSnapshot)

func testCreateVariantsMatchSnapshot(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		testID, label string
		name          string
		edit          func(in *types.Environment, t *testing.T) *types.Environment
		fnName        func(name string) string
		timeout       *int32
	}{
		{testID: "TestLambdaSizeLimits::test_lambda_envvars_near_limit_succeeds", label: "successful_create_fn_result", name: "near-limit",
			edit: func(_ *types.Environment, t *testing.T) *types.Environment {
				want := expected(t, loadSnapshot(t, "TestLambdaSizeLimits::test_lambda_envvars_near_limit_succeeds"), "successful_create_fn_result")
				vars := map[string]string{}
				for k, v := range want["Environment"].(map[string]any)["Variables"].(map[string]any) {
					vars[k] = v.(string)
				}
				return &types.Environment{Variables: vars}
			}},
		{testID: "TestLambdaSizeLimits::test_large_lambda", label: "create_function_large_zip", name: "large",
			edit:    func(*types.Environment, *testing.T) *types.Environment { return nil },
			timeout: aws.Int32(10)},
		{testID: "TestLambdaFunction::test_function_arns", label: "create-function-arn-response", name: "by-arn",
			fnName: func(n string) string { return "arn:aws:lambda:us-east-1:111111111111:function:" + n }},
	}
	for _, tc := range tests {
		t.Run(tc.label, func(t *testing.T) {
			snap := loadSnapshot(t, tc.testID)
			h := newHarness(t, Config{})
			in := createInput(t, tc.name)
			if tc.edit != nil {
				in.Environment = tc.edit(in.Environment, t)
			}
			if tc.fnName != nil {
				in.FunctionName = aws.String(tc.fnName(tc.name))
			}
			if tc.timeout != nil {
				in.Timeout = tc.timeout
			}
			if _, err := h.client.CreateFunction(ctx, in); err != nil {
				t.Fatal(err)
			}
			n := newNormaliser(tc.name, "<function-name:1>", "role/lambda-test-role", "role/<resource:1>",
				"runtime:"+runtimeHash("python3.12"), "runtime:<resource:2>")
			matchSnapshot(t, snap, tc.label, n.normalise(h.rec.lastResponse().boto3View(t), ""))
		})
	}
}
