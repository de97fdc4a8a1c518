package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/lambhq/lamb/engine"
	"github.com/lambhq/lamb/store"
)

// createFunctionInput is the CreateFunction request body.
type createFunctionInput struct {
	configInput
	FunctionName  *string           `json:"FunctionName"`
	Code          *functionCode     `json:"Code"`
	PackageType   *string           `json:"PackageType"`
	Publish       bool              `json:"Publish"`
	Tags          map[string]string `json:"Tags"`
	Architectures []string          `json:"Architectures"`
	TenancyConfig *tenancyConfig    `json:"TenancyConfig"` // function_config_store_only.go
	// CodeSigningConfigArn attaches a config, as PutFunctionCodeSigningConfig
	// does (code_signing.go).
	CodeSigningConfigArn *string `json:"CodeSigningConfigArn"`
}

// createFunction serves CreateFunction: validates like AWS, stores the zip
// once by hash, answers State Pending and lets Prepare make it Active.
func (s *Server) createFunction(w http.ResponseWriter, r *http.Request, c *call) error {
	var in createFunctionInput
	if err := decodeBody(r, c, &in); err != nil {
		return err
	}
	var v validationError
	if in.FunctionName == nil {
		v.null("functionName")
	}
	if in.Role == nil {
		v.null("role")
	}
	if in.Code == nil {
		v.null("code")
	}
	if err := v.err(); err != nil {
		return err
	}
	ref, err := parseFunctionName(*in.FunctionName, c.Scope, 140)
	if err != nil {
		return err
	}
	if ref.Account != "" && ref.Account != c.Scope.Account {
		// Another account's ARN: AWS answers 403 without a message (recorded).
		return newError("AccessDeniedException", "")
	}
	if err := validateArchitectures(in.Architectures); err != nil {
		return err
	}
	if len(in.Tags) > maxTags {
		return errTooManyTags()
	}
	var tv validationError
	validateTenancyConfig(&tv, in.TenancyConfig)
	validateCSCArn(&tv, in.CodeSigningConfigArn)
	if err := tv.err(); err != nil {
		return err
	}
	if err := validateConfig(&in.configInput, true, s.cfg.Now()); err != nil {
		return err
	}
	if err := checkPassRole(r, c.Scope, in.Role); err != nil {
		return err
	}

	now := time.Now()
	f := &functionRecord{
		Account: c.Scope.Account, Region: c.Scope.Region, Name: ref.Name,
		PackageType:   packageZip,
		Timeout:       3,
		MemorySize:    128,
		EphemeralSize: 512,
		Architectures: []string{"x86_64"},
		TracingMode:   "PassThrough",
		Logging:       loggingConfig{LogFormat: "Text", LogGroup: "/aws/lambda/" + ref.Name},
		SnapStartOn:   "None",
		Tags:          in.Tags,
		RevisionID:    newRevisionID(),
		LastModified:  now,
		State:         "Pending", StateReason: "The function is being created.", StateReasonCode: "Creating",
		// Unique per incarnation: a function deleted and created again under the
		// same name must not look already prepared (Server.inflight).
		Generation: time.Now().UnixNano(),
	}
	if in.PackageType != nil {
		f.PackageType = *in.PackageType
	}
	if len(in.Architectures) > 0 {
		f.Architectures = in.Architectures
	}
	applyConfig(f, &in.configInput)
	f.TenancyConfig = in.TenancyConfig
	if err := checkSnapStart(f); err != nil {
		return err
	}

	var zip []byte
	switch f.PackageType {
	case packageZip:
		if f.Runtime == "" || f.Handler == "" {
			return errInvalidParameter("Runtime and Handler are mandatory parameters for functions created with deployment packages.")
		}
		if in.Code.ImageURI != nil {
			return errInvalidParameter("Please don't provide ImageUri when creating a function with packageType Zip.")
		}
		if (in.Code.S3Bucket != nil || in.Code.S3Key != nil) && !s.isHotReloadBucket(in.Code.S3Bucket) {
			data, err := s.codeFromS3(r.Context(), c.Scope, in.Code.S3Bucket, in.Code.S3Key, in.Code.S3ObjectVersion, len(in.Code.ZipFile) > 0) // code_s3.go
			if err != nil {
				return err
			}
			in.Code.ZipFile = data
		} else if in.Code.S3Bucket != nil || in.Code.S3Key != nil {
			dir, err := s.hotReloadFolder(in.Code.S3Bucket, in.Code.S3Key, len(in.Code.ZipFile) > 0) // hot_reload.go
			if err != nil {
				return err
			}
			setHotReload(f, dir)
		} else if len(in.Code.ZipFile) == 0 {
			return errInvalidParameter("Please provide a source for function code.")
		}
		zip = in.Code.ZipFile
	case packageImage:
		if in.Code.ImageURI == nil || *in.Code.ImageURI == "" {
			return errInvalidParameter("Please provide ImageUri when creating a function with packageType Image.")
		}
		if len(in.Code.ZipFile) > 0 || in.Code.S3Bucket != nil {
			return errInvalidParameter("Please don't provide code when creating a function with packageType Image.")
		}
		setImage(f, *in.Code.ImageURI) // images.go
	default:
		var pv validationError
		pv.add(f.PackageType, "packageType", "Member must satisfy enum value set: [Image, Zip]")
		return pv.err()
	}

	err = s.storeFunction(r.Context(), f, zip, func(tx store.Tx) error {
		if err := checkCapacityProviderConfig(tx, c.Scope, f.CapProvider); err != nil {
			return err
		}
		var existing functionRecord
		err := tx.Get(bucketFunctions, functionKey(c.Scope, f.Name), &existing)
		if err == nil {
			return errConflict("Function already exist: %s", f.Name)
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if in.CodeSigningConfigArn != nil {
			return attachCSC(tx, c.Scope, f.Name, *in.CodeSigningConfigArn)
		}
		return nil
	}, in.Layers)
	if err != nil {
		return err
	}
	s.startPrepare(f)
	cfg := f.configuration()
	if in.Publish {
		// AWS answers $LATEST's configuration with the published version's number.
		v, err := s.publishAfterChange(r.Context(), c.Scope, f.Name)
		if err != nil {
			return err
		}
		cfg.Version = v.Version
	}
	return reply(w, c, cfg)
}

// storeFunction checks and stores zip (if any), resolves layers (if given) and
// writes f in one transaction after check passes. The zip is checked before
// the transaction (it is slow) and its unzipped size re-checked with the
// layers inside it.
func (s *Server) storeFunction(ctx context.Context, f *functionRecord, zip []byte, check func(tx store.Tx) error, layers *[]string) error {
	var z storedZip
	uploaded := func(error) {}
	if zip != nil {
		var err error
		if z, err = checkZip(zip, 0); err != nil {
			return err
		}
		if z, uploaded, err = s.putZip(ctx, zip, z); err != nil {
			return err
		}
		f.CodeSHA256Hex, f.CodeSHA256, f.CodeSize = z.SHA256Hex, z.SHA256, z.Size
	}
	err := errNotCommitted
	defer func() { uploaded(err) }() // gc.go: no sweep until the record is in
	err = s.store.Update(ctx, func(tx store.Tx) error {
		if err := check(tx); err != nil {
			return err
		}
		if layers != nil {
			refs, unzipped, err := resolveLayers(tx, f.scope(), *layers)
			if err != nil {
				return err
			}
			if zip != nil && z.UnzippedSize+unzipped > maxUnzippedBytes {
				return errInvalidParameter("Unzipped size must be smaller than %d bytes", maxUnzippedBytes)
			}
			f.Layers = refs
		}
		return tx.Put(bucketFunctions, functionKey(f.scope(), f.Name), f)
	})
	return err
}

func validateArchitectures(archs []string) error {
	if archs == nil {
		return nil
	}
	var v validationError
	switch {
	case len(archs) == 0:
		// Sent as [] (boto3 refuses that before sending; other clients do not).
		v.add("[]", "architectures", "Member must have length greater than or equal to 1")
	case len(archs) > 1:
		v.add(fmt.Sprintf("[%s]", joinComma(archs)), "architectures", "Member must have length less than or equal to 1")
	}
	for _, a := range archs {
		if a != "x86_64" && a != "arm64" {
			v.add(fmt.Sprintf("[%s]", joinComma(archs)), "architectures", "Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64], Member must not be null]")
			break
		}
	}
	return v.err()
}

// startPrepare runs Config.Prepare for f's current generation in the
// background, then records the outcome unless f changed again meanwhile.
//
// It is also how work left unfinished by an earlier process (a store opened
// again with functions still Pending or InProgress) resumes: resumePrepare
// calls it when such a function is read and nothing prepares it here.
func (s *Server) startPrepare(f *functionRecord) {
	info := f.info()
	sc, name, gen := f.scope(), f.Name, f.Generation
	key := functionKey(sc, name)
	s.mu.Lock()
	if s.inflight[key] >= gen {
		s.mu.Unlock()
		return
	}
	s.inflight[key] = gen
	s.mu.Unlock()
	// inflight keeps the highest generation started, even after it finished,
	// so a read racing with the end of Prepare does not start it again.
	s.goBackground(func(ctx context.Context) {
		perr := s.prepare(ctx, info)
		if ctx.Err() != nil {
			return // closing: the outcome is unknown, leave the state as is
		}
		err := s.store.Update(ctx, func(tx store.Tx) error {
			cur, err := loadFunction(tx, sc, name)
			if err != nil {
				return err
			}
			if cur.Generation != gen {
				return nil // superseded by a later change, which has its own Prepare
			}
			creating := cur.State == "Pending"
			code, reason := "InternalError", ""
			if perr != nil {
				reason = perr.Error()
				if se := (*engine.StateError)(nil); errors.As(perr, &se) {
					code, reason = se.Code, se.Reason
				}
			}
			switch {
			case perr == nil && creating:
				cur.State, cur.StateReason, cur.StateReasonCode = "Active", "", ""
				cur.LastUpdateStatus = "Successful"
			case perr == nil:
				cur.LastUpdateStatus, cur.LastUpdateStatusReason, cur.LastUpdateStatusReasonCode = "Successful", "", ""
			case creating:
				cur.State, cur.StateReason, cur.StateReasonCode = "Failed", reason, code
				cur.LastUpdateStatus = "Failed"
			default:
				cur.LastUpdateStatus, cur.LastUpdateStatusReason, cur.LastUpdateStatusReasonCode = "Failed", reason, code
			}
			cur.RevisionID = newRevisionID()
			return tx.Put(bucketFunctions, functionKey(sc, name), cur)
		})
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			s.log.Error("record function state", slog.String("function", info.FunctionArn), slog.Any("error", err))
		}
		if perr != nil {
			s.log.Warn("prepare failed", slog.String("function", info.FunctionArn), slog.Any("error", perr))
		}
	})
}

// resumePrepare restarts Prepare for a function read in a transitional state
// that no goroutine of this Server is preparing.
func (s *Server) resumePrepare(f *functionRecord) {
	if f.State == "Pending" || f.LastUpdateStatus == "InProgress" {
		s.startPrepare(f)
	}
}

func joinComma(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ", "
		}
		out += x
	}
	return out
}
