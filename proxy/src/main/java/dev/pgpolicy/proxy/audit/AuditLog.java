package dev.pgpolicy.proxy.audit;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The tamper-evident audit log: JSON Lines files chained by SHA-256 or HMAC-SHA256 (docs/audit.md).
 *
 * <pre>
 * event loop ──append(record)──► bounded queue ──► writer thread: seq, prev, hash ─► write ─► fsync
 *            ◄── false when refused                                 └─ rotate by size / time
 * </pre>
 *
 * {@link #append} never blocks: a Netty event loop must not wait for a disk. It returns false when
 * the record is refused (queue full, log failed or closed); a session running with
 * {@code audit.fail_closed} then refuses the statement. For the strict form, where a statement may
 * only run once its record is on disk, {@link #appendConfirmed} returns a future completed by the
 * writer thread after the batch holding the record was written and, with {@code sync: batch},
 * forced to disk.
 *
 * <p>Only the writer thread touches the files and the chain state. Every file starts with a
 * {@code log_start} record that is written to a temporary file, forced, and renamed into place, so
 * a file under its final name always holds at least that record. On start the writer resumes the
 * chain from the last complete record of the newest file and always opens a new file; the new
 * file's {@code log_start} names the bytes after that record (an interrupted write) so they are
 * reported as a torn tail, not as tampering. After an I/O error the log refuses records, retries
 * every {@code retryInterval}, and on success continues the chain in a new file the same way.
 */
public final class AuditLog implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AuditLog.class);
    /** Large enough to amortise an fsync over a burst, small enough to keep a batch's latency low. */
    private static final int MAX_BATCH = 1024;
    /** How long the idle writer sleeps between checks for close and for a pending retry. */
    private static final long IDLE_POLL_MILLIS = 50;
    /**
     * How long the writer lets records gather after a batch that nobody waits for. Without it,
     * under steady load every record wakes the writer (a thread wake-up, a write and an fsync per
     * statement); with it, the writer wakes at most every this often and writes what gathered in
     * one batch and one fsync. A record someone waits for ({@link #appendConfirmed}) cuts the
     * pause short, so fail_closed statements are not delayed by it.
     */
    static final long LINGER_NANOS = java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(5);
    /** The largest batch written from the writer's kept buffer (see {@code batchBuffer}). */
    static final int KEPT_BATCH_BUFFER_BYTES = 1024 * 1024;
    static final String LOCK_FILE = "audit.lock";
    private static final Set<Path> LOCKED_IN_THIS_JVM = ConcurrentHashMap.newKeySet();

    private final AuditConfig config;
    private final ChainKey key;
    private final AuditJson json;
    private final Clock clock;
    /**
     * Linked rather than array-backed: its producers and its consumer take separate locks and its
     * size is an atomic count, so an event loop's offer (and the capacity check after it) never
     * waits for the writer's drain, where ArrayBlockingQueue's one lock was taken twice per record
     * and showed in the statement path's profile.
     */
    private final LinkedBlockingQueue<Entry> queue;
    /** Free places in {@link #queue} at or below which a new record ends the writer's linger. */
    private final int wakeBelowCapacity;
    private final Thread writer;

    private final AtomicLong written = new AtomicLong();
    private final AtomicLong writeFailures = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();
    /** Records refused or failed since the last log_start; the next log_start reports them. */
    private final AtomicLong lost = new AtomicLong();

    private volatile boolean ioHealthy = true;
    private volatile boolean closing;
    /** Set by the writer thread when it takes no more records. */
    private volatile boolean stopped;
    private volatile String failure;

    // Writer-thread state: the confirmed end of the chain and the current file.
    private long seq;
    private String lastHash;
    private String lastRecordFile;
    private Path currentFile;
    private FileChannel channel;
    /** See {@link #batchBuffer}; writer thread only. */
    private ByteBuffer keptBatchBuffer;
    private long confirmedBytes;
    private long recordsInFile;
    private Instant fileCreated;
    private long nextRetryNanos;
    private FileChannel lockChannel;
    private Path lockedDirectory;

    private record Entry(AuditRecord record, CompletableFuture<Void> written) {
    }

    private AuditLog(AuditConfig config, ChainKey key, Clock clock) {
        this.config = config;
        this.key = key;
        this.json = new AuditJson(key);
        this.clock = clock;
        this.queue = new LinkedBlockingQueue<>(config.queueCapacity());
        this.wakeBelowCapacity = config.queueCapacity() * 3 / 4;
        this.writer = new Thread(this::runWriter, "pgpolicy-audit-writer");
        // Daemon so a forgotten close cannot keep the JVM alive; close() drains the queue.
        writer.setDaemon(true);
    }

    /**
     * Opens the log in {@code config.directory()}: reads the key, resumes the chain of any
     * existing files, writes the first record of a new file, and starts the writer thread.
     * Refuses to start (rather than silently starting a new chain) when the newest file's last
     * complete record does not verify or uses a different chain algorithm.
     */
    public static AuditLog open(AuditConfig config) throws IOException {
        return open(config, Clock.systemUTC());
    }

    static AuditLog open(AuditConfig config, Clock clock) throws IOException {
        Files.createDirectories(config.directory());
        ChainKey key = config.hmacKeyFile() == null ? ChainKey.unkeyed() : ChainKey.fromFile(config.hmacKeyFile());
        AuditLog auditLog = new AuditLog(config, key, clock);
        try {
            auditLog.lockDirectory();
            auditLog.start();
        } catch (IOException | RuntimeException e) {
            auditLog.closeFile();
            auditLog.unlockDirectory();
            key.close();
            throw e;
        }
        return auditLog;
    }

    /**
     * Two writers in one directory would fork the chain; the lock (fcntl(2), released by the
     * kernel when the process dies, even by SIGKILL) lets only one in.
     */
    private void lockDirectory() throws IOException {
        Path lockFile = config.directory().resolve(LOCK_FILE);
        Path realDirectory = config.directory().toRealPath();
        // Within one JVM the set decides: closing a second channel on the lock file would drop the
        // process's fcntl lock held through the first (FileLock javadoc, platform dependencies).
        if (!LOCKED_IN_THIS_JVM.add(realDirectory)) {
            throw new IOException("audit directory " + config.directory() + " is in use by another audit log");
        }
        lockedDirectory = realDirectory;
        lockChannel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = lockChannel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        }
        if (lock == null) {
            throw new IOException("audit directory " + config.directory() + " is in use by another process ("
                    + lockFile + " is locked)");
        }
    }

    private void unlockDirectory() {
        if (lockChannel != null) {
            try {
                // Closing the channel releases the lock.
                lockChannel.close();
            } catch (IOException e) {
                log.error("audit log {}: releasing {} failed: {}", config.directory(), LOCK_FILE, e.toString());
            }
            lockChannel = null;
        }
        if (lockedDirectory != null) {
            LOCKED_IN_THIS_JVM.remove(lockedDirectory);
            lockedDirectory = null;
        }
    }

    private void start() throws IOException {
        for (Path stale : LogFiles.temporaries(config.directory())) {
            // A log_start that never got its final name: the chain never included it.
            Files.deleteIfExists(stale);
        }
        List<Path> files = LogFiles.list(config.directory());
        if (files.isEmpty()) {
            seq = 0;
            lastHash = key.genesis();
            lastRecordFile = null;
            createFile(new LogStart(LogStart.Reason.NEW_LOG, null, null, 0, null));
        } else {
            Torn torn = resume(files.get(files.size() - 1));
            String detail = null;
            if (torn != null) {
                detail = "the previous file ends with an incomplete record (interrupted write)";
            }
            createFile(new LogStart(LogStart.Reason.RESTART, lastRecordFile, torn, 0, detail));
            if (torn != null) {
                log.warn("audit file {} ends with {} bytes of an incomplete record at offset {} (interrupted write);"
                        + " closed off, the chain continues in {}", torn.file(), torn.length(), torn.offset(),
                        currentFile.getFileName());
            }
        }
        log.info("audit log {} ({}), chain at seq {}, writing {}", config.directory(), key.algorithm(), seq,
                currentFile.getFileName());
        writer.start();
    }

    /** Sets the chain state from the newest file's last complete record; returns its torn tail. */
    private Torn resume(Path newest) throws IOException {
        LogFiles.Content content = LogFiles.read(newest);
        if (content.lines().isEmpty()) {
            throw new IOException("cannot resume the audit chain: " + newest + " holds no complete record;"
                    + " inspect it with pgpolicy audit verify and move it aside");
        }
        LogFiles.Line last = content.lines().get(content.lines().size() - 1);
        LogLine line;
        try {
            line = LogLine.parse(content.bytes(), last.start(), last.end());
        } catch (LogLine.MalformedLineException e) {
            throw new IOException("cannot resume the audit chain: the last record of " + newest + " (line "
                    + last.number() + ") " + e.getMessage() + "; inspect it with pgpolicy audit verify", e);
        }
        if (!line.alg().equals(key.algorithm())) {
            throw new IOException("cannot resume the audit chain: " + newest + " is chained with " + line.alg()
                    + " but the configuration uses " + key.algorithm() + " (audit.hmac_key_file)");
        }
        if (!line.hashMatches(content.bytes(), key)) {
            throw new IOException("cannot resume the audit chain: the last record of " + newest + " (line "
                    + last.number() + ") does not match its hash" + (key.keyed() ? " under the configured key" : "")
                    + "; inspect it with pgpolicy audit verify");
        }
        seq = line.seq();
        lastHash = line.hash();
        lastRecordFile = content.name();
        return content.tailLength() == 0 ? null
                : new Torn(content.name(), content.tailStart(), content.tailLength());
    }

    /**
     * Queues a record without blocking. Returns false when it is refused: the queue is full, the
     * log cannot write, or it is closed. A refused record is counted and reported in the next
     * {@code log_start}.
     */
    public boolean append(AuditRecord record) {
        return offer(new Entry(Objects.requireNonNull(record, "record"), null));
    }

    /**
     * Queues a record without blocking; the future completes once the record is written (and
     * forced, with {@code sync: batch}), or exceptionally with {@link AuditUnavailableException}
     * when it was refused or could not be written. Completion runs on the writer thread: hand
     * continuations to the session's event loop.
     */
    public CompletableFuture<Void> appendConfirmed(AuditRecord record) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        if (!offer(new Entry(Objects.requireNonNull(record, "record"), done))) {
            done.completeExceptionally(new AuditUnavailableException(refusal()));
        } else {
            // A statement waits for this record: end the writer's linger now.
            java.util.concurrent.locks.LockSupport.unpark(writer);
        }
        return done;
    }

    private boolean offer(Entry entry) {
        if (closing || !ioHealthy || !queue.offer(entry)) {
            refused.incrementAndGet();
            lost.incrementAndGet();
            return false;
        }
        // Raced with close: the writer already took its last records, so take this one back.
        if (stopped && queue.remove(entry)) {
            refused.incrementAndGet();
            return false;
        }
        if (queue.remainingCapacity() <= wakeBelowCapacity) {
            // Filling up while the writer lingers: a full queue refuses records (and, with
            // fail_closed, statements), so it must not wait out its pause.
            java.util.concurrent.locks.LockSupport.unpark(writer);
        }
        return true;
    }

    private String refusal() {
        if (closing) {
            return "audit log closed";
        }
        String cause = failure;
        return cause != null && !ioHealthy ? "audit log cannot write: " + cause : "audit queue full";
    }

    /** False while records are being refused: after an I/O error, with a full queue, or once closed. */
    public boolean healthy() {
        return ioHealthy && !closing && queue.remainingCapacity() > 0;
    }

    /** {@code audit.fail_closed}: whether sessions must refuse statements while {@link #healthy()} is false. */
    public boolean failClosed() {
        return config.failClosed();
    }

    /** The last I/O error, while the log is failed; null when healthy. */
    public String failure() {
        return ioHealthy ? null : failure;
    }

    public long recordsWritten() {
        return written.get();
    }

    /** Records accepted by {@link #append} that could not be written. */
    public long writeFailures() {
        return writeFailures.get();
    }

    /** Records refused by {@link #append}. */
    public long recordsRefused() {
        return refused.get();
    }

    public Path directory() {
        return config.directory();
    }

    /** Writes everything queued, forces it to disk and closes the file. */
    @Override
    public void close() {
        closing = true;
        java.util.concurrent.locks.LockSupport.unpark(writer);
        boolean interrupted = false;
        while (writer.isAlive()) {
            try {
                writer.join();
            } catch (InterruptedException e) {
                // Keep waiting: the queued records must reach the file; restore the flag after.
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private void runWriter() {
        List<Entry> batch = new ArrayList<>(MAX_BATCH);
        try {
            while (true) {
                Entry first;
                try {
                    first = queue.poll(IDLE_POLL_MILLIS, TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    // Nobody interrupts this thread on purpose (an interrupt would close the
                    // FileChannel under a write); treat it as a request to finish.
                    closing = true;
                    first = queue.poll();
                }
                if (first == null) {
                    if (closing) {
                        break;
                    }
                    if (!ioHealthy && System.nanoTime() - nextRetryNanos >= 0) {
                        recover();
                    }
                    continue;
                }
                batch.add(first);
                queue.drainTo(batch, MAX_BATCH - 1);
                if (!ioHealthy && System.nanoTime() - nextRetryNanos >= 0) {
                    recover();
                }
                if (ioHealthy) {
                    writeBatch(batch);
                } else {
                    fail(batch, new AuditUnavailableException("audit log cannot write: " + failure));
                }
                boolean awaited = false;
                for (Entry entry : batch) {
                    awaited |= entry.written() != null;
                }
                batch.clear();
                if (!awaited) {
                    lingerForMore();
                }
            }
        } finally {
            stopped = true;
            List<Entry> stranded = new ArrayList<>();
            queue.drainTo(stranded);
            fail(stranded, new AuditUnavailableException("audit log closed"));
            closeFile();
            unlockDirectory();
            key.close();
            if (!closing) {
                // Only an Error gets here: say so, so that fail_closed sessions stop.
                failure = "audit writer thread stopped";
                ioHealthy = false;
            }
        }
    }

    /**
     * Pauses up to {@link #LINGER_NANOS} while records gather, without waiting on the queue: an
     * {@code offer} then wakes nobody. {@link #appendConfirmed} and close end it early; an
     * interrupt too, and the next poll then finishes the writer as usual.
     */
    private void lingerForMore() {
        if (!closing) {
            java.util.concurrent.locks.LockSupport.parkNanos(this, LINGER_NANOS);
        }
    }

    private void writeBatch(List<Entry> batch) {
        List<byte[]> pendingLines = new ArrayList<>(batch.size());
        List<Entry> pending = new ArrayList<>(batch.size());
        long tentativeSeq = seq;
        String tentativeHash = lastHash;
        long pendingBytes = 0;
        int index = 0;
        // One reading of the clock, and one rotation deadline, for the batch's rotation checks:
        // the batch is encoded in well under a millisecond, and a reading and an Instant.plus per
        // record were a sixth of the writer's samples. A file started inside the batch is created
        // at a later reading, so the deadline is taken again after each rotation.
        Instant now = clock.instant();
        boolean rotationDue = !now.isBefore(fileCreated.plus(config.rotationInterval()));
        try {
            for (; index < batch.size(); index++) {
                Entry entry = batch.get(index);
                if (rotationDue && recordsInFile + pending.size() > 1) {
                    commit(pendingLines, pending, pendingBytes, tentativeSeq, tentativeHash);
                    pendingLines.clear();
                    pending.clear();
                    pendingBytes = 0;
                    rotate(LogStart.Reason.ROTATION_TIME);
                    rotationDue = !now.isBefore(fileCreated.plus(config.rotationInterval()));
                    tentativeSeq = seq;
                    tentativeHash = lastHash;
                }
                AuditJson.Line line;
                try {
                    line = json.encode(entry.record(), tentativeSeq + 1, tentativeHash);
                } catch (RuntimeException e) {
                    // One record that cannot be encoded must not take the others down with it.
                    log.error("audit record of session {} could not be encoded: {}", entry.record().sessionId(),
                            e.toString());
                    fail(List.of(entry), new AuditUnavailableException("audit record could not be encoded", e));
                    continue;
                }
                boolean hasRecords = recordsInFile + pending.size() > 1;
                if (hasRecords && confirmedBytes + pendingBytes + line.bytes().length > config.maxFileBytes()) {
                    commit(pendingLines, pending, pendingBytes, tentativeSeq, tentativeHash);
                    pendingLines.clear();
                    pending.clear();
                    pendingBytes = 0;
                    rotate(LogStart.Reason.ROTATION_SIZE);
                    rotationDue = !now.isBefore(fileCreated.plus(config.rotationInterval()));
                    tentativeSeq = seq;
                    tentativeHash = lastHash;
                    line = json.encode(entry.record(), tentativeSeq + 1, tentativeHash);
                }
                pendingLines.add(line.bytes());
                pending.add(entry);
                pendingBytes += line.bytes().length;
                tentativeSeq = line.seq();
                tentativeHash = line.hash();
            }
            commit(pendingLines, pending, pendingBytes, tentativeSeq, tentativeHash);
        } catch (IOException | RuntimeException e) {
            List<Entry> failed = new ArrayList<>(pending);
            failed.addAll(batch.subList(index, batch.size()));
            onWriteError(e, failed);
        }
    }

    /** Writes the pending lines in one go, forces them, and only then moves the chain forward. */
    private void commit(List<byte[]> lines, List<Entry> entries, long bytes, long newSeq, String newHash)
            throws IOException {
        if (entries.isEmpty()) {
            return;
        }
        ByteBuffer buffer = batchBuffer(Math.toIntExact(bytes));
        for (byte[] line : lines) {
            buffer.put(line);
        }
        buffer.flip();
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
        if (config.sync() == AuditConfig.Sync.BATCH) {
            channel.force(false);
        }
        confirmedBytes += bytes;
        recordsInFile += entries.size();
        seq = newSeq;
        lastHash = newHash;
        lastRecordFile = currentFile.getFileName().toString();
        written.addAndGet(entries.size());
        for (Entry entry : entries) {
            if (entry.written() != null) {
                entry.written().complete(null);
            }
        }
    }

    /**
     * A cleared buffer for a batch of {@code bytes}: the writer's own direct buffer, kept between
     * batches, when the batch fits {@link #KEPT_BATCH_BUFFER_BYTES}. A new heap buffer per batch cost
     * an allocation and, inside {@code FileChannel.write}, a copy into a temporary direct buffer;
     * a rare larger batch still gets a buffer of its own so that the kept one stays small.
     */
    private ByteBuffer batchBuffer(int bytes) {
        if (bytes > KEPT_BATCH_BUFFER_BYTES) {
            return ByteBuffer.allocate(bytes);
        }
        if (keptBatchBuffer == null || keptBatchBuffer.capacity() < bytes) {
            keptBatchBuffer = ByteBuffer.allocateDirect(Math.min(KEPT_BATCH_BUFFER_BYTES,
                    Math.max(bytes, keptBatchBuffer == null ? 64 * 1024 : 2 * keptBatchBuffer.capacity())));
        }
        return keptBatchBuffer.clear();
    }

    private void rotate(LogStart.Reason reason) throws IOException {
        if (config.sync() == AuditConfig.Sync.BATCH) {
            channel.force(true);
        }
        channel.close();
        channel = null;
        createFile(new LogStart(reason, lastRecordFile, null, lost.get(), null));
    }

    /**
     * Starts a file with its log_start record: written to a temporary name, forced, renamed into
     * place, and the directory forced, so a file under its final name always starts complete.
     */
    private void createFile(LogStart start) throws IOException {
        Instant now = clock.instant();
        long reportedLost = start.lost();
        AuditJson.Line line = json.encode(start, now, seq + 1, lastHash);
        String name = LogFiles.name(line.seq(), now);
        Path target = config.directory().resolve(name);
        Path temporary = config.directory().resolve(name.substring(0, name.length() - LogFiles.SUFFIX.length())
                + LogFiles.TEMPORARY_SUFFIX);
        Files.deleteIfExists(temporary);
        try (FileChannel created = FileChannel.open(temporary, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer buffer = ByteBuffer.wrap(line.bytes());
            while (buffer.hasRemaining()) {
                created.write(buffer);
            }
            created.force(true);
        }
        Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE);
        // From here the record is part of the chain, whatever happens next.
        seq = line.seq();
        lastHash = line.hash();
        lastRecordFile = name;
        currentFile = target;
        confirmedBytes = line.bytes().length;
        recordsInFile = 1;
        fileCreated = now;
        lost.addAndGet(-reportedLost);
        forceDirectory();
        channel = FileChannel.open(target, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
    }

    /** A rename is durable only once the directory itself is forced (fsync(2) on the directory). */
    private void forceDirectory() throws IOException {
        try (FileChannel directory = FileChannel.open(config.directory(), StandardOpenOption.READ)) {
            directory.force(true);
        }
    }

    private void onWriteError(Exception e, List<Entry> failed) {
        failure = e.toString();
        if (ioHealthy) {
            log.error("audit log {} cannot write, refusing records until it can: {}", config.directory(), failure);
        }
        ioHealthy = false;
        nextRetryNanos = System.nanoTime() + config.retryInterval().toNanos();
        fail(failed, new AuditUnavailableException("audit write failed: " + failure, e));
    }

    private void fail(List<Entry> entries, AuditUnavailableException cause) {
        writeFailures.addAndGet(entries.size());
        lost.addAndGet(entries.size());
        for (Entry entry : entries) {
            if (entry.written() != null) {
                entry.written().completeExceptionally(cause);
            }
        }
    }

    /**
     * Continues the chain in a new file after an I/O error. Bytes the failed write left in the
     * current file beyond the last confirmed record are named in the new log_start as a torn tail.
     */
    private void recover() {
        closeFile();
        try {
            Torn torn = null;
            if (currentFile != null) {
                try {
                    long size = Files.size(currentFile);
                    if (size > confirmedBytes) {
                        torn = new Torn(currentFile.getFileName().toString(), confirmedBytes, size - confirmedBytes);
                    }
                } catch (NoSuchFileException gone) {
                    log.error("audit file {} disappeared; verification will report it missing", currentFile);
                }
            }
            createFile(new LogStart(LogStart.Reason.RECOVERY, lastRecordFile, torn, lost.get(),
                    "resumed after a write error: " + failure));
            ioHealthy = true;
            log.warn("audit log {} writes again, continuing in {}", config.directory(), currentFile.getFileName());
        } catch (IOException | RuntimeException e) {
            failure = e.toString();
            nextRetryNanos = System.nanoTime() + config.retryInterval().toNanos();
        }
    }

    private void closeFile() {
        if (channel == null) {
            return;
        }
        try {
            if (ioHealthy && config.sync() == AuditConfig.Sync.BATCH) {
                channel.force(true);
            }
        } catch (IOException e) {
            log.error("audit log {}: forcing {} at close failed: {}", config.directory(), currentFile, e.toString());
        }
        try {
            channel.close();
        } catch (IOException e) {
            log.error("audit log {}: closing {} failed: {}", config.directory(), currentFile, e.toString());
        }
        channel = null;
    }

    @Override
    public String toString() {
        return "AuditLog[" + config.directory() + ", " + key.algorithm() + "]";
    }
}
