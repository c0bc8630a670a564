package dev.pgpolicy.proxy.wire;

import static dev.pgpolicy.proxy.wire.WireTestSupport.assertSameBytes;
import static dev.pgpolicy.proxy.wire.WireTestSupport.buf;
import static dev.pgpolicy.proxy.wire.WireTestSupport.bytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class DataRowTest {
    private static final String ROW = "44 00000019 | 0003 | 00000003 'ana' | ffffffff | 00000004 'mail'";

    @Test
    void exposesColumnsWithoutCopying() {
        RawFrame frame = RawFrame.wrap(buf(ROW));
        DataRow row = (DataRow) BackendMessages.decode(frame);
        try {
            assertThat(row.columnCount()).isEqualTo(3);
            assertThat(row.columnLength(0)).isEqualTo(3);
            assertThat(row.isNull(1)).isTrue();
            assertThat(row.columnLength(1)).isEqualTo(-1);
            assertThat(row.column(1)).isNull();
            assertThat(row.column(2).toString(StandardCharsets.UTF_8)).isEqualTo("mail");
            assertThat(row.columnValue(0)).contains(Bytes.utf8("ana"));
            assertThat(row.columnValue(1)).isEmpty();
            assertThat(row.toString()).isEqualTo("DataRow[3 columns]").doesNotContain("ana");
            assertThatThrownBy(() -> row.column(3)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> row.column(-1)).isInstanceOf(IndexOutOfBoundsException.class);
            // The row holds a reference to the frame's memory rather than a copy.
            assertThat(frame.refCnt()).isEqualTo(2);
        } finally {
            row.release();
            frame.release();
        }
        assertThat(frame.refCnt()).isZero();
    }

    @Test
    void buildsARowForMasking() {
        DataRow row = DataRow.of(UnpooledByteBufAllocator.DEFAULT,
                List.of(Optional.of(Bytes.utf8("ana")), Optional.empty(), Optional.of(Bytes.utf8("mail"))));
        ByteBuf out = UnpooledByteBufAllocator.DEFAULT.buffer();
        try {
            row.encode(out);
            assertSameBytes(out, bytes(ROW));
        } finally {
            out.release();
            row.release();
        }
    }

    @Test
    void emptyRow() {
        DataRow row = DataRow.wrap(buf("0000"));
        try {
            assertThat(row.columnCount()).isZero();
        } finally {
            row.release();
        }
    }

    @Test
    void wrapRefusesAMalformedBodyAndLeavesOwnershipWithTheCaller() {
        ByteBuf body = buf("0001 00000005 'ab'");
        assertThatThrownBy(() -> DataRow.wrap(body)).isInstanceOf(ProtocolException.class);
        assertThat(body.refCnt()).isEqualTo(1);
        body.release();
    }

    @Test
    void copiesAndDuplicatesAreRowsToo() {
        DataRow row = DataRow.wrap(buf("0001 00000001 'x'"));
        DataRow copy = row.copy();
        DataRow duplicate = row.retainedDuplicate();
        try {
            assertThat(copy).isEqualTo(row);
            assertThat(copy.columnValue(0)).contains(Bytes.utf8("x"));
            assertThat(duplicate.columnValue(0)).contains(Bytes.utf8("x"));
            assertThat(row.refCnt()).isEqualTo(2);
        } finally {
            copy.release();
            duplicate.release();
            row.release();
        }
        assertThat(row.refCnt()).isZero();
    }
}
