"""boto3 against a running lamb (LAMB_ENDPOINT): the steps of the Kubernetes e2e test.

  boto3_pods.py create NAME ZIP      create a python3.12 function from ZIP, print {}
  boto3_pods.py invoke NAME          one call, which lists functions through AWS_ENDPOINT_URL;
                                     print {"pod":..., "files":[...], "endpoint":..., "names":[...], "ms":...}
  boto3_pods.py concurrent NAME N S  N calls at once, each sleeping S seconds; print [{"pod":...}, ...]
  boto3_pods.py warm NAME N          N sequential calls; print {"p50_ms":..., "p90_ms":..., "pods":[...]}
"""
import concurrent.futures
import json
import os
import sys
import time

import boto3
import botocore.config

C = boto3.client(
    "lambda", endpoint_url=os.environ["LAMB_ENDPOINT"], region_name="us-east-1",
    aws_access_key_id="test", aws_secret_access_key="x",
    config=botocore.config.Config(retries={"max_attempts": 1}, read_timeout=300, max_pool_connections=20),
)


def invoke(name, event):
    t0 = time.monotonic()
    r = C.invoke(FunctionName=name, Payload=json.dumps(event).encode())
    ms = (time.monotonic() - t0) * 1000
    body = json.loads(r["Payload"].read())
    if r.get("FunctionError"):
        raise SystemExit(f"function error: {body}")
    body["ms"] = ms
    return body


def main():
    cmd, name = sys.argv[1], sys.argv[2]
    if cmd == "create":
        with open(sys.argv[3], "rb") as f:
            C.create_function(FunctionName=name, Runtime="python3.12", Handler="app.handler",
                              Role="arn:aws:iam::000000000000:role/r", Code={"ZipFile": f.read()},
                              Timeout=60, MemorySize=128)
        C.get_waiter("function_active_v2").wait(FunctionName=name)
        out = {}
    elif cmd == "invoke":
        out = invoke(name, {"list": True})
    elif cmd == "concurrent":
        n, s = int(sys.argv[3]), float(sys.argv[4])
        with concurrent.futures.ThreadPoolExecutor(n) as ex:
            out = list(ex.map(lambda _: invoke(name, {"sleep": s}), range(n)))
    elif cmd == "warm":
        res = [invoke(name, {}) for _ in range(int(sys.argv[3]))]
        ms = sorted(r["ms"] for r in res)
        out = {"p50_ms": ms[len(ms) // 2], "p90_ms": ms[len(ms) * 9 // 10], "pods": sorted({r["pod"] for r in res})}
    else:
        raise SystemExit(f"unknown command {cmd}")
    print(json.dumps(out))


main()
