package api

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// TestPolicyRevisionIDs drives the RevisionId rules of function policies:
// one policy per qualifier, each with its own RevisionId that a policy change
// shares with its function, version or alias, and that PublishVersion and
// configuration updates leave alone.
func TestPolicyRevisionIDs(t *testing.T) {
	type env struct {
		t    *testing.T
		c    *lambda.Client
		name string
	}
	ctx := context.Background()
	add := func(e env, qualifier, sid, rev string) error {
		_, err := e.c.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String(e.name), StatementId: aws.String(sid),
			Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("s3.amazonaws.com"), Qualifier: optional(qualifier), RevisionId: optional(rev)})
		return err
	}
	remove := func(e env, qualifier, sid, rev string) error {
		_, err := e.c.RemovePermission(ctx, &lambda.RemovePermissionInput{FunctionName: aws.String(e.name), StatementId: aws.String(sid),
			Qualifier: optional(qualifier), RevisionId: optional(rev)})
		return err
	}
	policy := func(e env, qualifier string) (string, []string, error) {
		out, err := e.c.GetPolicy(ctx, getPolicyInput(e.name, qualifier))
		if err != nil {
			return "", nil, err
		}
		var sids []string
		for _, part := range strings.Split(aws.ToString(out.Policy), `"Sid":"`)[1:] {
			sid, _, _ := strings.Cut(part, `"`)
			sids = append(sids, sid)
		}
		return aws.ToString(out.RevisionId), sids, nil
	}
	fnRev := func(e env, qualifier string) string {
		in := &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(e.name)}
		if qualifier != "" {
			in.Qualifier = aws.String(qualifier)
		}
		out, err := e.c.GetFunctionConfiguration(ctx, in)
		if err != nil {
			e.t.Fatalf("GetFunctionConfiguration %s: %v", qualifier, err)
		}
		return aws.ToString(out.RevisionId)
	}
	publish := func(e env) {
		if _, err := e.c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String(e.name)}); err != nil {
			e.t.Fatalf("PublishVersion: %v", err)
		}
	}
	precondition := func(err error, api string) error {
		var pf *types.PreconditionFailedException
		if !errors.As(err, &pf) {
			return fmt.Errorf("want PreconditionFailedException, got %v", err)
		}
		if !strings.Contains(pf.ErrorMessage(), "Call the "+api+" API") {
			return fmt.Errorf("message %q does not name %s", pf.ErrorMessage(), api)
		}
		return nil
	}
	cases := []struct {
		name string
		run  func(e env) error
	}{
		{"the function's RevisionId is accepted while it has no policy, then shared", func(e env) error {
			rev := fnRev(e, "")
			if err := add(e, "", "a", rev); err != nil {
				return err
			}
			prev, _, err := policy(e, "")
			if err != nil {
				return err
			}
			if prev == rev || fnRev(e, "") != prev {
				return fmt.Errorf("policy %s, function %s, before %s: want one new RevisionId for both", prev, fnRev(e, ""), rev)
			}
			return nil
		}},
		{"a wrong RevisionId names GetPolicy even without a policy", func(e env) error {
			return precondition(add(e, "", "a", "wrong"), "GetPolicy")
		}},
		{"publish moves $LATEST's RevisionId, not the policy's, and copies nothing", func(e env) error {
			if err := add(e, "", "a", ""); err != nil {
				return err
			}
			before, _, err := policy(e, "")
			if err != nil {
				return err
			}
			publish(e)
			after, _, err := policy(e, "")
			if err != nil {
				return err
			}
			if after != before || fnRev(e, "") == before {
				return fmt.Errorf("policy %s -> %s, $LATEST %s", before, after, fnRev(e, ""))
			}
			var nf *types.ResourceNotFoundException
			if _, _, err := policy(e, "1"); !errors.As(err, &nf) {
				return fmt.Errorf("version 1 policy after publish: %v, want ResourceNotFoundException", err)
			}
			// The policy's RevisionId is checked, not $LATEST's.
			if err := precondition(add(e, "", "b", fnRev(e, "")), "GetPolicy"); err != nil {
				return err
			}
			return add(e, "", "b", after)
		}},
		{"a configuration update leaves the policy's RevisionId", func(e env) error {
			if err := add(e, "", "a", ""); err != nil {
				return err
			}
			before, _, _ := policy(e, "")
			if _, err := e.c.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String(e.name), Description: aws.String("x")}); err != nil {
				return err
			}
			waitUpdated(e.t, e.c, e.name)
			if after, _, _ := policy(e, ""); after != before {
				return fmt.Errorf("policy RevisionId %s -> %s", before, after)
			}
			return remove(e, "", "a", before)
		}},
		{"versions and aliases keep their own policies", func(e env) error {
			publish(e)
			if _, err := e.c.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String(e.name), Name: aws.String("live"), FunctionVersion: aws.String("1")}); err != nil {
				return err
			}
			for _, q := range []string{"", "1"} {
				if err := add(e, q, "s-"+q, fnRev(e, q)); err != nil {
					return fmt.Errorf("add to %q: %w", q, err)
				}
			}
			for _, q := range []string{"", "1"} {
				rev, sids, err := policy(e, q)
				if err != nil {
					return err
				}
				if len(sids) != 1 || sids[0] != "s-"+q {
					return fmt.Errorf("policy %q holds %v", q, sids)
				}
				if fnRev(e, q) != rev {
					return fmt.Errorf("policy %q RevisionId %s, its function %s", q, rev, fnRev(e, q))
				}
			}
			a, err := e.c.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String(e.name), Name: aws.String("live")})
			if err != nil {
				return err
			}
			if err := add(e, "live", "s-live", aws.ToString(a.RevisionId)); err != nil {
				return fmt.Errorf("add to the alias with its RevisionId: %w", err)
			}
			arev, sids, err := policy(e, "live")
			if err != nil || len(sids) != 1 || sids[0] != "s-live" || arev == aws.ToString(a.RevisionId) {
				return fmt.Errorf("alias policy %v %v (RevisionId %s, alias was %s)", sids, err, arev, aws.ToString(a.RevisionId))
			}
			if err := precondition(remove(e, "1", "s-1", "wrong"), "GetPolicy"); err != nil {
				return err
			}
			vrev, _, _ := policy(e, "1")
			if err := remove(e, "1", "s-1", vrev); err != nil {
				return err
			}
			if fnRev(e, "1") == vrev {
				return fmt.Errorf("RemovePermission left version 1's RevisionId at %s", vrev)
			}
			return nil
		}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Config{})
			e := env{t: t, c: h.client, name: fmt.Sprintf("polrev-%d", i)}
			h.createFunction(e.name, "python3.12", "index.handler", map[string]string{"index.py": "def handler(e, c):\n    return e\n"})
			if err := tc.run(e); err != nil {
				t.Fatal(err)
			}
		})
	}
}
