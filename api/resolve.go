package api

import "regexp"

// functionNamePatternText is the pattern AWS prints in its ValidationException
// for a bad function name.
const functionNamePatternText = `(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?`

// functionNamePattern is the same pattern with named groups for the parts.
var functionNamePattern = regexp.MustCompile(`^(?:arn:(?:aws[a-zA-Z-]*)?:lambda:)?` +
	`(?:(?P<region>(?:eusc-)?[a-z]{2}(?:(?:-gov)|(?:-iso(?:[a-z]?)))?-[a-z]+-\d{1}):)?` +
	`(?:(?P<account>\d{12}):)?(?:function:)?(?P<name>[a-zA-Z0-9-_]+)(?::(?P<qualifier>\$LATEST|[a-zA-Z0-9-_]+))?$`)

// functionRef is a parsed FunctionName: a bare name plus what the caller said
// about account, region and qualifier.
type functionRef struct {
	Raw       string
	Name      string
	Account   string // from an ARN or partial ARN; "" if not given
	Region    string // from an ARN; "" if not given
	Qualifier string // from name:qualifier or the Qualifier query; "" if none
}

// arn is the function's ARN in sc, qualified when the caller gave a qualifier.
func (f functionRef) arn(sc scope) string {
	if f.Qualifier != "" {
		return functionArn(sc, f.Name) + ":" + f.Qualifier
	}
	return functionArn(sc, f.Name)
}

// notFoundArn is the ARN AWS prints in "Function not found": qualified when a
// qualifier was given.
func (f functionRef) notFoundArn(sc scope) string {
	a := functionArn(sc, f.Name)
	if f.Account != "" && f.Account != sc.Account {
		a = functionArn(scope{Account: f.Account, Region: sc.Region}, f.Name)
	}
	if f.Qualifier != "" {
		a += ":" + f.Qualifier
	}
	return a
}

// splitFunctionName adds raw's length and pattern failures to v (a pattern
// failure after a length failure, as AWS lists them), answers v's error if
// any, and otherwise splits raw into pattern's named groups.
func splitFunctionName(v *validationError, raw string, maxLen int, pattern *regexp.Regexp, patternText string) (functionRef, error) {
	if len(raw) > maxLen {
		v.add(raw, "functionName", functionNameLength(maxLen))
	}
	g := matchGroups(pattern, raw)
	if g == nil {
		v.add(raw, "functionName", "Member must satisfy regular expression pattern: "+patternText)
	}
	if err := v.err(); err != nil {
		return functionRef{}, err
	}
	return functionRef{Raw: raw, Region: g["region"], Account: g["account"], Name: g["name"], Qualifier: g["qualifier"]}, nil
}

// matchGroups is pattern's match of s by group name (a later group of the
// same name wins), or nil when s does not match.
func matchGroups(pattern *regexp.Regexp, s string) map[string]string {
	m := pattern.FindStringSubmatch(s)
	if m == nil {
		return nil
	}
	g := map[string]string{}
	for i, name := range pattern.SubexpNames() {
		if name != "" {
			g[name] = m[i]
		}
	}
	return g
}

// parseFunctionName validates raw (a name, ARN, partial ARN or name:qualifier)
// as AWS does and checks it addresses sc. maxLen is the model's length limit
// for the member (140 for FunctionName, 64 for CreateFunction's name).
func parseFunctionName(raw string, sc scope, maxLen int) (functionRef, error) {
	var v validationError
	ref, err := splitFunctionName(&v, raw, maxLen, functionNamePattern, functionNamePatternText)
	if err != nil {
		return functionRef{}, err
	}
	if len(ref.Name) > 64 {
		// AWS answers this one as InvalidParameterValueException, not ValidationException.
		return functionRef{}, errInvalidParameter("1 validation error detected: Value '%s' at 'functionName' failed to satisfy constraint: Member must have length less than or equal to 64", raw)
	}
	if ref.Region != "" && ref.Region != sc.Region {
		return functionRef{}, errNotFound("Functions from '%s' are not reachable in this region ('%s')", ref.Region, sc.Region)
	}
	return ref, nil
}

// resolveFunction parses the {FunctionName} label and the Qualifier query of c.
// A qualifier in the name and a different one in the query conflict, as on AWS.
func resolveFunction(c *call) (functionRef, error) {
	if c.Op != nil && namespacedOps[c.Op.Name] {
		return resolveNamespaced(c) // function_name_namespaced.go
	}
	ref, err := parseFunctionName(c.Labels["FunctionName"], c.Scope, 140)
	if err != nil {
		return functionRef{}, err
	}
	return qualify(c, ref)
}

// latestOnly fails for qualifiers other than $LATEST: lamb has no published
// versions or aliases yet, so any other qualifier names nothing.
func latestOnly(ref functionRef, sc scope) error {
	if ref.Qualifier == "" || ref.Qualifier == "$LATEST" {
		return nil
	}
	return errFunctionNotFound(ref.notFoundArn(sc))
}
