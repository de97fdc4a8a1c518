package api

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"hash/crc32"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// createInput is a valid CreateFunction input tests modify.
func createInput(t *testing.T, name string) *lambda.CreateFunctionInput {
	return &lambda.CreateFunctionInput{
		FunctionName: aws.String(name),
		Runtime:      types.RuntimePython312,
		Role:         aws.String(testRole),
		Handler:      aws.String("handler.handler"),
		Code:         &types.FunctionCode{ZipFile: handlerZip(t, "1")},
		// The snapshot's helper always sends these two.
		Environment: &types.Environment{Variables: map[string]string{}},
		Timeout:     aws.Int32(30),
	}
}

// Snapshot labels covered (error answers, compared field for field after
// normalisation):
//   - TestLambdaFunction::test_create_lambda_exceptions: invalid_role_arn_exc,
//     invalid_runtime_exc, uppercase_runtime_exc, multiple_architectures,
//     uppercase_architecture, invalid_zip_exc
//   - TestLambdaFunction::test_function_arns: invalid_function_name_exc,
//     long_function_name_exc, long_function_arn_exc,
//     function_arn_other_region_exc, function_arn_other_account_exc
//   - TestLambdaFunction::test_ops_with_arn_qualifier_mismatch[get_function]
//     and [delete_function]: not_match_exception, match_exception
//   - TestLambdaFunction::test_ops_on_nonexisting_version[get_function]
//   - TestLambdaFunction::test_list_functions: list_functions_invalid_functionversion
//   - TestRuntimeValidation::test_create_deprecated_function_runtime_with_validation_enabled[*]
//   - TestLambdaSizeLimits::test_large_environment_variables_fails,
//     test_large_environment_fails_multiple_keys, test_oversized_zipped_create_lambda,
//     test_oversized_request_create_lambda, test_oversized_unzipped_lambda
var _ = registerParityTest("FunctionErrorsMatchSnapshot", testFunctionErrorsMatchSnapshot)

// functionErrorCase is a request AWS refused in a recording: in (sent by
// sendInput) or, for what the SDK cannot send as it is, do. setup runs first
// (e.g. creating a function); replace are the normaliser's pairs.
type functionErrorCase struct {
	testID, label string
	replace       []string
	setup         func(t *testing.T, h *harness)
	in            any
	do            func(t *testing.T, h *harness) error
}

func testFunctionErrorsMatchSnapshot(t *testing.T) {
	ctx := context.Background()
	const createExc, arns = "TestLambdaFunction::test_create_lambda_exceptions", "TestLambdaFunction::test_function_arns"
	longArn := "arn:aws:lambda:us-east-1:111111111111:function:" + strings.Repeat("b", 100)
	// create is createInput(name) changed by mutate.
	create := func(name string, mutate func(in *lambda.CreateFunctionInput)) *lambda.CreateFunctionInput {
		in := createInput(t, name)
		mutate(in)
		return in
	}
	// createWithZip creates a function whose code is zip (built when the case runs).
	createWithZip := func(zip func(t *testing.T) []byte) func(t *testing.T, h *harness) error {
		return func(t *testing.T, h *harness) error {
			in := createInput(t, "big")
			in.Code.ZipFile = zip(t)
			_, err := h.client.CreateFunction(ctx, in)
			return err
		}
	}
	tests := []functionErrorCase{
		{testID: createExc, label: "invalid_role_arn_exc", in: create("f1", func(in *lambda.CreateFunctionInput) { in.Role = aws.String("r1") })},
		{testID: createExc, label: "invalid_runtime_exc", in: create("f1", func(in *lambda.CreateFunctionInput) { in.Runtime = "non-existent-runtime" })},
		{testID: createExc, label: "uppercase_runtime_exc", in: create("f1", func(in *lambda.CreateFunctionInput) { in.Runtime = "PYTHON3.9" })},
		{testID: createExc, label: "multiple_architectures", in: create("f1", func(in *lambda.CreateFunctionInput) { in.Architectures = []types.Architecture{"x86_64", "arm64"} })},
		{testID: createExc, label: "uppercase_architecture", in: create("f1", func(in *lambda.CreateFunctionInput) { in.Architectures = []types.Architecture{"X86_64"} })},
		{testID: createExc, label: "invalid_zip_exc", in: create("f1", func(in *lambda.CreateFunctionInput) { in.Code.ZipFile = []byte("this is not a zip file") })},
		// The scenario creates a function by each of these names.
		{testID: arns, label: "invalid_function_name_exc", in: create("f1", func(in *lambda.CreateFunctionInput) { in.FunctionName = aws.String("invalid:function:name") })},
		{testID: arns, label: "long_function_name_exc", in: createInput(t, strings.Repeat("a", 65))},
		{testID: arns, label: "long_function_arn_exc", replace: []string{strings.Repeat("b", 100), "<function-name>"},
			in: create("f1", func(in *lambda.CreateFunctionInput) { in.FunctionName = aws.String(longArn) })},
		{testID: arns, label: "function_arn_other_region_exc",
			in: create("f1", func(in *lambda.CreateFunctionInput) {
				in.FunctionName = aws.String("arn:aws:lambda:ap-southeast-1:111111111111:function:f1")
			})},
		{testID: arns, label: "function_arn_other_account_exc",
			in: create("f1", func(in *lambda.CreateFunctionInput) {
				in.FunctionName = aws.String("arn:aws:lambda:us-east-1:222222222222:function:f1")
			})},
		{testID: "TestLambdaFunction::test_ops_with_arn_qualifier_mismatch[get_function]", label: "not_match_exception",
			in: &lambda.GetFunctionInput{FunctionName: aws.String("arn:aws:lambda:us-east-1:111111111111:function:some-function:1"), Qualifier: aws.String("$LATEST")}},
		{testID: "TestLambdaFunction::test_ops_with_arn_qualifier_mismatch[get_function]", label: "match_exception",
			in: &lambda.GetFunctionInput{FunctionName: aws.String("arn:aws:lambda:us-east-1:111111111111:function:some-function:$LATEST"), Qualifier: aws.String("$LATEST")}},
		{testID: "TestLambdaFunction::test_ops_with_arn_qualifier_mismatch[delete_function]", label: "not_match_exception",
			in: &lambda.DeleteFunctionInput{FunctionName: aws.String("some-function:1"), Qualifier: aws.String("$LATEST")}},
		{testID: "TestLambdaFunction::test_ops_with_arn_qualifier_mismatch[delete_function]", label: "match_exception",
			in: &lambda.DeleteFunctionInput{FunctionName: aws.String("some-function:$LATEST"), Qualifier: aws.String("$LATEST")}},
		{testID: "TestLambdaFunction::test_ops_on_nonexisting_version[get_function]", label: "version_not_found_exception",
			replace: []string{"existing-fn", "<fn-name>"},
			setup: func(t *testing.T, h *harness) {
				if _, err := h.client.CreateFunction(ctx, createInput(t, "existing-fn")); err != nil {
					t.Fatal(err)
				}
			},
			in: &lambda.GetFunctionInput{FunctionName: aws.String("existing-fn"), Qualifier: aws.String("1221")}},
		{testID: "TestLambdaFunction::test_list_functions", label: "list_functions_invalid_functionversion",
			in: &lambda.ListFunctionsInput{FunctionVersion: "invalid"}},
		{testID: "TestLambdaSizeLimits::test_oversized_zipped_create_lambda", label: "invalid_param_exc",
			do: createWithZip(func(t *testing.T) []byte { return randomBytes(t, maxZippedBytes+1000) })},
		{testID: "TestLambdaSizeLimits::test_oversized_request_create_lambda", label: "invalid_param_exc",
			do: createWithZip(func(t *testing.T) []byte { return randomBytes(t, maxRequestBytes*3/4+1000) })},
		{testID: "TestLambdaSizeLimits::test_oversized_unzipped_lambda", label: "invalid_param_exc",
			do: createWithZip(func(t *testing.T) []byte { return zipClaimingSize(t, maxUnzippedBytes+1) })},
		{testID: "TestLambdaSizeLimits::test_large_environment_variables_fails", label: "failed_create_fn_result",
			do: func(t *testing.T, h *harness) error {
				env := envFromSnapshot(t, "TestLambdaSizeLimits::test_large_environment_variables_fails", "failed_create_fn_result")
				in := createInput(t, "envfn")
				in.Environment = &types.Environment{Variables: map[string]string{}}
				for _, kv := range env {
					in.Environment.Variables[kv[0]] = kv[1]
				}
				_, err := h.client.CreateFunction(ctx, in)
				return err
			}},
		{testID: "TestLambdaSizeLimits::test_large_environment_fails_multiple_keys", label: "failured_create_fn_result_multi_key",
			do: func(t *testing.T, h *harness) error {
				// The SDK writes a map in random order; AWS measures in the
				// order sent, so this one goes out as raw JSON in a fixed order.
				env := envFromSnapshot(t, "TestLambdaSizeLimits::test_large_environment_fails_multiple_keys", "failured_create_fn_result_multi_key")
				var vars []string
				for _, kv := range env {
					k, _ := json.Marshal(kv[0])
					v, _ := json.Marshal(kv[1])
					vars = append(vars, string(k)+":"+string(v))
				}
				zip, _ := json.Marshal(handlerZip(t, "1"))
				body := `{"FunctionName":"envfn","Runtime":"python3.12","Role":"` + testRole + `","Handler":"handler.handler","Code":{"ZipFile":` + string(zip) + `},"Environment":{"Variables":{` + strings.Join(vars, ",") + `}}}`
				rr := h.raw("POST", "/2015-03-31/functions", body, sigv4(testAccount, "us-east-1"))
				h.rec.mu.Lock()
				h.rec.last = rr
				h.rec.mu.Unlock()
				return nil
			}},
	}
	for _, rt := range []string{"java8", "go1.x", "provided", "ruby2.7", "nodejs14.x", "python3.7", "dotnetcore3.1", "nodejs12.x"} {
		tests = append(tests, functionErrorCase{
			testID: "TestRuntimeValidation::test_create_deprecated_function_runtime_with_validation_enabled[" + rt + "]", label: "deprecation_error",
			in: create("old", func(in *lambda.CreateFunctionInput) { in.Runtime = types.Runtime(rt) }),
		})
	}
	for _, tc := range tests {
		t.Run(tc.testID+"/"+tc.label, func(t *testing.T) {
			if testing.Short() && strings.Contains(tc.testID, "oversized_") && !strings.Contains(tc.testID, "unzipped") {
				t.Skip("uploads ~70 MB; skipped with -short")
			}
			snap := loadSnapshot(t, tc.testID)
			h := newHarness(t, Config{Now: snap.clock()})
			if tc.setup != nil {
				tc.setup(t, h)
			}
			do := tc.do
			if do == nil {
				do = func(t *testing.T, h *harness) error { return sendInput(t, h.client, ctx, tc.in) }
			}
			if err := do(t, h); err == nil && h.rec.lastResponse().status < 300 {
				t.Fatalf("call succeeded; AWS answered %v", snap.labels[tc.label])
			}
			got := newNormaliser(tc.replace...).normalise(h.rec.lastResponse().boto3View(t), "")
			matchSnapshot(t, snap, tc.label, got)
		})
	}
}

func randomBytes(t *testing.T, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// envFromSnapshot recovers the variables AWS measured from its message, in order.
func envFromSnapshot(t *testing.T, testID, label string) [][2]string {
	t.Helper()
	snap := loadSnapshot(t, testID)
	msg := snap.labels[label].(map[string]any)["Error"].(map[string]any)["Message"].(string)
	_, measured, ok := strings.Cut(msg, "String measured: ")
	if !ok {
		t.Fatalf("no measured string in %q", msg)
	}
	var o orderedEnv
	if err := o.UnmarshalJSON([]byte(measured)); err != nil {
		t.Fatal(err)
	}
	var out [][2]string
	for _, k := range o.keys {
		out = append(out, [2]string{k, o.vals[k]})
	}
	return out
}

// zipClaimingSize builds a small zip whose one entry declares size bytes
// uncompressed, as a zip bomb would, without writing them.
func zipClaimingSize(t *testing.T, size uint64) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "big.bin", Method: zip.Store, CompressedSize64: 4, UncompressedSize64: size, CRC32: crc32.ChecksumIEEE([]byte("abcd"))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("abcd")); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
