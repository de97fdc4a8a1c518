package api

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// Re-enactment of TestLambdaFunction::test_function_name_and_qualifier_validation:
// invalid function names and qualifiers against get_function,
// delete_function, invoke and create_function (which gets name:qualifier).
// The recording keeps the error code and either the message or, for
// "N validation errors detected: a; b", the count and the list; runs of 'a'
// of the lengths the scenario used are written <a:len(N)>.

// nameCases are the recorded parameter sets: FunctionName and Qualifier.
var nameCases = []struct{ id, name, qualifier string }{
	{"function_name_is_single_invalid", "*", ""},
	{"invalid_characters_in_function_name", "my-function!", ""},
	{"invalid_characters_in_qualifier", "my-function", "invalid!"},
	{"qualifier_too_long0", "my-function", strings.Repeat("a", 129)},
	{"invalid_account_id_in_partial_arn", "invalid-account:function:my-function", ""},
	{"invalid_region_in_arn", "arn:aws:lambda:invalid-region:111111111111:function:my-function", ""},
	{"non_lambda_arn", "arn:aws:ec2:us-east-1:111111111111:instance:i-1234567890abcdef0", ""},
	{"function_name_too_long", strings.Repeat("a", 65), ""},
	{"function_name_too_long_and_invalid_region", "arn:aws:lambda:invalid-region:111111111111:function:my-function" + strings.Repeat("a", 170), ""},
	{"full_arn_and_qualifier_too_long_and_invalid_region", "arn:aws:lambda:invalid-region:111111111111:function:my-function-" + strings.Repeat("a", 170), strings.Repeat("a", 129)},
	{"qualifier_too_long1", "my-function", strings.Repeat("a", 65)},
	{"full_arn_with_multiple_qualifiers", "arn:aws:lambda:us-east-1:111111111111:function:my-function:1:2", ""},
	{"incomplete_arn", "arn:aws:lambda:us-east-1:111111111111:function", ""},
	{"partial_arn_with_extra_qualifier", "function:my-function:$LATEST:extra", ""},
	{"latest_version_with_additional_qualifier", "arn:aws:lambda:us-east-1:111111111111:function:my-function:$LATEST", "1"},
	{"lowercase_latest_qualifier", "arn:aws:lambda:us-east-1:111111111111:function:my-function", "$latest"},
	{"missing_region_in_arn", "arn:aws:lambda::111111111111:function:my-function", ""},
	{"missing_account_id_in_arn", "arn:aws:lambda:us-east-1::function:my-function", ""},
	{"misspelled_latest_in_arn", "arn:aws:lambda:us-east-1:111111111111:function:my-function:$LATES", ""},
	{"qualifier_too_long", "my-function", strings.Repeat("a", 129)},
	{"function_name_and_qualifier_too_long", "my-function", strings.Repeat("a", 65)},
}

var aRun = regexp.MustCompile(`<a:len\((\d+)\)>`)

// errorDigest renders an error response as the recording keeps it.
func errorDigest(view map[string]any) map[string]any {
	e, _ := view["Error"].(map[string]any)
	msg, _ := e["Message"].(string)
	code := e["Code"]
	head, rest, ok := strings.Cut(msg, " detected: ")
	if ok && (strings.HasSuffix(head, "validation error") || strings.HasSuffix(head, "validation errors")) {
		n, _ := strconv.Atoi(strings.Fields(head)[0])
		errs := []any{}
		for _, s := range strings.Split(rest, "; ") {
			errs = append(errs, s)
		}
		return map[string]any{"Code": code, "Count": float64(n), "Errors": errs}
	}
	return map[string]any{"Code": code, "Message": msg}
}

func init() {
	for _, nc := range nameCases {
		for _, op := range []string{"get_function", "delete_function", "invoke", "create_function"} {
			id := fmt.Sprintf("TestLambdaFunction::test_function_name_and_qualifier_validation[%s-%s]", nc.id, op)
			registerParity(id, nil, func(p *parity) {
				label := strings.TrimPrefix(op, "create_") // get_function_exception, ...
				if op == "create_function" {
					label = "create_function"
				}
				label += "_exception"
				if _, recorded := p.snap.labels[label]; !recorded {
					return // AWS accepted the create (nothing recorded)
				}
				var q *string
				if nc.qualifier != "" {
					q = aws.String(nc.qualifier)
				}
				if op == "create_function" {
					name := nc.name
					if nc.qualifier != "" {
						name += ":" + nc.qualifier
					}
					_, err := p.h.client.CreateFunction(p.ctx, &lambda.CreateFunctionInput{
						FunctionName: aws.String(name), Runtime: types.RuntimePython312, Role: aws.String(testRole),
						Handler: aws.String("index.handler"),
						Code:    &types.FunctionCode{ZipFile: zipOf(p.t, map[string]string{"index.py": "def handler(e, c):\n    return e\n"})},
					})
					if err == nil {
						p.t.Fatalf("CreateFunction %q succeeded", name)
					}
				} else {
					functionOps(p)[op](nc.name, q)
				}
				got := errorDigest(p.n.normalise(p.h.rec.lastResponse().boto3View(p.t), ""))
				want := expected(p.t, p.snap, label)
				// Undo the recording's placeholders for runs of 'a'.
				expanded := aRun.ReplaceAllStringFunc(fmt.Sprint(want), func(m string) string {
					n, _ := strconv.Atoi(aRun.FindStringSubmatch(m)[1])
					return strings.Repeat("a", n)
				})
				if fmt.Sprint(got) != expanded {
					p.t.Errorf("%s differs from AWS's recording:\n got: %v\nwant: %s", label, got, expanded)
					return
				}
				tallyParity(p.snap.id, label)
			})
		}
	}
}
