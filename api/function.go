package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/lambhq/lamb/store"
)

// lastModifiedLayout is how AWS prints LastModified and CreatedDate.
const lastModifiedLayout = "2006-01-02T15:04:05.000-0700"

// functionRecord is a function's $LATEST as stored. Field names are stable
// JSON: changing them breaks stores written by earlier versions.
type functionRecord struct {
	Account string `json:"account"`
	Region  string `json:"region"`
	Name    string `json:"name"`

	PackageType   string             `json:"packageType"`
	Runtime       string             `json:"runtime,omitempty"`
	Handler       string             `json:"handler,omitempty"`
	Role          string             `json:"role"`
	Description   string             `json:"description"`
	Timeout       int32              `json:"timeout"`
	MemorySize    int32              `json:"memorySize"`
	EphemeralSize int32              `json:"ephemeralSize"`
	Architectures []string           `json:"architectures"`
	Environment   map[string]string  `json:"environment"` // nil: never set, so AWS shows no Environment
	TracingMode   string             `json:"tracingMode"`
	Logging       loggingConfig      `json:"logging"`
	KMSKeyArn     string             `json:"kmsKeyArn,omitempty"`
	SnapStartOn   string             `json:"snapStartApplyOn"`
	ImageURI      string             `json:"imageUri,omitempty"`
	ImageConfig   *imageConfig       `json:"imageConfig,omitempty"`
	CapProvider   *providerConfig    `json:"capacityProviderConfig,omitempty"` // capacity_provider.go; state only
	Layers        []layerRef         `json:"layers,omitempty"`
	VpcConfig     *vpcConfig         `json:"vpcConfig,omitempty"`         // function_config_store_only.go
	DurableConfig *durableConfig     `json:"durableConfig,omitempty"`     // function_config_store_only.go
	TenancyConfig *tenancyConfig     `json:"tenancyConfig,omitempty"`     // function_config_store_only.go; set at create only
	DeadLetterArn string             `json:"deadLetterArn,omitempty"`     // function_config_store_only.go
	FileSystems   []fileSystemConfig `json:"fileSystemConfigs,omitempty"` // function_config_store_only.go

	CodeSHA256Hex string `json:"codeSha256Hex,omitempty"` // blob key of the zip
	CodeSHA256    string `json:"codeSha256"`              // base64, as AWS shows it
	CodeSize      int64  `json:"codeSize"`
	CodeDir       string `json:"codeDir,omitempty"` // hot reload: the folder, as given in S3Key (hot_reload.go)

	Tags                map[string]string `json:"tags,omitempty"`
	ReservedConcurrency *int32            `json:"reservedConcurrency,omitempty"`

	RevisionID   string    `json:"revisionId"`
	LastModified time.Time `json:"lastModified"`

	State                      string `json:"state"`
	StateReason                string `json:"stateReason,omitempty"`
	StateReasonCode            string `json:"stateReasonCode,omitempty"`
	LastUpdateStatus           string `json:"lastUpdateStatus,omitempty"`
	LastUpdateStatusReason     string `json:"lastUpdateStatusReason,omitempty"`
	LastUpdateStatusReasonCode string `json:"lastUpdateStatusReasonCode,omitempty"`

	// Generation counts changes that need Prepare; a Prepare result is
	// applied only if no later change superseded it.
	Generation int64 `json:"generation"`

	// Version is "" for $LATEST and "1", "2", ... for published versions
	// (stored in bucketVersions, versions.go).
	Version string `json:"version,omitempty"`
	// shownQualifier is the qualifier the caller addressed, appended to
	// FunctionArn when rendered (":$LATEST", ":1", ":alias"); never stored.
	shownQualifier string
}

type loggingConfig struct {
	LogFormat           string `json:"LogFormat"`
	ApplicationLogLevel string `json:"ApplicationLogLevel,omitempty"`
	SystemLogLevel      string `json:"SystemLogLevel,omitempty"`
	LogGroup            string `json:"LogGroup"`
}

type layerRef struct {
	Arn        string `json:"arn"`
	CodeSize   int64  `json:"codeSize"`
	CodeSHA256 string `json:"codeSha256Hex"`
	Dir        string `json:"dir,omitempty"` // hot reload: the layer's folder (hot_reload_layer.go)
}

func functionKey(sc scope, name string) string { return sc.Account + "/" + sc.Region + "/" + name }

func (f *functionRecord) scope() scope { return scope{Account: f.Account, Region: f.Region} }

func functionArn(sc scope, name string) string {
	return fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", sc.Region, sc.Account, name)
}

func (f *functionRecord) arn() string { return functionArn(f.scope(), f.Name) }

// loadFunction reads a function's record; ErrNotFound (wrapped) when absent.
func loadFunction(tx store.Tx, sc scope, name string) (*functionRecord, error) {
	return store.Load[functionRecord](tx, bucketFunctions, functionKey(sc, name))
}

// loadFunctionOr is loadFunction answering notFound, the operation's own AWS
// error, when the function does not exist.
func loadFunctionOr(tx store.Tx, sc scope, name string, notFound error) (*functionRecord, error) {
	f, err := loadFunction(tx, sc, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound
	}
	return f, err
}

// loadRefFunction is the function ref names, or AWS's usual
// ResourceNotFoundException naming ref.
func loadRefFunction(tx store.Tx, sc scope, ref functionRef) (*functionRecord, error) {
	return loadFunctionOr(tx, sc, ref.Name, errFunctionNotFound(ref.notFoundArn(sc)))
}

// lookupFunction resolves c's {FunctionName} label and Qualifier query and
// loads the function's $LATEST: the one call a handler of a function
// operation (Invoke, ...) needs. Its errors are AWS-shaped; return them.
func (s *Server) lookupFunction(ctx context.Context, c *call) (*functionRecord, error) {
	ref, err := resolveFunction(c)
	if err != nil {
		return nil, err
	}
	// Versions and aliases resolve to the version's frozen record (versions.go).
	return s.loadQualified(ctx, c.Scope, ref, nil)
}

// loadFunctionRef returns the stored $LATEST of the function ref names (see
// resolveFunction), or ResourceNotFoundException with AWS's message. Reading a
// function still Pending/InProgress that nothing here prepares resumes
// Prepare (work left by an earlier process).
func (s *Server) loadFunctionRef(ctx context.Context, c *call, ref functionRef) (*functionRecord, error) {
	var f *functionRecord
	err := s.store.View(ctx, func(tx store.Tx) (err error) {
		f, err = loadRefFunction(tx, c.Scope, ref)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.resumePrepare(f)
	return f, nil
}

func itoa(n int32) string { return strconv.Itoa(int(n)) }

func newRevisionID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// runtimeVersionArn gives each runtime a stable version ARN, like AWS's
// arn:aws:lambda:<region>::runtime:<64 hex>.
func runtimeVersionArn(region, runtime string) string {
	sum := sha256.Sum256([]byte("lamb-runtime:" + runtime))
	return fmt.Sprintf("arn:aws:lambda:%s::runtime:%s", region, hex.EncodeToString(sum[:]))
}

// info converts a record into what the engine needs.
func (f *functionRecord) info() FunctionInfo {
	fi := FunctionInfo{
		AccountID: f.Account, Region: f.Region, Name: f.Name, FunctionArn: f.arn(), Version: f.version(),
		RevisionID: f.RevisionID, PackageType: f.PackageType, Runtime: f.Runtime, Handler: f.Handler,
		ImageURI: f.ImageURI, CodeSHA256: f.CodeSHA256Hex, CodeDir: f.CodeDir, Architectures: append([]string(nil), f.Architectures...),
		MemorySize: f.MemorySize, Timeout: f.Timeout, EphemeralSize: f.EphemeralSize,
		Environment: map[string]string{}, Role: f.Role, LogFormat: f.Logging.LogFormat, LogGroup: f.Logging.LogGroup,
		LogLevel: f.Logging.ApplicationLogLevel, SystemLogLevel: f.Logging.SystemLogLevel,
	}
	for k, v := range f.Environment {
		fi.Environment[k] = v
	}
	for _, l := range f.Layers {
		fi.Layers = append(fi.Layers, LayerInfo{Arn: l.Arn, CodeSHA256: l.CodeSHA256, CodeSize: l.CodeSize, Dir: l.Dir})
	}
	if f.ReservedConcurrency != nil {
		v := *f.ReservedConcurrency
		fi.ReservedConcurrency = &v
	}
	return fi
}

// FunctionConfiguration is the API's view of a function (the model's
// FunctionConfiguration shape, with the members lamb fills).
type functionConfiguration struct {
	Architectures              []string              `json:"Architectures"`
	CodeSha256                 string                `json:"CodeSha256"`
	CodeSize                   int64                 `json:"CodeSize"`
	Description                string                `json:"Description"`
	Environment                *environmentResponse  `json:"Environment,omitempty"`
	EphemeralStorage           ephemeralStorage      `json:"EphemeralStorage"`
	FunctionArn                string                `json:"FunctionArn"`
	FunctionName               string                `json:"FunctionName"`
	Handler                    string                `json:"Handler,omitempty"`
	ImageConfigResponse        *imageConfigResponse  `json:"ImageConfigResponse,omitempty"`
	CapacityProviderConfig     *providerConfig       `json:"CapacityProviderConfig,omitempty"`
	KMSKeyArn                  string                `json:"KMSKeyArn,omitempty"`
	LastModified               string                `json:"LastModified"`
	LastUpdateStatus           string                `json:"LastUpdateStatus,omitempty"`
	LastUpdateStatusReason     string                `json:"LastUpdateStatusReason,omitempty"`
	LastUpdateStatusReasonCode string                `json:"LastUpdateStatusReasonCode,omitempty"`
	Layers                     []layerResponse       `json:"Layers,omitempty"`
	LoggingConfig              loggingConfig         `json:"LoggingConfig"`
	MemorySize                 int32                 `json:"MemorySize"`
	PackageType                string                `json:"PackageType"`
	RevisionID                 string                `json:"RevisionId"`
	Role                       string                `json:"Role"`
	Runtime                    string                `json:"Runtime,omitempty"`
	RuntimeVersionConfig       *runtimeVersionConfig `json:"RuntimeVersionConfig,omitempty"`
	SnapStart                  snapStartResponse     `json:"SnapStart"`
	State                      string                `json:"State,omitempty"`
	StateReason                string                `json:"StateReason,omitempty"`
	StateReasonCode            string                `json:"StateReasonCode,omitempty"`
	Timeout                    int32                 `json:"Timeout"`
	TracingConfig              tracingConfig         `json:"TracingConfig"`
	Version                    string                `json:"Version"`
	VpcConfig                  *vpcConfigResponse    `json:"VpcConfig,omitempty"`
	DurableConfig              *durableConfig        `json:"DurableConfig,omitempty"`
	TenancyConfig              *tenancyConfig        `json:"TenancyConfig,omitempty"`
	DeadLetterConfig           *deadLetterConfig     `json:"DeadLetterConfig,omitempty"`
	FileSystemConfigs          []fileSystemConfig    `json:"FileSystemConfigs,omitempty"`
}

type environmentResponse struct {
	Variables map[string]string `json:"Variables"`
}

type ephemeralStorage struct {
	Size int32 `json:"Size"`
}

type layerResponse struct {
	Arn      string `json:"Arn"`
	CodeSize int64  `json:"CodeSize"`
}

type runtimeVersionConfig struct {
	RuntimeVersionArn string `json:"RuntimeVersionArn"`
}

type snapStartResponse struct {
	ApplyOn            string `json:"ApplyOn"`
	OptimizationStatus string `json:"OptimizationStatus"`
}

type tracingConfig struct {
	Mode string `json:"Mode"`
}

// configuration renders the record as GetFunctionConfiguration answers it.
func (f *functionRecord) configuration() functionConfiguration {
	c := functionConfiguration{
		Architectures:              f.Architectures,
		CodeSha256:                 f.CodeSHA256,
		CodeSize:                   f.CodeSize,
		Description:                f.Description,
		EphemeralStorage:           ephemeralStorage{Size: f.EphemeralSize},
		FunctionArn:                f.arn() + f.qualifierSuffix(),
		FunctionName:               f.Name,
		Handler:                    f.Handler,
		ImageConfigResponse:        imageConfigOf(f),
		CapacityProviderConfig:     f.CapProvider,
		KMSKeyArn:                  f.KMSKeyArn,
		LastModified:               f.LastModified.UTC().Format(lastModifiedLayout),
		LastUpdateStatus:           f.LastUpdateStatus,
		LastUpdateStatusReason:     f.LastUpdateStatusReason,
		LastUpdateStatusReasonCode: f.LastUpdateStatusReasonCode,
		LoggingConfig:              f.Logging,
		MemorySize:                 f.MemorySize,
		PackageType:                f.PackageType,
		RevisionID:                 f.RevisionID,
		Role:                       f.Role,
		Runtime:                    f.Runtime,
		SnapStart:                  snapStartResponse{ApplyOn: f.SnapStartOn, OptimizationStatus: snapStartOptimization(f)},
		State:                      f.State,
		StateReason:                f.StateReason,
		StateReasonCode:            f.StateReasonCode,
		Timeout:                    f.Timeout,
		TracingConfig:              tracingConfig{Mode: f.TracingMode},
		Version:                    f.version(),
		VpcConfig:                  f.VpcConfig.response(),
		DurableConfig:              f.DurableConfig,
		TenancyConfig:              f.TenancyConfig,
		FileSystemConfigs:          f.FileSystems,
	}
	if f.DeadLetterArn != "" {
		c.DeadLetterConfig = &deadLetterConfig{TargetArn: &f.DeadLetterArn}
	}
	if f.Environment != nil {
		// AWS shows Environment once a client set it, even to {}.
		env := map[string]string{}
		for k, v := range f.Environment {
			env[k] = v
		}
		c.Environment = &environmentResponse{Variables: env}
	}
	if f.PackageType == packageZip {
		c.RuntimeVersionConfig = &runtimeVersionConfig{RuntimeVersionArn: runtimeVersionArn(f.Region, f.Runtime)}
	}
	for _, l := range f.Layers {
		c.Layers = append(c.Layers, layerResponse{Arn: l.Arn, CodeSize: l.CodeSize})
	}
	return c
}

const (
	packageZip   = "Zip"
	packageImage = "Image"
)
