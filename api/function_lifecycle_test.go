package api

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

const testRole = "arn:aws:iam::111111111111:role/lambda-test-role"

// Snapshot labels covered here (TestLambdaFunction::test_function_lifecycle):
// create_response, get_function_response, update_func_conf_response,
// get_function_response_postupdate, update_code_response,
// get_function_response_postcodeupdate, delete_response, delete_postdelete.
var _ = registerParityTest("FunctionLifecycleMatchesSnapshot", testFunctionLifecycleMatchesSnapshot)

func testFunctionLifecycleMatchesSnapshot(t *testing.T) {
	snap := loadSnapshot(t, "TestLambdaFunction::test_function_lifecycle")
	h := newHarness(t, Config{})
	ctx := context.Background()
	name := "fn-lifecycle"
	n := newNormaliser(
		name, "<function-name:1>",
		"role/lambda-test-role", "role/<resource:1>",
		"runtime:"+runtimeHash("python3.12"), "runtime:<resource:2>",
		"runtime:"+runtimeHash("python3.11"), "runtime:<resource:3>",
	)
	check := func(label, location string) {
		t.Helper()
		rr := h.rec.lastResponse()
		got := n.normalise(rr.boto3View(t), location)
		if label == "delete_response" {
			// boto3 fills DeleteFunction's StatusCode member from the status line.
			got["StatusCode"] = float64(rr.status)
		}
		matchSnapshot(t, snap, label, got)
	}

	_, err := h.client.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String(name),
		Runtime:      types.RuntimePython312,
		Role:         aws.String(testRole),
		Handler:      aws.String("handler.handler"),
		Code:         &types.FunctionCode{ZipFile: handlerZip(t, "1")},
		MemorySize:   aws.Int32(256),
		Timeout:      aws.Int32(5),
		Environment:  &types.Environment{Variables: map[string]string{}},
	})
	if err != nil {
		t.Fatalf("CreateFunction: %v", err)
	}
	check("create_response", "")
	waitActive(t, h.client, name)

	if _, err := h.client.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	check("get_function_response", "<location>")

	_, err = h.client.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{
		FunctionName: aws.String(name),
		Runtime:      types.RuntimePython311,
		Description:  aws.String("Changed-Description"),
		MemorySize:   aws.Int32(512),
		Timeout:      aws.Int32(10),
		Environment:  &types.Environment{Variables: map[string]string{"ENV_A": "a"}},
	})
	if err != nil {
		t.Fatalf("UpdateFunctionConfiguration: %v", err)
	}
	check("update_func_conf_response", "")
	waitUpdated(t, h.client, name)
	if _, err := h.client.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	check("get_function_response_postupdate", "<location>")

	if _, err := h.client.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String(name), ZipFile: handlerZip(t, "2")}); err != nil {
		t.Fatalf("UpdateFunctionCode: %v", err)
	}
	check("update_code_response", "")
	waitUpdated(t, h.client, name)
	if _, err := h.client.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	check("get_function_response_postcodeupdate", "<location>")

	if _, err := h.client.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	check("delete_response", "")
	_, err = h.client.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name)})
	var nf *types.ResourceNotFoundException
	if !errorsAs(err, &nf) {
		t.Fatalf("GetFunction after delete: want ResourceNotFoundException, got %v", err)
	}
	check("delete_postdelete", "")
}

func runtimeHash(rt string) string {
	a := runtimeVersionArn("us-east-1", rt)
	return a[len("arn:aws:lambda:us-east-1::runtime:"):]
}

// waitActive uses the SDK's own FunctionActiveV2 waiter.
func waitActive(t *testing.T, c *lambda.Client, name string) {
	t.Helper()
	w := lambda.NewFunctionActiveV2Waiter(c, func(o *lambda.FunctionActiveV2WaiterOptions) {
		o.MinDelay, o.MaxDelay = 10*time.Millisecond, 50*time.Millisecond
	})
	if err := w.Wait(context.Background(), &lambda.GetFunctionInput{FunctionName: aws.String(name)}, 10*time.Second); err != nil {
		t.Fatalf("FunctionActiveV2 waiter: %v", err)
	}
}

// waitUpdated uses the SDK's own FunctionUpdatedV2 waiter.
func waitUpdated(t *testing.T, c *lambda.Client, name string) {
	t.Helper()
	w := lambda.NewFunctionUpdatedV2Waiter(c, func(o *lambda.FunctionUpdatedV2WaiterOptions) {
		o.MinDelay, o.MaxDelay = 10*time.Millisecond, 50*time.Millisecond
	})
	if err := w.Wait(context.Background(), &lambda.GetFunctionInput{FunctionName: aws.String(name)}, 10*time.Second); err != nil {
		t.Fatalf("FunctionUpdatedV2 waiter: %v", err)
	}
}
