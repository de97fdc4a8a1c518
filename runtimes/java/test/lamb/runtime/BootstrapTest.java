package lamb.runtime;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Unit tests of the bootstrap's JSON and handler resolution, in plain Java
 * (no JUnit: nothing can be downloaded). Run by runtimes/java_test.go; exits
 * non-zero, naming each failure, when one fails.
 */
public final class BootstrapTest {
    private static final List<String> failures = new ArrayList<>();

    private static void check(String name, Object got, Object want) {
        if (!String.valueOf(got).equals(String.valueOf(want))) {
            failures.add(name + ": got " + got + ", want " + want);
        }
    }

    private static void parseFails(String doc) {
        try {
            Json.parse(doc);
            failures.add("parse(" + doc + ") did not fail");
        } catch (Json.ParseException e) {
            // as it should
        }
    }

    // Handlers of every shape, resolved by name as _HANDLER names them.
    public static class Person {
        public String name;
        private int age;
        public List<Person> kids;

        public void setAge(int a) {
            age = a;
        }

        public int getAge() {
            return age;
        }
    }

    public static class Typed implements RequestHandler<Person, String> {
        @Override
        public String handleRequest(Person p, Context c) {
            return p.name + "/" + p.age + "/" + (p.kids == null ? 0 : p.kids.size());
        }
    }

    public static class Methods {
        public static int twice(int n) {
            return 2 * n;
        }

        public String pick(String s) {
            return "one";
        }

        public String pick(String s, Context c) {
            return "two:" + s;
        }

        public void nothing() {}

        public byte[] raw(byte[] b) {
            return b;
        }

        public Map<String, Object> fail(Map<String, Object> m) {
            throw new IllegalArgumentException("bad " + m.get("x"), new RuntimeException("root"));
        }
    }

    public static class NoDefaultConstructor {
        public NoDefaultConstructor(int x) {}

        public String handleRequest(String s) {
            return s;
        }
    }

    private static String run(String handler, String event) throws Throwable {
        Handler h = Handler.resolve(handler, BootstrapTest.class.getClassLoader());
        byte[] out = h.invoke(event.getBytes(StandardCharsets.UTF_8), new Bootstrap.Invocation("id", "0", "arn"));
        return new String(out, StandardCharsets.UTF_8);
    }

    private static String initError(String handler) {
        try {
            Handler.resolve(handler, BootstrapTest.class.getClassLoader());
            return "no error";
        } catch (Handler.InitException e) {
            return e.errorType + ": " + e.getMessage();
        }
    }

    public static void main(String[] args) throws Throwable {
        // JSON reading: types, escapes, order, numbers.
        Object v = Json.parse(" {\"b\":1,\"a\":[true,false,null],\"s\":\"x\\u00e9\\n\\\"\",\"big\":12345678901,\"huge\":123456789012345678901234,\"f\":-1.5e2} ");
        check("parse", v, "{b=1, a=[true, false, null], s=xé\n\", big=12345678901, huge=123456789012345678901234, f=-150.0}");
        Map<?, ?> m = (Map<?, ?>) v;
        check("int type", m.get("b").getClass().getSimpleName(), "Integer");
        check("long type", m.get("big").getClass().getSimpleName(), "Long");
        check("bigint type", m.get("huge").getClass().getSimpleName(), "BigInteger");
        check("string", Json.parse("\"\""), "");
        for (String bad : new String[] {"", "{", "[1,]", "{\"a\" 1}", "01", "1.", "tru", "\"\\x\"", "{} x", "\"a\nb\"", "-"}) {
            parseFails(bad);
        }
        // JSON writing.
        Map<String, Object> w = new LinkedHashMap<>();
        w.put("s", "a\"b\\c\n\u0001");
        w.put("n", Arrays.asList(1, 2.5, 3L, null, true));
        w.put("d", 2.0);
        w.put("arr", new int[] {1, 2});
        check("write", Json.write(w), "{\"s\":\"a\\\"b\\\\c\\n\\u0001\",\"n\":[1,2.5,3,null,true],\"d\":2.0,\"arr\":[1,2]}");
        Person p = new Person();
        p.name = "ada";
        p.setAge(36);
        check("write bean", Json.write(p), "{\"name\":\"ada\",\"kids\":null,\"age\":36}");
        check("round trip", Json.write(Json.parse("{\"x\":[{\"y\":\"\\u2603\"}]}")), "{\"x\":[{\"y\":\"☃\"}]}");

        // Handler resolution and the event's conversion.
        String self = BootstrapTest.class.getName();
        check("RequestHandler<POJO>", run(self + "$Typed", "{\"name\":\"ada\",\"age\":36,\"kids\":[{\"name\":\"b\"}],\"other\":1}"), "\"ada/36/1\"");
        check("static int", run(self + "$Methods::twice", "21"), "42");
        check("most parameters", run(self + "$Methods::pick", "\"s\""), "\"two:s\"");
        check("void", run(self + "$Methods::nothing", "{}"), "null");
        check("bytes", run(self + "$Methods::raw", "not json"), "not json");
        try {
            run(self + "$Methods::fail", "{\"x\":7}");
            failures.add("fail: no exception");
        } catch (IllegalArgumentException e) {
            Map<String, Object> body = Bootstrap.errorBody(e.getClass().getName(), e.getMessage(), e);
            check("error type", body.get("errorType"), "java.lang.IllegalArgumentException");
            check("error message", body.get("errorMessage"), "bad 7");
            check("stack top", ((List<?>) body.get("stackTrace")).get(0).toString().startsWith(self + "$Methods.fail(BootstrapTest.java:"), true);
            check("cause", ((Map<?, ?>) body.get("cause")).get("errorMessage"), "root");
        }
        check("missing class", initError("no.Such"), "java.lang.ClassNotFoundException: Class not found: no.Such");
        check("missing method", initError(self + "$Methods::absent"),
                "java.lang.NoSuchMethodException: No public method named absent with appropriate method signature found on class " + self + "$Methods");
        check("no constructor", initError(self + "$NoDefaultConstructor").startsWith("java.lang.InstantiationException"), true);
        check("no handler", initError(""), "java.lang.IllegalArgumentException: _HANDLER is not set");

        if (!failures.isEmpty()) {
            for (String f : failures) {
                System.out.println("FAIL " + f);
            }
            System.exit(1);
        }
        System.out.println("ok");
    }
}
