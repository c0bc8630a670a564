package dev.pgpolicy.proxy.session;

import io.netty.buffer.ByteBuf;

/**
 * Rewrites the CopyData stream of one {@code COPY ... TO STDOUT} (masking), from the server's
 * CopyOutResponse to its CopyDone. Chunk boundaries need not match row boundaries (PostgreSQL
 * docs, "COPY Operations"), so a filter may hold back the start of a row until its end arrives.
 * A filter that cannot vouch for what it would send throws {@link SessionException}: the session
 * then ends, and nothing it could not read reaches the client.
 */
public interface CopyFilter {

    /** The data passes as it came, in the frames it came in. */
    CopyFilter UNCHANGED = new CopyFilter() {
        @Override
        public void filter(ByteBuf data, ByteBuf out) {
            out.writeBytes(data, data.readerIndex(), data.readableBytes());
        }

        @Override
        public void finish() {
        }

        @Override
        public void discard() {
        }
    };

    /**
     * One CopyData payload: appends to {@code out} what the client is to receive for it, possibly
     * nothing yet. Neither moves {@code data}'s reader index nor releases it.
     */
    void filter(ByteBuf data, ByteBuf out);

    /** CopyDone: the stream is complete; throws when it ended inside a row. */
    void finish();

    /** The stream ended otherwise (an error, the session closed): releases whatever is held back. */
    void discard();
}
