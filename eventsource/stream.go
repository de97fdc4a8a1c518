package eventsource

import (
	"context"
	"encoding/json"
	"errors"
	"hash/fnv"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
)

// shard is one shard of a stream.
type shard struct {
	id     string
	parent string // "" for none
}

// streamRecord is one record read from a shard.
type streamRecord struct {
	seq     string
	key     string // partition key (Kinesis) or item keys (DynamoDB): order is kept per key
	arrival time.Time
	event   any            // as the function gets it
	view    map[string]any // as FilterCriteria see it
}

// streamSource reads one stream (Kinesis or DynamoDB Streams).
type streamSource interface {
	shards(ctx context.Context) ([]shard, error)
	// iterator positions at typ (TRIM_HORIZON, LATEST, AT_TIMESTAMP,
	// AFTER_SEQUENCE_NUMBER with seq).
	iterator(ctx context.Context, shardID, typ, seq string, ts time.Time) (string, error)
	// records reads from an iterator; next is "" once the shard is closed
	// and read to its end.
	records(ctx context.Context, shardID, iter string, limit int) (recs []streamRecord, next string, err error)
	// event is the payload of a batch.
	event(recs []streamRecord) ([]byte, error)
}

// errExpiredIterator is what a source wraps when an iterator is too old.
var errExpiredIterator = errors.New("shard iterator expired")

// relistEvery is how often a stream's shards are listed again, to follow
// splits and merges.
const relistEvery = 10 * time.Second

// streamPoller runs one stream mapping: one goroutine per shard, a
// parent shard read to its end before its children.
type streamPoller struct {
	m    Mapping
	src  streamSource
	host Host
	log  *slog.Logger
	wait time.Duration
	// failed receives the batches given up; nil: they are only logged.
	failed *onFailure
}

func newStreamPoller(m Mapping, src streamSource, host Host, log *slog.Logger, wait time.Duration) *streamPoller {
	return &streamPoller{m: m, src: src, host: host, log: log, wait: wait}
}

func (p *streamPoller) run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	var mu sync.Mutex
	started := map[string]bool{}
	finished := map[string]bool{}
	first := true
	for attempt := 0; ctx.Err() == nil; {
		list, err := p.src.shards(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			p.log.Warn("stream: listing shards", "error", err)
			attempt++
			if !sleep(ctx, backoff(attempt)) {
				return nil
			}
			continue
		}
		attempt = 0
		known := map[string]bool{}
		for _, s := range list {
			known[s.id] = true
		}
		for _, s := range list {
			mu.Lock()
			ready := !started[s.id] && (s.parent == "" || !known[s.parent] || finished[s.parent])
			if ready {
				started[s.id] = true
			}
			mu.Unlock()
			if !ready {
				continue
			}
			pos := p.m.StartingPosition
			if !first || s.parent != "" && known[s.parent] {
				pos = "TRIM_HORIZON" // a shard born after the mapping is read whole
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if p.shard(ctx, s.id, pos) {
					mu.Lock()
					finished[s.id] = true
					mu.Unlock()
				}
			}()
		}
		first = false
		if !sleep(ctx, relistEvery) {
			return nil
		}
	}
	return nil
}

// shard reads one shard in order until ctx ends (false) or the shard is
// closed and read (true).
func (p *streamPoller) shard(ctx context.Context, id, pos string) bool {
	log := p.log.With("shard", id)
	fails := 0
	retry := func(what string, err error) bool {
		if ctx.Err() != nil {
			return false
		}
		log.Warn("stream: "+what, "error", err)
		fails++
		return sleep(ctx, backoff(fails))
	}
	var iter string
	for iter == "" {
		var err error
		iter, err = p.position(ctx, id, pos)
		if err != nil && !retry("positioning in the shard", err) {
			return false
		}
	}
	idle := 0
	for ctx.Err() == nil {
		recs, next, err := p.gather(ctx, id, iter)
		if err != nil {
			if errors.Is(err, errExpiredIterator) {
				iter = ""
				for iter == "" {
					iter, err = p.position(ctx, id, pos)
					if err != nil && !retry("positioning in the shard", err) {
						return false
					}
				}
				continue
			}
			if !retry("reading", err) {
				return false
			}
			continue
		}
		fails = 0
		if len(recs) > 0 {
			idle = 0
			if !p.deliver(ctx, id, recs) {
				return false
			}
			if err := p.host.SaveCheckpoint(ctx, p.m.UUID, id, recs[len(recs)-1].seq); err != nil {
				log.Error("stream: saving the checkpoint", "error", err)
			}
		}
		if next == "" {
			log.Info("stream: shard closed and read to its end")
			return true
		}
		iter = next
		if len(recs) == 0 {
			// Empty polls back off: 50 ms doubling, at most the poll wait.
			idle++
			if !sleep(ctx, min(50*time.Millisecond<<min(idle, 6), p.wait)) {
				return false
			}
		}
	}
	return false
}

// position returns an iterator after the shard's checkpoint, or at the
// starting position when it has none.
func (p *streamPoller) position(ctx context.Context, id, pos string) (string, error) {
	seq, err := p.host.Checkpoint(ctx, p.m.UUID, id)
	if err != nil {
		return "", err
	}
	if seq != "" {
		return p.src.iterator(ctx, id, "AFTER_SEQUENCE_NUMBER", seq, time.Time{})
	}
	if pos == "" {
		pos = "TRIM_HORIZON"
	}
	return p.src.iterator(ctx, id, pos, "", p.m.StartingTimestamp)
}

// gather reads up to BatchSize records, for at most the batching window.
func (p *streamPoller) gather(ctx context.Context, shardID, iter string) ([]streamRecord, string, error) {
	size := max(p.m.BatchSize, 1) * max(p.m.ParallelizationFactor, 1)
	var all []streamRecord
	deadline := time.Now().Add(p.m.MaxBatchingWindow)
	for {
		recs, next, err := p.src.records(ctx, shardID, iter, min(size-len(all), 10000))
		if err != nil {
			if len(all) > 0 {
				return all, iter, nil
			}
			return nil, "", err
		}
		all = append(all, recs...)
		iter = next
		if next == "" || len(all) >= size || p.m.MaxBatchingWindow <= 0 || time.Now().After(deadline) {
			return all, next, nil
		}
		if len(recs) == 0 && !sleep(ctx, min(100*time.Millisecond, time.Until(deadline))) {
			return all, next, nil
		}
	}
}

// deliver invokes the function with recs (those that pass the filter and
// are young enough) until it succeeds or the batch is given up; it
// returns false only when ctx ended first (the checkpoint must not move).
func (p *streamPoller) deliver(ctx context.Context, shardID string, recs []streamRecord) bool {
	var batch []streamRecord
	for _, r := range recs {
		if p.m.Filter.Empty() || p.m.Filter.Match(r.view) {
			batch = append(batch, r)
		}
	}
	if p.m.ParallelizationFactor <= 1 || len(batch) <= 1 {
		return p.invoke(ctx, shardID, batch, 0)
	}
	// ParallelizationFactor: up to that many batches of the shard at once,
	// each key's records in one lane (by hash), in order, at most BatchSize
	// a batch; the checkpoint moves once every lane is done.
	groups := make([][]streamRecord, p.m.ParallelizationFactor)
	for _, r := range batch {
		h := fnv.New32a()
		_, _ = h.Write([]byte(r.key))
		i := int(h.Sum32() % uint32(len(groups)))
		groups[i] = append(groups[i], r)
	}
	var wg sync.WaitGroup
	ok := make([]bool, len(groups))
	for i, g := range groups {
		if len(g) == 0 {
			ok[i] = true
			continue
		}
		wg.Go(func() {
			size := max(p.m.BatchSize, 1)
			for len(g) > 0 {
				chunk := g[:min(size, len(g))]
				g = g[len(chunk):]
				if !p.invoke(ctx, shardID, chunk, 0) {
					return
				}
			}
			ok[i] = true
		})
	}
	wg.Wait()
	return !slices.Contains(ok, false)
}

func (p *streamPoller) invoke(ctx context.Context, shardID string, batch []streamRecord, retries int) bool {
	throttles := 0
	for {
		if p.m.MaximumRecordAge > 0 {
			young := batch[:0:0]
			for _, r := range batch {
				if r.arrival.IsZero() || time.Since(r.arrival) <= p.m.MaximumRecordAge {
					young = append(young, r)
				}
			}
			if n := len(batch) - len(young); n > 0 {
				p.log.Warn("stream: records older than MaximumRecordAgeInSeconds skipped", "shard", shardID, "records", n)
				var old []streamRecord
				for _, r := range batch {
					if !r.arrival.IsZero() && time.Since(r.arrival) > p.m.MaximumRecordAge {
						old = append(old, r)
					}
				}
				p.giveUp(ctx, failure{shardID: shardID, condition: condRecordAge, batch: old, attempts: retries})
			}
			batch = young
		}
		if len(batch) == 0 {
			return true
		}
		payload, err := p.src.event(batch)
		if err != nil {
			p.log.Error("stream: encoding the event; batch skipped", "shard", shardID, "error", err)
			return true
		}
		res, err := p.host.Invoke(ctx, p.m.FunctionArn, payload)
		if ctx.Err() != nil {
			return false
		}
		if err != nil {
			// The function did not run: retried without counting.
			if !errors.Is(err, ErrThrottled) {
				p.log.Warn("stream: invoke failed; retrying", "shard", shardID, "error", err)
			}
			throttles++
			if !sleep(ctx, backoff(throttles)) {
				return false
			}
			continue
		}
		failedFrom := 0
		if res.FunctionError == "" {
			failedFrom = len(batch)
			if p.m.ReportItemFailures {
				failedFrom = firstFailed(res.Payload, batch)
			}
			if failedFrom == len(batch) {
				p.host.Processed(ctx, p.m.UUID, ResultOK)
				return true
			}
		}
		p.host.Processed(ctx, p.m.UUID, ResultProblem)
		p.log.Info("stream: function error", "shard", shardID, "records", len(batch), "retries", retries,
			"error", res.FunctionError, "payload", truncate(res.Payload, 256))
		if failedFrom > 0 {
			// ReportBatchItemFailures: what came before the first failure is done.
			batch = batch[failedFrom:]
		} else if p.m.BisectOnError && len(batch) > 1 {
			// Splitting does not count against MaximumRetryAttempts.
			half := len(batch) / 2
			return p.invoke(ctx, shardID, batch[:half], retries) && p.invoke(ctx, shardID, batch[half:], retries)
		}
		retries++
		if p.m.MaximumRetryAttempts >= 0 && retries > p.m.MaximumRetryAttempts {
			p.log.Warn("stream: MaximumRetryAttempts reached; records discarded",
				"shard", shardID, "records", len(batch), "first", batch[0].seq, "last", batch[len(batch)-1].seq)
			p.giveUp(ctx, failure{shardID: shardID, condition: condRetriesExhausted, batch: batch, attempts: retries, res: res})
			return true
		}
		if !sleep(ctx, backoff(retries)) {
			return false
		}
	}
}

// giveUp hands a discarded batch to the mapping's on-failure destination.
func (p *streamPoller) giveUp(ctx context.Context, f failure) {
	if p.failed != nil && len(f.batch) > 0 {
		p.failed.send(ctx, f)
	}
}

// firstFailed reads a ReportBatchItemFailures response of a stream batch:
// the index of the first record to retry (len(batch): none). An item that
// names no record of the batch fails it whole (0).
func firstFailed(payload []byte, batch []streamRecord) int {
	ids, all := batchItemFailures(payload)
	if all {
		return 0
	}
	first := len(batch)
	for _, id := range ids {
		i := -1
		for j, r := range batch {
			if r.seq == id {
				i = j
				break
			}
		}
		if i < 0 {
			return 0
		}
		first = min(first, i)
	}
	return first
}

// jsonView decodes v's JSON form for FilterCriteria, with the member
// named field parsed from JSON data when it is JSON.
func jsonView(v any, field string, data []byte) map[string]any {
	b, _ := json.Marshal(v)
	var m map[string]any
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.UseNumber()
	_ = d.Decode(&m)
	if field != "" {
		var parsed any
		dd := json.NewDecoder(strings.NewReader(string(data)))
		dd.UseNumber()
		if err := dd.Decode(&parsed); err == nil && !dd.More() {
			m[field] = parsed
		}
	}
	return m
}
