package eventsource

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// Defaults of the pollers.
const (
	// DefaultSQSConcurrency is the number of batches an SQS mapping has in
	// flight when its ScalingConfig sets no MaximumConcurrency (AWS scales
	// up to 1250; a laptop wants fewer).
	DefaultSQSConcurrency = 5
	// DefaultPollWait is the long poll of an SQS receive and the longest
	// wait between two empty stream polls.
	DefaultPollWait = time.Second
	// maxBackoff bounds the wait after repeated errors.
	maxBackoff = 10 * time.Second
)

// Endpoints are where the pollers reach each service ("": not polled).
type Endpoints struct {
	SQS             string
	Kinesis         string
	DynamoDBStreams string
}

// For returns the endpoint of the service of kind ("sqs", "kinesis", "dynamodb").
func (e Endpoints) For(kind string) string {
	switch kind {
	case "sqs":
		return e.SQS
	case "kinesis":
		return e.Kinesis
	case "dynamodb":
		return e.DynamoDBStreams
	}
	return ""
}

// Config configures a Manager.
type Config struct {
	Host      Host
	Endpoints Endpoints
	Logger    *slog.Logger // nil: slog.Default()
	// AWSConfig loads the SDK configuration (credentials) for a region.
	// nil: the SDK's default chain (environment, shared files, IMDS).
	AWSConfig func(ctx context.Context, region string) (aws.Config, error)
	// PollWait is DefaultPollWait when zero.
	PollWait time.Duration
}

// Manager runs the pollers of the mappings it is given. It is safe for
// concurrent use.
type Manager struct {
	cfg Config
	log *slog.Logger

	mu      sync.Mutex
	ctx     context.Context // nil until Run
	pending map[string]Mapping
	running map[string]*runner
	wg      sync.WaitGroup
}

// runner is one mapping's pollers.
type runner struct {
	m      Mapping
	cancel context.CancelFunc
	done   chan struct{}
}

// NewManager returns a Manager; it polls nothing until Run.
func NewManager(cfg Config) *Manager {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.PollWait <= 0 {
		cfg.PollWait = DefaultPollWait
	}
	if cfg.AWSConfig == nil {
		cfg.AWSConfig = func(ctx context.Context, region string) (aws.Config, error) {
			return config.LoadDefaultConfig(ctx, config.WithRegion(region))
		}
	}
	return &Manager{cfg: cfg, log: cfg.Logger, pending: map[string]Mapping{}, running: map[string]*runner{}}
}

// Polls reports whether the Manager has an endpoint for the mapping's source.
func (m *Manager) Polls(eventSourceArn string) bool {
	return m != nil && m.cfg.Endpoints.For(Kind(eventSourceArn)) != ""
}

// Run starts the pollers of the mappings applied so far and of those
// applied later, until ctx ends; then it stops them all and waits for them.
func (m *Manager) Run(ctx context.Context) error {
	m.mu.Lock()
	if m.ctx != nil {
		m.mu.Unlock()
		return errors.New("eventsource: Run called twice")
	}
	m.ctx = ctx
	for _, mp := range m.pending {
		m.startLocked(mp)
	}
	m.pending = nil
	m.mu.Unlock()
	<-ctx.Done()
	m.mu.Lock()
	for _, r := range m.running {
		r.cancel()
	}
	m.mu.Unlock()
	m.wg.Wait()
	return nil
}

// Apply starts, replaces or stops (when disabled) the pollers of a mapping.
// It does not wait for the old pollers: the new ones start when they ended.
func (m *Manager) Apply(mp Mapping) {
	if !m.Polls(mp.EventSourceArn) {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ctx == nil {
		m.pending[mp.UUID] = mp
		return
	}
	if r, ok := m.running[mp.UUID]; ok && reflect.DeepEqual(r.m, mp) {
		return
	}
	m.startLocked(mp)
}

// Remove stops a mapping's pollers.
func (m *Manager) Remove(uuid string) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ctx == nil {
		delete(m.pending, uuid)
		return
	}
	if r, ok := m.running[uuid]; ok {
		r.cancel()
		delete(m.running, uuid)
	}
}

// startLocked replaces the mapping's runner (after the old one ended).
func (m *Manager) startLocked(mp Mapping) {
	old := m.running[mp.UUID]
	if old != nil {
		old.cancel()
	}
	if m.ctx.Err() != nil {
		return
	}
	ctx, cancel := context.WithCancel(m.ctx)
	r := &runner{m: mp, cancel: cancel, done: make(chan struct{})}
	m.running[mp.UUID] = r
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		defer close(r.done)
		defer cancel()
		if old != nil {
			<-old.done
		}
		if !mp.Enabled {
			return
		}
		log := m.log.With("mapping", mp.UUID, "source", mp.EventSourceArn, "function", mp.FunctionArn)
		log.Info("event source mapping polling")
		if err := m.poll(ctx, mp, log); err != nil && ctx.Err() == nil {
			log.Error("event source mapping stopped polling", "error", err)
			return
		}
		log.Info("event source mapping stopped polling")
	}()
}

// poll runs the mapping's pollers until ctx ends.
func (m *Manager) poll(ctx context.Context, mp Mapping, log *slog.Logger) error {
	region, _, _, err := arnParts(mp.EventSourceArn)
	if err != nil {
		return err
	}
	var awsCfg aws.Config
	for attempt := 0; ; attempt++ {
		awsCfg, err = m.cfg.AWSConfig(ctx, region)
		if err == nil {
			break
		}
		log.Warn("loading AWS configuration", "error", err)
		if !sleep(ctx, backoff(attempt)) {
			return nil
		}
	}
	kind := Kind(mp.EventSourceArn)
	endpoint := m.cfg.Endpoints.For(kind)
	switch kind {
	case "sqs":
		c := sqs.NewFromConfig(awsCfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(endpoint) })
		return (&sqsPoller{m: mp, c: c, host: m.cfg.Host, log: log, wait: m.cfg.PollWait}).run(ctx)
	case "kinesis":
		c := kinesis.NewFromConfig(awsCfg, func(o *kinesis.Options) { o.BaseEndpoint = aws.String(endpoint) })
		p := newStreamPoller(mp, kinesisSource{c: c, arn: mp.EventSourceArn, region: region}, m.cfg.Host, log, m.cfg.PollWait)
		p.failed = m.onFailure(awsCfg, mp, "KinesisBatchInfo", log)
		return p.run(ctx)
	case "dynamodb":
		c := dynamodbstreams.NewFromConfig(awsCfg, func(o *dynamodbstreams.Options) { o.BaseEndpoint = aws.String(endpoint) })
		p := newStreamPoller(mp, ddbSource{c: c, arn: mp.EventSourceArn, region: region}, m.cfg.Host, log, m.cfg.PollWait)
		p.failed = m.onFailure(awsCfg, mp, "DDBStreamBatchInfo", log)
		return p.run(ctx)
	}
	return fmt.Errorf("eventsource: %s: not a source lamb polls", mp.EventSourceArn)
}

// onFailure is the mapping's on-failure destination, nil when it has none
// lamb can reach (only SQS queues, at the SQS endpoint).
func (m *Manager) onFailure(awsCfg aws.Config, mp Mapping, infoKey string, log *slog.Logger) *onFailure {
	if mp.OnFailure == "" {
		return nil
	}
	if Kind(mp.OnFailure) != "sqs" || m.cfg.Endpoints.SQS == "" {
		log.Warn("on-failure destination not delivered: lamb sends only to SQS queues, at an SQS endpoint", "destination", mp.OnFailure)
		return nil
	}
	c := sqs.NewFromConfig(awsCfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(m.cfg.Endpoints.SQS) })
	return &onFailure{c: c, queueArn: mp.OnFailure, functionArn: mp.FunctionArn, streamArn: mp.EventSourceArn, infoKey: infoKey, log: log}
}

// backoff is the wait after attempt failures in a row: 100 ms doubling, at
// most maxBackoff.
func backoff(attempt int) time.Duration {
	d := 100 * time.Millisecond
	for range min(attempt, 10) {
		d *= 2
	}
	return min(d, maxBackoff)
}

// sleep waits d or until ctx ends; it reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
