// Package metrics is lamb's Prometheus instrumentation: what `lamb serve`
// exposes at /metrics. It knows the engine's observations (invocations,
// instances) and counts what the API and, later, event source pollers tell
// it; it serves nothing itself but an [http.Handler].
//
// # Names
//
// Every metric is named lamb_<what>_<unit>, counters end in _total and
// durations are in seconds, after Prometheus's naming conventions:
//
//	lamb_invocations_total{function,version,result}      counter
//	lamb_invocation_duration_seconds{function,version}   histogram (init excluded)
//	lamb_init_duration_seconds{function,version}         histogram (cold starts)
//	lamb_cold_starts_total{function,version}             counter
//	lamb_instances{function,version,state,backend}       gauge (starting, idle, busy)
//	lamb_async_queue_events                              gauge
//	lamb_async_queue_bytes                               gauge
//	lamb_async_queue_oldest_event_age_seconds            gauge (0 when empty)
//	lamb_event_source_batches_total{function,source,result} counter
//	lamb_event_source_records_total{function,source,result} counter
//	lamb_api_requests_total{api,operation,code}          counter
//	lamb_build_info{version,goversion,backend}           gauge, always 1
//
// result is an [engine.Outcome]: success, error, init_error, timeout, crash,
// out_of_memory, throttled or aborted. The Go runtime's and the process's
// standard collectors (go_*, process_*) are registered too.
//
// # Concurrency
//
// A Metrics is safe for concurrent use; its methods never block.
package metrics
