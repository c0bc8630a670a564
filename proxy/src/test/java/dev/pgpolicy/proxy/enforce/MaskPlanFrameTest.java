package dev.pgpolicy.proxy.enforce;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgpolicy.policy.MaskFunction;
import dev.pgpolicy.policy.MaskSpec;
import dev.pgpolicy.proxy.session.RowFilter;
import dev.pgpolicy.proxy.session.RowFilter.FrameOutcome;
import dev.pgpolicy.proxy.wire.BackendMessages;
import dev.pgpolicy.proxy.wire.Bytes;
import dev.pgpolicy.proxy.wire.DataRow;
import dev.pgpolicy.proxy.wire.ProtocolException;
import dev.pgpolicy.proxy.wire.RawFrame;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link RowFilter#filterFrame} of a {@link MaskPlan}, the path of masked rows inside a DataRow
 * run: it must send exactly the bytes of the decoded path ({@link RowFilter#filter}, then
 * {@link DataRow#encode}), frame after frame of one buffer, for the plans it reads in place
 * (redact, NULL) and for those it hands to the decoded path (hash).
 */
class MaskPlanFrameTest {

    private final ByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;
    private final MaskingKey key = MaskingKey.perProcess();

    @AfterEach
    void closeKey() {
        key.close();
    }

    private static MaskPlan.Mask redact(String text) {
        return new MaskPlan.Mask(new MaskSpec(MaskFunction.REDACT, List.of(text)), "public.pgbench_accounts.filler");
    }

    private static byte[] frameOf(String... values) {
        List<Optional<Bytes>> columns = new ArrayList<>();
        for (String value : values) {
            columns.add(value == null ? Optional.empty() : Optional.of(Bytes.utf8(value)));
        }
        DataRow row = DataRow.of(PooledByteBufAllocator.DEFAULT, columns);
        ByteBuf frame = row.encode(PooledByteBufAllocator.DEFAULT);
        try {
            return ByteBufUtil.getBytes(frame);
        } finally {
            frame.release();
            row.release();
        }
    }

    /** pgbench_accounts rows as the rows10k workload reads them, with a NULL and an empty filler. */
    private static List<byte[]> accountRows() {
        return List.of(
                frameOf("87311", "1", "-4213", "filler of account 87311" + " ".repeat(61)),
                frameOf("87312", "1", "0", null),
                frameOf("87313", "1", "12", ""),
                frameOf("87314", "1", "7", "#".repeat(84)));
    }

    /** What the decoded path sends for {@code frame}: the bytes a single masked row goes out as. */
    private byte[] decodedPath(RowFilter filter, byte[] frame) {
        ByteBuf buf = alloc.buffer(frame.length).writeBytes(frame);
        RawFrame raw = RawFrame.wrap(buf);
        try {
            DataRow row = (DataRow) BackendMessages.decode(raw);
            DataRow filtered = filter.filter(row, alloc);
            ByteBuf out = filtered.encode(alloc);
            try {
                return ByteBufUtil.getBytes(out);
            } finally {
                out.release();
                filtered.release();
            }
        } finally {
            raw.release();
        }
    }

    /** The bytes a run of {@code frames} goes out as when each frame is filtered where it lies. */
    private byte[] framePath(RowFilter filter, List<byte[]> frames, boolean readOnly) {
        ByteBuf run = alloc.directBuffer();
        for (byte[] frame : frames) {
            run.writeBytes(frame);
        }
        ByteBuf view = readOnly ? run.asReadOnly() : run;
        ByteBuf out = alloc.buffer();
        try {
            int index = view.readerIndex();
            for (byte[] frame : frames) {
                FrameOutcome outcome = filter.filterFrame(view, index, alloc, null);
                if (outcome == FrameOutcome.NEEDS_OUTPUT) {
                    byte[] untouched = ByteBufUtil.getBytes(view, index, frame.length);
                    assertThat(untouched).as("a frame that needs output is left as it was").isEqualTo(frame);
                    outcome = filter.filterFrame(view, index, alloc, out);
                    assertThat(outcome).isEqualTo(FrameOutcome.REWRITTEN);
                } else {
                    assertThat(outcome).isEqualTo(FrameOutcome.KEPT);
                    out.writeBytes(view, index, frame.length);
                }
                index += frame.length;
            }
            return ByteBufUtil.getBytes(out);
        } finally {
            out.release();
            run.release();
        }
    }

    private void assertSameBytesAsDecodedPath(RowFilter filter, boolean readOnly) {
        List<byte[]> rows = accountRows();
        ByteBuf expected = alloc.buffer();
        try {
            for (byte[] row : rows) {
                expected.writeBytes(decodedPath(filter, row));
            }
            assertThat(ByteBufUtil.hexDump(framePath(filter, rows, readOnly)))
                    .isEqualTo(ByteBufUtil.hexDump(expected));
        } finally {
            expected.release();
        }
    }

    @Test
    void aShorterRedactionOfTheRealisticPolicySendsTheDecodedPathsBytes() {
        RowFilter filter = MaskPlan.of(List.of(MaskPlan.KEEP, MaskPlan.KEEP, MaskPlan.KEEP, redact("***")), key,
                StandardCharsets.UTF_8).filter();
        assertSameBytesAsDecodedPath(filter, false);
        assertSameBytesAsDecodedPath(filter, true);
    }

    @Test
    void aRedactionOfTheSameLengthIsWrittenInPlaceOrIntoANewFrameOnAReadOnlyBuffer() {
        RowFilter filter = MaskPlan.of(List.of(MaskPlan.KEEP, MaskPlan.KEEP, MaskPlan.KEEP, redact("x".repeat(84))),
                key, StandardCharsets.UTF_8).filter();
        assertSameBytesAsDecodedPath(filter, false);
        assertSameBytesAsDecodedPath(filter, true);

        byte[] frame = accountRows().get(0);
        ByteBuf run = alloc.buffer().writeBytes(frame);
        try {
            assertThat(filter.filterFrame(run, 0, alloc, null)).isEqualTo(FrameOutcome.KEPT);
            assertThat(ByteBufUtil.getBytes(run)).isEqualTo(decodedPath(filter, frame));
        } finally {
            run.release();
        }
    }

    @Test
    void nullifiedColumnsUnknownLayoutsAndColumnsBeyondThePlanSendTheDecodedPathsBytes() {
        assertSameBytesAsDecodedPath(MaskPlan.of(List.of(MaskPlan.KEEP, new MaskPlan.Nullify("catalog unavailable")),
                key, StandardCharsets.UTF_8).filter(), false);
        assertSameBytesAsDecodedPath(MaskPlan.nullifyAll(key).filter(), false);
        assertSameBytesAsDecodedPath(MaskPlan.of(List.of(MaskPlan.KEEP, MaskPlan.KEEP, MaskPlan.KEEP, redact("***")),
                key, null).filter(), false);
    }

    @Test
    void aMaskThatDependsOnTheValueTakesTheDecodedPathWithTheSameBytes() {
        MaskPlan.Mask hash = new MaskPlan.Mask(new MaskSpec(MaskFunction.HASH, List.of()), "public.t.c");
        RowFilter filter = MaskPlan.of(List.of(MaskPlan.KEEP, redact("***"), MaskPlan.KEEP, hash), key,
                StandardCharsets.UTF_8).filter();
        assertSameBytesAsDecodedPath(filter, false);
    }

    @Test
    void aFrameWhoseColumnsRunPastItsEndFailsAsTheDecodedPathDoes() {
        RowFilter filter = MaskPlan.of(List.of(MaskPlan.KEEP, redact("***")), key, StandardCharsets.UTF_8).filter();
        // Two columns announced, one of length 1 present: the decoded path refuses the row.
        byte[] malformed = {'D', 0, 0, 0, 11, 0, 2, 0, 0, 0, 1, 'x'};
        ByteBuf run = alloc.buffer().writeBytes(malformed);
        try {
            assertThatThrownBy(() -> filter.filterFrame(run, 0, alloc, null))
                    .isInstanceOf(ProtocolException.class)
                    .hasMessageContaining("invalid DataRow message");
            assertThat(ByteBufUtil.getBytes(run)).isEqualTo(malformed);
        } finally {
            run.release();
        }
    }
}
