// lamb's own declaration of AWS's ClientContext (see Context.java).
package com.amazonaws.services.lambda.runtime;

import java.util.Map;

/** The client application that invoked the function, from a mobile SDK. */
public interface ClientContext {
    Client getClient();

    Map<String, String> getCustom();

    Map<String, String> getEnvironment();
}
