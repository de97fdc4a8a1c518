package api

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/lambhq/lamb/store"
)

// Event invoke configs: per function version or alias, the retry and age
// limits and the destinations of Event invocations (honoured in async.go).

type destination struct {
	Destination string `json:"Destination,omitempty"`
}

type destinationConfig struct {
	OnSuccess destination `json:"OnSuccess"`
	OnFailure destination `json:"OnFailure"`
}

// eventInvokeConfig is stored as AWS answers it (FunctionArn aside).
type eventInvokeConfig struct {
	Qualifier                string            `json:"qualifier"`
	MaximumRetryAttempts     *int32            `json:"maximumRetryAttempts,omitempty"`
	MaximumEventAgeInSeconds *int32            `json:"maximumEventAgeInSeconds,omitempty"`
	DestinationConfig        destinationConfig `json:"destinationConfig"`
	LastModified             time.Time         `json:"lastModified"`
}

type eventInvokeConfigOutput struct {
	DestinationConfig        destinationConfig `json:"DestinationConfig"`
	FunctionArn              string            `json:"FunctionArn"`
	LastModified             float64           `json:"LastModified"` // epoch seconds, as restJson1 timestamps
	MaximumEventAgeInSeconds *int32            `json:"MaximumEventAgeInSeconds,omitempty"`
	MaximumRetryAttempts     *int32            `json:"MaximumRetryAttempts,omitempty"`
}

func (e *eventInvokeConfig) output(sc scope, name string) eventInvokeConfigOutput {
	return eventInvokeConfigOutput{
		DestinationConfig: e.DestinationConfig, FunctionArn: functionArn(sc, name) + ":" + e.Qualifier,
		LastModified:             float64(e.LastModified.UnixMilli()) / 1000,
		MaximumEventAgeInSeconds: e.MaximumEventAgeInSeconds, MaximumRetryAttempts: e.MaximumRetryAttempts,
	}
}

const destinationArnPatternText = `$|kafka://([^.]([a-zA-Z0-9\-_.]{0,248}))|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1})?:(\d{12})?:(.*)`

var (
	destinationArnPattern = regexp.MustCompile(`^(` + destinationArnPatternText + `)$`)
	destinationServices   = regexp.MustCompile(`^arn:aws[a-zA-Z0-9-]*:(lambda|sqs|sns|events|s3):`)
)

type eventInvokeConfigInput struct {
	MaximumRetryAttempts     *int32 `json:"MaximumRetryAttempts"`
	MaximumEventAgeInSeconds *int32 `json:"MaximumEventAgeInSeconds"`
	DestinationConfig        *struct {
		OnSuccess *destination `json:"OnSuccess"`
		OnFailure *destination `json:"OnFailure"`
	} `json:"DestinationConfig"`
}

func errNoEventInvokeConfig(arn string) *awsError {
	return errNotFound("The function %s doesn't have an EventInvokeConfig", arn)
}

func errFunctionDoesNotExist() *awsError { return errNotFound("The function doesn't exist.") }

// validate applies the model's constraints and AWS's checks of the destinations.
func (in *eventInvokeConfigInput) validate(tx store.Tx, latest *functionRecord, hasEndpoint bool) error {
	var v validationError
	if r := in.MaximumRetryAttempts; r != nil && (*r < 0 || *r > 2) {
		bound := "Member must have value less than or equal to 2"
		if *r < 0 {
			bound = "Member must have value greater than or equal to 0"
		}
		v.add(itoa(*r), "maximumRetryAttempts", bound)
	}
	if a := in.MaximumEventAgeInSeconds; a != nil && (*a < 60 || *a > 21600) {
		bound := "Member must have value less than or equal to 21600"
		if *a < 60 {
			bound = "Member must have value greater than or equal to 60"
		}
		v.add(itoa(*a), "maximumEventAgeInSeconds", bound)
	}
	dc := in.DestinationConfig
	if dc != nil {
		for _, d := range []struct {
			member string
			dest   *destination
		}{{"onSuccess", dc.OnSuccess}, {"onFailure", dc.OnFailure}} {
			if d.dest != nil && d.dest.Destination != "" && !destinationArnPattern.MatchString(d.dest.Destination) {
				v.add(d.dest.Destination, "destinationConfig."+d.member+".destination", "Member must satisfy regular expression pattern: "+destinationArnPatternText)
			}
		}
	}
	if err := v.err(); err != nil {
		return err
	}
	if in.MaximumRetryAttempts == nil && in.MaximumEventAgeInSeconds == nil && dc == nil {
		return errInvalidParameter("You must specify at least one of error handling or destination setting.")
	}
	if dc == nil {
		return nil
	}
	describe := func(d *destination, kind string) string {
		if d == nil {
			return "null"
		}
		return fmt.Sprintf("%s(destination=%s)", kind, d.Destination)
	}
	for _, d := range []*destination{dc.OnSuccess, dc.OnFailure} {
		if d == nil || d.Destination == "" {
			continue
		}
		if !destinationServices.MatchString(d.Destination) {
			return errInvalidParameter("The provided destination config DestinationConfig(onSuccess=%s, onFailure=%s) is invalid.",
				describe(dc.OnSuccess, "OnSuccess"), describe(dc.OnFailure, "OnFailure"))
		}
		if !strings.Contains(d.Destination, ":lambda:") {
			if !hasEndpoint {
				return errInvalidParameter("lamb delivers %s to an AWS-compatible endpoint: start lamb serve with --destinations-endpoint to use this destination.", d.Destination)
			}
			continue
		}
		ref, err := parseFunctionName(d.Destination, latest.scope(), 256)
		if err != nil {
			return errInvalidParameter("The destination ARN %s is invalid.", d.Destination)
		}
		if ref.Name == latest.Name {
			return errInvalidParameter("You can't specify the function as a destination for itself.")
		}
		if _, err := loadFunction(tx, latest.scope(), ref.Name); err != nil {
			return errInvalidParameter("The destination ARN %s is invalid.", d.Destination)
		}
	}
	return nil
}

// eventConfigTarget resolves the function and qualifier of an event invoke
// config operation; qualifier "" means $LATEST.
func eventConfigTarget(tx store.Tx, c *call, ref functionRef, missing error) (*functionRecord, string, error) {
	latest, err := loadFunctionOr(tx, c.Scope, ref.Name, missing)
	if err != nil {
		return nil, "", err
	}
	q := ref.Qualifier
	if q == "" {
		q = "$LATEST"
	}
	if q != "$LATEST" {
		if _, err := resolveQualifier(tx, latest, q, nil); err != nil {
			return nil, "", missing
		}
	}
	return latest, q, nil
}

// putFunctionEventInvokeConfig serves PutFunctionEventInvokeConfig: it
// replaces the whole configuration.
func (s *Server) putFunctionEventInvokeConfig(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.writeEventInvokeConfig(w, r, c, false)
}

// updateFunctionEventInvokeConfig serves UpdateFunctionEventInvokeConfig: it
// changes the members given.
func (s *Server) updateFunctionEventInvokeConfig(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.writeEventInvokeConfig(w, r, c, true)
}

func (s *Server) writeEventInvokeConfig(w http.ResponseWriter, r *http.Request, c *call, update bool) error {
	ref, in, err := readRequest[eventInvokeConfigInput](r, c, resolveFunction)
	if err != nil {
		return err
	}
	var out eventInvokeConfigOutput
	err = s.store.Update(r.Context(), func(tx store.Tx) error {
		latest, q, err := eventConfigTarget(tx, c, ref, errFunctionDoesNotExist())
		if err != nil {
			return err
		}
		key := qualifierKey(c.Scope, ref.Name, q)
		cfg := &eventInvokeConfig{Qualifier: q}
		if update {
			if err := tx.Get(bucketEventInvokeConfigs, key, cfg); errors.Is(err, store.ErrNotFound) {
				return errNoEventInvokeConfig(latest.arn() + ":" + q)
			} else if err != nil {
				return err
			}
		}
		if err := in.validate(tx, latest, s.cfg.DestinationsEndpoint != ""); err != nil {
			return err
		}
		if in.MaximumRetryAttempts != nil || !update {
			cfg.MaximumRetryAttempts = in.MaximumRetryAttempts
		}
		if in.MaximumEventAgeInSeconds != nil || !update {
			cfg.MaximumEventAgeInSeconds = in.MaximumEventAgeInSeconds
		}
		if dc := in.DestinationConfig; dc != nil {
			cfg.DestinationConfig = destinationConfig{}
			if dc.OnSuccess != nil {
				cfg.DestinationConfig.OnSuccess = *dc.OnSuccess
			}
			if dc.OnFailure != nil {
				cfg.DestinationConfig.OnFailure = *dc.OnFailure
			}
		} else if !update {
			cfg.DestinationConfig = destinationConfig{}
		}
		cfg.LastModified = time.Now()
		out = cfg.output(c.Scope, ref.Name)
		return tx.Put(bucketEventInvokeConfigs, key, cfg)
	})
	if err != nil {
		return err
	}
	return reply(w, c, out)
}

// loadEventConfig reads the event invoke config ref names (its qualifier, or
// $LATEST), with AWS's not-found answer when the function, the qualifier or
// the config is missing; key is where it is stored.
func loadEventConfig(tx store.Tx, c *call, ref functionRef) (key string, cfg *eventInvokeConfig, err error) {
	q := ref.Qualifier
	if q == "" {
		q = "$LATEST"
	}
	missing := errNoEventInvokeConfig(functionArn(c.Scope, ref.Name) + ":" + q)
	if _, _, err := eventConfigTarget(tx, c, ref, missing); err != nil {
		return "", nil, err
	}
	key = qualifierKey(c.Scope, ref.Name, q)
	cfg = new(eventInvokeConfig)
	if err := tx.Get(bucketEventInvokeConfigs, key, cfg); errors.Is(err, store.ErrNotFound) {
		return "", nil, missing
	} else if err != nil {
		return "", nil, err
	}
	return key, cfg, nil
}

// getFunctionEventInvokeConfig serves GetFunctionEventInvokeConfig.
func (s *Server) getFunctionEventInvokeConfig(w http.ResponseWriter, r *http.Request, c *call) error {
	ref, err := resolveFunction(c)
	if err != nil {
		return err
	}
	var out eventInvokeConfigOutput
	err = s.store.View(r.Context(), func(tx store.Tx) error {
		_, cfg, err := loadEventConfig(tx, c, ref)
		if err != nil {
			return err
		}
		out = cfg.output(c.Scope, ref.Name)
		return nil
	})
	if err != nil {
		return err
	}
	return reply(w, c, out)
}

// deleteFunctionEventInvokeConfig serves DeleteFunctionEventInvokeConfig (204).
func (s *Server) deleteFunctionEventInvokeConfig(w http.ResponseWriter, r *http.Request, c *call) error {
	ref, err := resolveFunction(c)
	if err != nil {
		return err
	}
	err = s.store.Update(r.Context(), func(tx store.Tx) error {
		key, _, err := loadEventConfig(tx, c, ref)
		if err != nil {
			return err
		}
		return tx.Delete(bucketEventInvokeConfigs, key)
	})
	if err != nil {
		return err
	}
	return replyEmpty(w, c)
}

// listFunctionEventInvokeConfigs serves ListFunctionEventInvokeConfigs
// ($LATEST, versions, aliases in key order).
func (s *Server) listFunctionEventInvokeConfigs(w http.ResponseWriter, r *http.Request, c *call) error {
	ref, maxItems, err := listRequest(c, unqualifiedFunction, 50, 50)
	if err != nil {
		return err
	}
	var p *listPage[eventInvokeConfigOutput]
	err = s.store.View(r.Context(), func(tx store.Tx) error {
		if _, err := loadFunctionOr(tx, c.Scope, ref.Name, errFunctionDoesNotExist()); err != nil {
			return err
		}
		if p, err = newPage[eventInvokeConfigOutput](c, maxItems); err != nil {
			return err
		}
		prefix := functionKey(c.Scope, ref.Name) + "/"
		return scanPage(tx, p, bucketEventInvokeConfigs, prefix, func(cfg *eventInvokeConfig) (string, eventInvokeConfigOutput, bool) {
			return cfg.Qualifier, cfg.output(c.Scope, ref.Name), true
		})
	})
	if err != nil {
		return err
	}
	return reply(w, c, struct {
		FunctionEventInvokeConfigs []eventInvokeConfigOutput `json:"FunctionEventInvokeConfigs"`
		NextMarker                 string                    `json:"NextMarker,omitempty"`
	}{p.items, p.next})
}
