package dev.pgpolicy.proxy.wire;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

class BytesTest {

    @Test
    void equalityIsByContent() {
        assertThat(Bytes.of((byte) 1, (byte) 2)).isEqualTo(Bytes.of((byte) 1, (byte) 2))
                .hasSameHashCodeAs(Bytes.of((byte) 1, (byte) 2))
                .isNotEqualTo(Bytes.of((byte) 2, (byte) 1));
        assertThat(Bytes.of()).isSameAs(Bytes.EMPTY);
    }

    @Test
    void isImmutable() {
        byte[] source = {1, 2, 3};
        Bytes bytes = Bytes.of(source);
        source[0] = 9;
        bytes.toByteArray()[1] = 9;
        assertThat(bytes.toByteArray()).containsExactly(1, 2, 3);
    }

    @Test
    void copiesFromABufferWithoutMovingIt() {
        ByteBuf buf = Unpooled.wrappedBuffer(new byte[] {'a', 'b', 'c'});
        try {
            assertThat(Bytes.copyOf(buf)).isEqualTo(Bytes.utf8("abc"));
            assertThat(Bytes.copyOf(buf, 1, 2).toUtf8String()).isEqualTo("bc");
            assertThat(buf.readerIndex()).isZero();
        } finally {
            buf.release();
        }
    }

    @Test
    void toStringShowsOnlyTheLength() {
        assertThat(Bytes.utf8("secret").toString()).isEqualTo("Bytes[6]");
        assertThat(Bytes.of(new byte[100]).toHex()).endsWith("...").hasSize(128 + 3);
    }
}
