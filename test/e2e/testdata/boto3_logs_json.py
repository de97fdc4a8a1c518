"""A function with LoggingConfig LogFormat JSON, created, invoked and read back
with boto3 against lamb: the platform's lines are JSON records as AWS writes
them to CloudWatch (platform.initStart, platform.start, platform.report; no
START/END/REPORT text), the function's own logging lines are JSON records with
its request id, and SystemLogLevel filters the platform's records.

Shapes as in the Telemetry API schema
(docs.aws.amazon.com/lambda/latest/dg/telemetry-schema-reference.html) and in
CloudWatch captures of JSON-format functions:
  {"time":"2025-01-07T19:49:07.595Z","type":"platform.start",
   "record":{"requestId":"06e8554f-…","version":"$LATEST"}}
  {"time":"2025-01-07T19:49:07.924Z","type":"platform.report",
   "record":{"requestId":"06e8554f-…","metrics":{"durationMs":329.177,"billedDurationMs":330,
   "memorySizeMB":1792,"maxMemoryUsedMB":125,"initDurationMs":503.083},"status":"success"}}
Log levels: "By default, Lambda sets the system log level to INFO. With this
setting, Lambda automatically sends start and report log messages"
(docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-log-level.html).

LAMB_FUNCTION names the function to create; its lines are left for the Go test
to read through `lamb logs`."""
import io
import json
import os
import re
import time
import unittest
import zipfile

import boto3
import botocore.config

ENDPOINT = os.environ["LAMB_ENDPOINT"]
FUNCTION = os.environ["LAMB_FUNCTION"]
GROUP = "/aws/lambda/" + FUNCTION
CFG = botocore.config.Config(retries={"max_attempts": 1})

HANDLER = '''import logging
logger = logging.getLogger()
def handler(event, context):
    logger.info("hello %s", event["who"])
    logger.debug("not at INFO")
    if event.get("fail"):
        raise ValueError("boom")
    return {"who": event["who"]}
'''

TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def client(name):
    return boto3.client(name, endpoint_url=ENDPOINT, region_name="us-east-1", config=CFG)


def code():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", HANDLER)
    return buf.getvalue()


def records(pattern, since):
    """The JSON records in the function's group that the filter pattern
    selects, parsed, oldest first (events can take a moment to be written
    after Invoke answers, as in CloudWatch: ask for a few seconds)."""
    logs = client("logs")
    out = []
    for _ in range(50):
        pages = logs.get_paginator("filter_log_events").paginate(
            logGroupName=GROUP, filterPattern=pattern, startTime=since)
        out = [json.loads(e["message"]) for p in pages for e in p["events"]]
        if out:
            return out
        time.sleep(0.1)
    return out


class JSONLogFormat(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        lam = client("lambda")
        lam.create_function(
            FunctionName=FUNCTION, Runtime="python3.12", Role="arn:aws:iam::000000000000:role/lambda-role",
            Handler="app.handler", Code={"ZipFile": code()}, MemorySize=256,
            LoggingConfig={"LogFormat": "JSON", "ApplicationLogLevel": "INFO", "SystemLogLevel": "INFO"})
        lam.get_waiter("function_active_v2").wait(FunctionName=FUNCTION)
        cls.since = int(time.time() * 1000) - 1000
        cls.ids = []
        for who in ("cold", "warm"):
            r = lam.invoke(FunctionName=FUNCTION, Payload=json.dumps({"who": who}))
            assert "FunctionError" not in r, r
            cls.ids.append(r["ResponseMetadata"]["RequestId"])
        r = lam.invoke(FunctionName=FUNCTION, Payload=json.dumps({"who": "failing", "fail": True}))
        assert r.get("FunctionError") == "Unhandled", r
        cls.ids.append(r["ResponseMetadata"]["RequestId"])

    def test_reports(self):
        reps = records('{ $.type = "platform.report" }', self.since)
        self.assertEqual([r["record"]["requestId"] for r in reps], self.ids)
        for i, r in enumerate(reps):
            self.assertEqual(list(r), ["time", "type", "record"])
            self.assertRegex(r["time"], TIME)
            m = r["record"]["metrics"]
            want = ["durationMs", "billedDurationMs", "memorySizeMB", "maxMemoryUsedMB"] + (["initDurationMs"] if i == 0 else [])
            self.assertEqual(list(m), want, r)
            self.assertEqual(m["memorySizeMB"], 256)
            self.assertIsInstance(m["billedDurationMs"], int)
            self.assertGreaterEqual(m["billedDurationMs"], m["durationMs"] + m.get("initDurationMs", 0))
            self.assertGreater(m["maxMemoryUsedMB"], 0)
        self.assertEqual([r["record"]["status"] for r in reps], ["success", "success", "error"])
        self.assertEqual(reps[2]["record"].get("errorType"), "ValueError")
        self.assertNotIn("errorType", reps[0]["record"])

    def test_start_and_init_start(self):
        starts = records('{ $.type = "platform.start" }', self.since)
        self.assertEqual([s["record"] for s in starts], [{"requestId": i, "version": "$LATEST"} for i in self.ids])
        inits = records('{ $.type = "platform.initStart" }', self.since)
        self.assertEqual(len(inits), 1, inits)
        rec = inits[0]["record"]
        self.assertEqual((rec["initializationType"], rec["phase"], rec["functionName"], rec["functionVersion"]),
                         ("on-demand", "init", FUNCTION, "$LATEST"))

    def test_no_text_platform_lines(self):
        resp = client("logs").filter_log_events(logGroupName=GROUP, filterPattern='?"START RequestId" ?"END RequestId" ?"REPORT RequestId"')
        self.assertEqual(resp["events"], [])
        # platform.runtimeDone is DEBUG: not at the INFO system level.
        resp = client("logs").filter_log_events(logGroupName=GROUP, filterPattern='{ $.type = "platform.runtimeDone" }')
        self.assertEqual(resp["events"], [])

    def test_function_lines(self):
        lines = records('{ $.message = "hello *" }', self.since)
        self.assertEqual([(l["level"], l["message"], l["requestId"]) for l in lines],
                         [("INFO", "hello cold", self.ids[0]), ("INFO", "hello warm", self.ids[1]),
                          ("INFO", "hello failing", self.ids[2])])
        self.assertRegex(lines[0]["timestamp"], TIME)
        # ApplicationLogLevel INFO drops the handler's debug line.
        self.assertEqual(client("logs").filter_log_events(logGroupName=GROUP, filterPattern='"not at INFO"')["events"], [])

    def test_system_log_level(self):
        lam = client("lambda")
        for level, want in (("WARN", []), ("DEBUG", ["platform.start", "platform.runtimeDone", "platform.report"])):
            lam.update_function_configuration(FunctionName=FUNCTION, LoggingConfig={"LogFormat": "JSON", "SystemLogLevel": level})
            lam.get_waiter("function_updated_v2").wait(FunctionName=FUNCTION)
            r = lam.invoke(FunctionName=FUNCTION, Payload=json.dumps({"who": level}))
            rid = r["ResponseMetadata"]["RequestId"]
            got = []
            for _ in range(30):  # the function's own line is last to arrive when no report follows
                got = records('{ $.record.requestId = "%s" || $.requestId = "%s" }' % (rid, rid), self.since)
                if len(got) >= len(want) + 1:
                    break
                time.sleep(0.1)
            types = [g.get("type") for g in got if "type" in g]
            self.assertEqual(types, want, (level, got))
            self.assertIn("hello " + level, [g.get("message") for g in got])


if __name__ == "__main__":
    unittest.main(verbosity=2)
