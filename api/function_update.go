package api

import (
	"context"
	"net/http"
	"time"

	"github.com/lambhq/lamb/store"
)

// updateFunction applies change to the stored $LATEST of ref in one
// transaction, with AWS's checks: RevisionId, and no update while one is in
// progress. The change moves LastUpdateStatus to InProgress; Prepare finishes
// it. With dryRun nothing is written and Prepare does not run.
func (s *Server) updateFunction(ctx context.Context, c *call, ref functionRef, revisionID *string, dryRun bool, change func(tx store.Tx, f *functionRecord) error) (*functionRecord, error) {
	var f *functionRecord
	err := s.store.Update(ctx, func(tx store.Tx) error {
		var err error
		f, err = loadRefFunction(tx, c.Scope, ref)
		if err != nil {
			return err
		}
		if revisionID != nil && *revisionID != "" && *revisionID != f.RevisionID {
			return errPreconditionFailed()
		}
		if f.State == "Pending" || f.LastUpdateStatus == "InProgress" {
			return errConflict("The operation cannot be performed at this time. An update is in progress for resource: %s", f.arn())
		}
		if err := change(tx, f); err != nil {
			return err
		}
		f.RevisionID = newRevisionID()
		f.LastModified = time.Now()
		f.LastUpdateStatus = "InProgress"
		f.LastUpdateStatusReason = "The function is being created."
		f.LastUpdateStatusReasonCode = "Creating"
		f.Generation++
		if dryRun {
			return nil
		}
		return tx.Put(bucketFunctions, functionKey(c.Scope, f.Name), f)
	})
	if err != nil {
		return nil, err
	}
	if !dryRun {
		s.startPrepare(f)
	}
	return f, nil
}

// updateFunctionCodeInput is the UpdateFunctionCode request body.
type updateFunctionCodeInput struct {
	ZipFile         []byte   `json:"ZipFile"`
	S3Bucket        *string  `json:"S3Bucket"`
	S3Key           *string  `json:"S3Key"`
	S3ObjectVersion *string  `json:"S3ObjectVersion"`
	ImageURI        *string  `json:"ImageUri"`
	Publish         bool     `json:"Publish"`
	DryRun          bool     `json:"DryRun"`
	RevisionID      *string  `json:"RevisionId"`
	Architectures   []string `json:"Architectures"`
}

// updateFunctionCode serves UpdateFunctionCode.
func (s *Server) updateFunctionCode(w http.ResponseWriter, r *http.Request, c *call) error {
	ref, in, err := readRequest[updateFunctionCodeInput](r, c, resolveFunction)
	if err != nil {
		return err
	}
	if err := latestOnly(ref, c.Scope); err != nil {
		return err
	}
	if err := validateArchitectures(in.Architectures); err != nil {
		return err
	}
	var hotDir string // hot_reload.go
	switch {
	case (in.S3Bucket != nil || in.S3Key != nil) && !s.isHotReloadBucket(in.S3Bucket):
		if in.ZipFile, err = s.codeFromS3(r.Context(), c.Scope, in.S3Bucket, in.S3Key, in.S3ObjectVersion, len(in.ZipFile) > 0); err != nil { // code_s3.go
			return err
		}
	case in.S3Bucket != nil || in.S3Key != nil:
		if hotDir, err = s.hotReloadFolder(in.S3Bucket, in.S3Key, len(in.ZipFile) > 0); err != nil {
			return err
		}
	}
	var z storedZip
	if len(in.ZipFile) > 0 {
		if z, err = checkZip(in.ZipFile, 0); err != nil {
			return err
		}
		if !in.DryRun {
			var uploaded func(error)
			if z, uploaded, err = s.putZip(r.Context(), in.ZipFile, z); err != nil {
				return err
			}
			// gc.go: no sweep until the record is in. Done either way: the
			// code replaced, or the upload refused, may be garbage now.
			defer uploaded(errCodeReplaced)
		}
	}
	now := s.cfg.Now()
	f, err := s.updateFunction(r.Context(), c, ref, in.RevisionID, in.DryRun, func(_ store.Tx, f *functionRecord) error {
		if err := checkRuntimeUpdatable(f.Runtime, now); err != nil {
			return err
		}
		switch f.PackageType {
		case packageZip:
			if in.ImageURI != nil {
				return errInvalidParameter("Please don't provide ImageUri when updating a function with packageType Zip.")
			}
			if len(in.ZipFile) == 0 && hotDir == "" {
				return errInvalidParameter("Please provide a source for function code.")
			}
			f.CodeSHA256Hex, f.CodeSHA256, f.CodeSize = z.SHA256Hex, z.SHA256, z.Size
			setHotReload(f, hotDir)
		case packageImage:
			if in.ImageURI == nil || *in.ImageURI == "" {
				return errInvalidParameter("Please provide ImageUri when updating a function with packageType Image.")
			}
			setImage(f, *in.ImageURI) // images.go
		}
		if len(in.Architectures) > 0 {
			f.Architectures = in.Architectures
		}
		return nil
	})
	if err != nil {
		return err
	}
	if in.Publish && !in.DryRun {
		// AWS answers the new version, still being created with $LATEST.
		if f, err = s.publishAfterChange(r.Context(), c.Scope, f.Name); err != nil {
			return err
		}
		f.shownQualifier = f.Version
	}
	return reply(w, c, f.configuration())
}

// updateFunctionConfigurationInput is the UpdateFunctionConfiguration body.
type updateFunctionConfigurationInput struct {
	configInput
	RevisionID *string `json:"RevisionId"`
}

// updateFunctionConfiguration serves UpdateFunctionConfiguration.
func (s *Server) updateFunctionConfiguration(w http.ResponseWriter, r *http.Request, c *call) error {
	ref, in, err := readRequest[updateFunctionConfigurationInput](r, c, resolveFunction)
	if err != nil {
		return err
	}
	if err := latestOnly(ref, c.Scope); err != nil {
		return err
	}
	now := s.cfg.Now()
	if err := validateConfig(&in.configInput, false, now); err != nil {
		return err
	}
	if err := checkPassRole(r, c.Scope, in.Role); err != nil {
		return err
	}
	f, err := s.updateFunction(r.Context(), c, ref, in.RevisionID, false, func(tx store.Tx, f *functionRecord) error {
		if f.PackageType == packageImage && in.Runtime != nil && *in.Runtime != "" {
			return errInvalidParameter("Please don't provide Runtime when updating a function with packageType Image.")
		}
		if in.Runtime == nil || *in.Runtime == "" {
			// Moving to a runtime checkRuntime accepted is how AWS lets a
			// function leave a blocked one; any other change is refused.
			if err := checkRuntimeUpdatable(f.Runtime, now); err != nil {
				return err
			}
		}
		applyConfig(f, &in.configInput)
		if err := checkSnapStart(f); err != nil {
			return err
		}
		if err := checkCapacityProviderConfig(tx, c.Scope, in.CapacityProviderConfig); err != nil {
			return err
		}
		if in.Layers != nil {
			refs, _, err := resolveLayers(tx, c.Scope, *in.Layers)
			if err != nil {
				return err
			}
			f.Layers = refs
		}
		return nil
	})
	if err != nil {
		return err
	}
	return reply(w, c, f.configuration())
}
