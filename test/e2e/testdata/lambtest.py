"""What the boto3 scripts share: lamb's endpoint (LAMB_ENDPOINT), a boto3
Lambda client of it, and function code as zip bytes."""
import io
import os
import zipfile

import boto3
import botocore.config

ENDPOINT = os.environ["LAMB_ENDPOINT"]


def lambda_client(key="test", region="us-east-1", **config):
    """A boto3 Lambda client of lamb in region signing with access key id key
    (12 digits select that account) that does not retry; config adds
    botocore.config.Config options."""
    return boto3.client(
        "lambda", endpoint_url=ENDPOINT, region_name=region,
        aws_access_key_id=key, aws_secret_access_key="x",
        config=botocore.config.Config(retries={"max_attempts": 1}, **config),
    )


def make_zip(files):
    """Returns the bytes of a zip archive holding files (name -> content)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, body in files.items():
            z.writestr(name, body)
    return buf.getvalue()
