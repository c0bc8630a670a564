package dev.pgpolicy.proxy.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * An immutable byte string: the value type for opaque protocol payloads (SASL data, parameter
 * values, salts) in message records. Records compare {@code byte[]} components by identity, so the
 * records hold this instead; equality is by content.
 */
public final class Bytes {
    private static final int TO_STRING_LIMIT = 64;

    public static final Bytes EMPTY = new Bytes(new byte[0]);

    private final byte[] bytes;

    private Bytes(byte[] bytes) {
        this.bytes = bytes;
    }

    public static Bytes of(byte... bytes) {
        return bytes.length == 0 ? EMPTY : new Bytes(bytes.clone());
    }

    public static Bytes utf8(String text) {
        return new Bytes(text.getBytes(StandardCharsets.UTF_8));
    }

    /** Copies the readable bytes of {@code buf} without moving its reader index. */
    public static Bytes copyOf(ByteBuf buf) {
        return copyOf(buf, buf.readerIndex(), buf.readableBytes());
    }

    public static Bytes copyOf(ByteBuf buf, int index, int length) {
        Objects.requireNonNull(buf, "buf");
        if (length == 0) {
            return EMPTY;
        }
        return new Bytes(ByteBufUtil.getBytes(buf, index, length, true));
    }

    /** Reads {@code length} bytes from {@code buf}, advancing its reader index. */
    static Bytes read(ByteBuf buf, int length) {
        Bytes value = copyOf(buf, buf.readerIndex(), length);
        buf.skipBytes(length);
        return value;
    }

    public int length() {
        return bytes.length;
    }

    public boolean isEmpty() {
        return bytes.length == 0;
    }

    public byte byteAt(int index) {
        return bytes[index];
    }

    public byte[] toByteArray() {
        return bytes.clone();
    }

    public void writeTo(ByteBuf out) {
        out.writeBytes(bytes);
    }

    /** Decodes the bytes as UTF-8, replacing malformed sequences; for display and SCRAM text. */
    public String toUtf8String() {
        return new String(bytes, StandardCharsets.UTF_8);
    }

    boolean containsZero() {
        for (byte b : bytes) {
            if (b == 0) {
                return true;
            }
        }
        return false;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Bytes that && Arrays.equals(bytes, that.bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes);
    }

    /** Hex, cut after 64 bytes so that a large value cannot flood a log line. */
    @Override
    public String toString() {
        int shown = Math.min(bytes.length, TO_STRING_LIMIT);
        String hex = ByteBufUtil.hexDump(bytes, 0, shown);
        return bytes.length > shown
                ? "Bytes[" + bytes.length + ": " + hex + "...]"
                : "Bytes[" + bytes.length + ": " + hex + "]";
    }
}
