package api

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

func cpInput(name string) *lambda.CreateCapacityProviderInput {
	return &lambda.CreateCapacityProviderInput{
		CapacityProviderName: aws.String(name),
		VpcConfig:            &types.CapacityProviderVpcConfig{SubnetIds: []string{"subnet-1"}, SecurityGroupIds: []string{"sg-1"}},
		PermissionsConfig:    &types.CapacityProviderPermissionsConfig{CapacityProviderOperatorRoleArn: aws.String(testRole)},
	}
}

// TestCapacityProviderLifecycle drives the capacity-provider operations and
// function scaling configs with the real SDK: CRUD, list filters and pages,
// a function version attached to a provider, and the errors.
func TestCapacityProviderLifecycle(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, Config{})
	c := h.client
	out, err := c.CreateCapacityProvider(ctx, cpInput("cp-a"))
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.CapacityProvider.CapacityProviderArn)
	if arn != "arn:aws:lambda:us-east-1:111111111111:capacity-provider:cp-a" || out.CapacityProvider.State != types.CapacityProviderStateActive ||
		out.CapacityProvider.CapacityProviderScalingConfig.ScalingMode != types.CapacityProviderScalingModeAuto ||
		len(out.CapacityProvider.InstanceRequirements.Architectures) != 1 {
		t.Fatalf("created %+v", out.CapacityProvider)
	}
	if _, err := c.CreateCapacityProvider(ctx, cpInput("cp-a")); !isCode(err, "ResourceConflictException") {
		t.Errorf("duplicate: %v", err)
	}
	if _, err := c.CreateCapacityProvider(ctx, cpInput("cp-b")); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetCapacityProvider(ctx, &lambda.GetCapacityProviderInput{CapacityProviderName: aws.String(arn)})
	if err != nil || aws.ToString(got.CapacityProvider.CapacityProviderArn) != arn {
		t.Fatalf("get by ARN: %+v %v", got, err)
	}
	upd, err := c.UpdateCapacityProvider(ctx, &lambda.UpdateCapacityProviderInput{CapacityProviderName: aws.String("cp-a"),
		CapacityProviderScalingConfig: &types.CapacityProviderScalingConfig{MaxVCpuCount: aws.Int32(64)}})
	if err != nil || aws.ToInt32(upd.CapacityProvider.CapacityProviderScalingConfig.MaxVCpuCount) != 64 {
		t.Fatalf("update: %+v %v", upd, err)
	}
	page1, err := c.ListCapacityProviders(ctx, &lambda.ListCapacityProvidersInput{MaxItems: aws.Int32(1)})
	if err != nil || len(page1.CapacityProviders) != 1 || page1.NextMarker == nil {
		t.Fatalf("page 1: %+v %v", page1, err)
	}
	page2, err := c.ListCapacityProviders(ctx, &lambda.ListCapacityProvidersInput{MaxItems: aws.Int32(1), Marker: page1.NextMarker})
	if err != nil || len(page2.CapacityProviders) != 1 || page2.NextMarker != nil ||
		aws.ToString(page2.CapacityProviders[0].CapacityProviderArn) == aws.ToString(page1.CapacityProviders[0].CapacityProviderArn) {
		t.Fatalf("page 2: %+v %v", page2, err)
	}
	if none, err := c.ListCapacityProviders(ctx, &lambda.ListCapacityProvidersInput{State: types.CapacityProviderStateFailed}); err != nil || len(none.CapacityProviders) != 0 {
		t.Fatalf("State filter: %+v %v", none, err)
	}

	// A function on cp-a, version 1 published from it.
	in := createInput(t, "on-cp")
	in.CapacityProviderConfig = &types.CapacityProviderConfig{LambdaManagedInstancesCapacityProviderConfig: &types.LambdaManagedInstancesCapacityProviderConfig{CapacityProviderArn: aws.String(arn)}}
	fn, err := c.CreateFunction(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if fn.CapacityProviderConfig == nil || aws.ToString(fn.CapacityProviderConfig.LambdaManagedInstancesCapacityProviderConfig.CapacityProviderArn) != arn {
		t.Errorf("function's CapacityProviderConfig: %+v", fn.CapacityProviderConfig)
	}
	waitActive(t, c, "on-cp")
	if _, err := c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("on-cp")}); err != nil {
		t.Fatal(err)
	}
	versions, err := c.ListFunctionVersionsByCapacityProvider(ctx, &lambda.ListFunctionVersionsByCapacityProviderInput{CapacityProviderName: aws.String("cp-a")})
	if err != nil || len(versions.FunctionVersions) != 2 {
		t.Fatalf("versions on cp-a: %+v %v", versions, err)
	}
	bad := createInput(t, "on-missing-cp")
	bad.CapacityProviderConfig = &types.CapacityProviderConfig{LambdaManagedInstancesCapacityProviderConfig: &types.LambdaManagedInstancesCapacityProviderConfig{
		CapacityProviderArn: aws.String("arn:aws:lambda:us-east-1:111111111111:capacity-provider:nope")}}
	if _, err := c.CreateFunction(ctx, bad); !isCode(err, "InvalidParameterValueException") {
		t.Errorf("function on a missing provider: %v", err)
	}
	if _, err := c.DeleteCapacityProvider(ctx, &lambda.DeleteCapacityProviderInput{CapacityProviderName: aws.String("cp-a")}); !isCode(err, "ResourceConflictException") {
		t.Errorf("delete of a provider in use: %v", err)
	}

	// Scaling configs apply to published versions on a provider.
	if _, err := c.PutFunctionScalingConfig(ctx, &lambda.PutFunctionScalingConfigInput{FunctionName: aws.String("on-cp"), Qualifier: aws.String("1"),
		FunctionScalingConfig: &types.FunctionScalingConfig{MinExecutionEnvironments: aws.Int32(1), MaxExecutionEnvironments: aws.Int32(4)}}); err != nil {
		t.Fatal(err)
	}
	sc, err := c.GetFunctionScalingConfig(ctx, &lambda.GetFunctionScalingConfigInput{FunctionName: aws.String("on-cp"), Qualifier: aws.String("$LATEST.PUBLISHED")})
	if err != nil || aws.ToString(sc.FunctionArn) != "arn:aws:lambda:us-east-1:111111111111:function:on-cp:1" ||
		aws.ToInt32(sc.RequestedFunctionScalingConfig.MaxExecutionEnvironments) != 4 || sc.AppliedFunctionScalingConfig != nil {
		t.Fatalf("scaling config: %+v %v", sc, err)
	}
	for _, tc := range []struct {
		name, fn, qualifier string
		min, max            int32
		code                string
	}{
		{"min over max", "on-cp", "1", 5, 2, "InvalidParameterValueException"},
		{"unpublished qualifier", "on-cp", "$LATEST", 0, 1, "ValidationException"},
		{"missing version", "on-cp", "9", 0, 1, "ResourceNotFoundException"},
		{"missing function", "nope", "1", 0, 1, "ResourceNotFoundException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.PutFunctionScalingConfig(ctx, &lambda.PutFunctionScalingConfigInput{FunctionName: aws.String(tc.fn), Qualifier: aws.String(tc.qualifier),
				FunctionScalingConfig: &types.FunctionScalingConfig{MinExecutionEnvironments: aws.Int32(tc.min), MaxExecutionEnvironments: aws.Int32(tc.max)}})
			if !isCode(err, tc.code) {
				t.Errorf("got %v, want %s", err, tc.code)
			}
		})
	}
	if _, err := c.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("on-cp")}); err != nil {
		t.Fatal(err)
	}
	del, err := c.DeleteCapacityProvider(ctx, &lambda.DeleteCapacityProviderInput{CapacityProviderName: aws.String("cp-a")})
	if err != nil || del.CapacityProvider.State != types.CapacityProviderStateDeleting {
		t.Fatalf("delete: %+v %v", del, err)
	}
	if _, err := c.GetCapacityProvider(ctx, &lambda.GetCapacityProviderInput{CapacityProviderName: aws.String("cp-a")}); !isCode(err, "ResourceNotFoundException") {
		t.Errorf("get after delete: %v", err)
	}
}

func TestCapacityProviderValidation(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, Config{})
	for _, tc := range []struct {
		name string
		edit func(in *lambda.CreateCapacityProviderInput)
		code string
	}{
		{"bad name", func(in *lambda.CreateCapacityProviderInput) { in.CapacityProviderName = aws.String("bad name!") }, "ValidationException"},
		{"no subnets", func(in *lambda.CreateCapacityProviderInput) { in.VpcConfig.SubnetIds = []string{} }, "ValidationException"},
		{"bad role", func(in *lambda.CreateCapacityProviderInput) {
			in.PermissionsConfig.CapacityProviderOperatorRoleArn = aws.String("r1")
		}, "ValidationException"},
		{"vcpu too low", func(in *lambda.CreateCapacityProviderInput) {
			in.CapacityProviderScalingConfig = &types.CapacityProviderScalingConfig{MaxVCpuCount: aws.Int32(1)}
		}, "ValidationException"},
		{"two architectures", func(in *lambda.CreateCapacityProviderInput) {
			in.InstanceRequirements = &types.InstanceRequirements{Architectures: []types.Architecture{"x86_64", "arm64"}}
		}, "ValidationException"},
		{"allowed and excluded", func(in *lambda.CreateCapacityProviderInput) {
			in.InstanceRequirements = &types.InstanceRequirements{AllowedInstanceTypes: []string{"m7g.large"}, ExcludedInstanceTypes: []string{"c7g.large"}}
		}, "InvalidParameterValueException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := cpInput("cp-v")
			tc.edit(in)
			if _, err := h.client.CreateCapacityProvider(ctx, in); !isCode(err, tc.code) {
				t.Errorf("got %v, want %s", err, tc.code)
			}
		})
	}
}

// TestDurableExecutionsAnswerNoneExist: without a durable runtime no durable
// execution exists; each operation says so in AWS's shapes, none succeeds
// silently except listing (an empty list is the truth).
func TestDurableExecutionsAnswerNoneExist(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, Config{})
	if _, err := h.client.CreateFunction(ctx, createInput(t, "dur")); err != nil {
		t.Fatal(err)
	}
	list, err := h.client.ListDurableExecutionsByFunction(ctx, &lambda.ListDurableExecutionsByFunctionInput{FunctionName: aws.String("dur")})
	if err != nil || list.DurableExecutions == nil || len(list.DurableExecutions) != 0 {
		t.Fatalf("list: %+v %v", list, err)
	}
	if _, err := h.client.ListDurableExecutionsByFunction(ctx, &lambda.ListDurableExecutionsByFunctionInput{FunctionName: aws.String("nope")}); !isCode(err, "ResourceNotFoundException") {
		t.Errorf("list on a missing function: %v", err)
	}
	execArn := aws.String("arn:aws:lambda:us-east-1:111111111111:function:dur:$LATEST/durable-execution/run-1/abc123")
	callback := aws.String("Y2FsbGJhY2s=")
	for _, tc := range []struct {
		name string
		in   any // the request, sent by sendInput
		code string
	}{
		{"get", &lambda.GetDurableExecutionInput{DurableExecutionArn: execArn}, "ResourceNotFoundException"},
		{"history", &lambda.GetDurableExecutionHistoryInput{DurableExecutionArn: execArn}, "ResourceNotFoundException"},
		{"stop", &lambda.StopDurableExecutionInput{DurableExecutionArn: execArn}, "ResourceNotFoundException"},
		{"state", &lambda.GetDurableExecutionStateInput{DurableExecutionArn: execArn, CheckpointToken: aws.String("t")}, "InvalidParameterValueException"},
		{"checkpoint", &lambda.CheckpointDurableExecutionInput{DurableExecutionArn: execArn, CheckpointToken: aws.String("t")}, "InvalidParameterValueException"},
		{"callback success", &lambda.SendDurableExecutionCallbackSuccessInput{CallbackId: callback}, "InvalidParameterValueException"},
		{"callback failure", &lambda.SendDurableExecutionCallbackFailureInput{CallbackId: callback}, "InvalidParameterValueException"},
		{"callback heartbeat", &lambda.SendDurableExecutionCallbackHeartbeatInput{CallbackId: callback}, "InvalidParameterValueException"},
		{"bad arn", &lambda.GetDurableExecutionInput{DurableExecutionArn: aws.String("arn:aws:lambda:us-east-1:111111111111:function:dur")}, "ValidationException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := sendInput(t, h.client, ctx, tc.in); !isCode(err, tc.code) {
				t.Errorf("got %v, want %s", err, tc.code)
			}
		})
	}
}

// isCode reports whether err is an AWS API error with code.
func isCode(err error, code string) bool {
	var ae interface{ ErrorCode() string }
	return errors.As(err, &ae) && ae.ErrorCode() == code
}
