// Handlers run by AWS's own Node runtime client (aws-lambda-ric) in ric_test.go.

// handler echoes the event with what the ric read from the Runtime API's headers.
export const handler = async (event, context) => {
  console.log("echo-marker");
  return {
    event,
    requestId: context.awsRequestId,
    arn: context.invokedFunctionArn,
    functionName: context.functionName,
    remainingMs: context.getRemainingTimeInMillis(),
  };
};

// fail throws, so the ric reports it to /runtime/invocation/{id}/error.
export const fail = async () => {
  throw new TypeError("failed on request");
};

// stream writes one chunk, then waits for the test to say it received it (by
// answering a GET on event.release), so the test proves the chunk crossed lamb
// before the function finished. With event.fail it throws mid-stream, which the
// ric reports in the response's trailers.
export const stream = awslambda.streamifyResponse(async (event, responseStream, context) => {
  responseStream.setContentType("text/plain");
  responseStream.write("first;");
  const res = await fetch(event.release);
  await res.text();
  if (event.fail) {
    throw new RangeError("broke mid-stream");
  }
  responseStream.write("second:" + context.awsRequestId);
  responseStream.end();
});
