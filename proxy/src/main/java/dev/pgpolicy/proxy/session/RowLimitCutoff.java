package dev.pgpolicy.proxy.session;

import dev.pgpolicy.proxy.wire.ErrorResponse;
import dev.pgpolicy.proxy.wire.RawFrame;
import java.util.ArrayDeque;
import java.util.Objects;

/**
 * A statement whose result went over a row limit ({@link RowFilter#admit}), from the row that was
 * one too many until the ReadyForQuery that ends its Query or sync group. The client already has
 * {@link #error}; the statement was cancelled upstream. Meanwhile the session relays only
 * asynchronous messages (notices, notifications, parameter changes) and drops every result, as the
 * server drops the rest of a failed Query or sync group:
 *
 * <pre>
 *   server:  D ... D(N+1)  [D ... C | E 57014]  ...  Z
 *   client:  D ... E(limit)                          Z   (held until the cancel is delivered)
 * </pre>
 *
 * When the server finished the statement before the cancel reached it, nothing failed upstream;
 * inside a transaction block ('T' in the ReadyForQuery) the session then fails the block itself
 * with a stand-in statement, so the block ends as the client was told ({@link #failingBlock}).
 */
final class RowLimitCutoff {

    final ErrorResponse error;
    /** The server raised an error after the cut (the cancel, or the stand-in): its transaction is failed. */
    boolean serverFailed;
    /** The server has signalled the backend, so the cancel can no longer hit a later statement. */
    boolean cancelDelivered;
    /** The stand-in statement that fails the transaction block was sent; its ReadyForQuery ends the cutoff. */
    boolean failingBlock;
    /** The ReadyForQuery that ends the cutoff, held until the cancel is delivered; null otherwise. */
    private RawFrame heldReady;
    /** Server frames that arrived after {@link #heldReady}, in order, not yet attributed to any request. */
    private final ArrayDeque<RawFrame> heldAfter = new ArrayDeque<>();

    RowLimitCutoff(ErrorResponse error) {
        this.error = Objects.requireNonNull(error);
    }

    boolean holding() {
        return heldReady != null;
    }

    void holdReady(RawFrame ready) {
        heldReady = ready;
    }

    void holdAfter(RawFrame frame) {
        heldAfter.addLast(frame);
    }

    RawFrame takeHeldReady() {
        RawFrame ready = heldReady;
        heldReady = null;
        return ready;
    }

    RawFrame pollHeldAfter() {
        return heldAfter.pollFirst();
    }

    /** The session ended: frees what is still held. */
    void release() {
        if (heldReady != null) {
            heldReady.release();
            heldReady = null;
        }
        RawFrame frame;
        while ((frame = heldAfter.pollFirst()) != null) {
            frame.release();
        }
    }
}
