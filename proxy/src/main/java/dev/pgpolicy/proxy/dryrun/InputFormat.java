package dev.pgpolicy.proxy.dryrun;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;

/** The kinds of traffic a dry-run reads, and how a file's kind is recognised. */
public enum InputFormat {
    PCAP, PCAPNG, CSVLOG, JSONLOG, AUDIT;

    public String keyword() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Recognises a file: capture files by their magic number, logs by their first line (a pgpolicy
     * audit record has {@code seq} and {@code event}; a PostgreSQL jsonlog entry has
     * {@code error_severity}; a csvlog entry starts with a timestamp), then by extension. A
     * directory is an audit log directory.
     */
    public static Optional<InputFormat> detect(Path file) throws IOException {
        if (Files.isDirectory(file)) {
            return Optional.of(AUDIT);
        }
        byte[] head;
        try (InputStream in = Files.newInputStream(file)) {
            head = in.readNBytes(4096);
        }
        if (head.length >= 4) {
            int big = ByteBuffer.wrap(head, 0, 4).order(ByteOrder.BIG_ENDIAN).getInt();
            int little = ByteBuffer.wrap(head, 0, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
            if (big == PacketCaptureReader.PCAPNG_SECTION_HEADER) {
                return Optional.of(PCAPNG);
            }
            for (int magic : new int[] {big, little}) {
                if (magic == PacketCaptureReader.PCAP_MAGIC_MICROS || magic == PacketCaptureReader.PCAP_MAGIC_NANOS) {
                    return Optional.of(PCAP);
                }
            }
        }
        String text = new String(head, StandardCharsets.UTF_8);
        int newline = text.indexOf('\n');
        String first = (newline >= 0 ? text.substring(0, newline) : text).strip();
        if (first.startsWith("{")) {
            if (first.contains("\"seq\"") && first.contains("\"event\"")) {
                return Optional.of(AUDIT);
            }
            if (first.contains("\"error_severity\"") || first.contains("\"timestamp\"")) {
                return Optional.of(JSONLOG);
            }
        }
        if (first.matches("\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}.*,.*")) {
            return Optional.of(CSVLOG);
        }
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".pcapng")) {
            return Optional.of(PCAPNG);
        }
        if (name.endsWith(".pcap") || name.endsWith(".cap")) {
            return Optional.of(PCAP);
        }
        if (name.endsWith(".csv")) {
            return Optional.of(CSVLOG);
        }
        if (name.endsWith(".jsonl")) {
            return Optional.of(AUDIT);
        }
        if (name.endsWith(".json")) {
            return Optional.of(JSONLOG);
        }
        return Optional.empty();
    }
}
