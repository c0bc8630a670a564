package dev.pgpolicy.proxy.audit;

import java.nio.file.Path;
import java.util.List;

/**
 * What {@link AuditVerifier} found. The chain is intact when there is neither a break nor an
 * unacknowledged torn tail; {@code notes} lists what is fine but worth knowing (tails closed off
 * after a crash, a chain that continues from files not checked).
 *
 * @param files files checked
 * @param records complete records that verified
 * @param lastSeq seq of the last record that verified, 0 when none
 * @param chainBreak the first place where the chain breaks, or null
 * @param tornTail an incomplete last line of the newest file that no later file closes off, or null
 * @param notes remarks that do not make the check fail
 */
public record VerifyReport(int files, long records, long lastSeq, Break chainBreak, TornTail tornTail,
        List<String> notes) {

    public VerifyReport {
        notes = List.copyOf(notes);
    }

    public enum Kind {
        /** The line is not an audit record: edited, or bytes cut out of the middle of the file. */
        MALFORMED,
        /** The record's hash does not match its bytes: edited (or, keyed, the wrong key). */
        EDITED,
        /** seq jumps forward and the missing seq appears nowhere after: records deleted. */
        DELETED,
        /** seq goes back, or jumps forward to a seq whose predecessor comes later: records swapped. */
        REORDERED,
        /** prev is not the previous record's hash although seq follows: a record replaced or altered. */
        PREV_MISMATCH,
        /** A file's first record names a previous file that is not the one before it: file removed. */
        FILE_MISSING,
        /** A file does not start with log_start, or ends inside a record nobody closed off: truncated. */
        TRUNCATED,
        /** A second chain starts after other files: files before it were replaced or removed. */
        CHAIN_RESTART,
        /** The chain algorithm differs from what was expected (keyed chain checked with a key, or mixed). */
        ALGORITHM,
        /** The chain is keyed and no key was given. */
        KEY_REQUIRED
    }

    /** Where the chain breaks: file, 1-based line, the record's seq when it could be read. */
    public record Break(Path file, int line, Long seq, Kind kind, String reason) {
        public String describe() {
            return file + ":" + line + (seq == null ? "" : " (seq " + seq + ")") + ": " + reason;
        }
    }

    /** The newest file ends inside a record: an interrupted write that no restart closed off yet. */
    public record TornTail(Path file, int line, long offset, long length) {
    }

    public boolean intact() {
        return chainBreak == null && tornTail == null;
    }

    /** One line for people and scripts. */
    public String summary() {
        if (chainBreak != null) {
            return "FAILED: " + chainBreak.describe();
        }
        String checked = records + " records in " + files + (files == 1 ? " file" : " files");
        if (tornTail != null) {
            return "TORN: " + checked + ", chain intact up to seq " + lastSeq + "; " + tornTail.file() + ":"
                    + tornTail.line() + " is an incomplete record (" + tornTail.length() + " bytes at offset "
                    + tornTail.offset() + "), left by an interrupted write, not a complete record;"
                    + " the audit log closes it off when it next starts";
        }
        return "OK: " + checked + ", chain intact";
    }
}
