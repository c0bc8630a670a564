package dev.pgpolicy.proxy.enforce;

import dev.pgpolicy.policy.testing.PolicySources;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reloads a {@link LivePolicy} when its directory changes, with the semantics of SIGHUP: compile,
 * run the {@code .pgtest} files, swap only when both succeed ({@link LivePolicy#reloadIfChanged()}).
 *
 * <p>Change detection is the kernel's (inotify through {@link WatchService}), registered on the
 * directory and every subdirectory, including ones created later. A directory is registered
 * before it is listed, so a subdirectory created meanwhile is either listed or reported by an
 * event of its own; and once a burst has settled, before the digest is read, the whole tree is
 * registered again, which also watches a directory whose creation event was lost
 * ({@code OVERFLOW}). Any event in the tree only
 * marks the directory dirty; what decides a reload is the digest of the {@code *.pgpolicy} and
 * {@code *.pgtest} files, compared once the tree has been quiet for {@link #QUIET_PERIOD}. So an
 * editor's temporary files and swap files reload nothing, a file saved in several steps (truncate,
 * write, rename) or a {@code git checkout} of many files reloads once, with the final content, and
 * a change made by renaming a directory or swapping a symbolic link is seen although no file name
 * matches.
 *
 * <p>Every {@link #ROOT_CHECK_INTERVAL} the watcher also checks that the directory is still the
 * one it watches (a directory replaced by a rename keeps the watch on the old one) and registers
 * again when it is not. When the kernel refuses a watch (inotify limits reached), the watcher polls
 * the digest every {@link #POLL_INTERVAL} instead and says so in the log; a file system that
 * reports no events at all (NFS, some container bind mounts) needs SIGHUP or {@code POST /reload}.
 */
public final class PolicyDirectoryWatcher implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(PolicyDirectoryWatcher.class);

    /**
     * How long the tree must stay quiet before the digest is compared: long enough to cover the
     * steps of one save and a checkout of many files, short enough to feel immediate.
     */
    public static final Duration QUIET_PERIOD = Duration.ofMillis(500);
    /** A tree that never goes quiet (a log file written inside it) is still checked this often. */
    static final Duration MAX_DELAY = Duration.ofSeconds(10);
    /** How often the watched directory is checked to be the one at the configured path. */
    static final Duration ROOT_CHECK_INTERVAL = Duration.ofSeconds(2);
    /** The digest poll when the kernel refuses watches; the digest of a policy set costs microseconds. */
    static final Duration POLL_INTERVAL = Duration.ofSeconds(1);

    private final LivePolicy policy;
    private final Path directory;
    private final Consumer<LivePolicy.Outcome> onReload;
    private final Duration quietPeriod;
    private final CountDownLatch closed = new CountDownLatch(1);
    private final Thread thread;
    /** Touched only by {@link #thread} (and by {@link #close()}, which only closes it). */
    private volatile WatchService watchService;
    private final Map<WatchKey, Path> watched = new HashMap<>();
    /** Whether the directory existed when last looked at, and its identity (device and inode on Linux) then. */
    private boolean rootPresent;
    private Object rootKey;

    private PolicyDirectoryWatcher(LivePolicy policy, Consumer<LivePolicy.Outcome> onReload, Duration quietPeriod) {
        this.policy = Objects.requireNonNull(policy);
        this.directory = policy.directory();
        this.onReload = Objects.requireNonNull(onReload);
        this.quietPeriod = Objects.requireNonNull(quietPeriod);
        this.thread = new Thread(this::run, "pgpolicy-policy-watch");
        this.thread.setDaemon(true);
    }

    /**
     * Starts watching {@code policy}'s directory; {@code onReload} hears the outcome of every
     * reload the watcher starts (for the reload metric), on the watcher's thread.
     */
    public static PolicyDirectoryWatcher start(LivePolicy policy, Consumer<LivePolicy.Outcome> onReload) {
        return start(policy, onReload, QUIET_PERIOD);
    }

    static PolicyDirectoryWatcher start(LivePolicy policy, Consumer<LivePolicy.Outcome> onReload, Duration quietPeriod) {
        return start(policy, onReload, quietPeriod, true);
    }

    /** With {@code kernelEvents} false the watcher polls the digest, as it does when the kernel refuses watches. */
    static PolicyDirectoryWatcher start(LivePolicy policy, Consumer<LivePolicy.Outcome> onReload, Duration quietPeriod,
            boolean kernelEvents) {
        PolicyDirectoryWatcher watcher = new PolicyDirectoryWatcher(policy, onReload, quietPeriod);
        if (!kernelEvents) {
            watcher.fallBackToPolling(new IOException("kernel events not used"));
            watcher.thread.start();
            return watcher;
        }
        try {
            watcher.watchService = FileSystems.getDefault().newWatchService();
            watcher.registerTree();
            LOG.info("watching {} ({} director{}) for policy changes", PolicySources.display(watcher.directory),
                    watcher.watched.size(), watcher.watched.size() == 1 ? "y" : "ies");
        } catch (IOException | UncheckedIOException | SecurityException e) {
            watcher.fallBackToPolling(e);
        }
        // Changes made between the load and the registration above have no event: compare once,
        // here rather than on the watcher's thread, so that it cannot read a change that has
        // events of its own half-way through (and reload a half-written set before the burst settles).
        watcher.check();
        watcher.thread.start();
        return watcher;
    }

    /** Stops watching; waits for a reload in progress to finish, so the caller may then close what it uses. */
    @Override
    public void close() {
        closed.countDown();
        closeWatchService();
        try {
            thread.join(TimeUnit.SECONDS.toMillis(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void run() {
        boolean dirty = false;
        long firstChange = 0;
        long lastChange = 0;
        long nextRootCheck = System.nanoTime() + ROOT_CHECK_INTERVAL.toNanos();
        while (closed.getCount() > 0) {
            try {
                WatchService service = watchService;
                if (service == null) {
                    if (closed.await(POLL_INTERVAL.toMillis(), TimeUnit.MILLISECONDS)) {
                        return;
                    }
                    check();
                    continue;
                }
                long now = System.nanoTime();
                if (dirty && now - settled(firstChange, lastChange) >= 0) {
                    dirty = false;
                    // Before the digest is read: a directory that appears after this has an event.
                    registerAgain();
                    check();
                    continue;
                }
                if (now - nextRootCheck >= 0) {
                    nextRootCheck = now + ROOT_CHECK_INTERVAL.toNanos();
                    if (rootReplaced()) {
                        firstChange = dirty ? firstChange : now;
                        lastChange = now;
                        dirty = true;
                    }
                    continue;
                }
                long wait = (dirty ? Math.min(nextRootCheck, settled(firstChange, lastChange)) : nextRootCheck) - now;
                WatchKey key = service.poll(Math.max(wait, 0), TimeUnit.NANOSECONDS);
                if (key == null) {
                    continue;
                }
                handle(key);
                now = System.nanoTime();
                if (!dirty) {
                    dirty = true;
                    firstChange = now;
                }
                lastChange = now;
            } catch (ClosedWatchServiceException e) {
                if (closed.getCount() == 0) {
                    return;
                }
                fallBackToPolling(e);
            } catch (InterruptedException e) {
                return;
            } catch (IOException | UncheckedIOException e) {
                fallBackToPolling(e);
            } catch (RuntimeException e) {
                // The watcher must outlive anything one event can throw, or reloads would silently stop.
                LOG.error("policy watch on {}: unexpected error; continuing", PolicySources.display(directory), e);
            }
        }
    }

    /** When a burst of changes counts as settled: quiet since the last one, or going on for too long. */
    private long settled(long firstChange, long lastChange) {
        return Math.min(lastChange + quietPeriod.toNanos(), firstChange + MAX_DELAY.toNanos());
    }

    /** Compares the digest and reloads when it changed; the outcome is logged by {@link LivePolicy}. */
    private void check() {
        if (closed.getCount() == 0) {
            return;
        }
        try {
            policy.reloadIfChanged().ifPresent(onReload);
        } catch (RuntimeException e) {
            LOG.error("policy reload of {} after a file change failed; the previous set stays in force",
                    PolicySources.display(directory), e);
            onReload.accept(new LivePolicy.Outcome(false, policy.revision(), List.of("reload failed: " + e)));
        }
    }

    /** Drains one directory's events, registering new subdirectories; any event marks the tree dirty. */
    private void handle(WatchKey key) throws IOException {
        Path parent = watched.get(key);
        for (WatchEvent<?> event : key.pollEvents()) {
            // OVERFLOW (events were lost) needs nothing here: it marks the tree dirty, and the
            // settled tree is registered again before its digest is read.
            if (event.kind() == StandardWatchEventKinds.ENTRY_CREATE && parent != null
                    && event.context() instanceof Path name) {
                Path child = parent.resolve(name);
                if (Files.isDirectory(child, LinkOption.NOFOLLOW_LINKS)) {
                    registerSubtree(child, watched);
                }
            }
        }
        if (!key.reset()) {
            // The directory is gone (deleted or renamed away); its parent's event marks the change.
            watched.remove(key);
        }
    }

    /** Watches the directory the path names now, and nothing of the one it named before. */
    private void registerTree() throws IOException {
        rootKey = Files.readAttributes(directory, BasicFileAttributes.class).fileKey();
        rootPresent = true;
        replaceWatches();
    }

    /**
     * Registers every directory of the tree again. Registering a directory already watched costs
     * one system call and keeps its key, so this is cheap; what it adds is a directory that has no
     * watch (its creation event lost in an {@code OVERFLOW}, or missed in a way not foreseen here,
     * which the log then shows). A directory moved out of the tree stops being watched, so changes
     * outside the tree no longer count as changes to it.
     */
    private void registerAgain() throws IOException {
        int before = watched.size();
        Map<WatchKey, Path> previous = Map.copyOf(watched);
        replaceWatches();
        long added = watched.keySet().stream().filter(key -> !previous.containsKey(key)).count();
        if (added > 0) {
            LOG.info("policy watch on {}: {} of {} director{} had no watch (events lost); "
                    + "watching them now", PolicySources.display(directory), added, watched.size(),
                    watched.size() == 1 ? "y" : "ies");
        } else if (watched.size() != before) {
            LOG.debug("policy watch on {}: {} directories watched, {} before", PolicySources.display(directory),
                    watched.size(), before);
        }
    }

    private void replaceWatches() throws IOException {
        Map<WatchKey, Path> current = new HashMap<>();
        registerSubtree(directory, current);
        for (WatchKey key : watched.keySet()) {
            if (!current.containsKey(key)) {
                key.cancel();
            }
        }
        watched.clear();
        watched.putAll(current);
    }

    /**
     * Registers {@code start} and every directory under it, each before listing it: a subdirectory
     * created after the listing then has an event in a watched directory, one created before is in
     * the listing. (Listing first and registering afterwards, as a walk does, misses one created in
     * between for good, with all it will ever contain.) Symbolic links are not followed, as
     * {@link PolicySources} does not follow them when it collects the files.
     */
    private void registerSubtree(Path start, Map<WatchKey, Path> into) throws IOException {
        WatchService service = watchService;
        if (service == null) {
            return;
        }
        Deque<Path> pending = new ArrayDeque<>();
        pending.push(start);
        while (!pending.isEmpty()) {
            Path dir = pending.pop();
            try {
                into.put(dir.register(service, StandardWatchEventKinds.ENTRY_CREATE,
                        StandardWatchEventKinds.ENTRY_DELETE, StandardWatchEventKinds.ENTRY_MODIFY), dir);
                try (DirectoryStream<Path> children = Files.newDirectoryStream(dir)) {
                    for (Path child : children) {
                        if (Files.isDirectory(child, LinkOption.NOFOLLOW_LINKS)) {
                            pending.push(child);
                        }
                    }
                }
            } catch (NoSuchFileException | NotDirectoryException e) {
                // Removed (or replaced by a file) since it was seen: its parent's event reports that.
            }
        }
    }

    /**
     * Whether the path now names another directory than the one registered, or none, or names one
     * again; the watch then moves to what the path names. Without a file key (some file systems)
     * only a directory that disappears or comes back is noticed.
     */
    private boolean rootReplaced() throws IOException {
        Object current;
        try {
            current = Files.readAttributes(directory, BasicFileAttributes.class).fileKey();
        } catch (NoSuchFileException e) {
            if (!rootPresent) {
                return false;
            }
            LOG.warn("policy directory {} is gone; the policy set in force stays until it is back",
                    PolicySources.display(directory));
            for (WatchKey key : watched.keySet()) {
                key.cancel();
            }
            watched.clear();
            rootPresent = false;
            return true;
        }
        if (rootPresent && Objects.equals(current, rootKey)) {
            return false;
        }
        LOG.info("policy directory {} {}; watching it again", PolicySources.display(directory),
                rootPresent ? "was replaced" : "is back");
        registerTree();
        return true;
    }

    private void fallBackToPolling(Exception cause) {
        closeWatchService();
        if (closed.getCount() > 0) {
            LOG.warn("cannot watch {} for changes ({}); comparing its digest every {} ms instead",
                    PolicySources.display(directory), cause.toString(), POLL_INTERVAL.toMillis());
        }
    }

    private void closeWatchService() {
        WatchService service = watchService;
        watchService = null;
        if (service != null) {
            try {
                service.close();
            } catch (IOException e) {
                LOG.debug("closing the policy watch service: {}", e.toString());
            }
        }
    }
}
