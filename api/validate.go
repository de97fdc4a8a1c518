package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/lambhq/lamb/runtimes"
)

// Limits AWS enforces beyond the model's constraints.
const (
	maxZippedBytes    = 52428800  // direct upload of a zip
	maxUnzippedBytes  = 262144000 // function plus its layers, unzipped
	maxEnvBytes       = 4096
	maxLayers         = 5
	maxMemoryMB       = 10240
	maxTimeoutSeconds = 900
)

var (
	rolePattern    = regexp.MustCompile(`^arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$`)
	handlerPattern = regexp.MustCompile(`^[^\s]+$`)
)

const rolePatternText = `arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+`

// awsSupportedRuntimes is the list AWS prints, in AWS's order, when a
// runtime is not valid (recorded from AWS; see TestLambdaFunction::
// test_create_lambda_exceptions in the snapshot). Whether a runtime is
// accepted is decided by the runtimes package, not by this list.
var awsSupportedRuntimes = []string{"nodejs20.x", "python3.14", "provided.al2023", "python3.12", "python3.13", "nodejs24.x", "nodejs22.x", "java25", "python3.10", "python3.11", "java21", "ruby3.3", "ruby3.4", "ruby3.2", "python3.8", "python3.9", "java17", "nodejs16.x", "dotnet10", "dotnet8", "java11", "dotnet6", "nodejs18.x", "provided.al2", "java8.al2"}

// checkRuntime validates a runtime sent to CreateFunction (refused from
// AWS's block-create date at now) or UpdateFunctionConfiguration (refused
// from its block-update date).
func checkRuntime(id string, creating bool, now time.Time) error {
	rt, ok := runtimes.Lookup(id)
	if !ok {
		return errInvalidParameter("Value %s at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: [%s] or be a valid ARN", id, strings.Join(awsSupportedRuntimes, ", "))
	}
	if (creating && rt.CreateBlocked(now)) || (!creating && rt.UpdateBlocked(now)) {
		return errRuntimeNoLongerSupported(id)
	}
	return nil
}

// checkRuntimeUpdatable refuses updating a function that stays on a runtime
// AWS blocks updates for at now; Image functions have none.
func checkRuntimeUpdatable(id string, now time.Time) error {
	if rt, ok := runtimes.Lookup(id); ok && rt.UpdateBlocked(now) {
		return errRuntimeNoLongerSupported(id)
	}
	return nil
}

// errRuntimeNoLongerSupported is AWS's answer for a blocked runtime, for
// creates and updates alike (recorded: TestRuntimeValidation).
func errRuntimeNoLongerSupported(id string) error {
	return errInvalidParameter("The runtime parameter of %s is no longer supported for creating or updating AWS Lambda functions. We recommend you use a supported runtime while creating or updating functions.", id)
}

// configInput is the part of CreateFunction and UpdateFunctionConfiguration
// they share. Pointers are nil when the client did not send the member.
type configInput struct {
	Runtime          *string           `json:"Runtime"`
	Role             *string           `json:"Role"`
	Handler          *string           `json:"Handler"`
	Description      *string           `json:"Description"`
	Timeout          *int32            `json:"Timeout"`
	MemorySize       *int32            `json:"MemorySize"`
	Environment      *environmentInput `json:"Environment"`
	KMSKeyArn        *string           `json:"KMSKeyArn"`
	TracingConfig    *tracingConfig    `json:"TracingConfig"`
	Layers           *[]string         `json:"Layers"`
	EphemeralStorage *ephemeralStorage `json:"EphemeralStorage"`
	SnapStart        *snapStartInput   `json:"SnapStart"`
	LoggingConfig    *loggingConfigIn  `json:"LoggingConfig"`
	ImageConfig      *imageConfig      `json:"ImageConfig"`
	// CapacityProviderConfig is checked against the store by the caller
	// (checkCapacityProviderConfig, capacity_provider.go).
	CapacityProviderConfig *providerConfig     `json:"CapacityProviderConfig"`
	VpcConfig              *vpcConfigInput     `json:"VpcConfig"`         // function_config_store_only.go
	DurableConfig          *durableConfig      `json:"DurableConfig"`     // function_config_store_only.go
	DeadLetterConfig       *deadLetterConfig   `json:"DeadLetterConfig"`  // function_config_store_only.go
	FileSystemConfigs      *[]fileSystemConfig `json:"FileSystemConfigs"` // function_config_store_only.go
}

type snapStartInput struct {
	ApplyOn string `json:"ApplyOn"`
}

type loggingConfigIn struct {
	LogFormat           *string `json:"LogFormat"`
	ApplicationLogLevel *string `json:"ApplicationLogLevel"`
	SystemLogLevel      *string `json:"SystemLogLevel"`
	LogGroup            *string `json:"LogGroup"`
}

// environmentInput keeps the variables in the order the client sent them,
// because AWS's "exceeded the 4KB limit" message prints them that way.
type environmentInput struct {
	Variables *orderedEnv `json:"Variables"`
}

type orderedEnv struct {
	keys []string
	vals map[string]string
}

func (o *orderedEnv) UnmarshalJSON(data []byte) error {
	o.vals = map[string]string{}
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok == nil {
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("environment variables must be an object")
	}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return err
		}
		k, _ := kt.(string)
		var v string
		if err := dec.Decode(&v); err != nil {
			return err
		}
		if _, dup := o.vals[k]; !dup {
			o.keys = append(o.keys, k)
		}
		o.vals[k] = v
	}
	_, err = dec.Token()
	return err
}

// measured renders the variables as AWS measures them: compact JSON in the
// order sent.
func (o *orderedEnv) measured() string {
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		vb, _ := json.Marshal(o.vals[k])
		b.Write(kb)
		b.WriteByte(':')
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.String()
}

// validateConfig checks the members of in that were sent. Smithy constraint
// violations are collected into one ValidationException, as AWS does; AWS's
// own limits come after them as InvalidParameterValueException.
func validateConfig(in *configInput, creating bool, now time.Time) error {
	var v validationError
	if in.Role != nil && !rolePattern.MatchString(*in.Role) {
		v.add(*in.Role, "role", "Member must satisfy regular expression pattern: "+rolePatternText)
	}
	if in.Handler != nil {
		if len(*in.Handler) > 128 {
			v.add(*in.Handler, "handler", "Member must have length less than or equal to 128")
		} else if *in.Handler != "" && !handlerPattern.MatchString(*in.Handler) {
			v.add(*in.Handler, "handler", `Member must satisfy regular expression pattern: [^\s]+`)
		}
	}
	if in.Description != nil && len(*in.Description) > 256 {
		v.add(*in.Description, "description", "Member must have length less than or equal to 256")
	}
	if in.MemorySize != nil {
		switch m := *in.MemorySize; {
		case m < 128:
			v.add(strconv.Itoa(int(m)), "memorySize", "Member must have value greater than or equal to 128")
		case m > 32768:
			v.add(strconv.Itoa(int(m)), "memorySize", "Member must have value less than or equal to 32768")
		}
	}
	if in.Timeout != nil && *in.Timeout < 1 {
		v.add(strconv.Itoa(int(*in.Timeout)), "timeout", "Member must have value greater than or equal to 1")
	}
	if in.EphemeralStorage != nil {
		switch sz := in.EphemeralStorage.Size; {
		case sz < 512:
			v.add(strconv.Itoa(int(sz)), "ephemeralStorage.size", "Member must have value greater than or equal to 512")
		case sz > 10240:
			v.add(strconv.Itoa(int(sz)), "ephemeralStorage.size", "Member must have value less than or equal to 10240")
		}
	}
	if in.TracingConfig != nil && in.TracingConfig.Mode != "" && in.TracingConfig.Mode != "Active" && in.TracingConfig.Mode != "PassThrough" {
		v.add(in.TracingConfig.Mode, "tracingConfig.mode", "Member must satisfy enum value set: [Active, PassThrough]")
	}
	validateSnapStart(&v, in.SnapStart) // snapstart.go
	validateVpcConfig(&v, in.VpcConfig)
	validateDurableConfig(&v, in.DurableConfig)
	validateDeadLetterConfig(&v, in.DeadLetterConfig)
	validateFileSystemConfigs(&v, in.FileSystemConfigs)
	if lc := in.LoggingConfig; lc != nil {
		if lc.LogFormat != nil && *lc.LogFormat != "JSON" && *lc.LogFormat != "Text" {
			v.add(*lc.LogFormat, "loggingConfig.logFormat", "Member must satisfy enum value set: [JSON, Text]")
		}
		levels := "Member must satisfy enum value set: [TRACE, DEBUG, INFO, WARN, ERROR, FATAL]"
		if lc.ApplicationLogLevel != nil && !isLogLevel(*lc.ApplicationLogLevel) {
			v.add(*lc.ApplicationLogLevel, "loggingConfig.applicationLogLevel", levels)
		}
		if lc.SystemLogLevel != nil && !isSystemLogLevel(*lc.SystemLogLevel) {
			v.add(*lc.SystemLogLevel, "loggingConfig.systemLogLevel", "Member must satisfy enum value set: [DEBUG, INFO, WARN]")
		}
	}
	if in.Layers != nil {
		var bad bool
		for _, l := range *in.Layers {
			if !layerVersionArnPattern.MatchString(l) || len(l) > 2048 {
				bad = true
			}
		}
		if bad {
			v.add("["+strings.Join(*in.Layers, ", ")+"]", "layers", "Member must satisfy constraint: [Member must have length less than or equal to 2048, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: "+layerVersionArnPatternText+", Member must not be null]")
		}
	}
	if err := v.err(); err != nil {
		return err
	}

	if in.Runtime != nil && *in.Runtime != "" {
		if err := checkRuntime(*in.Runtime, creating, now); err != nil {
			return err
		}
	}
	if in.MemorySize != nil && *in.MemorySize > maxMemoryMB {
		return errInvalidParameter("'MemorySize' value failed to satisfy constraint: Member must have value less than or equal to %d", maxMemoryMB)
	}
	if in.Timeout != nil && *in.Timeout > maxTimeoutSeconds {
		return errInvalidParameter("'Timeout' value failed to satisfy constraint: Member must have value less than or equal to %d", maxTimeoutSeconds)
	}
	if in.Environment != nil && in.Environment.Variables != nil {
		if m := in.Environment.Variables.measured(); len(m) > maxEnvBytes {
			return errInvalidParameter("Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: %s", m)
		}
		if r := in.Environment.Variables.reserved(); len(r) > 0 {
			return errInvalidParameter("Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: %s", strings.Join(r, ", "))
		}
	}
	return nil
}

// reservedEnv are the keys the runtime sets that a function may not: AWS's
// "Reserved environment variables" (docs.aws.amazon.com/lambda/latest/dg/
// configuration-envvars.html#configuration-envvars-runtime, read 2026-12-02).
// TZ is listed there too but AWS accepts it in practice (a common way to set a
// function's time zone), so it is not refused.
var reservedEnv = map[string]bool{
	"_HANDLER": true, "_X_AMZN_TRACE_ID": true, "AWS_DEFAULT_REGION": true, "AWS_REGION": true,
	"AWS_EXECUTION_ENV": true, "AWS_LAMBDA_FUNCTION_NAME": true, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": true,
	"AWS_LAMBDA_FUNCTION_VERSION": true, "AWS_LAMBDA_INITIALIZATION_TYPE": true, "AWS_LAMBDA_LOG_GROUP_NAME": true,
	"AWS_LAMBDA_LOG_STREAM_NAME": true, "AWS_ACCESS_KEY": true, "AWS_ACCESS_KEY_ID": true,
	"AWS_SECRET_ACCESS_KEY": true, "AWS_SESSION_TOKEN": true, "AWS_LAMBDA_RUNTIME_API": true,
	"LAMBDA_TASK_ROOT": true, "LAMBDA_RUNTIME_DIR": true,
}

// reserved lists the reserved keys set, in the order the client sent them
// (AWS's message names them so).
func (o *orderedEnv) reserved() []string {
	var r []string
	for _, k := range o.keys {
		if reservedEnv[k] {
			r = append(r, k)
		}
	}
	return r
}

func isLogLevel(s string) bool {
	switch s {
	case "TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL":
		return true
	}
	return false
}

func isSystemLogLevel(s string) bool {
	return s == "DEBUG" || s == "INFO" || s == "WARN"
}

// applyConfig copies the members of in that were sent onto f.
func applyConfig(f *functionRecord, in *configInput) {
	if in.Runtime != nil {
		f.Runtime = *in.Runtime
	}
	if in.Role != nil {
		f.Role = *in.Role
	}
	if in.Handler != nil {
		f.Handler = *in.Handler
	}
	if in.Description != nil {
		f.Description = *in.Description
	}
	if in.Timeout != nil {
		f.Timeout = *in.Timeout
	}
	if in.MemorySize != nil {
		f.MemorySize = *in.MemorySize
	}
	if in.Environment != nil {
		f.Environment = map[string]string{}
		if in.Environment.Variables != nil {
			for k, v := range in.Environment.Variables.vals {
				f.Environment[k] = v
			}
		}
	}
	if in.KMSKeyArn != nil {
		f.KMSKeyArn = *in.KMSKeyArn
	}
	if in.TracingConfig != nil && in.TracingConfig.Mode != "" {
		f.TracingMode = in.TracingConfig.Mode
	}
	if in.EphemeralStorage != nil {
		f.EphemeralSize = in.EphemeralStorage.Size
	}
	if in.ImageConfig != nil {
		f.ImageConfig = in.ImageConfig // replaced whole; {} clears it (images.go)
	}
	if in.CapacityProviderConfig != nil {
		f.CapProvider = in.CapacityProviderConfig
	}
	if in.VpcConfig != nil {
		f.VpcConfig = in.VpcConfig.toRecord()
	}
	if in.DurableConfig != nil {
		f.DurableConfig = in.DurableConfig // replaced whole, as sent
	}
	applyDeadLetterAndFileSystems(f, in)
	if in.SnapStart != nil && in.SnapStart.ApplyOn != "" {
		f.SnapStartOn = in.SnapStart.ApplyOn
	}
	if lc := in.LoggingConfig; lc != nil {
		if lc.LogFormat != nil {
			f.Logging.LogFormat = *lc.LogFormat
		}
		if lc.ApplicationLogLevel != nil {
			f.Logging.ApplicationLogLevel = *lc.ApplicationLogLevel
		}
		if lc.SystemLogLevel != nil {
			f.Logging.SystemLogLevel = *lc.SystemLogLevel
		}
		if lc.LogGroup != nil && *lc.LogGroup != "" {
			f.Logging.LogGroup = *lc.LogGroup
		}
	}
	// Log levels exist only for JSON logs; AWS defaults them to INFO there
	// and drops them when switching back to Text.
	if f.Logging.LogFormat == "JSON" {
		if f.Logging.ApplicationLogLevel == "" {
			f.Logging.ApplicationLogLevel = "INFO"
		}
		if f.Logging.SystemLogLevel == "" {
			f.Logging.SystemLogLevel = "INFO"
		}
	} else {
		f.Logging.ApplicationLogLevel = ""
		f.Logging.SystemLogLevel = ""
	}
}
