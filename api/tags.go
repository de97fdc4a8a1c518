package api

import (
	"errors"
	"net/http"
	"regexp"

	"github.com/lambhq/lamb/store"
)

// maxTags is AWS's limit of tags per resource.
const maxTags = 50

const taggableArnPatternText = `arn:(aws[a-zA-Z-]*):lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:(function:[a-zA-Z0-9-_]+(:(\$LATEST|[a-zA-Z0-9-_]+))?|layer:([a-zA-Z0-9-_]+)|code-signing-config:csc-[a-z0-9]{17}|event-source-mapping:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|capacity-provider:[a-zA-Z0-9-_]+)`

var taggableArnPattern = regexp.MustCompile(`^` + taggableArnPatternText + `$`)

func errTooManyTags() *awsError {
	return errInvalidParameter("Number of tags exceeds resource tag limit.")
}

// taggedFunction resolves the {Resource} label of the tag operations to a
// function; lamb tags functions only.
func taggedFunction(c *call) (functionRef, error) {
	arn := c.Labels["Resource"]
	if !taggableArnPattern.MatchString(arn) {
		var v validationError
		v.add(arn, "resource", "Member must satisfy regular expression pattern: "+taggableArnPatternText)
		return functionRef{}, v.err()
	}
	m := functionNamePattern.FindStringSubmatch(arn)
	if m == nil {
		return functionRef{}, errInvalidParameter("lamb supports tags on functions only: %s", arn)
	}
	ref, err := parseFunctionName(arn, c.Scope, 256)
	if err != nil {
		return functionRef{}, err
	}
	if ref.Qualifier != "" {
		return functionRef{}, errInvalidParameter("Tags on function aliases and versions are not supported. Please specify a function ARN.")
	}
	if ref.Account != c.Scope.Account {
		return functionRef{}, newError("AccessDeniedException", "")
	}
	return ref, nil
}

// changeTags applies change to a function's tags in one transaction.
func (s *Server) changeTags(r *http.Request, c *call, ref functionRef, change func(tags map[string]string) error) error {
	err := s.store.Update(r.Context(), func(tx store.Tx) error {
		f, err := loadFunction(tx, c.Scope, ref.Name)
		if err != nil {
			return err
		}
		if f.Tags == nil {
			f.Tags = map[string]string{}
		}
		if err := change(f.Tags); err != nil {
			return err
		}
		if len(f.Tags) == 0 {
			f.Tags = nil
		}
		// AWS gives the function a new RevisionId with every tag change
		// (recorded in TestLambdaTags::test_tag_lifecycle).
		f.RevisionID = newRevisionID()
		return tx.Put(bucketFunctions, functionKey(c.Scope, f.Name), f)
	})
	if errors.Is(err, store.ErrNotFound) {
		return errFunctionNotFound(ref.notFoundArn(c.Scope))
	}
	return err
}

// tagResource serves TagResource (204).
func (s *Server) tagResource(w http.ResponseWriter, r *http.Request, c *call) error {
	ref, err := taggedFunction(c)
	if err != nil {
		return err
	}
	var in struct {
		Tags map[string]string `json:"Tags"`
	}
	if err := decodeBody(r, c, &in); err != nil {
		return err
	}
	if len(in.Tags) == 0 {
		// AWS's own answer to an empty tag map.
		return errInvalidParameter("An error occurred and the request cannot be processed.")
	}
	err = s.changeTags(r, c, ref, func(tags map[string]string) error {
		for k, v := range in.Tags {
			tags[k] = v
		}
		if len(tags) > maxTags {
			return errTooManyTags()
		}
		return nil
	})
	if err != nil {
		return err
	}
	w.WriteHeader(c.Op.successCode())
	return nil
}

// untagResource serves UntagResource (204); absent keys are ignored.
func (s *Server) untagResource(w http.ResponseWriter, r *http.Request, c *call) error {
	ref, err := taggedFunction(c)
	if err != nil {
		return err
	}
	keys := c.Query["tagKeys"]
	if len(keys) == 0 {
		var v validationError
		v.problems = append(v.problems, "Value null at 'tagKeys' failed to satisfy constraint: Member must not be null")
		return v.err()
	}
	err = s.changeTags(r, c, ref, func(tags map[string]string) error {
		for _, k := range keys {
			delete(tags, k)
		}
		return nil
	})
	if err != nil {
		return err
	}
	w.WriteHeader(c.Op.successCode())
	return nil
}

// listTags serves ListTags.
func (s *Server) listTags(w http.ResponseWriter, r *http.Request, c *call) error {
	ref, err := taggedFunction(c)
	if err != nil {
		return err
	}
	f, err := s.loadFunctionRef(r.Context(), c, ref)
	if err != nil {
		return err
	}
	tags := f.Tags
	if tags == nil {
		tags = map[string]string{}
	}
	writeJSON(w, c.Op.successCode(), map[string]any{"Tags": tags})
	return nil
}
