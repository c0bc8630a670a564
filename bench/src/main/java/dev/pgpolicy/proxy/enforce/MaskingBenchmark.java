package dev.pgpolicy.proxy.enforce;

import dev.pgpolicy.policy.MaskFunction;
import dev.pgpolicy.policy.MaskSpec;
import dev.pgpolicy.proxy.session.RowFilter;
import dev.pgpolicy.proxy.wire.BackendMessages;
import dev.pgpolicy.proxy.wire.Bytes;
import dev.pgpolicy.proxy.wire.DataRow;
import dev.pgpolicy.proxy.wire.RawFrame;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * DataRow masking per row, as the session does it: a row of pgbench_accounts' shape (aid, bid,
 * abalance, filler char(84); 1 of 4 columns masked) arrives in a pooled direct buffer, is decoded
 * to a {@link DataRow}, goes through the {@link MaskPlan}'s {@link RowFilter}, and what is sent is
 * either the frame itself (unchanged or masked in place) or the new row encoded for the write.
 * {@code copyAndDecodeOnly} is the same without the filter: the cost of getting the row into a
 * buffer, which the relay does not pay (the row is already in the receive buffer); subtract it.
 *
 * <p>The masks: {@code redact} ({@code redact("***")}: 84 bytes become 3, the row is rebuilt),
 * {@code redactSameLength} (a redaction text of 84 characters: the value is overwritten in place),
 * {@code hash} (a keyed HMAC token of 26 characters: the value is decoded, hashed, the row rebuilt).
 *
 * <p>{@code maskRun} is what the session does with a DataRow run (consecutive rows of one receive
 * buffer, here 500 rows, about the 64 KiB a read brings): each row filtered where it lies in the
 * run ({@link RowFilter#filterFrame}), rebuilt rows gathered into one output buffer.
 * {@code maskRunDecoded} is the same run through the decoded path the relay took before, a frame
 * slice, a {@link DataRow} and the filter's new row per row, encoded into the output buffer.
 * Divide by {@link #RUN_ROWS} for the cost per row.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SampleTime)
@Warmup(iterations = 6, time = 1)
@Measurement(iterations = 5, time = 1)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class MaskingBenchmark {

    @Param({"redact", "redactSameLength", "hash"})
    public String mask;

    /** Rows in the run of {@code maskRun}: a 64 KiB read of rows of about 130 bytes. */
    static final int RUN_ROWS = 500;

    private final ByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;
    private byte[] frameBytes;
    private byte[] runBytes;
    private RowFilter filter;
    private MaskingKey key;

    @Setup(Level.Trial)
    public void setUp() {
        DataRow row = DataRow.of(alloc, List.of(
                Optional.of(Bytes.utf8("87311")),
                Optional.of(Bytes.utf8("1")),
                Optional.of(Bytes.utf8("-4213")),
                Optional.of(Bytes.utf8("filler of account 87311" + " ".repeat(61)))));
        ByteBuf frame = row.encode(alloc);
        frameBytes = new byte[frame.readableBytes()];
        frame.readBytes(frameBytes);
        frame.release();
        row.release();
        runBytes = new byte[frameBytes.length * RUN_ROWS];
        for (int i = 0; i < RUN_ROWS; i++) {
            System.arraycopy(frameBytes, 0, runBytes, i * frameBytes.length, frameBytes.length);
        }
        key = MaskingKey.perProcess();
        MaskSpec spec = switch (mask) {
            case "redact" -> new MaskSpec(MaskFunction.REDACT, List.of("***"));
            case "redactSameLength" -> new MaskSpec(MaskFunction.REDACT, List.of("#".repeat(84)));
            case "hash" -> new MaskSpec(MaskFunction.HASH, List.of());
            default -> throw new IllegalArgumentException(mask);
        };
        filter = MaskPlan.of(List.of(MaskPlan.KEEP, MaskPlan.KEEP, MaskPlan.KEEP,
                new MaskPlan.Mask(spec, "public.pgbench_accounts.filler")), key, StandardCharsets.UTF_8).filter();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        key.close();
    }

    private RawFrame received() {
        ByteBuf buf = alloc.directBuffer(frameBytes.length);
        buf.writeBytes(frameBytes);
        return RawFrame.wrap(buf);
    }

    @Benchmark
    public void maskRow(Blackhole blackhole) {
        RawFrame frame = received();
        DataRow row = (DataRow) BackendMessages.decode(frame);
        DataRow filtered = filter.filter(row, alloc);
        if (filtered == row) {
            row.release();
            blackhole.consume(frame.content().getByte(frameBytes.length - 1));
        } else {
            ByteBuf out = filtered.encode(alloc);
            blackhole.consume(out.getByte(out.writerIndex() - 1));
            out.release();
            filtered.release();
        }
        frame.release();
    }

    @Benchmark
    public void copyAndDecodeOnly(Blackhole blackhole) {
        RawFrame frame = received();
        DataRow row = (DataRow) BackendMessages.decode(frame);
        blackhole.consume(row.columnCount());
        row.release();
        frame.release();
    }

    private ByteBuf receivedRun() {
        ByteBuf buf = alloc.directBuffer(runBytes.length);
        return buf.writeBytes(runBytes);
    }

    @Benchmark
    public void maskRun(Blackhole blackhole) {
        ByteBuf run = receivedRun();
        ByteBuf out = null;
        try {
            int pendingStart = 0;
            int pendingEnd = 0;
            for (int index = 0; index < runBytes.length; index += frameBytes.length) {
                if (out != null) {
                    out.writeBytes(run, pendingStart, pendingEnd - pendingStart);
                    pendingStart = index;
                    pendingEnd = index;
                }
                RowFilter.FrameOutcome outcome = filter.filterFrame(run, index, alloc, out);
                if (outcome == RowFilter.FrameOutcome.NEEDS_OUTPUT) {
                    out = alloc.directBuffer(runBytes.length - pendingStart);
                    out.writeBytes(run, pendingStart, pendingEnd - pendingStart);
                    outcome = filter.filterFrame(run, index, alloc, out);
                }
                if (outcome == RowFilter.FrameOutcome.KEPT) {
                    pendingEnd = index + frameBytes.length;
                } else {
                    pendingStart = index + frameBytes.length;
                    pendingEnd = pendingStart;
                }
            }
            blackhole.consume(out == null ? pendingEnd : out.writerIndex());
        } finally {
            if (out != null) {
                out.release();
            }
            run.release();
        }
    }

    @Benchmark
    public void maskRunDecoded(Blackhole blackhole) {
        ByteBuf run = receivedRun();
        ByteBuf out = alloc.directBuffer(runBytes.length);
        try {
            for (int index = 0; index < runBytes.length; index += frameBytes.length) {
                RawFrame frame = RawFrame.wrap(run.retainedSlice(index, frameBytes.length));
                try {
                    DataRow row = (DataRow) BackendMessages.decode(frame);
                    DataRow filtered = filter.filter(row, alloc);
                    if (filtered == row) {
                        row.release();
                        out.writeBytes(run, index, frameBytes.length);
                    } else {
                        filtered.encode(out);
                        filtered.release();
                    }
                } finally {
                    frame.release();
                }
            }
            blackhole.consume(out.writerIndex());
        } finally {
            out.release();
            run.release();
        }
    }
}
