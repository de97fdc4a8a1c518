package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strings"

	"github.com/lambhq/lamb/store"
)

// Resource-based policies of functions (per qualifier) and layer versions.
// lamb stores and answers them exactly as AWS writes them. It enforces them
// only where a request's caller is known to be outside the account: function
// URLs (AWS_IAM callers of other accounts, function_url_gateway.go, and the
// public of a NONE URL, publicURLGaps below).

// policyDoc is a stored policy: its statements in the order they were added,
// and its own RevisionID. A function's policy change hands the same new
// RevisionId to the function, version or alias it belongs to, but the two
// part afterwards: PublishVersion moves $LATEST's RevisionId and leaves the
// policy's alone (AWS, recorded 2025), and AddPermission/RemovePermission
// check the policy's.
type policyDoc struct {
	Statements []json.RawMessage `json:"statements"`
	RevisionID string            `json:"revisionId,omitempty"`
}

// loadPolicy reads the policy at bucket/key; none is an empty one.
func loadPolicy(tx store.Tx, bucket, key string) (*policyDoc, error) {
	var p policyDoc
	if err := tx.Get(bucket, key, &p); err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	return &p, nil
}

// existingPolicy is loadPolicy answering missing when the policy has no
// statement.
func existingPolicy(tx store.Tx, bucket, key string, missing error) (*policyDoc, error) {
	p, err := loadPolicy(tx, bucket, key)
	if err == nil && len(p.Statements) == 0 {
		return nil, missing
	}
	return p, err
}

// kv is one member of a JSON object written in a fixed order (AWS's).
type kv struct {
	k string
	v any
}

type orderedObject []kv

func (o orderedObject) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(m.k)
		b.Write(k)
		b.WriteByte(':')
		v, err := json.Marshal(m.v)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// policyJSON renders a policy document as AWS does.
func policyJSON(statements []json.RawMessage) string {
	b, _ := json.Marshal(orderedObject{
		{"Version", "2012-10-17"}, {"Id", "default"}, {"Statement", statements},
	})
	return string(b)
}

func statementSid(raw json.RawMessage) string {
	var s struct{ Sid string }
	_ = json.Unmarshal(raw, &s)
	return s.Sid
}

func (p *policyDoc) find(sid string) int {
	for i, st := range p.Statements {
		if statementSid(st) == sid {
			return i
		}
	}
	return -1
}

var (
	statementIDPattern   = regexp.MustCompile(`^[a-zA-Z0-9-_]+$`)
	permissionActionText = `(lambda:[*]|lambda:[a-zA-Z]+|[*])`
	permissionAction     = regexp.MustCompile(`^` + permissionActionText + `$`)
	policyQualifierText  = `\$(LATEST(\.PUBLISHED)?)|[a-zA-Z0-9-_$]+`
	policyQualifier      = regexp.MustCompile(`^(` + policyQualifierText + `)$`)
	servicePrincipal     = regexp.MustCompile(`^[a-z0-9.-]+\.amazonaws\.com(\.cn)?$|^[a-z0-9.-]+\.amazon\.com$`)
)

func errPolicyPrecondition(api string) *awsError {
	e := errPreconditionFailed()
	e.Message = "The Revision Id provided does not match the latest Revision Id. Call the " + api + " API to retrieve the latest Revision Id"
	return e
}

// principalJSON turns AddPermission's Principal into the statement's.
func principalJSON(p string) (any, error) {
	switch {
	case p == "*":
		return "*", nil
	case accountIDPattern.MatchString(p):
		return orderedObject{{"AWS", "arn:aws:iam::" + p + ":root"}}, nil
	case strings.HasPrefix(p, "arn:"):
		return orderedObject{{"AWS", p}}, nil
	case servicePrincipal.MatchString(p):
		return orderedObject{{"Service", p}}, nil
	}
	return nil, errInvalidParameter("The provided principal was invalid. Please check the principal and try again.")
}

type addPermissionInput struct {
	StatementID         *string `json:"StatementId"`
	Action              *string `json:"Action"`
	Principal           *string `json:"Principal"`
	SourceArn           *string `json:"SourceArn"`
	SourceAccount       *string `json:"SourceAccount"`
	EventSourceToken    *string `json:"EventSourceToken"`
	RevisionID          *string `json:"RevisionId"`
	PrincipalOrgID      *string `json:"PrincipalOrgID"`
	FunctionURLAuthType *string `json:"FunctionUrlAuthType"`
	InvokedViaFunction  *bool   `json:"InvokedViaFunctionUrl"`
}

// policyTarget is the function, version or alias a permission operation
// addresses, with the RevisionId the policy shares.
type policyTarget struct {
	key      string // qualifierKey
	resource string // the statement's Resource
	latest   *functionRecord
	version  *functionRecord // a published version, or nil
	alias    *aliasRecord    // an alias, or nil
}

// policyRevision is the RevisionId a permission operation checks and
// GetPolicy shows: the policy's own, or the target's while it has none
// (policies stored before policies kept their own RevisionId included).
func (t *policyTarget) policyRevision(p *policyDoc) string {
	if len(p.Statements) > 0 && p.RevisionID != "" {
		return p.RevisionID
	}
	return t.revision()
}

func (t *policyTarget) revision() string {
	switch {
	case t.alias != nil:
		return t.alias.RevisionID
	case t.version != nil:
		return t.version.RevisionID
	}
	return t.latest.RevisionID
}

// bump gives the target the policy's new RevisionId rev, as a policy change
// does on AWS.
func (t *policyTarget) bump(tx store.Tx, rev string) error {
	sc := t.latest.scope()
	switch {
	case t.alias != nil:
		t.alias.RevisionID = rev
		return tx.Put(bucketAliases, aliasKey(sc, t.latest.Name, t.alias.Name), t.alias)
	case t.version != nil:
		t.version.RevisionID = rev
		return tx.Put(bucketVersions, versionKey(sc, t.latest.Name, t.version.Version), t.version)
	}
	t.latest.RevisionID = rev
	return tx.Put(bucketFunctions, functionKey(sc, t.latest.Name), t.latest)
}

// loadPolicyTarget resolves ref for the permission operations. missingFn is
// the error for an absent function.
func loadPolicyTarget(tx store.Tx, sc scope, ref functionRef, missingFn error) (*policyTarget, error) {
	latest, err := loadFunctionOr(tx, sc, ref.Name, missingFn)
	if err != nil {
		return nil, err
	}
	t := &policyTarget{key: qualifierKey(sc, ref.Name, ref.Qualifier), resource: latest.arn(), latest: latest}
	q := ref.Qualifier
	if q == "" {
		return t, nil
	}
	t.resource += ":" + q
	switch {
	case isVersionNumber(q):
		t.version, err = loadVersion(tx, sc, ref.Name, q)
		if errors.Is(err, store.ErrNotFound) {
			return nil, errFunctionNotFound(latest.arn() + ":" + q)
		}
	case strings.Contains(q, "$"):
		return nil, errFunctionNotFound(latest.arn() + ":" + q)
	default:
		t.alias, err = loadAlias(tx, sc, ref.Name, q)
		if errors.Is(err, store.ErrNotFound) {
			return nil, errNotFound("Cannot find alias arn: %s:%s", latest.arn(), q)
		}
	}
	if err != nil {
		return nil, err
	}
	return t, nil
}

// permissionRef resolves {FunctionName} and ?Qualifier with the qualifier
// constraint of the policy operations.
func permissionRef(c *call) (functionRef, error) {
	if q := c.Query.Get("Qualifier"); q != "" && !policyQualifier.MatchString(q) {
		var v validationError
		v.add(q, "qualifier", "Member must satisfy regular expression pattern: "+policyQualifierText)
		return functionRef{}, v.err()
	}
	if q := c.Query.Get("Qualifier"); strings.Contains(q, "$") && q != "$LATEST" {
		// resolveFunction's name pattern refuses '$' in a qualifier; AWS
		// accepts it here and then finds nothing.
		c2 := *c
		c2.Query = cloneValues(c.Query)
		c2.Query.Del("Qualifier")
		ref, err := resolveFunction(&c2)
		if err != nil {
			return functionRef{}, err
		}
		if ref.Qualifier != "" && ref.Qualifier != q {
			return functionRef{}, errInvalidParameter("The derived qualifier from the function name does not match the specified qualifier.")
		}
		ref.Qualifier = q
		return ref, nil
	}
	return resolveFunction(c)
}

func cloneValues(v map[string][]string) map[string][]string {
	out := make(map[string][]string, len(v))
	for k, x := range v {
		out[k] = append([]string(nil), x...)
	}
	return out
}

// addPermission serves AddPermission (201).
func (s *Server) addPermission(w http.ResponseWriter, r *http.Request, c *call) error {
	ref, in, err := readRequest[addPermissionInput](r, c, permissionRef)
	if err != nil {
		return err
	}
	var v validationError
	switch {
	case in.StatementID == nil:
		v.null("statementId")
	case len(*in.StatementID) > 100 || !statementIDPattern.MatchString(*in.StatementID):
		v.add(*in.StatementID, "statementId", "Member must satisfy regular expression pattern: ([a-zA-Z0-9-_]+)")
	}
	switch {
	case in.Action == nil:
		v.null("action")
	case !permissionAction.MatchString(*in.Action):
		v.add(*in.Action, "action", "Member must satisfy regular expression pattern: "+permissionActionText)
	}
	if in.Principal == nil {
		v.null("principal")
	}
	if err := v.err(); err != nil {
		return err
	}
	if ref.Qualifier == "$LATEST" {
		return errInvalidParameter("We currently do not support adding policies for $LATEST.")
	}
	principal, err := principalJSON(*in.Principal)
	if err != nil {
		return err
	}
	var statement json.RawMessage
	err = s.store.Update(r.Context(), func(tx store.Tx) error {
		t, err := loadPolicyTarget(tx, c.Scope, ref, errFunctionNotFound(functionArn(c.Scope, ref.Name)))
		if err != nil {
			return err
		}
		p, err := loadPolicy(tx, bucketPolicies, t.key)
		if err != nil {
			return err
		}
		if in.RevisionID != nil && *in.RevisionID != "" && *in.RevisionID != t.policyRevision(p) {
			// AWS names GetPolicy here even while the function has no policy
			// yet (recorded 2025; in 2022 it named GetFunction/GetAlias).
			return errPolicyPrecondition("GetPolicy")
		}
		if p.find(*in.StatementID) >= 0 {
			return errConflict("The statement id (%s) provided already exists. Please provide a new statement id, or remove the existing statement.", *in.StatementID)
		}
		st := orderedObject{{"Sid", *in.StatementID}, {"Effect", "Allow"}, {"Principal", principal},
			{"Action", *in.Action}, {"Resource", t.resource}}
		var eq, like orderedObject
		if in.SourceAccount != nil {
			eq = append(eq, kv{"AWS:SourceAccount", *in.SourceAccount})
		}
		if in.FunctionURLAuthType != nil {
			eq = append(eq, kv{"lambda:FunctionUrlAuthType", *in.FunctionURLAuthType})
		}
		if in.InvokedViaFunction != nil && *in.InvokedViaFunction {
			eq = append(eq, kv{"lambda:InvokedViaFunctionUrl", "true"})
		}
		if in.PrincipalOrgID != nil {
			eq = append(eq, kv{"aws:PrincipalOrgID", *in.PrincipalOrgID})
		}
		if in.EventSourceToken != nil {
			eq = append(eq, kv{"lambda:EventSourceToken", *in.EventSourceToken})
		}
		if in.SourceArn != nil {
			like = append(like, kv{"AWS:SourceArn", *in.SourceArn})
		}
		var cond orderedObject
		if len(eq) > 0 {
			cond = append(cond, kv{"StringEquals", eq})
		}
		if len(like) > 0 {
			cond = append(cond, kv{"ArnLike", like})
		}
		if len(cond) > 0 {
			st = append(st, kv{"Condition", cond})
		}
		statement, err = json.Marshal(st)
		if err != nil {
			return err
		}
		p.Statements = append(p.Statements, statement)
		p.RevisionID = newRevisionID()
		if err := tx.Put(bucketPolicies, t.key, p); err != nil {
			return err
		}
		return t.bump(tx, p.RevisionID)
	})
	if err != nil {
		return err
	}
	return reply(w, c, map[string]string{"Statement": string(statement)})
}

// getPolicy serves GetPolicy.
func (s *Server) getPolicy(w http.ResponseWriter, r *http.Request, c *call) error {
	ref, err := permissionRef(c)
	if err != nil {
		return err
	}
	missing := errLayerNotFound() // "The resource you requested does not exist."
	var out map[string]string
	err = s.store.View(r.Context(), func(tx store.Tx) error {
		t, err := loadPolicyTarget(tx, c.Scope, ref, missing)
		if err != nil {
			var ae *awsError
			if errors.As(err, &ae) && ae.Code == "ResourceNotFoundException" {
				return missing
			}
			return err
		}
		p, err := existingPolicy(tx, bucketPolicies, t.key, missing)
		if err != nil {
			return err
		}
		out = map[string]string{"Policy": policyJSON(p.Statements), "RevisionId": t.policyRevision(p)}
		return nil
	})
	if err != nil {
		return err
	}
	return reply(w, c, out)
}

// removePermission serves RemovePermission (204).
func (s *Server) removePermission(w http.ResponseWriter, r *http.Request, c *call) error {
	ref, err := permissionRef(c)
	if err != nil {
		return err
	}
	sid := c.Labels["StatementId"]
	rev := c.Query.Get("RevisionId")
	err = s.store.Update(r.Context(), func(tx store.Tx) error {
		t, err := loadPolicyTarget(tx, c.Scope, ref, errNotFound("No policy found for: %s", functionArn(c.Scope, ref.Name)))
		if err != nil {
			return err
		}
		p, err := existingPolicy(tx, bucketPolicies, t.key, errNotFound("No policy is associated with the given resource."))
		if err != nil {
			return err
		}
		if rev != "" && rev != t.policyRevision(p) {
			// Recorded 2022, unqualified: GetFunction/GetAlias (no newer
			// recording of this error).
			if t.alias != nil || t.version != nil {
				return errPolicyPrecondition("GetPolicy")
			}
			return errPreconditionFailed()
		}
		i := p.find(sid)
		if i < 0 {
			return errNotFound("Statement %s is not found in resource policy.", sid)
		}
		p.Statements = append(p.Statements[:i], p.Statements[i+1:]...)
		p.RevisionID = newRevisionID()
		if len(p.Statements) == 0 {
			if err := tx.Delete(bucketPolicies, t.key); err != nil {
				return err
			}
		} else if err := tx.Put(bucketPolicies, t.key, p); err != nil {
			return err
		}
		return t.bump(tx, p.RevisionID)
	})
	if err != nil {
		return err
	}
	return replyEmpty(w, c)
}

// Layer version policies.

func layerPolicyTarget(tx store.Tx, sc scope, name string, version int64) (*layerVersionRecord, error) {
	l, err := loadLayerVersion(tx, sc, name, version)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNotFound("Layer version %s:%d does not exist.", layerArn(sc, name), version)
	}
	return l, err
}

// addLayerVersionPermission serves AddLayerVersionPermission (201).
func (s *Server) addLayerVersionPermission(w http.ResponseWriter, r *http.Request, c *call) error {
	sc, name, version, err := layerVersionLabel(c)
	if err != nil {
		return err
	}
	var in struct {
		StatementID    *string `json:"StatementId"`
		Action         *string `json:"Action"`
		Principal      *string `json:"Principal"`
		OrganizationID *string `json:"OrganizationId"`
	}
	if err := decodeBody(r, c, &in); err != nil {
		return err
	}
	var v validationError
	if in.StatementID == nil {
		v.null("statementId")
	} else if !statementIDPattern.MatchString(*in.StatementID) {
		v.add(*in.StatementID, "statementId", "Member must satisfy regular expression pattern: ([a-zA-Z0-9-_]+)")
	}
	if in.Action == nil {
		v.null("action")
	} else if *in.Action != "lambda:GetLayerVersion" {
		v.add(*in.Action, "action", "Member must satisfy regular expression pattern: lambda:GetLayerVersion")
	}
	if in.Principal == nil {
		v.null("principal")
	} else if *in.Principal != "*" && !accountIDPattern.MatchString(*in.Principal) && !strings.HasPrefix(*in.Principal, "arn:") {
		v.add(*in.Principal, "principal", `Member must satisfy regular expression pattern: \d{12}|\*|arn:(aws[a-zA-Z-]*):iam::\d{12}:root`)
	}
	if err := v.err(); err != nil {
		return err
	}
	var out map[string]string
	err = s.store.Update(r.Context(), func(tx store.Tx) error {
		l, err := layerPolicyTarget(tx, sc, name, version)
		if err != nil {
			return err
		}
		key := layerVersionKey(sc, name, version)
		p, err := loadPolicy(tx, bucketLayerPolicies, key)
		if err != nil {
			return err
		}
		if rev := c.Query.Get("RevisionId"); rev != "" && rev != p.RevisionID {
			return errPolicyPrecondition("GetLayerPolicy")
		}
		if p.find(*in.StatementID) >= 0 {
			return errConflict("The statement id (%s) provided already exists. Please provide a new statement id, or remove the existing statement.", *in.StatementID)
		}
		var principal any = "*"
		switch {
		case accountIDPattern.MatchString(*in.Principal):
			principal = orderedObject{{"AWS", "arn:aws:iam::" + *in.Principal + ":root"}}
		case *in.Principal != "*":
			principal = orderedObject{{"AWS", *in.Principal}}
		}
		st := orderedObject{{"Sid", *in.StatementID}, {"Effect", "Allow"}, {"Principal", principal},
			{"Action", *in.Action}, {"Resource", l.versionArn()}}
		if in.OrganizationID != nil {
			st = append(st, kv{"Condition", orderedObject{{"StringEquals", orderedObject{{"aws:PrincipalOrgID", *in.OrganizationID}}}}})
		}
		raw, err := json.Marshal(st)
		if err != nil {
			return err
		}
		p.Statements = append(p.Statements, raw)
		p.RevisionID = newRevisionID()
		out = map[string]string{"Statement": string(raw), "RevisionId": p.RevisionID}
		return tx.Put(bucketLayerPolicies, key, p)
	})
	if err != nil {
		return err
	}
	return reply(w, c, out)
}

// getLayerVersionPolicy serves GetLayerVersionPolicy.
func (s *Server) getLayerVersionPolicy(w http.ResponseWriter, r *http.Request, c *call) error {
	sc, name, version, err := layerVersionLabel(c)
	if err != nil {
		return err
	}
	var out map[string]string
	err = s.store.View(r.Context(), func(tx store.Tx) error {
		if _, err := layerPolicyTarget(tx, sc, name, version); err != nil {
			return err
		}
		p, err := existingPolicy(tx, bucketLayerPolicies, layerVersionKey(sc, name, version), errNotFound("No policy is associated with the given resource."))
		if err != nil {
			return err
		}
		out = map[string]string{"Policy": policyJSON(p.Statements), "RevisionId": p.RevisionID}
		return nil
	})
	if err != nil {
		return err
	}
	return reply(w, c, out)
}

// removeLayerVersionPermission serves RemoveLayerVersionPermission (204).
func (s *Server) removeLayerVersionPermission(w http.ResponseWriter, r *http.Request, c *call) error {
	sc, name, version, err := layerVersionLabel(c)
	if err != nil {
		return err
	}
	sid := c.Labels["StatementId"]
	rev := c.Query.Get("RevisionId")
	err = s.store.Update(r.Context(), func(tx store.Tx) error {
		if _, err := layerPolicyTarget(tx, sc, name, version); err != nil {
			return err
		}
		key := layerVersionKey(sc, name, version)
		p, err := loadPolicy(tx, bucketLayerPolicies, key)
		if err != nil {
			return err
		}
		if rev != "" && rev != p.RevisionID {
			return errPolicyPrecondition("GetLayerPolicy")
		}
		i := p.find(sid)
		if i < 0 {
			return errNotFound("Statement %s is not found in resource policy.", sid)
		}
		p.Statements = append(p.Statements[:i], p.Statements[i+1:]...)
		p.RevisionID = newRevisionID()
		return tx.Put(bucketLayerPolicies, key, p)
	})
	if err != nil {
		return err
	}
	return replyEmpty(w, c)
}

// Public access to a function URL with AuthType NONE. Since October 2025 AWS
// serves such a URL only when the resource policy of its function (or alias)
// grants the public both lambda:InvokeFunctionUrl and lambda:InvokeFunction
// ("Starting in October 2025, new function URLs will require both
// lambda:InvokeFunctionUrl and lambda:InvokeFunction permissions", and "your
// function's resource-based policy is always in effect and must grant public
// access before your function URL can receive requests":
// docs.aws.amazon.com/lambda/latest/dg/urls-auth.html); otherwise the URL
// answers 403 {"Message":"Forbidden"}.

// The grants a public URL needs, as AddPermission writes them for
// --principal "*" with --function-url-auth-type NONE (and, for
// InvokeFunction, optionally --invoked-via-function-url).
const (
	needURLGrant    = `no statement allows lambda:InvokeFunctionUrl to "*" (with condition lambda:FunctionUrlAuthType NONE)`
	needInvokeGrant = `no statement allows lambda:InvokeFunction to "*"`
)

// publicURLGaps answers what the policy doc (nil: none) lacks for a public
// NONE URL: nothing when both grants are there.
func publicURLGaps(doc *policyDoc) []string {
	var urlOK, invokeOK bool
	if doc != nil {
		for _, raw := range doc.Statements {
			u, i := publicGrants(raw)
			urlOK, invokeOK = urlOK || u, invokeOK || i
		}
	}
	var gaps []string
	if !urlOK {
		gaps = append(gaps, needURLGrant)
	}
	if !invokeOK {
		gaps = append(gaps, needInvokeGrant)
	}
	return gaps
}

// allowStatement is what the function URL checks read of a policy statement.
type allowStatement struct {
	Effect    string
	Action    json.RawMessage
	Principal json.RawMessage
	Condition map[string]map[string]json.RawMessage
}

// decodeAllow decodes one policy statement; ok only for a well-formed Allow.
func decodeAllow(raw json.RawMessage) (st allowStatement, ok bool) {
	if json.Unmarshal(raw, &st) != nil || st.Effect != "Allow" {
		return st, false
	}
	return st, true
}

// allows reports whether the statement's Action covers action.
func (st *allowStatement) allows(action string) bool {
	return anyOf(st.Action, func(a string) bool { return a == action || a == "lambda:*" || a == "*" })
}

// publicGrants reports whether one statement lets anyone call a NONE URL
// (lambda:InvokeFunctionUrl) and invoke the function through it
// (lambda:InvokeFunction). A statement counts only when its conditions, if
// any, are ones a request to a NONE URL meets: lambda:FunctionUrlAuthType
// NONE, and for InvokeFunction also lambda:InvokedViaFunctionUrl true.
func publicGrants(raw json.RawMessage) (invokeURL, invoke bool) {
	st, ok := decodeAllow(raw)
	if !ok {
		return false, false
	}
	var principal struct{ AWS json.RawMessage }
	public := string(st.Principal) == `"*"` ||
		(json.Unmarshal(st.Principal, &principal) == nil && principal.AWS != nil && anyOf(principal.AWS, func(p string) bool { return p == "*" }))
	if !public {
		return false, false
	}
	met := func(allowed map[string]string) bool {
		for _, keys := range st.Condition {
			for k, v := range keys {
				want, ok := allowed[k]
				if !ok || !anyOf(v, func(s string) bool { return s == want }) {
					return false
				}
			}
		}
		return true
	}
	invokeURL = st.allows("lambda:InvokeFunctionUrl") && met(map[string]string{"lambda:FunctionUrlAuthType": "NONE"})
	invoke = st.allows("lambda:InvokeFunction") &&
		met(map[string]string{"lambda:FunctionUrlAuthType": "NONE", "lambda:InvokedViaFunctionUrl": "true"})
	return invokeURL, invoke
}

// urlPublicGaps answers what keeps the NONE URL u from being public (nothing
// for a public one, or for AWS_IAM URLs, which urlCallerAllowed checks).
func (s *Server) urlPublicGaps(ctx context.Context, u *urlRecord) ([]string, error) {
	if u.AuthType != "NONE" {
		return nil, nil
	}
	var doc *policyDoc
	err := s.store.View(ctx, func(tx store.Tx) error {
		var d policyDoc
		err := tx.Get(bucketPolicies, qualifierKey(u.scope(), u.Function, u.Qualifier), &d)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		doc = &d
		return err
	})
	if err != nil {
		return nil, err
	}
	return publicURLGaps(doc), nil
}
