package main

import (
	"bufio"
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// loadCredentials reads --credentials values and --credentials-file lines
// (ACCESS_KEY:SECRET; blank lines and # comments skipped) into a map.
func loadCredentials(flags []string, file string) (map[string]string, error) {
	creds := map[string]string{}
	add := func(v, where string) error {
		akid, secret, ok := strings.Cut(strings.TrimSpace(v), ":")
		if !ok || akid == "" || secret == "" {
			return fmt.Errorf("%s: want ACCESS_KEY:SECRET, got %q", where, v)
		}
		creds[akid] = secret
		return nil
	}
	for _, v := range flags {
		// LAMB_CREDENTIALS=AK:S,AK:S arrives as one value.
		for _, one := range strings.Split(v, ",") {
			if err := add(one, "--credentials"); err != nil {
				return nil, err
			}
		}
	}
	if file != "" {
		f, err := os.Open(file)
		if err != nil {
			return nil, fmt.Errorf("--credentials-file: %w", err)
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for n := 1; sc.Scan(); n++ {
			line := strings.TrimSpace(sc.Text())
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			if err := add(line, fmt.Sprintf("%s:%d", file, n)); err != nil {
				return nil, err
			}
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("--credentials-file: %w", err)
		}
	}
	return creds, nil
}

// checkExposure refuses to serve an address beyond loopback without
// credentials: anyone who reaches it could create and run code here.
func checkExposure(addr string, creds map[string]string, insecure bool) error {
	if len(creds) > 0 || insecure || isLoopbackHost(listenHost(addr)) {
		return nil
	}
	return fmt.Errorf("--addr %s is reachable from other machines, and without credentials anyone who reaches it can create and run functions on this one: "+
		"give --credentials ACCESS_KEY:SECRET (or --credentials-file), or --insecure-no-auth to serve it open anyway", addr)
}

func listenHost(addr string) string {
	h, _, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if h == "" {
		return "0.0.0.0" // ":3001" listens on every address
	}
	return h
}

func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// httpClient is what lamb's client commands use: it signs each request with
// SigV4 when AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are set, so they
// work against a lamb started with --credentials.
var httpClient = &http.Client{Transport: signingTransport{next: http.DefaultTransport}}

type signingTransport struct{ next http.RoundTripper }

func (t signingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	akid, secret := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
	if akid == "" || secret == "" {
		return t.next.RoundTrip(req)
	}
	var body []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("sign request: %w", err)
		}
		body = b
	}
	req = req.Clone(req.Context())
	req.Body = io.NopCloser(bytes.NewReader(body))
	sum := sha256.Sum256(body)
	region := cmp.Or(os.Getenv("AWS_REGION"), os.Getenv("AWS_DEFAULT_REGION"), "us-east-1")
	creds := aws.Credentials{AccessKeyID: akid, SecretAccessKey: secret, SessionToken: os.Getenv("AWS_SESSION_TOKEN")}
	if err := v4.NewSigner().SignHTTP(req.Context(), creds, req, hex.EncodeToString(sum[:]), "lambda", region, time.Now()); err != nil {
		return nil, fmt.Errorf("sign request: %w", err)
	}
	return t.next.RoundTrip(req)
}
