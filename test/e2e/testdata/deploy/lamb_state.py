"""Reads what lamb deploy made, with boto3, as a user's script would.

Usage: lamb_state.py NAME[:QUALIFIER] ...  (LAMB_ENDPOINT names the server)
Prints one JSON object: each function's invocation result and CodeSha256,
and the account's functions, layers and event source mappings.
"""
import json
import os
import sys

import boto3

lam = boto3.client(
    "lambda",
    endpoint_url=os.environ["LAMB_ENDPOINT"],
    region_name="us-east-1",
    aws_access_key_id="test",
    aws_secret_access_key="test",
)

out = {"invoke": {}, "sha": {}}
for arg in sys.argv[1:]:
    name, _, qualifier = arg.partition(":")
    kw = {"FunctionName": name}
    if qualifier:
        kw["Qualifier"] = qualifier
    resp = lam.invoke(**kw)
    out["invoke"][arg] = json.loads(resp["Payload"].read())
    out["sha"][name] = lam.get_function(FunctionName=name)["Configuration"]["CodeSha256"]
out["functions"] = sorted(f["FunctionName"] for f in lam.list_functions()["Functions"])
out["layers"] = sorted(l["LayerName"] for l in lam.list_layers()["Layers"])
out["mappings"] = [
    {"function": m["FunctionArn"], "source": m["EventSourceArn"], "batch": m.get("BatchSize")}
    for m in lam.list_event_source_mappings()["EventSourceMappings"]
]
print(json.dumps(out))
