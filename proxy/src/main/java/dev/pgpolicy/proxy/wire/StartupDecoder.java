package dev.pgpolicy.proxy.wire;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;

/**
 * Decodes the untyped packets a client sends before the typed protocol starts: SSLRequest,
 * GSSENCRequest, CancelRequest and StartupMessage ("Message Flow: Start-up").
 *
 * <p>One packet per read: the session answers each one and decides what comes next (TLS after
 * 'S', another request after 'N', the typed protocol after a StartupMessage), replacing or removing
 * this decoder; bytes still buffered here then pass to the handler that follows. After a
 * StartupMessage or CancelRequest this decoder decodes nothing more.
 *
 * <p>Checks, each a {@link ProtocolException}:
 * <ul>
 * <li>the length is 8 to 10 000 bytes (MAX_STARTUP_PACKET_LENGTH), checked as soon as it arrives;
 * <li>SSLRequest and GSSENCRequest are exactly 8 bytes, CancelRequest exactly 16;
 * <li>no byte may follow an SSLRequest or GSSENCRequest before the answer: such bytes were sent
 *     in clear text before the handshake and may have been injected by a man in the middle
 *     (CVE-2021-23214, "received unencrypted data after SSL request");
 * <li>protocol major version 3 (any minor: the session negotiates down to 3.0), else 0A000;
 * <li>parameters are terminated C-strings with non-empty, unique names and nothing after the
 *     final zero byte.
 * </ul>
 */
public final class StartupDecoder extends ByteToMessageDecoder {
    private boolean finished;
    private boolean failed;

    public StartupDecoder() {
        setSingleDecode(true);
    }

    /** Whether a StartupMessage or CancelRequest has been decoded. */
    public boolean isFinished() {
        return finished;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (failed) {
            in.skipBytes(in.readableBytes());
            return;
        }
        if (finished) {
            // The client may not speak before the server answers the startup packet; bound what a
            // session that is slow to replace this decoder can be made to hold.
            if (in.readableBytes() > StartupPacket.MAX_LENGTH) {
                throw fail(in, new ProtocolException("unexpected data after the startup packet"));
            }
            return;
        }
        if (in.readableBytes() < 4) {
            return;
        }
        int start = in.readerIndex();
        int length = in.getInt(start);
        if (length < 8 || length > StartupPacket.MAX_LENGTH) {
            throw fail(in, new ProtocolException("invalid length of startup packet: " + length));
        }
        if (in.readableBytes() < length) {
            return;
        }
        int code = in.getInt(start + 4);
        try {
            out.add(decodePacket(in, length, code));
        } catch (ProtocolException e) {
            throw fail(in, e);
        }
    }

    private StartupPacket decodePacket(ByteBuf in, int length, int code) {
        switch (code) {
            case StartupPacket.SSL_REQUEST_CODE:
            case StartupPacket.GSSENC_REQUEST_CODE: {
                String name = code == StartupPacket.SSL_REQUEST_CODE ? "SSLRequest" : "GSSENCRequest";
                if (length != 8) {
                    throw new ProtocolException("invalid length of " + name + ": " + length);
                }
                if (in.readableBytes() > length) {
                    throw new ProtocolException(code == StartupPacket.SSL_REQUEST_CODE
                            ? "received unencrypted data after SSL request"
                            : "received unencrypted data after GSSAPI encryption request");
                }
                in.skipBytes(length);
                return code == StartupPacket.SSL_REQUEST_CODE ? SSLRequest.INSTANCE : GSSENCRequest.INSTANCE;
            }
            case StartupPacket.CANCEL_REQUEST_CODE: {
                if (length != 16) {
                    throw new ProtocolException("invalid length of CancelRequest: " + length);
                }
                in.skipBytes(8);
                CancelRequest cancel = new CancelRequest(in.readInt(), in.readInt());
                finished = true;
                return cancel;
            }
            default: {
                int major = code >>> 16;
                int minor = code & 0xFFFF;
                if (major != 3) {
                    throw new ProtocolException(SqlState.FEATURE_NOT_SUPPORTED, "unsupported frontend protocol "
                            + major + "." + minor + ": server supports 3.0 to 3.0");
                }
                WireReader body = new WireReader(in.slice(in.readerIndex() + 8, length - 8), "StartupMessage");
                StartupMessage message;
                try {
                    message = StartupMessage.read(code, body);
                } catch (IllegalArgumentException e) {
                    throw body.malformed(e.getMessage());
                }
                in.skipBytes(length);
                finished = true;
                return message;
            }
        }
    }

    private ProtocolException fail(ByteBuf in, ProtocolException e) {
        failed = true;
        in.skipBytes(in.readableBytes());
        return e;
    }
}
