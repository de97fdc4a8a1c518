package api

import "strconv"

// The persisted schema: every bucket lamb keeps in the store, how its keys
// are made, which file creates its records and what each delete clears of
// it. The delete paths (forget, function_state.go) take their lists from this
// table, so a bucket added here is cleared or kept by a decision, not by
// whether someone remembered it; schema_test.go fails on a bucket the store
// holds that is not listed here and on an entry that leaves a delete
// unclassified.
const (
	bucketFunctions          = "functions"
	bucketVersions           = "function-versions"
	bucketVersionCounters    = "version-counters"
	bucketAliases            = "aliases"
	bucketFunctionSettings   = "function-settings"
	bucketPolicies           = "policies"
	bucketEventInvokeConfigs = "event-invoke-configs"
	bucketProvisioned        = "provisioned-concurrency"
	bucketFunctionURLs       = "function-urls"
	bucketFunctionURLIDs     = "function-url-ids"
	bucketFunctionCSC        = "function-csc"
	bucketCodeSigning        = "code-signing-configs"
	bucketCapacityProviders  = "capacity-providers"
	bucketESM                = "event-source-mappings"
	bucketESMTags            = "event-source-mapping-tags"
	bucketESMCheckpoints     = "event-source-checkpoints"
	bucketLayerVersions      = "layer-versions"
	bucketLayerCounters      = "layer-counters"
	bucketLayerPolicies      = "layer-policies"
	bucketAsyncEvents        = "async-events"
	bucketStacks             = "stacks"
	bucketSchedules          = "schedules"
)

// deletion is a delete whose effect reaches past one record.
type deletion int

const (
	delFunction     deletion = iota // DeleteFunction without a qualifier: the function and all it has
	delVersion                      // DeleteFunction with a version number as Qualifier
	delAlias                        // DeleteAlias
	delLayerVersion                 // DeleteLayerVersion
	numDeletions
)

var deletionNames = [numDeletions]string{"DeleteFunction", "DeleteFunction(version)", "DeleteAlias", "DeleteLayerVersion"}

func (d deletion) String() string { return deletionNames[d] }

// clearing is what one deletion does to a bucket.
type clearing uint8

const (
	// unclassified is the zero value, so an entry that does not say fails
	// TestSchemaClassified instead of silently meaning "kept".
	unclassified clearing = iota
	kept
	// cleared: delFunction removes the key functionKey(name) and every key
	// under functionKey(name)+"/"; the others remove key(sc, name, id).
	cleared
)

// onDelete says, per deletion, what it does to a bucket.
type onDelete [numDeletions]clearing

// bucketSchema is one bucket of the store.
type bucketSchema struct {
	name  string
	keys  string // key layout
	owner string // the file that creates its records
	// key is the record's key for one version or alias of function name
	// (or version of layer name); set where delVersion, delAlias or
	// delLayerVersion clears the bucket.
	key      func(sc scope, name, id string) string
	onDelete onDelete
	// note says why a delete keeps what it might be expected to clear.
	note string
}

// The classifications most buckets share; each entry still names its own.
var (
	keptByAll           = onDelete{delFunction: kept, delVersion: kept, delAlias: kept, delLayerVersion: kept}
	clearedWithFunction = onDelete{delFunction: cleared, delVersion: kept, delAlias: kept, delLayerVersion: kept}
	// Cleared with the function and with the version or alias of its key.
	clearedWithQualifier = onDelete{delFunction: cleared, delVersion: cleared, delAlias: cleared, delLayerVersion: kept}
)

// schema lists every bucket. Keep it in the order of the constants above.
var schema = []bucketSchema{
	{name: bucketFunctions, keys: "<account>/<region>/<name>: $LATEST", owner: "create_function.go",
		onDelete: clearedWithFunction},
	{name: bucketVersions, keys: "<account>/<region>/<name>/<%010d version>", owner: "versions.go", key: versionKey,
		onDelete: onDelete{delFunction: cleared, delVersion: cleared, delAlias: kept, delLayerVersion: kept}},
	{name: bucketVersionCounters, keys: "<account>/<region>/<name>: last version number handed out", owner: "versions.go",
		onDelete: clearedWithFunction,
		note:     "numbers are not reused while the function exists, as on AWS"},
	{name: bucketAliases, keys: "<account>/<region>/<name>/<alias>", owner: "aliases.go", key: aliasKey,
		onDelete: onDelete{delFunction: cleared, delVersion: kept, delAlias: cleared, delLayerVersion: kept},
		note:     "a version an alias points to cannot be deleted"},
	{name: bucketFunctionSettings, keys: "<account>/<region>/<name>/<kind>:<qualifier>, kind recursion, runtime or scaling", owner: "function_settings.go, scaling_config.go",
		onDelete: clearedWithFunction,
		note:     "kept by version and alias deletes: keyed by kind, not by qualifier alone"},
	{name: bucketPolicies, keys: "<account>/<region>/<name>/<qualifier or \"\">", owner: "policy.go", key: qualifierKey,
		onDelete: clearedWithQualifier},
	{name: bucketEventInvokeConfigs, keys: "<account>/<region>/<name>/<$LATEST, version or alias>", owner: "event_invoke_config.go", key: qualifierKey,
		onDelete: clearedWithQualifier},
	{name: bucketProvisioned, keys: "<account>/<region>/<name>/<version or alias>", owner: "provisioned.go", key: qualifierKey,
		onDelete: clearedWithQualifier},
	{name: bucketFunctionURLs, keys: "<account>/<region>/<name>/<alias or \"\">", owner: "function_url.go", key: qualifierKey,
		onDelete: clearedWithQualifier},
	{name: bucketFunctionURLIDs, keys: "<url-id>: urlRef, the config it serves", owner: "function_url.go",
		onDelete: keptByAll,
		note:     "the URL server ignores an entry whose config is gone or has another id"},
	// Cleared with the function: a function created again under the same
	// name inherited the old one's config while it was kept.
	{name: bucketFunctionCSC, keys: "<account>/<region>/<name>: the attached code signing config's ARN", owner: "code_signing.go",
		onDelete: clearedWithFunction},
	{name: bucketCodeSigning, keys: "<account>/<region>/<csc id>", owner: "code_signing.go",
		onDelete: keptByAll},
	{name: bucketCapacityProviders, keys: "<account>/<region>/<name>", owner: "capacity_provider.go",
		onDelete: keptByAll},
	{name: bucketESM, keys: "<account>/<region>/<uuid>", owner: "event_source_mapping.go",
		onDelete: keptByAll,
		note:     "a mapping outlives its function, as on AWS"},
	// Apart from the mapping, so that no answer about the mapping carries
	// them (the model's EventSourceMappingConfiguration has no Tags).
	{name: bucketESMTags, keys: "<account>/<region>/<uuid>: the mapping's tags", owner: "tags.go",
		onDelete: keptByAll,
		note:     "DeleteEventSourceMapping clears them"},
	{name: bucketESMCheckpoints, keys: "<uuid>/<shard id>: the sequence number a stream mapping's shard is acknowledged up to", owner: "event_source_poll.go",
		onDelete: keptByAll,
		note:     "kept with the mapping, which outlives its function; DeleteEventSourceMapping clears them"},
	{name: bucketLayerVersions, keys: "<account>/<region>/<layer>/<%010d version>", owner: "layer_versions.go", key: layerVersionKeyOf,
		onDelete: onDelete{delFunction: kept, delVersion: kept, delAlias: kept, delLayerVersion: cleared}},
	{name: bucketLayerCounters, keys: "<account>/<region>/<layer>: last version number handed out", owner: "layer_versions.go",
		onDelete: keptByAll,
		note:     "layer version numbers are never reused, as on AWS"},
	{name: bucketLayerPolicies, keys: "<account>/<region>/<layer>/<%010d version>", owner: "policy.go",
		onDelete: keptByAll,
		note:     "kept by DeleteLayerVersion: unreachable, as the version number is never reused"},
	{name: bucketAsyncEvents, keys: "<account>/<region>/<first enqueue, unix ns, %020d>/<request id>: a queued Event invocation", owner: "async.go",
		onDelete: keptByAll,
		note: "an accepted event runs with the configuration it was accepted for, as before the queue was durable; " +
			"its worker deletes it when it has run or failed for good"},
	{name: bucketStacks, keys: "<account>/<region>/<stack name>: lamb deploy's record of a stack", owner: "stacks.go",
		onDelete: keptByAll,
		note:     "a stack names its functions; lamb deploy deletes them and then the record"},
	{name: bucketSchedules, keys: "<account>/<region>/<schedule name>: a function invoked on a schedule", owner: "schedules.go",
		onDelete: keptByAll,
		note:     "as an EventBridge rule outlives its target; its invocations of a deleted function are refused and logged"},
}

// layerVersionKeyOf is layerVersionKey with the version as a string, the
// shape of bucketSchema.key.
func layerVersionKeyOf(sc scope, layer, version string) string {
	n, _ := strconv.ParseInt(version, 10, 64)
	return layerVersionKey(sc, layer, n)
}
