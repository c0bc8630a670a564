package dev.pgpolicy.proxy.enforce;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgpolicy.policy.MaskFunction;
import dev.pgpolicy.policy.MaskSpec;
import dev.pgpolicy.proxy.session.RowFilter;
import dev.pgpolicy.proxy.wire.BackendMessages;
import dev.pgpolicy.proxy.wire.Bytes;
import dev.pgpolicy.proxy.wire.DataRow;
import dev.pgpolicy.proxy.wire.RawFrame;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * How {@link MaskPlan} rewrites DataRows: in place when every masked value keeps its length (the
 * frame's own bytes then go to the client), otherwise into one new row; values read and written
 * in the session's client encoding.
 */
class MaskPlanTest {

    private static final Charset LATIN1 = StandardCharsets.ISO_8859_1;
    private final ByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;
    private final MaskingKey key = MaskingKey.perProcess();

    @AfterEach
    void closeKey() {
        key.close();
    }

    private static MaskPlan.Mask redact(String text) {
        return new MaskPlan.Mask(new MaskSpec(MaskFunction.REDACT, List.of(text)), "s.t.c");
    }

    private static MaskPlan.Mask mask(MaskFunction function, Object... arguments) {
        return new MaskPlan.Mask(new MaskSpec(function, List.of(arguments)), "s.t.c");
    }

    /** A DataRow frame as it arrives from the server, in a pooled buffer of its own. */
    private RawFrame received(byte[]... values) {
        List<Optional<Bytes>> columns = new ArrayList<>();
        for (byte[] value : values) {
            columns.add(value == null ? Optional.empty() : Optional.of(Bytes.of(value)));
        }
        DataRow row = DataRow.of(alloc, columns);
        try {
            return RawFrame.wrap(row.encode(alloc));
        } finally {
            row.release();
        }
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static List<String> values(DataRow row, Charset charset) {
        List<String> values = new ArrayList<>();
        for (int i = 0; i < row.columnCount(); i++) {
            ByteBuf value = row.column(i);
            values.add(value == null ? null : value.toString(charset));
        }
        return values;
    }

    @Test
    void aMaskOfTheSameLengthOverwritesTheValueInTheFramesOwnBytes() {
        RawFrame frame = received(utf8("17"), utf8("AB12"), utf8("tail"));
        byte[] before = ByteBufUtil.getBytes(frame.content());
        RowFilter filter = MaskPlan.of(List.of(MaskPlan.KEEP, redact("XXXX"), MaskPlan.KEEP), key,
                StandardCharsets.UTF_8).filter();
        DataRow row = (DataRow) BackendMessages.decode(frame);
        try {
            DataRow filtered = filter.filter(row, alloc);
            assertThat(filtered).isSameAs(row);
            assertThat(values(row, StandardCharsets.UTF_8)).containsExactly("17", "XXXX", "tail");
            byte[] after = ByteBufUtil.getBytes(frame.content());
            assertThat(after).hasSameSizeAs(before);
            assertThat(new String(after, StandardCharsets.UTF_8)).contains("XXXX").doesNotContain("AB12");
            int at = new String(before, StandardCharsets.ISO_8859_1).indexOf("AB12");
            assertThat(Arrays.copyOfRange(after, 0, at)).isEqualTo(Arrays.copyOfRange(before, 0, at));
            assertThat(Arrays.copyOfRange(after, at + 4, after.length)).isEqualTo(Arrays.copyOfRange(before, at + 4, before.length));
        } finally {
            row.release();
            frame.release();
        }
    }

    @Test
    void aMaskOfAnotherLengthBuildsOneNewRowAndReleasesTheOld() {
        RawFrame frame = received(utf8("17"), utf8("a secret value"), null, utf8("tail"));
        RowFilter filter = MaskPlan.of(List.of(MaskPlan.KEEP, redact("***"), redact("***"), MaskPlan.KEEP), key,
                StandardCharsets.UTF_8).filter();
        DataRow row = (DataRow) BackendMessages.decode(frame);
        DataRow filtered = filter.filter(row, alloc);
        try {
            assertThat(filtered).isNotSameAs(row);
            // The old row's reference (a retained slice of the frame) was given back: only the frame's is left.
            assertThat(frame.refCnt()).isEqualTo(1);
            // NULL stays NULL under a mask; the value after the masked ones is copied as it was.
            assertThat(values(filtered, StandardCharsets.UTF_8)).containsExactly("17", "***", null, "tail");
            assertThat(filtered.content().readableBytes()).isEqualTo(2 + 4 + 2 + 4 + 3 + 4 + 4 + 4);
            ByteBuf encoded = filtered.encode(alloc);
            try {
                assertThat(encoded.capacity()).isEqualTo(encoded.readableBytes());
                assertThat(encoded.getByte(0)).isEqualTo((byte) 'D');
                assertThat(encoded.getInt(1)).isEqualTo(encoded.readableBytes() - 1);
            } finally {
                encoded.release();
            }
            assertThat(ByteBufUtil.getBytes(frame.content())).asString(StandardCharsets.UTF_8).contains("a secret value");
        } finally {
            filtered.release();
            frame.release();
        }
    }

    @Test
    void nullifiedColumnsAndRowsOfAnUnknownLayoutBecomeNull() {
        RawFrame frame = received(utf8("17"), utf8("x"));
        DataRow row = (DataRow) BackendMessages.decode(frame);
        DataRow filtered = MaskPlan.of(List.of(new MaskPlan.Nullify("test"), MaskPlan.KEEP), key).filter()
                .filter(row, alloc);
        DataRow all = MaskPlan.nullifyAll(key).filter().filter(filtered, alloc);
        try {
            assertThat(all.columnCount()).isEqualTo(2);
            assertThat(all.isNull(0)).isTrue();
            assertThat(all.isNull(1)).isTrue();
        } finally {
            all.release();
            frame.release();
        }
    }

    @Test
    void valuesAreReadAndMaskedInTheClientEncoding() {
        byte[] zoeLatin1 = "Zoë Müller".getBytes(LATIN1);
        RawFrame frame = received(zoeLatin1, zoeLatin1);
        RowFilter filter = MaskPlan.of(List.of(mask(MaskFunction.PARTIAL, 2L, "ü", 0L), mask(MaskFunction.HASH)), key,
                LATIN1).filter();
        DataRow row = (DataRow) BackendMessages.decode(frame);
        DataRow filtered = filter.filter(row, alloc);
        try {
            assertThat(ByteBufUtil.getBytes(filtered.column(0))).isEqualTo("Zoü".getBytes(LATIN1));
            // The token is the one of the text, whichever encoding it travelled in.
            assertThat(filtered.column(1).toString(LATIN1)).isEqualTo(key.token("Zoë Müller"));
        } finally {
            filtered.release();
            frame.release();
        }
    }

    @Test
    void withoutACharsetForTheClientEncodingMaskedValuesAreNull() {
        RawFrame frame = received(utf8("17"), utf8("AB12"));
        DataRow row = (DataRow) BackendMessages.decode(frame);
        DataRow filtered = MaskPlan.of(List.of(MaskPlan.KEEP, redact("XXXX")), key, null).filter().filter(row, alloc);
        try {
            assertThat(values(filtered, StandardCharsets.UTF_8)).containsExactly("17", null);
        } finally {
            filtered.release();
            frame.release();
        }
    }

    @Test
    void aRowWhoseMaskedValuesAreAllNullPassesAsItCame() {
        RawFrame frame = received(utf8("17"), null);
        DataRow row = (DataRow) BackendMessages.decode(frame);
        try {
            assertThat(MaskPlan.of(List.of(MaskPlan.KEEP, redact("***")), key, StandardCharsets.UTF_8).filter()
                    .filter(row, alloc)).isSameAs(row);
        } finally {
            row.release();
            frame.release();
        }
    }
}
