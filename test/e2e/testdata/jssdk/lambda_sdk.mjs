// @aws-sdk/client-lambda (AWS's JavaScript SDK v3) against lamb: the calls a
// Node.js project makes, its waiters and paginators, response streaming and
// the errors it turns into exception classes. Run by test/e2e/jssdk_test.go
// with NODE_PATH at the installed SDK; LAMB_ENDPOINT is lamb's URL,
// LAMB_ZIP a python function's zip (handler.handler: echoes its event, raises
// on {"fail": true}), LAMB_STREAM_ZIP a nodejs zip whose handler streams.
// With LAMB_SECRET set, lamb verifies signatures: LAMB_KEY/LAMB_SECRET are
// good credentials, and wrong ones must get AWS's 403s.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  LambdaClient, CreateFunctionCommand, GetFunctionCommand, InvokeCommand, DeleteFunctionCommand,
  UpdateFunctionConfigurationCommand, PublishVersionCommand, CreateAliasCommand, GetAliasCommand,
  ListTagsCommand, TagResourceCommand, InvokeWithResponseStreamCommand, ListFunctionsCommand,
  ResourceNotFoundException, InvalidParameterValueException, ResourceConflictException,
  waitUntilFunctionActiveV2, waitUntilFunctionUpdatedV2, waitUntilFunctionExists, waitUntilPublishedVersionActive,
  paginateListFunctions, paginateListVersionsByFunction, paginateListAliases,
} from "@aws-sdk/client-lambda";

const endpoint = process.env.LAMB_ENDPOINT;
const key = process.env.LAMB_KEY || "123456789012";
const secret = process.env.LAMB_SECRET || "x";
const client = (k = key, s = secret) => new LambdaClient({
  endpoint, region: "us-east-1", maxAttempts: 1,
  credentials: { accessKeyId: k, secretAccessKey: s },
});
const lambda = client();
const role = "arn:aws:iam::123456789012:role/lambda";
const zip = readFileSync(process.env.LAMB_ZIP);
const dec = new TextDecoder();
const wait = { client: lambda, maxWaitTime: 60, minDelay: 1, maxDelay: 1 };

async function rejects(promise, cls, status) {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof cls, `want ${cls.name}, got ${e.name}: ${e.message}`);
    assert.equal(e.$metadata.httpStatusCode, status);
    assert.ok(e.message.length > 0, "an exception without a message");
    return e;
  }
  assert.fail(`want ${cls.name}, got success`);
}

if (process.env.LAMB_SECRET) {
  // Signed requests with lamb's credentials work; others get AWS's 403s.
  const out = await lambda.send(new ListFunctionsCommand({}));
  assert.ok(Array.isArray(out.Functions));
  for (const [k, s, name] of [[key, "wrong-secret", "InvalidSignatureException"], ["AKIDUNKNOWN", secret, "UnrecognizedClientException"]]) {
    try {
      await client(k, s).send(new ListFunctionsCommand({}));
      assert.fail(`${k}/${s}: want ${name}`);
    } catch (e) {
      assert.equal(e.name, name, e.message);
      assert.equal(e.$metadata.httpStatusCode, 403);
    }
  }
  console.log("credentials: ok");
  process.exit(0);
}

const name = "js-sdk-fn";
const created = await lambda.send(new CreateFunctionCommand({
  FunctionName: name, Runtime: "python3.12", Role: role, Handler: "handler.handler",
  Code: { ZipFile: zip }, Tags: { team: "js" }, Environment: { Variables: { A: "1" } },
}));
assert.equal(created.FunctionName, name);
assert.match(created.FunctionArn, /^arn:aws:lambda:us-east-1:123456789012:function:js-sdk-fn$/);
assert.match(created.LastModified, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/);
await waitUntilFunctionExists(wait, { FunctionName: name });
const active = await waitUntilFunctionActiveV2(wait, { FunctionName: name });
assert.equal(active.state, "SUCCESS");
await rejects(lambda.send(new CreateFunctionCommand({
  FunctionName: name, Runtime: "python3.12", Role: role, Handler: "handler.handler", Code: { ZipFile: zip },
})), ResourceConflictException, 409);

// Invoke: the payload comes back as bytes, the log tail as base64.
const inv = await lambda.send(new InvokeCommand({ FunctionName: name, Payload: JSON.stringify({ hi: "js" }), LogType: "Tail" }));
assert.equal(inv.StatusCode, 200);
assert.equal(inv.FunctionError, undefined);
assert.deepEqual(JSON.parse(dec.decode(inv.Payload)), { hi: "js" });
assert.equal(inv.ExecutedVersion, "$LATEST");
assert.match(Buffer.from(inv.LogResult, "base64").toString(), /REPORT RequestId: /);
const failed = await lambda.send(new InvokeCommand({ FunctionName: name, Payload: '{"fail": true}' }));
assert.equal(failed.FunctionError, "Unhandled");
assert.equal(JSON.parse(dec.decode(failed.Payload)).errorType, "ValueError");
const ev = await lambda.send(new InvokeCommand({ FunctionName: name, InvocationType: "Event", Payload: "{}" }));
assert.equal(ev.StatusCode, 202);
const dry = await lambda.send(new InvokeCommand({ FunctionName: name, InvocationType: "DryRun" }));
assert.equal(dry.StatusCode, 204);

// Configuration updates, versions and aliases.
await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: name, MemorySize: 256, Description: "from js" }));
const updated = await waitUntilFunctionUpdatedV2(wait, { FunctionName: name });
assert.equal(updated.state, "SUCCESS");
const got = await lambda.send(new GetFunctionCommand({ FunctionName: name }));
assert.equal(got.Configuration.MemorySize, 256);
assert.equal(got.Configuration.Description, "from js");
assert.equal(got.Configuration.Environment.Variables.A, "1");
assert.deepEqual(got.Tags, { team: "js" });
assert.equal(got.Code.RepositoryType, "S3");
const v1 = await lambda.send(new PublishVersionCommand({ FunctionName: name }));
assert.equal(v1.Version, "1");
await waitUntilPublishedVersionActive(wait, { FunctionName: name, Qualifier: "1" });
await lambda.send(new CreateAliasCommand({ FunctionName: name, Name: "live", FunctionVersion: "1" }));
assert.equal((await lambda.send(new GetAliasCommand({ FunctionName: name, Name: "live" }))).FunctionVersion, "1");
const viaAlias = await lambda.send(new InvokeCommand({ FunctionName: name, Qualifier: "live", Payload: "{}" }));
assert.equal(viaAlias.ExecutedVersion, "1");
await lambda.send(new TagResourceCommand({ Resource: created.FunctionArn, Tags: { more: "tags" } }));
assert.deepEqual((await lambda.send(new ListTagsCommand({ Resource: created.FunctionArn }))).Tags, { team: "js", more: "tags" });

// Paginators walk every page.
for (let i = 0; i < 3; i++) {
  await lambda.send(new CreateFunctionCommand({
    FunctionName: `js-page-${i}`, Runtime: "python3.12", Role: role, Handler: "handler.handler", Code: { ZipFile: zip },
  }));
}
const names = [];
let pages = 0;
for await (const page of paginateListFunctions({ client: lambda, pageSize: 2 }, {})) {
  pages++;
  names.push(...page.Functions.map((f) => f.FunctionName));
}
assert.ok(pages >= 2, `${pages} pages of 2`);
assert.deepEqual(names.filter((n) => n.startsWith("js-")).sort(), ["js-page-0", "js-page-1", "js-page-2", name]);
const versions = [];
for await (const page of paginateListVersionsByFunction({ client: lambda, pageSize: 1 }, { FunctionName: name })) {
  versions.push(...page.Versions.map((v) => v.Version));
}
assert.deepEqual(versions, ["$LATEST", "1"]);
const aliases = [];
for await (const page of paginateListAliases({ client: lambda, pageSize: 1 }, { FunctionName: name })) {
  aliases.push(...page.Aliases.map((a) => a.Name));
}
assert.deepEqual(aliases, ["live"]);

// Response streaming: chunks as they come, then InvokeComplete.
const streamName = "js-sdk-stream";
await lambda.send(new CreateFunctionCommand({
  FunctionName: streamName, Runtime: "nodejs22.x", Role: role, Handler: "index.handler",
  Code: { ZipFile: readFileSync(process.env.LAMB_STREAM_ZIP) },
}));
await waitUntilFunctionActiveV2(wait, { FunctionName: streamName });
const st = await lambda.send(new InvokeWithResponseStreamCommand({ FunctionName: streamName, Payload: "{}" }));
assert.equal(st.StatusCode, 200);
let body = "";
let chunks = 0;
let complete;
for await (const event of st.EventStream) {
  if (event.PayloadChunk) {
    chunks++;
    body += dec.decode(event.PayloadChunk.Payload);
  }
  if (event.InvokeComplete) complete = event.InvokeComplete;
}
assert.equal(body, "one;two;three;");
assert.ok(chunks >= 2, `${chunks} chunks`);
assert.ok(complete, "no InvokeComplete event");
assert.equal(complete.ErrorCode, undefined);

// Errors become the SDK's exception classes, with AWS's status codes.
await rejects(lambda.send(new GetFunctionCommand({ FunctionName: "js-no-such-fn" })), ResourceNotFoundException, 404);
await rejects(lambda.send(new InvokeCommand({ FunctionName: "js-no-such-fn" })), ResourceNotFoundException, 404);
await rejects(lambda.send(new CreateFunctionCommand({
  FunctionName: "js-bad", Runtime: "python3.12", Role: role, Handler: "handler.handler", Code: { ZipFile: zip }, MemorySize: 1,
})), Error, 400);
await rejects(lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: name, Runtime: "python0.1" })), InvalidParameterValueException, 400);

for (const fn of [name, streamName, "js-page-0", "js-page-1", "js-page-2"]) {
  await lambda.send(new DeleteFunctionCommand({ FunctionName: fn }));
}
await rejects(lambda.send(new GetFunctionCommand({ FunctionName: name })), ResourceNotFoundException, 404);
console.log("js sdk: ok");
