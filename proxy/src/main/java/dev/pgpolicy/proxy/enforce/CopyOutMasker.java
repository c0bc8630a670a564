package dev.pgpolicy.proxy.enforce;

import dev.pgpolicy.proxy.session.CopyFilter;
import dev.pgpolicy.proxy.session.SessionException;
import dev.pgpolicy.proxy.wire.FrameDecoder;
import dev.pgpolicy.proxy.wire.SqlState;
import io.netty.buffer.ByteBuf;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Masks the rows of one {@code COPY ... TO STDOUT} in the text or CSV format: each row is cut
 * into its columns ({@link CopyTextCodec}), the masked columns are replaced as DataRow masking
 * replaces them ({@link MaskPlan}: text-like columns get the mask's text, others NULL), and the row
 * is written again in the same format. The header line, when the COPY has one, passes unchanged.
 *
 * <p>PostgreSQL sends one row per CopyData, but the protocol does not promise it: a row split
 * across frames is held back until its end arrives, and a frame with several rows gives them all.
 * A row that cannot be read, or whose column count is not the one the COPY was planned for (the
 * table changed since), ends the session with 42501 rather than let a value through unmasked.
 */
final class CopyOutMasker implements CopyFilter {

    /** Windows above this size (a long row) are not kept between frames. */
    private static final int SHRINK_ABOVE = 1 << 20;

    private final CopyTextCodec codec;
    private final MaskPlan plan;
    private final List<MaskPlan.ColumnAction> actions;
    private final String what;
    /** CSV FORCE_QUOTE columns, by position: their masked values are quoted as PostgreSQL quotes theirs. */
    private final Set<Integer> forceQuoted;
    private boolean headerPending;
    /** The bytes of the current CopyData, after the start of a row held back from earlier ones. */
    private byte[] window = new byte[0];
    /** How many bytes at the start of {@link #window} are a row held back, already scanned. */
    private int heldBack;
    private final CopyTextCodec.Sink rows = new CopyTextCodec.Sink();

    /** @param what names the COPY in errors, e.g. {@code "COPY payments.customers"} */
    CopyOutMasker(CopyTextCodec codec, MaskPlan plan, Set<Integer> forceQuoted, boolean header, String what) {
        this.codec = Objects.requireNonNull(codec);
        this.forceQuoted = Set.copyOf(forceQuoted);
        this.plan = Objects.requireNonNull(plan);
        this.actions = plan.actions();
        this.headerPending = header;
        this.what = Objects.requireNonNull(what);
    }

    @Override
    public void filter(ByteBuf data, ByteBuf out) {
        int length = data.readableBytes();
        if ((long) heldBack + length > FrameDecoder.DEFAULT_MAX_FRAME_LENGTH) {
            throw refused("a row is longer than the proxy holds back");
        }
        if (window.length < heldBack + length) {
            window = Arrays.copyOf(window, Math.max(heldBack + length, Math.min(2 * window.length,
                    FrameDecoder.DEFAULT_MAX_FRAME_LENGTH)));
        }
        // One bulk copy in and one bulk write out per frame; the rows are worked on as arrays.
        data.getBytes(data.readerIndex(), window, heldBack, length);
        int end = heldBack + length;
        int rowStart = 0;
        int from = heldBack;
        rows.clear();
        while (from < end) {
            int lineFeed = codec.findRowEnd(window, from, end);
            if (lineFeed < 0) {
                break;
            }
            if (headerPending) {
                headerPending = false;
                rows.write(window, rowStart, lineFeed + 1 - rowStart);
            } else {
                rewrite(window, rowStart, lineFeed, rows);
            }
            rowStart = lineFeed + 1;
            from = rowStart;
        }
        out.writeBytes(rows.bytes(), 0, rows.length());
        heldBack = end - rowStart;
        System.arraycopy(window, rowStart, window, 0, heldBack);
        if (heldBack == 0 && window.length > SHRINK_ABOVE) {
            window = new byte[0]; // a long row passed: do not keep its space for the rest of the stream
        }
    }

    private void rewrite(byte[] buf, int start, int lineFeed, CopyTextCodec.Sink out) {
        try {
            int[] bounds = codec.fields(buf, start, lineFeed);
            int columns = (bounds.length - 1) / 2;
            if (columns != actions.size()) {
                throw refused("a row has " + columns + " columns where " + actions.size() + " were planned (the table"
                        + " changed since the COPY was planned)");
            }
            for (int column = 0; column < columns; column++) {
                if (column > 0) {
                    out.write(buf[bounds[2 * column] - 1]); // the delimiter, as it came
                }
                int fieldStart = bounds[2 * column];
                int fieldEnd = bounds[2 * column + 1];
                MaskPlan.ColumnAction action = actions.get(column);
                if (action instanceof MaskPlan.Keep) {
                    out.write(buf, fieldStart, fieldEnd - fieldStart);
                    continue;
                }
                CopyTextCodec.Value value = codec.read(buf, fieldStart, fieldEnd);
                if (value.bytes().isEmpty() || action instanceof MaskPlan.Nullify) {
                    codec.writeNull(out);
                } else if (action instanceof MaskPlan.Mask mask) {
                    CopyTextCodec.Text text = codec.decode(value.bytes().get());
                    String masked = plan.maskedText(mask, text.value());
                    if (masked == null) {
                        codec.writeNull(out);
                    } else {
                        codec.writeValue(masked, text.charset(), forceQuoted.contains(column), columns == 1, out);
                    }
                } else {
                    throw new AssertionError(action);
                }
            }
            int rowEnd = bounds[bounds.length - 1];
            out.write(buf, rowEnd, lineFeed + 1 - rowEnd); // LF, or CR LF
        } catch (CopyTextCodec.MalformedRowException e) {
            throw refused(e.getMessage());
        }
    }

    private SessionException refused(String why) {
        return new SessionException(SqlState.INSUFFICIENT_PRIVILEGE, "pgpolicy: the output of " + what
                + " could not be masked (" + why + "); the session was ended so that no unmasked value reached the"
                + " client");
    }

    @Override
    public void finish() {
        if (heldBack > 0) {
            discard();
            throw refused("the data ended inside a row");
        }
    }

    @Override
    public void discard() {
        heldBack = 0;
        window = new byte[0];
    }
}
