package api

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"
)

// testClock is a Config.Now a test moves by hand.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// TestRuntimeDates drives CreateFunction, UpdateFunctionConfiguration and
// UpdateFunctionCode through the HTTP API with the clock on each side of
// AWS's block dates (runtimes/runtimes.go): nodejs20.x create blocked from
// 2027-02-01 and updates from 2027-03-03, python3.11 from 2027-07-31 and
// 2027-08-31. Update functions are created on 2026-12-02, when both are open.
// The refusal is AWS's, recorded in TestRuntimeValidation.
func TestRuntimeDates(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	created := at("2026-12-02T12:00:00Z")
	const (
		create     = "CreateFunction"
		setRuntime = "UpdateFunctionConfiguration to the runtime"
		setOther   = "UpdateFunctionConfiguration of a function on it"
		leave      = "UpdateFunctionConfiguration to python3.12"
		code       = "UpdateFunctionCode of a function on it"
	)
	tests := []struct {
		runtime, op, at string
		refused         bool
	}{
		{"nodejs20.x", create, "2026-12-02T12:00:00Z", false},
		{"nodejs20.x", create, "2027-01-31T23:59:59Z", false},
		{"nodejs20.x", create, "2027-02-01T00:00:00Z", true},
		{"nodejs20.x", setRuntime, "2027-03-02T23:59:59Z", false},
		{"nodejs20.x", setRuntime, "2027-03-03T00:00:00Z", true},
		{"nodejs20.x", setOther, "2027-03-02T23:59:59Z", false},
		{"nodejs20.x", setOther, "2027-03-03T00:00:00Z", true},
		{"nodejs20.x", code, "2027-03-02T23:59:59Z", false},
		{"nodejs20.x", code, "2027-03-03T00:00:00Z", true},
		{"nodejs20.x", leave, "2027-03-03T00:00:00Z", false},
		{"python3.11", create, "2026-12-02T12:00:00Z", false},
		{"python3.11", create, "2027-07-30T23:59:59Z", false},
		{"python3.11", create, "2027-07-31T00:00:00Z", true},
		{"python3.11", setRuntime, "2027-08-30T23:59:59Z", false},
		{"python3.11", setRuntime, "2027-08-31T00:00:00Z", true},
		{"python3.11", setOther, "2027-08-30T23:59:59Z", false},
		{"python3.11", setOther, "2027-08-31T00:00:00Z", true},
		{"python3.11", code, "2027-08-30T23:59:59Z", false},
		{"python3.11", code, "2027-08-31T00:00:00Z", true},
		{"python3.11", leave, "2027-08-31T00:00:00Z", false},
		// Refused for create for years, and updates again allowed until 2027-03-03.
		{"go1.x", create, "2026-12-02T12:00:00Z", true},
		{"go1.x", setRuntime, "2026-12-02T12:00:00Z", false},
		{"go1.x", setRuntime, "2027-03-03T00:00:00Z", true},
	}
	for _, tc := range tests {
		t.Run(tc.runtime+"/"+tc.op+"/"+tc.at, func(t *testing.T) {
			clock := &testClock{now: created}
			h := newHarness(t, Config{Now: clock.Now})
			ctx := context.Background()
			name := "dates"
			newFn := func(runtime string) error {
				in := createInput(t, name)
				in.Runtime = types.Runtime(runtime)
				_, err := h.client.CreateFunction(ctx, in)
				return err
			}
			switch tc.op {
			case setRuntime:
				if err := newFn("python3.12"); err != nil {
					t.Fatal(err)
				}
				waitActive(t, h.client, name)
			case setOther, leave, code:
				if err := newFn(tc.runtime); err != nil {
					t.Fatal(err)
				}
				waitActive(t, h.client, name)
			}
			clock.set(at(tc.at))
			var err error
			switch tc.op {
			case create:
				err = newFn(tc.runtime)
			case setRuntime:
				_, err = h.client.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String(name), Runtime: types.Runtime(tc.runtime)})
			case setOther:
				_, err = h.client.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String(name), Description: aws.String("after")})
			case leave:
				_, err = h.client.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String(name), Runtime: types.RuntimePython312})
			case code:
				_, err = h.client.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String(name), ZipFile: handlerZip(t, "2")})
			}
			if !tc.refused {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			want := "The runtime parameter of " + tc.runtime + " is no longer supported for creating or updating AWS Lambda functions. We recommend you use a supported runtime while creating or updating functions."
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidParameterValueException" || ae.ErrorMessage() != want {
				t.Fatalf("got %v; want InvalidParameterValueException %q", err, want)
			}
			if st := h.rec.lastResponse().status; st != 400 {
				t.Errorf("status %d, want 400", st)
			}
		})
	}
}
