package api

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
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

// Every bucket says what each delete does to it, and where a version, alias
// or layer version delete clears it, how to find the key.
func TestSchemaClassified(t *testing.T) {
	seen := map[string]bool{}
	for _, b := range schema {
		t.Run(b.name, func(t *testing.T) {
			if b.name == "" || b.keys == "" || b.owner == "" {
				t.Errorf("name, keys and owner must be set: %+v", b)
			}
			if seen[b.name] {
				t.Errorf("listed twice")
			}
			seen[b.name] = true
			for d := range numDeletions {
				switch b.onDelete[d] {
				case kept:
				case cleared:
					if d != delFunction && b.key == nil {
						t.Errorf("%s clears it but it has no key func", d)
					}
				default:
					t.Errorf("%s: unclassified", d)
				}
			}
		})
	}
}

// schemaBuckets is the set of bucket names the schema lists.
func schemaBuckets() map[string]bool {
	out := map[string]bool{}
	for _, b := range schema {
		out[b.name] = true
	}
	return out
}

// storedKeys returns every key of the bolt store, per bucket.
func storedKeys(t *testing.T, st *store.Bolt) map[string][]string {
	t.Helper()
	ctx := context.Background()
	names, err := st.Buckets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	err = st.View(ctx, func(tx store.Tx) error {
		for _, b := range names {
			out[b] = []string{}
			if err := tx.Scan(b, "", "", func(key string, _ []byte) error {
				out[b] = append(out[b], key)
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSchemaCoversStore creates every kind of resource on a durable store and
// fails on a bucket the store holds that the schema does not list (and on a
// listed bucket the scenario does not write, so the scenario keeps covering
// the schema). It then runs each delete and checks that the deleted
// resource's keys are gone from every bucket, and that a function whose name
// starts with the deleted one's keeps its state.
func TestSchemaCoversStore(t *testing.T) {
	ctx := context.Background()
	st := openBolt(t)
	h, _ := startProvServer(t, Config{Store: st, Engine: &provEngine{}})
	c := h.client
	sc := scope{Account: testAccount, Region: "us-east-1"}
	const fn, cpFn, layer, alias = "schema-fn", "schema-fn-cp", "schema-layer", "live"

	cp, err := c.CreateCapacityProvider(ctx, cpInput("schema-cp"))
	if err != nil {
		t.Fatal(err)
	}
	onCP := createInput(t, cpFn)
	onCP.CapacityProviderConfig = &types.CapacityProviderConfig{LambdaManagedInstancesCapacityProviderConfig: &types.LambdaManagedInstancesCapacityProviderConfig{
		CapacityProviderArn: cp.CapacityProvider.CapacityProviderArn}}
	if _, err := c.CreateFunction(ctx, onCP); err != nil {
		t.Fatal(err)
	}
	waitActive(t, c, cpFn)
	provFunction(t, c, fn, 2)
	// putLamb stores a record through one of lamb's own endpoints.
	putLamb := func(path, body string) func() error {
		return func() error {
			req, err := http.NewRequestWithContext(ctx, http.MethodPut, h.ts.URL+path, strings.NewReader(body))
			if err != nil {
				return err
			}
			resp, err := h.ts.Client().Do(req)
			if err != nil {
				return err
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNoContent {
				return fmt.Errorf("PUT %s: %s", path, resp.Status)
			}
			return nil
		}
	}
	var esmArn string
	setup := []schemaStep{
		{"PublishVersion on a capacity provider", func() error {
			_, err := c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String(cpFn)})
			return err
		}},
		{"PutFunctionScalingConfig", func() error {
			_, err := c.PutFunctionScalingConfig(ctx, &lambda.PutFunctionScalingConfigInput{FunctionName: aws.String(cpFn), Qualifier: aws.String("1"),
				FunctionScalingConfig: &types.FunctionScalingConfig{MinExecutionEnvironments: aws.Int32(0), MaxExecutionEnvironments: aws.Int32(1)}})
			return err
		}},
		{"CreateAlias", func() error {
			_, err := c.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String(fn), Name: aws.String(alias), FunctionVersion: aws.String("1")})
			return err
		}},
		{"PutFunctionRecursionConfig", func() error {
			_, err := c.PutFunctionRecursionConfig(ctx, &lambda.PutFunctionRecursionConfigInput{FunctionName: aws.String(fn), RecursiveLoop: types.RecursiveLoopAllow})
			return err
		}},
		{"PublishLayerVersion", func() error {
			_, err := c.PublishLayerVersion(ctx, &lambda.PublishLayerVersionInput{LayerName: aws.String(layer), Content: &types.LayerVersionContentInput{ZipFile: zipOf(t, map[string]string{"a": "b"})}})
			return err
		}},
		{"AddLayerVersionPermission", func() error {
			_, err := c.AddLayerVersionPermission(ctx, &lambda.AddLayerVersionPermissionInput{LayerName: aws.String(layer), VersionNumber: aws.Int64(1),
				StatementId: aws.String("s"), Action: aws.String("lambda:GetLayerVersion"), Principal: aws.String("*")})
			return err
		}},
		{"CreateEventSourceMapping", func() error {
			out, err := c.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String(fn), EventSourceArn: aws.String("arn:aws:sqs:us-east-1:111111111111:schema-q")})
			if err == nil {
				esmArn = aws.ToString(out.EventSourceMappingArn)
			}
			return err
		}},
		{"a stream mapping's poller checkpoints a shard", func() error {
			uuid := esmArn[strings.LastIndex(esmArn, ":")+1:]
			return h.srv.EventSourceHost().SaveCheckpoint(ctx, uuid, "shardId-000000000000", "49590338271490256608559692538361571095921575989136588898")
		}},
		{"TagResource on the mapping", func() error {
			_, err := c.TagResource(ctx, &lambda.TagResourceInput{Resource: aws.String(esmArn), Tags: map[string]string{"k": "v"}})
			return err
		}},
		{"CreateCodeSigningConfig and PutFunctionCodeSigningConfig", func() error {
			out, err := c.CreateCodeSigningConfig(ctx, &lambda.CreateCodeSigningConfigInput{
				AllowedPublishers: &types.AllowedPublishers{SigningProfileVersionArns: []string{"arn:aws:signer:us-east-1:111111111111:/signing-profiles/test"}}})
			if err != nil {
				return err
			}
			_, err = c.PutFunctionCodeSigningConfig(ctx, &lambda.PutFunctionCodeSigningConfigInput{FunctionName: aws.String(fn), CodeSigningConfigArn: out.CodeSigningConfig.CodeSigningConfigArn})
			return err
		}},
		{"PUT /_lamb/schedules/schema-schedule", putLamb("/_lamb/schedules/schema-schedule", `{"function":"schema-fn","expression":"rate(1 hour)","enabled":true}`)},
		{"PUT /_lamb/stacks/schema-stack", putLamb("/_lamb/stacks/schema-stack", `{"name":"schema-stack","resources":[]}`)},
		{"Invoke Event of a throttled function (the event stays queued)", func() error {
			const throttled = "schema-async"
			if _, err := c.CreateFunction(ctx, createInput(t, throttled)); err != nil {
				return err
			}
			waitActive(t, c, throttled)
			if _, err := c.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String(throttled), ReservedConcurrentExecutions: aws.Int32(0)}); err != nil {
				return err
			}
			_, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(throttled), InvocationType: types.InvocationTypeEvent})
			return err
		}},
	}
	// State per qualifier: the function itself, the version and the alias
	// that get deleted.
	for _, q := range []string{"", "2", alias} {
		setup = append(setup, schemaStep{"AddPermission " + q, func() error {
			_, err := c.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String(fn), Qualifier: optional(q),
				StatementId: aws.String("s"), Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("s3.amazonaws.com")})
			return err
		}}, schemaStep{"PutFunctionEventInvokeConfig " + q, func() error {
			_, err := c.PutFunctionEventInvokeConfig(ctx, &lambda.PutFunctionEventInvokeConfigInput{FunctionName: aws.String(fn), Qualifier: optional(q), MaximumRetryAttempts: aws.Int32(1)})
			return err
		}})
		if q != "" {
			setup = append(setup, schemaStep{"PutProvisionedConcurrencyConfig " + q, func() error {
				_, err := c.PutProvisionedConcurrencyConfig(ctx, &lambda.PutProvisionedConcurrencyConfigInput{FunctionName: aws.String(fn), Qualifier: aws.String(q), ProvisionedConcurrentExecutions: aws.Int32(1)})
				return err
			}})
		}
		if q != "2" { // URLs belong to the function or an alias, not to a version
			setup = append(setup, schemaStep{"CreateFunctionUrlConfig " + q, func() error {
				_, err := c.CreateFunctionUrlConfig(ctx, &lambda.CreateFunctionUrlConfigInput{FunctionName: aws.String(fn), Qualifier: optional(q), AuthType: types.FunctionUrlAuthTypeNone})
				return err
			}})
		}
	}
	for _, s := range setup {
		if err := s.call(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
	}

	known := schemaBuckets()
	keys := storedKeys(t, st)
	for b := range keys {
		if !known[b] {
			t.Errorf("bucket %q is not in the schema (api/schema.go): say what each delete does to it", b)
		}
	}
	for b := range known {
		if len(keys[b]) == 0 {
			t.Errorf("the scenario writes nothing to bucket %q: add the resource that uses it", b)
		}
	}

	otherPrefix := functionKey(sc, cpFn)
	under := func(prefix string) func(string) bool {
		return func(k string) bool { return k == prefix || strings.HasPrefix(k, prefix+"/") }
	}
	others := func(keys map[string][]string) map[string][]string {
		out := map[string][]string{}
		for b, ks := range keys {
			for _, k := range ks {
				if under(otherPrefix)(k) {
					out[b] = append(out[b], k)
				}
			}
		}
		return out
	}
	otherBefore := others(keys)

	deletes := []struct {
		name string
		d    deletion
		call func() error
		gone func(key string) bool // a key of the deleted resource
		// keeps lists the buckets that keep the deleted resource's keys by
		// design (see their schema note).
		keeps []string
	}{
		{"version", delVersion, func() error {
			_, err := c.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String(fn), Qualifier: aws.String("2")})
			return err
		}, func(k string) bool { return k == versionKey(sc, fn, "2") || k == qualifierKey(sc, fn, "2") }, nil},
		{"alias", delAlias, func() error {
			_, err := c.DeleteAlias(ctx, &lambda.DeleteAliasInput{FunctionName: aws.String(fn), Name: aws.String(alias)})
			return err
		}, func(k string) bool { return k == aliasKey(sc, fn, alias) }, nil},
		{"layer version", delLayerVersion, func() error {
			_, err := c.DeleteLayerVersion(ctx, &lambda.DeleteLayerVersionInput{LayerName: aws.String(layer), VersionNumber: aws.Int64(1)})
			return err
		}, func(k string) bool { return k == layerVersionKey(sc, layer, 1) }, []string{bucketLayerPolicies}},
		{"function", delFunction, func() error {
			_, err := c.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String(fn)})
			return err
		}, under(functionKey(sc, fn)), nil},
	}
	for _, tc := range deletes {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); err != nil {
				t.Fatal(err)
			}
			for b, ks := range storedKeys(t, st) {
				if slices.Contains(tc.keeps, b) {
					continue
				}
				for _, k := range ks {
					if tc.gone(k) {
						t.Errorf("%s left %s/%s", tc.d, b, k)
					}
				}
			}
		})
	}
	if got := others(storedKeys(t, st)); !reflect.DeepEqual(got, otherBefore) {
		t.Errorf("%s's keys changed: %v, were %v", cpFn, got, otherBefore)
	}
}

// schemaStep is one call of TestSchemaCoversStore's scenario.
type schemaStep struct {
	name string
	call func() error
}
