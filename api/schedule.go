package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/lambhq/lamb/store"
)

// Schedules are the Schedule and ScheduleV2 events of deployed templates
// (lamb deploy keeps them here): lamb itself invokes each one's function on
// its schedule, asynchronously, with the event EventBridge sends (or the
// schedule's Input).
//
//	GET    /_lamb/schedules         {"schedules":[record, ...]} of the caller's account and region
//	GET    /_lamb/schedules/{name}  the record
//	PUT    /_lamb/schedules/{name}  {"function":..., "expression":"rate(5 minutes)"|"cron(...)", "input":..., "enabled":true}
//	DELETE /_lamb/schedules/{name}
//
// RunSchedules does the invoking.

// scheduleRecord is one schedule.
type scheduleRecord struct {
	Name       string `json:"name"`
	Account    string `json:"account"`
	Region     string `json:"region"`
	Function   string `json:"function"` // name or ARN, qualified or not
	Expression string `json:"expression"`
	Input      string `json:"input,omitempty"` // sent instead of the EventBridge event
	Enabled    bool   `json:"enabled"`
}

func (s *Server) serveSchedules(w http.ResponseWriter, r *http.Request, name string) {
	sc := s.requestScope(r)
	ctx := r.Context()
	if name == "" {
		serveList(w, r, func() (any, error) {
			var out []*scheduleRecord
			err := s.store.View(ctx, func(tx store.Tx) error {
				var err error
				out, err = store.All[scheduleRecord](tx, bucketSchedules, sc.Account+"/"+sc.Region+"/")
				return err
			})
			if out == nil {
				out = []*scheduleRecord{}
			}
			return map[string]any{"schedules": out}, err
		})
		return
	}
	if !stackNamePattern.MatchString(name) {
		writeError(w, errInvalidParameter("schedule name %q: want letters, digits and dashes, starting with a letter, at most 128", name))
		return
	}
	key := sc.Account + "/" + sc.Region + "/" + name
	switch r.Method {
	case http.MethodGet:
		var rec *scheduleRecord
		err := s.store.View(ctx, func(tx store.Tx) error {
			var err error
			rec, err = store.Load[scheduleRecord](tx, bucketSchedules, key)
			return err
		})
		if err != nil {
			writeError(w, orNotFound(err, errNotFound("Schedule not found: %s", name)))
			return
		}
		writeJSON(w, http.StatusOK, rec)
	case http.MethodPut:
		var rec scheduleRecord
		if err := json.NewDecoder(r.Body).Decode(&rec); err != nil {
			writeError(w, errUnparsableBody(err))
			return
		}
		if rec.Function == "" {
			writeError(w, errInvalidParameter("a schedule needs a function"))
			return
		}
		if _, err := parseSchedule(rec.Expression); err != nil {
			writeError(w, errInvalidParameter("%s", err.Error()))
			return
		}
		rec.Name, rec.Account, rec.Region = name, sc.Account, sc.Region
		if err := s.store.Update(ctx, func(tx store.Tx) error { return tx.Put(bucketSchedules, key, &rec) }); err != nil {
			writeError(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case http.MethodDelete:
		if err := s.store.Update(ctx, func(tx store.Tx) error { return tx.Delete(bucketSchedules, key) }); err != nil {
			writeError(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		writeError(w, errMethodNotAllowed(r))
	}
}

// RunSchedules invokes the functions of the stored schedules when they are
// due, looking every tick (a second is fine: schedules count minutes),
// until ctx ends; it returns nil then. A schedule is first due one period
// (rate) or at its first matching minute (cron) after RunSchedules sees it.
func (s *Server) RunSchedules(ctx context.Context, tick time.Duration) error {
	t := time.NewTicker(tick)
	defer t.Stop()
	st := map[string]*scheduleState{}
	for {
		s.scheduleStep(ctx, st, s.cfg.Now())
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

type scheduleState struct {
	expr string
	next time.Time
}

// scheduleStep fires every schedule due at now and returns how many it fired.
func (s *Server) scheduleStep(ctx context.Context, st map[string]*scheduleState, now time.Time) int {
	var recs []*scheduleRecord
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		recs, err = store.All[scheduleRecord](tx, bucketSchedules, "")
		return err
	})
	if err != nil {
		if ctx.Err() == nil {
			s.log.WarnContext(ctx, "reading schedules", "error", err)
		}
		return 0
	}
	seen := map[string]bool{}
	fired := 0
	for _, rec := range recs {
		key := rec.Account + "/" + rec.Region + "/" + rec.Name
		if !rec.Enabled {
			continue
		}
		sched, err := parseSchedule(rec.Expression)
		if err != nil {
			continue // refused when it was stored
		}
		seen[key] = true
		cur := st[key]
		if cur == nil || cur.expr != rec.Expression {
			cur = &scheduleState{expr: rec.Expression, next: sched.next(now)}
			st[key] = cur
			continue
		}
		if cur.next.IsZero() || now.Before(cur.next) {
			continue
		}
		cur.next = sched.next(now)
		s.fireSchedule(ctx, rec, now)
		fired++
	}
	for key := range st {
		if !seen[key] {
			delete(st, key)
		}
	}
	return fired
}

// fireSchedule makes the Event invocation EventBridge would.
func (s *Server) fireSchedule(ctx context.Context, rec *scheduleRecord, now time.Time) {
	payload := []byte(rec.Input)
	if rec.Input == "" {
		var id [16]byte
		_, _ = rand.Read(id[:])
		h := hex.EncodeToString(id[:])
		payload, _ = json.Marshal(map[string]any{
			"version": "0", "id": h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:],
			"detail-type": "Scheduled Event", "source": "aws.events", "account": rec.Account,
			"time": now.UTC().Format("2006-01-02T15:04:05Z"), "region": rec.Region,
			"resources": []string{fmt.Sprintf("arn:aws:events:%s:%s:rule/%s", rec.Region, rec.Account, rec.Name)},
			"detail":    map[string]any{},
		})
	}
	u := "/2015-03-31/functions/" + url.PathEscape(rec.Function) + "/invocations"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(string(payload)))
	if err != nil {
		return
	}
	req.Header.Set("X-Amz-Invocation-Type", "Event")
	// The credential scope names the account and region (requestScope).
	req.Header.Set("Authorization", fmt.Sprintf("AWS4-HMAC-SHA256 Credential=%s/19700101/%s/lambda/aws4_request, SignedHeaders=host, Signature=0", rec.Account, rec.Region))
	w := &statusWriter{header: http.Header{}}
	s.Internal().ServeHTTP(w, req)
	if w.status >= 300 {
		s.log.WarnContext(ctx, "scheduled invocation refused", slog.String("schedule", rec.Name), slog.String("function", rec.Function),
			slog.Int("status", w.status), slog.String("answer", w.body.String()))
		return
	}
	s.log.DebugContext(ctx, "scheduled invocation", slog.String("schedule", rec.Name), slog.String("function", rec.Function))
}

// statusWriter keeps an internal request's status and a little of its body.
type statusWriter struct {
	header http.Header
	status int
	body   strings.Builder
}

func (w *statusWriter) Header() http.Header { return w.header }
func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}
func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if w.body.Len() < 1024 {
		w.body.Write(b)
	}
	return len(b), nil
}

// schedule is a parsed rate() or cron() expression.
type schedule struct {
	every time.Duration // rate
	cron  [6]map[int]bool
	dom   bool // day of month given (not ?)
	dow   bool // day of week given (not ?)
}

// parseSchedule reads EventBridge's rate(N unit) and
// cron(minutes hours day-of-month month day-of-week year); of cron it knows
// * ? , - / and names, not L, W or #.
func parseSchedule(expr string) (*schedule, error) {
	if in, ok := strings.CutPrefix(expr, "rate("); ok && strings.HasSuffix(in, ")") {
		f := strings.Fields(strings.TrimSuffix(in, ")"))
		if len(f) != 2 {
			return nil, fmt.Errorf("schedule %q: want rate(VALUE UNIT)", expr)
		}
		n, err := strconv.Atoi(f[0])
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("schedule %q: the value must be a positive whole number", expr)
		}
		unit := map[string]time.Duration{"minute": time.Minute, "minutes": time.Minute, "hour": time.Hour, "hours": time.Hour, "day": 24 * time.Hour, "days": 24 * time.Hour}[f[1]]
		if unit == 0 {
			return nil, fmt.Errorf("schedule %q: the unit must be minute(s), hour(s) or day(s)", expr)
		}
		return &schedule{every: time.Duration(n) * unit}, nil
	}
	in, ok := strings.CutPrefix(expr, "cron(")
	if !ok || !strings.HasSuffix(in, ")") {
		return nil, fmt.Errorf("schedule %q: want rate(...) or cron(...)", expr)
	}
	f := strings.Fields(strings.TrimSuffix(in, ")"))
	if len(f) != 6 {
		return nil, fmt.Errorf("schedule %q: cron wants 6 fields (minutes hours day-of-month month day-of-week year)", expr)
	}
	limits := [6][2]int{{0, 59}, {0, 23}, {1, 31}, {1, 12}, {1, 7}, {1970, 2199}}
	names := [6]map[string]int{3: monthNames, 4: dayNames}
	sc := &schedule{dom: f[2] != "?", dow: f[4] != "?"}
	for i, field := range f {
		set, err := cronField(field, limits[i][0], limits[i][1], names[i])
		if err != nil {
			return nil, fmt.Errorf("schedule %q: field %d (%s): %w", expr, i+1, field, err)
		}
		sc.cron[i] = set
	}
	return sc, nil
}

var (
	monthNames = map[string]int{"JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6, "JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12}
	dayNames   = map[string]int{"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
)

// cronField returns the values a field allows; nil means any.
func cronField(field string, lo, hi int, names map[string]int) (map[int]bool, error) {
	if field == "*" || field == "?" {
		return nil, nil
	}
	num := func(s string) (int, error) {
		if n, ok := names[strings.ToUpper(s)]; ok {
			return n, nil
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < lo || n > hi {
			return 0, fmt.Errorf("%q is not a value from %d to %d (lamb does not support L, W or #)", s, lo, hi)
		}
		return n, nil
	}
	set := map[int]bool{}
	for _, part := range strings.Split(field, ",") {
		rng, stepText, hasStep := strings.Cut(part, "/")
		step := 1
		if hasStep {
			var err error
			if step, err = strconv.Atoi(stepText); err != nil || step <= 0 {
				return nil, fmt.Errorf("step %q is not a positive number", stepText)
			}
		}
		from, to := lo, hi
		if rng != "*" {
			a, b, isRange := strings.Cut(rng, "-")
			var err error
			if from, err = num(a); err != nil {
				return nil, err
			}
			to = from
			if isRange {
				if to, err = num(b); err != nil {
					return nil, err
				}
			} else if hasStep {
				to = hi
			}
		}
		for v := from; v <= to; v += step {
			set[v] = true
		}
	}
	return set, nil
}

func (sc *schedule) match(t time.Time) bool {
	in := func(i, v int) bool { return sc.cron[i] == nil || sc.cron[i][v] }
	return sc.matchDay(t) && in(0, t.Minute()) && in(1, t.Hour())
}

// next returns when the schedule is next due after t (zero: never, within
// five years).
func (sc *schedule) next(t time.Time) time.Time {
	if sc.every > 0 {
		return t.Add(sc.every)
	}
	t = t.UTC().Truncate(time.Minute).Add(time.Minute)
	end := t.AddDate(5, 0, 0)
	for t.Before(end) {
		if !sc.match(time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), 0, 0, time.UTC)) {
			// Skip a whole day or hour when those do not match.
			dayOK := sc.matchDay(t)
			switch {
			case !dayOK:
				t = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, time.UTC)
			case sc.cron[1] != nil && !sc.cron[1][t.Hour()]:
				t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour()+1, 0, 0, 0, time.UTC)
			default:
				t = t.Add(time.Minute)
			}
			continue
		}
		return t
	}
	return time.Time{}
}

func (sc *schedule) matchDay(t time.Time) bool {
	in := func(i, v int) bool { return sc.cron[i] == nil || sc.cron[i][v] }
	if !in(3, int(t.Month())) || !in(5, t.Year()) {
		return false
	}
	switch {
	case sc.dom && sc.dow:
		return in(2, t.Day()) && in(4, int(t.Weekday())+1)
	case sc.dom:
		return in(2, t.Day())
	case sc.dow:
		return in(4, int(t.Weekday())+1)
	}
	return true
}
