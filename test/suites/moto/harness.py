"""Run moto's Lambda tests (tests/test_awslambda) against lamb.

moto's tests run in server mode (TEST_SERVER_MODE=true): every boto3 client
they make talks to one endpoint, this harness's proxy. The proxy sends each
request whose SigV4 credential scope names the `lambda` service to lamb and
everything else (IAM roles, S3 buckets for code, SQS, logs, moto's own
/moto-api) to a moto server. moto resets its state before every test by
POSTing /moto-api/reset; the proxy answers that by resetting moto and
restarting lamb on a fresh --ephemeral store, so each test starts clean on
both sides, as it would against a fresh AWS account.

Usage: harness.py --lamb BIN --moto-src DIR [--junit FILE] [pytest args...]
"""

import argparse
import http.client
import http.server
import os
import re
import shutil
import signal
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import xml.etree.ElementTree as ET

ACCOUNT = "123456789012"  # moto's DEFAULT_ACCOUNT_ID, which the tests assert in ARNs
SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, proc, what, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not answer {url} within {timeout}s")


class Lamb:
    """One lamb serve process at a time; restart() swaps in a fresh one."""

    def __init__(self, binary, port, moto_url, log):
        self.binary, self.port, self.moto_url, self.log = binary, port, moto_url, log
        self.proc = None
        self.data_dir = None
        self.lock = threading.Lock()

    def _start(self):
        self.data_dir = tempfile.mkdtemp(prefix="lamb-moto-")
        self.proc = subprocess.Popen(
            [
                self.binary, "serve", "--ephemeral", "--backend", "process",
                "--addr", f"127.0.0.1:{self.port}", "--data-dir", self.data_dir,
                "--account-id", ACCOUNT, "--log-level", "warn",
                "--s3-endpoint", self.moto_url,
                "--event-source-endpoint", self.moto_url,
                "--destinations-endpoint", self.moto_url,
                "--async-retry-delay", "1s",
            ],
            stdout=self.log, stderr=self.log, start_new_session=True,
        )
        wait_http(f"http://127.0.0.1:{self.port}/_lamb/health", self.proc, "lamb")

    def _stop(self):
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def restart(self):
        with self.lock:
            self._stop()
            self._start()

    def stop(self):
        with self.lock:
            self._stop()


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    lamb = None  # set by main
    moto_port = None

    def log_message(self, *args):
        pass

    def _target(self):
        if self.path.startswith("/moto-api/"):
            return self.moto_port
        m = SCOPE.search(self.headers.get("Authorization", ""))
        if m:
            return self.lamb.port if m.group(1) == "lambda" else self.moto_port
        # Unsigned: Lambda's REST paths start with a date (/2015-03-31/...).
        return self.lamb.port if re.match(r"^/20\d\d-\d\d-\d\d/", self.path) else self.moto_port

    def _forward(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        port = self._target()
        if self.path.startswith("/moto-api/reset") and self.command == "POST":
            self.lamb.restart()
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "keep-alive")}
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        try:
            conn.request(self.command, self.path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        except OSError as e:
            self.send_error(502, f"proxy: {e}")
            return
        finally:
            conn.close()
        self.send_response(resp.status, resp.reason)
        for k, v in resp.getheaders():
            if k.lower() not in ("transfer-encoding", "connection", "content-length", "keep-alive"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _forward


class ThreadingServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A client that drops its keep-alive connection is not news.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def summarize(junit):
    root = ET.parse(junit).getroot()
    rows = []
    for case in root.iter("testcase"):
        name = f"{case.get('classname').split('.')[-1]}::{case.get('name')}"
        result = "passed"
        for tag in ("failure", "error", "skipped"):
            el = case.find(tag)
            if el is not None:
                result = {"failure": "failed", "error": "error", "skipped": "skipped"}[tag]
                msg = (el.get("message") or "").splitlines()
                rows.append((name, result, msg[0][:200] if msg else ""))
                break
        else:
            rows.append((name, result, ""))
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lamb", required=True)
    ap.add_argument("--moto-src", required=True, help="a checkout of getmoto/moto holding tests/test_awslambda")
    ap.add_argument("--junit", default=os.path.join(tempfile.gettempdir(), "lamb-suite-moto.xml"))
    ap.add_argument("--logs", default=os.path.join(tempfile.gettempdir(), "lamb-suite-moto-logs"))
    ap.add_argument("pytest_args", nargs="*")
    args = ap.parse_args()

    os.makedirs(args.logs, exist_ok=True)
    moto_log = open(os.path.join(args.logs, "moto.log"), "w")
    lamb_log = open(os.path.join(args.logs, "lamb.log"), "w")
    moto_port, lamb_port, proxy_port = free_port(), free_port(), free_port()
    moto_url = f"http://127.0.0.1:{moto_port}"
    moto = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(moto_port)],
        stdout=moto_log, stderr=moto_log, start_new_session=True,
    )
    lamb = Lamb(os.path.abspath(args.lamb), lamb_port, moto_url, lamb_log)
    server = None
    try:
        wait_http(f"{moto_url}/moto-api/", moto, "moto server")
        lamb.restart()
        Proxy.lamb, Proxy.moto_port = lamb, moto_port
        server = ThreadingServer(("127.0.0.1", proxy_port), Proxy)
        threading.Thread(target=server.serve_forever, daemon=True).start()

        env = dict(os.environ)
        env.update(
            TEST_SERVER_MODE="true",
            TEST_SERVER_MODE_ENDPOINT=f"http://127.0.0.1:{proxy_port}",
            AWS_ACCESS_KEY_ID="FOOBARKEY", AWS_SECRET_ACCESS_KEY="FOOBARSECRET",
            AWS_DEFAULT_REGION="us-east-1",
            # moto's tests skip what needs Docker for moto's own invocations;
            # lamb runs functions itself, so let them run.
            SKIP_REQUIRES_DOCKER="false",
        )
        for k in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_LAMBDA"):
            env.pop(k, None)
        # pytest may come from Debian (python3-pytest) beside a pyenv python
        # that has moto: append its path so the interpreter's own packages win.
        boot = ("import sys; sys.path.append('/usr/lib/python3/dist-packages'); "
                "import pytest; sys.exit(pytest.main(sys.argv[1:]))")
        cmd = [sys.executable, "-c", boot, "-p", "no:cacheprovider", "-q", "-rN",
               f"--junitxml={args.junit}"] + (args.pytest_args or ["tests/test_awslambda"])
        rc = subprocess.call(cmd, cwd=args.moto_src, env=env)
    finally:
        if server:
            server.shutdown()
        lamb.stop()
        moto.send_signal(signal.SIGTERM)
        try:
            moto.wait(timeout=10)
        except subprocess.TimeoutExpired:
            moto.kill()

    rows = summarize(args.junit)
    counts = {}
    for _, result, _ in rows:
        counts[result] = counts.get(result, 0) + 1
    for name, result, msg in rows:
        if result in ("failed", "error"):
            print(f"{result.upper():7} {name}: {msg}")
    print(f"moto suite: {counts.get('passed', 0)} passed, {counts.get('failed', 0) + counts.get('error', 0)} failed, "
          f"{counts.get('skipped', 0)} skipped (junit: {args.junit}, logs: {args.logs})")
    return rc


if __name__ == "__main__":
    sys.exit(main())
