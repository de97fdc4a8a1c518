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
	if len(parts) == 5 {
		if accountIDPattern.MatchString(parts[0]) {
			sc.Account = parts[0]
		}
		if parts[2] != "" {
			sc.Region = parts[2]
		}
	}
	return sc
}
