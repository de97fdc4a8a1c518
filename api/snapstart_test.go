package api

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// TestSnapStartStates covers what the recordings do not: a version published
// while ApplyOn is PublishedVersions reports OptimizationStatus On ($LATEST
// stays Off), and runtimes without SnapStart refuse the setting.
func TestSnapStartStates(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, Config{})
	in := createInput(t, "snap")
	in.Runtime = types.RuntimePython313
	in.SnapStart = &types.SnapStart{ApplyOn: types.SnapStartApplyOnPublishedVersions}
	out, err := h.client.CreateFunction(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if out.SnapStart.ApplyOn != types.SnapStartApplyOnPublishedVersions || out.SnapStart.OptimizationStatus != types.SnapStartOptimizationStatusOff {
		t.Errorf("create answered %+v", out.SnapStart)
	}
	waitActive(t, h.client, "snap")
	v, err := h.client.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("snap")})
	if err != nil {
		t.Fatal(err)
	}
	if v.SnapStart.OptimizationStatus != types.SnapStartOptimizationStatusOn {
		t.Errorf("version 1: OptimizationStatus %q, want On", v.SnapStart.OptimizationStatus)
	}
	latest, err := h.client.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("snap")})
	if err != nil {
		t.Fatal(err)
	}
	if latest.SnapStart.OptimizationStatus != types.SnapStartOptimizationStatusOff {
		t.Errorf("$LATEST: OptimizationStatus %q, want Off", latest.SnapStart.OptimizationStatus)
	}

	for _, tc := range []struct {
		runtime types.Runtime
		ok      bool
	}{
		{types.RuntimePython312, true}, {types.RuntimeJava21, true}, {types.RuntimeDotnet8, true},
		{types.RuntimeNodejs22x, false}, {types.RuntimeProvidedal2023, false}, {types.RuntimeRuby34, false},
	} {
		t.Run(string(tc.runtime), func(t *testing.T) {
			in := createInput(t, "snap-"+string(tc.runtime[:4]))
			in.Runtime = tc.runtime
			in.SnapStart = &types.SnapStart{ApplyOn: types.SnapStartApplyOnPublishedVersions}
			_, err := h.client.CreateFunction(ctx, in)
			var ipe *types.InvalidParameterValueException
			switch {
			case tc.ok && err != nil:
				t.Errorf("refused: %v", err)
			case !tc.ok && !errors.As(err, &ipe):
				t.Errorf("got %v, want InvalidParameterValueException", err)
			}
			if tc.ok {
				_, _ = h.client.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: in.FunctionName})
			}
		})
	}
}
