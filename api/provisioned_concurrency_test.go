package api

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/lambhq/lamb/engine"
)

// A reservation must hold the provisioned concurrency of all the function's
// versions and aliases; other functions' provisioned concurrency without a
// reservation counts against the account's unreserved minimum.
func TestPutFunctionConcurrencyHoldsProvisioned(t *testing.T) {
	ctx := context.Background()
	_, c := provMemory(t, &provEngine{}, "pcr", 2)
	provAlias(t, c, "pcr", "live", "2")
	putPC(t, c, "pcr", "1", 3)
	putPC(t, c, "pcr", "live", 2)
	provFunction(t, c, "big", 1)
	putPC(t, c, "big", "1", 800)

	const belowMin = "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [100]."
	tests := []struct {
		name    string
		n       int32
		wantErr string // "" for success
	}{
		// AWS's wording: LocalStack's test_lambda.snapshot.json, test_reserved_provisioned_overlap.
		{"below the provisioned total", 4, " ReservedConcurrentExecutions  4 should not be lower than function's total provisioned concurrency [5]."},
		{"zero", 0, " ReservedConcurrentExecutions  0 should not be lower than function's total provisioned concurrency [5]."},
		{"others' provisioned concurrency leaves too little unreserved", 101, belowMin},
		{"exactly the provisioned total", 5, ""},
		{"up to the account's unreserved minimum", 100, ""},
		{"own reservation replaced, not added", 100, ""},
		{"over the account", 101, belowMin},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := c.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String("pcr"), ReservedConcurrentExecutions: aws.Int32(tt.n)})
			if tt.wantErr == "" {
				if err != nil || aws.ToInt32(out.ReservedConcurrentExecutions) != tt.n {
					t.Fatalf("Put %d: %v %+v", tt.n, err, out)
				}
				return
			}
			var ipv *types.InvalidParameterValueException
			if !errors.As(err, &ipv) || aws.ToString(ipv.Message) != tt.wantErr {
				t.Fatalf("Put %d: %v, want InvalidParameterValueException %q", tt.n, err, tt.wantErr)
			}
		})
	}
	// The refused calls left the last accepted reservation.
	got, err := c.GetFunctionConcurrency(ctx, &lambda.GetFunctionConcurrencyInput{FunctionName: aws.String("pcr")})
	if err != nil || aws.ToInt32(got.ReservedConcurrentExecutions) != 100 {
		t.Fatalf("GetFunctionConcurrency: %v %+v", err, got)
	}
	// With a config deleted, the reservation may shrink to what is left.
	if _, err := c.DeleteProvisionedConcurrencyConfig(ctx, &lambda.DeleteProvisionedConcurrencyConfigInput{FunctionName: aws.String("pcr"), Qualifier: aws.String("1")}); err != nil {
		t.Fatal(err)
	}
	for n, wantOK := range map[int32]bool{1: false, 2: true} {
		_, err := c.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String("pcr"), ReservedConcurrentExecutions: aws.Int32(n)})
		if (err == nil) != wantOK {
			t.Errorf("Put %d after the delete: %v, want ok %v", n, err, wantOK)
		}
	}
}

// countingEngine is a provEngine that also tells how many provisioned
// instances of each version are ready, as *engine.Engine does.
type countingEngine struct {
	provEngine
	ready map[string]int // version -> ready instances; under provEngine.mu
}

func (e *countingEngine) Provisioned(fn *engine.Function) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.ready[fn.Version]
}

func (e *countingEngine) setReady(v string, n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.ready[v] = n
}

// Available counts the instances that are up; Allocated stays what was
// allocated while the engine replaces the ones that died.
func TestProvisionedAvailableFollowsEngine(t *testing.T) {
	ctx := context.Background()
	eng := &countingEngine{ready: map[string]int{}}
	_, c := provMemory(t, eng, "pav", 2)
	// Two aliases on version 2 share its instances, in name order.
	for _, a := range []string{"a", "b"} {
		provAlias(t, c, "pav", a, "2")
	}
	putPC(t, c, "pav", "1", 3)
	putPC(t, c, "pav", "a", 2)
	putPC(t, c, "pav", "b", 2)
	for _, q := range []string{"1", "a", "b"} {
		waitPC(t, c, "pav", q, types.ProvisionedConcurrencyStatusEnumReady)
	}
	tests := []struct {
		name           string
		ready1, ready2 int
		want           map[string]int32 // qualifier -> available
	}{
		{"all up", 3, 4, map[string]int32{"1": 3, "a": 2, "b": 2}},
		{"one of version 1 died", 2, 4, map[string]int32{"1": 2, "a": 2, "b": 2}},
		{"version 2 short by one", 3, 3, map[string]int32{"1": 3, "a": 2, "b": 1}},
		{"version 2 short by three", 3, 1, map[string]int32{"1": 3, "a": 1, "b": 0}},
		{"more up than allocated", 5, 9, map[string]int32{"1": 3, "a": 2, "b": 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng.setReady("1", tt.ready1)
			eng.setReady("2", tt.ready2)
			list, err := c.ListProvisionedConcurrencyConfigs(ctx, &lambda.ListProvisionedConcurrencyConfigsInput{FunctionName: aws.String("pav")})
			if err != nil {
				t.Fatal(err)
			}
			if len(list.ProvisionedConcurrencyConfigs) != 3 {
				t.Fatalf("%d configs listed", len(list.ProvisionedConcurrencyConfigs))
			}
			for _, item := range list.ProvisionedConcurrencyConfigs {
				arn := aws.ToString(item.FunctionArn)
				q := arn[strings.LastIndex(arn, ":")+1:]
				got := getPC(t, c, "pav", q)
				for what, avail := range map[string]int32{"List": aws.ToInt32(item.AvailableProvisionedConcurrentExecutions), "Get": aws.ToInt32(got.AvailableProvisionedConcurrentExecutions)} {
					if avail != tt.want[q] {
						t.Errorf("%s %s: available %d, want %d", what, q, avail, tt.want[q])
					}
				}
				if aws.ToInt32(got.AllocatedProvisionedConcurrentExecutions) != aws.ToInt32(got.RequestedProvisionedConcurrentExecutions) || got.Status != types.ProvisionedConcurrencyStatusEnumReady {
					t.Errorf("%s: allocated %d status %s, want all allocated and READY", q, aws.ToInt32(got.AllocatedProvisionedConcurrentExecutions), got.Status)
				}
			}
		})
	}
}
