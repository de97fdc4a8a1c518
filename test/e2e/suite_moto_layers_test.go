package e2e

import "testing"

// TestLayerListItemsOmitEmptyDescription: ListLayerVersions leaves out an
// empty Description (moto's test_list_lambda_layers, verified against AWS, found
// by scripts/suite-moto.sh), while PublishLayerVersion answers "Description": ""
// as AWS's recordings in shared/aws-snapshots show.
func TestLayerListItemsOmitEmptyDescription(t *testing.T) {
	s := startLamb(t, t.TempDir())
	got := runBoto3Script(t, s, boto3Prelude+`
call("publish", lambda: c.publish_layer_version(LayerName="nodesc", Content={"ZipFile": ZIP}))
call("list", lambda: c.list_layer_versions(LayerName="nodesc"))
print(json.dumps({"publish_has": "Description" in out["publish"], "list_has": "Description" in out["list"]["LayerVersions"][0]}))
`)
	if got["publish_has"] != true || got["list_has"] != false {
		t.Fatalf("Description in publish=%v, in list item=%v; want true, false", got["publish_has"], got["list_has"])
	}
}
