package dev.pgpolicy.proxy.wire;

import java.util.Map;
import java.util.Optional;

/**
 * The body shared by ErrorResponse and NoticeResponse: typed fields, each a type byte and a
 * string, ending with a zero byte. S (severity), C (SQLSTATE) and M (message) are always present.
 */
public sealed interface ResponseFields permits ErrorResponse, NoticeResponse {

    /** The fields in the order they were sent, keyed by field type byte. */
    Map<Character, String> fields();

    default Optional<String> field(char type) {
        return Optional.ofNullable(fields().get(type));
    }

    default Optional<String> field(ErrorField type) {
        return field(type.code());
    }

    /** Localized severity: ERROR, FATAL or PANIC for errors; WARNING, NOTICE, DEBUG, INFO or LOG. */
    default String severity() {
        return fields().get(ErrorField.SEVERITY.code());
    }

    /** The SQLSTATE code, which may be one the proxy never raises itself. */
    default String code() {
        return fields().get(ErrorField.CODE.code());
    }

    default Optional<SqlState> sqlState() {
        return SqlState.fromCode(code());
    }

    default String message() {
        return fields().get(ErrorField.MESSAGE.code());
    }

    default Optional<String> detail() {
        return field(ErrorField.DETAIL);
    }

    default Optional<String> hint() {
        return field(ErrorField.HINT);
    }
}
