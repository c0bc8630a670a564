package dev.pgpolicy.proxy.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;

/**
 * CopyData (F and B): one chunk of a COPY data stream, in either direction.
 * <pre>
 * Byte1('d')
 * Int32   length
 * Byte[n] data; chunk boundaries need not match row boundaries
 * </pre>
 * COPY carries bulk data, so the payload stays a reference-counted buffer (a slice of the frame it
 * came in, not a copy). The holder owns one reference: release it, or hand it to a channel write.
 * {@link #toString()} shows only the length, since the payload is table data.
 */
public final class CopyData extends DefaultByteBufHolder implements FrontendMessage, BackendMessage {
    public static final char TYPE = 'd';

    /** Takes ownership of {@code data}; its readable bytes are the payload. */
    public CopyData(ByteBuf data) {
        super(data);
    }

    public int dataLength() {
        return content().readableBytes();
    }

    @Override
    public void encode(ByteBuf out) {
        ByteBuf data = content();
        out.writeByte(TYPE);
        out.writeInt(4 + data.readableBytes());
        out.writeBytes(data, data.readerIndex(), data.readableBytes());
    }

    @Override
    public CopyData copy() {
        return (CopyData) super.copy();
    }

    @Override
    public CopyData duplicate() {
        return (CopyData) super.duplicate();
    }

    @Override
    public CopyData retainedDuplicate() {
        return (CopyData) super.retainedDuplicate();
    }

    @Override
    public CopyData replace(ByteBuf content) {
        return new CopyData(content);
    }

    @Override
    public CopyData retain() {
        super.retain();
        return this;
    }

    @Override
    public CopyData retain(int increment) {
        super.retain(increment);
        return this;
    }

    @Override
    public CopyData touch() {
        super.touch();
        return this;
    }

    @Override
    public CopyData touch(Object hint) {
        super.touch(hint);
        return this;
    }

    @Override
    public String toString() {
        return "CopyData[" + (refCnt() > 0 ? dataLength() + " bytes" : "released") + "]";
    }
}
