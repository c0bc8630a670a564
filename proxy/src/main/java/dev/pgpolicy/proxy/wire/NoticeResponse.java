package dev.pgpolicy.proxy.wire;

import io.netty.buffer.ByteBuf;
import java.util.Map;
import java.util.Objects;

/**
 * NoticeResponse (B): a warning or notice; it never ends a query cycle.
 * <pre>
 * Byte1('N')
 * Int32     length
 *   per field: Byte1 field type (see {@link ErrorField}), String value
 * Byte1(0)  terminating the list
 * </pre>
 * Fields keep their order and unknown field types are kept, so a message re-encodes byte for
 * byte; a repeated field type is malformed (the map could not hold both values).
 */
public record NoticeResponse(Map<Character, String> fields) implements BackendMessage, ResponseFields {
    public static final char TYPE = 'N';

    public NoticeResponse {
        fields = ResponseFields.checkedCopy(fields);
    }

    /** S and V (both the given severity), C, M and, when {@code detail} is not null, D. */
    public static NoticeResponse of(String severity, SqlState state, String message, String detail) {
        Objects.requireNonNull(state, "state");
        return new NoticeResponse(ResponseFields.standardFields(severity, state.code(), message, detail));
    }

    public static NoticeResponse of(String severity, SqlState state, String message) {
        return of(severity, state, message, null);
    }

    /** A copy with field {@code type} set (added at the end, or replaced in place). */
    public NoticeResponse withField(char type, String value) {
        return new NoticeResponse(ResponseFields.withField(fields, type, value));
    }

    public NoticeResponse withField(ErrorField type, String value) {
        return withField(type.code(), value);
    }

    @Override
    public void encode(ByteBuf out) {
        ResponseFields.write(out, TYPE, fields);
    }

    static NoticeResponse read(WireReader body) {
        return new NoticeResponse(ResponseFields.read(body));
    }
}
