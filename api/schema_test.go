package api

import (
	"bytes"
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/lambhq/lamb/store"
)

// testStores are the two stores every schema test runs against: the state a
// delete leaves must not depend on which one lamb was started with.
var testStores = []struct {
	name string
	open func(t *testing.T) store.Store
}{
	{"memory", func(*testing.T) store.Store { return store.NewMemory() }},
	{"bolt", func(t *testing.T) store.Store { return openBolt(t) }},
}

// openBolt opens a durable store in a temporary directory, closed at the end
// of the test.
func openBolt(t *testing.T) *store.Bolt {
	t.Helper()
	st, err := store.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// A function deleted and created again under the same name is a new
// function: it must not inherit the old one's code signing config (it did,
// because DeleteFunction left the function-csc entry behind).
func TestRecreatedFunctionHasNoCodeSigningConfig(t *testing.T) {
	for _, tc := range testStores {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			h := newHarness(t, Config{Store: tc.open(t)})
			c := h.client
			const name = "csc-recreated"
			if _, err := c.CreateFunction(ctx, createInput(t, name)); err != nil {
				t.Fatal(err)
			}
			csc, err := c.CreateCodeSigningConfig(ctx, &lambda.CreateCodeSigningConfigInput{
				AllowedPublishers: &types.AllowedPublishers{SigningProfileVersionArns: []string{"arn:aws:signer:us-east-1:111111111111:/signing-profiles/test"}},
			})
			if err != nil {
				t.Fatal(err)
			}
			arn := aws.ToString(csc.CodeSigningConfig.CodeSigningConfigArn)
			if _, err := c.PutFunctionCodeSigningConfig(ctx, &lambda.PutFunctionCodeSigningConfigInput{FunctionName: aws.String(name), CodeSigningConfigArn: aws.String(arn)}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String(name)}); err != nil {
				t.Fatal(err)
			}
			users, err := c.ListFunctionsByCodeSigningConfig(ctx, &lambda.ListFunctionsByCodeSigningConfigInput{CodeSigningConfigArn: aws.String(arn)})
			if err != nil {
				t.Fatal(err)
			}
			if len(users.FunctionArns) != 0 {
				t.Errorf("ListFunctionsByCodeSigningConfig after the delete = %v, want none", users.FunctionArns)
			}
			if _, err := c.CreateFunction(ctx, createInput(t, name)); err != nil {
				t.Fatal(err)
			}
			out, err := c.GetFunctionCodeSigningConfig(ctx, &lambda.GetFunctionCodeSigningConfigInput{FunctionName: aws.String(name)})
			if err != nil {
				t.Fatal(err)
			}
			// AWS answers a function without a config with an empty object.
			if body := h.rec.lastResponse().body; !bytes.Equal(bytes.TrimSpace(body), []byte("{}")) || out.CodeSigningConfigArn != nil {
				t.Errorf("GetFunctionCodeSigningConfig of the new function = %s, want {}", body)
			}
			// The config is free again: no function uses it.
			if _, err := c.DeleteCodeSigningConfig(ctx, &lambda.DeleteCodeSigningConfigInput{CodeSigningConfigArn: aws.String(arn)}); err != nil {
				t.Errorf("DeleteCodeSigningConfig: %v", err)
			}
		})
	}
}
