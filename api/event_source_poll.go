package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/lambhq/lamb/engine"
	"github.com/lambhq/lamb/eventsource"
	"github.com/lambhq/lamb/store"
)

// Polling event source mappings: the API hands each stored mapping to
// Config.EventSources (an eventsource.Manager) when it is created,
// updated, deleted and when the server starts; the manager's pollers call
// back through EventSourceHost to invoke the function, keep stream
// checkpoints (bucketESMCheckpoints) and report LastProcessingResult.

// EventSourcePoller runs the pollers of event source mappings
// (*eventsource.Manager).
type EventSourcePoller interface {
	// Polls reports whether mappings of this source are polled (an endpoint
	// is configured for its service).
	Polls(eventSourceArn string) bool
	Apply(m eventsource.Mapping)
	Remove(uuid string)
}

// esmState is what the Server remembers of polled mappings.
type esmState struct {
	mu   sync.Mutex
	keys map[string]string // uuid -> bucketESM key
	last map[string]string // uuid -> LastProcessingResult as stored
}

func (s *Server) polls(source string) bool {
	return s.cfg.EventSources != nil && s.cfg.EventSources.Polls(source)
}

// applyESM hands a mapping, as stored under key, to the pollers.
func (s *Server) applyESM(key string, doc esmDoc) {
	if s.cfg.EventSources == nil {
		return
	}
	m, err := mappingOf(doc)
	if err != nil {
		s.log.Warn("event source mapping not polled", "uuid", doc["UUID"], "error", err)
		return
	}
	s.esm.mu.Lock()
	if s.esm.keys == nil {
		s.esm.keys, s.esm.last = map[string]string{}, map[string]string{}
	}
	s.esm.keys[m.UUID] = key
	s.esm.last[m.UUID], _ = doc["LastProcessingResult"].(string)
	s.esm.mu.Unlock()
	s.cfg.EventSources.Apply(m)
}

func (s *Server) removeESM(uuid string) {
	if s.cfg.EventSources == nil {
		return
	}
	s.esm.mu.Lock()
	delete(s.esm.keys, uuid)
	delete(s.esm.last, uuid)
	s.esm.mu.Unlock()
	s.cfg.EventSources.Remove(uuid)
}

// RestoreEventSources hands every stored mapping to the pollers (at start).
func (s *Server) RestoreEventSources(ctx context.Context) error {
	if s.cfg.EventSources == nil {
		return nil
	}
	type entry struct {
		key string
		doc esmDoc
	}
	var all []entry
	err := s.store.View(ctx, func(tx store.Tx) error {
		return store.Each(tx, bucketESM, "", "", func(key string, d *esmDoc) error {
			all = append(all, entry{key, d.settled()})
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("load event source mappings: %w", err)
	}
	for _, e := range all {
		s.applyESM(e.key, e.doc)
	}
	return nil
}

// mappingOf reads what the pollers need from a stored mapping.
func mappingOf(doc esmDoc) (eventsource.Mapping, error) {
	state := doc["State"]
	m := eventsource.Mapping{
		UUID: str(doc["UUID"]), FunctionArn: str(doc["FunctionArn"]), EventSourceArn: str(doc["EventSourceArn"]),
		// As settled() reads it, without changing doc (the caller answers it).
		Enabled:               state == "Enabled" || state == "Creating" || state == "Updating" || state == "Enabling",
		BatchSize:             num(doc["BatchSize"], 10),
		MaxBatchingWindow:     time.Duration(num(doc["MaximumBatchingWindowInSeconds"], 0)) * time.Second,
		StartingPosition:      str(doc["StartingPosition"]),
		BisectOnError:         doc["BisectBatchOnFunctionError"] == true,
		ParallelizationFactor: num(doc["ParallelizationFactor"], 1),
		MaximumRetryAttempts:  num(doc["MaximumRetryAttempts"], -1),
	}
	if age := num(doc["MaximumRecordAgeInSeconds"], -1); age > 0 {
		m.MaximumRecordAge = time.Duration(age) * time.Second
	}
	if ts, ok := doc["StartingPositionTimestamp"].(float64); ok {
		m.StartingTimestamp = time.UnixMilli(int64(ts * 1000))
	}
	if dc, ok := doc["DestinationConfig"].(map[string]any); ok {
		if of, ok := dc["OnFailure"].(map[string]any); ok {
			m.OnFailure = str(of["Destination"])
		}
	}
	if sc, ok := doc["ScalingConfig"].(map[string]any); ok {
		m.MaxConcurrency = num(sc["MaximumConcurrency"], 0)
	}
	if types, ok := doc["FunctionResponseTypes"].([]any); ok {
		for _, t := range types {
			if t == "ReportBatchItemFailures" {
				m.ReportItemFailures = true
			}
		}
	}
	if fc, ok := doc["FilterCriteria"].(map[string]any); ok {
		filters, _ := fc["Filters"].([]any)
		var patterns []string
		for _, f := range filters {
			if fm, ok := f.(map[string]any); ok {
				if p := str(fm["Pattern"]); p != "" {
					patterns = append(patterns, p)
				}
			}
		}
		f, err := eventsource.ParseFilter(patterns)
		if err != nil {
			return m, err
		}
		m.Filter = f
	}
	return m, nil
}

func str(v any) string { s, _ := v.(string); return s }

// num reads a stored number (float64 from JSON, int from a default).
func num(v any, def int) int {
	switch n := v.(type) {
	case float64:
		return int(n)
	case int:
		return n
	}
	return def
}

// EventSourceHost is what the pollers call back: the function runs
// through the engine as Invoke (RequestResponse) runs it.
func (s *Server) EventSourceHost() eventsource.Host { return esmHost{s} }

type esmHost struct{ s *Server }

// Invoke runs the mapping's function (qualified ARN: that version or alias).
func (h esmHost) Invoke(ctx context.Context, functionArn string, payload []byte) (eventsource.Result, error) {
	s := h.s
	if s.cfg.Engine == nil {
		return eventsource.Result{}, errors.New("api: this server runs no engine")
	}
	p := strings.Split(functionArn, ":")
	if len(p) < 7 || p[5] != "function" {
		return eventsource.Result{}, fmt.Errorf("api: %q is no function ARN", functionArn)
	}
	sc := scope{Region: p[3], Account: p[4]}
	ref := functionRef{Raw: functionArn, Name: p[6], Account: sc.Account, Region: sc.Region, Qualifier: "$LATEST"}
	if len(p) > 7 {
		ref.Qualifier = p[7]
	}
	fn, err := s.loadQualified(ctx, sc, ref, pickWeighted)
	if err != nil {
		return eventsource.Result{}, fmt.Errorf("api: function %s: %w", functionArn, err)
	}
	if fn.State == "Failed" {
		return eventsource.Result{}, fmt.Errorf("api: function %s is Failed", functionArn)
	}
	efn, err := s.engineFunction(fn.info())
	if err != nil {
		return eventsource.Result{}, err
	}
	res, err := s.cfg.Engine.Invoke(ctx, efn, &engine.Request{RequestID: newRequestID(), Payload: payload,
		InvokedARN: functionArn, TraceID: traceID()})
	if rec, ok := s.cfg.Observer.(eventSourceRecorder); ok {
		source, n := batchSource(payload)
		rec.EventSourceBatch(fn.Name, source, n, err == nil && res.FunctionError == "")
	}
	if errors.Is(err, engine.ErrThrottled) {
		return eventsource.Result{}, fmt.Errorf("%w: %w", eventsource.ErrThrottled, err)
	}
	if err != nil {
		return eventsource.Result{}, fmt.Errorf("api: invoke %s: %w", functionArn, err)
	}
	return eventsource.Result{Payload: res.Payload, FunctionError: res.FunctionError}, nil
}

func checkpointKey(uuid, shard string) string { return uuid + "/" + shard }

func (h esmHost) Checkpoint(ctx context.Context, uuid, shard string) (string, error) {
	var seq string
	err := h.s.store.View(ctx, func(tx store.Tx) error {
		return tx.Get(bucketESMCheckpoints, checkpointKey(uuid, shard), &seq)
	})
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	return seq, err
}

func (h esmHost) SaveCheckpoint(ctx context.Context, uuid, shard, sequence string) error {
	return h.s.store.Update(ctx, func(tx store.Tx) error {
		return tx.Put(bucketESMCheckpoints, checkpointKey(uuid, shard), sequence)
	})
}

// Processed stores LastProcessingResult when it changed.
func (h esmHost) Processed(ctx context.Context, uuid, result string) {
	s := h.s
	s.esm.mu.Lock()
	key, ok := s.esm.keys[uuid]
	same := s.esm.last[uuid] == result
	if ok {
		s.esm.last[uuid] = result
	}
	s.esm.mu.Unlock()
	if !ok || same {
		return
	}
	err := s.store.Update(ctx, func(tx store.Tx) error {
		doc, err := store.Load[esmDoc](tx, bucketESM, key)
		if err != nil {
			return err
		}
		(*doc)["LastProcessingResult"] = result
		return tx.Put(bucketESM, key, doc)
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.log.Warn("event source mapping: storing LastProcessingResult", "uuid", uuid, "error", err)
	}
}

// clearCheckpoints deletes a mapping's stream checkpoints.
func clearCheckpoints(tx store.Tx, uuid string) error {
	var keys []string
	if err := tx.Scan(bucketESMCheckpoints, uuid+"/", "", func(key string, _ []byte) error {
		keys = append(keys, key)
		return nil
	}); err != nil {
		return err
	}
	for _, k := range keys {
		if err := tx.Delete(bucketESMCheckpoints, k); err != nil {
			return err
		}
	}
	return nil
}

// eventSourceRecorder is the part of the API's observer (lamb's metrics)
// that counts event source batches.
type eventSourceRecorder interface {
	EventSourceBatch(function, source string, records int, ok bool)
}

// batchSource reads an event source batch's service ("sqs", "kinesis",
// "dynamodb", from its records' eventSource) and how many records it holds.
func batchSource(payload []byte) (string, int) {
	var b struct {
		Records []struct {
			EventSource  string `json:"eventSource"`
			EventSource2 string `json:"EventSource"`
		} `json:"Records"`
	}
	if json.Unmarshal(payload, &b) != nil || len(b.Records) == 0 {
		return "unknown", 0
	}
	src := b.Records[0].EventSource
	if src == "" {
		src = b.Records[0].EventSource2
	}
	return strings.TrimPrefix(src, "aws:"), len(b.Records)
}
