// Package engine runs AWS Lambda functions locally: it keeps a warm pool of
// instances per function configuration, schedules invocations on them, retries
// invocations that never reached a runtime, enforces timeouts and stops idle
// instances. Where instances run is a [Backend]'s business (local processes,
// containers, Pods); the engine never depends on which.
//
// # Embedding
//
// Create a backend, then an Engine, and invoke functions described by a
// [Function]:
//
//	b, _ := process.New(process.Config{WorkDir: dir})
//	e := engine.New(b, engine.WithMaxInstances(4))
//	defer e.Close(ctx)
//	go e.RunCleanup(ctx, 0) // optional: stop idle instances after the TTL
//	res, err := e.Invoke(ctx, fn, &engine.Request{RequestID: id, Payload: payload})
//
// New starts no goroutines. RunCleanup blocks until its context ends; the caller
// decides where it runs. Close stops every instance and waits for background stops.
//
// # Pools and concurrency
//
// Instances are pooled by a key made of the function's ARN, version and a hash
// of everything that shapes a sandbox (code, runtime, handler, environment,
// memory, timeout, layers, image, architecture). When a function's
// configuration changes, the next invocation gets a new pool; instances of the
// old pool finish their current call and stop.
//
// Callers pass the function's current configuration: an invocation made with
// an older configuration still runs, but retires the newer pool in turn.
//
// An instance serves one invocation at a time. An invocation takes the most
// recently used idle instance, else launches a new one while under the limit:
//   - with ReservedConcurrency set, the limit is per function, as in AWS: it
//     counts the invocations in flight (instances busy with one or starting
//     for one) across all pools of the function's ARN, every version and
//     configuration together; idle instances, provisioned ones included, don't
//     count. Over it the invocation fails at once with [ErrThrottled], as AWS
//     throttles synchronous invocations (429), even if an idle instance is at
//     hand;
//   - without it, the limit is the engine's WithMaxInstances, counting the
//     instances (idle ones included) of one pool. At the limit the invocation
//     waits for the first instance to free up, honouring its context. Locally
//     the engine's limit protects the machine, not an account quota, so queuing
//     is friendlier than failing.
//
// ReservedConcurrency 0 throttles every invocation.
//
// # Failures
//
// Errors returned by Invoke are infrastructure failures or the caller's context
// ending. Everything the function itself did wrong (handler errors, init
// errors, a crashed runtime, a timeout) is a [Result] with FunctionError
// "Unhandled" and AWS's error document as payload. An instance found dead
// before an invocation reached it is evicted and the invocation retried on a
// fresh instance, at most four times; once delivered, an invocation is never
// retried, so it never runs twice.
//
// Provisioned instances ([Engine.Provision]) that die are replaced in the
// background without waiting for an invocation, backing off while the
// replacements keep failing.
//
// # Observing
//
// [WithObserver] tells an [Observer] every log line with the log stream of
// the instance that wrote it (named as AWS names streams, one per instance),
// and how each invocation ended: its [Outcome], whether it was a cold start,
// its durations. Throttled invocations are reported too. lamb's CloudWatch
// Logs API and Prometheus metrics are built on it.
package engine
