// lamb's own declaration of AWS's CognitoIdentity (see Context.java).
package com.amazonaws.services.lambda.runtime;

/** The Amazon Cognito identity that invoked the function, from a mobile SDK. */
public interface CognitoIdentity {
    String getIdentityId();

    String getIdentityPoolId();
}
