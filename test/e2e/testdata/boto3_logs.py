"""boto3's CloudWatch Logs client against lamb: filter_log_events with filter
patterns (a phrase, a JSON selector) finds the lines a function logged.
LAMB_FUNCTION names the function, LAMB_MARK the word its last invocation
logged; the credentials come from the environment."""
import os
import unittest

import boto3
import botocore.config

ENDPOINT = os.environ["LAMB_ENDPOINT"]
FUNCTION = os.environ["LAMB_FUNCTION"]
MARK = os.environ["LAMB_MARK"]


def logs_client():
    return boto3.client(
        "logs", endpoint_url=ENDPOINT, region_name="us-east-1",
        config=botocore.config.Config(retries={"max_attempts": 1}),
    )


class FilterLogEvents(unittest.TestCase):
    def test_phrase(self):
        resp = logs_client().filter_log_events(
            logGroupName="/aws/lambda/" + FUNCTION, filterPattern='"hello ' + MARK + '"')
        self.assertEqual([e["message"] for e in resp["events"]], ["hello " + MARK])
        self.assertRegex(resp["events"][0]["logStreamName"], r"^\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}$")

    def test_json_selector(self):
        resp = logs_client().filter_log_events(
            logGroupName="/aws/lambda/" + FUNCTION, filterPattern='{ $.level = "ERROR" }')
        self.assertEqual(len(resp["events"]), 1, resp["events"])
        self.assertIn('"who": "failing"', resp["events"][0]["message"])

    def test_paginator(self):
        pages = logs_client().get_paginator("filter_log_events").paginate(
            logGroupName="/aws/lambda/" + FUNCTION, filterPattern="REPORT", PaginationConfig={"PageSize": 2})
        reports = [e for p in pages for e in p["events"]]
        self.assertGreaterEqual(len(reports), 4)
        self.assertTrue(all(e["message"].startswith("REPORT RequestId:") for e in reports))

    def test_missing_group(self):
        c = logs_client()
        with self.assertRaises(c.exceptions.ResourceNotFoundException):
            c.filter_log_events(logGroupName="/aws/lambda/nope")


if __name__ == "__main__":
    unittest.main(verbosity=2)
