package api

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/lambhq/lamb/store"
)

// Per-function settings whose state is all there is to them locally:
// recursion control and runtime management. lamb stores and answers them as
// AWS does; it neither detects recursive loops nor updates runtimes (a
// function always runs on the runtime of lamb's build).

type recursionConfig struct {
	RecursiveLoop string `json:"RecursiveLoop"`
}

type runtimeManagementConfig struct {
	UpdateRuntimeOn   string `json:"UpdateRuntimeOn"`
	RuntimeVersionArn string `json:"RuntimeVersionArn,omitempty"`
	FunctionArn       string `json:"FunctionArn,omitempty"`
}

// functionSetting loads (get) or stores (put, when v is set) one setting of
// an existing function.
func (s *Server) functionSetting(r *http.Request, c *call, ref functionRef, kind string, out any, put any) error {
	key := qualifierKey(c.Scope, ref.Name, kind+":"+ref.Qualifier)
	fn := func(tx store.Tx) error {
		latest, err := loadRefFunction(tx, c.Scope, ref)
		if err != nil {
			return err
		}
		if ref.Qualifier != "" && ref.Qualifier != "$LATEST" {
			if _, err := resolveQualifier(tx, latest, ref.Qualifier, nil); err != nil {
				return err
			}
		}
		if put != nil {
			return tx.Put(bucketFunctionSettings, key, put)
		}
		if err := tx.Get(bucketFunctionSettings, key, out); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return nil
	}
	if put != nil {
		return s.store.Update(r.Context(), fn)
	}
	return s.store.View(r.Context(), fn)
}

// requiredEnum is AWS's ValidationException for a member that must be present
// and one of allowed (listed in the order AWS prints them).
func requiredEnum(value *string, member string, allowed ...string) error {
	var v validationError
	switch {
	case value == nil:
		v.null(member)
	case !slices.Contains(allowed, *value):
		v.add(*value, member, "Member must satisfy enum value set: ["+strings.Join(allowed, ", ")+"]")
	}
	return v.err()
}

// recursionInput is the PutFunctionRecursionConfig body.
type recursionInput struct {
	RecursiveLoop *string `json:"RecursiveLoop"`
}

// putFunctionRecursionConfig serves PutFunctionRecursionConfig.
func (s *Server) putFunctionRecursionConfig(w http.ResponseWriter, r *http.Request, c *call) error {
	ref, in, err := readRequest[recursionInput](r, c, unqualifiedFunction)
	if err != nil {
		return err
	}
	if err := requiredEnum(in.RecursiveLoop, "recursiveLoop", "Terminate", "Allow"); err != nil {
		return err
	}
	cfg := recursionConfig{RecursiveLoop: *in.RecursiveLoop}
	if err := s.functionSetting(r, c, ref, "recursion", nil, &cfg); err != nil {
		return err
	}
	return reply(w, c, cfg)
}

// getFunctionRecursionConfig serves GetFunctionRecursionConfig (Terminate by default).
func (s *Server) getFunctionRecursionConfig(w http.ResponseWriter, r *http.Request, c *call) error {
	ref, err := unqualifiedFunction(c)
	if err != nil {
		return err
	}
	cfg := recursionConfig{RecursiveLoop: "Terminate"}
	if err := s.functionSetting(r, c, ref, "recursion", &cfg, nil); err != nil {
		return err
	}
	return reply(w, c, cfg)
}

// runtimeManagementInput is the PutRuntimeManagementConfig body.
type runtimeManagementInput struct {
	UpdateRuntimeOn   *string `json:"UpdateRuntimeOn"`
	RuntimeVersionArn *string `json:"RuntimeVersionArn"`
}

// putRuntimeManagementConfig serves PutRuntimeManagementConfig.
func (s *Server) putRuntimeManagementConfig(w http.ResponseWriter, r *http.Request, c *call) error {
	ref, in, err := readRequest[runtimeManagementInput](r, c, resolveFunction)
	if err != nil {
		return err
	}
	if err := requiredEnum(in.UpdateRuntimeOn, "updateRuntimeOn", "Auto", "Manual", "FunctionUpdate"); err != nil {
		return err
	}
	cfg := runtimeManagementConfig{UpdateRuntimeOn: *in.UpdateRuntimeOn}
	if in.RuntimeVersionArn != nil {
		cfg.RuntimeVersionArn = *in.RuntimeVersionArn
	}
	switch {
	case cfg.UpdateRuntimeOn == "Manual" && cfg.RuntimeVersionArn == "":
		return errInvalidParameter("RuntimeVersionArn must be specified when UpdateRuntimeOn is set to Manual.")
	case cfg.UpdateRuntimeOn != "Manual" && cfg.RuntimeVersionArn != "":
		return errInvalidParameter("RuntimeVersionArn can only be specified when UpdateRuntimeOn is set to Manual.")
	}
	if err := s.functionSetting(r, c, ref, "runtime", nil, &cfg); err != nil {
		return err
	}
	cfg.FunctionArn = ref.arn(c.Scope)
	return reply(w, c, cfg)
}

// getRuntimeManagementConfig serves GetRuntimeManagementConfig (Auto by default).
func (s *Server) getRuntimeManagementConfig(w http.ResponseWriter, r *http.Request, c *call) error {
	ref, err := resolveFunction(c)
	if err != nil {
		return err
	}
	cfg := runtimeManagementConfig{UpdateRuntimeOn: "Auto"}
	if err := s.functionSetting(r, c, ref, "runtime", &cfg, nil); err != nil {
		return err
	}
	cfg.FunctionArn = ref.arn(c.Scope)
	return reply(w, c, cfg)
}
