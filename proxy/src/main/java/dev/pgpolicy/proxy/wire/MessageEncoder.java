package dev.pgpolicy.proxy.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToMessageEncoder;
import java.util.List;

/**
 * The outbound half of the codec, for either side of the proxy: a {@link RawFrame} goes out as
 * its own bytes (no copy), a {@link WireMessage} record is encoded, and anything else (a plain
 * {@link ByteBuf}, such as the one-byte answer to SSLRequest) passes through untouched.
 * {@link DataRow} and {@link CopyData} are written as a 5-byte header in front of their retained
 * payload, so bulk data is never copied either. Stateless, hence shareable.
 */
@Sharable
public final class MessageEncoder extends MessageToMessageEncoder<Object> {
    public static final MessageEncoder INSTANCE = new MessageEncoder();

    @Override
    public boolean acceptOutboundMessage(Object msg) {
        return msg instanceof RawFrame || msg instanceof WireMessage;
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, Object msg, List<Object> out) {
        // MessageToMessageEncoder releases msg after this returns; whatever is added here carries
        // its own reference.
        if (msg instanceof RawFrame frame) {
            out.add(frame.content().retain());
        } else if (msg instanceof DataRow || msg instanceof CopyData) {
            ByteBuf payload = ((ByteBufHolder) msg).content();
            char type = msg instanceof DataRow ? DataRow.TYPE : CopyData.TYPE;
            ByteBuf header = ctx.alloc().buffer(RawFrame.HEADER_LENGTH);
            header.writeByte(type);
            header.writeInt(4 + payload.readableBytes());
            CompositeByteBuf frame = ctx.alloc().compositeBuffer(2);
            frame.addComponents(true, header, payload.retainedSlice());
            out.add(frame);
        } else if (msg instanceof WireMessage message) {
            out.add(message.encode(ctx.alloc()));
        } else {
            throw new AssertionError("not accepted: " + msg.getClass().getName());
        }
    }
}
