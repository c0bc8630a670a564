package dev.pgpolicy.proxy.wire;

import io.netty.buffer.ByteBuf;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
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

    /** Validated, ordered, unmodifiable copy for the records' compact constructors. */
    static Map<Character, String> checkedCopy(Map<Character, String> fields) {
        Objects.requireNonNull(fields, "fields");
        LinkedHashMap<Character, String> copy = new LinkedHashMap<>();
        fields.forEach((type, value) -> {
            Objects.requireNonNull(type, "field type");
            if (type == 0 || type > 0xFF) {
                throw new IllegalArgumentException("field type must be a non-zero byte, not " + (int) type);
            }
            copy.put(type, Checks.cString(value, "field " + type));
        });
        for (ErrorField required : new ErrorField[] {ErrorField.SEVERITY, ErrorField.CODE, ErrorField.MESSAGE}) {
            if (!copy.containsKey(required.code())) {
                throw new IllegalArgumentException("field " + required.code() + " (" + required + ") is required");
            }
        }
        return Collections.unmodifiableMap(copy);
    }

    static Map<Character, String> standardFields(String severity, String code, String message, String detail) {
        LinkedHashMap<Character, String> fields = new LinkedHashMap<>();
        fields.put(ErrorField.SEVERITY.code(), severity);
        fields.put(ErrorField.SEVERITY_NONLOCALIZED.code(), severity);
        fields.put(ErrorField.CODE.code(), code);
        fields.put(ErrorField.MESSAGE.code(), message);
        if (detail != null) {
            fields.put(ErrorField.DETAIL.code(), detail);
        }
        return fields;
    }

    static Map<Character, String> withField(Map<Character, String> fields, char type, String value) {
        LinkedHashMap<Character, String> copy = new LinkedHashMap<>(fields);
        copy.put(type, value);
        return copy;
    }

    static void write(ByteBuf out, char messageType, Map<Character, String> fields) {
        int lengthIndex = WireWriter.beginFrame(out, messageType);
        fields.forEach((type, value) -> {
            out.writeByte(type);
            WireWriter.writeCString(out, value);
        });
        out.writeByte(0);
        WireWriter.endFrame(out, lengthIndex);
    }

    static Map<Character, String> read(WireReader body) {
        LinkedHashMap<Character, String> fields = new LinkedHashMap<>();
        while (true) {
            byte type = body.readByte("field type");
            if (type == 0) {
                break;
            }
            char key = (char) (type & 0xFF);
            String value = body.readCString("field " + key);
            if (fields.put(key, value) != null) {
                throw body.malformed("field " + key + " appears more than once");
            }
        }
        body.expectEnd();
        for (ErrorField required : new ErrorField[] {ErrorField.SEVERITY, ErrorField.CODE, ErrorField.MESSAGE}) {
            if (!fields.containsKey(required.code())) {
                throw body.malformed("required field " + required.code() + " is missing");
            }
        }
        return fields;
    }
}
