"""lamb's Lambda runtime client for Python (stdlib only, Python >= 3.9).

It speaks the Lambda Runtime API the way AWS's awslambdaric does: it imports
the handler named by _HANDLER from LAMBDA_TASK_ROOT, then loops on
/runtime/invocation/next, calls handler(event, context) and posts the JSON
result (or the error) back. Import problems are reported once to
/runtime/init/error and the process exits with status 1.
"""

import decimal
import http.client
import importlib
import json
import logging
import os
import sys
import time
import traceback

API_PREFIX = "/2018-06-01/runtime"
ERROR_TYPE_HEADER = "Lambda-Runtime-Function-Error-Type"


# ---------------------------------------------------------------- the client


class RuntimeClient:
    """A keep-alive HTTP/1.1 client for the Runtime API."""

    def __init__(self, address):
        self.address = address
        self.conn = None

    def _request(self, method, path, body=None, headers=None):
        # Retry once on a stale keep-alive connection: the server may close an
        # idle one between invocations.
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.address)
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                resp = self.conn.getresponse()
                data = resp.read()
                return resp, data
            except (http.client.HTTPException, ConnectionError, OSError):
                self.conn.close()
                self.conn = None
                if attempt == 1:
                    raise

    def next(self):
        resp, data = self._request("GET", API_PREFIX + "/invocation/next")
        if resp.status != 200:
            raise RuntimeError("invocation/next returned %d: %r" % (resp.status, data))
        return resp, data

    def post_response(self, request_id, body, content_type="application/json"):
        self._request(
            "POST",
            "%s/invocation/%s/response" % (API_PREFIX, request_id),
            body=body,
            headers={"Content-Type": content_type},
        )

    def post_error(self, request_id, error):
        self._post_error("%s/invocation/%s/error" % (API_PREFIX, request_id), error)

    def post_init_error(self, error):
        self._post_error(API_PREFIX + "/init/error", error)

    def _post_error(self, path, error):
        self._request(
            "POST",
            path,
            body=json.dumps(error, ensure_ascii=False).encode("utf-8"),
            headers={
                "Content-Type": "application/json",
                ERROR_TYPE_HEADER: error.get("errorType") or "Runtime.Unknown",
            },
        )


# ------------------------------------------------------------------- errors


class FaultError(Exception):
    """An error with an AWS runtime error type (Runtime.*)."""

    def __init__(self, error_type, message, stack_trace=None):
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.stack_trace = stack_trace or []


def make_error(message, error_type, stack_trace, request_id=None):
    return {
        "errorMessage": message if message else "",
        "errorType": error_type if error_type else "",
        "requestId": request_id if request_id is not None else "",
        "stackTrace": stack_trace if stack_trace is not None else [],
    }


def fault_result(exc_info, request_id):
    """Builds the error body for an exception raised by user code, with the
    bootstrap's own frames removed from the traceback, as awslambdaric does."""
    etype, value, tb = exc_info
    frames = traceback.extract_tb(tb)
    me = os.path.abspath(__file__)
    while frames and os.path.abspath(frames[0].filename) == me:
        frames = frames[1:]
    return make_error(str(value), etype.__name__, traceback.format_list(frames), request_id)


# ------------------------------------------------------------------ handler


def load_handler(handler):
    try:
        modname, fname = handler.rsplit(".", 1)
    except ValueError as e:
        raise FaultError("Runtime.MalformedHandlerName", "Bad handler '%s': %s" % (handler, e))
    # AWS accepts both "pkg/sub.mod.fn" and "pkg.sub.mod.fn".
    modname = modname.replace("/", ".")
    if modname.split(".")[0] in sys.builtin_module_names:
        raise FaultError(
            "Runtime.BuiltInModuleConflict",
            "Cannot use built-in module %s as a handler module" % modname,
        )
    try:
        module = importlib.import_module(modname)
    except ImportError as e:
        raise FaultError(
            "Runtime.ImportModuleError", "Unable to import module '%s': %s" % (modname, e)
        )
    except SyntaxError as e:
        trace = ['  File "%s" Line %s\n    %s\n' % (e.filename, e.lineno, (e.text or "").strip())]
        raise FaultError(
            "Runtime.UserCodeSyntaxError", "Syntax error in module '%s': %s" % (modname, e), trace
        )
    fn = getattr(module, fname, None)
    if fn is None:
        raise FaultError(
            "Runtime.HandlerNotFound", "Handler '%s' missing on module '%s'" % (fname, modname)
        )
    return fn


# ------------------------------------------------------------------ context


class CognitoIdentity:
    __slots__ = ["cognito_identity_id", "cognito_identity_pool_id"]

    def __init__(self, raw):
        self.cognito_identity_id = raw.get("cognitoIdentityId")
        self.cognito_identity_pool_id = raw.get("cognitoIdentityPoolId")

    def __repr__(self):
        return "CognitoIdentity(%r, %r)" % (self.cognito_identity_id, self.cognito_identity_pool_id)


class Client:
    __slots__ = [
        "installation_id",
        "app_title",
        "app_version_name",
        "app_version_code",
        "app_package_name",
    ]

    def __init__(self, raw):
        for name in self.__slots__:
            setattr(self, name, raw.get(name))


class ClientContext:
    __slots__ = ["custom", "env", "client"]

    def __init__(self, raw):
        self.custom = raw.get("custom")
        self.env = raw.get("env")
        client = raw.get("client")
        self.client = Client(client) if client is not None else None


class LambdaContext:
    """The context object, with the fields awslambdaric's LambdaContext has.
    memory_limit_in_mb is a string there (straight from the environment)."""

    def __init__(self, request_id, deadline_ms, invoked_function_arn, identity, client_context):
        self.aws_request_id = request_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = invoked_function_arn
        self.tenant_id = None
        self.identity = CognitoIdentity(identity) if identity else CognitoIdentity({})
        self.client_context = ClientContext(client_context) if client_context else None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        return max(int(self._deadline_ms - time.time() * 1000), 0)

    def log(self, msg):
        sys.stdout.write(str(msg))
        sys.stdout.flush()

    def __repr__(self):
        return (
            "LambdaContext([aws_request_id=%s,log_group_name=%s,log_stream_name=%s,"
            "function_name=%s,memory_limit_in_mb=%s,function_version=%s,"
            "invoked_function_arn=%s,client_context=%s,identity=%s])"
            % (
                self.aws_request_id,
                self.log_group_name,
                self.log_stream_name,
                self.function_name,
                self.memory_limit_in_mb,
                self.function_version,
                self.invoked_function_arn,
                self.client_context,
                self.identity,
            )
        )


# ------------------------------------------------------------------ logging

_current_request_id = ""


class LambdaLogFormatter(logging.Formatter):
    """[LEVEL]\t2024-01-02T03:04:05.678Z\t<request id>\t<message>"""

    converter = time.gmtime

    def __init__(self):
        super().__init__(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s",
            "%Y-%m-%dT%H:%M:%S",
        )

    def format(self, record):
        record.aws_request_id = _current_request_id
        return super().format(record)


def setup_logging():
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(LambdaLogFormatter())
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.addHandler(handler)


# -------------------------------------------------------------- marshalling


def _default(obj):
    if isinstance(obj, decimal.Decimal):
        return float(obj) if obj != obj.to_integral_value() else int(obj)
    raise TypeError("Object of type %s is not JSON serializable" % type(obj).__name__)


# AWS's runtimes up to python3.11 escape non-ASCII text (\uXXXX); python3.12
# and later send it as raw UTF-8.
_ENSURE_ASCII = os.environ.get("AWS_EXECUTION_ENV") in {
    "AWS_Lambda_python3.%d" % minor for minor in range(6, 12)
}


def to_json(obj):
    return json.dumps(obj, default=_default, ensure_ascii=_ENSURE_ASCII).encode("utf-8")


def flush_output():
    # Output written during the invocation must be in the pipe before the
    # response is posted, so log readers see it before the invocation ends.
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass


# --------------------------------------------------------------------- main


def handle(client, request_handler, resp, body):
    global _current_request_id
    request_id = resp.getheader("Lambda-Runtime-Aws-Request-Id", "")
    _current_request_id = request_id
    trace_id = resp.getheader("Lambda-Runtime-Trace-Id")
    if trace_id:
        os.environ["_X_AMZN_TRACE_ID"] = trace_id
    else:
        os.environ.pop("_X_AMZN_TRACE_ID", None)
    deadline = int(resp.getheader("Lambda-Runtime-Deadline-Ms", "0") or 0)
    arn = resp.getheader("Lambda-Runtime-Invoked-Function-Arn", "")

    try:
        identity = json.loads(resp.getheader("Lambda-Runtime-Cognito-Identity") or "null")
        client_context = json.loads(resp.getheader("Lambda-Runtime-Client-Context") or "null")
        context = LambdaContext(request_id, deadline, arn, identity, client_context)
        try:
            event = json.loads(body.decode("utf-8")) if body else {}
        except ValueError as e:
            raise FaultError("Runtime.UnmarshalError", "Unable to unmarshal input: %s" % e)
        result = request_handler(event, context)
        content_type = "application/json"
        if isinstance(result, bytes):
            # Raw bytes go out unchanged, as awslambdaric does.
            payload, content_type = result, "application/unknown"
        else:
            try:
                payload = to_json(result)
            except (TypeError, ValueError) as e:
                raise FaultError("Runtime.MarshalError", "Unable to marshal response: %s" % e)
    except FaultError as e:
        error = make_error(e.message, e.error_type, e.stack_trace, request_id)
        log_error(error)
        flush_output()
        client.post_error(request_id, error)
        return
    except Exception:
        error = fault_result(sys.exc_info(), request_id)
        log_error(error)
        flush_output()
        client.post_error(request_id, error)
        return
    flush_output()
    client.post_response(request_id, payload, content_type)


def log_error(error):
    """Prints an uncaught error as awslambdaric does: one record, lines joined
    by \r, traceback indentation turned into no-break spaces."""
    desc = "[ERROR]"
    if error.get("errorType"):
        desc += " " + error["errorType"]
    if error.get("errorMessage"):
        if error.get("errorType"):
            desc += ":"
        desc += " " + error["errorMessage"]
    lines = [desc]
    stack = error.get("stackTrace")
    if stack is not None:
        lines.append("Traceback (most recent call last):")
        for element in stack:
            if element == "":
                lines.append("")
                continue
            for line in element.splitlines():
                n = len(line) - len(line.lstrip(" "))
                lines.append("\u00a0" * n + line[n:])
    sys.stdout.write("\r".join(lines) + "\n")


def main():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(line_buffering=True)
        except Exception:
            pass
    task_root = os.environ.get("LAMBDA_TASK_ROOT", os.getcwd())
    if task_root not in sys.path[:1]:
        sys.path.insert(0, task_root)
    setup_logging()

    client = RuntimeClient(os.environ["AWS_LAMBDA_RUNTIME_API"])
    handler_name = os.environ.get("_HANDLER", "")
    try:
        request_handler = load_handler(handler_name)
    except FaultError as e:
        error = make_error(e.message, e.error_type, e.stack_trace)
    except Exception:
        error = fault_result(sys.exc_info(), None)
    else:
        error = None
    if error is not None:
        log_error(error)
        flush_output()
        client.post_init_error(error)
        sys.exit(1)

    while True:
        resp, body = client.next()
        handle(client, request_handler, resp, body)


if __name__ == "__main__":
    main()
