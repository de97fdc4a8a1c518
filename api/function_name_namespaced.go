package api

import (
	"fmt"
	"regexp"
)

// AWS's newer operations take a NamespacedFunctionName (names may hold dots,
// the qualifier may be $LATEST.PUBLISHED, up to 256 characters) and a
// NumericLatestPublishedOrAliasQualifier query. Their validation differs from
// the older FunctionName members: no 64-character check on the bare name
// (AWS answers "Function not found"), and the Qualifier query is validated
// too, reported before the name.

// namespacedOps are the operations whose FunctionName member targets
// NamespacedFunctionName in the model.
var namespacedOps = map[string]bool{
	"AddPermission": true, "CreateEventSourceMapping": true, "DeleteFunctionCodeSigningConfig": true,
	"DeleteFunctionEventInvokeConfig": true, "DeleteFunction": true, "GetFunctionCodeSigningConfig": true,
	"GetFunctionConfiguration": true, "GetFunctionEventInvokeConfig": true, "GetFunction": true,
	"GetPolicy": true, "GetRuntimeManagementConfig": true, "Invoke": true, "InvokeAsync": true,
	"InvokeWithResponseStream": true, "ListDurableExecutionsByFunction": true, "ListEventSourceMappings": true,
	"ListFunctionEventInvokeConfigs": true, "ListVersionsByFunction": true, "PutFunctionCodeSigningConfig": true,
	"PutFunctionEventInvokeConfig": true, "PutRuntimeManagementConfig": true, "RemovePermission": true,
	"UpdateEventSourceMapping": true, "UpdateFunctionEventInvokeConfig": true,
}

// namespacedQualifierOps validate their Qualifier query as the model's
// NumericLatestPublishedOrAliasQualifier.
var namespacedQualifierOps = map[string]bool{
	"AddPermission": true, "DeleteFunctionEventInvokeConfig": true, "DeleteFunction": true,
	"GetFunctionConfiguration": true, "GetFunctionEventInvokeConfig": true, "GetFunction": true,
	"GetPolicy": true, "GetRuntimeManagementConfig": true, "Invoke": true, "InvokeWithResponseStream": true,
	"ListDurableExecutionsByFunction": true, "PutFunctionEventInvokeConfig": true,
	"PutRuntimeManagementConfig": true, "RemovePermission": true, "UpdateFunctionEventInvokeConfig": true,
}

// namespacedNamePatternText is the pattern AWS prints for a bad
// NamespacedFunctionName.
const namespacedNamePatternText = `(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+))?`

var namespacedNamePattern = regexp.MustCompile(`^(?:arn:(?:aws[a-zA-Z-]*)?:lambda:)?` +
	`(?:(?P<region>(?:eusc-)?[a-z]{2}(?:(?:-gov)|(?:-iso(?:[a-z]?)))?-[a-z]+-\d{1}):)?` +
	`(?:(?P<account>\d{12}):)?(?:function:)?(?P<name>[a-zA-Z0-9-_\.]+)(?::(?P<qualifier>\$LATEST(?:\.PUBLISHED)?|[a-zA-Z0-9-_]+))?$`)

// qualifierPatternText is the pattern AWS prints for a bad Qualifier query.
const qualifierPatternText = `\$(LATEST(\.PUBLISHED)?)|[a-zA-Z0-9-_$]+`

// qualifierPattern is the model's pattern as written: its alternation binds
// the anchors to one branch each.
var qualifierPattern = regexp.MustCompile(`^\$(LATEST(\.PUBLISHED)?)|[a-zA-Z0-9-_$]+$`)

// resolveNamespaced is resolveFunction for the operations in namespacedOps.
func resolveNamespaced(c *call) (functionRef, error) {
	raw := c.Labels["FunctionName"]
	q, hasQ := c.Query["Qualifier"]
	var v validationError
	if hasQ && len(q) > 0 && namespacedQualifierOps[c.Op.Name] {
		switch {
		case len(q[0]) > 128:
			v.add(q[0], "qualifier", "Member must have length less than or equal to 128")
		case !qualifierPattern.MatchString(q[0]):
			v.add(q[0], "qualifier", "Member must satisfy regular expression pattern: "+qualifierPatternText)
		}
	}
	ref, err := splitFunctionName(&v, raw, 256, namespacedNamePattern, namespacedNamePatternText)
	if err != nil {
		return functionRef{}, err
	}
	if ref.Region != "" && ref.Region != c.Scope.Region {
		return functionRef{}, errNotFound("Functions from '%s' are not reachable in this region ('%s')", ref.Region, c.Scope.Region)
	}
	return qualify(c, ref)
}

// qualify applies the Qualifier query to ref and refuses another account's
// function, as resolveFunction does.
func qualify(c *call, ref functionRef) (functionRef, error) {
	if q := c.Query.Get("Qualifier"); q != "" {
		if ref.Qualifier != "" && ref.Qualifier != q {
			return functionRef{}, errInvalidParameter("The derived qualifier from the function name does not match the specified qualifier.")
		}
		ref.Qualifier = q
	}
	if ref.Account != "" && ref.Account != c.Scope.Account {
		// Another account's function: AWS answers 403 without a message.
		return functionRef{}, newError("AccessDeniedException", "")
	}
	return ref, nil
}

// functionNameLength is the constraint text for a name over maxLen.
func functionNameLength(maxLen int) string {
	return fmt.Sprintf("Member must have length less than or equal to %d", maxLen)
}
