package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/lambhq/lamb/eventsource"
	"github.com/lambhq/lamb/store"
)

// Event source mappings are stored and answered as AWS does. Mappings of
// SQS queues, Kinesis streams and DynamoDB streams are polled when lamb has
// an endpoint for that service (Config.EventSources; `lamb serve
// --event-source-endpoint`): event_source_poll.go hands each mapping to the
// pollers (package eventsource) on create, update, delete and start, and
// stream mappings' LastProcessingResult follows the last batch. Without an
// endpoint, and for Kafka and MQ sources, a mapping is stored only and never
// invokes its function: Create logs a warning saying so, and
// LastProcessingResult stays "No records processed" (for stream and Kafka
// sources, as on AWS).

// esmDoc is the mapping as AWS answers it (member name -> value); _fn is the
// function key it belongs to, kept out of answers.
type esmDoc map[string]any

func esmKey(sc scope, uuid string) string { return sc.Account + "/" + sc.Region + "/" + uuid }

// esmSource classifies an event source ARN: "sqs", "stream" (Kinesis,
// DynamoDB streams), "kafka" (self-managed or MSK), "mq" or "" (unknown).
func esmSource(arn string, selfManaged bool) string {
	switch {
	case selfManaged:
		return "kafka"
	case strings.HasPrefix(arn, "arn:aws:sqs:"):
		return "sqs"
	case strings.HasPrefix(arn, "arn:aws:kinesis:"), strings.HasPrefix(arn, "arn:aws:dynamodb:") && strings.Contains(arn, "/stream/"):
		return "stream"
	case strings.HasPrefix(arn, "arn:aws:kafka:"):
		return "kafka"
	case strings.HasPrefix(arn, "arn:aws:mq:"):
		return "mq"
	case strings.HasPrefix(arn, "arn:aws:docdb:"), strings.HasPrefix(arn, "arn:aws:rds:"):
		return "stream"
	}
	return ""
}

// esmSettable are the request members copied into the mapping as given.
var esmSettable = []string{"BatchSize", "MaximumBatchingWindowInSeconds", "ParallelizationFactor", "StartingPositionTimestamp",
	"DestinationConfig", "MaximumRecordAgeInSeconds", "BisectBatchOnFunctionError", "MaximumRetryAttempts", "TumblingWindowInSeconds",
	"Topics", "Queues", "SourceAccessConfigurations", "SelfManagedEventSource", "FunctionResponseTypes", "FilterCriteria",
	"AmazonManagedKafkaEventSourceConfig", "SelfManagedKafkaEventSourceConfig", "ScalingConfig", "DocumentDBEventSourceConfig",
	"KMSKeyArn", "MetricsConfig", "ProvisionedPollerConfig"}

// createEventSourceMapping serves CreateEventSourceMapping (202).
func (s *Server) createEventSourceMapping(w http.ResponseWriter, r *http.Request, c *call) error {
	var in map[string]any
	if err := decodeBody(r, c, &in); err != nil {
		return err
	}
	if in == nil {
		in = map[string]any{}
	}
	source, _ := in["EventSourceArn"].(string)
	_, selfManaged := in["SelfManagedEventSource"]
	kind := esmSource(source, selfManaged)
	if kind == "" {
		return errInvalidParameter("Unrecognized event source.")
	}
	fnName, _ := in["FunctionName"].(string)
	ref, err := parseFunctionName(fnName, c.Scope, 140)
	if err != nil {
		return err
	}
	pos, hasPos := in["StartingPosition"].(string)
	if hasPos && pos != "LATEST" && pos != "TRIM_HORIZON" && pos != "AT_TIMESTAMP" {
		var v validationError
		v.add(pos, "startingPosition", "Member must satisfy enum value set: [LATEST, AT_TIMESTAMP, TRIM_HORIZON]")
		return v.err()
	}
	tags, err := esmTags(in["Tags"])
	if err != nil {
		return err
	}
	now := time.Now()
	uuid := newRevisionID()
	doc := esmDoc{
		"UUID": uuid, "LastModified": float64(now.UnixMilli()) / 1000, "State": "Creating",
		"StateTransitionReason": "USER_INITIATED", "BatchSize": 10,
	}
	switch kind {
	case "sqs":
		if _, ok := in["DestinationConfig"]; ok {
			return errInvalidParameter("Unsupported DestinationConfig parameter for given event source mapping type.")
		}
		doc["MaximumBatchingWindowInSeconds"] = 0
		doc["FunctionResponseTypes"] = []any{}
	case "stream":
		if !hasPos {
			return errInvalidParameter("1 validation error detected: Value null at 'startingPosition' failed to satisfy constraint: Member must not be null.")
		}
		if pos == "AT_TIMESTAMP" && strings.Contains(source, ":dynamodb:") {
			return errInvalidParameter("Unsupported starting position for arn type: %s", source)
		}
		for k, v := range map[string]any{"BatchSize": 100, "BisectBatchOnFunctionError": false, "DestinationConfig": map[string]any{"OnFailure": map[string]any{}},
			"MaximumBatchingWindowInSeconds": 0, "MaximumRecordAgeInSeconds": -1, "MaximumRetryAttempts": -1, "ParallelizationFactor": 1,
			"TumblingWindowInSeconds": 0, "FunctionResponseTypes": []any{}, "LastProcessingResult": "No records processed",
			"StartingPosition": pos, "StateTransitionReason": "User action"} {
			doc[k] = v
		}
	case "kafka", "mq":
		if _, ok := in["SourceAccessConfigurations"]; !ok && selfManaged {
			return errInvalidParameter("Required 'sourceAccessConfigurations' parameter is missing.")
		}
		doc["BatchSize"] = 100
		doc["LastProcessingResult"] = "No records processed"
		doc["StartingPosition"] = "TRIM_HORIZON"
		if hasPos {
			doc["StartingPosition"] = pos
		}
		if kind == "kafka" {
			doc["SelfManagedKafkaEventSourceConfig"] = map[string]any{"ConsumerGroupId": uuid}
		}
	}
	if source != "" {
		doc["EventSourceArn"] = source
		doc["EventSourceMappingArn"] = "arn:aws:lambda:" + c.Scope.Region + ":" + c.Scope.Account + ":event-source-mapping:" + uuid
	}
	for _, k := range esmSettable {
		if v, ok := in[k]; ok {
			doc[k] = v
		}
	}
	if cfg, ok := doc["SelfManagedKafkaEventSourceConfig"].(map[string]any); ok && kind == "kafka" {
		if id, ok := cfg["ConsumerGroupId"].(string); ok && id != "" && id != uuid {
			// AWS keeps a consumer group id the caller chose; the mapping's UUID is its own.
			doc["UUID"] = newRevisionID()
		}
	}
	if f, ok := doc["FilterCriteria"].(map[string]any); ok {
		if fl, ok := f["Filters"].([]any); ok && len(fl) == 0 {
			delete(doc, "FilterCriteria") // AWS drops an empty filter list
		}
	}
	if err := checkFilterCriteria(doc["FilterCriteria"]); err != nil {
		return err
	}
	if err := checkSQSBatchWindow(kind, doc); err != nil {
		return err
	}
	if enabled, ok := in["Enabled"].(bool); ok && !enabled {
		doc["State"] = "Disabled"
	}
	uuid = doc["UUID"].(string)
	err = s.store.Update(r.Context(), func(tx store.Tx) error {
		latest, err := loadFunctionOr(tx, c.Scope, ref.Name, errInvalidParameter("Function does not exist"))
		if err != nil {
			return err
		}
		target := latest.arn()
		if ref.Qualifier != "" {
			if _, err := resolveQualifier(tx, latest, ref.Qualifier, nil); err != nil {
				return errInvalidParameter("Function does not exist")
			}
			target += ":" + ref.Qualifier
		}
		doc["FunctionArn"] = target
		if kind == "sqs" || kind == "stream" {
			dup, err := duplicateSourceMapping(tx, c.Scope, doc, kind, fnName)
			if err != nil {
				return err
			}
			if dup != nil {
				return dup
			}
		}
		if kind == "kafka" && selfManaged {
			dup, err := duplicateKafkaMapping(tx, c.Scope, doc)
			if err != nil {
				return err
			}
			if dup != nil {
				return dup
			}
		}
		if len(tags) > 0 {
			if err := tx.Put(bucketESMTags, esmKey(c.Scope, uuid), tags); err != nil {
				return err
			}
		}
		return tx.Put(bucketESM, esmKey(c.Scope, uuid), doc)
	})
	if err != nil {
		return err
	}
	if s.polls(source) {
		s.log.InfoContext(r.Context(), "event source mapping created; lamb polls it", "uuid", uuid, "function", doc["FunctionArn"], "source", source)
		s.applyESM(esmKey(c.Scope, uuid), doc)
	} else {
		s.log.WarnContext(r.Context(), "event source mapping stored, but lamb has no endpoint for its source (--event-source-endpoint): it will never invoke its function",
			"uuid", uuid, "function", doc["FunctionArn"], "source", source)
	}
	return reply(w, c, doc)
}

// esmTags reads CreateEventSourceMapping's Tags member (a string map of at
// most maxTags entries).
func esmTags(raw any) (map[string]string, error) {
	if raw == nil {
		return nil, nil
	}
	b, err := json.Marshal(raw)
	if err != nil {
		return nil, fmt.Errorf("re-encode Tags: %w", err)
	}
	var tags map[string]string
	if err := json.Unmarshal(b, &tags); err != nil {
		return nil, errUnparsableBody(err)
	}
	if len(tags) > maxTags {
		return nil, errTooManyTags()
	}
	return tags, nil
}

// duplicateKafkaMapping refuses a second self-managed Kafka mapping of the
// same servers, function and topics.
func duplicateKafkaMapping(tx store.Tx, sc scope, doc esmDoc) (*awsError, error) {
	servers := kafkaServers(doc)
	topics, _ := json.Marshal(doc["Topics"])
	var dup *awsError
	err := store.Each(tx, bucketESM, sc.Account+"/"+sc.Region+"/", "", func(_ string, d *esmDoc) error {
		other := *d
		ot, _ := json.Marshal(other["Topics"])
		if other["FunctionArn"] == doc["FunctionArn"] && kafkaServers(other) == servers && string(ot) == string(topics) && servers != "" {
			var tl []string
			_ = json.Unmarshal(topics, &tl)
			dup = errConflict("An event source mapping with event source (\"%s\"), function (\"%s\"), topics (\"%s\") already exists. Please update or delete the existing mapping with UUID %s",
				servers, doc["FunctionArn"], strings.Join(tl, ","), other["UUID"])
			return store.ErrStop
		}
		return nil
	})
	return dup, err
}

// duplicateSourceMapping refuses a second mapping of the same queue or
// stream to the same function, in AWS's words for each kind (LocalStack's
// recordings test_lambda_integration_{sqs,kinesis,dynamodbstreams}.snapshot.json,
// test_duplicate_event_source_mappings, label error). The function is named
// as the caller named it: the recordings show the name they passed.
func duplicateSourceMapping(tx store.Tx, sc scope, doc esmDoc, kind, fnName string) (*awsError, error) {
	var dup *awsError
	err := store.Each(tx, bucketESM, sc.Account+"/"+sc.Region+"/", "", func(_ string, d *esmDoc) error {
		other := *d
		if other["FunctionArn"] != doc["FunctionArn"] || other["EventSourceArn"] != doc["EventSourceArn"] {
			return nil
		}
		if kind == "sqs" {
			dup = errConflict("An event source mapping with SQS arn (\" %s \") and function (\" %s \") already exists. Please update or delete the existing mapping with UUID %s",
				doc["EventSourceArn"], fnName, other["UUID"])
		} else {
			dup = errConflict("The event source arn (\" %s \") and function (\" %s \") provided mapping already exists. Please update or delete the existing mapping with UUID %s",
				doc["EventSourceArn"], fnName, other["UUID"])
		}
		return store.ErrStop
	})
	return dup, err
}

// checkFilterCriteria refuses a filter pattern AWS does not parse: not a JSON
// object ("null", a plain string), a value that is not an object or array,
// an empty array (LocalStack's recordings test_sqs_invalid_event_filter and
// test_dynamodb_invalid_event_filter: "Invalid filter pattern definition.").
func checkFilterCriteria(raw any) error {
	f, _ := raw.(map[string]any)
	list, _ := f["Filters"].([]any)
	for _, item := range list {
		m, _ := item.(map[string]any)
		p, ok := m["Pattern"].(string)
		if !ok {
			continue
		}
		var obj map[string]any
		_, err := eventsource.ParseFilter([]string{p})
		if err != nil || json.Unmarshal([]byte(p), &obj) != nil || obj == nil || hasEmptyArray(obj) {
			return errInvalidParameter("Invalid filter pattern definition.")
		}
	}
	return nil
}

// hasEmptyArray reports whether a pattern holds an empty list of matchers.
func hasEmptyArray(v any) bool {
	switch v := v.(type) {
	case map[string]any:
		for _, x := range v {
			if hasEmptyArray(x) {
				return true
			}
		}
	case []any:
		if len(v) == 0 {
			return true
		}
		for _, x := range v {
			if hasEmptyArray(x) {
				return true
			}
		}
	}
	return false
}

// checkSQSBatchWindow refuses an SQS mapping batching more than 10 messages
// with no batching window (LocalStack's test_lambda_integration_sqs.snapshot.json,
// test_event_source_mapping_default_batch_size, for create and update).
func checkSQSBatchWindow(kind string, doc esmDoc) error {
	if kind != "sqs" {
		return nil
	}
	num := func(v any) float64 {
		switch n := v.(type) {
		case float64:
			return n
		case int:
			return float64(n)
		}
		return 0
	}
	size, window := num(doc["BatchSize"]), num(doc["MaximumBatchingWindowInSeconds"])
	if size > 10 && window <= 0 {
		return errInvalidParameter("Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10")
	}
	return nil
}

func kafkaServers(doc esmDoc) string {
	sm, _ := doc["SelfManagedEventSource"].(map[string]any)
	eps, _ := sm["Endpoints"].(map[string]any)
	list, _ := eps["KAFKA_BOOTSTRAP_SERVERS"].([]any)
	var out []string
	for _, s := range list {
		if str, ok := s.(string); ok {
			out = append(out, str)
		}
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

func errESMNotFound() *awsError { return errNotFound("The resource you requested does not exist.") }

// loadESM reads a mapping; its State moves on from Creating/Updating as
// AWS's does once the (here, notional) poller picked it up.
func loadESM(tx store.Tx, sc scope, uuid string) (esmDoc, error) {
	doc, err := store.Load[esmDoc](tx, bucketESM, esmKey(sc, uuid))
	if errors.Is(err, store.ErrNotFound) {
		return nil, errESMNotFound()
	} else if err != nil {
		return nil, err
	}
	return doc.settled(), nil
}

// settled is the mapping as read: its State moved on (see loadESM).
func (doc esmDoc) settled() esmDoc {
	switch doc["State"] {
	case "Creating", "Updating", "Enabling":
		doc["State"] = "Enabled"
	case "Disabling":
		doc["State"] = "Disabled"
	}
	return doc
}

// getEventSourceMapping serves GetEventSourceMapping.
func (s *Server) getEventSourceMapping(w http.ResponseWriter, r *http.Request, c *call) error {
	var doc esmDoc
	err := s.store.View(r.Context(), func(tx store.Tx) error {
		var err error
		doc, err = loadESM(tx, c.Scope, c.Labels["UUID"])
		return err
	})
	if err != nil {
		return err
	}
	return reply(w, c, doc)
}

// updateEventSourceMapping serves UpdateEventSourceMapping (202).
func (s *Server) updateEventSourceMapping(w http.ResponseWriter, r *http.Request, c *call) error {
	var in map[string]any
	if err := decodeBody(r, c, &in); err != nil {
		return err
	}
	var doc esmDoc
	err := s.store.Update(r.Context(), func(tx store.Tx) error {
		var err error
		if doc, err = loadESM(tx, c.Scope, c.Labels["UUID"]); err != nil {
			return err
		}
		for _, k := range esmSettable {
			if v, ok := in[k]; ok {
				doc[k] = v
			}
		}
		if fn, ok := in["FunctionName"].(string); ok && fn != "" {
			ref, err := parseFunctionName(fn, c.Scope, 140)
			if err != nil {
				return err
			}
			if _, err := loadFunction(tx, c.Scope, ref.Name); err != nil {
				return errInvalidParameter("Function does not exist")
			}
			doc["FunctionArn"] = ref.arn(c.Scope)
		}
		src, _ := doc["EventSourceArn"].(string)
		if err := checkSQSBatchWindow(esmSource(src, false), doc); err != nil {
			return err
		}
		doc["State"] = "Updating"
		if enabled, ok := in["Enabled"].(bool); ok {
			doc["State"] = map[bool]string{true: "Enabling", false: "Disabling"}[enabled]
		}
		doc["LastModified"] = float64(time.Now().UnixMilli()) / 1000
		return tx.Put(bucketESM, esmKey(c.Scope, c.Labels["UUID"]), doc)
	})
	if err != nil {
		return err
	}
	s.applyESM(esmKey(c.Scope, c.Labels["UUID"]), doc)
	return reply(w, c, doc)
}

// deleteEventSourceMapping serves DeleteEventSourceMapping (202, State Deleting).
func (s *Server) deleteEventSourceMapping(w http.ResponseWriter, r *http.Request, c *call) error {
	var doc esmDoc
	err := s.store.Update(r.Context(), func(tx store.Tx) error {
		var err error
		if doc, err = loadESM(tx, c.Scope, c.Labels["UUID"]); err != nil {
			return err
		}
		if err := tx.Delete(bucketESMTags, esmKey(c.Scope, c.Labels["UUID"])); err != nil {
			return err
		}
		if err := clearCheckpoints(tx, c.Labels["UUID"]); err != nil {
			return err
		}
		return tx.Delete(bucketESM, esmKey(c.Scope, c.Labels["UUID"]))
	})
	if err != nil {
		return err
	}
	s.removeESM(c.Labels["UUID"])
	doc["State"] = "Deleting"
	return reply(w, c, doc)
}

// listEventSourceMappings serves ListEventSourceMappings (?FunctionName=,
// ?EventSourceArn= filter), in UUID order.
func (s *Server) listEventSourceMappings(w http.ResponseWriter, r *http.Request, c *call) error {
	maxItems, err := pageSize(c, 10000, 100)
	if err != nil {
		return err
	}
	var wantFn string
	if fn := c.Query.Get("FunctionName"); fn != "" {
		ref, err := parseFunctionName(fn, c.Scope, 140)
		if err != nil {
			return err
		}
		wantFn = ref.arn(c.Scope)
	}
	wantSource := c.Query.Get("EventSourceArn")
	p, err := newPage[esmDoc](c, maxItems)
	if err != nil {
		return err
	}
	prefix := c.Scope.Account + "/" + c.Scope.Region + "/"
	err = s.store.View(r.Context(), func(tx store.Tx) error {
		return scanPage(tx, p, bucketESM, prefix, func(d *esmDoc) (string, esmDoc, bool) {
			doc := d.settled()
			match := (wantFn == "" || doc["FunctionArn"] == wantFn) && (wantSource == "" || doc["EventSourceArn"] == wantSource)
			return doc["UUID"].(string), doc, match
		})
	})
	if err != nil {
		return err
	}
	return reply(w, c, struct {
		EventSourceMappings []esmDoc `json:"EventSourceMappings"`
		NextMarker          string   `json:"NextMarker,omitempty"`
	}{p.items, p.next})
}
