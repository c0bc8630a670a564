package dev.pgpolicy.proxy.wire;

import java.util.Optional;

/** The transaction status indicator carried by ReadyForQuery. */
public enum TransactionStatus {
    /** Not in a transaction block. */
    IDLE('I'),
    /** In a transaction block. */
    IN_TRANSACTION('T'),
    /** In a failed transaction block: statements are rejected until the block ends. */
    FAILED('E');

    private final char code;

    TransactionStatus(char code) {
        this.code = code;
    }

    public char code() {
        return code;
    }

    public static Optional<TransactionStatus> fromCode(int code) {
        for (TransactionStatus status : values()) {
            if (status.code == code) {
                return Optional.of(status);
            }
        }
        return Optional.empty();
    }
}
