package api

// parityUnmatchable lists recorded labels lamb cannot match, each with the
// reason ("Class::test label" -> why). TestParity counts them in the
// "cannot" column and fails if one of them is matched after all (then the
// entry is stale and must go). Labels neither matched nor listed here are
// simply not re-enacted yet.
var parityUnmatchable = map[string]string{
	// Client-side: botocore raised ParamValidationError before sending; the
	// recording is the Python exception's text, not an AWS response.

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

	// VpcConfig answers carry the VpcId EC2 derives from the subnets; lamb
	// stores and answers VpcConfig, and the rest of these answers matches
	// (TestLambdaFunction::test_vpc_config in parity_config_test.go).
	"TestLambdaFunction::test_vpc_config create_response":                        "VpcId comes from EC2; lamb has no EC2",
	"TestLambdaFunction::test_vpc_config get_function_response":                  "VpcId comes from EC2; lamb has no EC2",
	"TestLambdaFunction::test_vpc_config update_vpcconfig_update_response":       "VpcId comes from EC2; lamb has no EC2",
	"TestLambdaFunction::test_vpc_config update_vpcconfig_get_function_response": "VpcId comes from EC2; lamb has no EC2",

	// AWS failed internally; the recording holds "<aws_internal_failure>".
	"TestLambdaUrl::test_url_config_exceptions delete_function_url_config_qualifier_alias_doesnotmatch_arn": "AWS internal failure recorded",

	// Byte counts of the recorder's own zips (how much TotalCodeSize grew).
	"TestLambdaAccountSettings::test_account_settings_total_code_size total_code_size_diff_create_function":       "size of the recorder's zip",
	"TestLambdaAccountSettings::test_account_settings_total_code_size total_code_size_diff_update_function":       "size of the recorder's zip",
	"TestLambdaAccountSettings::test_account_settings_total_code_size total_code_size_diff_publish_layer":         "size of the recorder's layer zip",
	"TestLambdaAccountSettings::test_account_settings_total_code_size total_code_size_diff_publish_layer_version": "size of the recorder's layer zip",

	// Policies and versions: 2022 recordings that later recordings of the
	// same steps contradict (lamb follows the 2025 ones), and 2022 function
	// answers, which lack LoggingConfig, SnapStart and RuntimeVersionConfig
	// (AWS now always returns them).
	"TestLambdaPermissions::test_lambda_permission_revisions add_permission_revision_id_doesnotmatch": "2022 message names GetFunction/GetAlias; AWS 2025 answers the same call (TestLambdaRevisions::test_function_revisions_permissions add_permission_revision_exception) with GetPolicy",
	"TestLambdaPermissions::test_lambda_permission_versioning get_policy_after_publishing_latest":     "2022: PublishVersion moved the unqualified policy's RevisionId; 2025 (test_lambda_permission_fn_versioning, same steps) keeps it",
	"TestLambdaPermissions::test_lambda_permission_versioning get_policy_after_adding_to_new_version": "2022: PublishVersion moved the unqualified policy's RevisionId; 2025 (test_lambda_permission_fn_versioning, same steps) keeps it",
	"TestLambdaPermissions::test_lambda_permission_versioning get_policy_after_adding_2":              "2022: PublishVersion moved the unqualified policy's RevisionId (one RevisionId more to number); 2025 keeps it",
	"TestLambdaPermissions::test_lambda_permission_revisions get_function_fn8":                        "2022 python3.8 answer without LoggingConfig/SnapStart/RuntimeVersionConfig (RevisionId compared alone)",
	"TestLambdaPermissions::test_lambda_permission_revisions get_function_fn8_v1":                     "2022 python3.8 answer without LoggingConfig/SnapStart/RuntimeVersionConfig (RevisionId compared alone)",
	"TestLambdaPermissions::test_lambda_permission_revisions get_function_fn9":                        "2022 python3.8 answer without LoggingConfig/SnapStart/RuntimeVersionConfig (RevisionId compared alone)",
	"TestLambdaPermissions::test_lambda_permission_revisions get_function_fn9_v1":                     "2022 python3.8 answer without LoggingConfig/SnapStart/RuntimeVersionConfig (RevisionId compared alone)",
	"TestLambdaVersions::test_publish_with_wrong_revisionid create_response":                          "python3.9, 2022 shape without LoggingConfig/SnapStart/RuntimeVersionConfig",
	"TestLambdaVersions::test_publish_with_wrong_revisionid get_fn_response":                          "python3.9, 2022 shape without LoggingConfig/SnapStart/RuntimeVersionConfig",
	"TestLambdaVersions::test_publish_with_wrong_revisionid publish_result":                           "python3.9, 2022 shape without LoggingConfig/SnapStart/RuntimeVersionConfig",

	// Answers of other services the scenarios call along the way.
	"TestLambdaEventSourceMappings::test_event_source_mapping_lifecycle update_table_response":                 "DynamoDB UpdateTable's answer (TableDescription); no Lambda operation produces it",
	"TestLambdaEventSourceMappings::test_event_source_mapping_lifecycle_delete_function update_table_response": "DynamoDB UpdateTable's answer (TableDescription); no Lambda operation produces it",
	"TestLambdaSizeLimits::test_oversized_lambda invalid_param_exc":                                            "lamb has no S3 (the recorded test creates the function from S3Bucket/S3Key)",
}
