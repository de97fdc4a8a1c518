package api

// parityUnmatchable lists recorded labels lamb cannot match, each with the
// reason ("Class::test label" -> why). TestParity counts them in the
// "cannot" column and fails if one of them is matched after all (then the
// entry is stale and must go). Labels neither matched nor listed here are
// simply not re-enacted yet.
var parityUnmatchable = map[string]string{
	// Client-side: botocore raised ParamValidationError before sending; the
	// recording is the Python exception's text, not an AWS response.
	"TestLambdaFunction::test_create_lambda_exceptions empty_architectures": "botocore ParamValidationError text, never sent to AWS",

	// S3 code locations: lamb has no S3 (code.go refuses S3Bucket/S3Key with a clear message).
	"TestLambdaFunction::test_lambda_code_location_s3 create_response_s3":                                    "lamb has no S3",
	"TestLambdaFunction::test_lambda_code_location_s3 get-function-response":                                 "lamb has no S3",
	"TestLambdaFunction::test_lambda_code_location_s3 update-function-response":                              "lamb has no S3",
	"TestLambdaFunction::test_lambda_code_location_s3 get-function-response-updated":                         "lamb has no S3",
	"TestLambdaFunction::test_lambda_code_location_s3_errors create-error-wrong-bucket":                      "lamb has no S3 (AWS's answer comes from S3 GetObject)",
	"TestLambdaFunction::test_lambda_code_location_s3_errors create-error-wrong-key":                         "lamb has no S3 (AWS's answer comes from S3 GetObject)",
	"TestLambdaFunction::test_lambda_code_location_s3_errors update-error-wrong-bucket":                      "lamb has no S3 (AWS's answer comes from S3 GetObject)",
	"TestLambdaFunction::test_lambda_code_location_s3_errors update-error-wrong-key":                         "lamb has no S3 (AWS's answer comes from S3 GetObject)",
	"TestLambdaLayer::test_layer_s3_content publish_layer_result":                                            "lamb has no S3",
	"TestLambdaFunction::test_invalid_vpc_config_subnet create-response-non-existent-subnet-id":              "answer comes from EC2 DescribeSubnets; lamb has no EC2",
	"TestLambdaFunction::test_invalid_vpc_config_security_group create-response-non-existent-security-group": "answer comes from EC2 DescribeSecurityGroups; lamb has no EC2",

	// VpcConfig answers carry the VpcId EC2 derives from the subnets.
	"TestLambdaFunction::test_vpc_config create_response":                        "VpcId comes from EC2; lamb has no EC2 (and stores no VpcConfig)",
	"TestLambdaFunction::test_vpc_config get_function_response":                  "VpcId comes from EC2; lamb has no EC2 (and stores no VpcConfig)",
	"TestLambdaFunction::test_vpc_config update_vpcconfig_update_response":       "VpcId comes from EC2; lamb has no EC2 (and stores no VpcConfig)",
	"TestLambdaFunction::test_vpc_config update_vpcconfig_get_function_response": "VpcId comes from EC2; lamb has no EC2 (and stores no VpcConfig)",
	"TestLambdaFunction::test_vpc_config delete_vpcconfig_update_response":       "VpcId comes from EC2; lamb has no EC2 (and stores no VpcConfig)",
	"TestLambdaFunction::test_vpc_config delete_vpcconfig_get_function_response": "VpcId comes from EC2; lamb has no EC2 (and stores no VpcConfig)",

	// Recorded on runtimes AWS has since blocked for new functions, and lamb's
	// runtime table (runtimes.Deprecated) blocks them too.
	"TestLambdaSnapStart::test_snapstart_lifecycle[java11] create_function_response":                     "java11: create blocked as deprecated",
	"TestLambdaSnapStart::test_snapstart_lifecycle[java11] get_function_response_latest":                 "java11: create blocked as deprecated",
	"TestLambdaSnapStart::test_snapstart_lifecycle[java11] get_function_response_version_1":              "java11: create blocked as deprecated",
	"TestLambdaSnapStart::test_snapstart_update_function_configuration[java11] create_function_response": "java11: create blocked as deprecated",
	"TestLambdaSnapStart::test_snapstart_update_function_configuration[java11] update_function_response": "java11: create blocked as deprecated",
	"TestLambdaSnapStart::test_snapstart_lifecycle[java17] create_function_response":                     "java17: create blocked as deprecated",
	"TestLambdaSnapStart::test_snapstart_lifecycle[java17] get_function_response_latest":                 "java17: create blocked as deprecated",
	"TestLambdaSnapStart::test_snapstart_lifecycle[java17] get_function_response_version_1":              "java17: create blocked as deprecated",
	"TestLambdaSnapStart::test_snapstart_update_function_configuration[java17] create_function_response": "java17: create blocked as deprecated",
	"TestLambdaSnapStart::test_snapstart_update_function_configuration[java17] update_function_response": "java17: create blocked as deprecated",
	"TestLambdaUrl::test_url_config_exceptions fn_version_result":                                        "nodejs20.x: create blocked as deprecated",
	"TestLambdaUrl::test_url_config_list_paging fn_version_result":                                       "nodejs20.x: create blocked as deprecated",

	// AWS failed internally; the recording holds "<aws_internal_failure>".
	"TestLambdaUrl::test_url_config_exceptions delete_function_url_config_qualifier_alias_doesnotmatch_arn": "AWS internal failure recorded",

	// Byte counts of the recorder's own zips (how much TotalCodeSize grew).
	"TestLambdaAccountSettings::test_account_settings_total_code_size total_code_size_diff_create_function":       "size of the recorder's zip",
	"TestLambdaAccountSettings::test_account_settings_total_code_size total_code_size_diff_update_function":       "size of the recorder's zip",
	"TestLambdaAccountSettings::test_account_settings_total_code_size total_code_size_diff_publish_layer":         "size of the recorder's layer zip",
	"TestLambdaAccountSettings::test_account_settings_total_code_size total_code_size_diff_publish_layer_version": "size of the recorder's layer zip",
}
