package api

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"
)

// TestCreateValidation covers checks without a snapshot label: the error
// type and message each bad input gets.
func TestCreateValidation(t *testing.T) {
	testCreateRefusals(t, newHarness(t, Config{}), "v", []createRefusal{
		{"memory too small", func(in *lambda.CreateFunctionInput) { in.MemorySize = aws.Int32(100) }, "ValidationException", "Value '100' at 'memorySize' failed to satisfy constraint: Member must have value greater than or equal to 128"},
		{"memory over AWS limit", func(in *lambda.CreateFunctionInput) { in.MemorySize = aws.Int32(20000) }, "InvalidParameterValueException", "'MemorySize' value failed to satisfy constraint: Member must have value less than or equal to 10240"},
		{"timeout zero", func(in *lambda.CreateFunctionInput) { in.Timeout = aws.Int32(0) }, "ValidationException", "at 'timeout' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{"timeout over 900", func(in *lambda.CreateFunctionInput) { in.Timeout = aws.Int32(901) }, "InvalidParameterValueException", "less than or equal to 900"},
		{"handler with space", func(in *lambda.CreateFunctionInput) { in.Handler = aws.String("a b") }, "ValidationException", "at 'handler' failed to satisfy constraint"},
		{"no handler", func(in *lambda.CreateFunctionInput) { in.Handler = nil }, "InvalidParameterValueException", "Runtime and Handler are mandatory parameters"},
		{"ephemeral storage", func(in *lambda.CreateFunctionInput) {
			in.EphemeralStorage = &types.EphemeralStorage{Size: aws.Int32(100)}
		}, "ValidationException", "at 'ephemeralStorage.size'"},
		{"S3 code", func(in *lambda.CreateFunctionInput) {
			in.Code = &types.FunctionCode{S3Bucket: aws.String("b"), S3Key: aws.String("k")}
		}, "InvalidParameterValueException", "only when started with --s3-endpoint"},
		{"zip slip", func(in *lambda.CreateFunctionInput) {
			in.Code.ZipFile = zipOf(t, map[string]string{"../evil.py": "x"})
		}, "InvalidParameterValueException", "Could not unzip uploaded file. Please check your file, then try to upload again."},
		{"too many tags", func(in *lambda.CreateFunctionInput) {
			in.Tags = map[string]string{}
			for i := range 51 {
				in.Tags[strings.Repeat("k", i+1)] = "v"
			}
		}, "InvalidParameterValueException", "Number of tags exceeds resource tag limit."},
	})
}

// createRefusal is a CreateFunction input AWS refuses (createInput changed
// by edit) and its error: wantCode with a message containing wantMsg.
type createRefusal struct {
	name     string
	edit     func(in *lambda.CreateFunctionInput)
	wantCode string
	wantMsg  string
}

// testCreateRefusals runs each case as a subtest, creating function fn.
func testCreateRefusals(t *testing.T, h *harness, fn string, tests []createRefusal) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := createInput(t, fn)
			tc.edit(in)
			_, err := h.client.CreateFunction(context.Background(), in)
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != tc.wantCode || !strings.Contains(ae.ErrorMessage(), tc.wantMsg) {
				t.Fatalf("CreateFunction = %v, want %s containing %q", err, tc.wantCode, tc.wantMsg)
			}
		})
	}
}

func TestImageFunction(t *testing.T) {
	h := newHarness(t, Config{})
	ctx := context.Background()
	_, err := h.client.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String("img"),
		PackageType:  types.PackageTypeImage,
		Role:         aws.String(testRole),
		Code:         &types.FunctionCode{ImageUri: aws.String("example.com/repo/img:1")},
	})
	if err != nil {
		t.Fatal(err)
	}
	waitActive(t, h.client, "img")
	out, err := h.client.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("img")})
	if err != nil {
		t.Fatal(err)
	}
	if out.Code.RepositoryType == nil || *out.Code.RepositoryType != "ECR" || aws.ToString(out.Code.ImageUri) != "example.com/repo/img:1" || out.Configuration.PackageType != types.PackageTypeImage || out.Configuration.Runtime != "" {
		t.Fatalf("image function: %+v %+v", out.Code, out.Configuration)
	}
	_, err = h.client.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String("img"), ZipFile: handlerZip(t, "1")})
	var ip *types.InvalidParameterValueException
	if !errors.As(err, &ip) || !strings.Contains(ip.ErrorMessage(), "Please provide ImageUri when updating a function with packageType Image.") {
		t.Fatalf("zip update of image function: %v", err)
	}
}

// TestValidationErrorNull: a missing required member reads as AWS words it,
// in order with the other problems of the same request.
func TestValidationErrorNull(t *testing.T) {
	tests := []struct {
		name string
		fill func(v *validationError)
		want string
	}{
		{"one", func(v *validationError) { v.null("role") },
			"1 validation error detected: Value null at 'role' failed to satisfy constraint: Member must not be null"},
		{"nested member", func(v *validationError) { v.null("tenancyConfig.tenantIsolationMode") },
			"1 validation error detected: Value null at 'tenancyConfig.tenantIsolationMode' failed to satisfy constraint: Member must not be null"},
		{"with others, in order", func(v *validationError) {
			v.null("functionName")
			v.add("x", "runtime", "Member must satisfy enum value set: [a]")
			v.null("code")
		}, "3 validation errors detected: Value null at 'functionName' failed to satisfy constraint: Member must not be null; " +
			"Value 'x' at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: [a]; " +
			"Value null at 'code' failed to satisfy constraint: Member must not be null"},
	}
	want := "1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null"
	var ae *awsError
	if err := errNull("tagKeys"); !errors.As(err, &ae) || ae.Code != "ValidationException" || ae.Message != want {
		t.Errorf("errNull = %v; want %q", err, want)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var v validationError
			tc.fill(&v)
			var ae *awsError
			if err := v.err(); !errors.As(err, &ae) || ae.Code != "ValidationException" || ae.Status != 400 || ae.Message != tc.want {
				t.Errorf("err() = %v; want ValidationException %q", err, tc.want)
			}
		})
	}
}
