package api

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// TestConfigExtValidation: VpcConfig, DurableConfig and TenancyConfig members
// AWS refuses, with AWS's error type and message.
func TestConfigExtValidation(t *testing.T) {
	h := newHarness(t, Config{})
	ctx := context.Background()
	manySubnets := make([]string, 17)
	for i := range manySubnets {
		manySubnets[i] = "subnet-" + string(rune('a'+i))
	}
	const invalid = "ValidationException"
	testCreateRefusals(t, h, "fn-ext-invalid", []createRefusal{
		{"subnet id format", func(in *lambda.CreateFunctionInput) {
			in.VpcConfig = &types.VpcConfig{SubnetIds: []string{"subnet-ok", "Subnet-BAD"}}
		}, invalid, "Value '[subnet-ok, Subnet-BAD]' at 'vpcConfig.subnetIds' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 1024, Member must have length greater than or equal to 0, Member must satisfy regular expression pattern: subnet-[0-9a-z]*]"},
		{"too many subnets", func(in *lambda.CreateFunctionInput) {
			in.VpcConfig = &types.VpcConfig{SubnetIds: manySubnets}
		}, invalid, "at 'vpcConfig.subnetIds' failed to satisfy constraint: Member must have length less than or equal to 16"},
		{"security group format", func(in *lambda.CreateFunctionInput) {
			in.VpcConfig = &types.VpcConfig{SecurityGroupIds: []string{"group1"}}
		}, invalid, "Value '[group1]' at 'vpcConfig.securityGroupIds' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 1024, Member must have length greater than or equal to 0, Member must satisfy regular expression pattern: sg-[0-9a-zA-Z]*]"},
		{"too many security groups", func(in *lambda.CreateFunctionInput) {
			in.VpcConfig = &types.VpcConfig{SecurityGroupIds: []string{"sg-1", "sg-2", "sg-3", "sg-4", "sg-5", "sg-6"}}
		}, invalid, "at 'vpcConfig.securityGroupIds' failed to satisfy constraint: Member must have length less than or equal to 5"},
		{"durable retention over 90", func(in *lambda.CreateFunctionInput) {
			in.DurableConfig = &types.DurableConfig{RetentionPeriodInDays: aws.Int32(91)}
		}, invalid, "Value '91' at 'durableConfig.retentionPeriodInDays' failed to satisfy constraint: Member must have value less than or equal to 90"},
		{"durable timeout zero", func(in *lambda.CreateFunctionInput) {
			in.DurableConfig = &types.DurableConfig{ExecutionTimeout: aws.Int32(0)}
		}, invalid, "Value '0' at 'durableConfig.executionTimeout' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{"tenancy mode unknown", func(in *lambda.CreateFunctionInput) {
			in.TenancyConfig = &types.TenancyConfig{TenantIsolationMode: "SHARED"}
		}, invalid, "Value 'SHARED' at 'tenancyConfig.tenantIsolationMode' failed to satisfy constraint: Member must satisfy enum value set: [PER_TENANT]"},
	})
	// None of them created the function.
	if _, err := h.client.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("fn-ext-invalid")}); err == nil {
		t.Fatal("a refused CreateFunction left a function behind")
	}
}

// TestConfigExtStoredAndAnswered: the settings are stored, answered by every
// read, survive unrelated updates, are replaced by UpdateFunctionConfiguration
// (TenancyConfig only at create) and are frozen into published versions.
func TestConfigExtStoredAndAnswered(t *testing.T) {
	h := newHarness(t, Config{})
	ctx := context.Background()
	name := "fn-ext"
	in := createInput(t, name)
	in.VpcConfig = &types.VpcConfig{SubnetIds: []string{"subnet-1a"}, SecurityGroupIds: []string{"sg-1a"}, Ipv6AllowedForDualStack: aws.Bool(true)}
	in.DurableConfig = &types.DurableConfig{RetentionPeriodInDays: aws.Int32(7), ExecutionTimeout: aws.Int32(3600)}
	in.TenancyConfig = &types.TenancyConfig{TenantIsolationMode: types.TenantIsolationModePerTenant}
	created, err := h.client.CreateFunction(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	type view struct {
		subnets, groups string
		ipv6            bool
		retention       int32
		timeout         int32
		tenancy         types.TenantIsolationMode
	}
	viewOf := func(vpc *types.VpcConfigResponse, d *types.DurableConfig, ten *types.TenancyConfig) view {
		var v view
		if vpc != nil {
			v.subnets, v.groups, v.ipv6 = strings.Join(vpc.SubnetIds, ","), strings.Join(vpc.SecurityGroupIds, ","), aws.ToBool(vpc.Ipv6AllowedForDualStack)
		}
		if d != nil {
			v.retention, v.timeout = aws.ToInt32(d.RetentionPeriodInDays), aws.ToInt32(d.ExecutionTimeout)
		}
		if ten != nil {
			v.tenancy = ten.TenantIsolationMode
		}
		return v
	}
	want := view{"subnet-1a", "sg-1a", true, 7, 3600, types.TenantIsolationModePerTenant}
	if got := viewOf(created.VpcConfig, created.DurableConfig, created.TenancyConfig); got != want {
		t.Fatalf("CreateFunction answered %+v, want %+v", got, want)
	}
	waitActive(t, h.client, name)
	get, err := h.client.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	c := get.Configuration
	if got := viewOf(c.VpcConfig, c.DurableConfig, c.TenancyConfig); got != want {
		t.Fatalf("GetFunction answered %+v, want %+v", got, want)
	}

	steps := []struct {
		name   string
		update lambda.UpdateFunctionConfigurationInput
		want   view
	}{
		{"unrelated update keeps them", lambda.UpdateFunctionConfigurationInput{Description: aws.String("d")}, want},
		{"durable replaced", lambda.UpdateFunctionConfigurationInput{DurableConfig: &types.DurableConfig{ExecutionTimeout: aws.Int32(60)}},
			view{"subnet-1a", "sg-1a", true, 0, 60, types.TenantIsolationModePerTenant}},
		{"vpc cleared", lambda.UpdateFunctionConfigurationInput{VpcConfig: &types.VpcConfig{SubnetIds: []string{}, SecurityGroupIds: []string{}}},
			view{"", "", false, 0, 60, types.TenantIsolationModePerTenant}},
	}
	for _, st := range steps {
		up := st.update
		up.FunctionName = aws.String(name)
		if _, err := h.client.UpdateFunctionConfiguration(ctx, &up); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		waitUpdated(t, h.client, name)
		cfg, err := h.client.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		if got := viewOf(cfg.VpcConfig, cfg.DurableConfig, cfg.TenancyConfig); got != st.want {
			t.Fatalf("%s: answered %+v, want %+v", st.name, got, st.want)
		}
		if cfg.VpcConfig == nil || cfg.VpcConfig.SubnetIds == nil || cfg.VpcConfig.VpcId == nil {
			t.Fatalf("%s: VpcConfig %+v, want it shown with lists and VpcId once set", st.name, cfg.VpcConfig)
		}
	}

	pub, err := h.client.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	if got := viewOf(pub.VpcConfig, pub.DurableConfig, pub.TenancyConfig); got != steps[len(steps)-1].want {
		t.Fatalf("published version answered %+v", got)
	}

	// A function that never had them shows none.
	plain := createInput(t, "fn-plain")
	out, err := h.client.CreateFunction(ctx, plain)
	if err != nil {
		t.Fatal(err)
	}
	if out.VpcConfig != nil || out.DurableConfig != nil || out.TenancyConfig != nil {
		t.Fatalf("plain function shows %+v %+v %+v", out.VpcConfig, out.DurableConfig, out.TenancyConfig)
	}
}
