package dev.pgpolicy.proxy.identity;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The live users file: an immutable {@link UsersFile} snapshot behind an {@link AtomicReference},
 * read lock-free by every authentication. {@link #reload()} validates the file again and swaps the
 * snapshot only when it has no error; on error the old snapshot stays and the diagnostics are
 * returned and logged. A successful reload reports which users were removed or changed, so the
 * proxy can end their sessions (a removed user must not keep a session open).
 */
public final class UserDirectory {
    private static final Logger log = LoggerFactory.getLogger(UserDirectory.class);

    /** The outcome of a reload. */
    public sealed interface ReloadResult permits Applied, Rejected {
    }

    /**
     * The new file is live. {@code changed} holds users whose entry or upstream account differ
     * (verifier, groups, auth, mapping or the account's credentials): their sessions were
     * authenticated under rules that no longer hold.
     */
    public record Applied(UsersFile snapshot, Set<String> added, Set<String> removed, Set<String> changed,
                          List<Diagnostic> warnings) implements ReloadResult {
        public Applied {
            added = Set.copyOf(added);
            removed = Set.copyOf(removed);
            changed = Set.copyOf(changed);
            warnings = List.copyOf(warnings);
        }

        public boolean unchanged() {
            return added.isEmpty() && removed.isEmpty() && changed.isEmpty();
        }
    }

    /** The file was refused; the previous snapshot is still live. */
    public record Rejected(List<Diagnostic> diagnostics) implements ReloadResult {
        public Rejected {
            diagnostics = List.copyOf(diagnostics);
        }
    }

    private final Path file;
    private final Function<String, String> environment;
    private final AtomicReference<UsersFile> current;
    private final List<Consumer<Applied>> listeners = new CopyOnWriteArrayList<>();

    private UserDirectory(Path file, Function<String, String> environment, UsersFile initial) {
        this.file = file;
        this.environment = environment;
        this.current = new AtomicReference<>(initial);
    }

    /** Loads the file; at start-up any error is fatal, so it propagates. */
    public static UserDirectory load(Path file) throws UsersFileException {
        return load(file, System::getenv);
    }

    public static UserDirectory load(Path file, Function<String, String> environment) throws UsersFileException {
        UsersFile initial = UsersFile.load(file, environment);
        initial.warnings().forEach(w -> log.warn("{}", w));
        log.info("users file {} loaded: {} users, {} accounts", file, initial.users().size(), initial.accounts().size());
        return new UserDirectory(file, environment, initial);
    }

    public UsersFile current() {
        return current.get();
    }

    public Optional<UserEntry> user(String name) {
        return current.get().user(name);
    }

    /** Called after each applied reload that changed something (from the reloading thread). */
    public void onChange(Consumer<Applied> listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
    }

    /** Re-reads the file; serialised, so two reloads never interleave their swaps. */
    public synchronized ReloadResult reload() {
        UsersFile next;
        try {
            next = UsersFile.load(file, environment);
        } catch (UsersFileException e) {
            log.error("users file {} not reloaded; keeping the previous version ({} problems):", file,
                    e.diagnostics().size());
            e.diagnostics().forEach(d -> log.error("{}", d));
            return new Rejected(e.diagnostics());
        }
        UsersFile previous = current.getAndSet(next);
        Applied applied = difference(previous, next);
        next.warnings().forEach(w -> log.warn("{}", w));
        if (applied.unchanged()) {
            log.info("users file {} reloaded: no change", file);
            return applied;
        }
        log.info("users file {} reloaded: {} users; added {}, removed {}, changed {}", file, next.users().size(),
                new TreeSet<>(applied.added()), new TreeSet<>(applied.removed()), new TreeSet<>(applied.changed()));
        for (Consumer<Applied> listener : listeners) {
            try {
                listener.accept(applied);
            } catch (RuntimeException e) {
                log.error("users file reload listener failed", e);
            }
        }
        return applied;
    }

    static Applied difference(UsersFile previous, UsersFile next) {
        Set<String> added = new TreeSet<>(next.users().keySet());
        added.removeAll(previous.users().keySet());
        Set<String> removed = new TreeSet<>(previous.users().keySet());
        removed.removeAll(next.users().keySet());
        Set<String> changed = new TreeSet<>();
        for (Map.Entry<String, UserEntry> entry : next.users().entrySet()) {
            UserEntry before = previous.users().get(entry.getKey());
            if (before == null) {
                continue;
            }
            UserEntry after = entry.getValue();
            if (!before.equals(after)
                    || !previous.accountFor(before).equals(next.accountFor(after))) {
                changed.add(entry.getKey());
            }
        }
        return new Applied(next, added, removed, changed, next.warnings());
    }

    @Override
    public String toString() {
        return "UserDirectory[" + current.get() + "]";
    }
}
