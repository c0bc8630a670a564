package dev.pgpolicy.proxy.enforce;

import dev.pgpolicy.sql.CopyOptions;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;

/**
 * Rows of {@code COPY ... TO} in the text and CSV formats, read and written byte for byte as
 * PostgreSQL writes them (src/backend/commands/copyto.c, CopyAttributeOutText and
 * CopyAttributeOutCSV; their readers in copyfromparse.c):
 *
 * <pre>
 *   text:  value TAB value ... LF     NULL is \N; backslash escapes \\ \b \f \n \r \t \v, \DELIM,
 *                                     and on reading also \NNN (octal) and \xHH
 *   csv:   value , "quoted, value" LF NULL is the empty unquoted field; a value is quoted when it
 *                                     holds the delimiter, quote, CR or LF, or equals the NULL
 *                                     string; inside quotes, quote and escape are preceded by escape
 * </pre>
 *
 * Delimiter, quote and escape are single ASCII bytes and the encodings allowed are ASCII-safe
 * ({@link CopyEncodings}), so rows are cut on bytes without decoding them. A server on Windows
 * ends rows with CR LF; a bare CR is never data outside quotes (text escapes it, CSV quotes it), so
 * it is kept as part of the row end. Only the values of masked columns are decoded and re-encoded;
 * every other byte is copied as it came.
 *
 * <p>One codec reads one stream: {@link #findRowEnd} keeps where it is inside a row between calls,
 * so a row split across CopyData frames is scanned once.
 */
final class CopyTextCodec {

    /** A row the codec cannot read with certainty. */
    static final class MalformedRowException extends Exception {
        private static final long serialVersionUID = 1L;

        MalformedRowException(String message) {
            super(message);
        }
    }

    /**
     * A growable byte array: rows are built here and reach a buffer in one write, since every
     * access to a pooled buffer costs a bounds check (and, under leak detection, a trace record).
     */
    static final class Sink {
        private byte[] bytes = new byte[256];
        private int length;

        void write(int b) {
            ensure(1);
            bytes[length++] = (byte) b;
        }

        void write(byte[] source, int offset, int count) {
            ensure(count);
            System.arraycopy(source, offset, bytes, length, count);
            length += count;
        }

        private void ensure(int more) {
            if (length + more > bytes.length) {
                bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, length + more));
            }
        }

        byte[] bytes() {
            return bytes;
        }

        int length() {
            return length;
        }

        void clear() {
            length = 0;
        }
    }

    /** A column's value after reading: NULL, or its bytes in the stream's encoding. */
    record Value(Optional<byte[]> bytes) {
    }

    private final boolean csv;
    private final byte delimiter;
    private final byte quote;
    private final byte escape;
    private final byte[] nullBytes;
    private final String nullString;
    private final Charset charset;
    /** SQL_ASCII: a value that is not valid in {@link #charset} is read (and its mask written) as ISO-8859-1. */
    private final boolean opaque;

    // Scanner state between findRowEnd calls.
    private boolean inQuotes;
    private boolean afterEscape;

    CopyTextCodec(CopyOptions options, Charset charset, boolean opaque) {
        if (options.format() == CopyOptions.Format.BINARY) {
            throw new IllegalArgumentException("binary COPY has no text rows");
        }
        this.csv = options.format() == CopyOptions.Format.CSV;
        this.delimiter = asciiByte(options.delimiter());
        this.quote = asciiByte(options.quote());
        this.escape = asciiByte(options.escape());
        this.nullString = options.nullString();
        this.nullBytes = options.nullString().getBytes(charset);
        this.charset = Objects.requireNonNull(charset);
        this.opaque = opaque;
    }

    private static byte asciiByte(String single) {
        if (single.length() != 1 || single.charAt(0) >= 0x80) {
            throw new IllegalArgumentException("not a single ASCII character: " + single);
        }
        return (byte) single.charAt(0);
    }

    /**
     * The index of the LF that ends the row being scanned, looking at {@code [from, to)} of
     * {@code buf}; -1 when the row goes on past {@code to} (call again with the bytes that follow).
     */
    int findRowEnd(byte[] buf, int from, int to) {
        for (int i = from; i < to; i++) {
            byte b = buf[i];
            if (afterEscape) {
                afterEscape = false;
                if (!csv || b == quote || b == escape) {
                    continue; // text: any byte after a backslash; csv: an escaped quote or escape
                }
            }
            if (csv) {
                if (inQuotes) {
                    if (b == escape && escape != quote) {
                        afterEscape = true;
                    } else if (b == quote) {
                        inQuotes = false; // a doubled quote closes and reopens: the same state either way
                    }
                    continue;
                }
                if (b == quote) {
                    inQuotes = true;
                    continue;
                }
            } else if (b == '\\') {
                afterEscape = true;
                continue;
            }
            if (b == '\n') {
                return i;
            }
        }
        return -1;
    }

    /**
     * Splits the row {@code [start, lineFeed)} of {@code buf} (its LF at {@code lineFeed}) into
     * its raw fields; returns the field bounds as {start0, end0, start1, end1, ...} and the index
     * where the row end (CR LF or LF) starts as the last element.
     */
    int[] fields(byte[] buf, int start, int lineFeed) throws MalformedRowException {
        int contentEnd = lineFeed > start && buf[lineFeed - 1] == '\r' ? lineFeed - 1 : lineFeed;
        int[] bounds = new int[9];
        int count = 0;
        int fieldStart = start;
        boolean quoted = false;
        for (int i = start; i < contentEnd; i++) {
            byte b = buf[i];
            if (csv) {
                if (quoted) {
                    if (b == escape && escape != quote && i + 1 < contentEnd
                            && (buf[i + 1] == quote || buf[i + 1] == escape)) {
                        i++;
                    } else if (b == quote) {
                        quoted = false;
                    }
                    continue;
                }
                if (b == quote) {
                    quoted = true;
                    continue;
                }
            } else if (b == '\\') {
                if (i + 1 >= contentEnd) {
                    throw new MalformedRowException("a backslash ends the row");
                }
                i++;
                continue;
            }
            if (b == delimiter) {
                bounds = add(bounds, count, fieldStart, i);
                count += 2;
                fieldStart = i + 1;
            }
        }
        if (quoted) {
            throw new MalformedRowException("a quoted value is not closed");
        }
        bounds = add(bounds, count, fieldStart, contentEnd);
        count += 2;
        int[] result = Arrays.copyOf(bounds, count + 1);
        result[count] = contentEnd;
        return result;
    }

    private static int[] add(int[] bounds, int count, int start, int end) {
        int[] grown = count + 3 > bounds.length ? Arrays.copyOf(bounds, bounds.length * 2 + 3) : bounds;
        grown[count] = start;
        grown[count + 1] = end;
        return grown;
    }

    /** Reads one raw field: NULL or the value's bytes, undoing the format's escaping or quoting. */
    Value read(byte[] buf, int start, int end) throws MalformedRowException {
        return csv ? readCsv(buf, start, end) : readText(buf, start, end);
    }

    private boolean rawEqualsNull(byte[] buf, int start, int end) {
        if (end - start != nullBytes.length) {
            return false;
        }
        for (int i = 0; i < nullBytes.length; i++) {
            if (buf[start + i] != nullBytes[i]) {
                return false;
            }
        }
        return true;
    }

    private Value readText(byte[] buf, int start, int end) throws MalformedRowException {
        if (rawEqualsNull(buf, start, end)) {
            return new Value(Optional.empty());
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(end - start);
        for (int i = start; i < end; i++) {
            byte b = buf[i];
            if (b != '\\') {
                out.write(b);
                continue;
            }
            if (++i >= end) {
                throw new MalformedRowException("a backslash ends a value");
            }
            byte c = buf[i];
            switch (c) {
                case 'b' -> out.write('\b');
                case 'f' -> out.write('\f');
                case 'n' -> out.write('\n');
                case 'r' -> out.write('\r');
                case 't' -> out.write('\t');
                case 'v' -> out.write(0x0B);
                case 'x' -> {
                    int value = 0;
                    int digits = 0;
                    while (digits < 2 && i + 1 < end && Character.digit((char) buf[i + 1], 16) >= 0) {
                        value = value * 16 + Character.digit((char) buf[++i], 16);
                        digits++;
                    }
                    out.write(digits == 0 ? 'x' : value);
                }
                default -> {
                    if (c >= '0' && c <= '7') {
                        int value = c - '0';
                        for (int digits = 1; digits < 3 && i + 1 < end; digits++) {
                            byte d = buf[i + 1];
                            if (d < '0' || d > '7') {
                                break;
                            }
                            value = value * 8 + (d - '0');
                            i++;
                        }
                        out.write(value & 0xFF);
                    } else {
                        out.write(c); // \\, \DELIM and any other escaped byte stand for themselves
                    }
                }
            }
        }
        return new Value(Optional.of(out.toByteArray()));
    }

    private Value readCsv(byte[] buf, int start, int end) throws MalformedRowException {
        boolean sawQuote = false;
        boolean quoted = false;
        ByteArrayOutputStream out = new ByteArrayOutputStream(end - start);
        for (int i = start; i < end; i++) {
            byte b = buf[i];
            if (quoted) {
                if (b == escape && i + 1 < end && (buf[i + 1] == quote || buf[i + 1] == escape)
                        && (escape != quote || buf[i + 1] == quote)) {
                    out.write(buf[++i]);
                } else if (b == quote) {
                    quoted = false;
                } else {
                    out.write(b);
                }
            } else if (b == quote) {
                quoted = true;
                sawQuote = true;
            } else {
                out.write(b);
            }
        }
        if (quoted) {
            throw new MalformedRowException("a quoted value is not closed");
        }
        // copyfromparse.c: only an unquoted field equal to the NULL string is NULL.
        if (!sawQuote && rawEqualsNull(buf, start, end)) {
            return new Value(Optional.empty());
        }
        return new Value(Optional.of(out.toByteArray()));
    }

    /** A value's text and the charset it was read in, which its mask is written in. */
    record Text(String value, Charset charset) {
    }

    /** The value's text in the stream's encoding; bytes that are not valid in it make the row unreadable. */
    Text decode(byte[] bytes) throws MalformedRowException {
        try {
            return new Text(charset.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString(), charset);
        } catch (CharacterCodingException e) {
            if (opaque) {
                return new Text(new String(bytes, StandardCharsets.ISO_8859_1), StandardCharsets.ISO_8859_1);
            }
            throw new MalformedRowException("a value is not valid " + charset.name());
        }
    }

    /** Writes NULL as the format writes it. */
    void writeNull(Sink out) {
        out.write(nullBytes, 0, nullBytes.length);
    }

    /**
     * Writes {@code text} as the format writes a value. In CSV it is quoted when PostgreSQL would
     * quote it: always in a FORCE_QUOTE column ({@code forceQuote}), else when it holds the
     * delimiter, quote, CR or LF or equals the NULL string; {@code onlyColumn} is true when the
     * row has a single column, where a lone {@code \.} is quoted so it cannot read as the
     * end-of-data marker.
     */
    void writeValue(String text, Charset textCharset, boolean forceQuote, boolean onlyColumn, Sink out) {
        byte[] bytes = encode(text, textCharset);
        if (csv) {
            writeCsv(text, bytes, forceQuote, onlyColumn, out);
        } else {
            writeText(bytes, out);
        }
    }

    private static byte[] encode(String text, Charset textCharset) {
        try {
            ByteBuffer encoded = textCharset.newEncoder().onMalformedInput(CodingErrorAction.REPLACE)
                    .onUnmappableCharacter(CodingErrorAction.REPLACE).encode(CharBuffer.wrap(text));
            byte[] bytes = new byte[encoded.remaining()];
            encoded.get(bytes);
            return bytes;
        } catch (CharacterCodingException e) {
            throw new IllegalStateException("replacing encoder reported an error", e);
        }
    }

    private void writeText(byte[] bytes, Sink out) {
        for (byte b : bytes) {
            byte escaped = switch (b) {
                case '\b' -> 'b';
                case '\f' -> 'f';
                case '\n' -> 'n';
                case '\r' -> 'r';
                case '\t' -> 't';
                case 0x0B -> 'v';
                case '\\' -> '\\';
                default -> 0;
            };
            if (escaped == 0 && b == delimiter) {
                escaped = delimiter;
            }
            if (escaped != 0) {
                out.write('\\');
                out.write(escaped);
            } else {
                out.write(b);
            }
        }
    }

    private void writeCsv(String text, byte[] bytes, boolean forceQuote, boolean onlyColumn, Sink out) {
        boolean needsQuotes = forceQuote || text.equals(nullString) || (onlyColumn && text.equals("\\."));
        for (int i = 0; i < bytes.length && !needsQuotes; i++) {
            byte b = bytes[i];
            needsQuotes = b == delimiter || b == quote || b == '\n' || b == '\r';
        }
        if (!needsQuotes) {
            out.write(bytes, 0, bytes.length);
            return;
        }
        out.write(quote);
        for (byte b : bytes) {
            if (b == quote || b == escape) {
                out.write(escape);
            }
            out.write(b);
        }
        out.write(quote);
    }
}
