package dev.pgpolicy.proxy.enforce;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgpolicy.policy.MaskFunction;
import dev.pgpolicy.policy.MaskSpec;
import dev.pgpolicy.proxy.session.SessionException;
import dev.pgpolicy.proxy.testing.HexDump;
import dev.pgpolicy.sql.CopyOptions;
import dev.pgpolicy.sql.CopyOptions.Format;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The COPY text and CSV row codec and the masker built on it, on real pooled buffers: unmasked
 * columns come out byte for byte as PostgreSQL wrote them, masked ones re-encoded as PostgreSQL
 * would write the mask's text, whatever the frame boundaries.
 */
class CopyTextCodecTest {

    private static final ByteBufAllocator ALLOC = PooledByteBufAllocator.DEFAULT;
    private static final MaskingKey KEY = MaskingKey.perProcess();
    private static final MaskPlan.ColumnAction KEEP = MaskPlan.KEEP;
    private static final MaskPlan.ColumnAction EMAIL = new MaskPlan.Mask(new MaskSpec(MaskFunction.EMAIL, List.of()), "s.t.email");
    private static final MaskPlan.ColumnAction NULLIFY = new MaskPlan.Nullify("not text");

    private static MaskPlan.ColumnAction redact(String text) {
        return new MaskPlan.Mask(new MaskSpec(MaskFunction.REDACT, List.of(text)), "s.t.c");
    }

    private static CopyOptions text() {
        return CopyOptions.defaults(Format.TEXT);
    }

    private static CopyOptions csv() {
        return CopyOptions.defaults(Format.CSV);
    }

    /** Runs {@code chunks} through a fresh masker, as successive CopyData payloads; returns what the client gets. */
    private static byte[] mask(CopyOptions options, Charset charset, List<MaskPlan.ColumnAction> actions,
            List<byte[]> chunks) {
        return mask(options, charset, false, actions, chunks);
    }

    private static byte[] mask(CopyOptions options, Charset charset, boolean opaque, List<MaskPlan.ColumnAction> actions,
            List<byte[]> chunks) {
        // In these tests FORCE_QUOTE names columns by position: "0", "1", ...
        Set<Integer> forceQuoted = new HashSet<>();
        options.forceQuote().forEach(column -> forceQuoted.add(Integer.parseInt(column)));
        CopyOutMasker masker = new CopyOutMasker(new CopyTextCodec(options, charset, opaque), MaskPlan.of(actions, KEY),
                forceQuoted, options.header(), "COPY t");
        ByteBuf out = ALLOC.buffer();
        try {
            for (byte[] chunk : chunks) {
                ByteBuf data = ALLOC.directBuffer(chunk.length + 8);
                try {
                    data.writeBytes(new byte[] {9, 9, 9}); // a reader index that is not 0, as in a frame body slice
                    data.readerIndex(3);
                    data.writeBytes(chunk);
                    masker.filter(data, out);
                    assertThat(data.readerIndex()).isEqualTo(3);
                } finally {
                    data.release();
                }
            }
            masker.finish();
            byte[] bytes = new byte[out.readableBytes()];
            out.readBytes(bytes);
            return bytes;
        } finally {
            out.release();
            masker.discard();
        }
    }

    private static String mask(CopyOptions options, List<MaskPlan.ColumnAction> actions, String stream) {
        return new String(mask(options, StandardCharsets.UTF_8, actions, List.of(stream.getBytes(StandardCharsets.UTF_8))),
                StandardCharsets.UTF_8);
    }

    /** The same stream fed one byte per CopyData must give the same bytes as in one piece. */
    private static String maskBytewise(CopyOptions options, List<MaskPlan.ColumnAction> actions, String stream) {
        byte[] all = stream.getBytes(StandardCharsets.UTF_8);
        List<byte[]> chunks = new java.util.ArrayList<>();
        for (byte b : all) {
            chunks.add(new byte[] {b});
        }
        String whole = mask(options, actions, stream);
        byte[] bytewise = mask(options, StandardCharsets.UTF_8, actions, chunks);
        assertThat(HexDump.of(bytewise)).isEqualTo(HexDump.of(whole.getBytes(StandardCharsets.UTF_8)));
        return whole;
    }

    @Test
    void textRowsKeepUnmaskedColumnsByteForByteAndMaskTheOthers() {
        String stream = "1\ta\\tb\\nc\\\\d\tada@example.com\t2024-01-01\n"
                + "2\t\\N\t\\N\t\\N\n";
        assertThat(maskBytewise(text(), List.of(KEEP, KEEP, EMAIL, NULLIFY), stream)).isEqualTo(
                "1\ta\\tb\\nc\\\\d\ta***@example.com\t\\N\n"
                + "2\t\\N\t\\N\t\\N\n");
    }

    @Test
    void textMaskedValuesAreDecodedBeforeMaskingAndEscapedAfter() {
        // The value "x\ty" (escaped on the wire) is masked whole; the mask's own tab, newline,
        // backslash and delimiter come out escaped.
        assertThat(maskBytewise(text(), List.of(redact("a\tb\nc\\d|e"), KEEP), "x\\ty\tz\n"))
                .isEqualTo("a\\tb\\nc\\\\d|e\tz\n");
        CopyOptions pipes = new CopyOptions(Format.TEXT, "|", "NIL", "\"", "\"", false, Optional.empty(), List.of());
        assertThat(maskBytewise(pipes, List.of(redact("p|q"), KEEP, EMAIL), "v\\|w|NIL|NIL\n"))
                .isEqualTo("p\\|q|NIL|NIL\n");
        // Octal and hexadecimal escapes, which PostgreSQL accepts on input, decode too.
        assertThat(mask(text(), List.of(EMAIL), "\\141\\x40b.c\n")).isEqualTo("a***@b.c\n");
    }

    @Test
    void csvQuotedValuesWithDelimitersQuotesAndNewlinesSurviveAndMaskedOnesAreQuotedWhenNeeded() {
        CopyOptions options = new CopyOptions(Format.CSV, ",", "", "\"", "\"", true, Optional.empty(), List.of("3"));
        String stream = "id,note,email,forced\n"
                + "1,\"has, comma \"\"quoted\"\"\nand newline\",\"b,ob@x.org\",\"ann@x.org\"\n"
                + "2,,,\n"
                + "3,\"\",plain@x.org,\"p@x.org\"\n";
        assertThat(maskBytewise(options, List.of(KEEP, KEEP, EMAIL, EMAIL), stream)).isEqualTo("id,note,email,forced\n"
                + "1,\"has, comma \"\"quoted\"\"\nand newline\",b***@x.org,\"a***@x.org\"\n"
                + "2,,,\n"
                + "3,\"\",p***@x.org,\"p***@x.org\"\n");
        assertThat(maskBytewise(csv(), List.of(redact("a,\"b\""), redact(""), KEEP), "x,y,\"\"\n"))
                .as("the mask's text quoted as PostgreSQL quotes it; an empty text is quoted so it is not NULL")
                .isEqualTo("\"a,\"\"b\"\"\",\"\",\"\"\n");
    }

    @Test
    void csvWithItsOwnEscapeAndDelimiter() {
        CopyOptions options = new CopyOptions(Format.CSV, ";", "NULL", "'", "\\", false, Optional.empty(), List.of());
        String stream = "'it\\'s; a \\\\ test';NULL;'NULL'\n";
        assertThat(maskBytewise(options, List.of(KEEP, redact("x"), redact("o'k;\\")), stream))
                .isEqualTo("'it\\'s; a \\\\ test';NULL;'o\\'k;\\\\'\n");
    }

    @Test
    void severalRowsInOneFrameAndWindowsLineEndsPass() {
        assertThat(mask(text(), List.of(KEEP, EMAIL), "1\ta@b.c\r\n2\td@e.f\r\n")).isEqualTo("1\ta***@b.c\r\n2\td***@e.f\r\n");
    }

    @Test
    void valuesAreReadInTheStreamsEncoding() {
        Charset latin1 = Charset.forName("ISO-8859-1");
        byte[] row = "1\tÉmile@exemple.fr\tcafé\n".getBytes(latin1);
        byte[] masked = mask(text(), latin1, List.of(KEEP, EMAIL, KEEP), List.of(row));
        assertThat(HexDump.of(masked)).isEqualTo(HexDump.of("1\tÉ***@exemple.fr\tcafé\n".getBytes(latin1)));
        assertThatThrownBy(() -> mask(text(), StandardCharsets.UTF_8, List.of(KEEP, EMAIL, KEEP), List.of(row)))
                .isInstanceOf(SessionException.class).hasMessageContaining("not valid UTF-8");
    }

    @Test
    void sqlAsciiValuesAreReadAsUtf8WhenTheyAreAndByteForByteOtherwise() {
        Charset latin1 = Charset.forName("ISO-8859-1");
        byte[] utf8 = "Émile@exemple.fr\n".getBytes(StandardCharsets.UTF_8);
        assertThat(HexDump.of(mask(text(), CopyEncodings.charset("SQL_ASCII").orElseThrow(), true, List.of(EMAIL),
                List.of(utf8)))).isEqualTo(HexDump.of("É***@exemple.fr\n".getBytes(StandardCharsets.UTF_8)));
        byte[] legacy = "Émile@exemple.fr\n".getBytes(latin1);
        assertThat(HexDump.of(mask(text(), CopyEncodings.charset("SQL_ASCII").orElseThrow(), true, List.of(EMAIL),
                List.of(legacy)))).isEqualTo(HexDump.of("É***@exemple.fr\n".getBytes(latin1)));
    }

    @Test
    void anythingUnreadableEndsTheSessionInsteadOfPassing() {
        assertThatThrownBy(() -> mask(text(), List.of(KEEP, EMAIL), "1\ta@b.c\t3\n"))
                .isInstanceOf(SessionException.class).hasMessageContaining("3 columns where 2 were planned");
        assertThatThrownBy(() -> mask(text(), List.of(KEEP, EMAIL), "1\ta@b.c\n2\tpartial"))
                .isInstanceOf(SessionException.class).hasMessageContaining("ended inside a row");
        assertThatThrownBy(() -> mask(csv(), List.of(KEEP, EMAIL), "1,\"a@b.c\n"))
                .isInstanceOf(SessionException.class).hasMessageContaining("ended inside a row");
        assertThatThrownBy(() -> mask(text(), List.of(KEEP, EMAIL), "1\ta@b.c\\\n"))
                .isInstanceOf(SessionException.class);
    }

    @Test
    void aLoneBackslashDotInASingleCsvColumnStaysQuoted() {
        assertThat(mask(csv(), List.of(redact("\\.")), "x\n")).isEqualTo("\"\\.\"\n");
    }

    @Test
    void encodingsAreThoseWhoseAsciiBytesAreAscii() {
        assertThat(CopyEncodings.charset("UTF8")).contains(StandardCharsets.UTF_8);
        assertThat(CopyEncodings.charset("latin1")).contains(Charset.forName("ISO-8859-1"));
        assertThat(CopyEncodings.charset("win_1252")).contains(Charset.forName("windows-1252"));
        assertThat(CopyEncodings.charset("SJIS")).isEmpty();
        assertThat(CopyEncodings.charset("GB18030")).isEmpty();
    }

    @Test
    void searchPathSettingsBecomeSchemaNames() {
        assertThat(CopyOutPlanner.schemas("\"$user\", public", "Ana")).containsExactly("Ana", "public");
        assertThat(CopyOutPlanner.schemas("Sales , \"My \"\"odd\"\", one\",pg_temp", "x"))
                .containsExactly("sales", "My \"odd\", one", "pg_temp");
    }
}
