package dev.pgpolicy.proxy.wire;

import io.netty.buffer.ByteBuf;
import java.util.Map;
import java.util.Objects;

/**
 * ErrorResponse (B): an error; the server follows it with ReadyForQuery (or closes, if FATAL).
 * <pre>
 * Byte1('E')
 * Int32     length
 *   per field: Byte1 field type (see {@link ErrorField}), String value
 * Byte1(0)  terminating the list
 * </pre>
 * Fields keep their order and unknown field types are kept, so a message re-encodes byte for
 * byte; a repeated field type is malformed (the map could not hold both values).
 */
public record ErrorResponse(Map<Character, String> fields) implements BackendMessage, ResponseFields {
    public static final char TYPE = 'E';
    public static final String SEVERITY_ERROR = "ERROR";
    public static final String SEVERITY_FATAL = "FATAL";

    public ErrorResponse {
        fields = ResponseFields.checkedCopy(fields);
    }

    /** S and V (both the given severity), C, M and, when {@code detail} is not null, D. */
    public static ErrorResponse of(String severity, SqlState state, String message, String detail) {
        Objects.requireNonNull(state, "state");
        return new ErrorResponse(ResponseFields.standardFields(severity, state.code(), message, detail));
    }

    public static ErrorResponse of(String severity, SqlState state, String message) {
        return of(severity, state, message, null);
    }

    /** Severity ERROR: the statement failed, the session goes on. */
    public static ErrorResponse error(SqlState state, String message) {
        return of(SEVERITY_ERROR, state, message, null);
    }

    /** Severity FATAL: the session ends; the connection is closed after this message. */
    public static ErrorResponse fatal(SqlState state, String message) {
        return of(SEVERITY_FATAL, state, message, null);
    }

    public boolean isFatal() {
        String severity = field(ErrorField.SEVERITY_NONLOCALIZED).orElse(severity());
        return SEVERITY_FATAL.equals(severity) || "PANIC".equals(severity);
    }

    /** A copy with field {@code type} set (added at the end, or replaced in place). */
    public ErrorResponse withField(char type, String value) {
        return new ErrorResponse(ResponseFields.withField(fields, type, value));
    }

    public ErrorResponse withField(ErrorField type, String value) {
        return withField(type.code(), value);
    }

    @Override
    public void encode(ByteBuf out) {
        ResponseFields.write(out, TYPE, fields);
    }

    static ErrorResponse read(WireReader body) {
        return new ErrorResponse(ResponseFields.read(body));
    }
}
