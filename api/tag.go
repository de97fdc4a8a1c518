package api

import (
	"errors"
	"net/http"
	"regexp"
	"strings"

	"github.com/lambhq/lamb/store"
)

// maxTags is AWS's limit of tags per resource.
const maxTags = 50

const taggableArnPatternText = `arn:(aws[a-zA-Z-]*):lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:(function:[a-zA-Z0-9-_]+(:(\$LATEST|[a-zA-Z0-9-_]+))?|layer:([a-zA-Z0-9-_]+)|code-signing-config:csc-[a-z0-9]{17}|event-source-mapping:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|capacity-provider:[a-zA-Z0-9-_]+)`

var taggableArnPattern = regexp.MustCompile(`^` + taggableArnPatternText + `$`)

func errTooManyTags() *awsError {
	return errInvalidParameter("Number of tags exceeds resource tag limit.")
}

// Kinds of resource the tag operations serve.
const (
	taggedFunctionKind = "function"
	taggedESMKind      = "event-source-mapping"
	taggedProviderKind = "capacity-provider"
	taggedCSCKind      = "code-signing-config"
)

// taggedResource is what the {Resource} label of TagResource, UntagResource
// and ListTags names: a function, an event source mapping or a capacity
// provider of the caller's account and region.
type taggedResource struct {
	kind        string
	arn         string
	fn          functionRef // for functions
	id          string      // the mapping's UUID or the provider's name
	otherRegion bool        // the ARN names another region: nothing there is reachable here
}

// resolveTagged parses and checks the {Resource} label.
func resolveTagged(c *call) (taggedResource, error) {
	arn := c.Labels["Resource"]
	if !taggableArnPattern.MatchString(arn) {
		var v validationError
		v.add(arn, "resource", "Member must satisfy regular expression pattern: "+taggableArnPatternText)
		return taggedResource{}, v.err()
	}
	// The pattern fixes the layout: arn:partition:lambda:region:account:kind:id[:qualifier].
	parts := strings.SplitN(arn, ":", 7)
	res := taggedResource{kind: parts[5], arn: arn, id: parts[6], otherRegion: parts[3] != c.Scope.Region}
	if parts[4] != c.Scope.Account {
		return taggedResource{}, newError("AccessDeniedException", "")
	}
	switch res.kind {
	case taggedFunctionKind:
		ref, err := parseFunctionName(arn, c.Scope, 256)
		if err != nil {
			return taggedResource{}, err
		}
		if ref.Qualifier != "" {
			return taggedResource{}, errInvalidParameter("Tags on function aliases and versions are not supported. Please specify a function ARN.")
		}
		res.fn = ref
	case taggedESMKind, taggedProviderKind, taggedCSCKind:
	default:
		return taggedResource{}, errInvalidParameter("lamb does not support tags on %s resources: %s", res.kind, arn)
	}
	return res, nil
}

// notFound is AWS's answer for a tagged resource that does not exist.
func (res taggedResource) notFound(c *call) error {
	switch res.kind {
	case taggedESMKind:
		return errNotFound("Event source mapping not found: %s", res.arn)
	case taggedProviderKind:
		return errNotFound("Capacity provider not found: %s", res.arn)
	case taggedCSCKind:
		return errCSCNotFound(res.arn)
	}
	return errFunctionNotFound(res.fn.notFoundArn(c.Scope))
}

// withTags runs change on the resource's tags in one transaction and, when
// write is set, stores what change left. A nil map in the store reads as empty.
func (s *Server) withTags(r *http.Request, c *call, res taggedResource, write bool, change func(tags map[string]string) error) error {
	if res.otherRegion && res.kind != taggedFunctionKind {
		return res.notFound(c)
	}
	run := func(tx store.Tx) error {
		switch res.kind {
		case taggedFunctionKind:
			f, err := loadFunction(tx, c.Scope, res.fn.Name)
			if err != nil {
				return err
			}
			if err := changeTags(&f.Tags, change); err != nil || !write {
				return err
			}
			// AWS gives the function a new RevisionId with every tag change
			// (recorded in TestLambdaTags::test_tag_lifecycle).
			f.RevisionID = newRevisionID()
			return tx.Put(bucketFunctions, functionKey(c.Scope, f.Name), f)
		case taggedESMKind:
			var doc esmDoc
			if err := tx.Get(bucketESM, esmKey(c.Scope, res.id), &doc); err != nil {
				return err
			}
			tags := map[string]string{}
			if err := tx.Get(bucketESMTags, esmKey(c.Scope, res.id), &tags); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			if err := change(tags); err != nil || !write {
				return err
			}
			if len(tags) == 0 {
				return tx.Delete(bucketESMTags, esmKey(c.Scope, res.id))
			}
			return tx.Put(bucketESMTags, esmKey(c.Scope, res.id), tags)
		case taggedCSCKind:
			rec, key, err := loadCSC(tx, c.Scope, res.arn)
			if err != nil {
				return err
			}
			if err := changeTags(&rec.Tags, change); err != nil || !write {
				return err
			}
			return tx.Put(bucketCodeSigning, key, rec)
		default: // capacity provider
			var rec capacityProviderRecord
			if err := tx.Get(bucketCapacityProviders, capacityProviderKey(c.Scope, res.id), &rec); err != nil {
				return err
			}
			if err := changeTags(&rec.Tags, change); err != nil || !write {
				return err
			}
			return tx.Put(bucketCapacityProviders, capacityProviderKey(c.Scope, res.id), rec)
		}
	}
	var err error
	if write {
		err = s.store.Update(r.Context(), run)
	} else {
		err = s.store.View(r.Context(), run)
	}
	if errors.Is(err, store.ErrNotFound) {
		return res.notFound(c)
	}
	return err
}

// changeTags runs change on the tag map in *tags, which may be nil, and
// leaves nil there when change empties it, so records store no empty map.
func changeTags(tags *map[string]string, change func(tags map[string]string) error) error {
	if *tags == nil {
		*tags = map[string]string{}
	}
	if err := change(*tags); err != nil {
		return err
	}
	if len(*tags) == 0 {
		*tags = nil
	}
	return nil
}

// tagsInput is the TagResource body.
type tagsInput struct {
	Tags map[string]string `json:"Tags"`
}

// tagResource serves TagResource (204).
func (s *Server) tagResource(w http.ResponseWriter, r *http.Request, c *call) error {
	res, in, err := readRequest[tagsInput](r, c, resolveTagged)
	if err != nil {
		return err
	}
	if len(in.Tags) == 0 {
		// AWS's own answer to an empty tag map.
		return errInvalidParameter("An error occurred and the request cannot be processed.")
	}
	err = s.withTags(r, c, res, true, func(tags map[string]string) error {
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
	return replyEmpty(w, c)
}

// untagResource serves UntagResource (204); absent keys are ignored.
func (s *Server) untagResource(w http.ResponseWriter, r *http.Request, c *call) error {
	res, err := resolveTagged(c)
	if err != nil {
		return err
	}
	keys := c.Query["tagKeys"]
	if len(keys) == 0 {
		return errNull("tagKeys")
	}
	err = s.withTags(r, c, res, true, func(tags map[string]string) error {
		for _, k := range keys {
			delete(tags, k)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return replyEmpty(w, c)
}

// listTags serves ListTags.
func (s *Server) listTags(w http.ResponseWriter, r *http.Request, c *call) error {
	res, err := resolveTagged(c)
	if err != nil {
		return err
	}
	out := map[string]string{}
	err = s.withTags(r, c, res, false, func(tags map[string]string) error {
		for k, v := range tags {
			out[k] = v
		}
		return nil
	})
	if err != nil {
		return err
	}
	return reply(w, c, map[string]any{"Tags": out})
}
