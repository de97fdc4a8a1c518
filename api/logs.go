package api

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// The CloudWatch Logs API, the part Lambda users touch, on lamb's own port:
// the Logs JSON protocol (POST /, X-Amz-Target: Logs_20140328.<Operation>,
// application/x-amz-json-1.1), answered from the Logbook. `aws logs tail
// --follow` polls FilterLogEvents; StartLiveTail streams (logs_livetail.go).

const logsTargetPrefix = "Logs_20140328."

// isLogsRequest reports whether r is a CloudWatch Logs API request.
func isLogsRequest(r *http.Request) bool {
	return r.Method == http.MethodPost && (r.URL.Path == "/" || r.URL.Path == "") &&
		strings.HasPrefix(r.Header.Get("X-Amz-Target"), logsTargetPrefix)
}

// logsHandlers is the table of contents of the Logs API.
func (s *Server) logsHandlers() map[string]func(r *http.Request, sc scope, body []byte) (any, error) {
	return map[string]func(r *http.Request, sc scope, body []byte) (any, error){
		"DescribeLogGroups":  s.describeLogGroups,
		"DescribeLogStreams": s.describeLogStreams,
		"GetLogEvents":       s.getLogEvents,
		"FilterLogEvents":    s.filterLogEvents,
	}
}

// logsError is an error of the Logs API: status 400, {"__type", "message"}.
type logsError struct {
	Type, Message string
}

func (e *logsError) Error() string { return e.Type + ": " + e.Message }

func errLogs(typ, format string, args ...any) *logsError {
	return &logsError{Type: typ, Message: fmt.Sprintf(format, args...)}
}

func writeLogsJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeLogsError(w http.ResponseWriter, err error) {
	var le *logsError
	var ae *awsError
	switch {
	case errors.As(err, &le):
	case errors.As(err, &ae): // authentication
		w.Header().Set("X-Amzn-ErrorType", ae.Code)
		writeLogsJSON(w, ae.Status, map[string]string{"__type": ae.Code, "message": ae.Message})
		return
	default:
		le = &logsError{Type: "ServiceUnavailableException", Message: err.Error()}
		w.Header().Set("X-Amzn-ErrorType", le.Type)
		writeLogsJSON(w, http.StatusInternalServerError, map[string]string{"__type": le.Type, "message": le.Message})
		return
	}
	w.Header().Set("X-Amzn-ErrorType", le.Type)
	writeLogsJSON(w, http.StatusBadRequest, map[string]string{"__type": le.Type, "message": le.Message})
}

// serveLogsAPI answers one Logs API request, returning its operation's name.
func (s *Server) serveLogsAPI(w http.ResponseWriter, r *http.Request) string {
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), logsTargetPrefix)
	r.Body = http.MaxBytesReader(w, r.Body, maxSmallRequestBytes)
	if !isInternal(r) {
		if err := s.authenticateFor(r, "logs"); err != nil {
			writeLogsError(w, err)
			return op
		}
	}
	h, ok := s.logsHandlers()[op]
	if !ok && op != "StartLiveTail" {
		writeLogsError(w, errLogs("InvalidOperationException",
			"lamb does not implement the CloudWatch Logs operation %s; it serves DescribeLogGroups, DescribeLogStreams, GetLogEvents, FilterLogEvents and StartLiveTail (aws logs tail --follow polls FilterLogEvents)", op))
		return op
	}
	if s.cfg.Logbook == nil {
		writeLogsError(w, errLogs("ResourceNotFoundException", "this server keeps no logs"))
		return op
	}
	body, err := readBody(r)
	if err != nil {
		writeLogsError(w, errLogs("InvalidParameterException", "could not read the request: %v", err))
		return op
	}
	if op == "StartLiveTail" { // an event stream, not one JSON answer (logs_livetail.go)
		if err := s.startLiveTail(w, r, s.requestScope(r), body); err != nil {
			writeLogsError(w, err)
		}
		return op
	}
	out, err := h(r, s.requestScope(r), body)
	if err != nil {
		writeLogsError(w, err)
		return op
	}
	writeLogsJSON(w, http.StatusOK, out)
	return op
}

func decodeLogs(body []byte, v any) error {
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return errLogs("SerializationException", "could not parse the request: %v", err)
	}
	return nil
}

// groupRef is how a request names its log group: logGroupName or
// logGroupIdentifier (a name or an ARN).
type groupRef struct {
	LogGroupName       string `json:"logGroupName"`
	LogGroupIdentifier string `json:"logGroupIdentifier"`
}

func (g groupRef) name() (string, error) { return groupName(g.LogGroupName, g.LogGroupIdentifier) }

// decodeForGroup decodes a request that names one log group (it embeds
// groupRef) and returns the group's name.
func decodeForGroup(body []byte, in interface{ name() (string, error) }) (string, error) {
	if err := decodeLogs(body, in); err != nil {
		return "", err
	}
	return in.name()
}

// paging is the request fields of a paginated operation.
type paging struct {
	NextToken string `json:"nextToken"`
	Limit     *int   `json:"limit"`
}

// groupName is logGroupName or logGroupIdentifier (a name or an ARN).
func groupName(name, identifier string) (string, error) {
	switch {
	case name != "" && identifier != "":
		return "", errLogs("InvalidParameterException", "LogGroup name and LogGroup ARN are mutually exclusive parameters.")
	case name != "":
		return name, nil
	case identifier != "":
		if rest, ok := strings.CutPrefix(identifier, "arn:"); ok {
			if _, after, ok := strings.Cut(rest, ":log-group:"); ok {
				return strings.TrimSuffix(after, ":*"), nil
			}
		}
		return identifier, nil
	}
	return "", errLogs("InvalidParameterException", "Either LogGroup name or LogGroup ARN must be specified.")
}

func checkLimit(limit *int, def, maxLimit int) (int, error) {
	if limit == nil {
		return def, nil
	}
	if *limit < 1 || *limit > maxLimit {
		return 0, errLogs("InvalidParameterException", "1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value between 1 and %d", *limit, maxLimit)
	}
	return *limit, nil
}

// Pagination tokens are opaque to clients; lamb's carry a position.
func encodeToken(kind string, v string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(kind + ":" + v))
}

func decodeToken(kind, tok string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return "", errLogs("InvalidParameterException", "The specified nextToken is invalid.")
	}
	v, ok := strings.CutPrefix(string(b), kind+":")
	if !ok {
		return "", errLogs("InvalidParameterException", "The specified nextToken is invalid.")
	}
	return v, nil
}

func groupARN(sc scope, name string) string {
	return fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s", sc.Region, sc.Account, name)
}

// withGroup runs f on a group under the logbook's lock, or answers AWS's
// ResourceNotFoundException.
func (b *Logbook) withGroup(sc scope, name string, f func(g *logGroup) error) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	g, err := b.lookupGroupLocked(sc, name)
	if err != nil {
		return err
	}
	return f(g)
}

// lookupGroupLocked finds a group or answers AWS's ResourceNotFoundException.
func (b *Logbook) lookupGroupLocked(sc scope, name string) (*logGroup, error) {
	g := b.groups[groupKey{sc.Account, sc.Region, name}]
	if g == nil {
		return nil, errLogs("ResourceNotFoundException", "The specified log group does not exist.")
	}
	b.pruneLocked(g, b.now().UnixMilli())
	return g, nil
}

type logGroupOut struct {
	LogGroupName      string `json:"logGroupName"`
	CreationTime      int64  `json:"creationTime"`
	MetricFilterCount int    `json:"metricFilterCount"`
	Arn               string `json:"arn"`
	StoredBytes       int64  `json:"storedBytes"`
	LogGroupClass     string `json:"logGroupClass"`
	LogGroupArn       string `json:"logGroupArn"`
}

func (s *Server) describeLogGroups(r *http.Request, sc scope, body []byte) (any, error) {
	var in struct {
		LogGroupNamePrefix  string   `json:"logGroupNamePrefix"`
		LogGroupNamePattern string   `json:"logGroupNamePattern"`
		LogGroupIdentifiers []string `json:"logGroupIdentifiers"`
		paging
	}
	if err := decodeLogs(body, &in); err != nil {
		return nil, err
	}
	if in.LogGroupNamePrefix != "" && in.LogGroupNamePattern != "" {
		return nil, errLogs("InvalidParameterException", "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.")
	}
	limit, err := checkLimit(in.Limit, 50, 50)
	if err != nil {
		return nil, err
	}
	after := ""
	if in.NextToken != "" {
		if after, err = decodeToken("g", in.NextToken); err != nil {
			return nil, err
		}
	}
	want := map[string]bool{}
	for _, id := range in.LogGroupIdentifiers {
		n, _ := groupName("", id)
		want[n] = true
	}
	b := s.cfg.Logbook
	b.mu.Lock()
	var all []logGroupOut
	for k, g := range b.groups {
		if k.account != sc.Account || k.region != sc.Region || !strings.HasPrefix(g.name, in.LogGroupNamePrefix) ||
			!strings.Contains(strings.ToLower(g.name), strings.ToLower(in.LogGroupNamePattern)) ||
			(len(want) > 0 && !want[g.name]) || g.name <= after {
			continue
		}
		arn := groupARN(sc, g.name)
		all = append(all, logGroupOut{LogGroupName: g.name, CreationTime: g.created, Arn: arn + ":*",
			StoredBytes: g.bytes, LogGroupClass: "STANDARD", LogGroupArn: arn})
	}
	b.mu.Unlock()
	sort.Slice(all, func(i, j int) bool { return all[i].LogGroupName < all[j].LogGroupName })
	out := struct {
		LogGroups []logGroupOut `json:"logGroups"`
		NextToken string        `json:"nextToken,omitempty"`
	}{LogGroups: all}
	if len(all) > limit {
		out.LogGroups = all[:limit]
		out.NextToken = encodeToken("g", all[limit-1].LogGroupName)
	}
	if out.LogGroups == nil {
		out.LogGroups = []logGroupOut{}
	}
	return out, nil
}

type logStreamOut struct {
	LogStreamName       string `json:"logStreamName"`
	CreationTime        int64  `json:"creationTime"`
	FirstEventTimestamp int64  `json:"firstEventTimestamp,omitempty"`
	LastEventTimestamp  int64  `json:"lastEventTimestamp,omitempty"`
	LastIngestionTime   int64  `json:"lastIngestionTime,omitempty"`
	UploadSequenceToken string `json:"uploadSequenceToken"`
	Arn                 string `json:"arn"`
	StoredBytes         int64  `json:"storedBytes"`
}

func (s *Server) describeLogStreams(r *http.Request, sc scope, body []byte) (any, error) {
	var in struct {
		groupRef
		LogStreamNamePrefix string `json:"logStreamNamePrefix"`
		OrderBy             string `json:"orderBy"`
		Descending          bool   `json:"descending"`
		paging
	}
	name, err := decodeForGroup(body, &in)
	if err != nil {
		return nil, err
	}
	switch in.OrderBy {
	case "", "LogStreamName":
	case "LastEventTime":
		if in.LogStreamNamePrefix != "" {
			return nil, errLogs("InvalidParameterException", "Cannot order by LastEventTime with a logStreamNamePrefix.")
		}
	default:
		return nil, errLogs("InvalidParameterException", "1 validation error detected: Value '%s' at 'orderBy' failed to satisfy constraint: Member must satisfy enum value set: [LogStreamName, LastEventTime]", in.OrderBy)
	}
	limit, err := checkLimit(in.Limit, 50, 50)
	if err != nil {
		return nil, err
	}
	skip := 0
	if in.NextToken != "" {
		v, err := decodeToken("s", in.NextToken)
		if err != nil {
			return nil, err
		}
		if skip, err = strconv.Atoi(v); err != nil || skip < 0 {
			return nil, errLogs("InvalidParameterException", "The specified nextToken is invalid.")
		}
	}
	var all []logStreamOut
	err = s.cfg.Logbook.withGroup(sc, name, func(g *logGroup) error {
		for _, st := range g.streams {
			if !strings.HasPrefix(st.name, in.LogStreamNamePrefix) {
				continue
			}
			o := logStreamOut{LogStreamName: st.name, CreationTime: st.created, LastIngestionTime: st.lastIngestion,
				UploadSequenceToken: "1", Arn: groupARN(sc, name) + ":log-stream:" + st.name}
			if n := len(st.events); n > 0 {
				o.FirstEventTimestamp, o.LastEventTimestamp = st.events[0].ts, st.events[n-1].ts
			}
			all = append(all, o)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(all, func(i, j int) bool {
		a, c := all[i], all[j]
		if in.Descending {
			a, c = c, a
		}
		if in.OrderBy == "LastEventTime" && a.LastEventTimestamp != c.LastEventTimestamp {
			return a.LastEventTimestamp < c.LastEventTimestamp
		}
		return a.LogStreamName < c.LogStreamName
	})
	out := struct {
		LogStreams []logStreamOut `json:"logStreams"`
		NextToken  string         `json:"nextToken,omitempty"`
	}{LogStreams: []logStreamOut{}}
	if skip < len(all) {
		all = all[skip:]
		if len(all) > limit {
			all = all[:limit]
			out.NextToken = encodeToken("s", strconv.Itoa(skip+limit))
		}
		out.LogStreams = all
	}
	return out, nil
}

type outputEvent struct {
	Timestamp     int64  `json:"timestamp"`
	Message       string `json:"message"`
	IngestionTime int64  `json:"ingestionTime"`
}

// output is e as the Logs API returns it (lamb ingests as it writes).
func (e logEvent) output() outputEvent {
	return outputEvent{Timestamp: e.ts, Message: e.msg, IngestionTime: e.ts}
}

// GetLogEvents' tokens are f/<seq> (events from seq on) and b/<seq> (events
// before seq), as AWS's f/… and b/… tokens.
func (s *Server) getLogEvents(r *http.Request, sc scope, body []byte) (any, error) {
	var in struct {
		groupRef
		LogStreamName string `json:"logStreamName"`
		StartTime     *int64 `json:"startTime"`
		EndTime       *int64 `json:"endTime"`
		paging
		StartFromHead bool `json:"startFromHead"`
	}
	name, err := decodeForGroup(body, &in)
	if err != nil {
		return nil, err
	}
	if in.LogStreamName == "" {
		return nil, errLogs("InvalidParameterException", "1 validation error detected: Value null at 'logStreamName' failed to satisfy constraint: Member must not be null")
	}
	limit, err := checkLimit(in.Limit, 10000, 10000)
	if err != nil {
		return nil, err
	}
	forward, pos := in.StartFromHead, int64(-1)
	if in.NextToken != "" {
		dir, v, ok := strings.Cut(in.NextToken, "/")
		n, perr := strconv.ParseInt(v, 10, 64)
		if !ok || perr != nil || (dir != "f" && dir != "b") {
			return nil, errLogs("InvalidParameterException", "The specified nextToken is invalid.")
		}
		forward, pos = dir == "f", n
	}
	b := s.cfg.Logbook
	var sel []logEvent
	var last int64
	err = b.withGroup(sc, name, func(g *logGroup) error {
		st := g.streams[in.LogStreamName]
		if st == nil {
			return errLogs("ResourceNotFoundException", "The specified log stream does not exist.")
		}
		last = b.seq
		for _, e := range st.events {
			if (in.StartTime != nil && e.ts < *in.StartTime) || (in.EndTime != nil && e.ts >= *in.EndTime) {
				continue
			}
			if pos >= 0 && ((forward && e.seq < pos) || (!forward && e.seq >= pos)) {
				continue
			}
			sel = append(sel, e)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(sel) > limit {
		if forward {
			sel = sel[:limit]
		} else {
			sel = sel[len(sel)-limit:]
		}
	}
	out := struct {
		Events            []outputEvent `json:"events"`
		NextForwardToken  string        `json:"nextForwardToken"`
		NextBackwardToken string        `json:"nextBackwardToken"`
	}{Events: make([]outputEvent, 0, len(sel))}
	for _, e := range sel {
		out.Events = append(out.Events, e.output())
	}
	// At either end the token given comes back, as AWS's does: clients stop
	// paging when it repeats.
	switch {
	case len(sel) > 0:
		out.NextForwardToken = fmt.Sprintf("f/%d", sel[len(sel)-1].seq+1)
		out.NextBackwardToken = fmt.Sprintf("b/%d", sel[0].seq)
	case in.NextToken != "":
		out.NextForwardToken, out.NextBackwardToken = in.NextToken, in.NextToken
	default:
		out.NextForwardToken, out.NextBackwardToken = fmt.Sprintf("f/%d", last+1), fmt.Sprintf("b/%d", last+1)
	}
	return out, nil
}

type filteredEvent struct {
	LogStreamName string `json:"logStreamName"`
	outputEvent
	EventID string `json:"eventId"`
}

// maxFilterBytes bounds one FilterLogEvents answer, as AWS's 1 MB.
const maxFilterBytes = 1 << 20

func (s *Server) filterLogEvents(r *http.Request, sc scope, body []byte) (any, error) {
	var in struct {
		groupRef
		LogStreamNames      []string `json:"logStreamNames"`
		LogStreamNamePrefix string   `json:"logStreamNamePrefix"`
		StartTime           *int64   `json:"startTime"`
		EndTime             *int64   `json:"endTime"`
		FilterPattern       string   `json:"filterPattern"`
		paging
	}
	name, err := decodeForGroup(body, &in)
	if err != nil {
		return nil, err
	}
	if len(in.LogStreamNames) > 0 && in.LogStreamNamePrefix != "" {
		return nil, errLogs("InvalidParameterException", "logStreamNames and logStreamNamePrefix are mutually exclusive parameters.")
	}
	limit, err := checkLimit(in.Limit, 10000, 10000)
	if err != nil {
		return nil, err
	}
	match, err := compileFilter(in.FilterPattern)
	if err != nil {
		return nil, errLogs("InvalidParameterException", "Invalid filter pattern: %v", err)
	}
	after := int64(0)
	if in.NextToken != "" {
		v, err := decodeToken("e", in.NextToken)
		if err != nil {
			return nil, err
		}
		if after, err = strconv.ParseInt(v, 10, 64); err != nil {
			return nil, errLogs("InvalidParameterException", "The specified nextToken is invalid.")
		}
	}
	names := map[string]bool{}
	for _, n := range in.LogStreamNames {
		names[n] = true
	}
	var sel []filteredEvent
	var seqs []int64
	err = s.cfg.Logbook.withGroup(sc, name, func(g *logGroup) error {
		for _, st := range g.streams {
			if (len(names) > 0 && !names[st.name]) || !strings.HasPrefix(st.name, in.LogStreamNamePrefix) {
				continue
			}
			// Events are in sequence order: skip to the token's position.
			i := sort.Search(len(st.events), func(i int) bool { return st.events[i].seq > after })
			for _, e := range st.events[i:] {
				if (in.StartTime != nil && e.ts < *in.StartTime) || (in.EndTime != nil && e.ts > *in.EndTime) || !match(e.msg) {
					continue
				}
				sel = append(sel, filteredEvent{LogStreamName: st.name, outputEvent: e.output(),
					EventID: fmt.Sprintf("%056d", e.seq)})
				seqs = append(seqs, e.seq)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	idx := make([]int, len(sel))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(i, j int) bool { return seqs[idx[i]] < seqs[idx[j]] })
	out := struct {
		Events             []filteredEvent `json:"events"`
		SearchedLogStreams []struct{}      `json:"searchedLogStreams"`
		NextToken          string          `json:"nextToken,omitempty"`
	}{Events: []filteredEvent{}, SearchedLogStreams: []struct{}{}}
	size := 0
	for n, i := range idx {
		size += len(sel[i].Message) + 26
		if n > 0 && (n == limit || size > maxFilterBytes) {
			out.NextToken = encodeToken("e", strconv.FormatInt(seqs[idx[n-1]], 10))
			break
		}
		out.Events = append(out.Events, sel[i])
	}
	return out, nil
}
