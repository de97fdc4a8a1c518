package template

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	cfnlambda "github.com/awslabs/goformation/v7/cloudformation/lambda"
	"github.com/awslabs/goformation/v7/cloudformation/serverless"
)

// handler deploys resources of one type.
type handler interface {
	// plan turns resolved properties into the spec apply takes, reading
	// code; it calls nothing.
	plan(r *run, res *Resource, props map[string]any) (any, error)
	decode(raw json.RawMessage) (any, error)
	// apply creates (prev nil) or updates the resource. It returns the
	// record of what now exists, also with an error when it got part way.
	apply(ctx context.Context, r *run, id string, spec any, prev *Record) (*Record, error)
	remove(ctx context.Context, r *run, rec *Record) error
}

// typed adapts functions of one spec type S to handler.
type typed[S any] struct {
	planFn   func(r *run, res *Resource, props map[string]any) (*S, error)
	applyFn  func(ctx context.Context, r *run, id string, s, prev *S, prevRec *Record) (*Record, error)
	removeFn func(ctx context.Context, r *run, s *S, rec *Record) error
}

func (h typed[S]) plan(r *run, res *Resource, props map[string]any) (any, error) {
	return h.planFn(r, res, props)
}

func (h typed[S]) decode(raw json.RawMessage) (any, error) {
	s := new(S)
	if err := json.Unmarshal(raw, s); err != nil {
		return nil, fmt.Errorf("reading the recorded spec: %w", err)
	}
	return s, nil
}

func (h typed[S]) apply(ctx context.Context, r *run, id string, spec any, prev *Record) (*Record, error) {
	var ps *S
	if prev != nil {
		p, err := h.decode(prev.Spec)
		if err != nil {
			return nil, err
		}
		ps = p.(*S)
	}
	return h.applyFn(ctx, r, id, spec.(*S), ps, prev)
}

func (h typed[S]) remove(ctx context.Context, r *run, rec *Record) error {
	p, err := h.decode(rec.Spec)
	if err != nil {
		return err
	}
	return h.removeFn(ctx, r, p.(*S), rec)
}

// handlers are the resource types lamb deploys; every other type is skipped.
var handlers = map[string]handler{
	"AWS::Serverless::Function":       typed[samFunctionSpec]{planSAMFunction, applySAMFunction, removeSAMFunction},
	"AWS::Lambda::Function":           typed[functionSpec]{planCFNFunction, applyCFNFunction, removeCFNFunction},
	"AWS::Serverless::LayerVersion":   typed[layerSpec]{planSAMLayer, applyLayer, removeLayer},
	"AWS::Lambda::LayerVersion":       typed[layerSpec]{planCFNLayer, applyLayer, removeLayer},
	"AWS::Lambda::Version":            typed[versionSpec]{planVersion, applyVersion, removeVersion},
	"AWS::Lambda::Alias":              typed[aliasSpec]{planAlias, applyAlias, removeAlias},
	"AWS::Lambda::Permission":         typed[permissionSpec]{planPermission, applyPermission, removePermission},
	"AWS::Lambda::Url":                typed[urlSpec]{planURL, applyURL, removeURL},
	"AWS::Lambda::EventSourceMapping": typed[esmSpec]{planESM, applyESM, removeESM},
	"AWS::Lambda::EventInvokeConfig":  typed[eicSpec]{planEIC, applyEIC, removeEIC},
}

// ---- functions

// functionSpec is a function's configuration and code.
type functionSpec struct {
	Name          string            `json:"name"`
	PackageType   string            `json:"packageType,omitempty"`
	Runtime       string            `json:"runtime,omitempty"`
	Handler       string            `json:"handler,omitempty"`
	Role          string            `json:"role"`
	Description   string            `json:"description,omitempty"`
	MemorySize    int32             `json:"memorySize,omitempty"`
	Timeout       int32             `json:"timeout,omitempty"`
	EphemeralSize int32             `json:"ephemeralSize,omitempty"`
	Architectures []string          `json:"architectures,omitempty"`
	Environment   map[string]string `json:"environment,omitempty"`
	Layers        []string          `json:"layers,omitempty"`
	Tags          map[string]string `json:"tags,omitempty"`
	ImageURI      string            `json:"imageUri,omitempty"`
	ImageCommand  []string          `json:"imageCommand,omitempty"`
	ImageEntry    []string          `json:"imageEntryPoint,omitempty"`
	ImageWorkDir  string            `json:"imageWorkingDirectory,omitempty"`
	CodeSHA256    string            `json:"codeSha256,omitempty"` // hex, of the zip
	Reserved      *int32            `json:"reservedConcurrency,omitempty"`
}

// configEqual reports whether two specs differ only in code and tags.
func (a *functionSpec) configEqual(b *functionSpec) bool {
	x, y := *a, *b
	x.CodeSHA256, y.CodeSHA256, x.ImageURI, y.ImageURI, x.Tags, y.Tags, x.Reserved, y.Reserved = "", "", "", "", nil, nil, nil, nil
	return reflect.DeepEqual(x, y)
}

// setStorageAndImage sets the properties AWS::Serverless::Function and
// AWS::Lambda::Function share in the same shape.
func (s *functionSpec) setStorageAndImage(es *cfnlambda.Function_EphemeralStorage, reserved *int, ic *cfnlambda.Function_ImageConfig) {
	if es != nil {
		s.EphemeralSize = int32(es.Size)
	}
	if reserved != nil {
		v := int32(*reserved)
		s.Reserved = &v
	}
	if ic != nil {
		s.ImageCommand, s.ImageEntry, s.ImageWorkDir = ic.Command, ic.EntryPoint, str(ic.WorkingDirectory)
	}
}

func i32(p *int) int32 {
	if p == nil {
		return 0
	}
	return int32(*p)
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func (r *run) defaultRole(id string) string {
	p := r.ev.pseudo
	return fmt.Sprintf("arn:%s:iam::%s:role/%s", p.partition(), p.AccountID, physicalName(p.StackName, id+"Role", 64))
}

// envVars applies env.json to a function's declared variables.
func (r *run) envVars(id, name string, vars map[string]string) map[string]string {
	if len(vars) == 0 || r.opts.EnvVars == nil {
		return vars
	}
	out := maps.Clone(vars)
	for _, key := range []string{"Parameters", id, name} {
		for k, v := range r.opts.EnvVars[key] {
			if _, declared := out[k]; declared {
				out[k] = v
			}
		}
	}
	return out
}

func (r *run) addWarnings(id string, ws []string) {
	for _, w := range ws {
		r.warns = append(r.warns, "resource "+id+", property "+w)
	}
}

func planSAMFunctionCore(r *run, res *Resource, props map[string]any) (*serverless.Function, *functionSpec, map[string]any, error) {
	events, _ := props["Events"].(map[string]any)
	rest := maps.Clone(props)
	delete(rest, "Events")
	var f serverless.Function
	ws, err := decodeProps(rest, res.Type, &f, "Properties")
	r.addWarnings(res.LogicalID, ws)
	if err != nil {
		return nil, nil, nil, err
	}
	s := &functionSpec{
		Name: str(f.FunctionName), PackageType: str(f.PackageType), Runtime: str(f.Runtime), Handler: str(f.Handler),
		Role: str(f.Role), Description: str(f.Description), MemorySize: i32(f.MemorySize), Timeout: i32(f.Timeout),
		Architectures: f.Architectures, Layers: f.Layers, Tags: f.Tags, ImageURI: str(f.ImageUri),
	}
	if s.Name == "" {
		s.Name = physicalName(r.ev.pseudo.StackName, res.LogicalID, 64)
	}
	if s.Role == "" {
		s.Role = r.defaultRole(res.LogicalID)
	}
	if s.MemorySize == 0 {
		s.MemorySize = 128
	}
	if s.Timeout == 0 {
		s.Timeout = 3
	}
	if f.Environment != nil {
		s.Environment = r.envVars(res.LogicalID, s.Name, f.Environment.Variables)
	}
	// SAM's types have the same fields as CloudFormation's.
	s.setStorageAndImage((*cfnlambda.Function_EphemeralStorage)(f.EphemeralStorage), f.ReservedConcurrentExecutions,
		(*cfnlambda.Function_ImageConfig)(f.ImageConfig))
	if s.PackageType == "" {
		s.PackageType = "Zip"
		if s.ImageURI != "" {
			s.PackageType = "Image"
		}
	}
	switch s.PackageType {
	case "Image":
		if s.ImageURI == "" {
			return nil, nil, nil, errAt("Properties.ImageUri", "is required with PackageType Image")
		}
	case "Zip":
		if s.Runtime == "" {
			return nil, nil, nil, errAt("Properties.Runtime", "is required (or give it in Globals.Function)")
		}
		if s.Handler == "" {
			return nil, nil, nil, errAt("Properties.Handler", "is required (or give it in Globals.Function)")
		}
		var zip []byte
		switch {
		case f.InlineCode != nil:
			if zip, err = inlineZip(*f.InlineCode, s.Runtime); err != nil {
				return nil, nil, nil, errAt("Properties.InlineCode", "%v", err)
			}
		case f.CodeUri != nil && f.CodeUri.String != nil:
			if zip, err = r.loadCode(*f.CodeUri.String); err != nil {
				return nil, nil, nil, errAt("Properties.CodeUri", "%v", err)
			}
		case f.CodeUri != nil && f.CodeUri.S3Location != nil && r.opts.Assets[f.CodeUri.S3Location.Key] != "":
			if zip, err = r.loadCode(r.opts.Assets[f.CodeUri.S3Location.Key]); err != nil {
				return nil, nil, nil, errAt("Properties.CodeUri", "%v", err)
			}
		case f.CodeUri != nil && f.CodeUri.S3Location != nil:
			loc := f.CodeUri.S3Location
			if zip, err = r.s3Code(loc.Bucket, loc.Key, ""); err != nil {
				return nil, nil, nil, errAt("Properties.CodeUri", "%v", err)
			}
		default:
			return nil, nil, nil, errAt("Properties.CodeUri", "is required: give CodeUri (a folder or zip) or InlineCode")
		}
		s.CodeSHA256 = sha256Hex(zip)
		r.code[s.CodeSHA256] = zip
	default:
		return nil, nil, nil, errAt("Properties.PackageType", "want Zip or Image, got %q", s.PackageType)
	}
	return &f, s, events, nil
}

func planCFNFunction(r *run, res *Resource, props map[string]any) (*functionSpec, error) {
	rest := maps.Clone(props)
	var localPath string
	if p, ok := rest["Code"].(string); ok { // a local path, as `aws cloudformation package` reads it
		localPath = p
		delete(rest, "Code")
	}
	var f cfnlambda.Function
	ws, err := decodeProps(rest, res.Type, &f, "Properties")
	r.addWarnings(res.LogicalID, ws)
	if err != nil {
		return nil, err
	}
	s := &functionSpec{
		Name: str(f.FunctionName), PackageType: str(f.PackageType), Runtime: str(f.Runtime), Handler: str(f.Handler),
		Role: f.Role, Description: str(f.Description), MemorySize: i32(f.MemorySize), Timeout: i32(f.Timeout),
		Architectures: f.Architectures, Layers: f.Layers,
	}
	if s.Name == "" {
		s.Name = physicalName(r.ev.pseudo.StackName, res.LogicalID, 64)
	}
	if s.Role == "" {
		return nil, errAt("Properties.Role", "is required")
	}
	if f.Environment != nil {
		s.Environment = r.envVars(res.LogicalID, s.Name, f.Environment.Variables)
	}
	if len(f.Tags) > 0 {
		s.Tags = map[string]string{}
		for _, t := range f.Tags {
			s.Tags[t.Key] = t.Value
		}
	}
	s.setStorageAndImage(f.EphemeralStorage, f.ReservedConcurrentExecutions, f.ImageConfig)
	var zip []byte
	switch {
	case localPath != "":
		if zip, err = r.loadCode(localPath); err != nil {
			return nil, errAt("Properties.Code", "%v", err)
		}
	case f.Code == nil:
		return nil, errAt("Properties.Code", "is required")
	case f.Code.ImageUri != nil:
		s.ImageURI, s.PackageType = *f.Code.ImageUri, "Image"
	case f.Code.ZipFile != nil:
		if zip, err = inlineZip(*f.Code.ZipFile, s.Runtime); err != nil {
			return nil, errAt("Properties.Code.ZipFile", "%v", err)
		}
	case f.Code.S3Key != nil && r.opts.Assets[*f.Code.S3Key] != "":
		if zip, err = r.loadCode(r.opts.Assets[*f.Code.S3Key]); err != nil {
			return nil, errAt("Properties.Code", "%v", err)
		}
	case f.Code.S3Bucket != nil && f.Code.S3Key != nil:
		if zip, err = r.s3Code(*f.Code.S3Bucket, *f.Code.S3Key, str(f.Code.S3ObjectVersion)); err != nil {
			return nil, errAt("Properties.Code", "%v", err)
		}
	default:
		return nil, errAt("Properties.Code", "give ZipFile, ImageUri, S3Bucket and S3Key, or a local path")
	}
	if s.PackageType == "" {
		s.PackageType = "Zip"
	}
	if zip != nil {
		s.CodeSHA256 = sha256Hex(zip)
		r.code[s.CodeSHA256] = zip
	}
	return s, nil
}

func applyCFNFunction(ctx context.Context, r *run, id string, s, prev *functionSpec, _ *Record) (*Record, error) {
	arn, err := r.applyFunction(ctx, s, prev)
	if err != nil {
		return nil, err
	}
	return &Record{PhysicalID: s.Name, Result: &Deployed{Ref: s.Name, Attrs: map[string]any{"Arn": arn}}}, nil
}

func removeCFNFunction(ctx context.Context, r *run, s *functionSpec, _ *Record) error {
	return r.deleteFunction(ctx, s.Name)
}

func (r *run) deleteFunction(ctx context.Context, name string) error {
	_, err := r.d.Lambda.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: &name})
	return ignoreNotFound(err)
}

func ignoreNotFound(err error) error {
	var nf *types.ResourceNotFoundException
	if errors.As(err, &nf) {
		return nil
	}
	return err
}

func architectures(a []string) []types.Architecture {
	var out []types.Architecture
	for _, x := range a {
		out = append(out, types.Architecture(x))
	}
	return out
}

// applyFunction creates or updates a function and waits until it is
// Active; it returns the function's ARN.
func (r *run) applyFunction(ctx context.Context, s, prev *functionSpec) (string, error) {
	env := &types.Environment{Variables: s.Environment}
	if env.Variables == nil {
		env.Variables = map[string]string{}
	}
	var imageConfig *types.ImageConfig
	if s.ImageCommand != nil || s.ImageEntry != nil || s.ImageWorkDir != "" {
		imageConfig = &types.ImageConfig{Command: s.ImageCommand, EntryPoint: s.ImageEntry, WorkingDirectory: optional(s.ImageWorkDir)}
	}
	var ephemeral *types.EphemeralStorage
	if s.EphemeralSize > 0 {
		ephemeral = &types.EphemeralStorage{Size: aws.Int32(s.EphemeralSize)}
	}
	// An image function's runtime and handler are the image's.
	var runtime types.Runtime
	var handler *string
	if s.PackageType != "Image" {
		runtime, handler = types.Runtime(s.Runtime), &s.Handler
	}
	code := func() (*types.FunctionCode, error) {
		if s.PackageType == "Image" {
			return &types.FunctionCode{ImageUri: &s.ImageURI}, nil
		}
		zip, ok := r.code[s.CodeSHA256]
		if !ok {
			return nil, fmt.Errorf("the code of %s (sha256 %s) is not at hand", s.Name, s.CodeSHA256)
		}
		return &types.FunctionCode{ZipFile: zip}, nil
	}
	var arn string
	if prev == nil || prev.Name != s.Name {
		c, err := code()
		if err != nil {
			return "", err
		}
		in := &lambda.CreateFunctionInput{
			FunctionName: &s.Name, Role: &s.Role, Code: c, PackageType: types.PackageType(s.PackageType),
			Description: optional(s.Description), Environment: env, Layers: s.Layers, Architectures: architectures(s.Architectures),
			Tags: s.Tags, ImageConfig: imageConfig, EphemeralStorage: ephemeral,
			Runtime: runtime, Handler: handler, MemorySize: positive(s.MemorySize), Timeout: positive(s.Timeout),
		}
		out, err := r.d.Lambda.CreateFunction(ctx, in)
		if err != nil {
			return "", fmt.Errorf("CreateFunction %s: %w", s.Name, err)
		}
		arn = aws.ToString(out.FunctionArn)
		if err := r.waitFunction(ctx, s.Name); err != nil {
			return arn, err
		}
		if s.Reserved != nil {
			if _, err := r.d.Lambda.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: &s.Name, ReservedConcurrentExecutions: s.Reserved}); err != nil {
				return arn, fmt.Errorf("PutFunctionConcurrency %s: %w", s.Name, err)
			}
		}
		if prev != nil {
			if err := r.deleteFunction(ctx, prev.Name); err != nil {
				return arn, fmt.Errorf("deleting %s, which %s replaces: %w", prev.Name, s.Name, err)
			}
		}
		return arn, nil
	}
	if !s.configEqual(prev) {
		in := &lambda.UpdateFunctionConfigurationInput{
			FunctionName: &s.Name, Role: &s.Role, Description: aws.String(s.Description), Environment: env, Layers: s.Layers,
			ImageConfig: imageConfig, EphemeralStorage: ephemeral,
			Runtime: runtime, Handler: handler, MemorySize: positive(s.MemorySize), Timeout: positive(s.Timeout),
		}
		if in.Layers == nil {
			in.Layers = []string{}
		}
		if _, err := r.d.Lambda.UpdateFunctionConfiguration(ctx, in); err != nil {
			return "", fmt.Errorf("UpdateFunctionConfiguration %s: %w", s.Name, err)
		}
		if err := r.waitFunction(ctx, s.Name); err != nil {
			return "", err
		}
	}
	if s.CodeSHA256 != prev.CodeSHA256 || s.ImageURI != prev.ImageURI || !slices.Equal(s.Architectures, prev.Architectures) {
		r.keepOldCode(ctx, s.Name, prev.CodeSHA256)
		c, err := code()
		if err != nil {
			return "", err
		}
		in := &lambda.UpdateFunctionCodeInput{FunctionName: &s.Name, ZipFile: c.ZipFile, ImageUri: c.ImageUri, Architectures: architectures(s.Architectures)}
		if _, err := r.d.Lambda.UpdateFunctionCode(ctx, in); err != nil {
			return "", fmt.Errorf("UpdateFunctionCode %s: %w", s.Name, err)
		}
		if err := r.waitFunction(ctx, s.Name); err != nil {
			return "", err
		}
	}
	out, err := r.d.Lambda.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: &s.Name})
	if err != nil {
		return "", fmt.Errorf("GetFunctionConfiguration %s: %w", s.Name, err)
	}
	arn = aws.ToString(out.FunctionArn)
	if !maps.Equal(s.Tags, prev.Tags) {
		var gone []string
		for k := range prev.Tags {
			if _, ok := s.Tags[k]; !ok {
				gone = append(gone, k)
			}
		}
		if len(gone) > 0 {
			if _, err := r.d.Lambda.UntagResource(ctx, &lambda.UntagResourceInput{Resource: &arn, TagKeys: gone}); err != nil {
				return arn, fmt.Errorf("UntagResource %s: %w", s.Name, err)
			}
		}
		if len(s.Tags) > 0 {
			if _, err := r.d.Lambda.TagResource(ctx, &lambda.TagResourceInput{Resource: &arn, Tags: s.Tags}); err != nil {
				return arn, fmt.Errorf("TagResource %s: %w", s.Name, err)
			}
		}
	}
	if !reflect.DeepEqual(s.Reserved, prev.Reserved) {
		var err error
		if s.Reserved != nil {
			_, err = r.d.Lambda.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: &s.Name, ReservedConcurrentExecutions: s.Reserved})
		} else {
			_, err = r.d.Lambda.DeleteFunctionConcurrency(ctx, &lambda.DeleteFunctionConcurrencyInput{FunctionName: &s.Name})
		}
		if err != nil {
			return arn, fmt.Errorf("reserved concurrency of %s: %w", s.Name, err)
		}
	}
	return arn, nil
}

// keepOldCode fetches a function's current zip before an update replaces
// it, so that a rollback can put it back.
func (r *run) keepOldCode(ctx context.Context, name, sha string) {
	if sha == "" || r.d.HTTPGet == nil {
		return
	}
	if _, ok := r.code[sha]; ok {
		return
	}
	out, err := r.d.Lambda.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: &name})
	if err != nil || out.Code == nil || out.Code.Location == nil {
		return
	}
	if b, err := r.d.HTTPGet(ctx, *out.Code.Location); err == nil && sha256Hex(b) == sha {
		r.code[sha] = b
	}
}

// positive is v when set, for sizes where 0 means AWS's default.
func positive(v int32) *int32 {
	if v <= 0 {
		return nil
	}
	return &v
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// waitFunction waits until a function is Active with no update in progress.
func (r *run) waitFunction(ctx context.Context, name string) error {
	every := r.d.PollInterval
	if every <= 0 {
		every = 50 * time.Millisecond
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	for {
		out, err := r.d.Lambda.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: &name})
		if err != nil {
			return fmt.Errorf("waiting for %s: %w", name, err)
		}
		switch {
		case out.State == types.StateFailed:
			return fmt.Errorf("function %s failed: %s", name, aws.ToString(out.StateReason))
		case out.LastUpdateStatus == types.LastUpdateStatusFailed:
			return fmt.Errorf("function %s update failed: %s", name, aws.ToString(out.LastUpdateStatusReason))
		case out.State == types.StateActive && out.LastUpdateStatus != types.LastUpdateStatusInProgress:
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s to become Active: %w", name, ctx.Err())
		case <-time.After(every):
		}
	}
}

// ---- SAM functions

// samFunctionSpec is a SAM function with what SAM generates for it.
type samFunctionSpec struct {
	Function    functionSpec       `json:"function"`
	Alias       string             `json:"alias,omitempty"`
	Provisioned int32              `json:"provisioned,omitempty"`
	URL         *urlSpec           `json:"url,omitempty"`
	EIC         *eicSpec           `json:"eventInvokeConfig,omitempty"`
	Events      map[string]esmSpec `json:"events,omitempty"`
	// Skipped are events lamb does not deliver: name → reason.
	Skipped map[string]string `json:"skippedEvents,omitempty"`
	// Schedules are Schedule and ScheduleV2 events: lamb invokes on them.
	Schedules map[string]scheduleSpec `json:"schedules,omitempty"`
}

// scheduleSpec is one Schedule or ScheduleV2 event.
type scheduleSpec struct {
	Type       string `json:"type"`
	Expression string `json:"expression"`
	Input      string `json:"input,omitempty"`
	Enabled    bool   `json:"enabled"`
}

func planSchedule(typ string, props map[string]any, path string) (*scheduleSpec, error) {
	var p struct {
		Schedule           string `json:"Schedule"`
		ScheduleExpression string `json:"ScheduleExpression"`
		Input              string `json:"Input"`
		Enabled            *bool  `json:"Enabled"`
		State              string `json:"State"`
	}
	known := map[string]any{}
	for _, k := range []string{"Schedule", "ScheduleExpression", "Input", "Enabled", "State"} {
		if v, ok := props[k]; ok {
			known[k] = v
		}
	}
	if _, err := decodeInto(known, &p, path); err != nil {
		return nil, err
	}
	s := &scheduleSpec{Type: typ, Expression: p.Schedule, Input: p.Input, Enabled: p.State != "DISABLED"}
	field := "Schedule"
	if typ == "ScheduleV2" {
		s.Expression, field = p.ScheduleExpression, "ScheduleExpression"
	}
	if p.Enabled != nil {
		s.Enabled = *p.Enabled
	}
	if !strings.HasPrefix(s.Expression, "rate(") && !strings.HasPrefix(s.Expression, "cron(") {
		return nil, errAt(path+"."+field, "want rate(...) or cron(...), got %q", s.Expression)
	}
	return s, nil
}

func planSAMFunction(r *run, res *Resource, props map[string]any) (*samFunctionSpec, error) {
	// goformation types a URL's Cors as an API's (a string or
	// CorsConfiguration): it is read here as AWS::Lambda::Url's.
	var cors any
	if u, ok := props["FunctionUrlConfig"].(map[string]any); ok {
		if c, ok := u["Cors"]; ok {
			cors = c
			u = maps.Clone(u)
			delete(u, "Cors")
			props = maps.Clone(props)
			props["FunctionUrlConfig"] = u
		}
	}
	f, fs, events, err := planSAMFunctionCore(r, res, props)
	if err != nil {
		return nil, err
	}
	s := &samFunctionSpec{Function: *fs, Alias: str(f.AutoPublishAlias)}
	if f.ProvisionedConcurrencyConfig != nil {
		if s.Alias == "" {
			return nil, errAt("Properties.ProvisionedConcurrencyConfig", "needs AutoPublishAlias")
		}
		var n int
		if _, err := fmt.Sscan(f.ProvisionedConcurrencyConfig.ProvisionedConcurrentExecutions, &n); err != nil {
			return nil, errAt("Properties.ProvisionedConcurrencyConfig.ProvisionedConcurrentExecutions", "want a number, got %q", f.ProvisionedConcurrencyConfig.ProvisionedConcurrentExecutions)
		}
		s.Provisioned = int32(n)
	}
	if u := f.FunctionUrlConfig; u != nil {
		s.URL = &urlSpec{AuthType: u.AuthType, InvokeMode: str(u.InvokeMode)}
		if cors != nil {
			var c cfnlambda.Url_Cors
			ws, err := decodeInto(cors, &c, "Properties.FunctionUrlConfig.Cors")
			r.addWarnings(res.LogicalID, ws)
			if err != nil {
				return nil, err
			}
			s.URL.Cors = &types.Cors{AllowCredentials: c.AllowCredentials, AllowHeaders: c.AllowHeaders, AllowMethods: c.AllowMethods,
				AllowOrigins: c.AllowOrigins, ExposeHeaders: c.ExposeHeaders}
			if c.MaxAge != nil {
				s.URL.Cors.MaxAge = aws.Int32(int32(*c.MaxAge))
			}
		}
	}
	if e := f.EventInvokeConfig; e != nil {
		s.EIC = &eicSpec{MaxAge: i32(e.MaximumEventAgeInSeconds), MaxRetries: e.MaximumRetryAttempts}
		if d := e.DestinationConfig; d != nil {
			s.EIC.Destinations = &types.DestinationConfig{}
			if d.OnFailure != nil {
				s.EIC.Destinations.OnFailure = &types.OnFailure{Destination: aws.String(d.OnFailure.Destination)}
			}
			if d.OnSuccess != nil {
				s.EIC.Destinations.OnSuccess = &types.OnSuccess{Destination: aws.String(d.OnSuccess.Destination)}
			}
		}
	}
	for _, name := range sortedKeys(events) {
		path := "Properties.Events." + name
		ev, ok := events[name].(map[string]any)
		if !ok {
			return nil, errAt(path, "want an object with Type and Properties")
		}
		typ, _ := ev["Type"].(string)
		evProps, _ := ev["Properties"].(map[string]any)
		if evProps == nil {
			evProps = map[string]any{}
		}
		var (
			esm esmSpec
			ws  []string
		)
		switch typ {
		case "SQS":
			var e serverless.Function_SQSEvent
			ws, err = decodeInto(evProps, &e, path+".Properties")
			if err == nil && e.Queue == "" {
				err = errAt(path+".Properties.Queue", "is required")
			}
			esm = esmSpec{EventSourceArn: e.Queue, BatchSize: i32(e.BatchSize), Enabled: e.Enabled}
			if v, ok := evProps["MaximumBatchingWindowInSeconds"]; ok && err == nil {
				n, cerr := coerce(v, reflect.TypeOf(0), path+".Properties.MaximumBatchingWindowInSeconds", &ws)
				if cerr != nil {
					err = cerr
				} else {
					esm.MaxBatchingWindow = int32(n.(float64))
				}
			}
		case "Kinesis":
			var e serverless.Function_KinesisEvent
			ws, err = decodeInto(evProps, &e, path+".Properties")
			if err == nil && e.Stream == "" {
				err = errAt(path+".Properties.Stream", "is required")
			}
			esm = esmSpec{EventSourceArn: e.Stream, BatchSize: i32(e.BatchSize), Enabled: e.Enabled, StartingPosition: e.StartingPosition,
				FunctionResponseTypes: e.FunctionResponseTypes}
		case "DynamoDB":
			var e serverless.Function_DynamoDBEvent
			ws, err = decodeInto(evProps, &e, path+".Properties")
			if err == nil && e.Stream == "" {
				err = errAt(path+".Properties.Stream", "is required")
			}
			esm = esmSpec{EventSourceArn: e.Stream, BatchSize: i32(e.BatchSize), Enabled: e.Enabled, StartingPosition: e.StartingPosition,
				MaxRetries: e.MaximumRetryAttempts, ParallelizationFactor: i32(e.ParallelizationFactor)}
		case "Schedule", "ScheduleV2":
			if r.d.Schedules == nil {
				if s.Skipped == nil {
					s.Skipped = map[string]string{}
				}
				s.Skipped[name] = eventSkipReason(typ)
				continue
			}
			sch, err := planSchedule(typ, evProps, path+".Properties")
			if err != nil {
				return nil, err
			}
			if s.Schedules == nil {
				s.Schedules = map[string]scheduleSpec{}
			}
			s.Schedules[name] = *sch
			continue
		case "":
			return nil, errAt(path+".Type", "is required")
		default:
			if s.Skipped == nil {
				s.Skipped = map[string]string{}
			}
			s.Skipped[name] = eventSkipReason(typ)
			continue
		}
		r.addWarnings(res.LogicalID, ws)
		if err != nil {
			return nil, err
		}
		if s.Events == nil {
			s.Events = map[string]esmSpec{}
		}
		s.Events[name] = esm
	}
	return s, nil
}

func eventSkipReason(typ string) string {
	switch typ {
	case "Api", "HttpApi":
		return "event of type " + typ + ": lamb has no API Gateway; give the function a FunctionUrlConfig"
	case "Schedule", "ScheduleV2":
		return "event of type " + typ + ": lamb deploy does not run schedules yet; invoke the function yourself"
	}
	return "event of type " + typ + ": lamb does not deliver these; invoke the function with such an event"
}

func applySAMFunction(ctx context.Context, r *run, id string, s, prev *samFunctionSpec, prevRec *Record) (*Record, error) {
	var pf *functionSpec
	if prev != nil {
		pf = &prev.Function
	}
	arn, err := r.applyFunction(ctx, &s.Function, pf)
	if err != nil {
		if prev == nil && arn != "" {
			// Created but not finished: the record lets rollback delete it.
			rec := samRecord(r, id, s, arn, nil)
			generated(rec, id, s, arn)
			return rec, err
		}
		return nil, err
	}
	name := s.Function.Name
	extra := map[string]*Deployed{}
	rec := samRecord(r, id, s, arn, extra)
	defer generated(rec, id, s, arn)
	if prevRec != nil && prev.Function.Name != name {
		for evName := range prev.Schedules { // they would invoke the old name
			if d := prevRec.Extra[id+evName]; d != nil && r.d.Schedules != nil {
				if err := r.d.Schedules.DeleteSchedule(ctx, scalarString(d.Ref)); err != nil {
					return rec, err
				}
			}
		}
		prevRec, prev = nil, nil // the old function is gone, and all it had
	}
	old := func(k string) *Deployed {
		if prevRec == nil {
			return nil
		}
		return prevRec.Extra[k]
	}
	fail := func(err error) (*Record, error) { return rec, err }

	// AutoPublishAlias: a version when the function changed, the alias on it.
	target := name // what the URL, mappings and config point at
	qualifier := ""
	if s.Alias != "" {
		ver := ""
		if pv := old(id + ".Version"); pv != nil && prev != nil && reflect.DeepEqual(prev.Function, s.Function) {
			ver, _ = pv.Attrs["Version"].(string)
		}
		if ver == "" {
			out, err := r.d.Lambda.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: &name})
			if err != nil {
				return fail(fmt.Errorf("PublishVersion %s: %w", name, err))
			}
			ver = aws.ToString(out.Version)
		}
		verArn := arn + ":" + ver
		extra[id+".Version"] = &Deployed{Ref: verArn, Attrs: map[string]any{"Version": ver}}
		extra[id+"Version"] = extra[id+".Version"]
		aliasArn := arn + ":" + s.Alias
		if prev != nil && prev.Alias == s.Alias {
			_, err = r.d.Lambda.UpdateAlias(ctx, &lambda.UpdateAliasInput{FunctionName: &name, Name: &s.Alias, FunctionVersion: &ver})
		} else {
			_, err = r.d.Lambda.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: &name, Name: &s.Alias, FunctionVersion: &ver})
		}
		if err != nil {
			return fail(fmt.Errorf("alias %s of %s: %w", s.Alias, name, err))
		}
		extra[id+".Alias"] = &Deployed{Ref: aliasArn, Attrs: map[string]any{"AliasArn": aliasArn}}
		extra[id+"Alias"+s.Alias] = extra[id+".Alias"]
		target, qualifier = aliasArn, s.Alias
		if s.Provisioned > 0 && (prev == nil || prev.Provisioned != s.Provisioned || prev.Alias != s.Alias) {
			if _, err := r.d.Lambda.PutProvisionedConcurrencyConfig(ctx, &lambda.PutProvisionedConcurrencyConfigInput{FunctionName: &name, Qualifier: &s.Alias,
				ProvisionedConcurrentExecutions: &s.Provisioned}); err != nil {
				return fail(fmt.Errorf("PutProvisionedConcurrencyConfig %s:%s: %w", name, s.Alias, err))
			}
		}
		if s.Provisioned == 0 && prev != nil && prev.Provisioned > 0 && prev.Alias == s.Alias {
			if _, err := r.d.Lambda.DeleteProvisionedConcurrencyConfig(ctx, &lambda.DeleteProvisionedConcurrencyConfigInput{FunctionName: &name, Qualifier: &s.Alias}); ignoreNotFound(err) != nil {
				return fail(fmt.Errorf("DeleteProvisionedConcurrencyConfig %s:%s: %w", name, s.Alias, err))
			}
		}
	}
	prevQualifier := ""
	if prev != nil {
		prevQualifier = prev.Alias
	}

	// The function URL.
	if prev != nil && prev.URL != nil && (s.URL == nil || prevQualifier != qualifier) {
		if _, err := r.d.Lambda.DeleteFunctionUrlConfig(ctx, &lambda.DeleteFunctionUrlConfigInput{FunctionName: &name, Qualifier: optional(prevQualifier)}); ignoreNotFound(err) != nil {
			return fail(fmt.Errorf("DeleteFunctionUrlConfig %s: %w", name, err))
		}
	}
	if s.URL != nil {
		u := *s.URL
		u.Target, u.Qualifier = name, qualifier
		var pu *urlSpec
		if prev != nil && prev.URL != nil && prevQualifier == qualifier {
			pu = prev.URL
			pu.Target, pu.Qualifier = name, qualifier
		}
		url, err := r.putURL(ctx, &u, pu)
		if err != nil {
			return fail(err)
		}
		if u.AuthType == string(types.FunctionUrlAuthTypeNone) {
			if err := r.publicURLPermissions(ctx, name, qualifier); err != nil {
				return fail(err)
			}
		}
		extra[id+"Url"] = &Deployed{Ref: target, Attrs: map[string]any{"FunctionUrl": url, "FunctionArn": target}}
	}

	// The event invoke config.
	if prev != nil && prev.EIC != nil && (s.EIC == nil || prevQualifier != qualifier) {
		q := prevQualifier
		if q == "" {
			q = "$LATEST"
		}
		if _, err := r.d.Lambda.DeleteFunctionEventInvokeConfig(ctx, &lambda.DeleteFunctionEventInvokeConfigInput{FunctionName: &name, Qualifier: &q}); ignoreNotFound(err) != nil {
			return fail(fmt.Errorf("DeleteFunctionEventInvokeConfig %s: %w", name, err))
		}
	}
	if s.EIC != nil && (prev == nil || !reflect.DeepEqual(prev.EIC, s.EIC) || prevQualifier != qualifier) {
		e := *s.EIC
		e.FunctionName, e.Qualifier = name, qualifier
		if e.Qualifier == "" {
			e.Qualifier = "$LATEST"
		}
		if err := r.putEIC(ctx, &e); err != nil {
			return fail(err)
		}
	}

	// Event source mappings, one per SQS, Kinesis or DynamoDB event.
	for evName, e := range s.Events {
		key := id + evName
		e.FunctionName = target
		if po := old(key); po != nil && prev != nil {
			pe, had := prev.Events[evName]
			if had {
				pe.FunctionName = target
				if reflect.DeepEqual(pe, e) && prevQualifier == qualifier {
					extra[key] = po
					continue
				}
			}
		}
		uuid, err := r.createESM(ctx, &e)
		if err != nil {
			return fail(err)
		}
		extra[key] = &Deployed{Ref: uuid, Attrs: map[string]any{"Id": uuid}}
		if po := old(key); po != nil {
			if err := r.deleteESM(ctx, scalarString(po.Ref)); err != nil {
				return fail(err)
			}
		}
	}
	// Schedules, invoked by lamb itself.
	for evName, sch := range s.Schedules {
		key := id + evName
		schedName := physicalName(r.ev.pseudo.StackName, key, 128)
		if po := old(key); po != nil && prev != nil && prev.Schedules[evName] == sch && prevQualifier == qualifier {
			extra[key] = po
			continue
		}
		if err := r.d.Schedules.PutSchedule(ctx, Schedule{Name: schedName, Function: target, Expression: sch.Expression, Input: sch.Input, Enabled: sch.Enabled}); err != nil {
			return fail(fmt.Errorf("schedule %s: %w", schedName, err))
		}
		p := r.ev.pseudo
		extra[key] = &Deployed{Ref: schedName, Attrs: map[string]any{"Arn": fmt.Sprintf("arn:%s:events:%s:%s:rule/%s", p.partition(), p.Region, p.AccountID, schedName)}}
	}
	if prev != nil {
		for evName := range prev.Schedules {
			if _, still := s.Schedules[evName]; still {
				continue
			}
			if po := old(id + evName); po != nil {
				if err := r.d.Schedules.DeleteSchedule(ctx, scalarString(po.Ref)); err != nil {
					return fail(err)
				}
			}
		}
	}
	if prev != nil {
		for evName := range prev.Events {
			if _, still := s.Events[evName]; still {
				continue
			}
			if po := old(id + evName); po != nil {
				if err := r.deleteESM(ctx, scalarString(po.Ref)); err != nil {
					return fail(err)
				}
			}
		}
		if prev.Alias != "" && prev.Alias != s.Alias {
			if _, err := r.d.Lambda.DeleteAlias(ctx, &lambda.DeleteAliasInput{FunctionName: &name, Name: &prev.Alias}); ignoreNotFound(err) != nil {
				return fail(fmt.Errorf("DeleteAlias %s:%s: %w", name, prev.Alias, err))
			}
		}
	}
	return rec, nil
}

// samRecord is the record of a SAM function, with the names SAM generates.
func samRecord(r *run, id string, s *samFunctionSpec, arn string, extra map[string]*Deployed) *Record {
	if extra == nil {
		extra = map[string]*Deployed{}
	}
	role := s.Function.Role
	roleName := role[strings.LastIndex(role, "/")+1:]
	extra[id+"Role"] = &Deployed{Ref: roleName, Attrs: map[string]any{"Arn": role}}
	spec, _ := json.Marshal(s)
	return &Record{PhysicalID: s.Function.Name, Spec: spec, Extra: extra,
		Result: &Deployed{Ref: s.Function.Name, Attrs: map[string]any{"Arn": arn}}}
}

// generated lists what a SAM function expands to, for lamb stacks.
func generated(rec *Record, id string, s *samFunctionSpec, arn string) {
	extra := rec.Extra
	rec.Generated = nil
	gen := func(suffix, typ string, d *Deployed, physical string) {
		if d != nil {
			rec.Generated = append(rec.Generated, Generated{LogicalID: id + suffix, Type: typ, Status: StatusDeployed, PhysicalID: physical})
		}
	}
	if v := extra[id+".Version"]; v != nil {
		gen("Version", "AWS::Lambda::Version", v, scalarString(v.Ref))
		gen("Alias"+s.Alias, "AWS::Lambda::Alias", extra[id+".Alias"], arn+":"+s.Alias)
	}
	if u := extra[id+"Url"]; u != nil {
		gen("Url", "AWS::Lambda::Url", u, scalarString(u.Attrs["FunctionUrl"]))
	}
	if s.EIC != nil {
		rec.Generated = append(rec.Generated, Generated{LogicalID: id + "EventInvokeConfig", Type: "AWS::Lambda::EventInvokeConfig", Status: StatusDeployed})
	}
	for _, ev := range sortedKeys(s.Events) {
		if d := extra[id+ev]; d != nil {
			gen(ev, "AWS::Lambda::EventSourceMapping", d, scalarString(d.Ref))
		}
	}
	for _, ev := range sortedKeys(s.Schedules) {
		typ := "AWS::Events::Rule"
		if s.Schedules[ev].Type == "ScheduleV2" {
			typ = "AWS::Scheduler::Schedule"
		}
		if d := extra[id+ev]; d != nil {
			gen(ev, typ, d, scalarString(d.Ref)+" ("+s.Schedules[ev].Expression+")")
		}
	}
	for _, ev := range sortedKeys(s.Skipped) {
		rec.Generated = append(rec.Generated, Generated{LogicalID: id + ev, Type: "event", Status: StatusSkipped, Reason: s.Skipped[ev]})
	}
	rec.Generated = append(rec.Generated, Generated{LogicalID: id + "Role", Type: "AWS::IAM::Role", Status: StatusSkipped, Reason: skipReason("AWS::IAM::Role")})
}

func removeSAMFunction(ctx context.Context, r *run, s *samFunctionSpec, rec *Record) error {
	for evName := range s.Schedules {
		if d := rec.Extra[rec.LogicalID+evName]; d != nil && r.d.Schedules != nil {
			if err := r.d.Schedules.DeleteSchedule(ctx, scalarString(d.Ref)); err != nil {
				return err
			}
		}
	}
	for evName := range s.Events {
		if d := rec.Extra[rec.LogicalID+evName]; d != nil {
			if err := r.deleteESM(ctx, scalarString(d.Ref)); err != nil {
				return err
			}
		}
	}
	return r.deleteFunction(ctx, s.Function.Name)
}

// ---- layers

type layerSpec struct {
	Name          string   `json:"name"`
	CodeSHA256    string   `json:"codeSha256"`
	Runtimes      []string `json:"compatibleRuntimes,omitempty"`
	Architectures []string `json:"compatibleArchitectures,omitempty"`
	Description   string   `json:"description,omitempty"`
	License       string   `json:"licenseInfo,omitempty"`
}

func planSAMLayer(r *run, res *Resource, props map[string]any) (*layerSpec, error) {
	rest := maps.Clone(props)
	arch := rest["CompatibleArchitectures"]
	delete(rest, "CompatibleArchitectures")
	var l serverless.LayerVersion
	ws, err := decodeProps(rest, res.Type, &l, "Properties")
	r.addWarnings(res.LogicalID, ws)
	if err != nil {
		return nil, err
	}
	s := &layerSpec{Name: str(l.LayerName), Runtimes: l.CompatibleRuntimes, Description: str(l.Description), License: str(l.LicenseInfo)}
	if arch != nil {
		if _, err := decodeInto(arch, &s.Architectures, "Properties.CompatibleArchitectures"); err != nil {
			return nil, err
		}
	}
	if s.Name == "" {
		s.Name = res.LogicalID
	}
	var zip []byte
	switch {
	case l.ContentUri == nil:
		return nil, errAt("Properties.ContentUri", "is required")
	case l.ContentUri.String != nil:
		zip, err = r.loadCode(*l.ContentUri.String)
	case l.ContentUri.S3Location != nil:
		zip, err = r.s3Code(l.ContentUri.S3Location.Bucket, l.ContentUri.S3Location.Key, "")
	}
	if err != nil {
		return nil, errAt("Properties.ContentUri", "%v", err)
	}
	s.CodeSHA256 = sha256Hex(zip)
	r.code[s.CodeSHA256] = zip
	return s, nil
}

func planCFNLayer(r *run, res *Resource, props map[string]any) (*layerSpec, error) {
	rest := maps.Clone(props)
	local, isLocal := rest["Content"].(string)
	if isLocal {
		delete(rest, "Content")
	}
	var l cfnlambda.LayerVersion
	ws, err := decodeProps(rest, res.Type, &l, "Properties")
	r.addWarnings(res.LogicalID, ws)
	if err != nil {
		return nil, err
	}
	s := &layerSpec{Name: str(l.LayerName), Runtimes: l.CompatibleRuntimes, Architectures: l.CompatibleArchitectures,
		Description: str(l.Description), License: str(l.LicenseInfo)}
	if s.Name == "" {
		s.Name = physicalName(r.ev.pseudo.StackName, res.LogicalID, 64)
	}
	if !isLocal && l.Content != nil && r.opts.Assets[l.Content.S3Key] != "" {
		local, isLocal = r.opts.Assets[l.Content.S3Key], true
	}
	if !isLocal {
		if l.Content == nil {
			return nil, errAt("Properties.Content", "is required")
		}
		zip, err := r.s3Code(l.Content.S3Bucket, l.Content.S3Key, str(l.Content.S3ObjectVersion))
		if err != nil {
			return nil, errAt("Properties.Content", "%v", err)
		}
		s.CodeSHA256 = sha256Hex(zip)
		r.code[s.CodeSHA256] = zip
		return s, nil
	}
	zip, err := r.loadCode(local)
	if err != nil {
		return nil, errAt("Properties.Content", "%v", err)
	}
	s.CodeSHA256 = sha256Hex(zip)
	r.code[s.CodeSHA256] = zip
	return s, nil
}

func applyLayer(ctx context.Context, r *run, id string, s, prev *layerSpec, prevRec *Record) (*Record, error) {
	zip, ok := r.code[s.CodeSHA256]
	if !ok {
		return nil, fmt.Errorf("the content of layer %s (sha256 %s) is not at hand", s.Name, s.CodeSHA256)
	}
	var rts []types.Runtime
	for _, x := range s.Runtimes {
		rts = append(rts, types.Runtime(x))
	}
	out, err := r.d.Lambda.PublishLayerVersion(ctx, &lambda.PublishLayerVersionInput{LayerName: &s.Name, Content: &types.LayerVersionContentInput{ZipFile: zip},
		CompatibleRuntimes: rts, CompatibleArchitectures: architectures(s.Architectures), Description: optional(s.Description), LicenseInfo: optional(s.License)})
	if err != nil {
		return nil, fmt.Errorf("PublishLayerVersion %s: %w", s.Name, err)
	}
	arn := aws.ToString(out.LayerVersionArn)
	rec := &Record{PhysicalID: arn, Result: &Deployed{Ref: arn, Attrs: map[string]any{"LayerVersionArn": arn}}}
	rec.Spec, _ = json.Marshal(s)
	if prevRec != nil && prevRec.Result != nil {
		if err := r.deleteLayerVersion(ctx, scalarString(prevRec.Result.Ref)); err != nil {
			return rec, err
		}
	}
	return rec, nil
}

func removeLayer(ctx context.Context, r *run, _ *layerSpec, rec *Record) error {
	if rec.Result == nil {
		return nil
	}
	return r.deleteLayerVersion(ctx, scalarString(rec.Result.Ref))
}

func (r *run) deleteLayerVersion(ctx context.Context, arn string) error {
	i := strings.LastIndex(arn, ":")
	if i < 0 {
		return fmt.Errorf("layer version ARN %q has no version", arn)
	}
	var n int64
	if _, err := fmt.Sscan(arn[i+1:], &n); err != nil {
		return fmt.Errorf("layer version ARN %q: %w", arn, err)
	}
	_, err := r.d.Lambda.DeleteLayerVersion(ctx, &lambda.DeleteLayerVersionInput{LayerName: aws.String(arn[:i]), VersionNumber: &n})
	if err := ignoreNotFound(err); err != nil {
		return fmt.Errorf("DeleteLayerVersion %s: %w", arn, err)
	}
	return nil
}

// publicURLPermissions grants what SAM's transform grants for a
// FunctionUrlConfig with AuthType NONE (<Fn>UrlPublicPermissions, and since
// October 2025 <Fn>URLInvokeAllowPublicAccess): lambda:InvokeFunctionUrl and
// lambda:InvokeFunction (via the URL only) to everyone, without which AWS
// answers the URL 403. Statements that exist already are left as they are.
func (r *run) publicURLPermissions(ctx context.Context, name, qualifier string) error {
	grants := []*lambda.AddPermissionInput{
		{StatementId: aws.String("FunctionUrlPublicAccess"), Action: aws.String("lambda:InvokeFunctionUrl"),
			FunctionUrlAuthType: types.FunctionUrlAuthTypeNone},
		{StatementId: aws.String("FunctionUrlInvokeAllowPublicAccess"), Action: aws.String("lambda:InvokeFunction"),
			InvokedViaFunctionUrl: aws.Bool(true)},
	}
	for _, in := range grants {
		in.FunctionName, in.Qualifier, in.Principal = &name, optional(qualifier), aws.String("*")
		if _, err := r.d.Lambda.AddPermission(ctx, in); err != nil {
			var conflict *types.ResourceConflictException
			if errors.As(err, &conflict) {
				continue
			}
			return fmt.Errorf("AddPermission %s (%s): %w", name, aws.ToString(in.Action), err)
		}
	}
	return nil
}
