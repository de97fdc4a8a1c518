package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
)

// StartLiveTail (Logs_20140328.StartLiveTail) as AWS streams it: an
// application/vnd.amazon.eventstream response whose first message is the
// JSON protocol's initial-response, then a sessionStart event echoing the
// request, then a sessionUpdate event about every second with the log
// events ingested since the last one (up to 500; sessionMetadata.sampled says
// some were left out), until the client closes the stream, the server stops,
// or after three hours a SessionTimeoutException.
//
// botocore (boto3 ≥ 1.34) sends StartLiveTail to the model's host prefix
// "stream-" + the endpoint's host, which an IP address or localhost does not
// resolve: clients pointed at lamb turn host-prefix injection off
// (botocore Config(inject_host_prefix=False), or
// AWS_DISABLE_HOST_PREFIX_INJECTION=true). The AWS CLI v2 of Debian 12
// (2.9.19) predates start-live-tail; `aws logs tail --follow` polls
// FilterLogEvents instead.

// Live tail's limits, as AWS's (CloudWatch Logs quotas for Live Tail).
const (
	liveTailMaxGroups      = 10
	liveTailMaxStreams     = 100
	liveTailMaxPerUpdate   = 500
	liveTailSessionTimeout = 3 * time.Hour
)

// liveTailInterval is how often a session sends its sessionUpdate.
var liveTailInterval = time.Second

type liveTailResult struct {
	LogStreamName      string `json:"logStreamName"`
	LogGroupIdentifier string `json:"logGroupIdentifier"`
	outputEvent
}

type liveTailRequest struct {
	LogGroupIdentifiers   []string `json:"logGroupIdentifiers"`
	LogStreamNames        []string `json:"logStreamNames,omitempty"`
	LogStreamNamePrefixes []string `json:"logStreamNamePrefixes,omitempty"`
	LogEventFilterPattern string   `json:"logEventFilterPattern,omitempty"`
}

// liveTailGroup is one log group a session follows.
type liveTailGroup struct {
	key groupKey
	id  string // as the client named it
}

// startLiveTail validates the request, answers its errors as the other
// operations do, and otherwise streams the session until it ends.
func (s *Server) startLiveTail(w http.ResponseWriter, r *http.Request, sc scope, body []byte) error {
	var in liveTailRequest
	if err := decodeLogs(body, &in); err != nil {
		return err
	}
	switch n := len(in.LogGroupIdentifiers); {
	case n == 0:
		return errLogs("InvalidParameterException", "1 validation error detected: Value null at 'logGroupIdentifiers' failed to satisfy constraint: Member must not be null")
	case n > liveTailMaxGroups:
		return errLogs("InvalidParameterException", "1 validation error detected: Value at 'logGroupIdentifiers' failed to satisfy constraint: Member must have length less than or equal to %d", liveTailMaxGroups)
	}
	if len(in.LogStreamNames) > 0 && len(in.LogStreamNamePrefixes) > 0 {
		return errLogs("InvalidParameterException", "logStreamNames and logStreamNamePrefixes are mutually exclusive parameters.")
	}
	if (len(in.LogStreamNames) > 0 || len(in.LogStreamNamePrefixes) > 0) && len(in.LogGroupIdentifiers) != 1 {
		return errLogs("InvalidParameterException", "logStreamNames and logStreamNamePrefixes can only be used with exactly one log group.")
	}
	if len(in.LogStreamNames) > liveTailMaxStreams || len(in.LogStreamNamePrefixes) > liveTailMaxStreams {
		return errLogs("InvalidParameterException", "At most %d log streams or prefixes can be given.", liveTailMaxStreams)
	}
	match, err := compileFilter(in.LogEventFilterPattern)
	if err != nil {
		return errLogs("InvalidParameterException", "Invalid filter pattern: %v", err)
	}
	streamOK := func(name string) bool {
		if len(in.LogStreamNames) == 0 && len(in.LogStreamNamePrefixes) == 0 {
			return true
		}
		for _, n := range in.LogStreamNames {
			if n == name {
				return true
			}
		}
		for _, p := range in.LogStreamNamePrefixes {
			if strings.HasPrefix(name, p) {
				return true
			}
		}
		return false
	}
	b := s.cfg.Logbook
	groups := make([]liveTailGroup, 0, len(in.LogGroupIdentifiers))
	b.mu.Lock()
	for _, id := range in.LogGroupIdentifiers {
		name, _ := groupName("", id)
		if _, err := b.lookupGroupLocked(sc, name); err != nil {
			b.mu.Unlock()
			return err
		}
		groups = append(groups, liveTailGroup{key: groupKey{sc.Account, sc.Region, name}, id: id})
	}
	after := b.seq // only what is ingested from now on, as AWS's live tail
	b.mu.Unlock()

	// The session ends with its client, with the server, or at its timeout.
	ctx, cancel := context.WithTimeout(r.Context(), liveTailSessionTimeout)
	defer cancel()
	defer context.AfterFunc(s.ctx, cancel)()

	requestID := newRequestID()
	w.Header().Set("Content-Type", eventStreamContentType)
	w.Header().Set("X-Amzn-RequestId", requestID)
	w.WriteHeader(http.StatusOK)
	es := &liveTailStream{w: w, rc: http.NewResponseController(w), enc: eventstream.NewEncoder()}
	if err := es.event("initial-response", struct{}{}); err != nil {
		return nil // the client is gone: nothing to answer
	}
	if err := es.event("sessionStart", struct {
		RequestID string `json:"requestId"`
		SessionID string `json:"sessionId"`
		liveTailRequest
	}{requestID, newRequestID(), in}); err != nil {
		return nil
	}
	tick := time.NewTicker(liveTailInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			if r.Context().Err() == nil && s.ctx.Err() == nil {
				_ = es.exception("SessionTimeoutException", "Session timed out after 3 hours.")
			}
			return nil
		case <-tick.C:
		}
		var results []liveTailResult
		var sampled bool
		results, after, sampled = b.liveTailEvents(groups, after, streamOK, match)
		if err := es.event("sessionUpdate", struct {
			SessionMetadata struct {
				Sampled bool `json:"sampled"`
			} `json:"sessionMetadata"`
			SessionResults []liveTailResult `json:"sessionResults"`
		}{struct {
			Sampled bool `json:"sampled"`
		}{sampled}, results}); err != nil {
			return nil
		}
	}
}

// liveTailEvents returns the events of groups after sequence number after
// that pass the stream and message filters, oldest first and at most
// liveTailMaxPerUpdate of them (the newest are kept, sampled reports the
// cut), and the last sequence number looked at.
func (b *Logbook) liveTailEvents(groups []liveTailGroup, after int64, streamOK func(string) bool, match logFilter) ([]liveTailResult, int64, bool) {
	type seqResult struct {
		seq int64
		liveTailResult
	}
	var sel []seqResult
	b.mu.Lock()
	last := b.seq
	for _, lg := range groups {
		g := b.groups[lg.key]
		if g == nil {
			continue // dropped by retention since the session started
		}
		for _, st := range g.streams {
			if !streamOK(st.name) {
				continue
			}
			i := sort.Search(len(st.events), func(i int) bool { return st.events[i].seq > after })
			for _, e := range st.events[i:] {
				if match(e.msg) {
					sel = append(sel, seqResult{e.seq, liveTailResult{LogStreamName: st.name, LogGroupIdentifier: lg.id,
						outputEvent: e.output()}})
				}
			}
		}
	}
	b.mu.Unlock()
	sort.Slice(sel, func(i, j int) bool { return sel[i].seq < sel[j].seq })
	sampled := len(sel) > liveTailMaxPerUpdate
	if sampled {
		sel = sel[len(sel)-liveTailMaxPerUpdate:]
	}
	out := make([]liveTailResult, len(sel))
	for i, e := range sel {
		out[i] = e.liveTailResult
	}
	return out, last, sampled
}

// liveTailStream writes a session's messages with aws-sdk-go-v2's event
// stream encoder, flushing each one so the client sees it at once.
type liveTailStream struct {
	w   http.ResponseWriter
	rc  *http.ResponseController
	enc *eventstream.Encoder
}

func (es *liveTailStream) event(eventType string, v any) error {
	var h eventstream.Headers
	h.Set(":message-type", eventstream.StringValue("event"))
	h.Set(":event-type", eventstream.StringValue(eventType))
	h.Set(":content-type", eventstream.StringValue("application/json"))
	return es.write(h, v)
}

func (es *liveTailStream) exception(typ, message string) error {
	var h eventstream.Headers
	h.Set(":message-type", eventstream.StringValue("exception"))
	h.Set(":exception-type", eventstream.StringValue(typ))
	h.Set(":content-type", eventstream.StringValue("application/json"))
	return es.write(h, map[string]string{"message": message})
}

func (es *liveTailStream) write(h eventstream.Headers, v any) error {
	payload, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if err := es.enc.Encode(es.w, eventstream.Message{Headers: h, Payload: payload}); err != nil {
		return fmt.Errorf("write live tail event: %w", err)
	}
	if err := es.rc.Flush(); err != nil {
		return fmt.Errorf("flush live tail event: %w", err)
	}
	return nil
}
