package api

import (
	"crypto/rand"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/lambhq/lamb/store"
)

// Code signing configs: stored, listed and attached to functions as AWS
// does. lamb has no AWS Signer, so it does not verify signatures of deployed
// code: a config with UntrustedArtifactOnDeployment=Enforce is recorded, not
// enforced.
const cscArnPatternPrefix = "code-signing-config:"

type codeSigningConfig struct {
	CodeSigningConfigID  string            `json:"CodeSigningConfigId"`
	CodeSigningConfigArn string            `json:"CodeSigningConfigArn"`
	Description          string            `json:"Description"`
	AllowedPublishers    allowedPublishers `json:"AllowedPublishers"`
	CodeSigningPolicies  cscPolicies       `json:"CodeSigningPolicies"`
	LastModified         string            `json:"LastModified"`
}

// cscRecord is a config as stored: the config AWS answers and its tags,
// which AWS answers only through ListTags (the model's CodeSigningConfig has
// no Tags member).
type cscRecord struct {
	codeSigningConfig
	Tags map[string]string `json:"Tags,omitempty"`
}

type allowedPublishers struct {
	SigningProfileVersionArns []string `json:"SigningProfileVersionArns"`
}

type cscPolicies struct {
	UntrustedArtifactOnDeployment string `json:"UntrustedArtifactOnDeployment"`
}

type cscInput struct {
	Description         *string            `json:"Description"`
	AllowedPublishers   *allowedPublishers `json:"AllowedPublishers"`
	CodeSigningPolicies *cscPolicies       `json:"CodeSigningPolicies"`
	Tags                map[string]string  `json:"Tags"` // CreateCodeSigningConfig only
}

func newCSCID() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 17)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return "csc-" + string(b)
}

// cscArnPatternText is the model's CodeSigningConfigArn pattern, printed
// without its anchors as AWS prints the patterns of its ValidationExceptions
// (every recorded one, /work/shared/aws-snapshots).
const cscArnPatternText = `arn:(aws[a-zA-Z-]*)?:lambda:[a-z]{2}((-gov)|(-iso(b?)))?-[a-z]+-\d{1}:\d{12}:code-signing-config:csc-[a-z0-9]{17}`

var cscArnPattern = regexp.MustCompile(`^(?:` + cscArnPatternText + `)$`)

// validateCSCArn adds the model's violations of a CodeSigningConfigArn
// member to v.
func validateCSCArn(v *validationError, arn *string) {
	switch {
	case arn == nil:
	case len(*arn) > 200:
		v.add(*arn, "codeSigningConfigArn", "Member must have length less than or equal to 200")
	case !cscArnPattern.MatchString(*arn):
		v.add(*arn, "codeSigningConfigArn", "Member must satisfy regular expression pattern: "+cscArnPatternText)
	}
}

// errCSCNotAttachable is AWS's answer when a function is given a config that
// does not exist (recorded in TestCodeSigningConfig::test_code_signing_not_found_excs).
func errCSCNotAttachable(arn string) *awsError {
	return newError("CodeSigningConfigNotFoundException", "The code signing configuration cannot be found. Check that the provided configuration is not deleted: %s.", arn)
}

// attachCSC records arn as the function's config, once it is known to exist.
func attachCSC(tx store.Tx, sc scope, name, arn string) error {
	if _, _, err := loadCSC(tx, sc, arn); err != nil {
		return errCSCNotAttachable(arn)
	}
	return tx.Put(bucketFunctionCSC, functionKey(sc, name), arn)
}

func errCSCNotFound(arn string) *awsError {
	e := errNotFound("The Lambda code signing configuration %s can not be found.", arn)
	e.NoType = true // as AWS answers it
	return e
}

// cscKey returns the store key of a config ARN of sc, or "" if it is not one.
func cscKey(sc scope, arn string) string {
	prefix := "arn:aws:lambda:" + sc.Region + ":" + sc.Account + ":" + cscArnPatternPrefix
	id, ok := strings.CutPrefix(arn, prefix)
	if !ok || id == "" || strings.Contains(id, "/") {
		return ""
	}
	return sc.Account + "/" + sc.Region + "/" + id
}

func loadCSC(tx store.Tx, sc scope, arn string) (*cscRecord, string, error) {
	key := cscKey(sc, arn)
	if key == "" {
		return nil, "", errCSCNotFound(arn)
	}
	var cfg cscRecord
	if err := tx.Get(bucketCodeSigning, key, &cfg); errors.Is(err, store.ErrNotFound) {
		return nil, "", errCSCNotFound(arn)
	} else if err != nil {
		return nil, "", err
	}
	return &cfg, key, nil
}

func (in *cscInput) validate(create bool) error {
	if len(in.Tags) > maxTags {
		return errTooManyTags()
	}
	var v validationError
	if create && in.AllowedPublishers == nil {
		v.null("allowedPublishers")
	}
	if p := in.CodeSigningPolicies; p != nil && p.UntrustedArtifactOnDeployment != "" &&
		p.UntrustedArtifactOnDeployment != "Warn" && p.UntrustedArtifactOnDeployment != "Enforce" {
		v.add(p.UntrustedArtifactOnDeployment, "codeSigningPolicies.untrustedArtifactOnDeployment", "Member must satisfy enum value set: [Enforce, Warn]")
	}
	return v.err()
}

func (in *cscInput) apply(cfg *codeSigningConfig) {
	if in.Description != nil {
		cfg.Description = *in.Description
	}
	if in.AllowedPublishers != nil {
		cfg.AllowedPublishers = *in.AllowedPublishers
	}
	if in.CodeSigningPolicies != nil && in.CodeSigningPolicies.UntrustedArtifactOnDeployment != "" {
		cfg.CodeSigningPolicies = *in.CodeSigningPolicies
	}
	cfg.LastModified = time.Now().UTC().Format("2006-01-02T15:04:05.000+0000")
}

// createCodeSigningConfig serves CreateCodeSigningConfig (201).
func (s *Server) createCodeSigningConfig(w http.ResponseWriter, r *http.Request, c *call) error {
	var in cscInput
	if err := decodeBody(r, c, &in); err != nil {
		return err
	}
	if err := in.validate(true); err != nil {
		return err
	}
	id := newCSCID()
	rec := &cscRecord{codeSigningConfig: codeSigningConfig{
		CodeSigningConfigID:  id,
		CodeSigningConfigArn: "arn:aws:lambda:" + c.Scope.Region + ":" + c.Scope.Account + ":" + cscArnPatternPrefix + id,
		CodeSigningPolicies:  cscPolicies{UntrustedArtifactOnDeployment: "Warn"},
	}}
	in.apply(&rec.codeSigningConfig)
	if len(in.Tags) > 0 {
		rec.Tags = in.Tags
	}
	err := s.store.Update(r.Context(), func(tx store.Tx) error {
		return tx.Put(bucketCodeSigning, cscKey(c.Scope, rec.CodeSigningConfigArn), rec)
	})
	if err != nil {
		return err
	}
	return reply(w, c, map[string]any{"CodeSigningConfig": rec.codeSigningConfig})
}

// getCodeSigningConfig serves GetCodeSigningConfig.
func (s *Server) getCodeSigningConfig(w http.ResponseWriter, r *http.Request, c *call) error {
	var cfg *cscRecord
	err := s.store.View(r.Context(), func(tx store.Tx) error {
		var err error
		cfg, _, err = loadCSC(tx, c.Scope, c.Labels["CodeSigningConfigArn"])
		return err
	})
	if err != nil {
		return err
	}
	return reply(w, c, map[string]any{"CodeSigningConfig": cfg.codeSigningConfig})
}

// updateCodeSigningConfig serves UpdateCodeSigningConfig.
func (s *Server) updateCodeSigningConfig(w http.ResponseWriter, r *http.Request, c *call) error {
	var in cscInput
	if err := decodeBody(r, c, &in); err != nil {
		return err
	}
	if err := in.validate(false); err != nil {
		return err
	}
	var cfg *cscRecord
	err := s.store.Update(r.Context(), func(tx store.Tx) error {
		var (
			key string
			err error
		)
		if cfg, key, err = loadCSC(tx, c.Scope, c.Labels["CodeSigningConfigArn"]); err != nil {
			return err
		}
		in.apply(&cfg.codeSigningConfig)
		return tx.Put(bucketCodeSigning, key, cfg)
	})
	if err != nil {
		return err
	}
	return reply(w, c, map[string]any{"CodeSigningConfig": cfg.codeSigningConfig})
}

// cscUsers lists the functions of sc using the config arn.
func cscUsers(tx store.Tx, sc scope, arn string) ([]string, error) {
	var out []string
	err := store.Each(tx, bucketFunctionCSC, sc.Account+"/"+sc.Region+"/", "", func(key string, a *string) error {
		if *a == arn {
			out = append(out, functionArn(sc, key[strings.LastIndex(key, "/")+1:]))
		}
		return nil
	})
	return out, err
}

// deleteCodeSigningConfig serves DeleteCodeSigningConfig (204); a config in
// use by a function cannot be deleted.
func (s *Server) deleteCodeSigningConfig(w http.ResponseWriter, r *http.Request, c *call) error {
	arn := c.Labels["CodeSigningConfigArn"]
	err := s.store.Update(r.Context(), func(tx store.Tx) error {
		_, key, err := loadCSC(tx, c.Scope, arn)
		if err != nil {
			return err
		}
		users, err := cscUsers(tx, c.Scope, arn)
		if err != nil {
			return err
		}
		if len(users) > 0 {
			return errConflict("The code signing configuration cannot be deleted because it is used by the following functions: %s", strings.Join(users, ", "))
		}
		return tx.Delete(bucketCodeSigning, key)
	})
	if err != nil {
		return err
	}
	return replyEmpty(w, c)
}

// listCodeSigningConfigs serves ListCodeSigningConfigs, in id order.
func (s *Server) listCodeSigningConfigs(w http.ResponseWriter, r *http.Request, c *call) error {
	maxItems, err := pageSize(c, 10000, 50)
	if err != nil {
		return err
	}
	p, err := newPage[codeSigningConfig](c, maxItems)
	if err != nil {
		return err
	}
	prefix := c.Scope.Account + "/" + c.Scope.Region + "/"
	err = s.store.View(r.Context(), func(tx store.Tx) error {
		return scanPage(tx, p, bucketCodeSigning, prefix, func(cfg *codeSigningConfig) (string, codeSigningConfig, bool) {
			return cfg.CodeSigningConfigID, *cfg, true
		})
	})
	if err != nil {
		return err
	}
	return reply(w, c, struct {
		CodeSigningConfigs []codeSigningConfig `json:"CodeSigningConfigs"`
		NextMarker         string              `json:"NextMarker,omitempty"`
	}{p.items, p.next})
}

// listFunctionsByCodeSigningConfig serves ListFunctionsByCodeSigningConfig.
func (s *Server) listFunctionsByCodeSigningConfig(w http.ResponseWriter, r *http.Request, c *call) error {
	arn := c.Labels["CodeSigningConfigArn"]
	// MaxItems is the model's MaxListItems (1..10000).
	maxItems, err := pageSize(c, 10000, 50)
	if err != nil {
		return err
	}
	var users []string
	err = s.store.View(r.Context(), func(tx store.Tx) error {
		if _, _, err := loadCSC(tx, c.Scope, arn); err != nil {
			return err
		}
		users, err = cscUsers(tx, c.Scope, arn)
		return err
	})
	if err != nil {
		return err
	}
	p, err := pageOf(c, users, maxItems, func(a string) string { return a })
	if err != nil {
		return err
	}
	return reply(w, c, struct {
		FunctionArns []string `json:"FunctionArns"`
		NextMarker   string   `json:"NextMarker,omitempty"`
	}{p.items, p.next})
}

// functionCSCInput is the PutFunctionCodeSigningConfig body.
type functionCSCInput struct {
	CodeSigningConfigArn *string `json:"CodeSigningConfigArn"`
}

// putFunctionCodeSigningConfig serves PutFunctionCodeSigningConfig.
func (s *Server) putFunctionCodeSigningConfig(w http.ResponseWriter, r *http.Request, c *call) error {
	ref, in, err := readRequest[functionCSCInput](r, c, unqualifiedFunction)
	if err != nil {
		return err
	}
	if in.CodeSigningConfigArn == nil {
		return errNull("codeSigningConfigArn")
	}
	arn := *in.CodeSigningConfigArn
	err = s.store.Update(r.Context(), func(tx store.Tx) error {
		if _, _, err := loadCSC(tx, c.Scope, arn); err != nil {
			return errCSCNotAttachable(arn)
		}
		if _, err := loadRefFunction(tx, c.Scope, ref); err != nil {
			return err
		}
		return tx.Put(bucketFunctionCSC, functionKey(c.Scope, ref.Name), arn)
	})
	if err != nil {
		return err
	}
	return reply(w, c, map[string]string{"CodeSigningConfigArn": arn, "FunctionName": ref.Name})
}

// getFunctionCodeSigningConfig serves GetFunctionCodeSigningConfig ({} without one).
func (s *Server) getFunctionCodeSigningConfig(w http.ResponseWriter, r *http.Request, c *call) error {
	ref, err := unqualifiedFunction(c)
	if err != nil {
		return err
	}
	var arn string
	err = s.store.View(r.Context(), func(tx store.Tx) error {
		if _, err := loadRefFunction(tx, c.Scope, ref); err != nil {
			return err
		}
		if err := tx.Get(bucketFunctionCSC, functionKey(c.Scope, ref.Name), &arn); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return nil
	})
	if err != nil {
		return err
	}
	if arn == "" {
		return reply(w, c, struct{}{})
	}
	return reply(w, c, map[string]string{"CodeSigningConfigArn": arn, "FunctionName": ref.Name})
}

// deleteFunctionCodeSigningConfig serves DeleteFunctionCodeSigningConfig (204).
func (s *Server) deleteFunctionCodeSigningConfig(w http.ResponseWriter, r *http.Request, c *call) error {
	ref, err := unqualifiedFunction(c)
	if err != nil {
		return err
	}
	err = s.store.Update(r.Context(), func(tx store.Tx) error {
		if _, err := loadRefFunction(tx, c.Scope, ref); err != nil {
			return err
		}
		return tx.Delete(bucketFunctionCSC, functionKey(c.Scope, ref.Name))
	})
	if err != nil {
		return err
	}
	return replyEmpty(w, c)
}
