// lamb's Lambda runtime client for Node.js (stdlib only, Node >= 18).
//
// It speaks the Lambda Runtime API the way AWS's aws-lambda-ric does: loads
// the handler named by _HANDLER from LAMBDA_TASK_ROOT (CommonJS or ESM), then
// loops on /runtime/invocation/next, calls the handler (async, callback or
// streaming via awslambda.streamifyResponse) and posts the result back.

import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import util from "node:util";
import { Writable } from "node:stream";
import { pathToFileURL } from "node:url";
import module from "node:module";

const API = "/2018-06-01/runtime";
// What comes from the environment is read in configure, when main starts:
// a spare (awaitClaim) gets its environment only then.
let apiHost, apiPort;
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

const STREAMING = Symbol.for("aws.lambda.runtime.handler.streaming");
const HIGH_WATER_MARK = Symbol.for("aws.lambda.runtime.handler.streaming.highWaterMark");
const PRELUDE_CONTENT_TYPE = "application/vnd.awslambda.http-integration-response";
const DELIMITER_LEN = 8;
const ERROR_TYPE = "Lambda-Runtime-Function-Error-Type";
const ERROR_BODY = "Lambda-Runtime-Function-Error-Body";

// ------------------------------------------------------------------ logging

let currentRequestId;

// Advanced logging controls: AWS sets AWS_LAMBDA_LOG_FORMAT=JSON and
// AWS_LAMBDA_LOG_LEVEL for functions whose LoggingConfig asks for JSON. As in
// aws-lambda-ric, the level filters console output whenever it is set.
const LEVELS = { TRACE: 1, DEBUG: 2, INFO: 3, WARN: 4, ERROR: 5, FATAL: 6 };
let logJSON, minLevel;

function configure() {
  const apiAddr = process.env.AWS_LAMBDA_RUNTIME_API || "127.0.0.1:9001";
  // host:port, where host may be a bracketed IPv6 address.
  apiHost = apiAddr.slice(0, apiAddr.lastIndexOf(":")).replace(/^\[(.*)\]$/, "$1");
  apiPort = apiAddr.slice(apiAddr.lastIndexOf(":") + 1);
  logJSON = (process.env.AWS_LAMBDA_LOG_FORMAT || "").toUpperCase() === "JSON";
  minLevel = LEVELS[(process.env.AWS_LAMBDA_LOG_LEVEL || "").toUpperCase()] ?? LEVELS.TRACE;
}

// errorFields is how aws-lambda-ric's JSON logs show an Error: its class name,
// message and stack lines (a lone Error adds its own enumerable properties).
// AWS's runtime errors are classes named e.g. HandlerNotFound whose name is
// Runtime.HandlerNotFound; ours are one class, so the type comes from the name.
function errorFields(err) {
  return {
    errorType: err instanceof RuntimeError ? err.name.replace(/^Runtime\./, "") : (err.constructor?.name ?? "UnknownError"),
    errorMessage: err.message,
    stackTrace: typeof err.stack === "string" ? err.stack.split("\n") : err.stack,
  };
}

// jsonRecord formats one console call as aws-lambda-ric does: a lone argument
// is the message as it is (objects stay objects, errors become their fields);
// several are util.format'ed, with the first Error's fields alongside.
function jsonRecord(level, args) {
  const rec = { timestamp: new Date().toISOString(), level, requestId: currentRequestId };
  if (args.length === 1) {
    rec.message = args[0];
    try {
      return JSON.stringify(rec, (_, v) => (v instanceof Error ? Object.assign(errorFields(v), v) : v));
    } catch {
      // Cycles, BigInt: fall back to the text rendering.
      rec.message = util.format(args[0]);
      return JSON.stringify(rec);
    }
  }
  rec.message = util.format(...args);
  const err = args.find((a) => a instanceof Error);
  if (err) Object.assign(rec, errorFields(err));
  return JSON.stringify(rec);
}

function patchConsole() {
  const methods = { log: "INFO", info: "INFO", warn: "WARN", error: "ERROR", debug: "DEBUG", trace: "TRACE", fatal: "FATAL" };
  for (const [method, level] of Object.entries(methods)) {
    if (LEVELS[level] < minLevel) {
      console[method] = () => {};
      continue;
    }
    console[method] = (...args) => {
      if (logJSON) {
        // One line per record: JSON.stringify escapes every newline.
        process.stdout.write(jsonRecord(level, args) + "\n");
        return;
      }
      let msg = util.format(...args);
      if (method === "trace") msg += "\n" + new Error().stack.split("\n").slice(2).join("\n");
      // One line per record, as AWS does: embedded newlines become \r.
      const line = `${new Date().toISOString()}\t${currentRequestId}\t${level}\t${msg.replace(/\n/g, "\r")}\n`;
      process.stdout.write(line);
    };
  }
}

// ------------------------------------------------------------------- errors

class RuntimeError extends Error {
  constructor(name, message) {
    super(message);
    // Not enumerable, as an Error's name normally is (JSON logs list an
    // error's own enumerable properties).
    Object.defineProperty(this, "name", { value: name, writable: true, configurable: true });
    // The stack's first line was formatted with the name "Error"; AWS shows
    // e.g. "Runtime.HandlerNotFound: ..." there.
    const frames = typeof this.stack === "string" ? this.stack.split("\n").slice(1) : [];
    this.stack = [`${name}: ${message}`, ...frames].join("\n");
  }
}

function toErrorJSON(err) {
  if (err instanceof Error) {
    return {
      errorType: err.name || "Error",
      errorMessage: err.message,
      trace: typeof err.stack === "string" ? err.stack.split("\n") : [],
    };
  }
  // aws-lambda-ric reports non-Error throws by their JS type.
  let message;
  try {
    message = typeof err === "string" ? err : JSON.stringify(err);
  } catch {
    message = String(err);
  }
  return { errorType: typeof err, errorMessage: message ?? String(err), trace: [] };
}

// logError prints an uncaught error the way aws-lambda-ric does:
// "<time>\t<request id>\tERROR\tInvoke Error \t{...}".
function logError(err, label) {
  if (logJSON) {
    // aws-lambda-ric logs it through console.error: one ERROR record whose
    // message is the error (dropped below ERROR level, like console.error).
    console.error(err instanceof Error ? err : new Error(String(err)));
    return;
  }
  const e = toErrorJSON(err);
  const json = JSON.stringify({ errorType: e.errorType, errorMessage: e.errorMessage, stack: e.trace });
  process.stdout.write(`${new Date().toISOString()}\t${currentRequestId}\tERROR\t${label} \t${json}\n`);
}

// ------------------------------------------------------------------ http

function request(method, urlPath, headers, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: apiHost, port: apiPort, method, path: urlPath, headers, agent }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ res, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    if (body !== undefined) req.end(body);
    else req.end();
  });
}

function postError(urlPath, err) {
  const e = toErrorJSON(err);
  return request("POST", urlPath, { "Content-Type": "application/json", [ERROR_TYPE]: e.errorType }, JSON.stringify(e));
}

// ---------------------------------------------------------------- handler

function findModuleFile(root, moduleName) {
  const base = path.resolve(root, moduleName);
  for (const ext of [".mjs", ".cjs", ".js"]) {
    if (fs.existsSync(base + ext)) return base + ext;
  }
  return undefined;
}

async function loadHandler(root, handlerString) {
  const slash = handlerString.lastIndexOf("/");
  const dir = handlerString.slice(0, slash + 1);
  const rest = handlerString.slice(slash + 1);
  const dot = rest.indexOf(".");
  if (dot <= 0 || dot === rest.length - 1) {
    throw new RuntimeError("Runtime.MalformedHandlerName", "Bad handler");
  }
  const moduleName = dir + rest.slice(0, dot);
  const fnPath = rest.slice(dot + 1).split(".");

  const file = findModuleFile(root, moduleName);
  let mod;
  try {
    if (file === undefined) {
      throw Object.assign(new Error(`Cannot find module '${moduleName}'`), { code: "MODULE_NOT_FOUND" });
    }
    // import() loads CommonJS too (module.exports becomes default plus the
    // names cjs-module-lexer detects) and follows package.json "type".
    mod = await import(pathToFileURL(file).href);
  } catch (e) {
    if (e instanceof SyntaxError) {
      throw new RuntimeError("Runtime.UserCodeSyntaxError", `${e.name}: ${e.message}`);
    }
    if (e && (e.code === "MODULE_NOT_FOUND" || e.code === "ERR_MODULE_NOT_FOUND")) {
      // AWS's message comes from require() inside its own runtime.
      throw new RuntimeError("Runtime.ImportModuleError", `Error: ${e.message}\nRequire stack:\n- /var/runtime/index.mjs`);
    }
    throw e;
  }
  const lookup = (obj) => fnPath.reduce((o, k) => (o == null ? undefined : o[k]), obj);
  let fn = lookup(mod);
  if (fn === undefined && mod.default !== undefined) fn = lookup(mod.default);
  if (fn === undefined) {
    throw new RuntimeError("Runtime.HandlerNotFound", `${handlerString} is undefined or not exported`);
  }
  if (typeof fn !== "function") {
    throw new RuntimeError("Runtime.HandlerNotFound", `${handlerString} is not a function`);
  }
  return fn;
}

// ---------------------------------------------------------------- context

function makeContext(headers) {
  const deadline = Number(headers["lambda-runtime-deadline-ms"] || 0);
  const parse = (h) => {
    try {
      return h ? JSON.parse(h) : undefined;
    } catch {
      return undefined;
    }
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: headers["lambda-runtime-invoked-function-arn"],
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: headers["lambda-runtime-aws-request-id"],
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    identity: parse(headers["lambda-runtime-cognito-identity"]),
    clientContext: parse(headers["lambda-runtime-client-context"]),
    getRemainingTimeInMillis: () => Math.max(deadline - Date.now(), 0),
  };
}

// --------------------------------------------------------------- streaming

// ResponseStream posts the response as the handler writes it: the request
// starts at the first write (so setContentType and HttpResponseStream.from can
// still change the headers) and each write is sent as its own chunk.
class ResponseStream extends Writable {
  constructor(requestId, highWaterMark) {
    super({ highWaterMark });
    this.requestId = requestId;
    this.contentType = "application/octet-stream";
    this._onBeforeFirstWrite = undefined;
    this.req = undefined;
    this.done = new Promise((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
  }

  setContentType(type) {
    if (this.req) throw new Error("Cannot set content type, the response has already started");
    this.contentType = type;
  }

  start() {
    if (this.req) return;
    this.req = http.request(
      {
        host: apiHost,
        port: apiPort,
        method: "POST",
        path: `${API}/invocation/${this.requestId}/response`,
        agent,
        headers: {
          "Content-Type": this.contentType,
          "Lambda-Runtime-Function-Response-Mode": "streaming",
          "Transfer-Encoding": "chunked",
          Trailer: `${ERROR_TYPE}, ${ERROR_BODY}`,
        },
      },
      (res) => {
        res.resume();
        res.on("end", () => this.resolveDone());
      },
    );
    this.req.on("error", (e) => this.rejectDone(e));
    this.req.flushHeaders();
    if (this._onBeforeFirstWrite) {
      const hook = this._onBeforeFirstWrite;
      this._onBeforeFirstWrite = undefined;
      hook((chunk) => this.req.write(chunk));
    }
  }

  _write(chunk, encoding, callback) {
    this.start();
    this.req.write(chunk, encoding, callback);
  }

  _final(callback) {
    this.start();
    this.req.end(callback);
  }

  // fail ends the response with the error trailers.
  fail(err) {
    this.start();
    const e = toErrorJSON(err);
    if (!this.req.writableEnded) {
      this.req.addTrailers({ [ERROR_TYPE]: e.errorType, [ERROR_BODY]: Buffer.from(JSON.stringify(e)).toString("base64") });
      this.req.end();
    }
  }
}

class HttpResponseStream {
  static from(underlyingStream, prelude) {
    underlyingStream.setContentType(PRELUDE_CONTENT_TYPE);
    const metadata = JSON.stringify(prelude);
    underlyingStream._onBeforeFirstWrite = (write) => {
      write(metadata);
      write(new Uint8Array(DELIMITER_LEN));
    };
    return underlyingStream;
  }
}

globalThis.awslambda = {
  streamifyResponse(handler, options) {
    handler[STREAMING] = "response";
    if (options && Number.isInteger(options.highWaterMark)) handler[HIGH_WATER_MARK] = options.highWaterMark;
    return handler;
  },
  HttpResponseStream,
};

// -------------------------------------------------------------------- invoke

// runBuffered calls an async or callback-style handler and settles with its
// result, following aws-lambda-ric: a returned promise settles at once; a
// callback (or context.succeed/fail/done) settles once the event loop is empty
// unless context.callbackWaitsForEmptyEventLoop was set to false; a
// synchronous handler that never calls back returns null once the loop drains.
function runBuffered(handler, event, context) {
  return new Promise((resolve, reject) => {
    let settled = false;
    let onEmpty;
    const settle = (fn, v) => {
      if (settled) return;
      settled = true;
      if (onEmpty) process.removeListener("beforeExit", onEmpty);
      fn(v);
    };
    const whenEmpty = (fn) => {
      if (onEmpty) process.removeListener("beforeExit", onEmpty);
      onEmpty = fn;
      process.once("beforeExit", onEmpty);
    };
    const finish = (fn, v) => (context.callbackWaitsForEmptyEventLoop ? whenEmpty(() => settle(fn, v)) : settle(fn, v));
    const callback = (err, result) => (err !== undefined && err !== null ? finish(reject, err) : finish(resolve, result));
    context.done = callback;
    context.succeed = (result) => finish(resolve, result);
    context.fail = (err) => finish(reject, err ?? new Error("handled"));
    let ret;
    try {
      ret = handler(event, context, callback);
    } catch (e) {
      settle(reject, e);
      return;
    }
    if (ret && typeof ret.then === "function") {
      ret.then((v) => settle(resolve, v), (e) => settle(reject, e));
    } else if (!settled && !onEmpty) {
      whenEmpty(() => settle(resolve, null));
    }
  });
}

async function invokeStreaming(handler, event, context, requestId) {
  const stream = new ResponseStream(requestId, handler[HIGH_WATER_MARK]);
  try {
    await handler(event, stream, context);
    if (!stream.writableEnded) {
      await new Promise((resolve, reject) => stream.end((e) => (e ? reject(e) : resolve())));
    }
  } catch (e) {
    logError(e, "Invoke Error");
    stream.fail(e);
  }
  await stream.done;
}

async function invokeOnce(handler) {
  const { res, body } = await request("GET", `${API}/invocation/next`);
  if (res.statusCode !== 200) throw new Error(`invocation/next returned ${res.statusCode}: ${body}`);
  const requestId = res.headers["lambda-runtime-aws-request-id"];
  currentRequestId = requestId;
  if (res.headers["lambda-runtime-trace-id"]) process.env._X_AMZN_TRACE_ID = res.headers["lambda-runtime-trace-id"];
  else delete process.env._X_AMZN_TRACE_ID;
  inFlight = requestId;
  const context = makeContext(res.headers);
  let event;
  try {
    event = JSON.parse(body.toString("utf8"));
  } catch (e) {
    await postError(`${API}/invocation/${requestId}/error`, new RuntimeError("Runtime.UnmarshalError", e.message));
    return;
  }

  if (handler[STREAMING] === "response") {
    await invokeStreaming(handler, event, context, requestId);
    return;
  }

  let result;
  try {
    result = await runBuffered(handler, event, context);
  } catch (e) {
    logError(e, "Invoke Error");
    await postError(`${API}/invocation/${requestId}/error`, e);
    return;
  }
  let payload;
  try {
    payload = JSON.stringify(result === undefined ? null : result);
  } catch (e) {
    await postError(`${API}/invocation/${requestId}/error`, new RuntimeError("Runtime.MarshalError", `Unable to stringify response body: ${e.message}`));
    return;
  }
  await request("POST", `${API}/invocation/${requestId}/response`, { "Content-Type": "application/json" }, payload);
}

// inFlight is the request whose result is not posted yet. An uncaught error
// fails it and ends the process (the sandbox is reset), as aws-lambda-ric does.
let inFlight;

function onFatal(label) {
  return (e) => {
    logError(e, label);
    const done = () => process.exit(129);
    if (inFlight === undefined) return done();
    postError(`${API}/invocation/${inFlight}/error`, e).then(done, done);
  };
}

// startDebugger opens node's inspector when lamb serve --debug names this
// function (docs/debugging.md): on LAMB_DEBUG_HOST:LAMB_DEBUG_PORT, waiting
// for a debugger before the handler loads with LAMB_DEBUG_WAIT=1 (as
// --inspect-wait would). inspector.open rather than --inspect: the same on
// every backend, whatever command starts node.
async function startDebugger() {
  const port = process.env.LAMB_DEBUG_PORT;
  const host = process.env.LAMB_DEBUG_HOST || "127.0.0.1";
  const wait = process.env.LAMB_DEBUG_WAIT === "1";
  delete process.env.LAMB_DEBUG_PORT;
  delete process.env.LAMB_DEBUG_HOST;
  delete process.env.LAMB_DEBUG_WAIT;
  if (!port) return;
  const inspector = await import("node:inspector");
  inspector.open(Number(port), host, wait);
}

// awaitClaim is the spare mode of lamb's process backend (pre-started
// runtimes, docs/architecture.md): started ahead with "--lamb-spare <fd>", as
// the instance's user, in a process group of its own, its stdout and stderr
// already the instance's output pipe, it says "ready" on fd and blocks until
// lamb sends the claim there, {"env": {...}, "cwd": "..."}, and closes it.
// It then becomes what a fresh start of the instance is: the environment
// replaced entirely, the code dir as cwd, NODE_PATH's search paths read
// again, argv without the flag. An end without a claim ends the spare.
async function awaitClaim() {
  const i = process.argv.indexOf("--lamb-spare");
  if (i < 0) return;
  const fd = Number(process.argv[i + 1]);
  process.argv.splice(i, 2);
  await warmHTTP();
  fs.writeSync(fd, "ready\n");
  const chunks = [];
  const buf = Buffer.alloc(1 << 16);
  for (let n; (n = fs.readSync(fd, buf)) > 0; ) chunks.push(Buffer.from(buf.subarray(0, n)));
  fs.closeSync(fd);
  if (chunks.length === 0) process.exit(0);
  const claim = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  for (const k of Object.keys(process.env)) delete process.env[k];
  Object.assign(process.env, claim.env); // TZ included: node resets its zone on assignment
  process.chdir(claim.cwd);
  module._initPaths(); // NODE_PATH, HOME: read at start otherwise
}

// warmHTTP makes one request over loopback to a server of its own, so that
// the first request to the Runtime API does not pay for node's lazy set-up
// of its HTTP client (some 5 ms). Both end before the claim; a spare whose
// warm-up fails ends rather than hand a function anything left open.
async function warmHTTP() {
  try {
    const srv = http.createServer((req, res) => res.end());
    await new Promise((resolve, reject) => srv.listen(0, "127.0.0.1", resolve).on("error", reject));
    try {
      await new Promise((resolve, reject) => {
        const req = http.request({ host: "127.0.0.1", port: srv.address().port, agent: false }, (res) => {
          res.resume();
          res.on("end", resolve);
          res.on("error", reject);
        });
        req.setTimeout(5000, () => req.destroy(new Error("warm-up request timed out")));
        req.on("error", reject).end();
      });
    } finally {
      srv.closeAllConnections();
      await new Promise((resolve) => srv.close(resolve));
    }
  } catch (e) {
    process.stderr.write(`lamb bootstrap: spare warm-up: ${e && e.stack ? e.stack : e}\n`);
    process.exit(1);
  }
}

async function main() {
  await awaitClaim();
  configure();
  await startDebugger();
  process.on("uncaughtException", onFatal("Uncaught Exception"));
  process.on("unhandledRejection", onFatal("Unhandled Promise Rejection"));
  patchConsole();
  const root = process.env.LAMBDA_TASK_ROOT || process.cwd();
  let handler;
  try {
    handler = await loadHandler(root, process.env._HANDLER || "");
  } catch (e) {
    logError(e, "Uncaught Exception");
    await postError(`${API}/init/error`, e);
    process.exit(1);
  }
  for (;;) {
    await invokeOnce(handler);
    inFlight = undefined;
  }
}

main().catch((e) => {
  process.stderr.write(`lamb bootstrap: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
