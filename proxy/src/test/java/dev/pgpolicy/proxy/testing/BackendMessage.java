package dev.pgpolicy.proxy.testing;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/** One typed message as read off a socket: type byte and body (without the length word). */
public final class BackendMessage {
    private final char type;
    private final byte[] body;

    BackendMessage(char type, byte[] body) {
        this.type = type;
        this.body = body.clone();
    }

    public char type() {
        return type;
    }

    public byte[] body() {
        return body.clone();
    }

    /**
     * The fields of an ErrorResponse ('E') or NoticeResponse ('N'): each is a Byte1 code followed
     * by a C string, the list ends with a zero byte (docs 55.8, "Error and Notice Message Fields");
     * e.g. {@code fields().get('C')} is the SQLSTATE.
     */
    public Map<Character, String> fields() {
        if (type != 'E' && type != 'N') {
            throw new IllegalStateException("message '" + type + "' has no error fields");
        }
        return errorFields(body);
    }

    /** The fields of an ErrorResponse or NoticeResponse body, as {@link #fields()}. */
    public static Map<Character, String> errorFields(byte[] body) {
        Map<Character, String> fields = new LinkedHashMap<>();
        int i = 0;
        while (i < body.length && body[i] != 0) {
            char code = (char) body[i++];
            int end = i;
            while (end < body.length && body[end] != 0) {
                end++;
            }
            fields.put(code, new String(body, i, end - i, StandardCharsets.UTF_8));
            i = end + 1;
        }
        return fields;
    }

    /** The SQLSTATE of an ErrorResponse or NoticeResponse. */
    public String sqlState() {
        return fields().get('C');
    }

    /** The Int32 at {@code offset} in the body (e.g. the authentication request code of 'R'). */
    public int int32(int offset) {
        return ((body[offset] & 0xFF) << 24) | ((body[offset + 1] & 0xFF) << 16)
                | ((body[offset + 2] & 0xFF) << 8) | (body[offset + 3] & 0xFF);
    }

    @Override
    public String toString() {
        return "'" + type + "' " + body.length + " bytes " + HexDump.of(Arrays.copyOf(body, Math.min(body.length, 64)));
    }
}
