package dev.pgpolicy.proxy.audit;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * A growable byte buffer that writes the JSON of audit lines as UTF-8, reused line after line by
 * one thread. It writes exactly the bytes Jackson's UTF-8 generator wrote for the first logs (the
 * format is frozen by the chain: {@code AuditLineBytesTest} pins it), at a fraction of the cost:
 * no generator, context or recycled buffers per record, and strings copied in one pass.
 *
 * <p>Escaping, as that generator does it: {@code "} and {@code \} with a backslash; backspace, tab,
 * newline, form feed and carriage return as {@code \b \t \n \f \r}; other characters below U+0020
 * as a six-byte backslash-u escape with upper-case hex; everything else, U+007F and U+2028 included, as its UTF-8
 * bytes, except that a surrogate pair is written as two backslash-u escapes in
 * {@linkplain Surrogates#ESCAPED ordinary fields} and as one four-byte UTF-8 sequence in the
 * {@linkplain Surrogates#UTF8 connection fields} (which were rendered by a character generator and
 * copied into the line raw). An unpaired surrogate has no UTF-8 encoding (RFC 3629, section 3) and
 * becomes U+FFFD, so one odd character in a client's SQL cannot stop a record from being written.
 */
final class JsonLine {
    /** How a surrogate pair is written; see the class comment for why there are two ways. */
    enum Surrogates { ESCAPED, UTF8 }

    private static final byte[] NULL = "null".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] TRUE = "true".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] FALSE = "false".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] UPPER_HEX = "0123456789ABCDEF".getBytes(StandardCharsets.US_ASCII);
    /** U+FFFD REPLACEMENT CHARACTER in UTF-8. */
    private static final byte[] REPLACEMENT = {(byte) 0xEF, (byte) 0xBF, (byte) 0xBD};
    /** The longest any one character is written: a six-byte backslash-u escape or a surrogate's escape. */
    private static final int MAX_BYTES_PER_CHAR = 6;

    /**
     * Per ASCII character: 0 to copy it as is, -1 for a six-byte backslash-u escape, otherwise the
     * letter that follows the backslash.
     */
    private static final byte[] ASCII_ESCAPES = new byte[128];

    static {
        for (int c = 0; c < 0x20; c++) {
            ASCII_ESCAPES[c] = -1;
        }
        ASCII_ESCAPES['"'] = '"';
        ASCII_ESCAPES['\\'] = '\\';
        ASCII_ESCAPES['\b'] = 'b';
        ASCII_ESCAPES['\t'] = 't';
        ASCII_ESCAPES['\n'] = 'n';
        ASCII_ESCAPES['\f'] = 'f';
        ASCII_ESCAPES['\r'] = 'r';
    }

    private byte[] bytes;
    private int size;

    JsonLine(int initialCapacity) {
        bytes = new byte[initialCapacity];
    }

    /** {@code ,"name":} (or {@code {"name":} for an object's first field), encoded once. */
    static byte[] field(String name, boolean first) {
        return ((first ? "{" : ",") + "\"" + name + "\":").getBytes(StandardCharsets.US_ASCII);
    }

    void reset() {
        size = 0;
    }

    int size() {
        return size;
    }

    /** The buffer itself, valid up to {@link #size()} until the next write. */
    byte[] bytes() {
        return bytes;
    }

    byte[] copy() {
        return Arrays.copyOf(bytes, size);
    }

    void raw(byte[] value) {
        ensure(value.length);
        System.arraycopy(value, 0, bytes, size, value.length);
        size += value.length;
    }

    void raw(byte value) {
        ensure(1);
        bytes[size++] = value;
    }

    void nullValue() {
        raw(NULL);
    }

    void bool(boolean value) {
        raw(value ? TRUE : FALSE);
    }

    /** The decimal digits of {@code value}, as {@code Long.toString} gives them. */
    void number(long value) {
        ensure(20);
        if (value < 0) {
            if (value == Long.MIN_VALUE) {
                raw(Long.toString(value).getBytes(StandardCharsets.US_ASCII));
                return;
            }
            bytes[size++] = '-';
            value = -value;
        }
        int digits = 1;
        for (long rest = value / 10; rest != 0; rest /= 10) {
            digits++;
        }
        int at = size + digits;
        size = at;
        do {
            bytes[--at] = (byte) ('0' + value % 10);
            value /= 10;
        } while (value != 0);
    }

    /** A JSON string, or {@code null} for a null value. */
    void string(String value, Surrogates surrogates) {
        if (value == null) {
            nullValue();
            return;
        }
        int length = value.length();
        ensure(length + 2);
        byte[] out = bytes;
        int at = size;
        out[at++] = '"';
        int i = 0;
        // Most values are plain ASCII: copy those characters without looking further.
        for (; i < length; i++) {
            char c = value.charAt(i);
            if (c >= 0x80 || ASCII_ESCAPES[c] != 0) {
                break;
            }
            out[at++] = (byte) c;
        }
        size = at;
        if (i < length) {
            rest(value, i, surrogates);
        }
        ensure(1);
        bytes[size++] = '"';
    }

    /** {@code [...]} of strings, null elements as {@code null}. */
    void strings(List<String> values, Surrogates surrogates) {
        raw((byte) '[');
        for (int i = 0; i < values.size(); i++) {
            if (i > 0) {
                raw((byte) ',');
            }
            string(values.get(i), surrogates);
        }
        raw((byte) ']');
    }

    private void rest(String value, int from, Surrogates surrogates) {
        int length = value.length();
        for (int i = from; i < length; i++) {
            ensure(MAX_BYTES_PER_CHAR);
            byte[] out = bytes;
            int at = size;
            char c = value.charAt(i);
            if (c < 0x80) {
                byte escape = ASCII_ESCAPES[c];
                if (escape == 0) {
                    out[at++] = (byte) c;
                } else if (escape > 0) {
                    out[at++] = '\\';
                    out[at++] = escape;
                } else {
                    at = unicodeEscape(out, at, c);
                }
            } else if (c < 0x800) {
                out[at++] = (byte) (0xC0 | c >> 6);
                out[at++] = (byte) (0x80 | c & 0x3F);
            } else if (!Character.isSurrogate(c)) {
                at = threeBytes(out, at, c);
            } else if (Character.isHighSurrogate(c) && i + 1 < length && Character.isLowSurrogate(value.charAt(i + 1))) {
                char low = value.charAt(++i);
                if (surrogates == Surrogates.ESCAPED) {
                    ensure(2 * MAX_BYTES_PER_CHAR);
                    out = bytes;
                    at = unicodeEscape(out, at, c);
                    at = unicodeEscape(out, at, low);
                } else {
                    int codePoint = Character.toCodePoint(c, low);
                    out[at++] = (byte) (0xF0 | codePoint >> 18);
                    out[at++] = (byte) (0x80 | codePoint >> 12 & 0x3F);
                    out[at++] = (byte) (0x80 | codePoint >> 6 & 0x3F);
                    out[at++] = (byte) (0x80 | codePoint & 0x3F);
                }
            } else {
                System.arraycopy(REPLACEMENT, 0, out, at, REPLACEMENT.length);
                at += REPLACEMENT.length;
            }
            size = at;
        }
    }

    private static int threeBytes(byte[] out, int at, char c) {
        out[at++] = (byte) (0xE0 | c >> 12);
        out[at++] = (byte) (0x80 | c >> 6 & 0x3F);
        out[at++] = (byte) (0x80 | c & 0x3F);
        return at;
    }

    private static int unicodeEscape(byte[] out, int at, char c) {
        out[at++] = '\\';
        out[at++] = 'u';
        out[at++] = UPPER_HEX[c >> 12 & 0xF];
        out[at++] = UPPER_HEX[c >> 8 & 0xF];
        out[at++] = UPPER_HEX[c >> 4 & 0xF];
        out[at++] = UPPER_HEX[c & 0xF];
        return at;
    }

    /** Room for {@code more} bytes; a long SQL text grows the buffer, which then stays that size. */
    void ensure(int more) {
        int needed = size + more;
        if (needed > bytes.length) {
            if (needed < 0) {
                throw new IllegalStateException("audit line longer than 2 GiB");
            }
            // Doubling past 1 GiB overflows to a negative length, and max then takes what is needed.
            bytes = Arrays.copyOf(bytes, Math.max(needed, bytes.length * 2));
        }
    }
}
