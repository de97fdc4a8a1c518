"""Invoke checks with boto3 against a running lamb (LAMB_ENDPOINT) on any backend."""
import base64
import concurrent.futures
import json
import os
import tempfile
import time
import unittest
import urllib.request
import uuid

from botocore.exceptions import ClientError

from lambtest import ENDPOINT, lambda_client, make_zip

ROLE = "arn:aws:iam::000000000000:role/lambda-role"
C = lambda_client(read_timeout=120)

HANDLER = r'''
import json, os, sys, time
CALLS = 0
def handler(event, context):
    global CALLS
    CALLS += 1
    action = event.get("action") if isinstance(event, dict) else None
    print("handling", json.dumps(event, ensure_ascii=False))
    if action == "raise":
        raise ValueError("bad things: ünïcode")
    if action == "sleep":
        time.sleep(event["seconds"])
    if action == "exit":
        sys.exit(3)
    if action == "big":
        return "x" * (7 * 1024 * 1024)
    if action == "touch":
        with open(event["path"], "w") as f:
            f.write(context.aws_request_id)
    if action == "fail-marker":
        with open(event["path"], "a") as f:
            f.write(context.aws_request_id + "\n")
        raise RuntimeError("async failure")
    if action == "context":
        return {
            "aws_request_id": context.aws_request_id,
            "function_name": context.function_name,
            "function_version": context.function_version,
            "invoked_function_arn": context.invoked_function_arn,
            "memory_limit_in_mb": context.memory_limit_in_mb,
            "log_group_name": context.log_group_name,
            "log_stream_name": context.log_stream_name,
            "remaining": context.get_remaining_time_in_millis(),
            "env": dict(os.environ),
        }
    if action == "whoami":
        return {"pid": os.getpid(), "calls": CALLS}
    return event
'''


def create(name, files, runtime="python3.12", handler="handler.handler", **kw):
    C.create_function(FunctionName=name, Runtime=runtime, Role=ROLE, Handler=handler,
                      Code={"ZipFile": make_zip(files)}, **kw)
    C.get_waiter("function_active_v2").wait(FunctionName=name)


def invoke(name, payload, **kw):
    r = C.invoke(FunctionName=name, Payload=json.dumps(payload).encode(), **kw)
    body = r["Payload"].read()
    return r, body


class Invoke(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fn = "py-" + uuid.uuid4().hex[:8]
        create(cls.fn, {"handler.py": HANDLER}, Timeout=2, Environment={"Variables": {"MY_VAR": "my value"}})

    def test_echo_unicode_and_tail(self):
        event = {"msg": "héllo wörld ✓ 日本語", "n": [1, 2.5, None, True]}
        r, body = invoke(self.fn, event, LogType="Tail")
        self.assertEqual(r["StatusCode"], 200)
        self.assertNotIn("FunctionError", r)
        self.assertEqual(json.loads(body), event)
        self.assertEqual(r["ExecutedVersion"], "$LATEST")
        rid = r["ResponseMetadata"]["RequestId"]
        log = base64.b64decode(r["LogResult"]).decode()
        self.assertIn(f"START RequestId: {rid} Version: $LATEST", log)
        self.assertIn(f"END RequestId: {rid}", log)
        self.assertIn(f"REPORT RequestId: {rid}\tDuration: ", log)
        self.assertIn("handling", log)

    def test_context_and_env(self):
        r, body = invoke(self.fn, {"action": "context"})
        ctx = json.loads(body)
        rid = r["ResponseMetadata"]["RequestId"]
        self.assertEqual(ctx["aws_request_id"], rid)
        self.assertEqual(ctx["function_name"], self.fn)
        self.assertEqual(ctx["function_version"], "$LATEST")
        self.assertEqual(ctx["invoked_function_arn"], f"arn:aws:lambda:us-east-1:000000000000:function:{self.fn}")
        self.assertEqual(int(ctx["memory_limit_in_mb"]), 128)
        self.assertEqual(ctx["log_group_name"], f"/aws/lambda/{self.fn}")
        self.assertRegex(ctx["log_stream_name"], r"^\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}$")
        self.assertTrue(0 < ctx["remaining"] <= 2000, ctx["remaining"])
        env = ctx["env"]
        for k, v in {"AWS_LAMBDA_FUNCTION_NAME": self.fn, "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                     "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128", "AWS_REGION": "us-east-1",
                     "AWS_DEFAULT_REGION": "us-east-1", "_HANDLER": "handler.handler",
                     "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12", "MY_VAR": "my value",
                     "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{self.fn}", "TZ": ":UTC"}.items():
            self.assertEqual(env.get(k), v, k)
        for k in ("AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "AWS_ACCESS_KEY_ID",
                  "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_LAMBDA_LOG_STREAM_NAME"):
            self.assertTrue(env.get(k), k)

    def test_handler_exception(self):
        r, body = invoke(self.fn, {"action": "raise"})
        self.assertEqual(r["StatusCode"], 200)
        self.assertEqual(r["FunctionError"], "Unhandled")
        err = json.loads(body)
        self.assertEqual(err["errorType"], "ValueError")
        self.assertEqual(err["errorMessage"], "bad things: ünïcode")
        self.assertEqual(err["requestId"], r["ResponseMetadata"]["RequestId"])
        self.assertIsInstance(err["stackTrace"], list)

    def test_timeout_then_next_call_works(self):
        r, body = invoke(self.fn, {"action": "sleep", "seconds": 10}, LogType="Tail")
        self.assertEqual(r["FunctionError"], "Unhandled")
        err = json.loads(body)
        self.assertEqual(err["errorType"], "Sandbox.Timedout")
        self.assertIn("Task timed out after 2.00 seconds", err["errorMessage"])
        self.assertIn("Task timed out after 2.00 seconds", base64.b64decode(r["LogResult"]).decode())
        r, body = invoke(self.fn, {"ok": 1})
        self.assertEqual(json.loads(body), {"ok": 1})

    def test_exit_repeatably(self):
        for _ in range(3):
            r, body = invoke(self.fn, {"action": "exit"})
            self.assertEqual(r["FunctionError"], "Unhandled")
            err = json.loads(body)
            self.assertEqual(err["errorType"], "Runtime.ExitError")
            self.assertIn("Runtime exited with error: exit status 3", err["errorMessage"])
        self.assertEqual(json.loads(invoke(self.fn, {"after": "exit"})[1]), {"after": "exit"})

    def test_big_response(self):
        r, body = invoke(self.fn, {"action": "big"})
        self.assertEqual(r["FunctionError"], "Unhandled")
        self.assertEqual(json.loads(body)["errorType"], "Function.ResponseSizeTooLarge")

    def test_request_too_large(self):
        with self.assertRaises(ClientError) as ctx:
            C.invoke(FunctionName=self.fn, Payload=b'"' + b"x" * (6 * 1024 * 1024 + 10) + b'"')
        self.assertEqual(ctx.exception.response["ResponseMetadata"]["HTTPStatusCode"], 413)
        self.assertEqual(ctx.exception.response["Error"]["Code"], "RequestTooLargeException")

    def test_dryrun_and_event(self):
        r = C.invoke(FunctionName=self.fn, InvocationType="DryRun")
        self.assertEqual(r["StatusCode"], 204)
        self.assertEqual(r["Payload"].read(), b"")
        path = os.path.join(tempfile.gettempdir(), "lamb-event-" + uuid.uuid4().hex)
        r = C.invoke(FunctionName=self.fn, InvocationType="Event",
                     Payload=json.dumps({"action": "touch", "path": path}).encode())
        self.assertEqual(r["StatusCode"], 202)
        self.assertEqual(r["Payload"].read(), b"")
        deadline = time.time() + 30
        while not os.path.exists(path) and time.time() < deadline:
            time.sleep(0.05)
        self.assertTrue(os.path.exists(path), "the Event invocation never ran")
        with open(path) as f:
            self.assertEqual(f.read(), r["ResponseMetadata"]["RequestId"])
        os.remove(path)

    def test_warm_reuse(self):
        fn = "warm-" + uuid.uuid4().hex[:8]
        create(fn, {"handler.py": HANDLER})
        a = json.loads(invoke(fn, {"action": "whoami"})[1])
        b = json.loads(invoke(fn, {"action": "whoami"})[1])
        self.assertEqual(a["pid"], b["pid"])
        self.assertEqual(b["calls"], a["calls"] + 1)

    def test_concurrent_calls_get_own_instances(self):
        fn = "conc-" + uuid.uuid4().hex[:8]
        # What is measured is instances, not speed: a 1 s call on a loaded
        # 2-core machine running 4 Podman containers once took over 3 s (the
        # default timeout), so the timeout leaves room.
        create(fn, {"handler.py": HANDLER}, Timeout=15)
        with concurrent.futures.ThreadPoolExecutor(4) as ex:
            futs = [ex.submit(invoke, fn, {"action": "sleep", "seconds": 1.0}) for _ in range(4)]
            for f in futs:
                r, body = f.result()
                self.assertNotIn("FunctionError", r, body)
        # Each instance ran one call at a time: 4 overlapping calls needed 4 instances.
        with urllib.request.urlopen(ENDPOINT + "/_lamb/instances") as resp:
            rows = [r for r in json.load(resp) if r["function"] == fn]
        self.assertEqual(len(rows), 4, rows)
        self.assertEqual(len({r["id"] for r in rows}), 4, rows)

    def test_import_error(self):
        fn = "imp-" + uuid.uuid4().hex[:8]
        create(fn, {"handler.py": "raise ValueError('broken at import')\n"})
        for _ in range(2):
            r, body = invoke(fn, {})
            self.assertEqual(r["FunctionError"], "Unhandled")
            err = json.loads(body)
            self.assertEqual(err["errorType"], "ValueError", err)
            self.assertIn("broken at import", err["errorMessage"])
        fn2 = "mod-" + uuid.uuid4().hex[:8]
        create(fn2, {"other.py": "x = 1\n"})
        r, body = invoke(fn2, {})
        self.assertEqual(json.loads(body)["errorType"], "Runtime.ImportModuleError")

    def test_nodejs(self):
        fn = "node-" + uuid.uuid4().hex[:8]
        create(fn, {"index.mjs": "export const handler = async (event, context) => "
                                 "({echo: event, id: context.awsRequestId});\n"},
               runtime="nodejs22.x", handler="index.handler")
        r, body = invoke(fn, {"hi": "ünï"})
        out = json.loads(body)
        self.assertEqual(out, {"echo": {"hi": "ünï"}, "id": r["ResponseMetadata"]["RequestId"]})

    def test_unknown_function(self):
        with self.assertRaises(ClientError) as ctx:
            invoke("does-not-exist", {})
        self.assertEqual(ctx.exception.response["Error"]["Code"], "ResourceNotFoundException")


if __name__ == "__main__":
    unittest.main(verbosity=2)
