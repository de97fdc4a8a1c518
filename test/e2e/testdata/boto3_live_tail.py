"""boto3's start_live_tail against lamb: a session on /aws/lambda/NAME gets
the initial sessionStart, then the lines of an invocation made after it began
in a sessionUpdate, and ends when the client closes the stream.

botocore sends StartLiveTail to the host "stream-" + the endpoint's host (the
model's hostPrefix), which 127.0.0.1 does not resolve: a client pointed at
lamb turns host-prefix injection off (Config(inject_host_prefix=False), or
AWS_DISABLE_HOST_PREFIX_INJECTION=true)."""
import json
import os
import threading
import time
import unittest

import boto3
import botocore.config

ENDPOINT = os.environ["LAMB_ENDPOINT"]
FUNCTION = os.environ["LAMB_FUNCTION"]
GROUP = "/aws/lambda/" + FUNCTION


def client(name, **cfg):
    return boto3.client(name, endpoint_url=ENDPOINT, region_name="us-east-1",
                        config=botocore.config.Config(retries={"max_attempts": 1}, **cfg))


class LiveTail(unittest.TestCase):
    def test_host_prefix(self):
        # As botocore builds it by default: the host prefix makes the URL unusable.
        req = []
        logs = client("logs")
        logs.meta.events.register("before-send.logs.StartLiveTail", lambda request, **kw: req.append(request.url) or _Stop())
        with self.assertRaises(_Stopped):
            logs.start_live_tail(logGroupIdentifiers=[GROUP])
        self.assertTrue(req[0].startswith("http://stream-127.0.0.1:"), req)

    def test_tail(self):
        logs = client("logs", inject_host_prefix=False)
        arn = "arn:aws:logs:us-east-1:000000000000:log-group:" + GROUP
        resp = logs.start_live_tail(logGroupIdentifiers=[arn], logEventFilterPattern='?hello ?REPORT')
        stream = resp["responseStream"]
        events = iter(stream)
        first = next(events)
        self.assertEqual(list(first), ["sessionStart"])
        self.assertEqual(first["sessionStart"]["logGroupIdentifiers"], [arn])
        self.assertEqual(first["sessionStart"]["logEventFilterPattern"], "?hello ?REPORT")
        self.assertTrue(first["sessionStart"]["sessionId"])

        # Invoke once the session runs: only lines from then on arrive.
        rid = []
        t = threading.Thread(target=lambda: rid.append(client("lambda").invoke(
            FunctionName=FUNCTION, Payload=json.dumps({"who": "tailed"}))["ResponseMetadata"]["RequestId"]))
        t.start()
        got, deadline = [], time.time() + 20
        for ev in events:
            self.assertIn("sessionUpdate", ev, ev)
            self.assertEqual(ev["sessionUpdate"]["sessionMetadata"], {"sampled": False})
            got += ev["sessionUpdate"]["sessionResults"]
            if any(r["message"].startswith("REPORT") for r in got) or time.time() > deadline:
                break
        stream.close()
        t.join()
        self.assertEqual([r["message"] for r in got][0], "hello tailed", got)
        self.assertTrue(got[1]["message"].startswith("REPORT RequestId: " + rid[0]), got)
        self.assertEqual(len(got), 2, got)  # START and END do not pass the filter
        for r in got:
            self.assertEqual(r["logGroupIdentifier"], arn)
            self.assertRegex(r["logStreamName"], r"^\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}$")
            self.assertIsInstance(r["timestamp"], int)
            self.assertIsInstance(r["ingestionTime"], int)

    def test_missing_group(self):
        logs = client("logs", inject_host_prefix=False)
        with self.assertRaises(logs.exceptions.ResourceNotFoundException):
            logs.start_live_tail(logGroupIdentifiers=["/aws/lambda/nope"])


class _Stopped(Exception):
    pass


def _Stop():
    raise _Stopped()


if __name__ == "__main__":
    unittest.main(verbosity=2)
