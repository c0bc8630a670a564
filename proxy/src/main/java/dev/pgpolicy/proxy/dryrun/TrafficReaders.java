package dev.pgpolicy.proxy.dryrun;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;

/** Reads one input of any supported format into a sink. */
public final class TrafficReaders {
    /** PostgreSQL's and PgBouncer's (and pgpolicy's) customary ports. */
    public static final Set<Integer> DEFAULT_SERVER_PORTS = Set.of(5432, 6432);

    private TrafficReaders() {
    }

    /**
     * Reads {@code file} in {@code format}, or in the format its content reveals. Problems are
     * reported to the sink, never thrown.
     */
    public static void read(Path file, Optional<InputFormat> format, Set<Integer> serverPorts, TrafficSink sink) {
        if (!Files.exists(file)) {
            sink.problem(new InputProblem(file.toString(), -1, "no such file"));
            return;
        }
        InputFormat resolved;
        if (format.isPresent()) {
            resolved = format.get();
        } else {
            try {
                Optional<InputFormat> detected = InputFormat.detect(file);
                if (detected.isEmpty()) {
                    sink.problem(new InputProblem(file.toString(), -1, "cannot tell the format (pcap, pcapng, csvlog, jsonlog"
                            + " or pgpolicy audit log); name it with --format"));
                    return;
                }
                resolved = detected.get();
            } catch (IOException e) {
                sink.problem(new InputProblem(file.toString(), -1, "cannot read: " + e.getMessage()));
                return;
            }
        }
        switch (resolved) {
            case PCAP:
            case PCAPNG:
                new PcapTrafficReader(serverPorts).read(file, sink);
                break;
            case CSVLOG:
                new ServerLogReader().read(file, ServerLogReader.Format.CSV, sink);
                break;
            case JSONLOG:
                new ServerLogReader().read(file, ServerLogReader.Format.JSON, sink);
                break;
            case AUDIT:
                new AuditLogReader().read(file, sink);
                break;
            default:
                throw new AssertionError(resolved);
        }
    }
}
