package lamb.runtime;

import com.amazonaws.services.lambda.runtime.ClientContext;
import com.amazonaws.services.lambda.runtime.CognitoIdentity;
import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.LambdaLogger;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.HttpURLConnection;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * lamb's runtime client for the java runtimes: it loads the handler named by
 * _HANDLER from LAMBDA_TASK_ROOT (its classes, then lib/*.jar, then the
 * layers' java/lib/*.jar) and serves invocations from the Lambda Runtime API
 * at AWS_LAMBDA_RUNTIME_API, one at a time, until the process is stopped.
 */
public final class Bootstrap {
    private static final String API = "/2018-06-01/runtime";

    private final String base;

    private Bootstrap(String api) {
        this.base = "http://" + api + API;
    }

    public static void main(String[] args) throws Exception {
        String api = System.getenv("AWS_LAMBDA_RUNTIME_API");
        if (api == null || api.isEmpty()) {
            System.err.println("lamb java bootstrap: AWS_LAMBDA_RUNTIME_API is not set");
            System.exit(1);
        }
        Bootstrap b = new Bootstrap(api);
        ClassLoader loader = userLoader();
        Thread.currentThread().setContextClassLoader(loader);
        Handler h;
        try {
            h = Handler.resolve(System.getenv("_HANDLER"), loader);
        } catch (Handler.InitException e) {
            Map<String, Object> body = errorBody(e.errorType, e.getMessage(), e.getCause());
            System.err.println(Json.write(body));
            b.post("/init/error", Json.write(body).getBytes(StandardCharsets.UTF_8), e.errorType);
            System.exit(1);
            return;
        } catch (Throwable t) {
            Map<String, Object> body = errorBody(t.getClass().getName(), t.getMessage(), t);
            System.err.println(Json.write(body));
            b.post("/init/error", Json.write(body).getBytes(StandardCharsets.UTF_8), t.getClass().getName());
            System.exit(1);
            return;
        }
        b.loop(h);
    }

    /** The function's class path, as AWS's: the task root, its lib/*.jar, the layers' java/lib/*.jar. */
    static ClassLoader userLoader() throws IOException {
        String root = System.getenv("LAMBDA_TASK_ROOT");
        if (root == null || root.isEmpty()) {
            root = "/var/task";
        }
        List<URL> urls = new ArrayList<>();
        urls.add(new File(root).toURI().toURL());
        addJars(urls, new File(root, "lib"));
        String layers = System.getProperty("lamb.layers", "/opt/java/lib");
        for (String d : layers.split(File.pathSeparator)) {
            if (!d.isEmpty()) {
                addJars(urls, new File(d));
            }
        }
        return new URLClassLoader(urls.toArray(new URL[0]), Bootstrap.class.getClassLoader());
    }

    private static void addJars(List<URL> urls, File dir) throws IOException {
        File[] jars = dir.listFiles((d, n) -> n.endsWith(".jar"));
        if (jars == null) {
            return;
        }
        Arrays.sort(jars);
        for (File j : jars) {
            urls.add(j.toURI().toURL());
        }
    }

    private void loop(Handler h) throws IOException {
        while (true) {
            HttpURLConnection c = open("/invocation/next", "GET");
            byte[] event;
            try (InputStream in = c.getInputStream()) {
                event = in.readAllBytes();
            }
            String id = c.getHeaderField("Lambda-Runtime-Aws-Request-Id");
            String trace = c.getHeaderField("Lambda-Runtime-Trace-Id");
            if (trace != null) {
                System.setProperty("com.amazonaws.xray.traceHeader", trace);
            } else {
                System.clearProperty("com.amazonaws.xray.traceHeader");
            }
            Invocation ctx = new Invocation(id, c.getHeaderField("Lambda-Runtime-Deadline-Ms"),
                    c.getHeaderField("Lambda-Runtime-Invoked-Function-Arn"));
            byte[] result;
            try {
                result = h.invoke(event, ctx);
            } catch (Throwable t) {
                Map<String, Object> body = errorBody(t.getClass().getName(), t.getMessage(), t);
                // AWS's runtime logs the error as well as returning it.
                System.err.println(Json.write(body));
                post("/invocation/" + id + "/error", Json.write(body).getBytes(StandardCharsets.UTF_8), t.getClass().getName());
                continue;
            }
            System.out.flush();
            System.err.flush();
            post("/invocation/" + id + "/response", result, null);
        }
    }

    /** AWS's error document: errorMessage, errorType, stackTrace and the cause's, if any. */
    static Map<String, Object> errorBody(String type, String message, Throwable t) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("errorMessage", message);
        m.put("errorType", type);
        if (t != null) {
            List<String> st = new ArrayList<>();
            for (StackTraceElement e : t.getStackTrace()) {
                String c = e.getClassName();
                if (c.equals(Handler.class.getName()) || c.equals(Bootstrap.class.getName()) || c.startsWith(Bootstrap.class.getName() + "$")
                        || c.startsWith("jdk.internal.reflect.") || c.equals("java.lang.reflect.Method")) {
                    continue; // the bootstrap's own frames and reflection's
                }
                st.add(e.toString());
            }
            m.put("stackTrace", st);
            Throwable c = t.getCause();
            if (c != null && c != t) {
                m.put("cause", errorBody(c.getClass().getName(), c.getMessage(), c));
            }
        }
        return m;
    }

    private HttpURLConnection open(String path, String method) throws IOException {
        HttpURLConnection c = (HttpURLConnection) new URL(base + path).openConnection();
        c.setRequestMethod(method);
        c.setReadTimeout(0); // /next waits for as long as there is no invocation
        return c;
    }

    private void post(String path, byte[] body, String errorType) throws IOException {
        HttpURLConnection c = open(path, "POST");
        c.setDoOutput(true);
        c.setFixedLengthStreamingMode(body.length);
        c.setRequestProperty("Content-Type", errorType == null ? "application/json" : "application/vnd.aws.lambda.error+json");
        if (errorType != null) {
            c.setRequestProperty("Lambda-Runtime-Function-Error-Type", errorType);
        }
        try (OutputStream o = c.getOutputStream()) {
            o.write(body);
        }
        int code = c.getResponseCode();
        try (InputStream in = code >= 400 ? c.getErrorStream() : c.getInputStream()) {
            if (in != null) {
                in.readAllBytes(); // so the connection is reused
            }
        }
        if (code >= 500) {
            throw new IOException("runtime API " + path + ": HTTP " + code);
        }
    }

    /** The Context of one invocation. */
    static final class Invocation implements Context {
        private final String requestId;
        private final long deadline;
        private final String arn;

        Invocation(String requestId, String deadlineMs, String arn) {
            this.requestId = requestId;
            long d;
            try {
                d = Long.parseLong(deadlineMs);
            } catch (NumberFormatException e) {
                d = System.currentTimeMillis() + 3000;
            }
            this.deadline = d;
            this.arn = arn;
        }

        @Override
        public String getAwsRequestId() {
            return requestId;
        }

        @Override
        public String getLogGroupName() {
            return System.getenv("AWS_LAMBDA_LOG_GROUP_NAME");
        }

        @Override
        public String getLogStreamName() {
            return System.getenv("AWS_LAMBDA_LOG_STREAM_NAME");
        }

        @Override
        public String getFunctionName() {
            return System.getenv("AWS_LAMBDA_FUNCTION_NAME");
        }

        @Override
        public String getFunctionVersion() {
            return System.getenv("AWS_LAMBDA_FUNCTION_VERSION");
        }

        @Override
        public String getInvokedFunctionArn() {
            return arn;
        }

        @Override
        public CognitoIdentity getIdentity() {
            return null;
        }

        @Override
        public ClientContext getClientContext() {
            return null;
        }

        @Override
        public int getRemainingTimeInMillis() {
            long left = deadline - System.currentTimeMillis();
            return (int) Math.max(0, Math.min(Integer.MAX_VALUE, left));
        }

        @Override
        public int getMemoryLimitInMB() {
            try {
                return Integer.parseInt(System.getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"));
            } catch (NumberFormatException e) {
                return 0;
            }
        }

        @Override
        public LambdaLogger getLogger() {
            return Logger.INSTANCE;
        }
    }

    /** Context.getLogger: lines to the function's log (stdout), as given. */
    static final class Logger implements LambdaLogger {
        static final Logger INSTANCE = new Logger();
        private static final PrintStream OUT = System.out;

        @Override
        public void log(String message) {
            OUT.print(message);
            OUT.flush();
        }

        @Override
        public void log(byte[] message) {
            OUT.write(message, 0, message.length);
            OUT.flush();
        }
    }
}
