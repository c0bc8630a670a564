package dev.pgpolicy.proxy.testing;

import dev.pgpolicy.proxy.embedded.EmbeddedPostgres;
import dev.pgpolicy.proxy.embedded.ProcessResult;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A base backup of an {@link EmbeddedPostgres} cluster taken in place with the low-level API
 * (PostgreSQL docs 26.3.3), and the WAL it needs, copied to an archive directory, to be restored
 * as a standby by {@link EmbeddedPostgres#restartAsStandbyFromBackup}.
 *
 * <p>The cluster's own data directory stands in for the copy a real backup makes between
 * {@code pg_backup_start} and {@code pg_backup_stop}: after the fast shutdown that precedes the
 * standby start, every file in it is at least as new as the backup's start and none is torn,
 * which is all recovery from a backup relies on (it replays from the backup's checkpoint and
 * skips changes a page already holds). So the standby keeps the cluster's port, and a proxy in
 * front of it sees the same server go through recovery.
 *
 * <p>Between the two calls the backup switches to a new WAL segment, so the checkpoint it starts
 * from lies in {@link #startSegment()} and its end record ({@code XLOG_BACKUP_END}) in the later
 * {@link #endSegment()}. Recovery is not consistent before that record is replayed, so a
 * {@code restore_command} that withholds the end segment ({@link #restoreCommand}) holds the
 * standby after redo has begun and before consistency: the postmaster's PM_RECOVERY state, in
 * which a hot standby refuses sessions with 57P03 "the database system is not yet accepting
 * connections" (postmaster.c, CAC_NOTCONSISTENT).
 *
 * @param label what {@code pg_backup_stop} returned as {@code labelfile}, the standby's
 *     {@code backup_label}
 * @param startSegment the WAL file holding the backup's checkpoint
 * @param endSegment the WAL file holding the backup's end record, always after {@code startSegment}
 */
public record BaseBackup(String label, String startSegment, String endSegment) {

    private static final Pattern WAL_FILE = Pattern.compile("[0-9A-F]{24}");
    /* backup_label's first line: "START WAL LOCATION: 0/2000028 (file 000000010000000000000002)". */
    private static final Pattern START_FILE = Pattern.compile("\\ASTART WAL LOCATION: \\S+ \\(file ([0-9A-F]{24})\\)\n");
    private static final Pattern CHECKPOINT_LINE = Pattern.compile("^CHECKPOINT LOCATION: ", Pattern.MULTILINE);

    /*
     * One psql session: pg_backup_start and pg_backup_stop must run in the same session (a
     * non-exclusive backup ends with its session). The checkpoint record pg_backup_start writes
     * makes the current segment non-empty, so pg_switch_wal does switch, and pg_backup_stop
     * writes its end record into the next segment. pg_walfile_name maps an LSN at a segment
     * boundary to the segment before it, the one that holds the record ending there.
     */
    private static final String BACKUP_SCRIPT = """
            \\pset format unaligned
            \\pset tuples_only on
            SELECT pg_backup_start('pgpolicy standby restore', true) AS backup_start \\gset
            SELECT pg_switch_wal() AS switched \\gset
            SELECT pg_walfile_name(lsn) || E'\\n' || labelfile FROM pg_backup_stop(false);
            """;

    public BaseBackup {
        if (!WAL_FILE.matcher(startSegment).matches() || !WAL_FILE.matcher(endSegment).matches()) {
            throw new IllegalArgumentException("not WAL file names: " + startSegment + ", " + endSegment);
        }
        // Same timeline, so the names order as the segments do.
        if (endSegment.compareTo(startSegment) <= 0) {
            throw new IllegalArgumentException("the backup ends in " + endSegment + ", not after its start in "
                    + startSegment + ": no restore_command could hold recovery between the two");
        }
    }

    /**
     * Takes the backup on the running {@code cluster} and copies the WAL segments from its start
     * to its end into {@code archive} (created if missing; under the cluster's base directory, so
     * the server's OS account can read it): the fast shutdown before the standby start recycles
     * them in pg_wal.
     */
    public static BaseBackup takeInPlace(EmbeddedPostgres cluster, Path archive) {
        ProcessResult result = cluster.psql("postgres", BACKUP_SCRIPT);
        if (!result.succeeded()) {
            throw new IllegalStateException("the low-level base backup failed:\n" + result.describe());
        }
        String output = result.stdout().strip();
        int lineEnd = output.indexOf('\n');
        if (lineEnd < 0) {
            throw new IllegalStateException("pg_backup_stop returned no backup_label:\n" + result.describe());
        }
        String endSegment = output.substring(0, lineEnd);
        String label = output.substring(lineEnd + 1) + "\n";
        Matcher start = START_FILE.matcher(label);
        if (!start.find() || !CHECKPOINT_LINE.matcher(label).find()) {
            throw new IllegalStateException("unexpected backup_label from pg_backup_stop:\n" + label);
        }
        BaseBackup backup = new BaseBackup(label, start.group(1), endSegment);
        backup.archiveSegments(cluster.dataDirectory().resolve("pg_wal"), archive);
        return backup;
    }

    /**
     * A {@code restore_command} that hands out the archived segments but waits for the file
     * {@code gate} before handing out {@link #endSegment()}. Anything not archived (the history
     * file of a later timeline, the segments after the backup) is reported missing, so the
     * startup process reads those from pg_wal. The wait is bounded (two minutes) so that no shell
     * outlives a test run that died before creating the gate.
     */
    public String restoreCommand(Path archive, Path gate) {
        String archived = quote(archive.toString()) + "/%f";
        return "if [ %f = " + endSegment + " ]; then i=0; while [ ! -e " + quote(gate.toString())
                + " ] && [ $i -lt 600 ]; do sleep 0.2; i=$((i+1)); done; fi; test -f " + archived
                + " && cp " + archived + " %p";
    }

    private void archiveSegments(Path walDirectory, Path archive) {
        try {
            Files.createDirectories(archive);
            try (var names = Files.list(walDirectory)) {
                for (Path segment : (Iterable<Path>) names::iterator) {
                    String name = segment.getFileName().toString();
                    if (WAL_FILE.matcher(name).matches() && name.compareTo(startSegment) >= 0
                            && name.compareTo(endSegment) <= 0) {
                        Files.copy(segment, archive.resolve(name), StandardCopyOption.REPLACE_EXISTING);
                    }
                }
            }
            for (String needed : new String[] {startSegment, endSegment}) {
                if (!Files.isRegularFile(archive.resolve(needed))) {
                    throw new IllegalStateException("WAL segment " + needed + " of the backup is no longer in "
                            + walDirectory);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot archive the backup's WAL into " + archive, e);
        }
    }

    /** For a POSIX shell: single quotes, an embedded one closed, escaped and reopened. */
    private static String quote(String text) {
        return "'" + text.replace("'", "'\\''") + "'";
    }
}
