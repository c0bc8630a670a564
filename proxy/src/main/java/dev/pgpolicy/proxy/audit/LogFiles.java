package dev.pgpolicy.proxy.audit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/** Names, lists and splits audit files; shared by the writer and the verifier. */
final class LogFiles {
    static final String SUFFIX = ".jsonl";
    static final String TEMPORARY_SUFFIX = ".jsonl.tmp";

    private static final DateTimeFormatter NAME_TIME =
            DateTimeFormatter.ofPattern("uuuuMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

    private LogFiles() {
    }

    /**
     * {@code audit-<first seq, 20 digits>-<UTC creation time>.jsonl}: the zero-padded seq makes
     * name order chain order whatever the clock does; the time is for people.
     */
    static String name(long firstSeq, Instant created) {
        return String.format("audit-%020d-%s%s", firstSeq, NAME_TIME.format(created), SUFFIX);
    }

    /** The audit files of a directory in chain order (by name). */
    static List<Path> list(Path directory) throws IOException {
        try (Stream<Path> entries = Files.list(directory)) {
            return entries.filter(p -> p.getFileName().toString().endsWith(SUFFIX))
                    .filter(Files::isRegularFile)
                    .sorted(Comparator.comparing(p -> p.getFileName().toString()))
                    .toList();
        }
    }

    static List<Path> temporaries(Path directory) throws IOException {
        try (Stream<Path> entries = Files.list(directory)) {
            return entries.filter(p -> p.getFileName().toString().endsWith(TEMPORARY_SUFFIX)).toList();
        }
    }

    /**
     * A file split into complete lines (each ended by {@code '\n'}, which the writer puts only at
     * the end of a record) and the tail after the last newline, which is an interrupted write.
     */
    record Content(Path path, byte[] bytes, List<Line> lines) {
        int tailStart() {
            return lines.isEmpty() ? 0 : lines.get(lines.size() - 1).end() + 1;
        }

        int tailLength() {
            return bytes.length - tailStart();
        }

        String name() {
            return path.getFileName().toString();
        }
    }

    /** Line {@code number} (1-based) spans {@code bytes[start, end)}; the newline is at {@code end}. */
    record Line(int number, int start, int end) {
    }

    static Content read(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        List<Line> lines = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == '\n') {
                lines.add(new Line(lines.size() + 1, start, i));
                start = i + 1;
            }
        }
        return new Content(file, bytes, List.copyOf(lines));
    }
}
