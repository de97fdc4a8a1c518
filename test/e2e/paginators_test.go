package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// TestSDKWaitersAndPaginators runs every waiter and paginator of
// aws-sdk-go-v2's Lambda client against the real binary. Each List*
// paginator walks a list of three or more entries with a page size of 2, so
// it must follow NextMarker at least once, and must see every entry exactly
// once. The durable-execution paginators are listed apart: lamb runs no
// durable functions (api/durable.go), so ListDurableExecutionsByFunction is
// one empty page and no execution exists for GetDurableExecutionHistory or
// GetDurableExecutionState to page through.
func TestSDKWaitersAndPaginators(t *testing.T) {
	s := startLamb(t, "")
	ctx := ctxT(t)
	c := s.client("us-east-1", "123456789012")
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	code := zipOf(t, map[string]string{"index.py": "def handler(e, c):\n    return e\n"})
	create := func(name string, csc *string, cp *types.CapacityProviderConfig) {
		t.Helper()
		must(c.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String(name), Runtime: types.RuntimePython312,
			Role: aws.String(role), Handler: aws.String("index.handler"), Code: &types.FunctionCode{ZipFile: code},
			CodeSigningConfigArn: csc, CapacityProviderConfig: cp}))
	}
	const wait = time.Minute

	// Waiters, each on the state it waits for.
	create("pg", nil, nil)
	if err := lambda.NewFunctionExistsWaiter(c).Wait(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("pg")}, wait); err != nil {
		t.Errorf("FunctionExists: %v", err)
	}
	if err := lambda.NewFunctionActiveWaiter(c).Wait(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("pg")}, wait); err != nil {
		t.Errorf("FunctionActive: %v", err)
	}
	if err := lambda.NewFunctionActiveV2Waiter(c).Wait(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("pg")}, wait); err != nil {
		t.Errorf("FunctionActiveV2: %v", err)
	}
	for i := range 3 {
		must(c.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("pg"), Description: aws.String(fmt.Sprint("v", i+1))}))
		if i%2 == 0 {
			if err := lambda.NewFunctionUpdatedWaiter(c).Wait(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("pg")}, wait); err != nil {
				t.Errorf("FunctionUpdated: %v", err)
			}
		} else if err := lambda.NewFunctionUpdatedV2Waiter(c).Wait(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("pg")}, wait); err != nil {
			t.Errorf("FunctionUpdatedV2: %v", err)
		}
		v, err := c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("pg")})
		if err != nil {
			t.Fatal(err)
		}
		if err := lambda.NewPublishedVersionActiveWaiter(c).Wait(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("pg"), Qualifier: v.Version}, wait); err != nil {
			t.Errorf("PublishedVersionActive %s: %v", aws.ToString(v.Version), err)
		}
	}
	// A waiter that must not succeed: FunctionExists on a missing function
	// gives up at its deadline.
	if err := lambda.NewFunctionExistsWaiter(c).Wait(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("never-created")}, 2*time.Second,
		func(o *lambda.FunctionExistsWaiterOptions) {
			o.MinDelay, o.MaxDelay = 100*time.Millisecond, 200*time.Millisecond
		}); err == nil {
		t.Error("FunctionExists succeeded for a function that does not exist")
	}

	// Enough of every kind for two pages of 2.
	var cscs []string
	for i := range 3 {
		out, err := c.CreateCodeSigningConfig(ctx, &lambda.CreateCodeSigningConfigInput{AllowedPublishers: &types.AllowedPublishers{
			SigningProfileVersionArns: []string{fmt.Sprintf("arn:aws:signer:us-east-1:123456789012:/signing-profiles/p%d/abcdefghij", i)}}})
		if err != nil {
			t.Fatal(err)
		}
		cscs = append(cscs, aws.ToString(out.CodeSigningConfig.CodeSigningConfigArn))
		must(c.CreateCapacityProvider(ctx, &lambda.CreateCapacityProviderInput{CapacityProviderName: aws.String(fmt.Sprint("cp-", i)),
			VpcConfig:         &types.CapacityProviderVpcConfig{SubnetIds: []string{"subnet-1"}, SecurityGroupIds: []string{"sg-1"}},
			PermissionsConfig: &types.CapacityProviderPermissionsConfig{CapacityProviderOperatorRoleArn: aws.String(role)}}))
	}
	for _, name := range []string{"pg-b", "pg-c"} {
		create(name, &cscs[0], nil)
	}
	must(c.PutFunctionCodeSigningConfig(ctx, &lambda.PutFunctionCodeSigningConfigInput{FunctionName: aws.String("pg"), CodeSigningConfigArn: &cscs[0]}))
	cpArn := "arn:aws:lambda:us-east-1:123456789012:capacity-provider:cp-0"
	create("on-cp", nil, &types.CapacityProviderConfig{LambdaManagedInstancesCapacityProviderConfig: &types.LambdaManagedInstancesCapacityProviderConfig{CapacityProviderArn: aws.String(cpArn)}})
	for i := range 3 {
		if err := lambda.NewFunctionUpdatedV2Waiter(c).Wait(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("on-cp")}, wait); err != nil {
			t.Fatal(err)
		}
		if i > 0 {
			must(c.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("on-cp"), Description: aws.String(fmt.Sprint("v", i))}))
			if err := lambda.NewFunctionUpdatedV2Waiter(c).Wait(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("on-cp")}, wait); err != nil {
				t.Fatal(err)
			}
		}
		must(c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("on-cp")}))
	}
	for i, alias := range []string{"a1", "a2", "a3"} {
		must(c.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String("pg"), Name: aws.String(alias), FunctionVersion: aws.String(fmt.Sprint(1 + i))}))
		must(c.CreateFunctionUrlConfig(ctx, &lambda.CreateFunctionUrlConfigInput{FunctionName: aws.String("pg"), Qualifier: aws.String(alias), AuthType: types.FunctionUrlAuthTypeAwsIam}))
		must(c.PutFunctionEventInvokeConfig(ctx, &lambda.PutFunctionEventInvokeConfigInput{FunctionName: aws.String("pg"), Qualifier: aws.String(alias), MaximumRetryAttempts: aws.Int32(1)}))
		must(c.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("pg"), Enabled: aws.Bool(false),
			EventSourceArn: aws.String(fmt.Sprintf("arn:aws:sqs:us-east-1:123456789012:q%d", i))}))
		must(c.PutProvisionedConcurrencyConfig(ctx, &lambda.PutProvisionedConcurrencyConfigInput{FunctionName: aws.String("pg"), Qualifier: aws.String(fmt.Sprint(1 + i)), ProvisionedConcurrentExecutions: aws.Int32(1)}))
	}
	for _, layer := range []string{"pl", "pl-b", "pl_c"} {
		for range 3 {
			must(c.PublishLayerVersion(ctx, &lambda.PublishLayerVersionInput{LayerName: aws.String(layer), Content: &types.LayerVersionContentInput{ZipFile: zipOf(t, map[string]string{"a": layer})}}))
		}
	}

	const page = 2
	// walk runs a paginator to its end, counting pages and collecting a key of
	// every entry.
	type walk func(ctx context.Context) (pages int, keys []string, err error)
	tests := []struct {
		name string
		walk walk
		want int // entries in the whole list
	}{
		{"ListFunctions", func(ctx context.Context) (int, []string, error) {
			p := lambda.NewListFunctionsPaginator(c, &lambda.ListFunctionsInput{MaxItems: aws.Int32(page)})
			return drain(ctx, p.HasMorePages, func(ctx context.Context) ([]string, error) {
				out, err := p.NextPage(ctx)
				return keysOf(out, err, func(o *lambda.ListFunctionsOutput) (k []string) {
					for _, f := range o.Functions {
						k = append(k, aws.ToString(f.FunctionArn))
					}
					return
				})
			})
		}, 4},
		{"ListVersionsByFunction", func(ctx context.Context) (int, []string, error) {
			p := lambda.NewListVersionsByFunctionPaginator(c, &lambda.ListVersionsByFunctionInput{FunctionName: aws.String("pg"), MaxItems: aws.Int32(page)})
			return drain(ctx, p.HasMorePages, func(ctx context.Context) ([]string, error) {
				out, err := p.NextPage(ctx)
				return keysOf(out, err, func(o *lambda.ListVersionsByFunctionOutput) (k []string) {
					for _, f := range o.Versions {
						k = append(k, aws.ToString(f.FunctionArn))
					}
					return
				})
			})
		}, 4},
		{"ListAliases", func(ctx context.Context) (int, []string, error) {
			p := lambda.NewListAliasesPaginator(c, &lambda.ListAliasesInput{FunctionName: aws.String("pg"), MaxItems: aws.Int32(page)})
			return drain(ctx, p.HasMorePages, func(ctx context.Context) ([]string, error) {
				out, err := p.NextPage(ctx)
				return keysOf(out, err, func(o *lambda.ListAliasesOutput) (k []string) {
					for _, a := range o.Aliases {
						k = append(k, aws.ToString(a.AliasArn))
					}
					return
				})
			})
		}, 3},
		{"ListFunctionUrlConfigs", func(ctx context.Context) (int, []string, error) {
			p := lambda.NewListFunctionUrlConfigsPaginator(c, &lambda.ListFunctionUrlConfigsInput{FunctionName: aws.String("pg"), MaxItems: aws.Int32(page)})
			return drain(ctx, p.HasMorePages, func(ctx context.Context) ([]string, error) {
				out, err := p.NextPage(ctx)
				return keysOf(out, err, func(o *lambda.ListFunctionUrlConfigsOutput) (k []string) {
					for _, u := range o.FunctionUrlConfigs {
						k = append(k, aws.ToString(u.FunctionArn))
					}
					return
				})
			})
		}, 3},
		{"ListFunctionEventInvokeConfigs", func(ctx context.Context) (int, []string, error) {
			p := lambda.NewListFunctionEventInvokeConfigsPaginator(c, &lambda.ListFunctionEventInvokeConfigsInput{FunctionName: aws.String("pg"), MaxItems: aws.Int32(page)})
			return drain(ctx, p.HasMorePages, func(ctx context.Context) ([]string, error) {
				out, err := p.NextPage(ctx)
				return keysOf(out, err, func(o *lambda.ListFunctionEventInvokeConfigsOutput) (k []string) {
					for _, e := range o.FunctionEventInvokeConfigs {
						k = append(k, aws.ToString(e.FunctionArn))
					}
					return
				})
			})
		}, 3},
		{"ListCodeSigningConfigs", func(ctx context.Context) (int, []string, error) {
			p := lambda.NewListCodeSigningConfigsPaginator(c, &lambda.ListCodeSigningConfigsInput{MaxItems: aws.Int32(page)})
			return drain(ctx, p.HasMorePages, func(ctx context.Context) ([]string, error) {
				out, err := p.NextPage(ctx)
				return keysOf(out, err, func(o *lambda.ListCodeSigningConfigsOutput) (k []string) {
					for _, x := range o.CodeSigningConfigs {
						k = append(k, aws.ToString(x.CodeSigningConfigArn))
					}
					return
				})
			})
		}, 3},
		{"ListFunctionsByCodeSigningConfig", func(ctx context.Context) (int, []string, error) {
			p := lambda.NewListFunctionsByCodeSigningConfigPaginator(c, &lambda.ListFunctionsByCodeSigningConfigInput{CodeSigningConfigArn: &cscs[0], MaxItems: aws.Int32(page)})
			return drain(ctx, p.HasMorePages, func(ctx context.Context) ([]string, error) {
				out, err := p.NextPage(ctx)
				return keysOf(out, err, func(o *lambda.ListFunctionsByCodeSigningConfigOutput) []string { return o.FunctionArns })
			})
		}, 3},
		{"ListEventSourceMappings", func(ctx context.Context) (int, []string, error) {
			p := lambda.NewListEventSourceMappingsPaginator(c, &lambda.ListEventSourceMappingsInput{MaxItems: aws.Int32(page)})
			return drain(ctx, p.HasMorePages, func(ctx context.Context) ([]string, error) {
				out, err := p.NextPage(ctx)
				return keysOf(out, err, func(o *lambda.ListEventSourceMappingsOutput) (k []string) {
					for _, m := range o.EventSourceMappings {
						k = append(k, aws.ToString(m.UUID))
					}
					return
				})
			})
		}, 3},
		{"ListLayers", func(ctx context.Context) (int, []string, error) {
			p := lambda.NewListLayersPaginator(c, &lambda.ListLayersInput{MaxItems: aws.Int32(page)})
			return drain(ctx, p.HasMorePages, func(ctx context.Context) ([]string, error) {
				out, err := p.NextPage(ctx)
				return keysOf(out, err, func(o *lambda.ListLayersOutput) (k []string) {
					for _, l := range o.Layers {
						k = append(k, aws.ToString(l.LayerArn))
					}
					return
				})
			})
		}, 3},
		{"ListLayerVersions", func(ctx context.Context) (int, []string, error) {
			p := lambda.NewListLayerVersionsPaginator(c, &lambda.ListLayerVersionsInput{LayerName: aws.String("pl"), MaxItems: aws.Int32(page)})
			return drain(ctx, p.HasMorePages, func(ctx context.Context) ([]string, error) {
				out, err := p.NextPage(ctx)
				return keysOf(out, err, func(o *lambda.ListLayerVersionsOutput) (k []string) {
					for _, l := range o.LayerVersions {
						k = append(k, aws.ToString(l.LayerVersionArn))
					}
					return
				})
			})
		}, 3},
		{"ListProvisionedConcurrencyConfigs", func(ctx context.Context) (int, []string, error) {
			p := lambda.NewListProvisionedConcurrencyConfigsPaginator(c, &lambda.ListProvisionedConcurrencyConfigsInput{FunctionName: aws.String("pg"), MaxItems: aws.Int32(page)})
			return drain(ctx, p.HasMorePages, func(ctx context.Context) ([]string, error) {
				out, err := p.NextPage(ctx)
				return keysOf(out, err, func(o *lambda.ListProvisionedConcurrencyConfigsOutput) (k []string) {
					for _, x := range o.ProvisionedConcurrencyConfigs {
						k = append(k, aws.ToString(x.FunctionArn))
					}
					return
				})
			})
		}, 3},
		{"ListCapacityProviders", func(ctx context.Context) (int, []string, error) {
			p := lambda.NewListCapacityProvidersPaginator(c, &lambda.ListCapacityProvidersInput{MaxItems: aws.Int32(page)})
			return drain(ctx, p.HasMorePages, func(ctx context.Context) ([]string, error) {
				out, err := p.NextPage(ctx)
				return keysOf(out, err, func(o *lambda.ListCapacityProvidersOutput) (k []string) {
					for _, x := range o.CapacityProviders {
						k = append(k, aws.ToString(x.CapacityProviderArn))
					}
					return
				})
			})
		}, 3},
		{"ListFunctionVersionsByCapacityProvider", func(ctx context.Context) (int, []string, error) {
			p := lambda.NewListFunctionVersionsByCapacityProviderPaginator(c, &lambda.ListFunctionVersionsByCapacityProviderInput{CapacityProviderName: aws.String("cp-0"), MaxItems: aws.Int32(page)})
			return drain(ctx, p.HasMorePages, func(ctx context.Context) ([]string, error) {
				out, err := p.NextPage(ctx)
				return keysOf(out, err, func(o *lambda.ListFunctionVersionsByCapacityProviderOutput) (k []string) {
					for _, x := range o.FunctionVersions {
						k = append(k, aws.ToString(x.FunctionArn))
					}
					return
				})
			})
		}, 4}, // $LATEST and versions 1-3, as lamb lists them (api/capacity_provider.go)
		{"ListDurableExecutionsByFunction (none exist)", func(ctx context.Context) (int, []string, error) {
			p := lambda.NewListDurableExecutionsByFunctionPaginator(c, &lambda.ListDurableExecutionsByFunctionInput{FunctionName: aws.String("pg"), MaxItems: page})
			return drain(ctx, p.HasMorePages, func(ctx context.Context) ([]string, error) {
				out, err := p.NextPage(ctx)
				return keysOf(out, err, func(o *lambda.ListDurableExecutionsByFunctionOutput) (k []string) {
					for _, x := range o.DurableExecutions {
						k = append(k, aws.ToString(x.DurableExecutionArn))
					}
					return
				})
			})
		}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pages, keys, err := tc.walk(ctx)
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for _, k := range keys {
				if seen[k] {
					t.Errorf("%s seen twice", k)
				}
				seen[k] = true
			}
			wantPages := max(1, (tc.want+page-1)/page)
			if len(keys) != tc.want || pages != wantPages {
				t.Errorf("%d entries in %d pages, want %d in %d: %v", len(keys), pages, tc.want, wantPages, keys)
			}
		})
	}
}

// drain calls next while more reports more pages, at most 20 times.
func drain(ctx context.Context, more func() bool, next func(context.Context) ([]string, error)) (int, []string, error) {
	var all []string
	pages := 0
	for more() {
		if pages == 20 {
			return pages, all, fmt.Errorf("still more pages after %d", pages)
		}
		keys, err := next(ctx)
		if err != nil {
			return pages, all, err
		}
		pages++
		all = append(all, keys...)
	}
	return pages, all, nil
}

func keysOf[T any](out T, err error, keys func(T) []string) ([]string, error) {
	if err != nil {
		return nil, err
	}
	return keys(out), nil
}
