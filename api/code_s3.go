package api

import (
	"context"
	"errors"
)

// Code from S3 (CreateFunction's Code.S3Bucket/S3Key/S3ObjectVersion, the
// same in UpdateFunctionCode and PublishLayerVersion's Content). lamb has no
// S3 of its own: with Config.S3 (lamb serve --s3-endpoint: LocalStack, MinIO,
// moto's server, real S3) it fetches the object there, in the caller's
// region, and answers AWS's errors when it is missing.

// S3Objects fetches code zips from an S3 endpoint.
type S3Objects interface {
	// GetObject returns the object's bytes, at most limit of them (more is
	// an error). A missing bucket or key is an *S3Error.
	GetObject(ctx context.Context, region, bucket, key, version string, limit int64) ([]byte, error)
}

// S3Error is an error S3 answered (NoSuchBucket, NoSuchKey, AccessDenied, ...).
type S3Error struct{ Code, Message string }

func (e *S3Error) Error() string { return e.Code + ": " + e.Message }

// maxS3Zip bounds a zip fetched from S3: AWS's limit on the unzipped code
// (250 MB) bounds what a useful zip can be.
const maxS3Zip = 250 << 20

// isHotReloadBucket says whether bucket names a folder on lamb's host
// (hot_reload.go) rather than an S3 bucket.
func (s *Server) isHotReloadBucket(bucket *string) bool {
	return bucket != nil && (*bucket == hotReloadBucket || (s.cfg.HotReloadBucket != "" && *bucket == s.cfg.HotReloadBucket))
}

// codeFromS3 fetches a code zip from S3 for sc, worded as AWS words it.
func (s *Server) codeFromS3(ctx context.Context, sc scope, bucket, key, version *string, zipGiven bool) ([]byte, error) {
	if s.cfg.S3 == nil {
		return nil, errS3Unsupported()
	}
	if zipGiven {
		return nil, errInvalidParameter("Please provide only one source for function code.")
	}
	if bucket == nil || *bucket == "" || key == nil || *key == "" {
		return nil, errInvalidParameter("Please provide a source for function code.")
	}
	v := ""
	if version != nil {
		v = *version
	}
	data, err := s.cfg.S3.GetObject(ctx, sc.Region, *bucket, *key, v, maxS3Zip)
	var se *S3Error
	switch {
	case errors.As(err, &se):
		// AWS's words (../shared/aws-snapshots, test_lambda_code_location_s3_errors).
		return nil, errInvalidParameter("Error occurred while GetObject. S3 Error Code: %s. S3 Error Message: %s", se.Code, se.Message)
	case err != nil:
		return nil, errInvalidParameter("Error occurred while GetObject from lamb's --s3-endpoint: %v", err)
	}
	return data, nil
}

func errS3Unsupported() *awsError {
	return errInvalidParameter("lamb fetches code from S3 (S3Bucket/S3Key) only when started with --s3-endpoint URL (LocalStack, MinIO, moto's server, real S3). " +
		"Upload the zip directly (ZipFile, e.g. aws lambda create-function --zip-file fileb://code.zip), or use S3Bucket hot-reload with S3Key a folder.")
}
