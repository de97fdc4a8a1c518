package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"

	"github.com/lambhq/lamb/ziparchive"
)

// functionCode is the model's FunctionCode (CreateFunction's Code member).
type functionCode struct {
	ZipFile         []byte  `json:"ZipFile"` // base64 in JSON; encoding/json decodes it
	S3Bucket        *string `json:"S3Bucket"`
	S3Key           *string `json:"S3Key"`
	S3ObjectVersion *string `json:"S3ObjectVersion"`
	ImageURI        *string `json:"ImageUri"`
}

// storedZip is a validated zip kept in the store's blobs.
type storedZip struct {
	SHA256Hex    string
	SHA256       string // base64, as AWS shows CodeSha256
	Size         int64
	UnzippedSize int64
}

func errBadZip() *awsError {
	return errInvalidParameter("Could not unzip uploaded file. Please check your file, then try to upload again.")
}

// checkZip validates data as a deployment package within AWS's limits
// (extraUnzipped is what layers add to the unzipped total).
func checkZip(data []byte, extraUnzipped int64) (storedZip, error) {
	if len(data) > maxZippedBytes {
		return storedZip{}, newError("RequestEntityTooLargeException", "Zipped size must be smaller than %d bytes", maxZippedBytes)
	}
	info, err := ziparchive.Validate(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		if errors.Is(err, ziparchive.ErrTooLarge) {
			return storedZip{}, errInvalidParameter("Unzipped size must be smaller than %d bytes", maxUnzippedBytes)
		}
		if errors.Is(err, ziparchive.ErrInvalid) {
			return storedZip{}, errBadZip()
		}
		return storedZip{}, fmt.Errorf("validate zip: %w", err)
	}
	if info.UnzippedSize+extraUnzipped > maxUnzippedBytes {
		return storedZip{}, errInvalidParameter("Unzipped size must be smaller than %d bytes", maxUnzippedBytes)
	}
	sum := sha256.Sum256(data)
	return storedZip{
		SHA256:       base64.StdEncoding.EncodeToString(sum[:]),
		Size:         int64(len(data)),
		UnzippedSize: info.UnzippedSize,
	}, nil
}

// codeURL is where a client that asked through r downloads a blob: lamb's
// own /_lamb/code endpoint, on the host the client used.
func codeURL(r *http.Request, sha256hex string) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return fmt.Sprintf("%s://%s/_lamb/code/%s.zip", scheme, r.Host, sha256hex)
}
