package lamb.runtime;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * A function's handler, resolved once at init from _HANDLER as AWS's Java
 * runtimes name it: "package.Class::method", or "package.Class" for its
 * handleRequest. The shapes it calls:
 *
 * <ul>
 *   <li>RequestStreamHandler, or a method (InputStream, OutputStream[, Context]): raw bytes in and out;
 *   <li>RequestHandler&lt;I, O&gt;, or a method ([I[, Context]]): the event as I (String, byte[], Map, List,
 *       a number, Boolean, Object, or a plain class with a no-argument constructor and public fields or
 *       setters), the result as JSON (byte[] is written as is).
 * </ul>
 */
final class Handler {
    /** The handler could not be loaded; errorType is what AWS reports (an exception class name). */
    static final class InitException extends Exception {
        private static final long serialVersionUID = 1L;
        final String errorType;

        InitException(String errorType, String message, Throwable cause) {
            super(message, cause);
            this.errorType = errorType;
        }
    }

    private final Object target; // null for a static method
    private final Method method;
    private final boolean stream;
    private final boolean takesContext;
    private final Type input; // null when the method takes no event

    private Handler(Object target, Method method, boolean stream, boolean takesContext, Type input) {
        this.target = target;
        this.method = method;
        this.stream = stream;
        this.takesContext = takesContext;
        this.input = input;
    }

    static Handler resolve(String spec, ClassLoader loader) throws InitException {
        if (spec == null || spec.isEmpty()) {
            throw new InitException("java.lang.IllegalArgumentException", "_HANDLER is not set", null);
        }
        String className = spec;
        String methodName = "handleRequest";
        int sep = spec.indexOf("::");
        if (sep >= 0) {
            className = spec.substring(0, sep);
            methodName = spec.substring(sep + 2);
        }
        Class<?> cls;
        try {
            cls = Class.forName(className, true, loader);
        } catch (ClassNotFoundException | NoClassDefFoundError e) {
            throw new InitException("java.lang.ClassNotFoundException", "Class not found: " + className, e);
        } catch (ExceptionInInitializerError e) {
            Throwable c = e.getCause() != null ? e.getCause() : e;
            throw new InitException(c.getClass().getName(), String.valueOf(c.getMessage()), c);
        }
        if (methodName.equals("handleRequest") && RequestStreamHandler.class.isAssignableFrom(cls)) {
            Method m = lookup(RequestStreamHandler.class, "handleRequest", InputStream.class, OutputStream.class, Context.class);
            return new Handler(instantiate(cls), m, true, true, null);
        }
        if (methodName.equals("handleRequest") && RequestHandler.class.isAssignableFrom(cls)) {
            Method m = lookup(RequestHandler.class, "handleRequest", Object.class, Context.class);
            Type in = requestHandlerInput(cls);
            return new Handler(instantiate(cls), m, false, true, in == null ? Object.class : in);
        }
        Method best = null;
        for (Method m : cls.getMethods()) {
            if (!m.getName().equals(methodName) || m.isBridge() || !shapeOK(m)) {
                continue;
            }
            // Of overloads, the one with the most parameters, as AWS picks.
            if (best == null || m.getParameterCount() > best.getParameterCount()) {
                best = m;
            }
        }
        if (best == null) {
            throw new InitException("java.lang.NoSuchMethodException",
                    "No public method named " + methodName + " with appropriate method signature found on class " + className, null);
        }
        Class<?>[] p = best.getParameterTypes();
        boolean ctx = p.length > 0 && p[p.length - 1] == Context.class;
        int n = ctx ? p.length - 1 : p.length;
        boolean stream = n == 2;
        Type in = n == 1 ? best.getGenericParameterTypes()[0] : null;
        Object target = Modifier.isStatic(best.getModifiers()) ? null : instantiate(cls);
        return new Handler(target, best, stream, ctx, in);
    }

    private static Method lookup(Class<?> c, String name, Class<?>... params) throws InitException {
        try {
            return c.getMethod(name, params);
        } catch (NoSuchMethodException e) {
            throw new InitException("java.lang.NoSuchMethodException", e.getMessage(), e);
        }
    }

    /** (InputStream, OutputStream[, Context]), ([event[, Context]]). */
    private static boolean shapeOK(Method m) {
        Class<?>[] p = m.getParameterTypes();
        int n = p.length;
        if (n > 0 && p[n - 1] == Context.class) {
            n--;
        }
        if (n == 2) {
            return p[0] == InputStream.class && p[1] == OutputStream.class;
        }
        return n <= 1;
    }

    private static Object instantiate(Class<?> cls) throws InitException {
        try {
            return cls.getConstructor().newInstance();
        } catch (InvocationTargetException e) {
            Throwable c = e.getCause();
            throw new InitException(c.getClass().getName(), String.valueOf(c.getMessage()), c);
        } catch (ReflectiveOperationException e) {
            throw new InitException("java.lang.InstantiationException",
                    "Class " + cls.getName() + " has no public zero-argument constructor", e);
        }
    }

    /** I of a class implementing RequestHandler&lt;I, O&gt;, through its superclasses; null if erased. */
    static Type requestHandlerInput(Class<?> cls) {
        for (Class<?> c = cls; c != null && c != Object.class; c = c.getSuperclass()) {
            for (Type t : c.getGenericInterfaces()) {
                if (t instanceof ParameterizedType && ((ParameterizedType) t).getRawType() == RequestHandler.class) {
                    Type a = ((ParameterizedType) t).getActualTypeArguments()[0];
                    return a instanceof Class || a instanceof ParameterizedType ? a : null;
                }
            }
        }
        return null;
    }

    /** Runs the handler on one event; exceptions are the handler's own (unwrapped). */
    byte[] invoke(byte[] event, Context ctx) throws Throwable {
        List<Object> args = new ArrayList<>(3);
        ByteArrayOutputStream out = null;
        if (stream) {
            out = new ByteArrayOutputStream();
            args.add(new ByteArrayInputStream(event));
            args.add(out);
        } else if (input != null) {
            args.add(convert(event, input));
        }
        if (takesContext) {
            args.add(ctx);
        }
        Object result;
        try {
            result = method.invoke(target, args.toArray());
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
        if (stream) {
            return out.toByteArray();
        }
        if (method.getReturnType() == void.class) {
            return "null".getBytes(StandardCharsets.UTF_8);
        }
        if (result instanceof byte[]) {
            return (byte[]) result;
        }
        return Json.write(result).getBytes(StandardCharsets.UTF_8);
    }

    /** The event as the handler's parameter type. */
    static Object convert(byte[] event, Type type) {
        Class<?> raw = rawClass(type);
        if (raw == byte[].class) {
            return event;
        }
        String text = new String(event, StandardCharsets.UTF_8);
        if (raw == InputStream.class) {
            return new ByteArrayInputStream(event);
        }
        Object v = text.isBlank() ? null : Json.parse(text);
        if (raw == String.class && !(v instanceof String) && v != null) {
            return text; // an object or array for a String parameter: the JSON itself
        }
        return coerce(v, type);
    }

    private static Class<?> rawClass(Type t) {
        if (t instanceof Class) {
            return (Class<?>) t;
        }
        if (t instanceof ParameterizedType) {
            return (Class<?>) ((ParameterizedType) t).getRawType();
        }
        return Object.class;
    }

    /** A parsed JSON value as type: numbers widened or narrowed, objects bound to plain classes. */
    static Object coerce(Object v, Type type) {
        Class<?> c = rawClass(type);
        if (v == null) {
            if (c.isPrimitive()) {
                throw new IllegalArgumentException("null for " + c.getName());
            }
            return null;
        }
        if (c == Object.class || c.isInstance(v) && !(v instanceof Collection) && !(v instanceof Map)) {
            return v;
        }
        if (v instanceof Number) {
            Number n = (Number) v;
            if (c == int.class || c == Integer.class) return n.intValue();
            if (c == long.class || c == Long.class) return n.longValue();
            if (c == double.class || c == Double.class) return n.doubleValue();
            if (c == float.class || c == Float.class) return n.floatValue();
            if (c == short.class || c == Short.class) return n.shortValue();
            if (c == BigInteger.class) return new BigInteger(n.toString());
            if (c == java.math.BigDecimal.class) return new java.math.BigDecimal(n.toString());
            if (c == String.class) return n.toString();
        }
        if (v instanceof Boolean && c == boolean.class) {
            return v;
        }
        if (v instanceof Map && Map.class.isAssignableFrom(c)) {
            if (type instanceof ParameterizedType) {
                Type vt = ((ParameterizedType) type).getActualTypeArguments()[1];
                Map<String, Object> m = new java.util.LinkedHashMap<>();
                for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
                    m.put((String) e.getKey(), coerce(e.getValue(), vt));
                }
                return m;
            }
            return v;
        }
        if (v instanceof List && (c.isAssignableFrom(List.class))) {
            if (type instanceof ParameterizedType) {
                Type et = ((ParameterizedType) type).getActualTypeArguments()[0];
                List<Object> l = new ArrayList<>();
                for (Object o : (List<?>) v) {
                    l.add(coerce(o, et));
                }
                return l;
            }
            return v;
        }
        if (v instanceof Map && !c.isInterface() && !c.isPrimitive() && !c.getName().startsWith("java.")) {
            return bind((Map<?, ?>) v, c);
        }
        throw new IllegalArgumentException("cannot deserialize " + Json.write(v) + " as " + type.getTypeName());
    }

    /** A plain class from a JSON object: its public setters (setName) or fields (name). */
    private static Object bind(Map<?, ?> m, Class<?> c) {
        Object o;
        try {
            o = c.getConstructor().newInstance();
        } catch (ReflectiveOperationException e) {
            throw new IllegalArgumentException("cannot deserialize into " + c.getName() + ": no public zero-argument constructor", e);
        }
        for (Map.Entry<?, ?> e : m.entrySet()) {
            String k = (String) e.getKey();
            if (k.isEmpty()) {
                continue;
            }
            String setter = "set" + Character.toUpperCase(k.charAt(0)) + k.substring(1);
            boolean done = false;
            for (Method s : c.getMethods()) {
                if (s.getName().equals(setter) && s.getParameterCount() == 1 && !Modifier.isStatic(s.getModifiers())) {
                    try {
                        s.invoke(o, coerce(e.getValue(), s.getGenericParameterTypes()[0]));
                    } catch (ReflectiveOperationException ex) {
                        throw new IllegalArgumentException("cannot set " + k + " of " + c.getName(), ex);
                    }
                    done = true;
                    break;
                }
            }
            if (done) {
                continue;
            }
            try {
                Field f = c.getField(k);
                if (!Modifier.isStatic(f.getModifiers())) {
                    f.set(o, coerce(e.getValue(), f.getGenericType()));
                }
            } catch (NoSuchFieldException ex) {
                // unknown properties are ignored
            } catch (IllegalAccessException ex) {
                throw new IllegalArgumentException("cannot set " + k + " of " + c.getName(), ex);
            }
        }
        return o;
    }
}
