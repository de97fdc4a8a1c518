"""Response streaming and function URLs, checked with boto3 and plain HTTP
against a running lamb (LAMB_ENDPOINT)."""
import http.client
import json
import time
import unittest
import urllib.parse

from botocore.exceptions import ClientError

from lambtest import ENDPOINT, lambda_client, make_zip

HOSTPORT = urllib.parse.urlparse(ENDPOINT).netloc
PORT = HOSTPORT.rsplit(":", 1)[1]
ROLE = "arn:aws:iam::000000000000:role/lambda-role"
C = lambda_client(read_timeout=60)

STREAM_JS = r'''
exports.handler = awslambda.streamifyResponse(async (event, stream) => {
  stream.write("first;");
  await new Promise((r) => setTimeout(r, 1200));
  stream.write("second;");
  stream.end();
});
'''

HTTP_STREAM_JS = r'''
exports.handler = awslambda.streamifyResponse(async (event, stream) => {
  stream = awslambda.HttpResponseStream.from(stream, {
    statusCode: 203, headers: { "content-type": "text/plain", "x-streamed": "yes" } });
  stream.write("chunk-1;");
  await new Promise((r) => setTimeout(r, 500));
  stream.write("chunk-2;");
  stream.end();
});
'''

WEB_PY = r'''
import json
def handler(event, context):
    if event["rawPath"] == "/created":
        return {"statusCode": 201, "headers": {"x-made-by": "lamb", "content-type": "text/plain"}, "body": "hi"}
    return event
'''


def create(name, files, runtime, handler):
    C.create_function(FunctionName=name, Runtime=runtime, Role=ROLE, Handler=handler,
                      Code={"ZipFile": make_zip(files)}, Timeout=10)
    C.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})


def url_request(url, method="GET", path="/", body=None, headers=None):
    """Sends a request to a function URL by its host name, connecting to lamb's
    address (Python cannot resolve *.localhost)."""
    host = urllib.parse.urlparse(url).netloc
    conn = http.client.HTTPConnection(HOSTPORT, timeout=30)
    h = {"Host": host}
    h.update(headers or {})
    conn.request(method, path, body=body, headers=h)
    return conn, conn.getresponse()



def allow_public_url(name):
    """The two statements AWS requires before anyone may call a NONE URL
    (since October 2025, docs.aws.amazon.com/lambda/latest/dg/urls-auth.html)."""
    C.add_permission(FunctionName=name, StatementId="public-url", Action="lambda:InvokeFunctionUrl",
                     Principal="*", FunctionUrlAuthType="NONE")
    C.add_permission(FunctionName=name, StatementId="public-invoke", Action="lambda:InvokeFunction",
                     Principal="*", InvokedViaFunctionUrl=True)

class Streaming(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        create("streamer", {"index.js": STREAM_JS}, "nodejs22.x", "index.handler")
        create("httpstream", {"index.js": HTTP_STREAM_JS}, "nodejs22.x", "index.handler")
        create("web", {"app.py": WEB_PY}, "python3.12", "app.handler")

    def test_invoke_with_response_stream(self):
        for attempt in ("cold", "warm"):
            start = time.monotonic()
            r = C.invoke_with_response_stream(FunctionName="streamer", LogType="Tail")
            self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 200)
            chunks, times, complete = [], [], None
            for ev in r["EventStream"]:
                if "PayloadChunk" in ev:
                    chunks.append(ev["PayloadChunk"]["Payload"].decode())
                    times.append(time.monotonic() - start)
                elif "InvokeComplete" in ev:
                    complete = ev["InvokeComplete"]
            total = time.monotonic() - start
            print(f"{attempt}: first chunk after {times[0]:.3f}s, stream done after {total:.3f}s")
            self.assertEqual("".join(chunks), "first;second;")
            self.assertIsNotNone(complete)
            self.assertNotIn("ErrorCode", complete)
            self.assertIn("LogResult", complete)
            # The first chunk arrives before the function's second write (1.2 s later).
            self.assertLess(times[0], 1.0, times)
            self.assertGreaterEqual(total, 1.15)

    def test_none_url_event_and_structured_response(self):
        url = C.create_function_url_config(FunctionName="web", AuthType="NONE")["FunctionUrl"]
        self.assertRegex(url, r"^http://[a-z0-9]{32}\.lambda-url\.us-east-1\.localhost:" + PORT + "/$")
        conn, resp = url_request(url, "GET", "/created")
        self.assertEqual(resp.status, 403)  # no public policy yet: AWS's answer
        self.assertEqual(json.loads(resp.read()), {"Message": "Forbidden"})
        conn.close()
        allow_public_url("web")
        conn, resp = url_request(url, "POST", "/orders/42?expand=items&tag=a&tag=b", body=b'{"n":1}',
                                 headers={"Content-Type": "application/json", "User-Agent": "boto3-e2e"})
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.getheader("Content-Type"), "application/json")
        ev = json.loads(resp.read())
        conn.close()
        self.assertEqual(ev["version"], "2.0")
        self.assertEqual(ev["routeKey"], "$default")
        self.assertEqual(ev["rawPath"], "/orders/42")
        self.assertEqual(ev["rawQueryString"], "expand=items&tag=a&tag=b")
        self.assertEqual(ev["queryStringParameters"], {"expand": "items", "tag": "a,b"})
        self.assertEqual(ev["body"], '{"n":1}')
        self.assertFalse(ev["isBase64Encoded"])
        rc = ev["requestContext"]
        self.assertEqual(rc["http"]["method"], "POST")
        self.assertEqual(rc["http"]["path"], "/orders/42")
        self.assertEqual(rc["http"]["userAgent"], "boto3-e2e")
        self.assertEqual(rc["http"]["sourceIp"], "127.0.0.1")
        self.assertEqual(rc["accountId"], "000000000000")
        url_id = url.split("//")[1].split(".")[0]
        self.assertEqual(rc["apiId"], url_id)
        self.assertEqual(rc["domainPrefix"], url_id)
        self.assertTrue(rc["domainName"].startswith(url_id + ".lambda-url.us-east-1."))
        for key in ("requestId", "time", "timeEpoch"):
            self.assertIn(key, rc)

        conn, resp = url_request(url, "GET", "/created")
        self.assertEqual(resp.status, 201)
        self.assertEqual(resp.getheader("x-made-by"), "lamb")
        self.assertEqual(resp.read(), b"hi")
        conn.close()

    def test_response_stream_url(self):
        url = C.create_function_url_config(FunctionName="httpstream", AuthType="NONE",
                                           InvokeMode="RESPONSE_STREAM")["FunctionUrl"]
        allow_public_url("httpstream")
        self.assertEqual(C.get_function_url_config(FunctionName="httpstream")["InvokeMode"], "RESPONSE_STREAM")
        start = time.monotonic()
        conn, resp = url_request(url)
        self.assertEqual(resp.status, 203)
        self.assertEqual(resp.getheader("x-streamed"), "yes")
        first = resp.read1(64)
        t_first = time.monotonic() - start
        rest = resp.read()
        total = time.monotonic() - start
        conn.close()
        print(f"url stream: first bytes after {t_first:.3f}s, done after {total:.3f}s")
        self.assertEqual(first + rest, b"chunk-1;chunk-2;")
        self.assertEqual(first, b"chunk-1;")
        self.assertGreaterEqual(total, 0.45)

    def test_unknown_url(self):
        conn, resp = url_request("http://" + "z" * 32 + ".lambda-url.us-east-1.localhost:" + PORT + "/")
        self.assertEqual(resp.status, 404)
        conn.close()
        with self.assertRaises(ClientError) as e:
            C.get_function_url_config(FunctionName="streamer")
        self.assertEqual(e.exception.response["Error"]["Code"], "ResourceNotFoundException")


if __name__ == "__main__":
    unittest.main(verbosity=2)
