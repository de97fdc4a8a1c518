package api

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// SigV4 verification, for lamb started with --credentials. Without
// credentials lamb reads only the credential scope (account.go).
//
// The canonical request is built from what the client sent, byte for byte
// where SigV4 says so: the raw path (encoded once more, as every AWS SDK does
// for services other than S3), the query pairs re-encoded and sorted, and
// exactly the headers the client listed in SignedHeaders.

const (
	sigV4Algorithm  = "AWS4-HMAC-SHA256"
	sigV4TimeFormat = "20060102T150405Z"
	unsignedPayload = "UNSIGNED-PAYLOAD"
	// maxClockSkew is how far a header signature's time may be from lamb's
	// clock, as on AWS.
	maxClockSkew = 5 * time.Minute
)

// sigV4 is a parsed signature: from the Authorization header or, presigned,
// from the query.
type sigV4 struct {
	AccessKey     string
	Date          string // YYYYMMDD of the credential scope
	Region        string
	Service       string
	SignedHeaders []string // lower case, as listed
	Signature     string
	Time          time.Time     // X-Amz-Date (or Date)
	Expires       time.Duration // presigned only
	Presigned     bool
	// want is the service the signature must be scoped to; "" is "lambda".
	want string
}

func authError(code, format string, args ...any) *awsError {
	e := newError(code, format, args...)
	e.Status = http.StatusForbidden
	return e
}

func errIncompleteSignature(format string, args ...any) *awsError {
	return authError("IncompleteSignatureException", format, args...)
}

// parseSigV4 reads r's signature. It returns (nil, nil) for a request that
// carries none.
func parseSigV4(r *http.Request) (*sigV4, error) {
	if auth := r.Header.Get("Authorization"); auth != "" {
		return parseSigV4Header(auth, r.Header)
	}
	q := r.URL.Query()
	if q.Get("X-Amz-Algorithm") == "" && q.Get("X-Amz-Signature") == "" {
		return nil, nil
	}
	return parseSigV4Query(q)
}

func parseSigV4Header(auth string, h http.Header) (*sigV4, error) {
	alg, rest, _ := strings.Cut(auth, " ")
	if alg != sigV4Algorithm {
		return nil, errIncompleteSignature("Authorization header requires '%s' as its algorithm. Authorization=%s", sigV4Algorithm, auth)
	}
	params := map[string]string{}
	for _, p := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if ok {
			params[k] = v
		}
	}
	var missing []string
	for _, k := range []string{"Credential", "Signature", "SignedHeaders"} {
		if params[k] == "" {
			missing = append(missing, fmt.Sprintf("Authorization header requires '%s' parameter.", k))
		}
	}
	date := h.Get("X-Amz-Date")
	if date == "" {
		date = h.Get("Date")
	}
	if date == "" {
		missing = append(missing, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
	}
	if len(missing) > 0 {
		return nil, errIncompleteSignature("%s Authorization=%s", strings.Join(missing, " "), auth)
	}
	sig := &sigV4{Signature: params["Signature"], SignedHeaders: strings.Split(params["SignedHeaders"], ";")}
	if err := sig.setCredential(params["Credential"]); err != nil {
		return nil, err
	}
	if err := sig.setTime(date); err != nil {
		return nil, err
	}
	return sig, nil
}

func parseSigV4Query(q url.Values) (*sigV4, error) {
	var missing []string
	for _, k := range []string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-SignedHeaders", "X-Amz-Date"} {
		if q.Get(k) == "" {
			missing = append(missing, fmt.Sprintf("AWS query-string parameters must include '%s'.", k))
		}
	}
	if len(missing) > 0 {
		return nil, errIncompleteSignature("%s Re-examine the query-string parameters.", strings.Join(missing, " "))
	}
	if alg := q.Get("X-Amz-Algorithm"); alg != sigV4Algorithm {
		return nil, errIncompleteSignature("X-Amz-Algorithm only supports '%s'", sigV4Algorithm)
	}
	sig := &sigV4{Presigned: true, Signature: q.Get("X-Amz-Signature"), SignedHeaders: strings.Split(q.Get("X-Amz-SignedHeaders"), ";")}
	if err := sig.setCredential(q.Get("X-Amz-Credential")); err != nil {
		return nil, err
	}
	if err := sig.setTime(q.Get("X-Amz-Date")); err != nil {
		return nil, err
	}
	sig.Expires = 15 * time.Minute
	if e := q.Get("X-Amz-Expires"); e != "" {
		n, err := strconv.Atoi(e)
		if err != nil || n < 0 || n > 7*24*3600 {
			return nil, errIncompleteSignature("X-Amz-Expires must be an integer between 0 and 604800 (seconds), not %q", e)
		}
		sig.Expires = time.Duration(n) * time.Second
	}
	return sig, nil
}

// setCredential reads AKID/YYYYMMDD/REGION/SERVICE/aws4_request.
func (s *sigV4) setCredential(cred string) error {
	parts := strings.Split(cred, "/")
	if len(parts) != 5 || parts[0] == "" || len(parts[1]) != 8 || parts[2] == "" || parts[3] == "" || parts[4] != "aws4_request" {
		return errIncompleteSignature("Credential should be scoped to a valid region, not '%s'. Credential=%s", credPart(parts, 2), cred)
	}
	s.AccessKey, s.Date, s.Region, s.Service = parts[0], parts[1], parts[2], parts[3]
	return nil
}

func credPart(parts []string, i int) string {
	if i < len(parts) {
		return parts[i]
	}
	return ""
}

func (s *sigV4) setTime(v string) error {
	t, err := time.Parse(sigV4TimeFormat, v)
	if err != nil {
		// The Date header form (RFC 1123), which some clients sign instead.
		if t, err = http.ParseTime(v); err != nil {
			return errIncompleteSignature("Date must be in ISO-8601 'basic format'. Got '%s'. See http://en.wikipedia.org/wiki/ISO_8601", v)
		}
	}
	s.Time = t.UTC()
	return nil
}

// verify checks the signature against secret for r, whose body is body, at
// now. It answers AWS's 403 errors.
func (s *sigV4) verify(r *http.Request, secret string, body []byte, now time.Time) error {
	if s.Time.Format("20060102") != s.Date {
		return authError("InvalidSignatureException", "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from 'X-Amz-Date'.", s.Date, s.Time.Format("20060102"))
	}
	want := s.want
	if want == "" {
		want = "lambda"
	}
	if s.Service != want {
		return authError("InvalidSignatureException", "Credential should be scoped to correct service: '%s'. ", want)
	}
	if err := s.checkTime(now); err != nil {
		return err
	}
	hashes := []string{payloadHash(r, body)}
	if s.Presigned && hashes[0] != unsignedPayload {
		// Presigners differ: most hash the (empty) body, some sign UNSIGNED-PAYLOAD.
		hashes = append(hashes, unsignedPayload)
	}
	if h := r.Header.Get("X-Amz-Content-Sha256"); h != "" && h != unsignedPayload && !strings.HasPrefix(h, "STREAMING-") {
		if sum := sha256.Sum256(body); !strings.EqualFold(h, hex.EncodeToString(sum[:])) {
			return authError("InvalidSignatureException", "The provided 'x-amz-content-sha256' header does not match what was computed.")
		}
	}
	key := signingKey(secret, s.Date, s.Region, s.Service)
	got, err := hex.DecodeString(s.Signature)
	for _, normalise := range []bool{true, false} {
		for _, ph := range hashes {
			want := hmacSHA256(key, []byte(s.stringToSign(canonicalRequest(r, s, ph, normalise))))
			if err == nil && hmac.Equal(got, want) {
				return nil
			}
		}
		if rawPath(r) == removeDotSegments(rawPath(r)) {
			break // the same path either way
		}
	}
	return authError("InvalidSignatureException", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
}

func (s *sigV4) checkTime(now time.Time) error {
	now = now.UTC()
	stamp := s.Time.Format(sigV4TimeFormat)
	if s.Presigned {
		if end := s.Time.Add(s.Expires); now.After(end) {
			return authError("InvalidSignatureException", "Signature expired: %s is now earlier than %s (%s + %d sec. of X-Amz-Expires)",
				end.Format(sigV4TimeFormat), now.Format(sigV4TimeFormat), stamp, int(s.Expires/time.Second))
		}
		if s.Time.After(now.Add(maxClockSkew)) {
			return authError("InvalidSignatureException", "Signature not yet current: %s is still later than %s (%s + 5 min.)",
				stamp, now.Add(maxClockSkew).Format(sigV4TimeFormat), now.Format(sigV4TimeFormat))
		}
		return nil
	}
	if s.Time.Before(now.Add(-maxClockSkew)) {
		return authError("InvalidSignatureException", "Signature expired: %s is now earlier than %s (%s - 5 min.)",
			stamp, now.Add(-maxClockSkew).Format(sigV4TimeFormat), now.Format(sigV4TimeFormat))
	}
	if s.Time.After(now.Add(maxClockSkew)) {
		return authError("InvalidSignatureException", "Signature not yet current: %s is still later than %s (%s + 5 min.)",
			stamp, now.Add(maxClockSkew).Format(sigV4TimeFormat), now.Format(sigV4TimeFormat))
	}
	return nil
}

func payloadHash(r *http.Request, body []byte) string {
	if h := r.Header.Get("X-Amz-Content-Sha256"); h != "" {
		return h
	}
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

func (s *sigV4) stringToSign(canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
	return strings.Join([]string{
		sigV4Algorithm,
		s.Time.Format(sigV4TimeFormat),
		strings.Join([]string{s.Date, s.Region, s.Service, "aws4_request"}, "/"),
		hex.EncodeToString(sum[:]),
	}, "\n")
}

// rawPath and rawQuery are what the client sent, before Go's parsing
// normalised any escape.
func rawPath(r *http.Request) string {
	if strings.HasPrefix(r.RequestURI, "/") {
		p, _, _ := strings.Cut(r.RequestURI, "?")
		return p
	}
	return r.URL.EscapedPath()
}

func rawQuery(r *http.Request) string {
	if strings.HasPrefix(r.RequestURI, "/") {
		_, q, _ := strings.Cut(r.RequestURI, "?")
		return q
	}
	return r.URL.RawQuery
}

// canonicalRequest builds SigV4's canonical request. Most SDKs (botocore,
// the JS SDK) sign the path with dot segments removed, aws-sdk-go-v2 as
// sent: normalise picks which.
func canonicalRequest(r *http.Request, s *sigV4, payloadHash string, normalise bool) string {
	path := rawPath(r)
	if normalise {
		path = removeDotSegments(path)
	} else if path == "" {
		path = "/"
	}
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	b.WriteString(uriEncode(path, false))
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(rawQuery(r), s.Presigned))
	b.WriteByte('\n')
	for _, name := range s.SignedHeaders {
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(canonicalHeaderValue(r, name))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(s.SignedHeaders, ";"))
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String()
}

func canonicalHeaderValue(r *http.Request, name string) string {
	var vals []string
	switch name {
	case "host":
		vals = []string{r.Host}
	case "content-length":
		vals = r.Header.Values(name)
		if len(vals) == 0 && r.ContentLength >= 0 {
			vals = []string{strconv.FormatInt(r.ContentLength, 10)}
		}
	case "transfer-encoding":
		vals = r.TransferEncoding
	default:
		vals = r.Header.Values(name)
	}
	for i, v := range vals {
		vals[i] = strings.Join(strings.Fields(v), " ")
	}
	return strings.Join(vals, ",")
}

func canonicalQuery(raw string, presigned bool) string {
	type pair struct{ k, v string }
	var pairs []pair
	for _, p := range strings.Split(raw, "&") {
		if p == "" {
			continue
		}
		k, v, _ := strings.Cut(p, "=")
		k, v = queryUnescape(k), queryUnescape(v)
		if presigned && k == "X-Amz-Signature" {
			continue
		}
		pairs = append(pairs, pair{uriEncode(k, true), uriEncode(v, true)})
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	parts := make([]string, len(pairs))
	for i, p := range pairs {
		parts[i] = p.k + "=" + p.v
	}
	return strings.Join(parts, "&")
}

func queryUnescape(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// uriEncode is SigV4's UriEncode: every byte but the unreserved ones (and
// '/' unless encodeSlash) as %XX with upper-case hex.
func uriEncode(s string, encodeSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == '~':
			b.WriteByte(c)
		case c == '/' && !encodeSlash:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
	return b.String()
}

// removeDotSegments normalises a path as RFC 3986 says and SDKs do before
// signing; an empty path is "/".
func removeDotSegments(p string) string {
	if p == "" {
		return "/"
	}
	if !strings.Contains(p, "/.") {
		return p
	}
	var out []string
	segs := strings.Split(p, "/")
	for _, seg := range segs[1:] {
		switch seg {
		case ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, seg)
		}
	}
	res := "/" + strings.Join(out, "/")
	if last := segs[len(segs)-1]; (last == "." || last == "..") && !strings.HasSuffix(res, "/") {
		res += "/"
	}
	return res
}

func signingKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), []byte(date))
	k = hmacSHA256(k, []byte(region))
	k = hmacSHA256(k, []byte(service))
	return hmacSHA256(k, []byte("aws4_request"))
}

func hmacSHA256(key, data []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write(data)
	return h.Sum(nil)
}

// bufferedBody is a request body authenticate already read; decodeBody uses
// its bytes instead of copying them again.
type bufferedBody struct {
	*bytes.Reader
	data []byte
}

func (bufferedBody) Close() error { return nil }

// authenticate verifies r's signature when lamb has credentials. It reads
// the body (r.Body must already be limited) and puts it back, buffered.
// Without credentials every request passes. The error is AWS's.
func (s *Server) authenticate(r *http.Request) error { return s.authenticateFor(r, "lambda") }

// authenticateFor is authenticate for a signature scoped to service
// ("lambda", or "logs" for the CloudWatch Logs API).
func (s *Server) authenticateFor(r *http.Request, service string) error {
	if len(s.cfg.Credentials) == 0 {
		return nil
	}
	sig, err := parseSigV4(r)
	if err != nil {
		return err
	}
	if sig == nil {
		return authError("MissingAuthenticationTokenException", "Missing Authentication Token")
	}
	secret, ok := s.cfg.Credentials[sig.AccessKey]
	if !ok {
		return authError("UnrecognizedClientException", "The security token included in the request is invalid.")
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return fmt.Errorf("read request body: %w", err)
	}
	r.Body = bufferedBody{bytes.NewReader(body), body}
	sig.want = service
	return sig.verify(r, secret, body, s.cfg.Now())
}
