package dev.pgpolicy.sql;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The data format of a COPY statement as PostgreSQL settles it (src/backend/commands/copy.c,
 * ProcessCopyOptions): the options the statement gave, and PostgreSQL's defaults for the rest.
 * For {@code text}: delimiter tab, NULL string {@code \N}; for {@code csv}: delimiter comma, NULL
 * string empty, quote {@code "}, escape the quote. {@code binary} uses none of them.
 *
 * @param format     text, csv or binary
 * @param delimiter  the one ASCII character between columns
 * @param nullString how a NULL is written
 * @param quote      csv only: the quoting character
 * @param escape     csv only: the character that precedes a quote (or itself) inside a quoted value
 * @param header     whether the first line names the columns (csv, and text from PostgreSQL 15)
 * @param encoding   the ENCODING option, when given: the data is then in it, not in client_encoding
 * @param forceQuote csv only: columns whose non-NULL values are always quoted; {@code ["*"]} for all
 */
public record CopyOptions(Format format, String delimiter, String nullString, String quote, String escape,
        boolean header, Optional<String> encoding, List<String> forceQuote) {

    public enum Format {
        TEXT, CSV, BINARY
    }

    public CopyOptions {
        Objects.requireNonNull(format, "format");
        Objects.requireNonNull(delimiter, "delimiter");
        Objects.requireNonNull(nullString, "nullString");
        Objects.requireNonNull(quote, "quote");
        Objects.requireNonNull(escape, "escape");
        Objects.requireNonNull(encoding, "encoding");
        forceQuote = List.copyOf(forceQuote);
    }

    /** PostgreSQL's defaults for {@code format}. */
    public static CopyOptions defaults(Format format) {
        boolean csv = format == Format.CSV;
        return new CopyOptions(format, csv ? "," : "\t", csv ? "" : "\\N", "\"", "\"", false, Optional.empty(), List.of());
    }
}
