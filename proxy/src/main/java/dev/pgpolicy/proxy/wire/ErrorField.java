package dev.pgpolicy.proxy.wire;

/**
 * The field type bytes of ErrorResponse and NoticeResponse ("Error and Notice Message Fields" in
 * the protocol docs). Servers may add new types; receivers keep and ignore the ones they do not
 * know, which is why the messages key their fields by the raw byte rather than by this enum.
 */
public enum ErrorField {
    SEVERITY('S'),
    /** Severity, never localized (9.6 and later). */
    SEVERITY_NONLOCALIZED('V'),
    CODE('C'),
    MESSAGE('M'),
    DETAIL('D'),
    HINT('H'),
    POSITION('P'),
    INTERNAL_POSITION('p'),
    INTERNAL_QUERY('q'),
    WHERE('W'),
    SCHEMA_NAME('s'),
    TABLE_NAME('t'),
    COLUMN_NAME('c'),
    DATA_TYPE_NAME('d'),
    CONSTRAINT_NAME('n'),
    FILE('F'),
    LINE('L'),
    ROUTINE('R');

    private final char code;

    ErrorField(char code) {
        this.code = code;
    }

    public char code() {
        return code;
    }
}
