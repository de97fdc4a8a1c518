"""Control-plane checks with boto3 against a running lamb (LAMB_ENDPOINT)."""
import base64
import hashlib
import os
import unittest
import urllib.request
import uuid

from botocore.exceptions import ClientError

from lambtest import lambda_client, make_zip

ROLE = "arn:aws:iam::123456789012:role/lambda-role"


def client(region="us-east-1", key="123456789012", validate=True):
    return lambda_client(key, region, parameter_validation=validate)


ECHO = make_zip({"handler.py": "def handler(event, context):\n    return event\n"})


def name(prefix="fn"):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


class ControlPlane(unittest.TestCase):
    def setUp(self):
        self.c = client()

    def create(self, fn, **kw):
        args = dict(FunctionName=fn, Runtime="python3.12", Role=ROLE,
                    Handler="handler.handler", Code={"ZipFile": ECHO})
        args.update(kw)
        return self.c.create_function(**args)

    def assertAWSError(self, ctx, code, status, message=None):
        err = ctx.exception.response
        self.assertEqual(err["Error"]["Code"], code, err)
        self.assertEqual(err["ResponseMetadata"]["HTTPStatusCode"], status, err)
        if message is not None:
            self.assertEqual(err["Error"]["Message"], message, err)

    def test_create_defaults_and_waiters(self):
        fn = name()
        r = self.create(fn)
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 201)
        self.assertEqual(r["FunctionArn"], f"arn:aws:lambda:us-east-1:123456789012:function:{fn}")
        self.assertEqual(r["Timeout"], 3)
        self.assertEqual(r["MemorySize"], 128)
        self.assertEqual(r["EphemeralStorage"], {"Size": 512})
        self.assertEqual(r["Architectures"], ["x86_64"])
        self.assertEqual(r["TracingConfig"], {"Mode": "PassThrough"})
        self.assertEqual(r["LoggingConfig"], {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{fn}"})
        self.assertEqual(r["SnapStart"], {"ApplyOn": "None", "OptimizationStatus": "Off"})
        self.assertEqual(r["PackageType"], "Zip")
        self.assertEqual(r["Version"], "$LATEST")
        self.assertEqual(r["State"], "Pending")
        self.assertEqual(r["CodeSha256"], base64.b64encode(hashlib.sha256(ECHO).digest()).decode())
        self.assertEqual(r["CodeSize"], len(ECHO))
        uuid.UUID(r["RevisionId"])
        self.c.get_waiter("function_active_v2").wait(FunctionName=fn)
        cfg = self.c.get_function_configuration(FunctionName=fn)
        self.assertEqual(cfg["State"], "Active")
        self.assertEqual(cfg["LastUpdateStatus"], "Successful")

        u = self.c.update_function_configuration(FunctionName=fn, Timeout=10, MemorySize=256,
                                                 Environment={"Variables": {"A": "1"}})
        self.assertEqual(u["LastUpdateStatus"], "InProgress")
        self.assertNotEqual(u["RevisionId"], cfg["RevisionId"])
        self.c.get_waiter("function_updated_v2").wait(FunctionName=fn)
        cfg2 = self.c.get_function_configuration(FunctionName=fn)
        self.assertEqual((cfg2["Timeout"], cfg2["MemorySize"], cfg2["Environment"]["Variables"]),
                         (10, 256, {"A": "1"}))
        self.assertEqual(cfg2["LastUpdateStatus"], "Successful")

        code2 = make_zip({"handler.py": "def handler(e, c):\n    return 2\n"})
        u2 = self.c.update_function_code(FunctionName=fn, ZipFile=code2)
        self.assertEqual(u2["CodeSha256"], base64.b64encode(hashlib.sha256(code2).digest()).decode())
        self.assertEqual(u2["Timeout"], 10)  # code updates keep the configuration
        self.c.get_waiter("function_updated_v2").wait(FunctionName=fn)

        got = self.c.get_function(FunctionName=fn)
        self.assertEqual(got["Code"]["RepositoryType"], "S3")
        with urllib.request.urlopen(got["Code"]["Location"]) as resp:
            self.assertEqual(resp.read(), code2)

        d = self.c.delete_function(FunctionName=fn)
        self.assertEqual(d["ResponseMetadata"]["HTTPStatusCode"], 204)
        with self.assertRaises(ClientError) as ctx:
            self.c.get_function(FunctionName=fn)
        self.assertAWSError(ctx, "ResourceNotFoundException", 404,
                            f"Function not found: arn:aws:lambda:us-east-1:123456789012:function:{fn}")

    def test_addressing(self):
        fn = name()
        arn = self.create(fn)["FunctionArn"]
        for ident in (fn, arn, f"123456789012:function:{fn}", f"{fn}:$LATEST"):
            self.assertEqual(self.c.get_function_configuration(FunctionName=ident)["FunctionName"], fn, ident)
        self.c.delete_function(FunctionName=arn)

    def test_errors(self):
        fn = name()
        self.create(fn)
        with self.assertRaises(ClientError) as ctx:
            self.create(fn)
        self.assertAWSError(ctx, "ResourceConflictException", 409, f"Function already exist: {fn}")
        with self.assertRaises(ClientError) as ctx:
            self.c.get_function(FunctionName="does-not-exist")
        self.assertAWSError(ctx, "ResourceNotFoundException", 404,
                            "Function not found: arn:aws:lambda:us-east-1:123456789012:function:does-not-exist")
        with self.assertRaises(ClientError) as ctx:
            self.create(name(), Runtime="python0.1")
        self.assertAWSError(ctx, "InvalidParameterValueException", 400)
        with self.assertRaises(ClientError) as ctx:
            self.create(name(), Code={"ZipFile": b"this is not a zip"})
        self.assertAWSError(ctx, "InvalidParameterValueException", 400)
        slip = make_zip({"../../../../tmp/lamb-zip-slip-" + fn: "pwned", "handler.py": "x=1"})
        with self.assertRaises(ClientError) as ctx:
            self.create(name(), Code={"ZipFile": slip})
        self.assertAWSError(ctx, "InvalidParameterValueException", 400)
        self.assertFalse(os.path.exists("/tmp/lamb-zip-slip-" + fn))
        # boto3 checks these ranges itself; turn that off to see lamb's answer.
        self.c = client(validate=False)
        with self.assertRaises(ClientError) as ctx:
            self.create(name(), MemorySize=64)
        self.assertEqual(ctx.exception.response["ResponseMetadata"]["HTTPStatusCode"], 400)
        with self.assertRaises(ClientError) as ctx:
            self.create(name(), Timeout=901)
        self.assertEqual(ctx.exception.response["ResponseMetadata"]["HTTPStatusCode"], 400)
        self.c.delete_function(FunctionName=fn)

    def test_reserved_environment_variables(self):
        # AWS refuses keys the runtime sets (the message, seen in many public
        # deploy logs, names them in the order sent); TZ is accepted.
        msg = ("Lambda was unable to configure your environment variables because the environment "
               "variables you have provided contains reserved keys that are currently not supported "
               "for modification. Reserved keys used in this request: ")
        fn = name()
        with self.assertRaises(ClientError) as ctx:
            self.create(fn, Environment={"Variables": {"AWS_REGION": "x", "MINE": "1", "AWS_ACCESS_KEY_ID": "y"}})
        self.assertAWSError(ctx, "InvalidParameterValueException", 400, msg + "AWS_REGION, AWS_ACCESS_KEY_ID")
        self.create(fn, Environment={"Variables": {"TZ": "Europe/Paris", "MINE": "1"}})
        with self.assertRaises(ClientError) as ctx:
            self.c.update_function_configuration(FunctionName=fn, Environment={"Variables": {"_HANDLER": "x"}})
        self.assertAWSError(ctx, "InvalidParameterValueException", 400, msg + "_HANDLER")
        got = self.c.get_function_configuration(FunctionName=fn)["Environment"]["Variables"]
        self.assertEqual(got, {"TZ": "Europe/Paris", "MINE": "1"})
        self.c.delete_function(FunctionName=fn)

    def test_cross_account_role(self):
        # The caller's account (123456789012, from its access key) cannot pass
        # another account's role: AWS answers 403 with this message.
        with self.assertRaises(ClientError) as ctx:
            self.create(name(), Role="arn:aws:iam::999999999999:role/lambda-role")
        self.assertAWSError(ctx, "AccessDeniedException", 403, "Cross-account pass role is not allowed.")

    def test_list_paging_and_regions(self):
        west = client(region="eu-west-1")
        names = sorted(name("page") for _ in range(5))
        for n in names:
            west.create_function(FunctionName=n, Runtime="python3.12", Role=ROLE,
                                 Handler="handler.handler", Code={"ZipFile": ECHO})
        seen, marker = [], None
        while True:
            kw = {"MaxItems": 2}
            if marker:
                kw["Marker"] = marker
            page = west.list_functions(**kw)
            self.assertLessEqual(len(page["Functions"]), 2)
            seen += [f["FunctionName"] for f in page["Functions"]]
            marker = page.get("NextMarker")
            if not marker:
                break
        self.assertEqual([s for s in seen if s in names], names)
        self.assertEqual(len(seen), len(set(seen)))
        east = [f["FunctionName"] for f in self.c.list_functions()["Functions"]]
        self.assertFalse(set(names) & set(east), "eu-west-1 functions visible in us-east-1")
        with self.assertRaises(ClientError):
            self.c.get_function(FunctionName=names[0])
        for n in names:
            west.delete_function(FunctionName=n)

    def test_layers(self):
        ln = name("layer")
        content = make_zip({"python/mylib.py": "X = 1\n"})
        v1 = self.c.publish_layer_version(LayerName=ln, Content={"ZipFile": content},
                                          CompatibleRuntimes=["python3.12"])
        v2 = self.c.publish_layer_version(LayerName=ln, Content={"ZipFile": content})
        self.assertEqual((v1["Version"], v2["Version"]), (1, 2))
        self.assertEqual(v1["LayerVersionArn"], f"arn:aws:lambda:us-east-1:123456789012:layer:{ln}:1")
        versions = [v["Version"] for v in self.c.list_layer_versions(LayerName=ln)["LayerVersions"]]
        self.assertEqual(versions, [2, 1])
        got = self.c.get_layer_version_by_arn(Arn=v1["LayerVersionArn"])
        with urllib.request.urlopen(got["Content"]["Location"]) as resp:
            self.assertEqual(resp.read(), content)
        fn = name()
        r = self.create(fn, Layers=[v2["LayerVersionArn"]])
        self.assertEqual(r["Layers"][0]["Arn"], v2["LayerVersionArn"])
        with self.assertRaises(ClientError) as ctx:
            self.create(name(), Layers=[v1["LayerVersionArn"], v2["LayerVersionArn"]])
        self.assertAWSError(ctx, "InvalidParameterValueException", 400)
        with self.assertRaises(ClientError) as ctx:
            self.create(name(), Layers=[f"arn:aws:lambda:us-east-1:123456789012:layer:{ln}:9"])
        self.assertEqual(ctx.exception.response["ResponseMetadata"]["HTTPStatusCode"], 400)
        self.c.delete_layer_version(LayerName=ln, VersionNumber=1)
        versions = [v["Version"] for v in self.c.list_layer_versions(LayerName=ln)["LayerVersions"]]
        self.assertEqual(versions, [2])
        self.c.delete_function(FunctionName=fn)


if __name__ == "__main__":
    unittest.main(verbosity=2)
