package dev.pgpolicy.proxy.wire;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The SQLSTATE codes the proxy itself raises, as listed in PostgreSQL's "Appendix A. PostgreSQL
 * Error Codes". Upstream errors keep whatever code the server sent; this enum only names the codes
 * the proxy produces, so {@link #fromCode} returns empty for codes outside that set.
 */
public enum SqlState {
    SUCCESSFUL_COMPLETION("00000"),
    WARNING("01000"),
    CONNECTION_EXCEPTION("08000"),
    SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION("08001"),
    CONNECTION_FAILURE("08006"),
    PROTOCOL_VIOLATION("08P01"),
    FEATURE_NOT_SUPPORTED("0A000"),
    CHARACTER_NOT_IN_REPERTOIRE("22021"),
    INVALID_PARAMETER_VALUE("22023"),
    INVALID_TRANSACTION_STATE("25000"),
    ACTIVE_SQL_TRANSACTION("25001"),
    READ_ONLY_SQL_TRANSACTION("25006"),
    IN_FAILED_SQL_TRANSACTION("25P02"),
    IDLE_IN_TRANSACTION_SESSION_TIMEOUT("25P03"),
    INVALID_AUTHORIZATION_SPECIFICATION("28000"),
    INVALID_PASSWORD("28P01"),
    INVALID_SQL_STATEMENT_NAME("26000"),
    INVALID_CURSOR_NAME("34000"),
    INVALID_CATALOG_NAME("3D000"),
    SYNTAX_ERROR("42601"),
    INSUFFICIENT_PRIVILEGE("42501"),
    DUPLICATE_CURSOR("42P03"),
    DUPLICATE_PREPARED_STATEMENT("42P05"),
    INSUFFICIENT_RESOURCES("53000"),
    TOO_MANY_CONNECTIONS("53300"),
    CONFIGURATION_LIMIT_EXCEEDED("53400"),
    PROGRAM_LIMIT_EXCEEDED("54000"),
    STATEMENT_TOO_COMPLEX("54001"),
    OPERATOR_INTERVENTION("57000"),
    QUERY_CANCELED("57014"),
    ADMIN_SHUTDOWN("57P01"),
    CRASH_SHUTDOWN("57P02"),
    CANNOT_CONNECT_NOW("57P03"),
    IDLE_SESSION_TIMEOUT("57P05"),
    IO_ERROR("58030"),
    INTERNAL_ERROR("XX000");

    private static final Map<String, SqlState> BY_CODE = new HashMap<>();

    static {
        for (SqlState state : values()) {
            BY_CODE.put(state.code, state);
        }
    }

    private final String code;

    SqlState(String code) {
        this.code = code;
    }

    /** The five-character SQLSTATE, as sent in the 'C' field of an ErrorResponse. */
    public String code() {
        return code;
    }

    /** The two-character class, e.g. "08" for every connection exception. */
    public String sqlClass() {
        return code.substring(0, 2);
    }

    public static Optional<SqlState> fromCode(String code) {
        return Optional.ofNullable(BY_CODE.get(code));
    }
}
