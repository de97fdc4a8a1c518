package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/lambhq/lamb/api"
)

// s3Objects fetches code zips from --s3-endpoint with aws-sdk-go-v2's S3
// client: path-style addressing (local S3 servers rarely resolve bucket
// host names), one client per region, credentials from the usual AWS chain
// or, when it has none, placeholder ones (local servers do not verify them).
type s3Objects struct {
	endpoint string

	mu      sync.Mutex
	clients map[string]*s3.Client
}

var _ api.S3Objects = (*s3Objects)(nil)

// s3Code is --s3-endpoint's fetcher, nil without one (code from S3 is then
// refused with a message naming the flag).
func s3Code(endpoint string) api.S3Objects {
	if endpoint == "" {
		return nil
	}
	return &s3Objects{endpoint: endpoint, clients: map[string]*s3.Client{}}
}

func (o *s3Objects) client(ctx context.Context, region string) (*s3.Client, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if c := o.clients[region]; c != nil {
		return c, nil
	}
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(region))
	if err != nil {
		return nil, fmt.Errorf("s3: %w", err)
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		cfg.Credentials = credentials.NewStaticCredentialsProvider("lamb", "lamb", "")
	}
	c := s3.NewFromConfig(cfg, func(opts *s3.Options) {
		opts.BaseEndpoint = aws.String(o.endpoint)
		opts.UsePathStyle = true
	})
	o.clients[region] = c
	return c, nil
}

// GetObject implements api.S3Objects.
func (o *s3Objects) GetObject(ctx context.Context, region, bucket, key, version string, limit int64) ([]byte, error) {
	c, err := o.client(ctx, region)
	if err != nil {
		return nil, err
	}
	in := &s3.GetObjectInput{Bucket: &bucket, Key: &key}
	if version != "" {
		in.VersionId = &version
	}
	out, err := c.GetObject(ctx, in)
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return nil, &api.S3Error{Code: ae.ErrorCode(), Message: ae.ErrorMessage()}
	}
	if err != nil {
		return nil, fmt.Errorf("s3 %s: %w", o.endpoint, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(io.LimitReader(out.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("s3 %s: read s3://%s/%s: %w", o.endpoint, bucket, key, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("s3://%s/%s is larger than %d bytes", bucket, key, limit)
	}
	return data, nil
}
