package dev.pgpolicy.proxy.wire;

import io.netty.buffer.ByteBuf;
import java.util.Objects;

/**
 * ReadyForQuery (B): the server is ready for a new query cycle.
 * <pre>
 * Byte1('Z')
 * Int32(5)  length
 * Byte1     transaction status: 'I' idle, 'T' in a transaction block, 'E' in a failed one
 * </pre>
 */
public record ReadyForQuery(TransactionStatus status) implements BackendMessage {
    public static final char TYPE = 'Z';

    public static final ReadyForQuery IDLE = new ReadyForQuery(TransactionStatus.IDLE);
    public static final ReadyForQuery IN_TRANSACTION = new ReadyForQuery(TransactionStatus.IN_TRANSACTION);
    public static final ReadyForQuery FAILED = new ReadyForQuery(TransactionStatus.FAILED);

    public ReadyForQuery {
        Objects.requireNonNull(status, "status");
    }

    public static ReadyForQuery of(TransactionStatus status) {
        return switch (status) {
            case IDLE -> IDLE;
            case IN_TRANSACTION -> IN_TRANSACTION;
            case FAILED -> FAILED;
        };
    }

    @Override
    public void encode(ByteBuf out) {
        out.writeByte(TYPE);
        out.writeInt(5);
        out.writeByte(status.code());
    }

    static ReadyForQuery read(WireReader body) {
        byte code = body.readByte("transaction status");
        body.expectEnd();
        return of(TransactionStatus.fromCode(code).orElseThrow(() -> body.malformed(
                "unknown transaction status 0x" + Integer.toHexString(code & 0xFF))));
    }
}
