"""Code from S3 (lamb serve --s3-endpoint, moto's server as S3): create,
update and publish a layer from S3Bucket/S3Key(/S3ObjectVersion), and AWS's
errors for a missing bucket or key (../shared/aws-snapshots,
test_lambda_code_location_s3_errors)."""
import json
import os

import boto3
import botocore.exceptions

from lambtest import lambda_client, make_zip

S3 = boto3.client("s3", endpoint_url=os.environ["MOTO_ENDPOINT"], region_name="us-east-1",
                  aws_access_key_id="testing", aws_secret_access_key="testing")
L = lambda_client("123456789012")
ROLE = "arn:aws:iam::123456789012:role/lambda"

S3.create_bucket(Bucket="code")
S3.put_bucket_versioning(Bucket="code", VersioningConfiguration={"Status": "Enabled"})
v1 = S3.put_object(Bucket="code", Key="fn.zip", Body=make_zip({"handler.py": "def handler(e, c):\n    return 'v1'\n"}))["VersionId"]
S3.put_object(Bucket="code", Key="fn.zip", Body=make_zip({"handler.py": "def handler(e, c):\n    return 'v2'\n"}))
S3.put_object(Bucket="code", Key="layer.zip", Body=make_zip({"python/shared.py": "WORD = 'from the s3 layer'\n"}))


def invoke(name):
    out = L.invoke(FunctionName=name)
    assert "FunctionError" not in out, out
    return json.loads(out["Payload"].read())


# The latest object, then an older version of it.
L.create_function(FunctionName="from-s3", Runtime="python3.12", Role=ROLE, Handler="handler.handler",
                  Code={"S3Bucket": "code", "S3Key": "fn.zip"})
L.get_waiter("function_active_v2").wait(FunctionName="from-s3")
assert invoke("from-s3") == "v2"
L.update_function_code(FunctionName="from-s3", S3Bucket="code", S3Key="fn.zip", S3ObjectVersion=v1)
L.get_waiter("function_updated_v2").wait(FunctionName="from-s3")
assert invoke("from-s3") == "v1"
code = L.get_function(FunctionName="from-s3")["Code"]
assert code["RepositoryType"] == "S3", code

layer = L.publish_layer_version(LayerName="s3-layer", Content={"S3Bucket": "code", "S3Key": "layer.zip"})
L.create_function(FunctionName="with-s3-layer", Runtime="python3.12", Role=ROLE, Handler="handler.handler",
                  Layers=[layer["LayerVersionArn"]],
                  Code={"ZipFile": make_zip({"handler.py": "import shared\n\ndef handler(e, c):\n    return shared.WORD\n"})})
L.get_waiter("function_active_v2").wait(FunctionName="with-s3-layer")
assert invoke("with-s3-layer") == "from the s3 layer"

# AWS's errors, on create and on update.
WRONG_BUCKET = "Error occurred while GetObject. S3 Error Code: NoSuchBucket. S3 Error Message: The specified bucket does not exist"
WRONG_KEY = "Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: The specified key does not exist."
for call, bucket, key, want in [
    (lambda b, k: L.create_function(FunctionName="bad-s3", Runtime="python3.12", Role=ROLE, Handler="h.h",
                                    Code={"S3Bucket": b, "S3Key": k}), "no-such-bucket", "fn.zip", WRONG_BUCKET),
    (lambda b, k: L.create_function(FunctionName="bad-s3", Runtime="python3.12", Role=ROLE, Handler="h.h",
                                    Code={"S3Bucket": b, "S3Key": k}), "code", "no-such-key.zip", WRONG_KEY),
    (lambda b, k: L.update_function_code(FunctionName="from-s3", S3Bucket=b, S3Key=k), "no-such-bucket", "fn.zip", WRONG_BUCKET),
    (lambda b, k: L.update_function_code(FunctionName="from-s3", S3Bucket=b, S3Key=k), "code", "no-such-key.zip", WRONG_KEY),
]:
    try:
        call(bucket, key)
        raise AssertionError(f"s3://{bucket}/{key}: want an error")
    except botocore.exceptions.ClientError as e:
        err = e.response["Error"]
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 400, e.response
        assert err["Code"] == "InvalidParameterValueException", err
        assert err["Message"] == want, err
try:
    L.get_function(FunctionName="bad-s3")
    raise AssertionError("a function whose code could not be fetched was created")
except L.exceptions.ResourceNotFoundException:
    pass
assert invoke("from-s3") == "v1"  # a failed update changed nothing
print("code from s3: ok")
