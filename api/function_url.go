package api

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/lambhq/lamb/functionurl"
	"github.com/lambhq/lamb/store"
)

// Function URL configurations (Create/Get/Update/Delete/ListFunctionUrlConfigs).
// A config belongs to the function itself (qualifier "") or to one alias, and
// is stored per qualifier, so deleting the function or the alias forgets it
// (schema.go). Its url-id is indexed separately for the URL server
// (function_url_gateway.go); an index entry whose config is gone or has another
// id is ignored, so the index never needs to be cleaned in the same step.

// urlTimeLayout is how AWS prints CreationTime and LastModifiedTime of URL configs.
const urlTimeLayout = "2006-01-02T15:04:05.000000Z"

// urlRecord is a function URL config as stored.
type urlRecord struct {
	Account   string `json:"account"`
	Region    string `json:"region"`
	Function  string `json:"function"`
	Qualifier string `json:"qualifier,omitempty"` // alias name, "" for the function itself
	URLID     string `json:"urlId"`
	AuthType  string `json:"authType"`
	// InvokeMode "" means never set: BUFFERED.
	InvokeMode   string    `json:"invokeMode,omitempty"`
	Cors         *urlCors  `json:"cors,omitempty"`
	CreationTime time.Time `json:"creationTime"`
	LastModified time.Time `json:"lastModified"`
}

// urlRef is the url-id index entry.
type urlRef struct {
	Account   string `json:"account"`
	Region    string `json:"region"`
	Function  string `json:"function"`
	Qualifier string `json:"qualifier,omitempty"`
}

// urlCors is the model's Cors shape, as the gateway reads it.
type urlCors = functionurl.CORS

func (u *urlRecord) scope() scope { return scope{Account: u.Account, Region: u.Region} }

func (u *urlRecord) functionArn() string {
	a := functionArn(u.scope(), u.Function)
	if u.Qualifier != "" {
		a += ":" + u.Qualifier
	}
	return a
}

func (u *urlRecord) invokeMode() string {
	if u.InvokeMode == "" {
		return "BUFFERED"
	}
	return u.InvokeMode
}

// urlHostSuffix is what follows "<url-id>.lambda-url.<region>." in lamb's URL host names.
const urlHostSuffix = functionurl.HostSuffix

// functionURL is lamb's directly usable URL for a config, on the port the
// caller reached lamb at (AWS's is https://<id>.lambda-url.<region>.on.aws/).
func functionURL(id, region, port string) string {
	host := id + ".lambda-url." + region + "." + urlHostSuffix
	if port != "" && port != "80" {
		host += ":" + port
	}
	return "http://" + host + "/"
}

// requestPort is the port in r's Host (the one the client used to reach lamb).
func requestPort(r *http.Request) string {
	if _, port, err := net.SplitHostPort(r.Host); err == nil {
		return port
	}
	return ""
}

// newURLID returns 32 random lowercase alphanumerics, like AWS's url-ids.
func newURLID() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	var b [32]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		// 256 % 36 = 4: the slight bias is irrelevant for an identifier.
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b[:])
}

var urlIDPattern = regexp.MustCompile(`^[a-z0-9]{32}$`)

// urlConfigOutput is the answer of the URL config operations. Which members
// appear follows AWS's recordings: Create and Update show InvokeMode only
// when the request set it; Get and List always show it.
type urlConfigOutput struct {
	AuthType         string   `json:"AuthType"`
	Cors             *urlCors `json:"Cors,omitempty"`
	CreationTime     string   `json:"CreationTime"`
	FunctionArn      string   `json:"FunctionArn"`
	FunctionUrl      string   `json:"FunctionUrl"`
	InvokeMode       string   `json:"InvokeMode,omitempty"`
	LastModifiedTime string   `json:"LastModifiedTime,omitempty"`
}

func (u *urlRecord) output(port string, lastModified, invokeMode bool) urlConfigOutput {
	o := urlConfigOutput{
		AuthType: u.AuthType, Cors: u.Cors, FunctionArn: u.functionArn(),
		CreationTime: u.CreationTime.UTC().Format(urlTimeLayout),
		FunctionUrl:  functionURL(u.URLID, u.Region, port),
	}
	if lastModified {
		o.LastModifiedTime = u.LastModified.UTC().Format(urlTimeLayout)
	}
	if invokeMode {
		o.InvokeMode = u.invokeMode()
	}
	return o
}

// urlConfigInput is the body of Create/UpdateFunctionUrlConfig.
type urlConfigInput struct {
	AuthType   *string  `json:"AuthType"`
	Cors       *urlCors `json:"Cors"`
	InvokeMode *string  `json:"InvokeMode"`
}

const urlQualifierPatternText = `((?!^\d+$)^[0-9a-zA-Z-_]+$)`

var urlQualifierPattern = regexp.MustCompile(`^[0-9a-zA-Z-_]+$`)

// resolveURLTarget parses {FunctionName} and ?Qualifier= for the URL config
// operations: the qualifier must be an alias name (not a number, not $LATEST).
func resolveURLTarget(c *call) (functionRef, error) {
	if q := c.Query.Get("Qualifier"); q != "" {
		if len(q) > 128 || !urlQualifierPattern.MatchString(q) || isAllDigits(q) {
			var v validationError
			v.add(q, "qualifier", "Member must satisfy regular expression pattern: "+urlQualifierPatternText)
			return functionRef{}, v.err()
		}
	}
	return resolveFunction(c)
}

func isAllDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

func (in *urlConfigInput) validate(create bool) error {
	var v validationError
	if in.AuthType == nil && create {
		v.add("null", "authType", "Member must not be null")
	}
	if in.AuthType != nil && *in.AuthType != "NONE" && *in.AuthType != "AWS_IAM" {
		v.add(*in.AuthType, "authType", "Member must satisfy enum value set: [AWS_IAM, NONE]")
	}
	if in.InvokeMode != nil && *in.InvokeMode != "BUFFERED" && *in.InvokeMode != "RESPONSE_STREAM" {
		v.add(*in.InvokeMode, "invokeMode", "Member must satisfy enum value set: [RESPONSE_STREAM, BUFFERED]") // AWS's order (LocalStack's test_lambda.snapshot.json, test_lambda_url_invalid_invoke_mode)
	}
	if c := in.Cors; c != nil {
		if c.MaxAge != nil && (*c.MaxAge < 0 || *c.MaxAge > 86400) {
			v.add(strconv.Itoa(int(*c.MaxAge)), "cors.maxAge", "Member must have value less than or equal to 86400")
		}
		for _, l := range []struct {
			member string
			list   []string
		}{{"cors.allowHeaders", c.AllowHeaders}, {"cors.allowOrigins", c.AllowOrigins}, {"cors.exposeHeaders", c.ExposeHeaders}} {
			if len(l.list) > 100 {
				v.add(strings.Join(l.list, ", "), l.member, "Member must have length less than or equal to 100")
			}
		}
		if len(c.AllowMethods) > 6 {
			v.add(strings.Join(c.AllowMethods, ", "), "cors.allowMethods", "Member must have length less than or equal to 6")
		}
		for _, m := range c.AllowMethods {
			if len(m) > 6 {
				v.add(m, "cors.allowMethods.member", "Member must have length less than or equal to 6")
			}
		}
	}
	return v.err()
}

// errURLFunctionNotFound is AWS's answer to Create/Update/List for a missing
// function or alias; errURLNotFound is Get/Delete's.
func errURLFunctionNotFound() *awsError { return errNotFound("Function does not exist") }
func errURLNotFound() *awsError         { return errNotFound("The resource you requested does not exist.") }

// urlTargetExists checks that the function (and the alias) exist.
func urlTargetExists(tx store.Tx, sc scope, ref functionRef) (bool, error) {
	if _, err := loadFunction(tx, sc, ref.Name); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return false, nil
		}
		return false, err
	}
	if ref.Qualifier == "" {
		return true, nil
	}
	if _, err := loadAlias(tx, sc, ref.Name, ref.Qualifier); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

// readURLConfigInput reads the target and the validated body of
// CreateFunctionUrlConfig (create) or UpdateFunctionUrlConfig.
func readURLConfigInput(r *http.Request, c *call, create bool) (functionRef, *urlConfigInput, error) {
	ref, in, err := readRequest[urlConfigInput](r, c, resolveURLTarget)
	if err != nil {
		return ref, nil, err
	}
	return ref, in, in.validate(create)
}

// requireURLFunction is AWS's not-found error for a config whose function or
// alias is missing.
func requireURLFunction(tx store.Tx, sc scope, ref functionRef) error {
	ok, err := urlTargetExists(tx, sc, ref)
	if err != nil {
		return err
	}
	if !ok {
		return errURLFunctionNotFound()
	}
	return nil
}

// createFunctionUrlConfig serves CreateFunctionUrlConfig (201).
func (s *Server) createFunctionUrlConfig(w http.ResponseWriter, r *http.Request, c *call) error {
	ref, in, err := readURLConfigInput(r, c, true)
	if err != nil {
		return err
	}
	now := time.Now()
	u := &urlRecord{
		Account: c.Scope.Account, Region: c.Scope.Region, Function: ref.Name, Qualifier: ref.Qualifier,
		AuthType: *in.AuthType, Cors: in.Cors, CreationTime: now, LastModified: now,
	}
	if in.InvokeMode != nil {
		u.InvokeMode = *in.InvokeMode
	}
	err = s.store.Update(r.Context(), func(tx store.Tx) error {
		if err := requireURLFunction(tx, c.Scope, ref); err != nil {
			return err
		}
		key := qualifierKey(c.Scope, ref.Name, ref.Qualifier)
		var existing urlRecord
		switch err := tx.Get(bucketFunctionURLs, key, &existing); {
		case err == nil:
			return errConflict("Failed to create function url config for [functionArn = %s]. Error message:  FunctionUrlConfig exists for this Lambda function", u.functionArn())
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		for {
			u.URLID = newURLID()
			var taken urlRef
			if err := tx.Get(bucketFunctionURLIDs, u.URLID, &taken); errors.Is(err, store.ErrNotFound) {
				break
			} else if err != nil {
				return err
			}
		}
		if err := tx.Put(bucketFunctionURLs, key, u); err != nil {
			return err
		}
		return tx.Put(bucketFunctionURLIDs, u.URLID, urlRef{Account: u.Account, Region: u.Region, Function: u.Function, Qualifier: u.Qualifier})
	})
	if err != nil {
		return err
	}
	return reply(w, c, u.output(requestPort(r), false, in.InvokeMode != nil))
}

// getFunctionUrlConfig serves GetFunctionUrlConfig.
func (s *Server) getFunctionUrlConfig(w http.ResponseWriter, r *http.Request, c *call) error {
	ref, err := resolveURLTarget(c)
	if err != nil {
		return err
	}
	var u urlRecord
	err = s.store.View(r.Context(), func(tx store.Tx) error {
		return loadURLConfig(tx, c.Scope, ref, &u)
	})
	if err != nil {
		return err
	}
	return reply(w, c, u.output(requestPort(r), true, true))
}

// loadURLConfig reads the config of ref; AWS's not-found error when the
// function, the alias or the config is missing.
func loadURLConfig(tx store.Tx, sc scope, ref functionRef, u *urlRecord) error {
	ok, err := urlTargetExists(tx, sc, ref)
	if err != nil {
		return err
	}
	if !ok {
		return errURLNotFound()
	}
	err = tx.Get(bucketFunctionURLs, qualifierKey(sc, ref.Name, ref.Qualifier), u)
	if errors.Is(err, store.ErrNotFound) {
		return errURLNotFound()
	}
	return err
}

// updateFunctionUrlConfig serves UpdateFunctionUrlConfig: members present in
// the request replace the stored ones.
func (s *Server) updateFunctionUrlConfig(w http.ResponseWriter, r *http.Request, c *call) error {
	ref, in, err := readURLConfigInput(r, c, false)
	if err != nil {
		return err
	}
	var u urlRecord
	err = s.store.Update(r.Context(), func(tx store.Tx) error {
		if err := requireURLFunction(tx, c.Scope, ref); err != nil {
			return err
		}
		key := qualifierKey(c.Scope, ref.Name, ref.Qualifier)
		if err := tx.Get(bucketFunctionURLs, key, &u); errors.Is(err, store.ErrNotFound) {
			return errURLNotFound()
		} else if err != nil {
			return err
		}
		if in.AuthType != nil {
			u.AuthType = *in.AuthType
		}
		if in.Cors != nil {
			u.Cors = in.Cors
		}
		if in.InvokeMode != nil {
			u.InvokeMode = *in.InvokeMode
		}
		u.LastModified = time.Now()
		return tx.Put(bucketFunctionURLs, key, &u)
	})
	if err != nil {
		return err
	}
	return reply(w, c, u.output(requestPort(r), true, in.InvokeMode != nil))
}

// deleteFunctionUrlConfig serves DeleteFunctionUrlConfig (204).
func (s *Server) deleteFunctionUrlConfig(w http.ResponseWriter, r *http.Request, c *call) error {
	ref, err := resolveURLTarget(c)
	if err != nil {
		return err
	}
	err = s.store.Update(r.Context(), func(tx store.Tx) error {
		var u urlRecord
		if err := loadURLConfig(tx, c.Scope, ref, &u); err != nil {
			return err
		}
		if err := tx.Delete(bucketFunctionURLIDs, u.URLID); err != nil {
			return err
		}
		return tx.Delete(bucketFunctionURLs, qualifierKey(c.Scope, ref.Name, ref.Qualifier))
	})
	if err != nil {
		return err
	}
	return replyEmpty(w, c)
}

type listURLConfigsOutput struct {
	FunctionUrlConfigs []urlConfigOutput `json:"FunctionUrlConfigs"`
	NextMarker         string            `json:"NextMarker,omitempty"`
}

// listFunctionUrlConfigs serves ListFunctionUrlConfigs: the function's own
// config first, then its aliases' in name order.
func (s *Server) listFunctionUrlConfigs(w http.ResponseWriter, r *http.Request, c *call) error {
	ref, err := resolveFunction(c)
	if err != nil {
		return err
	}
	maxItems := 50
	if m := c.Query.Get("MaxItems"); m != "" {
		n, err := strconv.Atoi(m)
		if err != nil || n < 1 || n > 50 {
			var v validationError
			v.add(m, "maxItems", "Member must have value less than or equal to 50")
			if err == nil && n < 1 {
				v = validationError{}
				v.add(m, "maxItems", "Member must have value greater than or equal to 1")
			}
			return v.err()
		}
		maxItems = n
	}
	p, err := newPage[urlConfigOutput](c, maxItems)
	if err != nil {
		return err
	}
	port := requestPort(r)
	err = s.store.View(r.Context(), func(tx store.Tx) error {
		if _, err := loadFunctionOr(tx, c.Scope, ref.Name, errURLFunctionNotFound()); err != nil {
			return err
		}
		// The function's own config (qualifier "") is keyed prefix itself:
		// it comes first, so it never starts a later page.
		prefix := functionKey(c.Scope, ref.Name) + "/"
		return scanPage(tx, p, bucketFunctionURLs, prefix, func(u *urlRecord) (string, urlConfigOutput, bool) {
			return u.Qualifier, u.output(port, true, true), true
		})
	})
	if err != nil {
		return err
	}
	return reply(w, c, listURLConfigsOutput{FunctionUrlConfigs: p.items, NextMarker: p.next})
}

// lookupURL finds the config a url-id names; ok is false when there is none.
func (s *Server) lookupURL(ctx context.Context, id string) (*urlRecord, bool, error) {
	if !urlIDPattern.MatchString(id) {
		return nil, false, nil
	}
	var u urlRecord
	found := false
	err := s.store.View(ctx, func(tx store.Tx) error {
		var ref urlRef
		if err := tx.Get(bucketFunctionURLIDs, id, &ref); errors.Is(err, store.ErrNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		err := tx.Get(bucketFunctionURLs, qualifierKey(scope{Account: ref.Account, Region: ref.Region}, ref.Function, ref.Qualifier), &u)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		found = u.URLID == id
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("look up function url %s: %w", id, err)
	}
	return &u, found, nil
}

// allURLs lists every URL config of every account (GET /_lamb/urls).
func (s *Server) allURLs(ctx context.Context) ([]*urlRecord, error) {
	var all []*urlRecord
	err := s.store.View(ctx, func(tx store.Tx) (err error) {
		all, err = store.All[urlRecord](tx, bucketFunctionURLs, "")
		return err
	})
	return all, err
}

// trimHostPort strips a port from a Host header value.
func trimHostPort(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return strings.TrimSuffix(host, ".")
}
