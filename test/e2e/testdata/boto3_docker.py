"""Container-backend checks with boto3 against a running lamb (LAMB_ENDPOINT)
whose backend is Docker or Podman (LAMB_EXPECT_BACKEND: docker or podman).

    python3 boto3_docker.py InvokeOnContainers   # every check of boto3_invoke.py
    python3 boto3_docker.py Container            # what only an isolated sandbox shows

InvokeOnContainers runs boto3_invoke.Invoke as it is, except for the one test
that reads a file the function wrote on the host's filesystem, which a
container cannot reach: there the Event invocation is observed through lamb's
log endpoint instead.
"""
import json
import os
import time
import unittest
import urllib.parse
import urllib.request
import uuid

import boto3_invoke
from boto3_invoke import C, ENDPOINT, create, invoke, make_zip

BACKEND = os.environ["LAMB_EXPECT_BACKEND"]


def lamb_get(path):
    with urllib.request.urlopen(ENDPOINT + path) as resp:
        return resp.read().decode()


class InvokeOnContainers(boto3_invoke.Invoke):
    def test_dryrun_and_event(self):
        r = C.invoke(FunctionName=self.fn, InvocationType="DryRun")
        self.assertEqual(r["StatusCode"], 204)
        self.assertEqual(r["Payload"].read(), b"")
        marker = "event-" + uuid.uuid4().hex
        r = C.invoke(FunctionName=self.fn, InvocationType="Event",
                     Payload=json.dumps({"marker": marker}).encode())
        self.assertEqual(r["StatusCode"], 202)
        self.assertEqual(r["Payload"].read(), b"")
        rid = r["ResponseMetadata"]["RequestId"]
        path = "/_lamb/functions/" + urllib.parse.quote(self.fn) + "/logs"
        deadline = time.time() + 30
        log = ""
        while time.time() < deadline:
            log = lamb_get(path)
            if marker in log and f"END RequestId: {rid}" in log:
                break
            time.sleep(0.05)
        self.assertIn(f"START RequestId: {rid}", log, "the Event invocation never ran")
        self.assertIn(marker, log)
        self.assertIn(f"END RequestId: {rid}", log)


SANDBOX = r'''
import errno, json, os, sys, urllib.request
def handler(event, context):
    action = event.get("action")
    if action == "where":
        try:
            with open("/var/task/new-file", "w") as f:
                f.write("x")
            write = "written"
        except OSError as e:
            write = errno.errorcode.get(e.errno, str(e.errno))
        return {"file": os.path.abspath(__file__), "cwd": os.getcwd(),
                "task_root": os.environ.get("LAMBDA_TASK_ROOT"),
                "listing": sorted(os.listdir("/var/task")), "write": write,
                "host_path_visible": os.path.exists(event["host_path"])}
    if action == "oom":
        hog = [b"\x01" * (10 << 20) for _ in range(event["mb"] // 10)]
        return len(hog)
    if action == "list-functions":
        url = os.environ["AWS_ENDPOINT_URL"].rstrip("/") + "/2015-03-31/functions/"
        with urllib.request.urlopen(url, timeout=10) as resp:
            names = [f["FunctionName"] for f in json.load(resp)["Functions"]]
        return {"endpoint": os.environ["AWS_ENDPOINT_URL"], "names": names}
    if action == "resolve":
        import socket
        return {"ip": socket.gethostbyname(event["name"])}
    return event
'''


class Container(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fn = "box-" + uuid.uuid4().hex[:8]
        create(cls.fn, {"handler.py": SANDBOX}, Timeout=30, MemorySize=128)

    def call(self, payload, fn=None):
        r, body = invoke(fn or self.fn, payload)
        self.assertNotIn("FunctionError", r, body)
        return json.loads(body)

    def test_code_in_var_task_read_only(self):
        out = self.call({"action": "where", "host_path": os.path.abspath(__file__)})
        self.assertEqual(out["file"], "/var/task/handler.py")
        self.assertEqual(out["cwd"], "/var/task")
        self.assertEqual(out["task_root"], "/var/task")
        # Only the zip's files; the docker backend's volume-fill marker
        # (.lamb-complete, docs/docker.md) is still visible, unlike on AWS.
        self.assertEqual([f for f in out["listing"] if f != ".lamb-complete"], ["handler.py"])
        self.assertEqual(out["write"], "EROFS")
        self.assertFalse(out["host_path_visible"], "the host's filesystem is visible in the sandbox")

    def test_layers_merged_in_order_under_opt(self):
        tag = uuid.uuid4().hex[:8]
        mod, only = f"shared_{tag}", f"first_{tag}"
        l1 = C.publish_layer_version(LayerName="l1-" + tag, Content={"ZipFile": make_zip({
            f"python/{mod}.py": "VALUE = 'one'\n", f"python/{only}.py": "VALUE = 'only in one'\n"})})
        l2 = C.publish_layer_version(LayerName="l2-" + tag, Content={"ZipFile": make_zip({
            f"python/{mod}.py": "VALUE = 'two'\n"})})
        fn = "layer-" + tag
        create(fn, {"handler.py": (
            f"import {mod}, {only}\n"
            "def handler(event, context):\n"
            f"    return {{'file': {mod}.__file__, 'value': {mod}.VALUE, 'only': {only}.VALUE}}\n")},
            Layers=[l1["LayerVersionArn"], l2["LayerVersionArn"]])
        out = self.call({}, fn)
        # A later layer overwrites an earlier one's files, as on AWS.
        self.assertEqual(out, {"file": f"/opt/python/{mod}.py", "value": "two", "only": "only in one"})

    def test_out_of_memory(self):
        fn = "oom-" + uuid.uuid4().hex[:8]
        create(fn, {"handler.py": SANDBOX}, Timeout=30, MemorySize=128)
        r, body = invoke(fn, {"action": "oom", "mb": 400})
        self.assertEqual(r.get("FunctionError"), "Unhandled", body)
        err = json.loads(body)
        self.assertEqual(err["errorType"], "Runtime.OutOfMemory", err)
        # The next call gets a fresh sandbox.
        self.assertEqual(self.call({"after": "oom"}, fn), {"after": "oom"})

    def test_lists_functions_through_aws_endpoint_url(self):
        # The very first container of a fresh function reaches lamb: the
        # agent serves the API on the sandbox's own loopback and tunnels it
        # to lamb, so no address of the host has to exist or be reachable.
        fn = "first-" + uuid.uuid4().hex[:8]
        create(fn, {"handler.py": SANDBOX}, Timeout=30, MemorySize=128)
        out = self.call({"action": "list-functions"}, fn)
        self.assertIn(fn, out["names"], out)
        self.assertEqual(out["endpoint"], "http://127.0.0.1:3001")

    def test_host_alias_resolves(self):
        alias = "host.containers.internal" if BACKEND == "podman" else "host.docker.internal"
        out = self.call({"action": "resolve", "name": alias})
        self.assertRegex(out["ip"], r"^\d+\.\d+\.\d+\.\d+$", out)

    def test_instances_report_backend(self):
        self.call({"warm": True})
        health = json.loads(lamb_get("/_lamb/health"))
        self.assertEqual(health["backend"], BACKEND)
        rows = [r for r in json.loads(lamb_get("/_lamb/instances")) if r["function"] == self.fn]
        self.assertTrue(rows, "no warm instance listed")
        for row in rows:
            self.assertEqual(row["backend"], BACKEND, row)


if __name__ == "__main__":
    unittest.main(verbosity=2)
