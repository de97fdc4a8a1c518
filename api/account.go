package api

import (
	"net/http"
	"regexp"
	"strings"
)

// scope is the account and region a request acts in.
type scope struct {
	Account string
	Region  string
}

var accountIDPattern = regexp.MustCompile(`^\d{12}$`)

// requestScope reads the account and region from the SigV4 credential scope
// (Credential=AKID/date/REGION/service/aws4_request) in the Authorization
// header or a presigned URL's X-Amz-Credential. Signatures are not verified:
// lamb is a local engine. An access key id of 12 digits is taken as the account
// id, so tests can act as several accounts; anything else maps to the default.
func (s *Server) requestScope(r *http.Request) scope {
	sc := scope{Account: s.cfg.AccountID, Region: s.cfg.Region}
	akid, region := credentialScope(r)
	if accountIDPattern.MatchString(akid) {
		sc.Account = akid
	}
	if region != "" {
		sc.Region = region
	}
	return sc
}

// credentialScope returns the access key id and region of the request's
// SigV4 credential scope; both empty for an unsigned request.
func credentialScope(r *http.Request) (akid, region string) {
	cred := ""
	if auth := r.Header.Get("Authorization"); auth != "" {
		if i := strings.Index(auth, "Credential="); i >= 0 {
			cred = auth[i+len("Credential="):]
			if j := strings.IndexAny(cred, ", "); j >= 0 {
				cred = cred[:j]
			}
		}
	} else {
		cred = r.URL.Query().Get("X-Amz-Credential")
	}
	parts := strings.Split(cred, "/")
	if len(parts) != 5 {
		return "", ""
	}
	return parts[0], parts[2]
}

// checkPassRole refuses an execution role of another account than the
// caller's, as AWS does (403 AccessDeniedException "Cross-account pass role
// is not allowed."). Only a caller whose account came from its credentials
// (a 12-digit access key id) is checked: requests that carry no account land
// in the default one, and refusing them every role of a made-up account
// (123456789012 in most tutorials and test suites) would break them for a
// distinction they never asked for.
func checkPassRole(r *http.Request, sc scope, role *string) error {
	if role == nil {
		return nil
	}
	akid, _ := credentialScope(r)
	if !accountIDPattern.MatchString(akid) {
		return nil
	}
	// arn:PARTITION:iam::ACCOUNT:role/NAME, already checked against rolePattern.
	if parts := strings.SplitN(*role, ":", 6); len(parts) == 6 && parts[4] != sc.Account {
		return newError("AccessDeniedException", "Cross-account pass role is not allowed.")
	}
	return nil
}
