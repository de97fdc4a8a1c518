package main

import (
	"time"

	"github.com/spf13/pflag"

	"github.com/lambhq/lamb/api"
	"github.com/lambhq/lamb/engine"
	"github.com/lambhq/lamb/metrics"
)

// observabilityOptions are serve's flags for logs and metrics.
type observabilityOptions struct {
	logRetention time.Duration
	logMaxEvents int
}

func addObservabilityFlags(f *pflag.FlagSet, o *observabilityOptions) {
	f.DurationVar(&o.logRetention, "log-retention", api.DefaultLogRetention, "keep functions' log events (CloudWatch Logs API, in memory) this long")
	f.IntVar(&o.logMaxEvents, "log-max-events", api.DefaultLogMaxEvents, "keep at most this many log events per log group, dropping the oldest")
}

// observer tells the logbook and the metrics what the engine does.
type observer struct {
	logs    *api.Logbook
	metrics *metrics.Metrics
}

func (o observer) LogLine(fn *engine.Function, stream string, line []byte) {
	o.logs.LogLine(fn, stream, line)
}

func (o observer) Invoked(fn *engine.Function, inv engine.Invocation) { o.metrics.Invoked(fn, inv) }

// watch makes the metrics read the engine's instances and the API's queue.
func watch(m *metrics.Metrics, eng *engine.Engine, srv *api.Server) {
	m.WatchInstances(eng.Instances)
	m.WatchAsyncQueue(func() metrics.AsyncQueue {
		n, b, oldest := srv.AsyncQueueStats()
		return metrics.AsyncQueue{Events: n, Bytes: b, Oldest: oldest}
	})
}
