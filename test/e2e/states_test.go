package e2e

import (
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// TestImageFunctionOnProcessBackendFails: the process backend runs no
// container images, so an Image function must end in State Failed with a
// reason (and its waiter must say so), never Active and then a 500 at invoke.
func TestImageFunctionOnProcessBackendFails(t *testing.T) {
	s := startLamb(t, "")
	c := s.client("us-east-1", "123456789012")
	ctx := ctxT(t)
	_, err := c.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String("img"),
		PackageType:  types.PackageTypeImage,
		Role:         aws.String(role),
		Code:         &types.FunctionCode{ImageUri: aws.String("123456789012.dkr.ecr.us-east-1.amazonaws.com/app:latest")},
	})
	if err != nil {
		t.Fatal(err)
	}
	w := lambda.NewFunctionActiveV2Waiter(c, func(o *lambda.FunctionActiveV2WaiterOptions) { o.MinDelay = 50 * time.Millisecond })
	if err := w.Wait(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("img")}, 30*time.Second); err == nil {
		t.Fatal("function-active-v2 waiter succeeded for an Image function on the process backend")
	}
	cfg, err := c.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("img")})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.State != types.StateFailed || cfg.StateReasonCode != types.StateReasonCodeInvalidImage || aws.ToString(cfg.StateReason) == "" {
		t.Errorf("State %q, StateReasonCode %q, StateReason %q; want Failed, InvalidImage and a reason",
			cfg.State, cfg.StateReasonCode, aws.ToString(cfg.StateReason))
	}
	_, err = c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("img")})
	var conflict *types.ResourceConflictException
	if !errors.As(err, &conflict) {
		t.Errorf("invoke of a Failed function: %v; want ResourceConflictException", err)
	}
}
