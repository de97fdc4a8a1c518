package lamb.runtime;

import java.lang.reflect.Array;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small JSON reader and writer (RFC 8259), so the bootstrap needs no
 * library. Objects read as LinkedHashMap (key order kept), arrays as
 * ArrayList, numbers as Integer, Long, BigInteger or Double (whichever holds
 * the value), true/false as Boolean, null as null.
 */
final class Json {
    private Json() {}

    /** A malformed document, with where it went wrong. */
    static final class ParseException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        ParseException(String msg, int pos) {
            super(msg + " at offset " + pos);
        }
    }

    static Object parse(String s) {
        Reader r = new Reader(s);
        r.ws();
        Object v = r.value(0);
        r.ws();
        if (r.i != s.length()) {
            throw new ParseException("trailing characters", r.i);
        }
        return v;
    }

    private static final class Reader {
        final String s;
        int i;

        Reader(String s) {
            this.s = s;
        }

        void ws() {
            while (i < s.length()) {
                char c = s.charAt(i);
                if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                    return;
                }
                i++;
            }
        }

        Object value(int depth) {
            if (depth > 512) {
                throw new ParseException("nesting too deep", i);
            }
            if (i >= s.length()) {
                throw new ParseException("unexpected end", i);
            }
            char c = s.charAt(i);
            switch (c) {
                case '{':
                    return object(depth);
                case '[':
                    return array(depth);
                case '"':
                    return string();
                case 't':
                    return word("true", Boolean.TRUE);
                case 'f':
                    return word("false", Boolean.FALSE);
                case 'n':
                    return word("null", null);
                default:
                    if (c == '-' || (c >= '0' && c <= '9')) {
                        return number();
                    }
                    throw new ParseException("unexpected character '" + c + "'", i);
            }
        }

        Object word(String w, Object v) {
            if (!s.startsWith(w, i)) {
                throw new ParseException("unexpected token", i);
            }
            i += w.length();
            return v;
        }

        Map<String, Object> object(int depth) {
            Map<String, Object> m = new LinkedHashMap<>();
            i++;
            ws();
            if (peek() == '}') {
                i++;
                return m;
            }
            while (true) {
                ws();
                if (peek() != '"') {
                    throw new ParseException("expected a string key", i);
                }
                String k = string();
                ws();
                expect(':');
                ws();
                m.put(k, value(depth + 1));
                ws();
                char c = next();
                if (c == '}') {
                    return m;
                }
                if (c != ',') {
                    throw new ParseException("expected ',' or '}'", i - 1);
                }
            }
        }

        List<Object> array(int depth) {
            List<Object> l = new ArrayList<>();
            i++;
            ws();
            if (peek() == ']') {
                i++;
                return l;
            }
            while (true) {
                ws();
                l.add(value(depth + 1));
                ws();
                char c = next();
                if (c == ']') {
                    return l;
                }
                if (c != ',') {
                    throw new ParseException("expected ',' or ']'", i - 1);
                }
            }
        }

        String string() {
            expect('"');
            StringBuilder b = new StringBuilder();
            while (true) {
                char c = next();
                if (c == '"') {
                    return b.toString();
                }
                if (c < 0x20) {
                    throw new ParseException("control character in string", i - 1);
                }
                if (c != '\\') {
                    b.append(c);
                    continue;
                }
                char e = next();
                switch (e) {
                    case '"': b.append('"'); break;
                    case '\\': b.append('\\'); break;
                    case '/': b.append('/'); break;
                    case 'b': b.append('\b'); break;
                    case 'f': b.append('\f'); break;
                    case 'n': b.append('\n'); break;
                    case 'r': b.append('\r'); break;
                    case 't': b.append('\t'); break;
                    case 'u':
                        if (i + 4 > s.length()) {
                            throw new ParseException("short \\u escape", i);
                        }
                        try {
                            b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                        } catch (NumberFormatException ex) {
                            throw new ParseException("bad \\u escape", i);
                        }
                        i += 4;
                        break;
                    default:
                        throw new ParseException("bad escape '\\" + e + "'", i - 1);
                }
            }
        }

        Number number() {
            int start = i;
            if (peek() == '-') {
                i++;
            }
            if (peek() == '0') {
                i++;
            } else if (isDigit(peek())) {
                while (isDigit(peek())) {
                    i++;
                }
            } else {
                throw new ParseException("bad number", start);
            }
            boolean integral = true;
            if (peek() == '.') {
                integral = false;
                i++;
                if (!isDigit(peek())) {
                    throw new ParseException("bad number", start);
                }
                while (isDigit(peek())) {
                    i++;
                }
            }
            if (peek() == 'e' || peek() == 'E') {
                integral = false;
                i++;
                if (peek() == '+' || peek() == '-') {
                    i++;
                }
                if (!isDigit(peek())) {
                    throw new ParseException("bad number", start);
                }
                while (isDigit(peek())) {
                    i++;
                }
            }
            String t = s.substring(start, i);
            if (!integral) {
                return Double.valueOf(t);
            }
            BigInteger n = new BigInteger(t);
            if (n.bitLength() < 32) {
                return n.intValue();
            }
            if (n.bitLength() < 64) {
                return n.longValue();
            }
            return n;
        }

        static boolean isDigit(char c) {
            return c >= '0' && c <= '9';
        }

        char peek() {
            return i < s.length() ? s.charAt(i) : '\0';
        }

        char next() {
            if (i >= s.length()) {
                throw new ParseException("unexpected end", i);
            }
            return s.charAt(i++);
        }

        void expect(char c) {
            if (next() != c) {
                throw new ParseException("expected '" + c + "'", i - 1);
            }
        }
    }

    static String write(Object v) {
        StringBuilder b = new StringBuilder();
        write(b, v, 0);
        return b.toString();
    }

    private static void write(StringBuilder b, Object v, int depth) {
        if (depth > 512) {
            throw new IllegalArgumentException("value nested too deep (a cycle?)");
        }
        if (v == null) {
            b.append("null");
        } else if (v instanceof CharSequence || v instanceof Character || v instanceof Enum) {
            quote(b, v.toString());
        } else if (v instanceof Boolean) {
            b.append(v);
        } else if (v instanceof Double || v instanceof Float) {
            double d = ((Number) v).doubleValue();
            if (Double.isNaN(d) || Double.isInfinite(d)) {
                throw new IllegalArgumentException("JSON has no " + d);
            }
            if (d == Math.rint(d) && Math.abs(d) < 1e15) {
                b.append((long) d).append(".0");
            } else {
                b.append(d);
            }
        } else if (v instanceof Number) {
            b.append(v instanceof BigDecimal ? ((BigDecimal) v).toPlainString() : v.toString());
        } else if (v instanceof Map) {
            b.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
                if (!first) {
                    b.append(',');
                }
                first = false;
                quote(b, String.valueOf(e.getKey()));
                b.append(':');
                write(b, e.getValue(), depth + 1);
            }
            b.append('}');
        } else if (v instanceof Collection) {
            b.append('[');
            boolean first = true;
            for (Object o : (Collection<?>) v) {
                if (!first) {
                    b.append(',');
                }
                first = false;
                write(b, o, depth + 1);
            }
            b.append(']');
        } else if (v.getClass().isArray()) {
            b.append('[');
            for (int k = 0; k < Array.getLength(v); k++) {
                if (k > 0) {
                    b.append(',');
                }
                write(b, Array.get(v, k), depth + 1);
            }
            b.append(']');
        } else {
            write(b, beanToMap(v), depth + 1);
        }
    }

    /** A plain object's public getters and fields, by property name. */
    static Map<String, Object> beanToMap(Object o) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (Field f : o.getClass().getFields()) {
            if (Modifier.isStatic(f.getModifiers())) {
                continue;
            }
            try {
                m.put(f.getName(), f.get(o));
            } catch (IllegalAccessException e) {
                // not readable after all: leave it out
            }
        }
        for (Method g : o.getClass().getMethods()) {
            if (Modifier.isStatic(g.getModifiers()) || g.getParameterCount() != 0 || g.getDeclaringClass() == Object.class) {
                continue;
            }
            String n = g.getName();
            String prop;
            if (n.startsWith("get") && n.length() > 3) {
                prop = n.substring(3);
            } else if (n.startsWith("is") && n.length() > 2 && (g.getReturnType() == boolean.class || g.getReturnType() == Boolean.class)) {
                prop = n.substring(2);
            } else {
                continue;
            }
            prop = Character.toLowerCase(prop.charAt(0)) + prop.substring(1);
            try {
                m.put(prop, g.invoke(o));
            } catch (ReflectiveOperationException e) {
                // a getter that fails is left out
            }
        }
        return m;
    }

    static void quote(StringBuilder b, String s) {
        b.append('"');
        for (int k = 0; k < s.length(); k++) {
            char c = s.charAt(k);
            switch (c) {
                case '"': b.append("\\\""); break;
                case '\\': b.append("\\\\"); break;
                case '\n': b.append("\\n"); break;
                case '\r': b.append("\\r"); break;
                case '\t': b.append("\\t"); break;
                case '\b': b.append("\\b"); break;
                case '\f': b.append("\\f"); break;
                default:
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
            }
        }
        b.append('"');
    }
}
