// lamb's own declaration of the Context interface of AWS's Java runtime
// (aws-lambda-java-core), written from its documentation: method names and
// types only, so handlers written against it compile and run on lamb.
package com.amazonaws.services.lambda.runtime;

/** The invocation, function and execution environment a handler runs in. */
public interface Context {
    String getAwsRequestId();

    String getLogGroupName();

    String getLogStreamName();

    String getFunctionName();

    String getFunctionVersion();

    String getInvokedFunctionArn();

    CognitoIdentity getIdentity();

    ClientContext getClientContext();

    int getRemainingTimeInMillis();

    int getMemoryLimitInMB();

    LambdaLogger getLogger();
}
