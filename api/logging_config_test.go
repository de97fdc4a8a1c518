package api

import (
	"context"
	"testing"

	"github.com/lambhq/lamb/internal/testenv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// Snapshot labels covered: create_response, get_function_response,
// function_config, updated_config and received_config of
// TestLoggingConfig::test_function_advanced_logging_configuration and
// test_function_partial_advanced_logging_configuration_update[partial_config0..3].
var _ = registerParityTest("LoggingConfigMatchesSnapshot", testLoggingConfigMatchesSnapshot)

func testLoggingConfigMatchesSnapshot(t *testing.T) {
	tests := []struct {
		testID string
		create *types.LoggingConfig
		update *types.LoggingConfig
	}{
		{"TestLoggingConfig::test_function_advanced_logging_configuration",
			&types.LoggingConfig{LogFormat: types.LogFormatJson},
			&types.LoggingConfig{LogGroup: aws.String("cool_lambda")}},
		{"TestLoggingConfig::test_function_partial_advanced_logging_configuration_update[partial_config0]", nil,
			&types.LoggingConfig{LogFormat: types.LogFormatJson}},
		{"TestLoggingConfig::test_function_partial_advanced_logging_configuration_update[partial_config1]", nil,
			&types.LoggingConfig{LogFormat: types.LogFormatJson, ApplicationLogLevel: types.ApplicationLogLevelDebug}},
		{"TestLoggingConfig::test_function_partial_advanced_logging_configuration_update[partial_config2]", nil,
			&types.LoggingConfig{LogFormat: types.LogFormatJson, SystemLogLevel: types.SystemLogLevelDebug}},
		{"TestLoggingConfig::test_function_partial_advanced_logging_configuration_update[partial_config3]", nil,
			&types.LoggingConfig{LogGroup: aws.String("cool_lambda")}},
	}
	for _, tc := range tests {
		t.Run(tc.testID, func(t *testing.T) {
			snap := loadSnapshot(t, tc.testID)
			h := newHarness(t, Config{})
			fn := "logfn"
			n := newNormaliser(fn, "<function-name:1>", "role/lambda-test-role", "role/<resource:1>",
				"runtime:"+runtimeHash("python3.12"), "runtime:<resource:2>")
			step := snapshotSteps{t, h, snap, n}.step
			in := createInput(t, fn)
			in.MemorySize, in.Timeout, in.LoggingConfig = aws.Int32(256), aws.Int32(5), tc.create
			step("create_response", "", in)
			waitActive(t, h.client, fn)
			step("get_function_response", "<location>", &lambda.GetFunctionInput{FunctionName: aws.String(fn)})
			step("function_config", "", &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(fn)})
			step("updated_config", "", &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String(fn), LoggingConfig: tc.update})
			waitUpdated(t, h.client, fn)
			step("received_config", "", &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(fn)})
		})
	}
}

// TestLogFormatReachesTheFunction runs a real python function on the process
// backend: as on AWS, JSON logs set AWS_LAMBDA_LOG_FORMAT and
// AWS_LAMBDA_LOG_LEVEL in its environment, and switching back to Text
// removes them (a configuration change means fresh instances).
func TestLogFormatReachesTheFunction(t *testing.T) {
	testenv.LookPath(t, "python3")
	h := newEngineHarness(t)
	ctx := context.Background()
	name := "fn-log-env"
	in := createInput(t, name)
	in.Handler = aws.String("index.handler")
	in.Code = &types.FunctionCode{ZipFile: zipOf(t, map[string]string{"index.py": "import os\n" +
		"def handler(event, context):\n" +
		"    return {'format': os.environ.get('AWS_LAMBDA_LOG_FORMAT'), 'level': os.environ.get('AWS_LAMBDA_LOG_LEVEL')}\n"})}
	in.Timeout = aws.Int32(10)
	if _, err := h.client.CreateFunction(ctx, in); err != nil {
		t.Fatal(err)
	}
	waitActive(t, h.client, name)
	steps := []struct {
		name   string
		update *types.LoggingConfig
		want   string
	}{
		{"text by default", nil, `{"format": null, "level": null}`},
		{"json", &types.LoggingConfig{LogFormat: types.LogFormatJson}, `{"format": "JSON", "level": "INFO"}`},
		{"json debug", &types.LoggingConfig{ApplicationLogLevel: types.ApplicationLogLevelDebug}, `{"format": "JSON", "level": "DEBUG"}`},
		{"back to text", &types.LoggingConfig{LogFormat: types.LogFormatText}, `{"format": null, "level": null}`},
	}
	for _, st := range steps {
		if st.update != nil {
			if _, err := h.client.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String(name), LoggingConfig: st.update}); err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
			waitUpdated(t, h.client, name)
		}
		out, err := h.client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(name), Payload: []byte(`{}`)})
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if out.FunctionError != nil || string(out.Payload) != st.want {
			t.Fatalf("%s: function saw %s (error %v), want %s", st.name, out.Payload, aws.ToString(out.FunctionError), st.want)
		}
	}
}
