package e2e

import (
	"fmt"
	"strings"
	"testing"
)

// TestLocalStackRecordedAnswers replays control-plane scenarios whose answers
// LocalStack's test suite recorded against real AWS
// (github.com/localstack/localstack, tests/aws/services/lambda_/*.snapshot.json;
// each case names its file, test and label) with boto3 against the real lamb
// binary, and compares error code, HTTP status and message. The recordings
// replace names and ids with placeholders; the script's names stand in.
func TestLocalStackRecordedAnswers(t *testing.T) {
	s := startLamb(t, t.TempDir())
	got := runBoto3Script(t, s, boto3Prelude+`
import time
fn = "ls-fn"
c.create_function(FunctionName=fn, Runtime="python3.12", Role=ROLE, Handler="index.handler", Code={"ZipFile": ZIP})
c.get_waiter("function_active_v2").wait(FunctionName=fn, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
call("url_invalid_mode", lambda: c.create_function_url_config(FunctionName=fn, AuthType="NONE", InvokeMode="UNKNOWN"))
v1 = c.publish_version(FunctionName=fn)["Version"]
c.create_alias(FunctionName=fn, Name="al", FunctionVersion=v1)
call("pc_notfound_alias", lambda: c.get_provisioned_concurrency_config(FunctionName=fn, Qualifier="al"))
c.put_provisioned_concurrency_config(FunctionName=fn, Qualifier=v1, ProvisionedConcurrentExecutions=2)
call("reserved_lower", lambda: c.put_function_concurrency(FunctionName=fn, ReservedConcurrentExecutions=1))
c.put_function_concurrency(FunctionName=fn, ReservedConcurrentExecutions=2)
c.update_function_configuration(FunctionName=fn, Timeout=15)
c.get_waiter("function_updated_v2").wait(FunctionName=fn, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
v2 = c.publish_version(FunctionName=fn)["Version"]
call("pc_another", lambda: c.put_provisioned_concurrency_config(FunctionName=fn, Qualifier=v2, ProvisionedConcurrentExecutions=1))
call("pc_increase", lambda: c.put_provisioned_concurrency_config(FunctionName=fn, Qualifier=v1, ProvisionedConcurrentExecutions=3))
q = "arn:aws:sqs:us-east-1:123456789012:ls-q1"
for i, f in enumerate([None, "simple string", {"eventSource": "aws:sqs"}, {"eventSource": []}]):
    pat = f if isinstance(f, str) else json.dumps(f)
    call("sqs_filter_%d" % i, lambda: c.create_event_source_mapping(EventSourceArn=q, FunctionName=fn, MaximumBatchingWindowInSeconds=1, FilterCriteria={"Filters": [{"Pattern": pat}]}))
ddb = "arn:aws:dynamodb:us-east-1:123456789012:table/t1/stream/2024-01-01T00:00:00.000"
for i, f in enumerate(["single-string", '[{"eventName": ["INSERT"=123}]']):
    call("ddb_filter_%d" % i, lambda: c.create_event_source_mapping(EventSourceArn=ddb, FunctionName=fn, StartingPosition="LATEST", FilterCriteria={"Filters": [{"Pattern": f}]}))
call("ddb_filter_valid", lambda: c.create_event_source_mapping(EventSourceArn=ddb + "x", FunctionName=fn, StartingPosition="LATEST", FilterCriteria={"Filters": [{"Pattern": json.dumps({"eventName": ["INSERT"], "dynamodb": {"NewImage": {"n": {"N": [{"numeric": [">", 1]}]}}}})}]}))
r = c.create_event_source_mapping(EventSourceArn=q, FunctionName=fn)
call("sqs_dup", lambda: c.create_event_source_mapping(EventSourceArn=q, FunctionName=fn))
call("sqs_update_batch", lambda: c.update_event_source_mapping(UUID=r["UUID"], FunctionName=fn, BatchSize=11))
call("sqs_update_batch_window", lambda: c.update_event_source_mapping(UUID=r["UUID"], FunctionName=fn, BatchSize=11, MaximumBatchingWindowInSeconds=1))
call("sqs_create_batch", lambda: c.create_event_source_mapping(EventSourceArn=q + "2", FunctionName=fn, BatchSize=11))
c.create_function(FunctionName=fn + "2", Runtime="python3.12", Role=ROLE, Handler="index.handler", Code={"ZipFile": ZIP})
call("sqs_other_function", lambda: c.create_event_source_mapping(EventSourceArn=q, FunctionName=fn + "2"))
k = "arn:aws:kinesis:us-east-1:123456789012:stream/ls-s1"
rk = c.create_event_source_mapping(EventSourceArn=k, FunctionName=fn, StartingPosition="LATEST")
call("kin_dup", lambda: c.create_event_source_mapping(EventSourceArn=k, FunctionName=fn, StartingPosition="LATEST"))
rd = c.create_event_source_mapping(EventSourceArn=ddb, FunctionName=fn, StartingPosition="LATEST")
call("ddb_dup", lambda: c.create_event_source_mapping(EventSourceArn=ddb, FunctionName=fn, StartingPosition="LATEST"))
out["uuids"] = {"sqs": r["UUID"], "kin": rk["UUID"], "ddb": rd["UUID"]}
print(json.dumps(out, default=str))
`)
	uuids, _ := got["uuids"].(map[string]any)
	const (
		lambdaSnap = "test_lambda.snapshot.json"
		sqsSnap    = "event_source_mapping/test_lambda_integration_sqs.snapshot.json"
		filterMsg  = "Invalid filter pattern definition."
		batchMsg   = "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10"
		pcMsg      = "Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function"
	)
	tests := []struct {
		key, source   string // source: recording file, test, label
		code, message string // code "" means success
		status        float64
	}{
		{"url_invalid_mode", lambdaSnap + " test_lambda_url_invalid_invoke_mode invoke_function_invalid_invoke_type", "ValidationException",
			"1 validation error detected: Value 'UNKNOWN' at 'invokeMode' failed to satisfy constraint: Member must satisfy enum value set: [RESPONSE_STREAM, BUFFERED]", 400},
		{"pc_notfound_alias", lambdaSnap + " test_lambda_provisioned_concurrency_moves_with_alias provisioned_concurrency_notfound", "ProvisionedConcurrencyConfigNotFoundException",
			"No Provisioned Concurrency Config found for this function", 404},
		{"reserved_lower", lambdaSnap + " test_reserved_provisioned_overlap reserved_lower_than_provisioned_exc", "InvalidParameterValueException",
			" ReservedConcurrentExecutions  1 should not be lower than function's total provisioned concurrency [2].", 400},
		{"pc_another", lambdaSnap + " test_reserved_provisioned_overlap reserved_equals_provisioned_another_provisioned_exc", "InvalidParameterValueException", pcMsg, 400},
		{"pc_increase", lambdaSnap + " test_reserved_provisioned_overlap reserved_equals_provisioned_increase_provisioned_exc", "InvalidParameterValueException", pcMsg, 400},
		{"sqs_filter_0", sqsSnap + " test_sqs_invalid_event_filter[None] create_event_source_mapping_exception", "InvalidParameterValueException", filterMsg, 400},
		{"sqs_filter_1", sqsSnap + " test_sqs_invalid_event_filter[simple string] create_event_source_mapping_exception", "InvalidParameterValueException", filterMsg, 400},
		{"sqs_filter_2", sqsSnap + " test_sqs_invalid_event_filter[invalid_filter2] create_event_source_mapping_exception", "InvalidParameterValueException", filterMsg, 400},
		{"sqs_filter_3", sqsSnap + " test_sqs_invalid_event_filter[invalid_filter3] create_event_source_mapping_exception", "InvalidParameterValueException", filterMsg, 400},
		{"ddb_filter_0", "event_source_mapping/test_lambda_integration_dynamodbstreams.snapshot.json test_dynamodb_invalid_event_filter[single-string] exception_event_source_creation", "InvalidParameterValueException", filterMsg, 400},
		{"ddb_filter_1", "event_source_mapping/test_lambda_integration_dynamodbstreams.snapshot.json test_dynamodb_invalid_event_filter[[{\"eventName\": [\"INSERT\"=123}]] exception_event_source_creation", "InvalidParameterValueException", filterMsg, 400},
		{"ddb_filter_valid", "a valid pattern still passes", "", "", 0},
		{"sqs_dup", sqsSnap + " test_duplicate_event_source_mappings error", "ResourceConflictException",
			fmt.Sprintf(`An event source mapping with SQS arn (" arn:aws:sqs:us-east-1:123456789012:ls-q1 ") and function (" ls-fn ") already exists. Please update or delete the existing mapping with UUID %v`, uuids["sqs"]), 409},
		{"sqs_other_function", sqsSnap + " test_duplicate_event_source_mappings (a second function may map the same queue)", "", "", 0},
		{"sqs_update_batch", sqsSnap + " test_event_source_mapping_default_batch_size invalid-update-event-source-mapping", "InvalidParameterValueException", batchMsg, 400},
		{"sqs_update_batch_window", "a batching window allows more than 10", "", "", 0},
		{"sqs_create_batch", sqsSnap + " test_event_source_mapping_default_batch_size invalid-create-event-source-mapping", "InvalidParameterValueException", batchMsg, 400},
		{"kin_dup", "event_source_mapping/test_lambda_integration_kinesis.snapshot.json test_duplicate_event_source_mappings error", "ResourceConflictException",
			fmt.Sprintf(`The event source arn (" arn:aws:kinesis:us-east-1:123456789012:stream/ls-s1 ") and function (" ls-fn ") provided mapping already exists. Please update or delete the existing mapping with UUID %v`, uuids["kin"]), 409},
		{"ddb_dup", "event_source_mapping/test_lambda_integration_dynamodbstreams.snapshot.json test_duplicate_event_source_mappings error", "ResourceConflictException",
			fmt.Sprintf(`The event source arn (" arn:aws:dynamodb:us-east-1:123456789012:table/t1/stream/2024-01-01T00:00:00.000 ") and function (" ls-fn ") provided mapping already exists. Please update or delete the existing mapping with UUID %v`, uuids["ddb"]), 409},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			v, ok := got[tt.key]
			if !ok {
				t.Fatalf("%s: not run", tt.key)
			}
			e, isErr := v.([]any)
			if tt.code == "" {
				if isErr {
					t.Fatalf("%s (%s): got %v, want success", tt.key, tt.source, e)
				}
				return
			}
			if !isErr || len(e) != 3 {
				t.Fatalf("%s (%s): got %v, want %s", tt.key, tt.source, v, tt.code)
			}
			if e[0] != tt.code || e[1] != tt.message || e[2] != tt.status {
				t.Errorf("%s (%s):\n got  %v %v %q\n want %v %v %q", tt.key, tt.source, e[0], e[2], e[1], tt.code, tt.status, tt.message)
			}
			if strings.Contains(tt.message, "<nil>") {
				t.Errorf("%s: mapping uuid missing from the script's output", tt.key)
			}
		})
	}
}
