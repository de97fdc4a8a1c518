package api

import (
	"context"
	"errors"
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
	step := snapshotSteps{t, h, snap, n}.step

	step("create_response", "", &lambda.CreateFunctionInput{
		FunctionName: aws.String(name),
		Runtime:      types.RuntimePython312,
		Role:         aws.String(testRole),
		Handler:      aws.String("handler.handler"),
		Code:         &types.FunctionCode{ZipFile: handlerZip(t, "1")},
		MemorySize:   aws.Int32(256),
		Timeout:      aws.Int32(5),
		Environment:  &types.Environment{Variables: map[string]string{}},
	})
	waitActive(t, h.client, name)
	get := &lambda.GetFunctionInput{FunctionName: aws.String(name)}
	step("get_function_response", "<location>", get)

	step("update_func_conf_response", "", &lambda.UpdateFunctionConfigurationInput{
		FunctionName: aws.String(name),
		Runtime:      types.RuntimePython311,
		Description:  aws.String("Changed-Description"),
		MemorySize:   aws.Int32(512),
		Timeout:      aws.Int32(10),
		Environment:  &types.Environment{Variables: map[string]string{"ENV_A": "a"}},
	})
	waitUpdated(t, h.client, name)
	step("get_function_response_postupdate", "<location>", get)

	step("update_code_response", "", &lambda.UpdateFunctionCodeInput{FunctionName: aws.String(name), ZipFile: handlerZip(t, "2")})
	waitUpdated(t, h.client, name)
	step("get_function_response_postcodeupdate", "<location>", get)

	if _, err := h.client.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	rr := h.rec.lastResponse()
	got := n.normalise(rr.boto3View(t), "")
	got["StatusCode"] = float64(rr.status) // boto3 fills DeleteFunction's StatusCode member from the status line
	matchSnapshot(t, snap, "delete_response", got)
	_, err := h.client.GetFunction(ctx, get)
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("GetFunction after delete: want ResourceNotFoundException, got %v", err)
	}
	matchSnapshot(t, snap, "delete_postdelete", n.normalise(h.rec.lastResponse().boto3View(t), ""))
}

func runtimeHash(rt string) string {
	a := runtimeVersionArn("us-east-1", rt)
	return a[len("arn:aws:lambda:us-east-1::runtime:"):]
}

// waitActive uses the SDK's own FunctionActiveV2 waiter.
func waitActive(t *testing.T, c *lambda.Client, name string) {
	t.Helper()
	waitFunction(t, "FunctionActiveV2", name, lambda.NewFunctionActiveV2Waiter(c, func(o *lambda.FunctionActiveV2WaiterOptions) {
		o.MinDelay, o.MaxDelay = 10*time.Millisecond, 50*time.Millisecond
	}))
}

// waitUpdated uses the SDK's own FunctionUpdatedV2 waiter.
func waitUpdated(t *testing.T, c *lambda.Client, name string) {
	t.Helper()
	waitFunction(t, "FunctionUpdatedV2", name, lambda.NewFunctionUpdatedV2Waiter(c, func(o *lambda.FunctionUpdatedV2WaiterOptions) {
		o.MinDelay, o.MaxDelay = 10*time.Millisecond, 50*time.Millisecond
	}))
}

// functionWaiter is one of the SDK's waiters on GetFunction (options O).
type functionWaiter[O any] interface {
	Wait(ctx context.Context, in *lambda.GetFunctionInput, maxWait time.Duration, optFns ...func(*O)) error
}

// waitFunction waits up to 10 s with w, the waiter named what, for function name.
func waitFunction[O any](t *testing.T, what, name string, w functionWaiter[O]) {
	t.Helper()
	if err := w.Wait(context.Background(), &lambda.GetFunctionInput{FunctionName: aws.String(name)}, 10*time.Second); err != nil {
		t.Fatalf("%s waiter: %v", what, err)
	}
}
