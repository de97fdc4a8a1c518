package api

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/lambhq/lamb/store"
)

// Capacity providers (Lambda Managed Instances) are state only in lamb: it
// stores, validates and answers them as the model describes, and functions
// may name one in CapacityProviderConfig, but no EC2 capacity exists behind
// them: a function runs on lamb's backend whatever provider it names. A new
// provider is Active at once (there is nothing to provision), and a deleted
// one is gone at once (answered once with State Deleting).

type capacityProviderVpcConfig struct {
	SubnetIds        []string `json:"SubnetIds"`
	SecurityGroupIds []string `json:"SecurityGroupIds"`
}

type capacityProviderPermissions struct {
	CapacityProviderOperatorRoleArn string `json:"CapacityProviderOperatorRoleArn"`
}

type instanceRequirements struct {
	Architectures         []string `json:"Architectures,omitempty"`
	AllowedInstanceTypes  []string `json:"AllowedInstanceTypes,omitempty"`
	ExcludedInstanceTypes []string `json:"ExcludedInstanceTypes,omitempty"`
}

type targetTrackingPolicy struct {
	PredefinedMetricType string   `json:"PredefinedMetricType"`
	TargetValue          *float64 `json:"TargetValue"`
}

type capacityProviderScaling struct {
	MaxVCpuCount    *int32                 `json:"MaxVCpuCount,omitempty"`
	ScalingMode     string                 `json:"ScalingMode,omitempty"`
	ScalingPolicies []targetTrackingPolicy `json:"ScalingPolicies,omitempty"`
}

// capacityProvider is both the stored record and the model's CapacityProvider.
type capacityProvider struct {
	CapacityProviderArn           string                       `json:"CapacityProviderArn"`
	State                         string                       `json:"State"`
	VpcConfig                     *capacityProviderVpcConfig   `json:"VpcConfig"`
	PermissionsConfig             *capacityProviderPermissions `json:"PermissionsConfig"`
	InstanceRequirements          *instanceRequirements        `json:"InstanceRequirements,omitempty"`
	CapacityProviderScalingConfig *capacityProviderScaling     `json:"CapacityProviderScalingConfig,omitempty"`
	KmsKeyArn                     string                       `json:"KmsKeyArn,omitempty"`
	LastModified                  string                       `json:"LastModified,omitempty"`
}

// capacityProviderRecord is what the store keeps: the provider and its tags
// (served by ListTags/TagResource/UntagResource, tags.go).
type capacityProviderRecord struct {
	capacityProvider
	Tags map[string]string `json:"tags,omitempty"`
}

var (
	capacityProviderNamePattern = regexp.MustCompile(`^(arn:aws[a-zA-Z-]*:lambda:[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:capacity-provider:[a-zA-Z0-9-_]+)|[a-zA-Z0-9-_]+$`)
	instanceTypePattern         = regexp.MustCompile(`^[a-zA-Z0-9\.\-]+$`)
	kmsKeyArnPattern            = regexp.MustCompile(`^arn:(aws[a-zA-Z-]*)?:[a-z0-9-.]+:.*$`)
)

const capacityProviderNamePatternText = `(arn:aws[a-zA-Z-]*:lambda:[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:capacity-provider:[a-zA-Z0-9-_]+)|[a-zA-Z0-9-_]+`

func capacityProviderArn(sc scope, name string) string {
	return fmt.Sprintf("arn:aws:lambda:%s:%s:capacity-provider:%s", sc.Region, sc.Account, name)
}

func capacityProviderKey(sc scope, name string) string {
	return sc.Account + "/" + sc.Region + "/" + name
}

// capacityProviderName validates a CapacityProviderName (a name or an ARN)
// and returns the bare name.
func capacityProviderName(raw string, sc scope) (string, error) {
	var v validationError
	if len(raw) > 140 {
		v.add(raw, "capacityProviderName", "Member must have length less than or equal to 140")
	}
	if raw == "" || !capacityProviderNamePattern.MatchString(raw) {
		v.add(raw, "capacityProviderName", "Member must satisfy regular expression pattern: "+capacityProviderNamePatternText)
	}
	if err := v.err(); err != nil {
		return "", err
	}
	if !strings.HasPrefix(raw, "arn:") {
		return raw, nil
	}
	parts := strings.Split(raw, ":")
	if parts[3] != sc.Region || parts[4] != sc.Account {
		return "", errInvalidParameter("The capacity provider ARN %s is not in this account and region.", raw)
	}
	return parts[6], nil
}

// validateScaling checks a CapacityProviderScalingConfig against the model.
func validateScaling(v *validationError, sc *capacityProviderScaling) {
	if sc == nil {
		return
	}
	if m := sc.MaxVCpuCount; m != nil {
		switch {
		case *m < 2:
			v.add(strconv.Itoa(int(*m)), "capacityProviderScalingConfig.maxVCpuCount", "Member must have value greater than or equal to 2")
		case *m > 15000:
			v.add(strconv.Itoa(int(*m)), "capacityProviderScalingConfig.maxVCpuCount", "Member must have value less than or equal to 15000")
		}
	}
	if sc.ScalingMode != "" && sc.ScalingMode != "Auto" && sc.ScalingMode != "Manual" {
		v.add(sc.ScalingMode, "capacityProviderScalingConfig.scalingMode", "Member must satisfy enum value set: [Auto, Manual]")
	}
	if sc.ScalingPolicies != nil && (len(sc.ScalingPolicies) < 1 || len(sc.ScalingPolicies) > 10) {
		v.add(fmt.Sprint(len(sc.ScalingPolicies)), "capacityProviderScalingConfig.scalingPolicies", "Member must have length between 1 and 10")
	}
	for i, p := range sc.ScalingPolicies {
		if p.PredefinedMetricType != "LambdaCapacityProviderAverageCPUUtilization" {
			v.add(p.PredefinedMetricType, fmt.Sprintf("capacityProviderScalingConfig.scalingPolicies.%d.member.predefinedMetricType", i+1),
				"Member must satisfy enum value set: [LambdaCapacityProviderAverageCPUUtilization]")
		}
		if p.TargetValue == nil || *p.TargetValue < 0 || *p.TargetValue > 100 {
			val := "null"
			if p.TargetValue != nil {
				val = strconv.FormatFloat(*p.TargetValue, 'f', -1, 64)
			}
			v.add(val, fmt.Sprintf("capacityProviderScalingConfig.scalingPolicies.%d.member.targetValue", i+1),
				"Member must have value between 0.0 and 100.0")
		}
	}
	if sc.ScalingMode == "Manual" && len(sc.ScalingPolicies) == 0 {
		v.problems = append(v.problems, "Value null at 'capacityProviderScalingConfig.scalingPolicies' failed to satisfy constraint: Member must not be null when ScalingMode is Manual")
	}
}

// createCapacityProvider serves CreateCapacityProvider (202).
func (s *Server) createCapacityProvider(w http.ResponseWriter, r *http.Request, c *call) error {
	var in struct {
		CapacityProviderName          *string                      `json:"CapacityProviderName"`
		VpcConfig                     *capacityProviderVpcConfig   `json:"VpcConfig"`
		PermissionsConfig             *capacityProviderPermissions `json:"PermissionsConfig"`
		InstanceRequirements          *instanceRequirements        `json:"InstanceRequirements"`
		CapacityProviderScalingConfig *capacityProviderScaling     `json:"CapacityProviderScalingConfig"`
		KmsKeyArn                     *string                      `json:"KmsKeyArn"`
		Tags                          map[string]string            `json:"Tags"`
	}
	if err := decodeBody(r, c, &in); err != nil {
		return err
	}
	var v validationError
	for member, missing := range map[string]bool{
		"capacityProviderName": in.CapacityProviderName == nil, "vpcConfig": in.VpcConfig == nil, "permissionsConfig": in.PermissionsConfig == nil,
	} {
		if missing {
			v.null(member)
		}
	}
	sort.Strings(v.problems)
	if err := v.err(); err != nil {
		return err
	}
	name, err := capacityProviderName(*in.CapacityProviderName, c.Scope)
	if err != nil {
		return err
	}
	if n := len(in.VpcConfig.SubnetIds); n < 1 || n > 16 {
		v.add(fmt.Sprintf("[%s]", strings.Join(in.VpcConfig.SubnetIds, ", ")), "vpcConfig.subnetIds", "Member must have length between 1 and 16")
	}
	if in.VpcConfig.SecurityGroupIds == nil {
		v.null("vpcConfig.securityGroupIds")
	} else if len(in.VpcConfig.SecurityGroupIds) > 5 {
		v.add(fmt.Sprintf("[%s]", strings.Join(in.VpcConfig.SecurityGroupIds, ", ")), "vpcConfig.securityGroupIds", "Member must have length less than or equal to 5")
	}
	if role := in.PermissionsConfig.CapacityProviderOperatorRoleArn; !rolePattern.MatchString(role) {
		v.add(role, "permissionsConfig.capacityProviderOperatorRoleArn", "Member must satisfy regular expression pattern: "+rolePatternText)
	}
	if ir := in.InstanceRequirements; ir != nil {
		if ir.Architectures != nil {
			if len(ir.Architectures) != 1 {
				v.add(fmt.Sprintf("[%s]", strings.Join(ir.Architectures, ", ")), "instanceRequirements.architectures", "Member must have length less than or equal to 1")
			} else if a := ir.Architectures[0]; a != "x86_64" && a != "arm64" {
				v.add(fmt.Sprintf("[%s]", a), "instanceRequirements.architectures", "Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64], Member must not be null]")
			}
		}
		for member, types := range map[string][]string{"allowedInstanceTypes": ir.AllowedInstanceTypes, "excludedInstanceTypes": ir.ExcludedInstanceTypes} {
			for _, t := range types {
				if len(t) < 1 || len(t) > 30 || !instanceTypePattern.MatchString(t) {
					v.add(t, "instanceRequirements."+member+".member", `Member must satisfy regular expression pattern: [a-zA-Z0-9\.\-]+`)
				}
			}
		}
		if len(ir.AllowedInstanceTypes) > 0 && len(ir.ExcludedInstanceTypes) > 0 {
			return errInvalidParameter("AllowedInstanceTypes and ExcludedInstanceTypes cannot both be specified.")
		}
	}
	validateScaling(&v, in.CapacityProviderScalingConfig)
	if in.KmsKeyArn != nil && !kmsKeyArnPattern.MatchString(*in.KmsKeyArn) {
		v.add(*in.KmsKeyArn, "kmsKeyArn", `Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:[a-z0-9-.]+:.*`)
	}
	if err := v.err(); err != nil {
		return err
	}
	if len(in.Tags) > maxTags {
		return errTooManyTags()
	}
	cp := &capacityProvider{
		CapacityProviderArn: capacityProviderArn(c.Scope, name), State: "Active",
		VpcConfig: in.VpcConfig, PermissionsConfig: in.PermissionsConfig,
		InstanceRequirements: in.InstanceRequirements, CapacityProviderScalingConfig: in.CapacityProviderScalingConfig,
		LastModified: time.Now().UTC().Format(lastModifiedLayout),
	}
	if cp.CapacityProviderScalingConfig == nil {
		cp.CapacityProviderScalingConfig = &capacityProviderScaling{ScalingMode: "Auto"}
	} else if cp.CapacityProviderScalingConfig.ScalingMode == "" {
		cp.CapacityProviderScalingConfig.ScalingMode = "Auto"
	}
	if cp.InstanceRequirements == nil {
		cp.InstanceRequirements = &instanceRequirements{Architectures: []string{"x86_64"}}
	} else if len(cp.InstanceRequirements.Architectures) == 0 {
		cp.InstanceRequirements.Architectures = []string{"x86_64"}
	}
	if in.KmsKeyArn != nil {
		cp.KmsKeyArn = *in.KmsKeyArn
	}
	err = s.store.Update(r.Context(), func(tx store.Tx) error {
		var existing capacityProvider
		err := tx.Get(bucketCapacityProviders, capacityProviderKey(c.Scope, name), &existing)
		if err == nil {
			return errConflict("Capacity provider already exists: %s", cp.CapacityProviderArn)
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return tx.Put(bucketCapacityProviders, capacityProviderKey(c.Scope, name), capacityProviderRecord{capacityProvider: *cp, Tags: in.Tags})
	})
	if err != nil {
		return err
	}
	return reply(w, c, map[string]any{"CapacityProvider": cp})
}

// loadCapacityProvider reads the provider c's label names.
func loadCapacityProvider(tx store.Tx, c *call) (*capacityProviderRecord, string, error) {
	name, err := capacityProviderName(c.Labels["CapacityProviderName"], c.Scope)
	if err != nil {
		return nil, "", err
	}
	var rec capacityProviderRecord
	err = tx.Get(bucketCapacityProviders, capacityProviderKey(c.Scope, name), &rec)
	if errors.Is(err, store.ErrNotFound) {
		return nil, "", errNotFound("Capacity provider not found: %s", capacityProviderArn(c.Scope, name))
	}
	if err != nil {
		return nil, "", err
	}
	return &rec, name, nil
}

// getCapacityProvider serves GetCapacityProvider.
func (s *Server) getCapacityProvider(w http.ResponseWriter, r *http.Request, c *call) error {
	var rec *capacityProviderRecord
	err := s.store.View(r.Context(), func(tx store.Tx) (err error) {
		rec, _, err = loadCapacityProvider(tx, c)
		return err
	})
	if err != nil {
		return err
	}
	return reply(w, c, map[string]any{"CapacityProvider": rec.capacityProvider})
}

// updateCapacityProvider serves UpdateCapacityProvider (202): only the
// scaling configuration can change.
func (s *Server) updateCapacityProvider(w http.ResponseWriter, r *http.Request, c *call) error {
	var in struct {
		CapacityProviderScalingConfig *capacityProviderScaling `json:"CapacityProviderScalingConfig"`
	}
	if err := decodeBody(r, c, &in); err != nil {
		return err
	}
	var v validationError
	validateScaling(&v, in.CapacityProviderScalingConfig)
	if err := v.err(); err != nil {
		return err
	}
	var rec *capacityProviderRecord
	err := s.store.Update(r.Context(), func(tx store.Tx) error {
		var name string
		var err error
		if rec, name, err = loadCapacityProvider(tx, c); err != nil {
			return err
		}
		if sc := in.CapacityProviderScalingConfig; sc != nil {
			if sc.ScalingMode == "" {
				sc.ScalingMode = rec.CapacityProviderScalingConfig.ScalingMode
			}
			rec.CapacityProviderScalingConfig = sc
		}
		rec.LastModified = time.Now().UTC().Format(lastModifiedLayout)
		return tx.Put(bucketCapacityProviders, capacityProviderKey(c.Scope, name), rec)
	})
	if err != nil {
		return err
	}
	return reply(w, c, map[string]any{"CapacityProvider": rec.capacityProvider})
}

// deleteCapacityProvider serves DeleteCapacityProvider (202). A provider
// that function versions still name cannot go (ResourceConflictException).
func (s *Server) deleteCapacityProvider(w http.ResponseWriter, r *http.Request, c *call) error {
	var cp *capacityProviderRecord
	err := s.store.Update(r.Context(), func(tx store.Tx) error {
		var name string
		var err error
		if cp, name, err = loadCapacityProvider(tx, c); err != nil {
			return err
		}
		users, err := functionsOnProvider(tx, c.Scope, cp.CapacityProviderArn)
		if err != nil {
			return err
		}
		if len(users) > 0 {
			return errConflict("Capacity provider %s is in use by %d function version(s).", cp.CapacityProviderArn, len(users))
		}
		return tx.Delete(bucketCapacityProviders, capacityProviderKey(c.Scope, name))
	})
	if err != nil {
		return err
	}
	cp.State = "Deleting"
	return reply(w, c, map[string]any{"CapacityProvider": cp.capacityProvider})
}

// maxItemsQuery reads a MaxItems query limited to 1..max.
func maxItemsQuery(c *call, max int) (int, error) {
	raw := c.Query.Get("MaxItems")
	if raw == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > max {
		var v validationError
		v.add(raw, "maxItems", fmt.Sprintf("Member must have value between 1 and %d", max))
		return 0, v.err()
	}
	return n, nil
}

// listCapacityProviders serves ListCapacityProviders.
func (s *Server) listCapacityProviders(w http.ResponseWriter, r *http.Request, c *call) error {
	state := c.Query.Get("State")
	switch state {
	case "", "Pending", "Active", "Failed", "Deleting":
	default:
		var v validationError
		v.add(state, "state", "Member must satisfy enum value set: [Pending, Active, Failed, Deleting]")
		return v.err()
	}
	maxItems, err := maxItemsQuery(c, 50)
	if err != nil {
		return err
	}
	var all []*capacityProvider
	err = s.store.View(r.Context(), func(tx store.Tx) error {
		return store.Each(tx, bucketCapacityProviders, c.Scope.Account+"/"+c.Scope.Region+"/", "", func(_ string, rec *capacityProviderRecord) error {
			if state == "" || rec.State == state {
				all = append(all, &rec.capacityProvider)
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	p, err := pageOf(c, all, cmp.Or(maxItems, 50), func(cp *capacityProvider) string { return cp.CapacityProviderArn })
	if err != nil {
		return err
	}
	out := map[string]any{"CapacityProviders": p.items}
	if p.next != "" {
		out["NextMarker"] = p.next
	}
	return reply(w, c, out)
}

// functionVersionOnProvider is one item of ListFunctionVersionsByCapacityProvider.
type functionVersionOnProvider struct {
	FunctionArn string `json:"FunctionArn"`
	State       string `json:"State"`
}

// functionsOnProvider lists the function versions ($LATEST and published)
// whose CapacityProviderConfig names arn.
func functionsOnProvider(tx store.Tx, sc scope, arn string) ([]functionVersionOnProvider, error) {
	var out []functionVersionOnProvider
	collect := func(f *functionRecord) {
		if f.CapProvider != nil && f.CapProvider.LambdaManagedInstancesCapacityProviderConfig != nil &&
			f.CapProvider.LambdaManagedInstancesCapacityProviderConfig.CapacityProviderArn == arn {
			out = append(out, functionVersionOnProvider{FunctionArn: f.arn() + ":" + f.version(), State: f.State})
		}
	}
	prefix := sc.Account + "/" + sc.Region + "/"
	for _, bucket := range []string{bucketFunctions, bucketVersions} {
		err := store.Each(tx, bucket, prefix, "", func(_ string, f *functionRecord) error {
			collect(f)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].FunctionArn < out[j].FunctionArn })
	return out, nil
}

// listFunctionVersionsByCapacityProvider serves ListFunctionVersionsByCapacityProvider.
func (s *Server) listFunctionVersionsByCapacityProvider(w http.ResponseWriter, r *http.Request, c *call) error {
	maxItems, err := maxItemsQuery(c, 50)
	if err != nil {
		return err
	}
	var cp *capacityProviderRecord
	var users []functionVersionOnProvider
	err = s.store.View(r.Context(), func(tx store.Tx) error {
		var err error
		if cp, _, err = loadCapacityProvider(tx, c); err != nil {
			return err
		}
		users, err = functionsOnProvider(tx, c.Scope, cp.CapacityProviderArn)
		return err
	})
	if err != nil {
		return err
	}
	p, err := pageOf(c, users, cmp.Or(maxItems, 50), func(u functionVersionOnProvider) string { return u.FunctionArn })
	if err != nil {
		return err
	}
	out := map[string]any{"CapacityProviderArn": cp.CapacityProviderArn, "FunctionVersions": p.items}
	if p.next != "" {
		out["NextMarker"] = p.next
	}
	return reply(w, c, out)
}

// providerConfig is the model's CapacityProviderConfig of a function.
type providerConfig struct {
	LambdaManagedInstancesCapacityProviderConfig *managedInstancesConfig `json:"LambdaManagedInstancesCapacityProviderConfig"`
}

type managedInstancesConfig struct {
	CapacityProviderArn                   string   `json:"CapacityProviderArn"`
	PerExecutionEnvironmentMaxConcurrency *int32   `json:"PerExecutionEnvironmentMaxConcurrency,omitempty"`
	ExecutionEnvironmentMemoryGiBPerVCpu  *float64 `json:"ExecutionEnvironmentMemoryGiBPerVCpu,omitempty"`
}

var capacityProviderArnPattern = regexp.MustCompile(`^arn:aws[a-zA-Z-]*:lambda:[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:capacity-provider:[a-zA-Z0-9-_]+$`)

// checkCapacityProviderConfig validates a function's CapacityProviderConfig
// and that the provider it names exists.
func checkCapacityProviderConfig(tx store.Tx, sc scope, cfg *providerConfig) error {
	if cfg == nil {
		return nil
	}
	m := cfg.LambdaManagedInstancesCapacityProviderConfig
	if m == nil {
		return errNull("providerConfig.lambdaManagedInstancesCapacityProviderConfig")
	}
	var v validationError
	if !capacityProviderArnPattern.MatchString(m.CapacityProviderArn) {
		v.add(m.CapacityProviderArn, "providerConfig.lambdaManagedInstancesCapacityProviderConfig.capacityProviderArn",
			`Member must satisfy regular expression pattern: arn:aws[a-zA-Z-]*:lambda:[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:capacity-provider:[a-zA-Z0-9-_]+`)
	}
	if p := m.PerExecutionEnvironmentMaxConcurrency; p != nil && (*p < 1 || *p > 1600) {
		v.add(strconv.Itoa(int(*p)), "providerConfig.lambdaManagedInstancesCapacityProviderConfig.perExecutionEnvironmentMaxConcurrency", "Member must have value between 1 and 1600")
	}
	if g := m.ExecutionEnvironmentMemoryGiBPerVCpu; g != nil && (*g < 2 || *g > 8) {
		v.add(strconv.FormatFloat(*g, 'f', -1, 64), "providerConfig.lambdaManagedInstancesCapacityProviderConfig.executionEnvironmentMemoryGiBPerVCpu", "Member must have value between 2.0 and 8.0")
	}
	if err := v.err(); err != nil {
		return err
	}
	parts := strings.Split(m.CapacityProviderArn, ":")
	var cp capacityProviderRecord
	err := tx.Get(bucketCapacityProviders, capacityProviderKey(scope{Account: parts[4], Region: parts[3]}, parts[6]), &cp)
	if errors.Is(err, store.ErrNotFound) || parts[4] != sc.Account || parts[3] != sc.Region {
		return errInvalidParameter("Capacity provider not found: %s", m.CapacityProviderArn)
	}
	return err
}
