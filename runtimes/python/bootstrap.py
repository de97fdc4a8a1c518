"""lamb's Lambda runtime client for Python (stdlib only, Python >= 3.9).

It speaks the Lambda Runtime API the way AWS's awslambdaric does: it imports
the handler named by _HANDLER from LAMBDA_TASK_ROOT, then loops on
/runtime/invocation/next, calls handler(event, context) and posts the JSON
result (or the error) back. Import problems are reported once to
/runtime/init/error and the process exits with status 1.
"""

# Start-up time matters (every cold start pays it), so this module imports
# only what the road to the first /invocation/next needs: no http.client
# (it pulls in email, ssl, ...: ~20 ms), no logging unless the function
# imports it, traceback/decimal only when an error or a Decimal shows up,
# json while the first /next is in flight.

import importlib
import os
import sys
import time

import _socket  # socket.py adds only wrappers we do not need

API_PREFIX = "/2018-06-01/runtime"
ERROR_TYPE_HEADER = "Lambda-Runtime-Function-Error-Type"

json = None  # imported by _import_json, off the start-up path


def _import_json():
    global json
    if json is None:
        import json as _json

        json = _json


# ---------------------------------------------------------------- the client


class ProtocolError(OSError):
    """The Runtime API answered something that is not HTTP/1.x."""


class Response:
    __slots__ = ["status", "headers", "body"]

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # lower-cased name -> value
        self.body = body

    def getheader(self, name, default=None):
        return self.headers.get(name.lower(), default)


class RuntimeClient:
    """A keep-alive HTTP/1.1 client for the Runtime API, straight on a socket:
    the API is plain HTTP on a local address, and http.client costs more to
    import than this whole runtime does."""

    def __init__(self, address):
        host, sep, port = address.rpartition(":")
        if not sep or not port.isdigit():
            host, port = address, "80"
        self.host_header = address
        self.host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
        self.port = int(port)
        self.sock = None
        self.buf = bytearray()  # received, not yet parsed

    def _connect(self):
        try:
            host = self.host.encode("ascii")  # bytes: skips loading the idna codec
        except UnicodeEncodeError:
            host = self.host.encode("idna")
        err = None
        for family, type_, proto, _, addr in _socket.getaddrinfo(
            host, self.port, 0, _socket.SOCK_STREAM
        ):
            sock = _socket.socket(family, type_, proto)
            try:
                sock.connect(addr)
            except OSError as e:
                sock.close()
                err = e
                continue
            try:
                sock.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
            except OSError:
                pass
            return sock
        raise err if err is not None else OSError("cannot resolve %s" % self.host)

    def close(self):
        if self.sock is not None:
            self.sock.close()
        self.sock, self.buf = None, bytearray()

    def _request(self, method, path, body=None, headers=None, while_waiting=None):
        head = "%s %s HTTP/1.1\r\nHost: %s\r\n" % (method, path, self.host_header)
        if body is not None or method == "POST":
            head += "Content-Length: %d\r\n" % len(body or b"")
        for k, v in (headers or {}).items():
            head += "%s: %s\r\n" % (k, v)
        # UTF-8: an error type may be any Python identifier.
        data = head.encode("utf-8") + b"\r\n"
        if body:
            data += body
        for attempt in (0, 1):
            if self.sock is not None and self._peer_closed():
                self.close()
            sent = False
            try:
                if self.sock is None:
                    self.sock = self._connect()
                self.sock.sendall(data)
                sent = True
                if while_waiting is not None:
                    while_waiting()
                    while_waiting = None
                return self._read_response(method)
            except OSError:
                self.close()
                if sent and method == "POST":
                    # The server may have taken it: a POST is never sent twice
                    # (a response posted twice is a protocol error). Go on to
                    # the next invocation.
                    return Response(0, {}, b"")
                if attempt == 1:
                    raise

    def _peer_closed(self):
        # The server may close an idle keep-alive connection between
        # invocations: notice before writing on it, not after.
        try:
            return self.sock.recv(1, _socket.MSG_PEEK | _socket.MSG_DONTWAIT) == b""
        except BlockingIOError:
            return False
        except OSError:
            return True

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionResetError("Runtime API closed the connection")
        self.buf += chunk

    def _read_line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line = bytes(self.buf[:i])
                del self.buf[: i + 2]
                return line
            if len(self.buf) > 65536:
                raise ProtocolError("header line too long")
            self._fill()

    def _read_exact(self, n):
        while len(self.buf) < n:
            self._fill()
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def _read_response(self, method):
        while True:
            status_line = self._read_line()
            parts = status_line.split(None, 2)
            if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
                raise ProtocolError("bad status line %r" % status_line)
            status = int(parts[1])
            headers = self._read_headers()
            if status >= 200 or status == 101:
                break  # 1xx informational responses precede the real one
        te = headers.get("transfer-encoding", "").lower()
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            body = b""
        elif "chunked" in te:
            body = self._read_chunked()
        elif "content-length" in headers:
            try:
                n = int(headers["content-length"])
            except ValueError:
                raise ProtocolError("bad Content-Length %r" % headers["content-length"])
            body = self._read_exact(n)
        else:
            # No length: the body runs to the end of the connection.
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    break
                self.buf += chunk
            body = bytes(self.buf)
            self.close()
        conn = headers.get("connection", "").lower()
        if "close" in conn or (parts[0] == b"HTTP/1.0" and "keep-alive" not in conn):
            self.close()
        return Response(status, headers, body)

    def _read_headers(self):
        headers = {}
        while True:
            line = self._read_line()
            if not line:
                return headers
            name, sep, value = line.partition(b":")
            if not sep:
                raise ProtocolError("bad header line %r" % line)
            name = name.strip().decode("latin-1").lower()
            value = value.strip().decode("latin-1")
            if name in headers:
                headers[name] += ", " + value
            else:
                headers[name] = value
            if len(headers) > 200:
                raise ProtocolError("too many headers")

    def _read_chunked(self):
        out = []
        while True:
            size = self._read_line().split(b";", 1)[0].strip()
            try:
                n = int(size, 16)
            except ValueError:
                raise ProtocolError("bad chunk size %r" % size)
            if n == 0:
                self._read_headers()  # trailers
                return b"".join(out)
            out.append(self._read_exact(n))
            if self._read_exact(2) != b"\r\n":
                raise ProtocolError("bad chunk end")

    def next(self, while_waiting=None):
        resp = self._request("GET", API_PREFIX + "/invocation/next", while_waiting=while_waiting)
        if resp.status != 200:
            raise RuntimeError("invocation/next returned %d: %r" % (resp.status, resp.body))
        return resp, resp.body

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
        _import_json()
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
    import traceback

    etype, value, tb = exc_info
    frames = traceback.extract_tb(tb)
    # Our frames carry the file name this code was compiled under (also
    # right when it runs from a .pyc).
    me = os.path.abspath(fault_result.__code__.co_filename)
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

# Advanced logging controls: AWS sets these two for functions whose
# LoggingConfig.LogFormat is JSON. As in awslambdaric, TRACE means DEBUG to
# Python's logging and the level applies whenever it is set.
_LOG_JSON = os.environ.get("AWS_LAMBDA_LOG_FORMAT", "").upper() == "JSON"
_LOG_LEVEL = os.environ.get("AWS_LAMBDA_LOG_LEVEL", "").upper()
_LOG_LEVEL = {"TRACE": "DEBUG"}.get(_LOG_LEVEL, _LOG_LEVEL)

# LogRecord attributes that are not user extras (logger.info(..., extra={})).
_RECORD_FIELDS = frozenset(
    "name msg args levelname levelno pathname filename module exc_info exc_text "
    "stack_info lineno funcName created msecs relativeCreated thread threadName "
    "processName process taskName asctime message aws_request_id tenant_id".split()
)


def _utc_seconds(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t))


def setup_logging(logging):
    """Sends the root logger to stdout in AWS's format: in text,
    [LEVEL]\t2024-01-02T03:04:05.678Z\t<request id>\t<message>;
    with JSON, one object per record, as awslambdaric's JsonFormatter."""

    class LambdaLogFormatter(logging.Formatter):
        converter = time.gmtime

        def __init__(self):
            super().__init__(
                "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s",
                "%Y-%m-%dT%H:%M:%S",
            )

        def format(self, record):
            record.aws_request_id = _current_request_id
            return super().format(record)

    class LambdaJSONFormatter(logging.Formatter):
        def format(self, record):
            # AWS reports levels in steps of ten: a custom level 25 shows as INFO.
            levelno = min(50, max(0, record.levelno)) // 10 * 10
            record.levelno, record.levelname = levelno, logging.getLevelName(levelno)
            out = {
                "timestamp": "%s.%03dZ" % (_utc_seconds(record.created), record.msecs),
                "level": record.levelname,
                "message": record.getMessage(),
                "logger": record.name,
            }
            if record.exc_info:
                import traceback

                etype, value, tb = record.exc_info
                out["stackTrace"] = traceback.format_tb(tb)
                out["errorType"] = etype.__name__ if etype is not None else None
                out["errorMessage"] = str(value) if value is not None else None
            out["requestId"] = _current_request_id
            if record.exc_info:
                out["location"] = "%s:%s:%s" % (record.pathname, record.funcName, record.lineno)
            for k, v in record.__dict__.items():
                if k not in _RECORD_FIELDS and k not in out:
                    out[k] = v
            out = {k: v for k, v in out.items() if v is not None}
            # default=str: an extra that JSON cannot hold is logged as its
            # str() instead of losing the record to a logging error.
            return json.dumps(out, ensure_ascii=False, default=str)

    handler = logging.StreamHandler(sys.stdout)
    if _LOG_JSON:
        _import_json()
        handler.setFormatter(LambdaJSONFormatter())
    else:
        handler.setFormatter(LambdaLogFormatter())
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.addHandler(handler)
    if _LOG_LEVEL and isinstance(logging.getLevelName(_LOG_LEVEL), int):
        root.setLevel(_LOG_LEVEL)


class LoggingSetupHook:
    """A sys.meta_path finder that runs setup_logging the moment the logging
    module is first imported, before the importer gets it. The result is the
    same as setting logging up before loading the handler, as awslambdaric
    does (so a user's logging.basicConfig() stays a no-op, as on AWS), but
    functions that never import logging do not pay for it."""

    def __init__(self):
        self.fired = False

    def find_spec(self, name, path=None, target=None):
        if name != "logging" or self.fired:
            return None
        self.fired = True
        spec = None
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            if finder is not self and find is not None:
                spec = find(name, path, target)
                if spec is not None:
                    break
        loader = spec.loader if spec is not None else None
        exec_module = getattr(loader, "exec_module", None)
        if exec_module is None or isinstance(loader, type):
            # Not a per-module loader instance we can wrap (CPython's never
            # is): let the import run as usual; main() sets logging up
            # after loading the handler.
            return None

        def exec_then_setup(module):
            del loader.exec_module  # back to the class's method
            self.remove()  # safe here: no finder loop is running
            exec_module(module)
            setup_logging(module)

        loader.exec_module = exec_then_setup
        return spec

    def install(self):
        if "logging" in sys.modules:  # e.g. imported by a sitecustomize
            self.fired = True
            setup_logging(sys.modules["logging"])
        else:
            sys.meta_path.insert(0, self)

    def missed(self):
        """Whether logging got imported without the hook setting it up."""
        return self in sys.meta_path and self.fired

    def remove(self):
        try:
            sys.meta_path.remove(self)
        except ValueError:
            pass


# -------------------------------------------------------------- marshalling


def _default(obj):
    # A Decimal exists only if its module was imported: no need to import it.
    decimal = sys.modules.get("decimal")
    if decimal is not None and isinstance(obj, decimal.Decimal):
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
        _import_json()
        identity = resp.getheader("Lambda-Runtime-Cognito-Identity")
        identity = json.loads(identity) if identity else None
        client_context = resp.getheader("Lambda-Runtime-Client-Context")
        client_context = json.loads(client_context) if client_context else None
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
    by \r, traceback indentation turned into no-break spaces; with JSON logs,
    the error object with a timestamp and level in front. (awslambdaric
    stamps it to the second, without a zone: so do we.)"""
    if _LOG_JSON:
        _import_json()
        record = {"timestamp": _utc_seconds(time.time()), "level": "ERROR"}
        record.update(error)
        sys.stdout.write(to_json(record).decode("utf-8") + "\n")
        return
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


def start_debugger():
    """Starts debugpy when lamb serve --debug names this function
    (docs/debugging.md): it listens on LAMB_DEBUG_HOST:LAMB_DEBUG_PORT and,
    with LAMB_DEBUG_WAIT, waits for a client before the handler loads.
    Debian's python3-debugpy is found for any interpreter: its folder
    (LAMB_DEBUGPY_PATH) goes last on sys.path, so the function's and the
    interpreter's own packages still win."""
    port = os.environ.pop("LAMB_DEBUG_PORT", "")
    host = os.environ.pop("LAMB_DEBUG_HOST", "127.0.0.1")
    wait = os.environ.pop("LAMB_DEBUG_WAIT", "") == "1"
    extra = os.environ.pop("LAMB_DEBUGPY_PATH", "/usr/lib/python3/dist-packages")
    if not port:
        return
    try:
        import debugpy
    except ImportError:
        sys.path.append(extra)
        try:
            import debugpy
        except ImportError as e:
            sys.stderr.write(
                "lamb bootstrap: --debug needs debugpy (apt-get install python3-debugpy): %s\n" % e
            )
            sys.exit(1)
    debugpy.listen((host, int(port)))
    sys.stderr.write("lamb bootstrap: debugpy listening on %s:%s\n" % (host, port))
    if wait:
        debugpy.wait_for_client()


def main():
    start_debugger()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(line_buffering=True)
        except Exception:
            pass
    task_root = os.environ.get("LAMBDA_TASK_ROOT", os.getcwd())
    if task_root not in sys.path[:1]:
        sys.path.insert(0, task_root)
    logging_hook = LoggingSetupHook()
    logging_hook.install()

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
    if logging_hook.missed():
        logging_hook.remove()
        setup_logging(sys.modules["logging"])
    if error is not None:
        log_error(error)
        flush_output()
        client.post_init_error(error)
        sys.exit(1)

    # json loads while the first /next is in flight.
    resp, body = client.next(while_waiting=_import_json)
    while True:
        handle(client, request_handler, resp, body)
        resp, body = client.next()


# ------------------------------------------------------------ fork server


def zygote(ctrl_fd):
    """lamb's pre-started runtime (bootstrap.py --lamb-zygote FD) (engine/backend/process/prestart*.go): an
    interpreter that has paid for its start and the common modules, and forks
    one child per claim on the SOCK_SEQPACKET socket ctrl_fd. A claim is a
    JSON object (env, cwd, uid, gid, drop) with the instance's output pipe as
    its one fd (SCM_RIGHTS). The answer is {"pid": N} or {"error": "..."};
    {"exit": N, "status": S} (a waitpid status) follows when the child ends.
    Each child runs this file again from the top, as a fresh start would,
    with the function's environment."""
    import select
    import signal
    import socket
    import ctypes
    import json as _json

    # What most functions import anyway, and the bootstrap does later
    # (imported after lamb checked the function cannot shadow them).
    for name in ("json", "traceback", "decimal", "logging", "base64", "datetime", "uuid"):
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    libc = ctypes.CDLL(None, use_errno=True)
    path = os.path.abspath(__file__)
    with open(path, "rb") as f:
        code = compile(f.read(), path, "exec")

    ctrl = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET, fileno=ctrl_fd)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    os.set_blocking(wake_r, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    # Tell lamb which modules are loaded: a function whose code has one of
    # these names at its top level must start the normal way.
    ctrl.send(_json.dumps({"ready": sorted({m.split(".")[0] for m in sys.modules})}).encode())

    def send(obj):
        try:
            ctrl.send(_json.dumps(obj).encode())
        except OSError:
            os._exit(0)  # lamb is gone

    while True:
        try:
            ready, _, _ = select.select([ctrl, wake_r], [], [])
        except InterruptedError:
            continue
        if wake_r in ready:
            try:
                while os.read(wake_r, 512):
                    pass
            except BlockingIOError:
                pass
            while True:
                try:
                    pid, status = os.waitpid(-1, os.WNOHANG)
                except ChildProcessError:
                    break
                if pid == 0:
                    break
                send({"exit": pid, "status": status})
        if ctrl not in ready:
            continue
        fds = []
        try:
            msg, anc, _, _ = ctrl.recvmsg(1 << 20, socket.CMSG_SPACE(16))
        except InterruptedError:
            continue
        if not msg:
            os._exit(0)  # lamb closed its end
        for level, kind, data in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds += list(memoryview(data).cast("i"))
        try:
            claim = _json.loads(msg)
            if len(fds) != 1:
                raise ValueError("want one fd, got %d" % len(fds))
            pid = os.fork()
        except Exception as e:
            for fd in fds:
                os.close(fd)
            send({"error": str(e)})
            continue
        if pid == 0:
            os._exit(_zygote_run(claim, fds[0], code, path, libc, signal))
        try:
            os.setpgid(pid, pid)  # also done by the child: whichever runs first
        except OSError:
            pass
        os.close(fds[0])
        send({"pid": pid})


def _zygote_run(claim, out_fd, code, path, libc, signal):
    """Runs a claimed child to its end and returns its exit status, the way
    the interpreter ends a script: SystemExit's code, 1 and a traceback for
    an uncaught exception; threads joined, atexit handlers run, output
    flushed."""
    status = 0
    try:
        _zygote_child(claim, out_fd, code, path, libc, signal)
    except SystemExit as e:
        if e.code is None:
            status = 0
        elif isinstance(e.code, int):
            status = e.code & 0xFF
        else:
            sys.stderr.write("%s\n" % (e.code,))
            status = 1
    except BaseException:
        import traceback

        traceback.print_exc()
        status = 1
    try:
        if "threading" in sys.modules:
            sys.modules["threading"]._shutdown()
        import atexit

        atexit._run_exitfuncs()
    except BaseException:
        pass
    flush_output()
    return status


def _zygote_child(claim, out_fd, code, path, libc, signal):
    os.setpgid(0, 0)
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(out_fd, 1)
    os.dup2(out_fd, 2)
    # Nothing of the fork server or of other instances stays open.
    os.closerange(3, 1 << 16)
    if claim.get("drop"):
        os.setgroups([])
        os.setgid(claim["gid"])
        os.setuid(claim["uid"])
    # After the switch of ids, which clears it: die with the fork server,
    # which dies with lamb. 1 is PR_SET_PDEATHSIG.
    if libc.prctl(1, signal.SIGKILL, 0, 0, 0) != 0 or os.getppid() == 1:
        os._exit(1)
    os.chdir(claim["cwd"])
    env = claim["env"]
    os.environ.clear()
    os.environ.update(env)
    time.tzset()
    sys.dont_write_bytecode = bool(env.get("PYTHONDONTWRITEBYTECODE"))
    # Where a start with this PYTHONPATH would have put it: after the
    # script's folder, before the standard library.
    extra = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    sys.path[1:1] = [os.path.abspath(p) for p in extra]
    importlib.invalidate_caches()
    if "random" in sys.modules:
        sys.modules["random"].seed()
    sys.argv[:] = [path]
    # Run this file again as __main__, with module state from this env.
    main_mod = type(sys)("__main__")
    main_mod.__file__ = path
    main_mod.__builtins__ = __builtins__
    sys.modules["__main__"] = main_mod
    exec(code, main_mod.__dict__)


if __name__ == "__main__":
    # An argument, not the environment, which a function's configuration sets.
    if sys.argv[1:2] == ["--lamb-zygote"]:
        zygote(int(sys.argv[2]))
    else:
        main()
