package dev.pgpolicy.proxy.embedded;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Parses psql's {@code --csv} output (RFC 4180 quoting). psql writes SQL NULL as an empty unquoted
 * field and an empty string as {@code ""}, so the two stay distinguishable: NULL becomes Java null.
 */
final class Csv {
    private Csv() {
    }

    /** Rows of fields; rows are unmodifiable and may contain null (List.copyOf would reject it). */
    static List<List<String>> parse(String text) {
        List<List<String>> rows = new ArrayList<>();
        List<String> row = new ArrayList<>();
        StringBuilder field = new StringBuilder();
        boolean inQuotes = false;
        boolean fieldWasQuoted = false;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (inQuotes) {
                if (c != '"') {
                    field.append(c);
                } else if (i + 1 < text.length() && text.charAt(i + 1) == '"') {
                    field.append('"');
                    i++;
                } else {
                    inQuotes = false;
                }
                continue;
            }
            if (c == '"') {
                inQuotes = true;
                fieldWasQuoted = true;
            } else if (c == ',' || c == '\n') {
                row.add(field.length() == 0 && !fieldWasQuoted ? null : field.toString());
                field.setLength(0);
                fieldWasQuoted = false;
                if (c == '\n') {
                    rows.add(Collections.unmodifiableList(row));
                    row = new ArrayList<>();
                }
            } else if (c != '\r') {
                // A CR outside quotes can only belong to a CRLF record separator.
                field.append(c);
            }
        }
        if (inQuotes) {
            throw new IllegalArgumentException("unterminated quoted field in psql CSV output");
        }
        if (field.length() > 0 || fieldWasQuoted || !row.isEmpty()) {
            row.add(field.length() == 0 && !fieldWasQuoted ? null : field.toString());
            rows.add(Collections.unmodifiableList(row));
        }
        return Collections.unmodifiableList(rows);
    }
}
