package dev.pgpolicy.proxy.audit;

import dev.pgpolicy.proxy.audit.VerifyReport.Break;
import dev.pgpolicy.proxy.audit.VerifyReport.Kind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Checks audit files against the rules of docs/audit.md and reports the first place the chain
 * breaks. Files are taken in name order (the writer names them so that name order is chain
 * order). Per complete line: it is a record ending with the hash field; the hash matches the
 * canonical bytes; seq is one more than the previous record's; prev is the previous record's hash.
 * Per file: the first record is a log_start; it either starts a new chain (seq 1, prev = genesis,
 * only in the first file) or names the file holding the previous record; bytes after the last
 * complete record are allowed only when the next file's log_start names exactly them (a closed-off
 * interrupted write), or at the end of the newest file (reported as a torn tail).
 */
public final class AuditVerifier {
    private final ChainKey key;

    /** {@code key} is the chain function the records must use: unkeyed, or HMAC with the key. */
    public AuditVerifier(ChainKey key) {
        this.key = Objects.requireNonNull(key, "key");
    }

    /** A directory's {@code *.jsonl} files, or one file. */
    public VerifyReport verify(Path fileOrDirectory) throws IOException {
        if (Files.isDirectory(fileOrDirectory)) {
            List<Path> files = LogFiles.list(fileOrDirectory);
            if (files.isEmpty()) {
                throw new IOException("no audit files (*" + LogFiles.SUFFIX + ") in " + fileOrDirectory);
            }
            return verify(files);
        }
        return verify(List.of(fileOrDirectory));
    }

    /** Files of one chain; they are checked in name order. */
    public VerifyReport verify(List<Path> files) throws IOException {
        List<Path> ordered = new ArrayList<>(files);
        ordered.sort(Comparator.comparing(p -> p.getFileName().toString()));
        return new Run(ordered).check();
    }

    private final class Run {
        private final List<Path> files;
        private final Set<String> names = new HashSet<>();
        private final List<String> notes = new ArrayList<>();
        private long records;
        private long lastSeq;
        private String prevHash;
        private String prevRecordFile;
        private VerifyReport.TornTail tornTail;

        Run(List<Path> files) {
            this.files = files;
            files.forEach(f -> names.add(f.getFileName().toString()));
        }

        VerifyReport check() throws IOException {
            LogFiles.Content next = LogFiles.read(files.get(0));
            for (int i = 0; i < files.size(); i++) {
                LogFiles.Content content = next;
                next = i + 1 < files.size() ? LogFiles.read(files.get(i + 1)) : null;
                Break found = checkFile(content, next, i == files.size() - 1);
                if (found != null) {
                    return report(found);
                }
            }
            return report(null);
        }

        private VerifyReport report(Break found) {
            return new VerifyReport(files.size(), records, lastSeq, found, found == null ? tornTail : null, notes);
        }

        private Break checkFile(LogFiles.Content content, LogFiles.Content next, boolean newest) {
            Path path = content.path();
            Torn acknowledged = acknowledgement(content, next);
            long chainEnd;
            if (acknowledged != null) {
                if (acknowledged.offset() + acknowledged.length() != content.bytes().length
                        || !isLineBoundary(content, acknowledged.offset())) {
                    return new Break(path, lineAt(content, acknowledged.offset()), null, Kind.TRUNCATED,
                            "the next file closes off " + acknowledged.length() + " bytes at offset "
                                    + acknowledged.offset() + " but this file has " + content.bytes().length
                                    + " bytes: changed after it was closed off");
                }
                chainEnd = acknowledged.offset();
                notes.add(path + ": " + acknowledged.length() + " bytes from offset " + acknowledged.offset()
                        + " are an interrupted write, closed off by " + next.name());
            } else {
                chainEnd = content.tailStart();
                if (content.tailLength() > 0) {
                    int line = content.lines().size() + 1;
                    if (!newest) {
                        return new Break(path, line, null, Kind.TRUNCATED, "the file ends inside a record ("
                                + content.tailLength() + " bytes without a newline) and the next file does not"
                                + " close it off: file truncated");
                    }
                    tornTail = new VerifyReport.TornTail(path, line, content.tailStart(), content.tailLength());
                }
            }
            List<LogFiles.Line> lines = content.lines().stream().filter(l -> l.end() < chainEnd).toList();
            if (lines.isEmpty()) {
                return new Break(path, 1, null, Kind.TRUNCATED, "the file holds no complete record");
            }
            for (int j = 0; j < lines.size(); j++) {
                Break found = checkLine(content, lines, j);
                if (found != null) {
                    return found;
                }
            }
            return null;
        }

        /** The torn region of {@code content} named by the next file's first record, if any. */
        private Torn acknowledgement(LogFiles.Content content, LogFiles.Content next) {
            if (next == null || next.lines().isEmpty()) {
                return null;
            }
            LogFiles.Line first = next.lines().get(0);
            try {
                LogLine start = LogLine.parse(next.bytes(), first.start(), first.end());
                // Trusted only for this file's extent; the record itself is checked with the next file.
                if (start.torn() != null && start.torn().file().equals(content.name())) {
                    return start.torn();
                }
            } catch (LogLine.MalformedLineException e) {
                // Reported when the next file is checked.
            }
            return null;
        }

        private Break checkLine(LogFiles.Content content, List<LogFiles.Line> lines, int index) {
            Path path = content.path();
            LogFiles.Line at = lines.get(index);
            LogLine record;
            try {
                record = LogLine.parse(content.bytes(), at.start(), at.end());
            } catch (LogLine.MalformedLineException e) {
                return new Break(path, at.number(), null, Kind.MALFORMED,
                        "not an audit record: " + e.getMessage() + " (edited, or part of the file cut out)");
            }
            Long seq = record.seq();
            if (key.keyed() && record.alg().equals(ChainKey.SHA256)) {
                return new Break(path, at.number(), seq, Kind.ALGORITHM, "the record is chained with unkeyed"
                        + " sha256 but a key was given: the chain was replaced, or this is another log");
            }
            if (!key.keyed() && record.alg().equals(ChainKey.HMAC_SHA256)) {
                return new Break(path, at.number(), seq, Kind.KEY_REQUIRED,
                        "the chain is keyed (hmac-sha256): pass the key with --key FILE");
            }
            if (!record.hashMatches(content.bytes(), key)) {
                return new Break(path, at.number(), seq, Kind.EDITED, key.keyed()
                        ? "HMAC does not match the record: record edited, or the wrong key"
                        : "hash does not match the record: record edited");
            }
            if (index == 0) {
                Break found = checkFileStart(content, record, at);
                if (found != null) {
                    return found;
                }
            } else {
                long expected = lastSeq + 1;
                if (record.seq() != expected) {
                    return sequenceBreak(content, lines, index, record, expected);
                }
                if (!record.prev().equals(prevHash)) {
                    return new Break(path, at.number(), seq, Kind.PREV_MISMATCH, "prev is not the hash of the"
                            + " preceding record (seq " + lastSeq + "): a record was replaced or altered");
                }
            }
            records++;
            lastSeq = record.seq();
            prevHash = record.hash();
            prevRecordFile = content.name();
            return null;
        }

        private Break checkFileStart(LogFiles.Content content, LogLine record, LogFiles.Line at) {
            Path path = content.path();
            Long seq = record.seq();
            if (!record.event().equals(AuditEvent.LOG_START.jsonName())) {
                return new Break(path, at.number(), seq, Kind.TRUNCATED,
                        "the first record of a file is not log_start: the beginning of the file was removed");
            }
            if (record.prevFile() == null) {
                if (record.seq() != 1 || !record.prev().equals(key.genesis())) {
                    return new Break(path, at.number(), seq, Kind.EDITED, "a new chain must start at seq 1 with"
                            + " prev = the genesis value" + (key.keyed() ? " for this key (wrong key?)" : ""));
                }
                if (prevRecordFile != null) {
                    return new Break(path, at.number(), seq, Kind.CHAIN_RESTART, "a new chain starts here although"
                            + " earlier files precede it: files were removed, or files of two logs are mixed");
                }
                return null;
            }
            if (prevRecordFile == null) {
                notes.add(path + " continues the chain from " + record.prevFile() + " (seq " + (record.seq() - 1)
                        + "), which was not checked");
                return null;
            }
            if (!record.prevFile().equals(prevRecordFile)) {
                String why = names.contains(record.prevFile())
                        ? " which comes earlier: files out of order or a file was replaced"
                        : " which is missing: file removed";
                return new Break(path, at.number(), seq, Kind.FILE_MISSING, "this file continues from "
                        + record.prevFile() + " but the preceding record is in " + prevRecordFile + "," + why);
            }
            if (record.torn() != null && !record.torn().file().equals(prevRecordFile)) {
                return new Break(path, at.number(), seq, Kind.FILE_MISSING, "this file closes off a torn tail of "
                        + record.torn().file() + ", which is not the file before it (" + prevRecordFile + ")"
                        + (names.contains(record.torn().file()) ? ": files out of order" : ": file removed"));
            }
            if (record.seq() != lastSeq + 1) {
                return new Break(path, at.number(), seq, record.seq() > lastSeq + 1 ? Kind.DELETED : Kind.REORDERED,
                        "seq " + record.seq() + " does not follow seq " + lastSeq + " at the end of " + prevRecordFile
                                + ": records at the end of that file were removed or the files altered");
            }
            if (!record.prev().equals(prevHash)) {
                return new Break(path, at.number(), seq, Kind.PREV_MISMATCH, "prev is not the hash of the last"
                        + " record of " + prevRecordFile + " (seq " + lastSeq + "): that file was truncated or replaced");
            }
            return null;
        }

        private Break sequenceBreak(LogFiles.Content content, List<LogFiles.Line> lines, int index,
                LogLine record, long expected) {
            Path path = content.path();
            int line = lines.get(index).number();
            if (record.seq() < expected) {
                return new Break(path, line, record.seq(), Kind.REORDERED, "seq " + record.seq() + " after seq "
                        + lastSeq + ": records swapped or duplicated");
            }
            for (int k = index + 1; k < lines.size(); k++) {
                LogFiles.Line later = lines.get(k);
                try {
                    if (LogLine.parse(content.bytes(), later.start(), later.end()).seq() == expected) {
                        return new Break(path, line, record.seq(), Kind.REORDERED, "seq " + record.seq()
                                + " where seq " + expected + " was expected; seq " + expected + " is at line "
                                + later.number() + ": records swapped");
                    }
                } catch (LogLine.MalformedLineException e) {
                    // Not a record; keep looking.
                }
            }
            long missing = record.seq() - expected;
            return new Break(path, line, record.seq(), Kind.DELETED, "seq gap: expected seq " + expected + ", found "
                    + record.seq() + ": " + missing + (missing == 1 ? " record" : " records") + " deleted");
        }
    }

    private static boolean isLineBoundary(LogFiles.Content content, long offset) {
        return offset == 0 || (offset <= content.bytes().length && content.bytes()[(int) offset - 1] == '\n');
    }

    private static int lineAt(LogFiles.Content content, long offset) {
        int line = 1;
        for (int i = 0; i < offset && i < content.bytes().length; i++) {
            if (content.bytes()[i] == '\n') {
                line++;
            }
        }
        return line;
    }
}
