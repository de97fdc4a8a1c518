// A two-function CDK app; ../cdk.out is its synthesised output (see ../README.md).
const cdk = require("aws-cdk-lib");
const lambda = require("aws-cdk-lib/aws-lambda");

const app = new cdk.App();
const stack = new cdk.Stack(app, "CdkDemo");
const py = new lambda.Function(stack, "PyFn", {
  runtime: lambda.Runtime.PYTHON_3_12,
  handler: "app.handler",
  code: lambda.Code.fromAsset(`${__dirname}/py`),
});
const node = new lambda.Function(stack, "NodeFn", {
  runtime: lambda.Runtime.NODEJS_22_X,
  handler: "index.handler",
  code: lambda.Code.fromAsset(`${__dirname}/node`),
  environment: { PEER: py.functionName },
});
new cdk.CfnOutput(stack, "PyName", { value: py.functionName });
new cdk.CfnOutput(stack, "NodeName", { value: node.functionName });
app.synth();
