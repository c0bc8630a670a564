package dev.pgpolicy.proxy.testing;

import dev.pgpolicy.proxy.wire.WireMessage;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * Frontend messages assembled by hand, byte by byte, for tests that must not trust the proxy's own
 * encoders. Layouts from the PostgreSQL docs, "Message Formats" (55.7): an untyped startup packet
 * is Int32 length (self-inclusive) + Int32 code + body; every later message is Byte1 type +
 * Int32 length (self-inclusive, excluding the type) + body.
 */
public final class Frames {
    /** 1234.5679, the SSLRequest code. */
    public static final int SSL_REQUEST_CODE = 80877103;
    /** 1234.5680, the GSSENCRequest code. */
    public static final int GSSENC_REQUEST_CODE = 80877104;
    /** 1234.5678, the CancelRequest code. */
    public static final int CANCEL_REQUEST_CODE = 80877102;
    /** Protocol 3.0. */
    public static final int PROTOCOL_3_0 = 196608;

    private Frames() {
    }

    public static byte[] sslRequest() {
        return ByteBuffer.allocate(8).putInt(8).putInt(SSL_REQUEST_CODE).array();
    }

    public static byte[] gssEncRequest() {
        return ByteBuffer.allocate(8).putInt(8).putInt(GSSENC_REQUEST_CODE).array();
    }

    public static byte[] cancelRequest(int processId, int secretKey) {
        return ByteBuffer.allocate(16).putInt(16).putInt(CANCEL_REQUEST_CODE).putInt(processId).putInt(secretKey).array();
    }

    /** StartupMessage with the given parameters (user is required by the server) in iteration order. */
    public static byte[] startup(Map<String, String> parameters) {
        return startup(PROTOCOL_3_0, parameters);
    }

    /** A startup packet announcing {@code version}: other versions test how the server negotiates them. */
    public static byte[] startup(int version, Map<String, String> parameters) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        parameters.forEach((name, value) -> {
            cString(body, name);
            cString(body, value);
        });
        body.write(0);
        byte[] bytes = body.toByteArray();
        return ByteBuffer.allocate(8 + bytes.length).putInt(8 + bytes.length).putInt(version).put(bytes).array();
    }

    /** Query ('Q'): the simple query protocol. */
    public static byte[] query(String sql) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        cString(body, sql);
        return typed('Q', body.toByteArray());
    }

    /** PasswordMessage ('p') carrying a cleartext password. */
    public static byte[] password(String password) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        cString(body, password);
        return typed('p', body.toByteArray());
    }

    /** Terminate ('X'). */
    public static byte[] terminate() {
        return typed('X', new byte[0]);
    }

    /** Sync ('S'). */
    public static byte[] sync() {
        return typed('S', new byte[0]);
    }

    /** Any typed message: Byte1 type, Int32 length = 4 + body, body. */
    public static byte[] typed(char type, byte[] body) {
        return ByteBuffer.allocate(5 + body.length).put((byte) type).putInt(4 + body.length).put(body).array();
    }

    public static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }

    private static void cString(ByteArrayOutputStream out, String text) {
        out.writeBytes(text.getBytes(StandardCharsets.UTF_8));
        out.write(0);
    }

    /** The wire bytes of {@code messages}, one after the other, through the proxy's own encoders. */
    public static byte[] encode(WireMessage... messages) {
        ByteBuf out = UnpooledByteBufAllocator.DEFAULT.buffer();
        try {
            for (WireMessage message : messages) {
                ByteBuf one = message.encode(UnpooledByteBufAllocator.DEFAULT);
                out.writeBytes(one);
                one.release();
            }
            return ByteBufUtil.getBytes(out);
        } finally {
            out.release();
        }
    }
}
