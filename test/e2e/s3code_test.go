package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// TestCodeFromS3: with --s3-endpoint (moto's server as S3), CreateFunction,
// UpdateFunctionCode (with S3ObjectVersion) and PublishLayerVersion fetch
// their zips from S3, and a missing bucket or key gets AWS's
// InvalidParameterValueException, worded as AWS's recordings word it; lamb
// deploy --s3-endpoint deploys a template whose code is in S3 (as sam
// package leaves it).
func TestCodeFromS3(t *testing.T) {
	moto := startMoto(t)
	s := startLambEnv(t, freeAddr(t), "", motoEnv, "--s3-endpoint", moto)
	runPythonEnv(t, s, "boto3_s3code.py", []string{"MOTO_ENDPOINT=" + moto}) // leaves s3://code/fn.zip and layer.zip

	t.Run("lamb deploy", func(t *testing.T) {
		dir := t.TempDir()
		tpl := `AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  Layer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: s3://code/layer.zip
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: s3://code/fn.zip
      Handler: handler.handler
      Runtime: python3.12
      Layers: [!Ref Layer]
  CfnFn:
    Type: AWS::Lambda::Function
    Properties:
      Code: {S3Bucket: code, S3Key: fn.zip}
      Handler: handler.handler
      Runtime: python3.12
      Role: arn:aws:iam::000000000000:role/lambda
`
		if err := os.WriteFile(filepath.Join(dir, "template.yaml"), []byte(tpl), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := lambCmdErr(t, s, dir, "deploy", "template.yaml", "--stack-name", "s3"); err == nil {
			t.Fatalf("deploy of code in S3 without --s3-endpoint succeeded:\n%s", out)
		}
		lambCmd(t, s, dir, "deploy", "template.yaml", "--stack-name", "s3", "--s3-endpoint", moto)
		c := s.client("us-east-1", "test")
		for _, fn := range []string{"s3-Fn", "s3-CfnFn"} {
			out, err := c.Invoke(ctxT(t), &lambda.InvokeInput{FunctionName: aws.String(fn)})
			if err != nil || out.FunctionError != nil {
				t.Fatalf("invoke %s: %v", fn, err)
			}
			var got string
			if err := json.Unmarshal(out.Payload, &got); err != nil || got != "v2" {
				t.Errorf("%s answered %s, want the latest object's \"v2\"", fn, out.Payload)
			}
		}
	})
}
