package api

import (
	"net/http"
	"regexp"
	"strconv"
	"time"
)

// Durable executions need a durable function runtime (AWS's durable
// execution SDK checkpointing through these operations while AWS replays the
// function). lamb has none: no invocation ever starts a durable execution, so
// none exists. The operations answer what follows from that, in AWS's
// shapes: ListDurableExecutionsByFunction lists none for an existing
// function; operations on one execution answer ResourceNotFoundException
// (or InvalidParameterValueException where the model lists no
// ResourceNotFoundException); callbacks name no waiting execution and answer
// InvalidParameterValueException. Nothing succeeds silently.

var (
	durableExecutionArnPattern = regexp.MustCompile(`^arn:([a-zA-Z0-9-]+):lambda:([a-zA-Z0-9-]+):(\d{12}):function:([a-zA-Z0-9_-]+):(\$LATEST(?:\.PUBLISHED)?|[0-9]+)/durable-execution/([a-zA-Z0-9_-]+)/([a-zA-Z0-9_-]+)$`)
	callbackIDPattern          = regexp.MustCompile(`^[A-Za-z0-9+/]+={0,2}$`)
	durableNamePattern         = regexp.MustCompile(`^[a-zA-Z0-9-_]+$`)
)

const durableExecutionArnPatternText = `arn:([a-zA-Z0-9-]+):lambda:([a-zA-Z0-9-]+):(\d{12}):function:([a-zA-Z0-9_-]+):(\$LATEST(?:\.PUBLISHED)?|[0-9]+)/durable-execution/([a-zA-Z0-9_-]+)/([a-zA-Z0-9_-]+)`

// noDurableRuntime is the reason lamb gives in its durable-execution errors.
const noDurableRuntime = "lamb runs no durable functions (no durable execution runtime), so no durable execution exists"

// durableExecutionArn validates what an operation on one execution reads
// first: the {DurableExecutionArn} label, then the MaxItems query.
func durableExecutionArn(c *call) (string, error) {
	arn := c.Labels["DurableExecutionArn"]
	var v validationError
	if len(arn) > 1024 {
		v.add(arn, "durableExecutionArn", "Member must have length less than or equal to 1024")
	}
	if !durableExecutionArnPattern.MatchString(arn) {
		v.add(arn, "durableExecutionArn", "Member must satisfy regular expression pattern: "+durableExecutionArnPatternText)
	}
	if err := v.err(); err != nil {
		return arn, err
	}
	return arn, itemCount(c)
}

// itemCount validates an ItemCount query member (0..1000).
func itemCount(c *call) error {
	raw := c.Query.Get("MaxItems")
	if raw == "" {
		return nil
	}
	if n, err := strconv.Atoi(raw); err != nil || n < 0 || n > 1000 {
		var v validationError
		v.add(raw, "maxItems", "Member must have value between 0 and 1000")
		return v.err()
	}
	return nil
}

// durableExecutionNotFound serves GetDurableExecution,
// GetDurableExecutionHistory and StopDurableExecution.
func (s *Server) durableExecutionNotFound(w http.ResponseWriter, r *http.Request, c *call) error {
	arn, err := durableExecutionArn(c)
	if err != nil {
		return err
	}
	return errNotFound("Durable execution not found: %s (%s).", arn, noDurableRuntime)
}

// durableExecutionUnknown serves GetDurableExecutionState and
// CheckpointDurableExecution, whose model lists no ResourceNotFoundException.
func (s *Server) durableExecutionUnknown(w http.ResponseWriter, r *http.Request, c *call) error {
	arn, err := durableExecutionArn(c)
	if err != nil {
		return err
	}
	if c.Op.Name == "GetDurableExecutionState" && c.Query.Get("CheckpointToken") == "" {
		return errNull("checkpointToken")
	}
	return errInvalidParameter("Invalid durable execution %s: %s.", arn, noDurableRuntime)
}

// durableCallback serves SendDurableExecutionCallbackSuccess, -Failure and
// -Heartbeat: no execution waits on any callback.
func (s *Server) durableCallback(w http.ResponseWriter, r *http.Request, c *call) error {
	id := c.Labels["CallbackId"]
	var v validationError
	if len(id) > 1024 {
		v.add(id, "callbackId", "Member must have length less than or equal to 1024")
	}
	if !callbackIDPattern.MatchString(id) {
		v.add(id, "callbackId", "Member must satisfy regular expression pattern: [A-Za-z0-9+/]+={0,2}")
	}
	if err := v.err(); err != nil {
		return err
	}
	return errInvalidParameter("Invalid callback id %s: %s.", id, noDurableRuntime)
}

// listDurableExecutionsByFunction serves ListDurableExecutionsByFunction: an
// existing function (and qualifier) has no durable executions.
func (s *Server) listDurableExecutionsByFunction(w http.ResponseWriter, r *http.Request, c *call) error {
	ref, err := resolveFunction(c)
	if err != nil {
		return err
	}
	var v validationError
	if n := c.Query.Get("DurableExecutionName"); n != "" && (len(n) > 64 || !durableNamePattern.MatchString(n)) {
		v.add(n, "durableExecutionName", "Member must satisfy regular expression pattern: [a-zA-Z0-9-_]+")
	}
	for _, st := range c.Query["Statuses"] {
		switch st {
		case "RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "STOPPED":
		default:
			v.add(st, "statuses.member", "Member must satisfy enum value set: [RUNNING, SUCCEEDED, FAILED, TIMED_OUT, STOPPED]")
		}
	}
	for _, member := range []string{"StartedAfter", "StartedBefore"} {
		if t := c.Query.Get(member); t != "" {
			if _, err := time.Parse(time.RFC3339, t); err != nil {
				v.add(t, lowerFirst(member), "Member must be a timestamp")
			}
		}
	}
	if err := v.err(); err != nil {
		return err
	}
	if err := itemCount(c); err != nil {
		return err
	}
	if _, err := s.loadQualified(r.Context(), c.Scope, ref, nil); err != nil {
		return err
	}
	return reply(w, c, map[string]any{"DurableExecutions": []any{}})
}

// lowerFirst turns a member name into its validation-message form.
func lowerFirst(s string) string {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return s
	}
	return string(s[0]+'a'-'A') + s[1:]
}
