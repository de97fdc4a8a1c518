package api

import (
	"crypto/rand"
	"encoding/hex"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

var _ = registerParity("TestLambdaAccountSettings::test_account_settings", nil, func(p *parity) {
	if _, err := p.h.client.GetAccountSettings(p.ctx, &lambda.GetAccountSettingsInput{}); err != nil || p.h.rec.lastResponse().status != 200 {
		p.t.Fatal(err)
	}
	view := p.h.rec.lastResponse().boto3View(p.t)
	keys := func(m any) []string {
		var out []string
		for k := range m.(map[string]any) {
			out = append(out, k)
		}
		sort.Strings(out)
		return out
	}
	// The recording keeps only the member names (the values are the account's).
	p.checkValue("acc_settings_modded", map[string]any{
		"AccountLimit": keys(view["AccountLimit"]), "AccountUsage": keys(view["AccountUsage"]),
		"ResponseMetadata": map[string]any{"HTTPHeaders": map[string]any{}, "HTTPStatusCode": 200},
	})
})

var _ = registerParity("TestLambdaAccountSettings::test_account_settings_total_code_size_config_update", nil, func(p *parity) {
	usage := func() int64 {
		out, err := p.h.client.GetAccountSettings(p.ctx, &lambda.GetAccountSettingsInput{})
		if err != nil {
			p.t.Fatal(err)
		}
		return out.AccountUsage.TotalCodeSize
	}
	name := "acct-size"
	before := usage()
	p.createFn(name, func(in *lambda.CreateFunctionInput) {
		// Like the recording's, a zip of more than 200 bytes (random text does not compress).
		in.Code.ZipFile = zipOf(p.t, map[string]string{"index.py": "def handler(event, context):\n    return event\n# " + randomText() + "\n"})
	}, true)
	afterCreate := usage()
	// The recorded function's zip was larger than 200 bytes; ours is its size.
	out, err := p.h.client.GetFunction(p.ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name)})
	if err != nil {
		p.t.Fatal(err)
	}
	size := out.Configuration.CodeSize
	p.checkValue("is_total_code_size_diff_create_function_more_than_200", afterCreate-before == size && size > 200)
	if _, err := p.h.client.UpdateFunctionConfiguration(p.ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String(name), Description: aws.String("x")}); err != nil {
		p.t.Fatal(err)
	}
	waitUpdated(p.t, p.h.client, name)
	afterUpdate := usage()
	p.checkValue("total_code_size_diff_update_function_configuration", afterUpdate-afterCreate)
	p.publish(&lambda.PublishVersionInput{FunctionName: aws.String(name)})
	p.checkValue("is_total_code_size_diff_publish_version_after_config_update_more_than_200", usage()-afterUpdate == size && size > 200)
})

func randomText() string {
	b := make([]byte, 300)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
