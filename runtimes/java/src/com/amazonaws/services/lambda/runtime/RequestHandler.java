// lamb's own declaration of AWS's RequestHandler (see Context.java).
package com.amazonaws.services.lambda.runtime;

/** A handler whose event is deserialized into I and whose result O is serialized to JSON. */
public interface RequestHandler<I, O> {
    O handleRequest(I input, Context context);
}
