package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/lambhq/lamb/engine"
	"github.com/lambhq/lamb/functionurl"
	"github.com/lambhq/lamb/store"
)

// Function URLs are served on lamb's own port by the functionurl gateway; a
// request reaches a config by host name ("<url-id>.lambda-url.<region>.<anything>")
// or by the path form /_lamb/urls/<url-id>/<path>. What the gateway needs of
// the API (the stored configs, who may call them, the function to invoke) is
// urlHost.

// urlGateway is the function URL gateway of s.
func (s *Server) urlGateway() *functionurl.Gateway {
	return &functionurl.Gateway{Host: urlHost{s}, Log: s.log}
}

// urlHostID returns the url-id and region a function URL host name carries.
func urlHostID(host string) (id, region string, ok bool) { return functionurl.HostID(host) }

// serveURLByHost serves r if its host names a function URL; false otherwise.
func (s *Server) serveURLByHost(w http.ResponseWriter, r *http.Request) bool {
	return s.urlGateway().ServeByHost(w, r)
}

// serveURLByPath serves /_lamb/urls/<url-id>/<path> (rest is what follows /_lamb/urls/).
func (s *Server) serveURLByPath(w http.ResponseWriter, r *http.Request, rest string) {
	s.urlGateway().ServeByPath(w, r, "/_lamb/urls/", rest)
}

// urlHost is the API's side of the gateway (functionurl.Host).
type urlHost struct{ s *Server }

// gatewayConfig is what the gateway needs of a stored config.
func (u *urlRecord) gatewayConfig() *functionurl.Config {
	return &functionurl.Config{
		URLID: u.URLID, Account: u.Account, Region: u.Region, Function: u.Function, Qualifier: u.Qualifier,
		AuthType: u.AuthType, InvokeMode: u.invokeMode(), Cors: u.Cors,
	}
}

// record is the part of the stored config c came from that policy checks read.
func record(c *functionurl.Config) *urlRecord {
	return &urlRecord{
		Account: c.Account, Region: c.Region, Function: c.Function, Qualifier: c.Qualifier,
		URLID: c.URLID, AuthType: c.AuthType, InvokeMode: c.InvokeMode, Cors: c.Cors,
	}
}

func (h urlHost) Lookup(ctx context.Context, id, region string) (*functionurl.Config, error) {
	u, found, err := h.s.lookupURL(ctx, id)
	if err != nil {
		return nil, err
	}
	if !found || (region != "" && region != u.Region) {
		return nil, functionurl.ErrNotFound
	}
	if h.s.cfg.Engine == nil {
		return nil, &functionurl.Error{Status: http.StatusInternalServerError, Message: "lamb: this server runs no engine"}
	}
	return u.gatewayConfig(), nil
}

var errURLForbidden = &functionurl.Error{Status: http.StatusForbidden, Message: "Forbidden"}

func (h urlHost) Authorize(w http.ResponseWriter, r *http.Request, c *functionurl.Config) error {
	s, ctx, u := h.s, r.Context(), record(c)
	if u.AuthType == "NONE" && !s.cfg.URLsWithoutPolicy {
		gaps, err := s.urlPublicGaps(ctx, u)
		if err != nil {
			return err
		}
		if len(gaps) > 0 {
			// AWS's answer to a NONE URL its policy does not make public.
			s.log.DebugContext(ctx, "function url not public", "id", u.URLID, "why", strings.Join(gaps, "; "))
			return errURLForbidden
		}
	}
	if u.AuthType == "AWS_IAM" {
		// A request must be signed (verified when lamb has --credentials, as
		// the API's), and by a caller the function's policy lets in.
		if !functionurl.SigV4Signed(r) {
			return errURLForbidden
		}
		r.Body = http.MaxBytesReader(w, r.Body, functionurl.MaxRequestBytes)
		if err := s.authenticate(r); err != nil {
			if ae := (*awsError)(nil); errors.As(err, &ae) && ae.Code == "RequestEntityTooLargeException" {
				return &functionurl.Error{Status: http.StatusRequestEntityTooLarge, Message: "Request must be smaller than 6291456 bytes for the InvokeFunction operation"}
			}
			return errURLForbidden
		}
		ok, err := s.urlCallerAllowed(r, u)
		if err != nil {
			return err
		}
		if !ok {
			return errURLForbidden
		}
	}
	return nil
}

func (h urlHost) Target(ctx context.Context, c *functionurl.Config) (*engine.Function, *engine.Request, error) {
	u := record(c)
	fn, err := h.s.loadQualified(ctx, u.scope(), functionRef{Name: u.Function, Qualifier: u.Qualifier}, pickWeighted)
	if err != nil {
		var ae *awsError
		if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
			return nil, nil, functionurl.ErrNotFound
		}
		return nil, nil, err
	}
	info := fn.info()
	efn, err := h.s.engineFunction(info)
	if err != nil {
		return nil, nil, &functionurl.Error{Status: http.StatusInternalServerError, Message: "Internal Server Error"}
	}
	invoked := info.FunctionArn
	if u.Qualifier != "" {
		invoked += ":" + u.Qualifier
	}
	return efn, &engine.Request{RequestID: newRequestID(), InvokedARN: invoked, TraceID: traceID()}, nil
}

func (h urlHost) Invoke(ctx context.Context, fn *engine.Function, req *engine.Request) (*engine.Result, error) {
	return h.s.cfg.Engine.Invoke(ctx, fn, req)
}

func (h urlHost) InvokeStream(ctx context.Context, fn *engine.Function, req *engine.Request) (functionurl.Stream, error) {
	return h.s.openStream(ctx, fn, req)
}

// urlCallerAllowed reports whether the signer of an AWS_IAM request may call
// the URL. Callers of the function's own account may (lamb has no identity
// policies that could deny them); others need a statement of the resource
// policy of the URL's function or alias (policy.go) that allows
// lambda:InvokeFunctionUrl (or lambda:*) to them, with a
// lambda:FunctionUrlAuthType condition, if any, of AWS_IAM.
func (s *Server) urlCallerAllowed(r *http.Request, u *urlRecord) (bool, error) {
	caller := s.requestScope(r).Account
	if caller == u.Account {
		return true, nil
	}
	var doc policyDoc
	err := s.store.View(r.Context(), func(tx store.Tx) error {
		return tx.Get(bucketPolicies, qualifierKey(u.scope(), u.Function, u.Qualifier), &doc)
	})
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	for _, raw := range doc.Statements {
		if statementAllowsURL(raw, caller) {
			return true, nil
		}
	}
	return false, nil
}

// statementAllowsURL reports whether one policy statement lets caller (an
// account id) invoke a function URL with AWS_IAM auth.
func statementAllowsURL(raw json.RawMessage, caller string) bool {
	st, ok := decodeAllow(raw) // policy.go
	if !ok || !st.allows("lambda:InvokeFunctionUrl") {
		return false
	}
	var principal struct{ AWS json.RawMessage }
	switch {
	case string(st.Principal) == `"*"`:
	case json.Unmarshal(st.Principal, &principal) == nil && principal.AWS != nil:
		if !anyOf(principal.AWS, func(p string) bool {
			return p == "*" || p == caller || strings.HasPrefix(p, "arn:aws:iam::"+caller+":")
		}) {
			return false
		}
	default:
		return false // service principals do not sign URL requests
	}
	for _, cond := range st.Condition {
		if v, ok := cond["lambda:FunctionUrlAuthType"]; ok && !anyOf(v, func(t string) bool { return t == "AWS_IAM" }) {
			return false
		}
	}
	return true
}

// anyOf reports whether a JSON string, or any string of a JSON list, matches.
func anyOf(raw json.RawMessage, match func(string) bool) bool {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return match(one)
	}
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		for _, v := range list {
			if match(v) {
				return true
			}
		}
	}
	return false
}

// urlListEntry is one row of GET /_lamb/urls.
type urlListEntry struct {
	URLID       string `json:"urlId"`
	FunctionArn string `json:"functionArn"`
	AuthType    string `json:"authType"`
	InvokeMode  string `json:"invokeMode"`
	// NotPublic says why a NONE URL answers 403 to everyone: what its
	// resource policy lacks (empty: nothing, or an AWS_IAM URL).
	// PolicyCheckOff is set when the server serves such URLs anyway.
	NotPublic      []string `json:"notPublic,omitempty"`
	PolicyCheckOff bool     `json:"policyCheckOff,omitempty"`
	// FunctionURL is addressed by host name; PathURL reaches the same
	// function through lamb's own host, for clients that cannot set one.
	FunctionURL string `json:"functionUrl"`
	PathURL     string `json:"pathUrl"`
}

// serveURLList serves GET /_lamb/urls: every function URL of every account.
func (s *Server) serveURLList(w http.ResponseWriter, r *http.Request) {
	all, err := s.allURLs(r.Context())
	if err != nil {
		s.log.ErrorContext(r.Context(), "list function urls", "error", err)
		writeError(w, err)
		return
	}
	port := requestPort(r)
	out := make([]urlListEntry, 0, len(all))
	for _, u := range all {
		gaps, err := s.urlPublicGaps(r.Context(), u)
		if err != nil {
			s.log.ErrorContext(r.Context(), "list function urls", "error", err)
			writeError(w, err)
			return
		}
		out = append(out, urlListEntry{
			URLID: u.URLID, FunctionArn: u.functionArn(), AuthType: u.AuthType, InvokeMode: u.invokeMode(),
			NotPublic: gaps, PolicyCheckOff: len(gaps) > 0 && s.cfg.URLsWithoutPolicy,
			FunctionURL: functionURL(u.URLID, u.Region, port),
			PathURL:     "http://" + r.Host + "/_lamb/urls/" + u.URLID + "/",
		})
	}
	writeJSON(w, http.StatusOK, out)
}
