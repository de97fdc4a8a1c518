// lamb's own declaration of AWS's Client (see Context.java).
package com.amazonaws.services.lambda.runtime;

/** The mobile application of a ClientContext. */
public interface Client {
    String getInstallationId();

    String getAppTitle();

    String getAppVersionName();

    String getAppVersionCode();

    String getAppPackageName();
}
