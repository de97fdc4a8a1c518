package api

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// Snapshot labels covered (TestLambdaLayer::test_layer_lifecycle): all of
// get_fn_result, get_fn_config_result, publish_result, publish_result_2,
// update_fn_config, get_fn_config, get_layer_ver_result,
// get_layer_by_arn_version, list_layer_versions_predelete, delete_layer_1,
// get_fn_config_postdelete, delete_layer_2, list_layer_versions_postdelete,
// publish_result_3.
var _ = registerParityTest("LayerLifecycleMatchesSnapshot", testLayerLifecycleMatchesSnapshot)

func testLayerLifecycleMatchesSnapshot(t *testing.T) {
	const testID = "TestLambdaLayer::test_layer_lifecycle"
	snap := loadSnapshot(t, testID)
	h := newHarness(t, Config{})
	ctx := context.Background()
	fn, layer := "fn-with-layer", "my-layer"
	n := newNormaliser(
		fn, "<function-name:1>",
		"role/lambda-test-role", "role/<resource:1>",
		"runtime:"+runtimeHash("python3.12"), "runtime:<resource:2>",
		"layer:"+layer, "layer:<resource:3>",
		"the layer description", "<description>",
		"MIT-0", "<license-info>",
	)
	step := snapshotSteps{t, h, snap, n}.step
	getConfig := &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(fn)}
	publish := &lambda.PublishLayerVersionInput{
		LayerName:               aws.String(layer),
		CompatibleRuntimes:      []types.Runtime{types.RuntimePython312},
		CompatibleArchitectures: []types.Architecture{types.ArchitectureX8664},
		LicenseInfo:             aws.String("MIT-0"),
		Description:             aws.String("the layer description"),
		Content:                 &types.LayerVersionContentInput{ZipFile: zipOf(t, map[string]string{"python/mylib.py": "X = 1\n"})},
	}

	in := createInput(t, fn)
	in.Timeout = aws.Int32(30)
	if _, err := h.client.CreateFunction(ctx, in); err != nil {
		t.Fatal(err)
	}
	waitActive(t, h.client, fn)
	step("get_fn_result", "<location>", &lambda.GetFunctionInput{FunctionName: aws.String(fn)})
	step("get_fn_config_result", "", getConfig)

	v1, err := h.client.PublishLayerVersion(ctx, publish)
	if err != nil {
		t.Fatal(err)
	}
	matchSnapshot(t, snap, "publish_result", n.normalise(h.rec.lastResponse().boto3View(t), "<layer-location>"))
	step("publish_result_2", "<layer-location>", publish)

	step("update_fn_config", "", &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String(fn), Layers: []string{*v1.LayerVersionArn}})
	waitUpdated(t, h.client, fn)
	step("get_fn_config", "", getConfig)

	step("get_layer_ver_result", "<layer-location>", &lambda.GetLayerVersionInput{LayerName: aws.String(layer), VersionNumber: aws.Int64(1)})
	step("get_layer_by_arn_version", "<layer-location>", &lambda.GetLayerVersionByArnInput{Arn: v1.LayerVersionArn})
	step("list_layer_versions_predelete", "", &lambda.ListLayerVersionsInput{LayerName: aws.String(layer)})

	step("delete_layer_1", "", &lambda.DeleteLayerVersionInput{LayerName: aws.String(layer), VersionNumber: aws.Int64(1)})
	step("get_fn_config_postdelete", "", getConfig)
	step("delete_layer_2", "", &lambda.DeleteLayerVersionInput{LayerName: aws.String(layer), VersionNumber: aws.Int64(2)})
	step("list_layer_versions_postdelete", "", &lambda.ListLayerVersionsInput{LayerName: aws.String(layer)})
	step("publish_result_3", "<layer-location>", publish)
}

// Snapshot labels covered (TestLambdaLayer::test_layer_function_exceptions and
// test_layer_function_quota_exception): two_layer_versions_single_function_exc,
// three_layer_versions_single_function_exc,
// two_identical_layer_versions_single_function_exc, add_nonexistent_layer_exc,
// add_nonexistent_layer_version_exc, add_layer_arn_without_version_exc,
// create_function_with_layer_in_different_region, create_function_with_six_layers.
var _ = registerParityTest("LayerFunctionErrorsMatchSnapshot", testLayerFunctionErrorsMatchSnapshot)

func testLayerFunctionErrorsMatchSnapshot(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, Config{})
	layer, fn := "the-layer", "fn-layers"
	var arns []string
	for range 3 {
		out, err := h.client.PublishLayerVersion(ctx, &lambda.PublishLayerVersionInput{
			LayerName:               aws.String(layer),
			CompatibleArchitectures: []types.Architecture{types.ArchitectureX8664},
			Content:                 &types.LayerVersionContentInput{ZipFile: zipOf(t, map[string]string{"a.txt": "a"})},
		})
		if err != nil {
			t.Fatal(err)
		}
		arns = append(arns, *out.LayerVersionArn)
	}
	if _, err := h.client.CreateFunction(ctx, createInput(t, fn)); err != nil {
		t.Fatal(err)
	}
	waitActive(t, h.client, fn)
	layerArn := fmt.Sprintf("arn:aws:lambda:us-east-1:%s:layer:%s", testAccount, layer)
	update := func(layers ...string) error {
		_, err := h.client.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String(fn), Layers: layers})
		return err
	}
	tests := []struct {
		testID, label string
		do            func() error
	}{
		{"TestLambdaLayer::test_layer_function_exceptions", "two_layer_versions_single_function_exc", func() error { return update(arns[0], arns[1]) }},
		{"TestLambdaLayer::test_layer_function_exceptions", "three_layer_versions_single_function_exc", func() error { return update(arns[0], arns[1], arns[2]) }},
		{"TestLambdaLayer::test_layer_function_exceptions", "two_identical_layer_versions_single_function_exc", func() error { return update(arns[0], arns[0]) }},
		{"TestLambdaLayer::test_layer_function_exceptions", "add_nonexistent_layer_exc", func() error {
			return update(fmt.Sprintf("arn:aws:lambda:us-east-1:%s:layer:doesnotexist:1", testAccount))
		}},
		{"TestLambdaLayer::test_layer_function_exceptions", "add_nonexistent_layer_version_exc", func() error { return update(layerArn + ":9") }},
		{"TestLambdaLayer::test_layer_function_exceptions", "add_layer_arn_without_version_exc", func() error { return update(layerArn) }},
		{"TestLambdaLayer::test_layer_function_exceptions", "create_function_with_layer_in_different_region", func() error {
			in := createInput(t, "other-fn")
			in.Layers = []string{fmt.Sprintf("arn:aws:lambda:eu-west-1:%s:layer:%s:1", testAccount, layer)}
			_, err := h.client.CreateFunction(ctx, in)
			return err
		}},
		{"TestLambdaLayer::test_layer_function_quota_exception", "create_function_with_six_layers", func() error {
			in := createInput(t, "six-fn")
			for i := range 6 {
				in.Layers = append(in.Layers, fmt.Sprintf("%s-%d:1", layerArn, i))
			}
			_, err := h.client.CreateFunction(ctx, in)
			return err
		}},
	}
	for _, tc := range tests {
		t.Run(tc.label, func(t *testing.T) {
			snap := loadSnapshot(t, tc.testID)
			if err := tc.do(); err == nil {
				t.Fatal("call succeeded")
			}
			got := newNormaliser("layer:"+layer, "layer:<resource:1>", "region us-east-1.", "region <region>.").normalise(h.rec.lastResponse().boto3View(t), "")
			matchSnapshot(t, snap, tc.label, got)
		})
	}
}

func TestListLayersFiltersAndPages(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, Config{})
	zip := zipOf(t, map[string]string{"a": "b"})
	publish := func(name string, rts []types.Runtime, archs []types.Architecture) {
		t.Helper()
		if _, err := h.client.PublishLayerVersion(ctx, &lambda.PublishLayerVersionInput{LayerName: aws.String(name), CompatibleRuntimes: rts, CompatibleArchitectures: archs, Content: &types.LayerVersionContentInput{ZipFile: zip}}); err != nil {
			t.Fatal(err)
		}
	}
	py, node := []types.Runtime{types.RuntimePython312}, []types.Runtime{types.RuntimeNodejs22x}
	arm, x86 := []types.Architecture{types.ArchitectureArm64}, []types.Architecture{types.ArchitectureX8664}
	publish("alpha", py, x86)   // alpha:1
	publish("alpha", node, x86) // alpha:2
	publish("beta", py, arm)    // beta:1
	publish("gamma", node, arm) // gamma:1

	layers, err := h.client.ListLayers(ctx, &lambda.ListLayersInput{CompatibleRuntime: types.RuntimePython312})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range layers.Layers {
		got = append(got, fmt.Sprintf("%s:%d", *l.LayerName, l.LatestMatchingVersion.Version))
	}
	if fmt.Sprint(got) != "[alpha:1 beta:1]" {
		t.Fatalf("ListLayers(python3.12) = %v", got)
	}
	// AWS's filter accepts runtimes beyond the published model's enum.
	layers, err = h.client.ListLayers(ctx, &lambda.ListLayersInput{CompatibleRuntime: "python3.15"})
	if err != nil || len(layers.Layers) != 0 {
		t.Fatalf("ListLayers(python3.15) = %+v %v, want no layers and no error", layers, err)
	}
	layers, err = h.client.ListLayers(ctx, &lambda.ListLayersInput{CompatibleArchitecture: types.ArchitectureX8664})
	if err != nil || len(layers.Layers) != 1 || layers.Layers[0].LatestMatchingVersion.Version != 2 {
		t.Fatalf("ListLayers(x86_64) = %+v %v", layers, err)
	}

	var names []string
	p := lambda.NewListLayersPaginator(h.client, &lambda.ListLayersInput{MaxItems: aws.Int32(2)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range out.Layers {
			names = append(names, *l.LayerName)
		}
	}
	if fmt.Sprint(names) != "[alpha beta gamma]" {
		t.Fatalf("paged ListLayers = %v", names)
	}

	versions, err := h.client.ListLayerVersions(ctx, &lambda.ListLayerVersionsInput{LayerName: aws.String("alpha")})
	if err != nil || len(versions.LayerVersions) != 2 || versions.LayerVersions[0].Version != 2 {
		t.Fatalf("ListLayerVersions newest first: %+v %v", versions, err)
	}
	versions, err = h.client.ListLayerVersions(ctx, &lambda.ListLayerVersionsInput{LayerName: aws.String("alpha"), CompatibleRuntime: types.RuntimePython312})
	if err != nil || len(versions.LayerVersions) != 1 || versions.LayerVersions[0].Version != 1 {
		t.Fatalf("ListLayerVersions(python3.12): %+v %v", versions, err)
	}
	// Other accounts see none of it.
	other, err := h.clientFor("222222222222", "us-east-1").ListLayers(ctx, &lambda.ListLayersInput{})
	if err != nil || len(other.Layers) != 0 {
		t.Fatalf("other account: %+v %v", other, err)
	}
}
