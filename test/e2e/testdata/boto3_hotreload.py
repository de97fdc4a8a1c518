"""Hot reload with boto3 against a running lamb (LAMB_ENDPOINT), as a user of
LocalStack's convention would: code given as S3Bucket "hot-reload" and an S3Key
that is a folder (under HOT_DIR, which lamb's functions can read).

    python3 boto3_hotreload.py
"""
import json
import os
import shutil
import unittest
import uuid

from lambtest import lambda_client

HOT_DIR = os.environ["HOT_DIR"]
ROLE = "arn:aws:iam::000000000000:role/lambda-role"
C = lambda_client(read_timeout=120)

PY = {
    "handler.py": "import helper\n\ndef handler(event, context):\n    return {'v': helper.V, 'lang': 'python'}\n",
    "helper.py": "V = 'v1'\n",
}
NODE = {
    "index.js": "const h = require('./lib/helper');\nexports.handler = async () => ({ v: h.V, lang: 'node' });\n",
    "lib/helper.js": "exports.V = 'v1';\n",
}


def save(folder, files):
    """Writes files as an editor saving several at once would."""
    for name, body in files.items():
        path = os.path.join(folder, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(body)


def invoke(name):
    r = C.invoke(FunctionName=name, Payload=b"{}")
    return json.loads(r["Payload"].read()), r.get("FunctionError")


def wait_active(name):
    C.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})


class HotReload(unittest.TestCase):
    def check(self, runtime, handler, files, helper, edit):
        name = "hot-" + uuid.uuid4().hex[:8]
        folder = os.path.join(HOT_DIR, name)
        os.makedirs(folder)
        save(folder, files)
        C.create_function(FunctionName=name, Runtime=runtime, Role=ROLE, Handler=handler, Timeout=30,
                          Code={"S3Bucket": "hot-reload", "S3Key": folder})
        wait_active(name)

        # GetFunction answers what LocalStack answers for such code.
        got = C.get_function(FunctionName=name)
        self.assertEqual(got["Code"], {"RepositoryType": "S3", "Location": "Code location: " + folder})
        self.assertEqual(got["Configuration"]["CodeSha256"], "hot-reloading-hash-not-available")
        self.assertEqual(got["Configuration"]["CodeSize"], 0)

        payload, err = invoke(name)
        self.assertIsNone(err, payload)
        self.assertEqual(payload["v"], "v1")
        for v in ("v2", "v3"):
            # A save, then the very next invoke runs the saved code.
            save(folder, {helper: edit(v)})
            payload, err = invoke(name)
            self.assertIsNone(err, payload)
            self.assertEqual(payload["v"], v, "the invoke right after the save")

        # A new subdirectory with a new module is watched too.
        sub = {"python": ("pkg/__init__.py", "pkg/mod.py"), "node": ("pkg/index.js", "pkg/mod.js")}[payload["lang"]]
        if payload["lang"] == "python":
            save(folder, {sub[0]: "", sub[1]: "V = 'sub'\n", helper: "from pkg.mod import V\n"})
        else:
            save(folder, {sub[1]: "exports.V = 'sub';\n", helper: "exports.V = require('../pkg/mod').V;\n"})
        payload, err = invoke(name)
        self.assertEqual(payload.get("v"), "sub", payload)
        save(folder, {sub[1]: edit("sub2")})
        payload, err = invoke(name)
        self.assertEqual(payload.get("v"), "sub2", payload)

        # The folder goes: a clear function error, and lamb keeps serving.
        shutil.rmtree(folder)
        payload, err = invoke(name)
        self.assertEqual(err, "Unhandled", payload)
        self.assertEqual(payload["errorType"], "Runtime.HotReloadFolderMissing", payload)
        self.assertIn(folder, payload["errorMessage"])
        self.assertIn(name, [f["FunctionName"] for f in C.list_functions()["Functions"]])
        # It comes back: the function runs it.
        os.makedirs(folder)
        save(folder, files)
        payload, err = invoke(name)
        self.assertIsNone(err, payload)
        self.assertEqual(payload["v"], "v1")

        # UpdateFunctionCode to another folder, the same way.
        other = folder + "-b"
        os.makedirs(other)
        save(other, files)
        save(other, {helper: edit("moved")})
        C.update_function_code(FunctionName=name, S3Bucket="hot-reload", S3Key=other)
        C.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
        payload, err = invoke(name)
        self.assertEqual(payload.get("v"), "moved", payload)
        C.delete_function(FunctionName=name)

    def test_python(self):
        self.check("python3.12", "handler.handler", PY, "helper.py", lambda v: "V = '%s'\n" % v)

    def test_node(self):
        self.check("nodejs22.x", "index.handler", NODE, "lib/helper.js", lambda v: "exports.V = '%s';\n" % v)

    def test_layer(self):
        # PublishLayerVersion with a folder: functions using it see a save too.
        name = "hot-layer-" + uuid.uuid4().hex[:8]
        folder = os.path.join(HOT_DIR, name)
        os.makedirs(folder)
        save(folder, {"python/layermod.py": "V = 'l1'\n"})
        lv = C.publish_layer_version(LayerName=name, Content={"S3Bucket": "hot-reload", "S3Key": folder})
        self.assertEqual(lv["Content"]["Location"], "Code location: " + folder)
        self.assertEqual(lv["Content"]["CodeSha256"], "hot-reloading-hash-not-available")
        self.assertEqual(C.get_layer_version(LayerName=name, VersionNumber=lv["Version"])["Content"]["Location"],
                         "Code location: " + folder)
        from lambtest import make_zip
        C.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="handler.handler", Timeout=30,
                          Layers=[lv["LayerVersionArn"]],
                          Code={"ZipFile": make_zip({"handler.py": "import layermod\n\ndef handler(e, c):\n    return {'v': layermod.V}\n"})})
        wait_active(name)
        payload, err = invoke(name)
        self.assertEqual(payload.get("v"), "l1", payload)
        save(folder, {"python/layermod.py": "V = 'l2'\n"})
        payload, err = invoke(name)
        self.assertEqual(payload.get("v"), "l2", payload)
        C.delete_function(FunctionName=name)

    def test_refused(self):
        with self.assertRaises(C.exceptions.InvalidParameterValueException) as cm:
            C.create_function(FunctionName="hot-rel", Runtime="python3.12", Role=ROLE, Handler="h.h",
                              Code={"S3Bucket": "hot-reload", "S3Key": "relative/dir"})
        self.assertIn("absolute path", str(cm.exception))
        with self.assertRaises(C.exceptions.InvalidParameterValueException) as cm:
            C.create_function(FunctionName="hot-missing", Runtime="python3.12", Role=ROLE, Handler="h.h",
                              Code={"S3Bucket": "hot-reload", "S3Key": os.path.join(HOT_DIR, "nope")})
        self.assertIn("does not exist", str(cm.exception))


if __name__ == "__main__":
    unittest.main(verbosity=2)
