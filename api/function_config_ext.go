package api

import (
	"regexp"
	"strconv"
	"strings"
)

// Function settings lamb stores and answers as AWS does but that shape no
// local behaviour: VpcConfig (lamb has no EC2, so no network is attached and
// the VPC a subnet belongs to is unknown), DurableConfig (no durable execution
// runtime, durable.go) and TenancyConfig (one tenant per function here).

// AWS's per-member checks of VpcConfig (not in the Smithy model, which only
// bounds the lists; the messages are AWS's, recorded in
// TestLambdaFunction::test_invalid_vpc_config_*).
var (
	subnetIDPattern        = regexp.MustCompile(`^subnet-[0-9a-z]*$`)
	securityGroupIDPattern = regexp.MustCompile(`^sg-[0-9a-zA-Z]*$`)
)

const (
	maxSubnetIDs         = 16
	maxSecurityGroupIDs  = 5
	maxVpcMemberIDLength = 1024
)

// vpcConfigInput is the VpcConfig member of CreateFunction and
// UpdateFunctionConfiguration.
type vpcConfigInput struct {
	SubnetIds               []string `json:"SubnetIds"`
	SecurityGroupIds        []string `json:"SecurityGroupIds"`
	Ipv6AllowedForDualStack *bool    `json:"Ipv6AllowedForDualStack"`
}

// vpcConfig is a function's stored VpcConfig; a nil *vpcConfig means none was
// ever set, and AWS then shows no VpcConfig at all.
type vpcConfig struct {
	SubnetIDs               []string `json:"subnetIds"`
	SecurityGroupIDs        []string `json:"securityGroupIds"`
	Ipv6AllowedForDualStack bool     `json:"ipv6AllowedForDualStack"`
}

// vpcConfigResponse is the model's VpcConfigResponse.
type vpcConfigResponse struct {
	SubnetIds               []string `json:"SubnetIds"`
	SecurityGroupIds        []string `json:"SecurityGroupIds"`
	VpcId                   string   `json:"VpcId"`
	Ipv6AllowedForDualStack bool     `json:"Ipv6AllowedForDualStack"`
}

// validateVpcConfig adds AWS's constraint violations of in to v.
func validateVpcConfig(v *validationError, in *vpcConfigInput) {
	if in == nil {
		return
	}
	checkIDs := func(ids []string, member string, max int, pattern *regexp.Regexp, patternText string) {
		value := "[" + strings.Join(ids, ", ") + "]"
		if len(ids) > max {
			v.add(value, member, "Member must have length less than or equal to "+strconv.Itoa(max))
		}
		for _, id := range ids {
			if len(id) > maxVpcMemberIDLength || !pattern.MatchString(id) {
				v.add(value, member, "Member must satisfy constraint: [Member must have length less than or equal to 1024, Member must have length greater than or equal to 0, Member must satisfy regular expression pattern: "+patternText+"]")
				return
			}
		}
	}
	checkIDs(in.SubnetIds, "vpcConfig.subnetIds", maxSubnetIDs, subnetIDPattern, "subnet-[0-9a-z]*")
	checkIDs(in.SecurityGroupIds, "vpcConfig.securityGroupIds", maxSecurityGroupIDs, securityGroupIDPattern, "sg-[0-9a-zA-Z]*")
}

// toRecord is what is stored for in: the lists as sent (none is an empty
// list, as AWS answers a VpcConfig that was cleared).
func (in *vpcConfigInput) toRecord() *vpcConfig {
	c := &vpcConfig{SubnetIDs: nonNil(in.SubnetIds), SecurityGroupIDs: nonNil(in.SecurityGroupIds)}
	if in.Ipv6AllowedForDualStack != nil {
		c.Ipv6AllowedForDualStack = *in.Ipv6AllowedForDualStack
	}
	return c
}

// response renders c. VpcId is AWS's look-up of the subnets in EC2; lamb has
// no EC2, so it stays empty (as AWS shows it for a function without subnets).
func (c *vpcConfig) response() *vpcConfigResponse {
	if c == nil {
		return nil
	}
	return &vpcConfigResponse{
		SubnetIds:               append([]string{}, c.SubnetIDs...),
		SecurityGroupIds:        append([]string{}, c.SecurityGroupIDs...),
		Ipv6AllowedForDualStack: c.Ipv6AllowedForDualStack,
	}
}

// durableConfig is the model's DurableConfig, stored and answered as sent.
type durableConfig struct {
	RetentionPeriodInDays *int32 `json:"RetentionPeriodInDays,omitempty"`
	ExecutionTimeout      *int32 `json:"ExecutionTimeout,omitempty"`
}

// validateDurableConfig adds the model's range violations of in to v.
func validateDurableConfig(v *validationError, in *durableConfig) {
	if in == nil {
		return
	}
	rangeCheck := func(n *int32, member string, lo, hi int64) {
		switch {
		case n == nil:
		case int64(*n) < lo:
			v.add(strconv.Itoa(int(*n)), member, "Member must have value greater than or equal to "+strconv.FormatInt(lo, 10))
		case int64(*n) > hi:
			v.add(strconv.Itoa(int(*n)), member, "Member must have value less than or equal to "+strconv.FormatInt(hi, 10))
		}
	}
	rangeCheck(in.RetentionPeriodInDays, "durableConfig.retentionPeriodInDays", 1, 90)
	rangeCheck(in.ExecutionTimeout, "durableConfig.executionTimeout", 1, 31622400)
}

// tenancyConfig is the model's TenancyConfig: set at CreateFunction only
// (UpdateFunctionConfiguration has no such member).
type tenancyConfig struct {
	TenantIsolationMode *string `json:"TenantIsolationMode"`
}

// validateTenancyConfig adds the model's violations of in to v: the mode is
// required and PER_TENANT is its only value.
func validateTenancyConfig(v *validationError, in *tenancyConfig) {
	if in == nil {
		return
	}
	switch m := in.TenantIsolationMode; {
	case m == nil:
		v.null("tenancyConfig.tenantIsolationMode")
	case *m != "PER_TENANT":
		v.add(*m, "tenancyConfig.tenantIsolationMode", "Member must satisfy enum value set: [PER_TENANT]")
	}
}

// nonNil answers a list never sent as [], as AWS does for VpcConfig.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
