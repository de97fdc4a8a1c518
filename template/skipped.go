package template

import (
	"fmt"
	"strings"
)

// nameProperties are the properties that name a resource of each type, when
// the template gives one.
var nameProperties = map[string]string{
	"AWS::IAM::Role":                   "RoleName",
	"AWS::IAM::Policy":                 "PolicyName",
	"AWS::IAM::ManagedPolicy":          "ManagedPolicyName",
	"AWS::SQS::Queue":                  "QueueName",
	"AWS::SNS::Topic":                  "TopicName",
	"AWS::DynamoDB::Table":             "TableName",
	"AWS::Serverless::SimpleTable":     "TableName",
	"AWS::S3::Bucket":                  "BucketName",
	"AWS::Kinesis::Stream":             "Name",
	"AWS::Logs::LogGroup":              "LogGroupName",
	"AWS::Events::Rule":                "Name",
	"AWS::Events::EventBus":            "Name",
	"AWS::StepFunctions::StateMachine": "StateMachineName",
	"AWS::Serverless::StateMachine":    "Name",
	"AWS::SecretsManager::Secret":      "Name",
	"AWS::SSM::Parameter":              "Name",
}

// skipReason says why lamb does not create a resource of type typ.
func skipReason(typ string) string {
	switch {
	case strings.HasPrefix(typ, "AWS::IAM::"):
		return "lamb does not enforce IAM: functions run with the credentials lamb gives them"
	case typ == "AWS::Serverless::Api" || typ == "AWS::Serverless::HttpApi" || strings.HasPrefix(typ, "AWS::ApiGateway") || strings.HasPrefix(typ, "AWS::ApiGatewayV2"):
		return "lamb has no API Gateway: give the function a FunctionUrlConfig, or invoke it"
	case strings.HasPrefix(typ, "AWS::Lambda::"), strings.HasPrefix(typ, "AWS::Serverless::"):
		return "lamb deploy does not create " + typ + " yet"
	case strings.HasPrefix(typ, "Custom::"), typ == "AWS::CloudFormation::CustomResource":
		return "lamb does not run custom resources"
	}
	return "not a Lambda resource: lamb runs functions only; point the function at a real or emulated " + serviceOf(typ)
}

func serviceOf(typ string) string {
	parts := strings.Split(typ, "::")
	if len(parts) >= 2 {
		return parts[1]
	}
	return typ
}

// plausible returns what Ref and Fn::GetAtt of a skipped resource give: the
// name the template gives it or one made from the stack and logical id, and
// ARNs in the stack's account and region.
func plausible(p Pseudo, typ, id string, name string) *Deployed {
	if name == "" {
		name = physicalName(p.StackName, id, 64)
	}
	part, region, acct := p.partition(), p.Region, p.AccountID
	arn := func(service, resource string) string {
		return fmt.Sprintf("arn:%s:%s:%s:%s:%s", part, service, region, acct, resource)
	}
	d := &Deployed{Ref: name, Attrs: map[string]any{}}
	switch typ {
	case "AWS::IAM::Role":
		d.Attrs["Arn"] = fmt.Sprintf("arn:%s:iam::%s:role/%s", part, acct, name)
		d.Attrs["RoleId"] = "AROALAMB" + strings.ToUpper(id)
	case "AWS::IAM::ManagedPolicy":
		d.Ref = fmt.Sprintf("arn:%s:iam::%s:policy/%s", part, acct, name)
		d.Attrs["PolicyArn"] = d.Ref
	case "AWS::SQS::Queue":
		d.Ref = fmt.Sprintf("https://sqs.%s.%s/%s/%s", region, p.urlSuffix(), acct, name)
		d.Attrs["Arn"] = arn("sqs", name)
		d.Attrs["QueueName"] = name
		d.Attrs["QueueUrl"] = d.Ref
	case "AWS::SNS::Topic":
		d.Ref = arn("sns", name)
		d.Attrs["TopicArn"] = d.Ref
		d.Attrs["TopicName"] = name
	case "AWS::DynamoDB::Table", "AWS::Serverless::SimpleTable":
		d.Attrs["Arn"] = arn("dynamodb", "table/"+name)
		d.Attrs["StreamArn"] = arn("dynamodb", "table/"+name+"/stream/1980-01-01T00:00:00.000")
	case "AWS::Kinesis::Stream":
		d.Attrs["Arn"] = arn("kinesis", "stream/"+name)
	case "AWS::S3::Bucket":
		d.Attrs["Arn"] = fmt.Sprintf("arn:%s:s3:::%s", part, name)
		d.Attrs["DomainName"] = name + ".s3." + p.urlSuffix()
		d.Attrs["RegionalDomainName"] = name + ".s3." + region + "." + p.urlSuffix()
		d.Attrs["WebsiteURL"] = "http://" + name + ".s3-website-" + region + "." + p.urlSuffix()
	case "AWS::Logs::LogGroup":
		d.Attrs["Arn"] = arn("logs", "log-group:"+name+":*")
	case "AWS::Events::Rule":
		d.Attrs["Arn"] = arn("events", "rule/"+name)
	case "AWS::Events::EventBus":
		d.Attrs["Arn"] = arn("events", "event-bus/"+name)
		d.Attrs["Name"] = name
	case "AWS::StepFunctions::StateMachine", "AWS::Serverless::StateMachine":
		d.Ref = arn("states", "stateMachine:"+name)
		d.Attrs["Arn"] = d.Ref
		d.Attrs["Name"] = name
	case "AWS::SecretsManager::Secret":
		d.Ref = arn("secretsmanager", "secret:"+name)
	case "AWS::SSM::Parameter":
		d.Attrs["Type"] = "String"
	case "AWS::Serverless::Api", "AWS::ApiGateway::RestApi", "AWS::Serverless::HttpApi", "AWS::ApiGatewayV2::Api":
		d.Ref = strings.ToLower(strings.ReplaceAll(id, "-", ""))
		if len(d.Ref.(string)) > 10 {
			d.Ref = d.Ref.(string)[:10]
		}
		d.Attrs["RootResourceId"] = "root"
		d.Attrs["ApiEndpoint"] = fmt.Sprintf("https://%s.execute-api.%s.%s", d.Ref, region, p.urlSuffix())
	default:
		d.Attrs["Arn"] = arn(strings.ToLower(serviceOf(typ)), name)
	}
	return d
}

// physicalName is the name lamb gives a resource the template does not
// name: STACK-LogicalId, cut to max characters.
func physicalName(stack, id string, max int) string {
	n := stack + "-" + id
	if len(n) > max {
		n = n[:max]
	}
	return n
}
