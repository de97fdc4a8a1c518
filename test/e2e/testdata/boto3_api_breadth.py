"""The rest of the Lambda API with boto3 against a running lamb (LAMB_ENDPOINT):
versions, aliases with weighted routing, resource policies, tags, RevisionId
preconditions, reserved and provisioned concurrency, event invoke configs with
retries and destinations, account settings. The server runs with
--async-retry-delay 100ms so Event retries happen within the test."""
import collections
import io
import json
import os
import tempfile
import time
import unittest
import urllib.request
import uuid
import zipfile

from botocore.exceptions import ClientError

from lambtest import ENDPOINT, lambda_client

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/lambda-role"
C = lambda_client(ACCOUNT)


def make_zip(source):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("handler.py", source)
    return buf.getvalue()


def returning(value):
    return make_zip(f"def handler(event, context):\n    return {value!r}\n")


def name(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def arn(fn):
    return f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{fn}"


def create(fn, code, **kw):
    C.create_function(FunctionName=fn, Runtime="python3.12", Role=ROLE, Handler="handler.handler",
                      Code={"ZipFile": code}, **kw)
    C.get_waiter("function_active_v2").wait(FunctionName=fn, WaiterConfig={"Delay": 1, "MaxAttempts": 30})


def wait_updated(fn):
    C.get_waiter("function_updated_v2").wait(FunctionName=fn, WaiterConfig={"Delay": 1, "MaxAttempts": 30})


def invoke(fn, **kw):
    r = C.invoke(FunctionName=fn, **kw)
    return r, json.loads(r["Payload"].read())


def error_of(call):
    try:
        call()
    except ClientError as e:
        return e.response["Error"]["Code"], e.response["Error"]["Message"], e.response["ResponseMetadata"]["HTTPStatusCode"], e.response
    raise AssertionError("no error")


def wait_for(what, cond, timeout=30):
    deadline = time.time() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


class Versions(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fn = name("ver")
        create(cls.fn, returning("v1"))
        cls.v1 = C.publish_version(FunctionName=cls.fn)["Version"]
        C.update_function_code(FunctionName=cls.fn, ZipFile=returning("v2"))
        wait_updated(cls.fn)
        cls.v2 = C.publish_version(FunctionName=cls.fn, Description="second")["Version"]

    def test_versions_run_their_own_code(self):
        self.assertEqual((self.v1, self.v2), ("1", "2"))
        for qualifier, want in [("1", "v1"), ("2", "v2"), ("$LATEST", "v2")]:
            r, body = invoke(self.fn, Qualifier=qualifier)
            self.assertEqual(body, want)
            self.assertEqual(r["ExecutedVersion"], qualifier)
        r, body = invoke(arn(self.fn) + ":1")
        self.assertEqual((body, r["ExecutedVersion"]), ("v1", "1"))
        r, body = invoke(self.fn)
        self.assertEqual((body, r["ExecutedVersion"]), ("v2", "$LATEST"))

    def test_list_and_get_versions(self):
        vs = C.list_versions_by_function(FunctionName=self.fn)["Versions"]
        self.assertEqual([v["Version"] for v in vs], ["$LATEST", "1", "2"])
        self.assertEqual(vs[2]["Description"], "second")
        cfg = C.get_function_configuration(FunctionName=self.fn, Qualifier="1")
        self.assertEqual((cfg["Version"], cfg["FunctionArn"]), ("1", arn(self.fn) + ":1"))
        # Nothing changed since version 2: publishing again answers version 2.
        self.assertEqual(C.publish_version(FunctionName=self.fn)["Version"], "2")
        code, msg, status, _ = error_of(lambda: C.publish_version(FunctionName=self.fn, CodeSha256="nope"))
        self.assertEqual((code, status), ("InvalidParameterValueException", 400))
        self.assertIn("is different from current CodeSHA256 in $LATEST", msg)

    def test_alias_weighted_split_and_unknown_alias(self):
        C.create_alias(FunctionName=self.fn, Name="live", FunctionVersion="1",
                       RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}})
        seen = collections.Counter()
        for _ in range(120):
            r, body = invoke(self.fn, Qualifier="live")
            seen[r["ExecutedVersion"]] += 1
            self.assertEqual(body, "v" + r["ExecutedVersion"])
        self.assertGreater(seen["1"], 20, seen)
        self.assertGreater(seen["2"], 20, seen)
        code, msg, status, _ = error_of(lambda: C.invoke(FunctionName=self.fn, Qualifier="nope"))
        self.assertEqual((code, msg, status), ("ResourceNotFoundException", f"Function not found: {arn(self.fn)}:nope", 404))
        code, msg, _, _ = error_of(lambda: C.get_alias(FunctionName=self.fn, Name="nope"))
        self.assertEqual((code, msg), ("ResourceNotFoundException", f"Cannot find alias arn: {arn(self.fn)}:nope"))

    def test_tags_on_versions_are_refused(self):
        C.tag_resource(Resource=arn(self.fn), Tags={"team": "lamb"})
        self.assertEqual(C.list_tags(Resource=arn(self.fn))["Tags"], {"team": "lamb"})
        code, msg, status, _ = error_of(lambda: C.tag_resource(Resource=arn(self.fn) + ":1", Tags={"a": "b"}))
        self.assertEqual((code, msg, status), ("InvalidParameterValueException",
                                               "Tags on function aliases and versions are not supported. Please specify a function ARN.", 400))

    def test_stale_revision_id(self):
        rev = C.get_function(FunctionName=self.fn)["Configuration"]["RevisionId"]
        C.update_function_configuration(FunctionName=self.fn, Description="changed", RevisionId=rev)
        wait_updated(self.fn)
        code, msg, status, _ = error_of(lambda: C.update_function_configuration(FunctionName=self.fn, Description="again", RevisionId=rev))
        self.assertEqual((code, status), ("PreconditionFailedException", 412))
        code, _, status, _ = error_of(lambda: C.publish_version(FunctionName=self.fn, RevisionId=rev))
        self.assertEqual((code, status), ("PreconditionFailedException", 412))


class Policies(unittest.TestCase):
    def test_add_get_remove(self):
        fn = name("pol")
        create(fn, returning("x"))
        st = json.loads(C.add_permission(FunctionName=fn, StatementId="s3", Action="lambda:InvokeFunction",
                                         Principal="s3.amazonaws.com", SourceArn="arn:aws:s3:::bucket",
                                         SourceAccount=ACCOUNT)["Statement"])
        want = {"Sid": "s3", "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
                "Action": "lambda:InvokeFunction", "Resource": arn(fn),
                "Condition": {"StringEquals": {"AWS:SourceAccount": ACCOUNT}, "ArnLike": {"AWS:SourceArn": "arn:aws:s3:::bucket"}}}
        self.assertEqual(st, want)
        pol = C.get_policy(FunctionName=fn)
        self.assertEqual(json.loads(pol["Policy"]), {"Version": "2012-10-17", "Id": "default", "Statement": [want]})
        self.assertTrue(pol["RevisionId"])
        C.remove_permission(FunctionName=fn, StatementId="s3")
        code, msg, status, _ = error_of(lambda: C.get_policy(FunctionName=fn))
        self.assertEqual((code, msg, status), ("ResourceNotFoundException", "The resource you requested does not exist.", 404))
        code, msg, _, _ = error_of(lambda: C.remove_permission(FunctionName=fn, StatementId="s3"))
        self.assertEqual((code, msg), ("ResourceNotFoundException", "No policy is associated with the given resource."))


class Concurrency(unittest.TestCase):
    def test_reserved_zero_throttles(self):
        fn = name("rc")
        create(fn, returning("x"))
        C.put_function_concurrency(FunctionName=fn, ReservedConcurrentExecutions=0)
        code, _, status, resp = error_of(lambda: C.invoke(FunctionName=fn, Payload=b"{}"))
        self.assertEqual((code, status), ("TooManyRequestsException", 429))
        self.assertEqual(resp.get("Reason"), "ReservedFunctionConcurrentInvocationLimitExceeded")
        C.delete_function_concurrency(FunctionName=fn)
        self.assertEqual(invoke(fn)[1], "x")

    def test_provisioned_on_alias_prestarts(self):
        fn = name("pc")
        create(fn, returning("warm"))
        C.publish_version(FunctionName=fn)
        C.create_alias(FunctionName=fn, Name="prod", FunctionVersion="1")
        r = C.put_provisioned_concurrency_config(FunctionName=fn, Qualifier="prod", ProvisionedConcurrentExecutions=2)
        self.assertEqual((r["Status"], r["RequestedProvisionedConcurrentExecutions"]), ("IN_PROGRESS", 2))
        got = wait_for("READY", lambda: (lambda g: g if g["Status"] == "READY" else None)(
            C.get_provisioned_concurrency_config(FunctionName=fn, Qualifier="prod")))
        self.assertEqual((got["AvailableProvisionedConcurrentExecutions"], got["AllocatedProvisionedConcurrentExecutions"]), (2, 2))
        with urllib.request.urlopen(ENDPOINT + "/_lamb/instances") as resp:
            rows = json.load(resp)
        mine = [i for i in rows if i["function"] == fn and i["version"] == "1"]
        self.assertEqual(len(mine), 2, rows)  # up before any call
        r, body = invoke(fn, Qualifier="prod")
        self.assertEqual((body, r["ExecutedVersion"]), ("warm", "1"))
        listed = C.list_provisioned_concurrency_configs(FunctionName=fn)["ProvisionedConcurrencyConfigs"]
        self.assertEqual([c["FunctionArn"] for c in listed], [arn(fn) + ":prod"])
        C.delete_provisioned_concurrency_config(FunctionName=fn, Qualifier="prod")
        code, _, status, _ = error_of(lambda: C.get_provisioned_concurrency_config(FunctionName=fn, Qualifier="prod"))
        self.assertEqual((code, status), ("ProvisionedConcurrencyConfigNotFoundException", 404))

    def test_account_settings(self):
        before = C.get_account_settings()
        self.assertEqual(before["AccountLimit"]["ConcurrentExecutions"], 1000)
        fn = name("acct")
        code = returning("x")
        create(fn, code)
        C.put_function_concurrency(FunctionName=fn, ReservedConcurrentExecutions=5)
        after = C.get_account_settings()
        self.assertEqual(after["AccountUsage"]["FunctionCount"], before["AccountUsage"]["FunctionCount"] + 1)
        self.assertEqual(after["AccountUsage"]["TotalCodeSize"], before["AccountUsage"]["TotalCodeSize"] + len(code))
        self.assertEqual(after["AccountLimit"]["UnreservedConcurrentExecutions"],
                         before["AccountLimit"]["UnreservedConcurrentExecutions"] - 5)
        C.delete_function(FunctionName=fn)


class EventInvokeConfig(unittest.TestCase):
    def test_crud_and_errors(self):
        fn = name("eic")
        create(fn, returning("x"))
        code, msg, _, _ = error_of(lambda: C.get_function_event_invoke_config(FunctionName=fn))
        self.assertEqual((code, msg), ("ResourceNotFoundException", f"The function {arn(fn)}:$LATEST doesn't have an EventInvokeConfig"))
        r = C.put_function_event_invoke_config(FunctionName=fn, MaximumRetryAttempts=1)
        self.assertEqual((r["FunctionArn"], r["MaximumRetryAttempts"]), (arn(fn) + ":$LATEST", 1))
        r = C.update_function_event_invoke_config(FunctionName=fn, MaximumEventAgeInSeconds=120)
        self.assertEqual((r["MaximumRetryAttempts"], r["MaximumEventAgeInSeconds"]), (1, 120))
        self.assertEqual(len(C.list_function_event_invoke_configs(FunctionName=fn)["FunctionEventInvokeConfigs"]), 1)
        code, msg, _, _ = error_of(lambda: C.put_function_event_invoke_config(FunctionName=fn, DestinationConfig={"OnSuccess": {"Destination": arn(fn)}}))
        self.assertEqual((code, msg), ("InvalidParameterValueException", "You can't specify the function as a destination for itself."))
        code, msg, _, _ = error_of(lambda: C.put_function_event_invoke_config(FunctionName="doesnotexist", MaximumRetryAttempts=1))
        self.assertEqual((code, msg), ("ResourceNotFoundException", "The function doesn't exist."))
        code, _, _, _ = error_of(lambda: C.put_function_event_invoke_config(FunctionName=fn, MaximumRetryAttempts=5))
        self.assertEqual(code, "ValidationException")
        C.delete_function_event_invoke_config(FunctionName=fn)
        self.assertEqual(C.list_function_event_invoke_configs(FunctionName=fn)["FunctionEventInvokeConfigs"], [])

    def test_failure_destination_gets_record_after_retries(self):
        out = tempfile.mkdtemp()
        attempts, record = os.path.join(out, "attempts"), os.path.join(out, "record.json")
        failing, sink = name("failing"), name("sink")
        create(failing, make_zip(
            "import os\n"
            "def handler(event, context):\n"
            "    with open(os.environ['ATTEMPTS'], 'a') as f:\n"
            "        f.write('x')\n"
            "    raise RuntimeError('boom')\n"), Environment={"Variables": {"ATTEMPTS": attempts}})
        create(sink, make_zip(
            "import json, os\n"
            "def handler(event, context):\n"
            "    with open(os.environ['RECORD'] + '.tmp', 'w') as f:\n"
            "        json.dump(event, f)\n"
            "    os.rename(os.environ['RECORD'] + '.tmp', os.environ['RECORD'])\n"), Environment={"Variables": {"RECORD": record}})
        C.put_function_event_invoke_config(FunctionName=failing, MaximumRetryAttempts=1,
                                           DestinationConfig={"OnFailure": {"Destination": arn(sink)}})
        r = C.invoke(FunctionName=failing, InvocationType="Event", Payload=b'{"order": 7}')
        self.assertEqual(r["StatusCode"], 202)
        wait_for("destination record", lambda: os.path.exists(record))
        with open(record) as f:
            rec = json.load(f)
        with open(attempts) as f:
            self.assertEqual(f.read(), "xx")  # the call and MaximumRetryAttempts=1 retry
        self.assertEqual(rec["version"], "1.0")
        self.assertEqual(rec["requestContext"]["condition"], "RetriesExhausted")
        self.assertEqual(rec["requestContext"]["approximateInvokeCount"], 2)
        self.assertEqual(rec["requestContext"]["functionArn"], arn(failing) + ":$LATEST")
        self.assertEqual(rec["requestPayload"], {"order": 7})
        self.assertEqual(rec["responseContext"], {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"})
        self.assertEqual(rec["responsePayload"]["errorMessage"], "boom")


if __name__ == "__main__":
    unittest.main(verbosity=2)
