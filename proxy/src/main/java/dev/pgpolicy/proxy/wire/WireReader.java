package dev.pgpolicy.proxy.wire;

import io.netty.buffer.ByteBuf;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Bounds-checked reads from one message body. Every read that would pass the end of the body, and
 * every string without its terminator, is a {@link ProtocolException} naming the message, so a
 * decoder never reads into the next frame and never trusts a count it has not checked.
 */
final class WireReader {
    private final ByteBuf body;
    private final String messageName;

    WireReader(ByteBuf body, String messageName) {
        this.body = body;
        this.messageName = messageName;
    }

    String messageName() {
        return messageName;
    }

    int remaining() {
        return body.readableBytes();
    }

    ByteBuf buffer() {
        return body;
    }

    ProtocolException malformed(String problem) {
        return new ProtocolException(describe(messageName) + problem);
    }

    private void need(int bytes, String what) {
        if (body.readableBytes() < bytes) {
            throw malformed(what + " runs past the end of the message");
        }
    }

    byte readByte(String what) {
        need(1, what);
        return body.readByte();
    }

    short readInt16(String what) {
        need(2, what);
        return body.readShort();
    }

    /**
     * Counts that the protocol documents as Int16 are read unsigned, as PostgreSQL's
     * {@code pq_getmsgint(msg, 2)} does, so 65535 parameters are accepted like the server does.
     */
    int readCount16(String what) {
        need(2, what);
        return body.readUnsignedShort();
    }

    int readInt32(String what) {
        need(4, what);
        return body.readInt();
    }

    /**
     * A count of items that each take at least {@code minItemBytes}: checked against what is left
     * so that a forged count cannot make the decoder allocate before it fails.
     */
    int readCount16(String what, int minItemBytes) {
        int count = readCount16(what);
        if ((long) count * minItemBytes > body.readableBytes()) {
            throw malformed(what + " " + count + " does not fit the message length");
        }
        return count;
    }

    Bytes readBytes(int length, String what) {
        if (length < 0) {
            throw malformed("negative length " + length + " for " + what);
        }
        need(length, what);
        return Bytes.read(body, length);
    }

    /** An Int32 length followed by that many bytes, where -1 means NULL. */
    Bytes readNullableValue(String what) {
        int length = readInt32(what + " length");
        if (length == -1) {
            return null;
        }
        if (length < -1) {
            throw malformed("invalid length " + length + " for " + what);
        }
        return readBytes(length, what);
    }

    /** A NUL-terminated string in UTF-8. */
    String readCString(String what) {
        int length = body.bytesBefore((byte) 0);
        if (length < 0) {
            throw malformed(what + " is not terminated");
        }
        String value = decodeUtf8(body, body.readerIndex(), length, this, what);
        body.skipBytes(length + 1);
        return value;
    }

    /** A NUL-terminated byte string, kept as bytes (passwords, whose encoding is the client's). */
    Bytes readCStringBytes(String what) {
        int length = body.bytesBefore((byte) 0);
        if (length < 0) {
            throw malformed(what + " is not terminated");
        }
        Bytes value = Bytes.read(body, length);
        body.skipBytes(1);
        return value;
    }

    /** "invalid Bind message: ", "invalid StartupMessage: " */
    private static String describe(String messageName) {
        return messageName.endsWith("Message") ? "invalid " + messageName + ": " : "invalid " + messageName + " message: ";
    }

    void expectEnd() {
        if (body.isReadable()) {
            throw malformed(body.readableBytes() + " unexpected trailing byte(s)");
        }
    }

    /**
     * Strict UTF-8: a malformed sequence is refused rather than replaced, because the policy engine
     * must see exactly the text the server will execute; replacing bytes would let a client show
     * the proxy one statement and the server another.
     */
    static String decodeUtf8(ByteBuf buf, int index, int length, WireReader context, String what) {
        boolean ascii = buf.forEachByte(index, length, b -> b >= 0) < 0;
        if (ascii) {
            return buf.toString(index, length, StandardCharsets.US_ASCII);
        }
        ByteBuffer bytes = buf.nioBufferCount() == 1
                ? buf.nioBuffer(index, length)
                : ByteBuffer.wrap(io.netty.buffer.ByteBufUtil.getBytes(buf, index, length, true));
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(bytes)
                    .toString();
        } catch (CharacterCodingException e) {
            throw new ProtocolException(SqlState.CHARACTER_NOT_IN_REPERTOIRE,
                    describe(context.messageName) + what + " is not valid UTF-8", e);
        }
    }
}
