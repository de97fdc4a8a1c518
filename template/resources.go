package template

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	cfnlambda "github.com/awslabs/goformation/v7/cloudformation/lambda"
)

// The AWS::Lambda:: resources other than functions and layers.

// ---- versions

type versionSpec struct {
	FunctionName string `json:"functionName"`
	Description  string `json:"description,omitempty"`
	CodeSHA256   string `json:"codeSha256,omitempty"`
	Provisioned  int32  `json:"provisioned,omitempty"`
}

func planVersion(r *run, res *Resource, props map[string]any) (*versionSpec, error) {
	var v cfnlambda.Version
	ws, err := decodeProps(props, res.Type, &v, "Properties")
	r.addWarnings(res.LogicalID, ws)
	if err != nil {
		return nil, err
	}
	if v.FunctionName == "" {
		return nil, errAt("Properties.FunctionName", "is required")
	}
	s := &versionSpec{FunctionName: v.FunctionName, Description: str(v.Description), CodeSHA256: str(v.CodeSha256)}
	if v.ProvisionedConcurrencyConfig != nil {
		s.Provisioned = int32(v.ProvisionedConcurrencyConfig.ProvisionedConcurrentExecutions)
	}
	return s, nil
}

func applyVersion(ctx context.Context, r *run, _ string, s, _ *versionSpec, _ *Record) (*Record, error) {
	out, err := r.d.Lambda.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: &s.FunctionName, Description: optional(s.Description), CodeSha256: optional(s.CodeSHA256)})
	if err != nil {
		return nil, fmt.Errorf("PublishVersion %s: %w", s.FunctionName, err)
	}
	arn, ver := aws.ToString(out.FunctionArn), aws.ToString(out.Version)
	rec := &Record{PhysicalID: arn, Result: &Deployed{Ref: arn, Attrs: map[string]any{"Version": ver, "FunctionArn": arn}}}
	if s.Provisioned > 0 {
		if _, err := r.d.Lambda.PutProvisionedConcurrencyConfig(ctx, &lambda.PutProvisionedConcurrencyConfigInput{FunctionName: &s.FunctionName,
			Qualifier: &ver, ProvisionedConcurrentExecutions: &s.Provisioned}); err != nil {
			return rec, fmt.Errorf("PutProvisionedConcurrencyConfig %s:%s: %w", s.FunctionName, ver, err)
		}
	}
	return rec, nil
}

func removeVersion(ctx context.Context, r *run, s *versionSpec, rec *Record) error {
	if rec.Result == nil {
		return nil
	}
	ver, _ := rec.Result.Attrs["Version"].(string)
	if ver == "" {
		return nil
	}
	_, err := r.d.Lambda.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: &s.FunctionName, Qualifier: &ver})
	return ignoreNotFound(err)
}

// ---- aliases

type aliasSpec struct {
	FunctionName string             `json:"functionName"`
	Name         string             `json:"name"`
	Version      string             `json:"version"`
	Description  string             `json:"description,omitempty"`
	Weights      map[string]float64 `json:"weights,omitempty"`
	Provisioned  int32              `json:"provisioned,omitempty"`
}

func planAlias(r *run, res *Resource, props map[string]any) (*aliasSpec, error) {
	var a cfnlambda.Alias
	ws, err := decodeProps(props, res.Type, &a, "Properties")
	r.addWarnings(res.LogicalID, ws)
	if err != nil {
		return nil, err
	}
	for p, v := range map[string]string{"FunctionName": a.FunctionName, "FunctionVersion": a.FunctionVersion, "Name": a.Name} {
		if v == "" {
			return nil, errAt("Properties."+p, "is required")
		}
	}
	s := &aliasSpec{FunctionName: a.FunctionName, Name: a.Name, Version: versionOf(a.FunctionVersion), Description: str(a.Description)}
	if rc := a.RoutingConfig; rc != nil {
		s.Weights = map[string]float64{}
		for _, w := range rc.AdditionalVersionWeights {
			s.Weights[versionOf(w.FunctionVersion)] = w.FunctionWeight
		}
	}
	if a.ProvisionedConcurrencyConfig != nil {
		s.Provisioned = int32(a.ProvisionedConcurrencyConfig.ProvisionedConcurrentExecutions)
	}
	return s, nil
}

// versionOf takes the version number out of a version ARN (a Ref to an
// AWS::Lambda::Version gives one), and returns anything else as it is.
func versionOf(v string) string {
	if strings.HasPrefix(v, "arn:") {
		return v[strings.LastIndex(v, ":")+1:]
	}
	return v
}

func applyAlias(ctx context.Context, r *run, _ string, s, prev *aliasSpec, _ *Record) (*Record, error) {
	var routing *types.AliasRoutingConfiguration
	if len(s.Weights) > 0 || prev != nil && len(prev.Weights) > 0 {
		routing = &types.AliasRoutingConfiguration{AdditionalVersionWeights: s.Weights}
		if routing.AdditionalVersionWeights == nil {
			routing.AdditionalVersionWeights = map[string]float64{}
		}
	}
	var (
		arn string
		err error
	)
	if prev != nil && prev.FunctionName == s.FunctionName && prev.Name == s.Name {
		var out *lambda.UpdateAliasOutput
		out, err = r.d.Lambda.UpdateAlias(ctx, &lambda.UpdateAliasInput{FunctionName: &s.FunctionName, Name: &s.Name, FunctionVersion: &s.Version,
			Description: aws.String(s.Description), RoutingConfig: routing})
		if err == nil {
			arn = aws.ToString(out.AliasArn)
		}
	} else {
		var out *lambda.CreateAliasOutput
		out, err = r.d.Lambda.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: &s.FunctionName, Name: &s.Name, FunctionVersion: &s.Version,
			Description: optional(s.Description), RoutingConfig: routing})
		if err == nil {
			arn = aws.ToString(out.AliasArn)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("alias %s of %s: %w", s.Name, s.FunctionName, err)
	}
	rec := &Record{PhysicalID: arn, Result: &Deployed{Ref: arn, Attrs: map[string]any{"AliasArn": arn}}}
	if prev != nil && (prev.FunctionName != s.FunctionName || prev.Name != s.Name) {
		if err := removeAlias(ctx, r, prev, nil); err != nil {
			return rec, err
		}
	}
	if s.Provisioned > 0 {
		if _, err := r.d.Lambda.PutProvisionedConcurrencyConfig(ctx, &lambda.PutProvisionedConcurrencyConfigInput{FunctionName: &s.FunctionName,
			Qualifier: &s.Name, ProvisionedConcurrentExecutions: &s.Provisioned}); err != nil {
			return rec, fmt.Errorf("PutProvisionedConcurrencyConfig %s:%s: %w", s.FunctionName, s.Name, err)
		}
	} else if prev != nil && prev.Provisioned > 0 {
		if _, err := r.d.Lambda.DeleteProvisionedConcurrencyConfig(ctx, &lambda.DeleteProvisionedConcurrencyConfigInput{FunctionName: &s.FunctionName,
			Qualifier: &s.Name}); ignoreNotFound(err) != nil {
			return rec, fmt.Errorf("DeleteProvisionedConcurrencyConfig %s:%s: %w", s.FunctionName, s.Name, err)
		}
	}
	return rec, nil
}

func removeAlias(ctx context.Context, r *run, s *aliasSpec, _ *Record) error {
	_, err := r.d.Lambda.DeleteAlias(ctx, &lambda.DeleteAliasInput{FunctionName: &s.FunctionName, Name: &s.Name})
	return ignoreNotFound(err)
}

// ---- permissions

type permissionSpec struct {
	StatementID   string `json:"statementId"`
	FunctionName  string `json:"functionName"`
	Action        string `json:"action"`
	Principal     string `json:"principal"`
	SourceArn     string `json:"sourceArn,omitempty"`
	SourceAccount string `json:"sourceAccount,omitempty"`
	PrincipalOrg  string `json:"principalOrgId,omitempty"`
	URLAuthType   string `json:"functionUrlAuthType,omitempty"`
	EventToken    string `json:"eventSourceToken,omitempty"`
	InvokedViaURL bool   `json:"invokedViaFunctionUrl,omitempty"`
}

func planPermission(r *run, res *Resource, props map[string]any) (*permissionSpec, error) {
	// InvokedViaFunctionUrl (CloudFormation, October 2025) is newer than
	// goformation's schema: read it here, before the typed decode drops it.
	viaURL := false
	if v, ok := props["InvokedViaFunctionUrl"]; ok {
		switch b := v.(type) {
		case bool:
			viaURL = b
		case string:
			viaURL = strings.EqualFold(b, "true")
		default:
			return nil, errAt("Properties.InvokedViaFunctionUrl", "want a boolean, got %v", v)
		}
		props = maps.Clone(props)
		delete(props, "InvokedViaFunctionUrl")
	}
	var p cfnlambda.Permission
	ws, err := decodeProps(props, res.Type, &p, "Properties")
	r.addWarnings(res.LogicalID, ws)
	if err != nil {
		return nil, err
	}
	for k, v := range map[string]string{"Action": p.Action, "FunctionName": p.FunctionName, "Principal": p.Principal} {
		if v == "" {
			return nil, errAt("Properties."+k, "is required")
		}
	}
	return &permissionSpec{StatementID: physicalName(r.ev.pseudo.StackName, res.LogicalID, 100), FunctionName: p.FunctionName, Action: p.Action,
		Principal: p.Principal, SourceArn: str(p.SourceArn), SourceAccount: str(p.SourceAccount), PrincipalOrg: str(p.PrincipalOrgID),
		URLAuthType: str(p.FunctionUrlAuthType), EventToken: str(p.EventSourceToken), InvokedViaURL: viaURL}, nil
}

func applyPermission(ctx context.Context, r *run, _ string, s, prev *permissionSpec, _ *Record) (*Record, error) {
	if prev != nil {
		if err := removePermission(ctx, r, prev, nil); err != nil {
			return nil, err
		}
	}
	in := &lambda.AddPermissionInput{FunctionName: &s.FunctionName, StatementId: &s.StatementID, Action: &s.Action, Principal: &s.Principal,
		SourceArn: optional(s.SourceArn), SourceAccount: optional(s.SourceAccount), PrincipalOrgID: optional(s.PrincipalOrg),
		EventSourceToken: optional(s.EventToken), FunctionUrlAuthType: types.FunctionUrlAuthType(s.URLAuthType)}
	if s.InvokedViaURL {
		in.InvokedViaFunctionUrl = aws.Bool(true)
	}
	if _, err := r.d.Lambda.AddPermission(ctx, in); err != nil {
		return nil, fmt.Errorf("AddPermission %s on %s: %w", s.StatementID, s.FunctionName, err)
	}
	return &Record{PhysicalID: s.StatementID, Result: &Deployed{Ref: s.StatementID, Attrs: map[string]any{}}}, nil
}

func removePermission(ctx context.Context, r *run, s *permissionSpec, _ *Record) error {
	_, err := r.d.Lambda.RemovePermission(ctx, &lambda.RemovePermissionInput{FunctionName: &s.FunctionName, StatementId: &s.StatementID})
	return ignoreNotFound(err)
}

// ---- function URLs

type urlSpec struct {
	Target     string      `json:"target,omitempty"` // function name or ARN
	Qualifier  string      `json:"qualifier,omitempty"`
	AuthType   string      `json:"authType"`
	InvokeMode string      `json:"invokeMode,omitempty"`
	Cors       *types.Cors `json:"cors,omitempty"`
}

func planURL(r *run, res *Resource, props map[string]any) (*urlSpec, error) {
	var u cfnlambda.Url
	ws, err := decodeProps(props, res.Type, &u, "Properties")
	r.addWarnings(res.LogicalID, ws)
	if err != nil {
		return nil, err
	}
	if u.TargetFunctionArn == "" {
		return nil, errAt("Properties.TargetFunctionArn", "is required")
	}
	if u.AuthType == "" {
		return nil, errAt("Properties.AuthType", "is required")
	}
	s := &urlSpec{Target: u.TargetFunctionArn, Qualifier: str(u.Qualifier), AuthType: u.AuthType, InvokeMode: str(u.InvokeMode)}
	if c := u.Cors; c != nil {
		s.Cors = &types.Cors{AllowCredentials: c.AllowCredentials, AllowHeaders: c.AllowHeaders, AllowMethods: c.AllowMethods,
			AllowOrigins: c.AllowOrigins, ExposeHeaders: c.ExposeHeaders}
		if c.MaxAge != nil {
			s.Cors.MaxAge = aws.Int32(int32(*c.MaxAge))
		}
	}
	return s, nil
}

// putURL creates a function URL, or updates the one prev describes; it
// returns the URL.
func (r *run) putURL(ctx context.Context, s, prev *urlSpec) (string, error) {
	if prev != nil && prev.Target == s.Target && prev.Qualifier == s.Qualifier {
		if reflect.DeepEqual(prev, s) {
			out, err := r.d.Lambda.GetFunctionUrlConfig(ctx, &lambda.GetFunctionUrlConfigInput{FunctionName: &s.Target, Qualifier: optional(s.Qualifier)})
			if err == nil {
				return aws.ToString(out.FunctionUrl), nil
			}
			if ignoreNotFound(err) != nil {
				return "", fmt.Errorf("GetFunctionUrlConfig %s: %w", s.Target, err)
			}
		} else {
			cors := s.Cors
			if cors == nil {
				cors = &types.Cors{}
			}
			out, err := r.d.Lambda.UpdateFunctionUrlConfig(ctx, &lambda.UpdateFunctionUrlConfigInput{FunctionName: &s.Target, Qualifier: optional(s.Qualifier),
				AuthType: types.FunctionUrlAuthType(s.AuthType), Cors: cors, InvokeMode: types.InvokeMode(s.InvokeMode)})
			if err == nil {
				return aws.ToString(out.FunctionUrl), nil
			}
			if ignoreNotFound(err) != nil {
				return "", fmt.Errorf("UpdateFunctionUrlConfig %s: %w", s.Target, err)
			}
		}
	}
	out, err := r.d.Lambda.CreateFunctionUrlConfig(ctx, &lambda.CreateFunctionUrlConfigInput{FunctionName: &s.Target, Qualifier: optional(s.Qualifier),
		AuthType: types.FunctionUrlAuthType(s.AuthType), Cors: s.Cors, InvokeMode: types.InvokeMode(s.InvokeMode)})
	if err != nil {
		return "", fmt.Errorf("CreateFunctionUrlConfig %s: %w", s.Target, err)
	}
	return aws.ToString(out.FunctionUrl), nil
}

func applyURL(ctx context.Context, r *run, _ string, s, prev *urlSpec, _ *Record) (*Record, error) {
	if prev != nil && (prev.Target != s.Target || prev.Qualifier != s.Qualifier) {
		if err := removeURL(ctx, r, prev, nil); err != nil {
			return nil, err
		}
		prev = nil
	}
	url, err := r.putURL(ctx, s, prev)
	if err != nil {
		return nil, err
	}
	return &Record{PhysicalID: url, Result: &Deployed{Ref: s.Target, Attrs: map[string]any{"FunctionUrl": url, "FunctionArn": s.Target}}}, nil
}

func removeURL(ctx context.Context, r *run, s *urlSpec, _ *Record) error {
	_, err := r.d.Lambda.DeleteFunctionUrlConfig(ctx, &lambda.DeleteFunctionUrlConfigInput{FunctionName: &s.Target, Qualifier: optional(s.Qualifier)})
	return ignoreNotFound(err)
}

// ---- event source mappings

type esmSpec struct {
	FunctionName          string   `json:"functionName,omitempty"`
	EventSourceArn        string   `json:"eventSourceArn"`
	BatchSize             int32    `json:"batchSize,omitempty"`
	Enabled               *bool    `json:"enabled,omitempty"`
	StartingPosition      string   `json:"startingPosition,omitempty"`
	MaxBatchingWindow     int32    `json:"maximumBatchingWindowInSeconds,omitempty"`
	MaxRetries            *int     `json:"maximumRetryAttempts,omitempty"`
	ParallelizationFactor int32    `json:"parallelizationFactor,omitempty"`
	FunctionResponseTypes []string `json:"functionResponseTypes,omitempty"`
}

func planESM(r *run, res *Resource, props map[string]any) (*esmSpec, error) {
	var m cfnlambda.EventSourceMapping
	ws, err := decodeProps(props, res.Type, &m, "Properties")
	r.addWarnings(res.LogicalID, ws)
	if err != nil {
		return nil, err
	}
	if m.FunctionName == "" {
		return nil, errAt("Properties.FunctionName", "is required")
	}
	if str(m.EventSourceArn) == "" {
		return nil, errAt("Properties.EventSourceArn", "is required (lamb supports SQS, Kinesis and DynamoDB mappings)")
	}
	return &esmSpec{FunctionName: m.FunctionName, EventSourceArn: str(m.EventSourceArn), BatchSize: i32(m.BatchSize), Enabled: m.Enabled,
		StartingPosition: str(m.StartingPosition), MaxBatchingWindow: i32(m.MaximumBatchingWindowInSeconds), MaxRetries: m.MaximumRetryAttempts,
		ParallelizationFactor: i32(m.ParallelizationFactor), FunctionResponseTypes: m.FunctionResponseTypes}, nil
}

func (r *run) createESM(ctx context.Context, s *esmSpec) (string, error) {
	in := &lambda.CreateEventSourceMappingInput{FunctionName: &s.FunctionName, EventSourceArn: &s.EventSourceArn, Enabled: s.Enabled,
		StartingPosition: types.EventSourcePosition(s.StartingPosition)}
	if s.BatchSize > 0 {
		in.BatchSize = &s.BatchSize
	}
	if s.MaxBatchingWindow > 0 {
		in.MaximumBatchingWindowInSeconds = &s.MaxBatchingWindow
	}
	if s.MaxRetries != nil {
		in.MaximumRetryAttempts = aws.Int32(int32(*s.MaxRetries))
	}
	if s.ParallelizationFactor > 0 {
		in.ParallelizationFactor = &s.ParallelizationFactor
	}
	for _, t := range s.FunctionResponseTypes {
		in.FunctionResponseTypes = append(in.FunctionResponseTypes, types.FunctionResponseType(t))
	}
	out, err := r.d.Lambda.CreateEventSourceMapping(ctx, in)
	if err != nil {
		return "", fmt.Errorf("CreateEventSourceMapping %s → %s: %w", s.EventSourceArn, s.FunctionName, err)
	}
	return aws.ToString(out.UUID), nil
}

func (r *run) deleteESM(ctx context.Context, uuid string) error {
	_, err := r.d.Lambda.DeleteEventSourceMapping(ctx, &lambda.DeleteEventSourceMappingInput{UUID: &uuid})
	if err := ignoreNotFound(err); err != nil {
		return fmt.Errorf("DeleteEventSourceMapping %s: %w", uuid, err)
	}
	return nil
}

func applyESM(ctx context.Context, r *run, _ string, s, _ *esmSpec, prevRec *Record) (*Record, error) {
	uuid, err := r.createESM(ctx, s)
	if err != nil {
		return nil, err
	}
	rec := &Record{PhysicalID: uuid, Result: &Deployed{Ref: uuid, Attrs: map[string]any{"Id": uuid}}}
	if prevRec != nil && prevRec.Result != nil {
		if err := r.deleteESM(ctx, scalarString(prevRec.Result.Ref)); err != nil {
			return rec, err
		}
	}
	return rec, nil
}

func removeESM(ctx context.Context, r *run, _ *esmSpec, rec *Record) error {
	if rec.Result == nil {
		return nil
	}
	return r.deleteESM(ctx, scalarString(rec.Result.Ref))
}

// ---- event invoke configs

type eicSpec struct {
	FunctionName string                   `json:"functionName,omitempty"`
	Qualifier    string                   `json:"qualifier,omitempty"`
	MaxAge       int32                    `json:"maximumEventAgeInSeconds,omitempty"`
	MaxRetries   *int                     `json:"maximumRetryAttempts,omitempty"`
	Destinations *types.DestinationConfig `json:"destinationConfig,omitempty"`
}

func planEIC(r *run, res *Resource, props map[string]any) (*eicSpec, error) {
	var e cfnlambda.EventInvokeConfig
	ws, err := decodeProps(props, res.Type, &e, "Properties")
	r.addWarnings(res.LogicalID, ws)
	if err != nil {
		return nil, err
	}
	if e.FunctionName == "" {
		return nil, errAt("Properties.FunctionName", "is required")
	}
	if e.Qualifier == "" {
		return nil, errAt("Properties.Qualifier", "is required")
	}
	s := &eicSpec{FunctionName: e.FunctionName, Qualifier: e.Qualifier, MaxAge: i32(e.MaximumEventAgeInSeconds), MaxRetries: e.MaximumRetryAttempts}
	if d := e.DestinationConfig; d != nil {
		s.Destinations = &types.DestinationConfig{}
		if d.OnFailure != nil {
			s.Destinations.OnFailure = &types.OnFailure{Destination: aws.String(d.OnFailure.Destination)}
		}
		if d.OnSuccess != nil {
			s.Destinations.OnSuccess = &types.OnSuccess{Destination: aws.String(d.OnSuccess.Destination)}
		}
	}
	return s, nil
}

func (r *run) putEIC(ctx context.Context, s *eicSpec) error {
	in := &lambda.PutFunctionEventInvokeConfigInput{FunctionName: &s.FunctionName, Qualifier: &s.Qualifier, DestinationConfig: s.Destinations}
	if s.MaxAge > 0 {
		in.MaximumEventAgeInSeconds = &s.MaxAge
	}
	if s.MaxRetries != nil {
		in.MaximumRetryAttempts = aws.Int32(int32(*s.MaxRetries))
	}
	if _, err := r.d.Lambda.PutFunctionEventInvokeConfig(ctx, in); err != nil {
		return fmt.Errorf("PutFunctionEventInvokeConfig %s:%s: %w", s.FunctionName, s.Qualifier, err)
	}
	return nil
}

func applyEIC(ctx context.Context, r *run, _ string, s, prev *eicSpec, _ *Record) (*Record, error) {
	if prev != nil && (prev.FunctionName != s.FunctionName || prev.Qualifier != s.Qualifier) {
		if err := removeEIC(ctx, r, prev, nil); err != nil {
			return nil, err
		}
	}
	if err := r.putEIC(ctx, s); err != nil {
		return nil, err
	}
	id := s.FunctionName + ":" + s.Qualifier
	return &Record{PhysicalID: id, Result: &Deployed{Ref: id, Attrs: map[string]any{}}}, nil
}

func removeEIC(ctx context.Context, r *run, s *eicSpec, _ *Record) error {
	_, err := r.d.Lambda.DeleteFunctionEventInvokeConfig(ctx, &lambda.DeleteFunctionEventInvokeConfigInput{FunctionName: &s.FunctionName, Qualifier: &s.Qualifier})
	return ignoreNotFound(err)
}
