package metrics

import (
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/lambhq/lamb/engine"
)

// Buckets of the duration histograms, in seconds: an invocation runs up to
// Lambda's 900 s timeout; init is bounded by 10 s plus the function's timeout.
var (
	durationBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 900}
	initBuckets     = []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}
)

// Metrics holds lamb's metrics and the registry they are served from.
type Metrics struct {
	reg *prometheus.Registry

	invocations  *prometheus.CounterVec
	duration     *prometheus.HistogramVec
	initDuration *prometheus.HistogramVec
	coldStarts   *prometheus.CounterVec
	apiRequests  *prometheus.CounterVec
	esmBatches   *prometheus.CounterVec
	esmRecords   *prometheus.CounterVec

	// What is read at scrape time (Watch*); set once during wiring.
	mu        sync.Mutex
	instances func() []engine.InstanceInfo
	async     func() AsyncQueue
}

// AsyncQueue is the state of the queue of Event invocations.
type AsyncQueue struct {
	Events int
	Bytes  int64
	Oldest time.Time // first enqueue of the oldest event waiting; zero when none waits
}

// New returns lamb's metrics, labelled with lamb's version and the backend's
// name in lamb_build_info.
func New(version, backend string) *Metrics {
	m := &Metrics{
		reg:          prometheus.NewRegistry(),
		invocations:  counter("lamb_invocations_total", "Invocations by function, version and result (success, error, init_error, timeout, crash, out_of_memory, throttled, aborted).", "function", "version", "result"),
		duration:     histogram("lamb_invocation_duration_seconds", "Duration of invocations, init excluded (REPORT's Duration).", durationBuckets, "function", "version"),
		initDuration: histogram("lamb_init_duration_seconds", "Init duration of cold starts (REPORT's Init Duration).", initBuckets, "function", "version"),
		coldStarts:   counter("lamb_cold_starts_total", "Invocations that launched an instance.", "function", "version"),
		apiRequests:  counter("lamb_api_requests_total", "API requests by API (lambda, logs), operation and HTTP status code.", "api", "operation", "code"),
		esmBatches:   counter("lamb_event_source_batches_total", "Batches event source mappings delivered to functions, by source (sqs, kinesis, dynamodb, ...) and result (success, error).", "function", "source", "result"),
		esmRecords:   counter("lamb_event_source_records_total", "Records in the batches of lamb_event_source_batches_total.", "function", "source", "result"),
	}
	buildInfo := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "lamb_build_info",
		Help:        "lamb's version, the Go version it was built with and its backend; always 1.",
		ConstLabels: prometheus.Labels{"version": version, "goversion": runtime.Version(), "backend": backend},
	})
	buildInfo.Set(1)
	m.reg.MustRegister(m.invocations, m.duration, m.initDuration, m.coldStarts, m.apiRequests,
		m.esmBatches, m.esmRecords, buildInfo, (*stateCollector)(m),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func counter(name, help string, labels ...string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
}

func histogram(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	return prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, labels)
}

// Handler serves the metrics in Prometheus's text (or OpenMetrics) format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Registry is where the metrics are registered, for tests and for embedders
// adding their own.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// WatchInstances makes lamb_instances read instances at every scrape.
func (m *Metrics) WatchInstances(instances func() []engine.InstanceInfo) {
	m.mu.Lock()
	m.instances = instances
	m.mu.Unlock()
}

// WatchAsyncQueue makes the lamb_async_queue_* gauges read queue at every scrape.
func (m *Metrics) WatchAsyncQueue(queue func() AsyncQueue) {
	m.mu.Lock()
	m.async = queue
	m.mu.Unlock()
}

// Invoked counts one finished invocation (engine.Observer's half).
func (m *Metrics) Invoked(fn *engine.Function, inv engine.Invocation) {
	version := fn.Version
	if version == "" {
		version = "$LATEST"
	}
	m.invocations.WithLabelValues(fn.Name, version, string(inv.Outcome)).Inc()
	if inv.Outcome == engine.OutcomeThrottled {
		return // it never ran
	}
	m.duration.WithLabelValues(fn.Name, version).Observe(inv.Duration.Seconds())
	if inv.Cold {
		m.coldStarts.WithLabelValues(fn.Name, version).Inc()
		if inv.InitDuration > 0 {
			m.initDuration.WithLabelValues(fn.Name, version).Observe(inv.InitDuration.Seconds())
		}
	}
}

// APIRequest counts one API request: api is "lambda" or "logs", operation
// the operation's name ("Invoke", "FilterLogEvents"; "Unknown" for requests
// matching none), code the HTTP status answered.
func (m *Metrics) APIRequest(api, operation string, code int) {
	m.apiRequests.WithLabelValues(api, operation, strconv.Itoa(code)).Inc()
}

// EventSourceRecorder is what an event source poller reports to: one call
// per batch it handed to a function. *Metrics implements it.
type EventSourceRecorder interface {
	// EventSourceBatch counts one batch of records from source ("sqs",
	// "kinesis", "dynamodb", ...) delivered to function (its name); ok is
	// false when the invocation failed (the batch is retried or dropped
	// by the mapping's policy, and counted again if retried).
	EventSourceBatch(function, source string, records int, ok bool)
}

// EventSourceBatch implements EventSourceRecorder.
func (m *Metrics) EventSourceBatch(function, source string, records int, ok bool) {
	result := "success"
	if !ok {
		result = "error"
	}
	m.esmBatches.WithLabelValues(function, source, result).Inc()
	m.esmRecords.WithLabelValues(function, source, result).Add(float64(records))
}

// stateCollector reads the gauges of lamb's state at scrape time.
type stateCollector Metrics

var (
	instancesDesc = prometheus.NewDesc("lamb_instances",
		"Instances by function, version, state (starting, idle, busy) and backend.",
		[]string{"function", "version", "state", "backend"}, nil)
	asyncEventsDesc = prometheus.NewDesc("lamb_async_queue_events",
		"Event invocations queued (stored, not finished; retries waiting included).", nil, nil)
	asyncBytesDesc = prometheus.NewDesc("lamb_async_queue_bytes",
		"Bytes of the queued Event invocations' records.", nil, nil)
	asyncAgeDesc = prometheus.NewDesc("lamb_async_queue_oldest_event_age_seconds",
		"Age of the oldest queued Event invocation, from its first enqueue; 0 when the queue is empty.", nil, nil)
)

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- instancesDesc
	ch <- asyncEventsDesc
	ch <- asyncBytesDesc
	ch <- asyncAgeDesc
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	instances, async := c.instances, c.async
	c.mu.Unlock()
	if instances != nil {
		type key struct{ function, version, state, backend string }
		counts := map[key]int{}
		for _, in := range instances() {
			counts[key{in.FunctionName, in.Version, in.State, in.Backend}]++
		}
		for k, n := range counts {
			ch <- prometheus.MustNewConstMetric(instancesDesc, prometheus.GaugeValue, float64(n), k.function, k.version, k.state, k.backend)
		}
	}
	if async != nil {
		q := async()
		age := 0.0
		if !q.Oldest.IsZero() {
			age = max(time.Since(q.Oldest).Seconds(), 0)
		}
		ch <- prometheus.MustNewConstMetric(asyncEventsDesc, prometheus.GaugeValue, float64(q.Events))
		ch <- prometheus.MustNewConstMetric(asyncBytesDesc, prometheus.GaugeValue, float64(q.Bytes))
		ch <- prometheus.MustNewConstMetric(asyncAgeDesc, prometheus.GaugeValue, age)
	}
}
