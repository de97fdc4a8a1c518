package api

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// Snapshot labels covered (TestLambdaLayer::test_layer_exceptions): all. Also
// TestLambdaLayer::test_layer_compatibilities[*].
var _ = registerParityTest("LayerExceptionsMatchSnapshot", testLayerExceptionsMatchSnapshot)

func testLayerExceptionsMatchSnapshot(t *testing.T) {
	const testID = "TestLambdaLayer::test_layer_exceptions"
	snap := loadSnapshot(t, testID)
	ctx := context.Background()
	h := newHarness(t, Config{})
	layer, empty := "exc-layer", "empty-layer"
	n := newNormaliser("layer:"+layer, "layer:<resource:1>", "layer:"+empty, "layer:<resource:2>")
	layerArn := "arn:aws:lambda:us-east-1:111111111111:layer:" + layer
	zip := zipOf(t, map[string]string{"python/x.py": "X = 1\n"})
	publish := func(name string, rts []types.Runtime, archs []types.Architecture) *lambda.PublishLayerVersionInput {
		return &lambda.PublishLayerVersionInput{LayerName: aws.String(name), CompatibleRuntimes: rts, CompatibleArchitectures: archs, Content: &types.LayerVersionContentInput{ZipFile: zip}}
	}
	getVersion := func(name string, v int64) *lambda.GetLayerVersionInput {
		return &lambda.GetLayerVersionInput{LayerName: aws.String(name), VersionNumber: aws.Int64(v)}
	}
	byArn := func(arn string) *lambda.GetLayerVersionByArnInput {
		return &lambda.GetLayerVersionByArnInput{Arn: aws.String(arn)}
	}
	del := func(name string, v int64) *lambda.DeleteLayerVersionInput {
		return &lambda.DeleteLayerVersionInput{LayerName: aws.String(name), VersionNumber: aws.Int64(v)}
	}
	for _, st := range []parityStep{
		{"publish_result", publish(layer, []types.Runtime{types.RuntimePython312}, []types.Architecture{types.ArchitectureX8664})},
		{"list_layers_exc_compatiblearchitecture_invalid", &lambda.ListLayersInput{CompatibleArchitecture: "archdoesnotexist"}},
		{"list_layers_exc_compatibleruntime_invalid", &lambda.ListLayersInput{CompatibleRuntime: "runtimedoesnotexist"}},
		{"list_nonexistent_layer", &lambda.ListLayerVersionsInput{LayerName: aws.String("doesnotexist")}},
		{"get_layer_version_exc_layer_doesnotexist", getVersion("doesnotexist", 1)},
		{"get_layer_version_exc_layer_version_doesnotexist_negative", getVersion(layer, -1)},
		{"get_layer_version_exc_layer_version_doesnotexist_zero", getVersion(layer, 0)},
		{"get_layer_version_exc_layer_version_doesnotexist_2", getVersion(layer, 2)},
		{"get_layer_version_by_arn_exc_invalidarn", byArn(layerArn)},
		{"get_layer_version_by_arn_exc_nonexistentversion", byArn(layerArn + ":2")},
		{"delete_nonexistent_response", del("doesnotexist", 1)},
		{"delete_nonexistent_version_response", del(layer, 2)},
		{"delete_layer_response", del(layer, 1)},
		{"delete_layer_again_response", del(layer, 1)},
		{"delete_layer_version_exc_layerversion_invalid_version", del(layer, -1)},
		{"publish_empty_result", publish(empty, []types.Runtime{}, []types.Architecture{})}, // sent empty: answered []
		{"publish_layer_version_exc_invalid_runtime_arch", publish(layer, []types.Runtime{"invalidruntime"}, []types.Architecture{"invalidarch"})},
		{"publish_layer_version_exc_partially_invalid_values", publish(layer, []types.Runtime{"invalidruntime", "invalidruntime2", "nodejs20.x"}, []types.Architecture{"invalidarch", "x86_64"})},
	} {
		_ = sendInput(t, h.client, ctx, st.in)
		got := n.normalise(h.rec.lastResponse().boto3View(t), "<layer-location>")
		matchSnapshot(t, snap, st.label, got)
	}

	for _, id := range []string{"runtimes0", "runtimes1", "runtimes2"} {
		testID := "TestLambdaLayer::test_layer_compatibilities[" + id + "]"
		snap := loadSnapshot(t, testID)
		want := expected(t, snap, "publish_result")
		var rts []types.Runtime
		for _, r := range want["CompatibleRuntimes"].([]any) {
			rts = append(rts, types.Runtime(r.(string)))
		}
		name := "compat-" + id
		if err := sendInput(t, h.client, ctx, publish(name, rts, []types.Architecture{"arm64", "x86_64"})); err != nil {
			t.Fatalf("%s: %v", testID, err)
		}
		got := newNormaliser("layer:"+name, "layer:<resource:1>").normalise(h.rec.lastResponse().boto3View(t), "<layer-location>")
		matchSnapshot(t, snap, "publish_result", got)
	}
}
