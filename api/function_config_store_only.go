package api

import (
	"regexp"
	"strconv"
	"strings"
)

// Function settings lamb stores and answers as AWS does but that shape no
// local behaviour: VpcConfig (lamb has no EC2, so no network is attached and
// the VPC a subnet belongs to is unknown), DurableConfig (no durable execution
// runtime, durable.go), TenancyConfig (one tenant per function here),
// DeadLetterConfig (lamb's async queue keeps failed events in its own store
// and sends nothing to SQS or SNS) and FileSystemConfigs (no EFS is mounted).

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

// deadLetterConfig is the model's DeadLetterConfig.
type deadLetterConfig struct {
	TargetArn *string `json:"TargetArn,omitempty"`
}

// resourceArnPattern is the model's ResourceArn, which TargetArn targets.
// AWS matches a pattern against the whole value, which its alternation
// without a group around it would not do here.
const resourceArnPatternText = `^(arn:(aws[a-zA-Z-]*)?:[a-z0-9-.]+:.*)|()$`

var resourceArnPattern = regexp.MustCompile(`^(?:` + resourceArnPatternText + `)$`)

// validateDeadLetterConfig adds the model's violations of in to v.
func validateDeadLetterConfig(v *validationError, in *deadLetterConfig) {
	if in == nil || in.TargetArn == nil {
		return
	}
	if !resourceArnPattern.MatchString(*in.TargetArn) {
		v.add(*in.TargetArn, "deadLetterConfig.targetArn", "Member must satisfy regular expression pattern: "+resourceArnPatternText)
	}
}

// fileSystemConfig is the model's FileSystemConfig, stored and answered as
// sent.
type fileSystemConfig struct {
	Arn            *string `json:"Arn"`
	LocalMountPath *string `json:"LocalMountPath"`
}

// The model's FileSystemArn and LocalMountPath (lambda.json); AWS prints the
// pattern with its anchors, as a public report of its answer shows:
// "Value '/flock/q3-00' at 'fileSystemConfigs.1.member.localMountPath'
// failed to satisfy constraint: Member must satisfy regular expression
// pattern: ^/mnt/[a-zA-Z0-9-_.]+$" (flock-lab/flock#391).
const (
	fileSystemArnPatternText  = `^arn:aws[a-zA-Z-]*:elasticfilesystem:[a-z]{2}((-gov)|(-iso(b?)))?-[a-z]+-\d{1}:\d{12}:access-point/fsap-[a-f0-9]{17}$`
	localMountPathPatternText = `^/mnt/[a-zA-Z0-9-_.]+$`
	maxFileSystemConfigs      = 1
	maxFileSystemArnLength    = 200
	maxLocalMountPathLength   = 160
)

var (
	fileSystemArnPattern  = regexp.MustCompile(fileSystemArnPatternText)
	localMountPathPattern = regexp.MustCompile(localMountPathPatternText)
)

// validateFileSystemConfigs adds the model's violations of in to v; members
// are numbered from 1, as AWS numbers them.
func validateFileSystemConfigs(v *validationError, in *[]fileSystemConfig) {
	if in == nil {
		return
	}
	if len(*in) > maxFileSystemConfigs {
		v.add(fileSystemConfigsValue(*in), "fileSystemConfigs", "Member must have length less than or equal to "+strconv.Itoa(maxFileSystemConfigs))
	}
	for i, fs := range *in {
		member := "fileSystemConfigs." + strconv.Itoa(i+1) + ".member."
		switch {
		case fs.Arn == nil:
			v.null(member + "arn")
		case len(*fs.Arn) > maxFileSystemArnLength:
			v.add(*fs.Arn, member+"arn", "Member must have length less than or equal to "+strconv.Itoa(maxFileSystemArnLength))
		case !fileSystemArnPattern.MatchString(*fs.Arn):
			v.add(*fs.Arn, member+"arn", "Member must satisfy regular expression pattern: "+fileSystemArnPatternText)
		}
		switch {
		case fs.LocalMountPath == nil:
			v.null(member + "localMountPath")
		case len(*fs.LocalMountPath) > maxLocalMountPathLength:
			v.add(*fs.LocalMountPath, member+"localMountPath", "Member must have length less than or equal to "+strconv.Itoa(maxLocalMountPathLength))
		case !localMountPathPattern.MatchString(*fs.LocalMountPath):
			v.add(*fs.LocalMountPath, member+"localMountPath", "Member must satisfy regular expression pattern: "+localMountPathPatternText)
		}
	}
}

// fileSystemConfigsValue prints a list for a length violation in the style of
// AWS's Java model objects; AWS's exact print of this list is not recorded
// anywhere lamb could read, so this one is a likeness.
func fileSystemConfigsValue(in []fileSystemConfig) string {
	parts := make([]string, len(in))
	for i, fs := range in {
		parts[i] = "FileSystemConfig(arn=" + deref(fs.Arn) + ", localMountPath=" + deref(fs.LocalMountPath) + ")"
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func deref(s *string) string {
	if s == nil {
		return "null"
	}
	return *s
}

// applyDeadLetterAndFileSystems copies DeadLetterConfig and FileSystemConfigs
// onto f when sent: an empty TargetArn removes the queue and an empty list
// the file systems, which AWS then stops answering.
func applyDeadLetterAndFileSystems(f *functionRecord, in *configInput) {
	if dl := in.DeadLetterConfig; dl != nil {
		f.DeadLetterArn = ""
		if dl.TargetArn != nil {
			f.DeadLetterArn = *dl.TargetArn
		}
	}
	if in.FileSystemConfigs != nil {
		f.FileSystems = nil
		if len(*in.FileSystemConfigs) > 0 {
			f.FileSystems = append([]fileSystemConfig{}, *in.FileSystemConfigs...)
		}
	}
}

// nonNil answers a list never sent as [], as AWS does for VpcConfig.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
