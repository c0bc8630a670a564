package dev.pgpolicy.proxy.admin;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What the admin endpoint needs from the live policy set: {@code GET /policy} shows {@link
 * #describe()}, {@code POST /reload} calls {@link #reload()}. Implemented by the enforcement code
 * that owns the set; without {@code --policies} there is none and both endpoints say so.
 */
public interface PolicyControl {

    /** The revision in force: Git commit when the directory is a checkout, plus a content digest. */
    String revision();

    /** A JSON-ready description of the set in force (revision, directory, files, rule count, loaded at). */
    Map<String, Object> describe();

    /**
     * Compiles the policy directory and runs its {@code .pgtest} files; swaps the new set in only
     * if both succeed. Blocks until done; the admin endpoint calls it off the event loops.
     */
    ReloadOutcome reload();

    /**
     * @param succeeded whether the new set is now in force
     * @param revision the revision in force after the attempt (the old one when it failed)
     * @param diagnostics compiler diagnostics ({@code file:line:col: message}) and failed tests
     */
    record ReloadOutcome(boolean succeeded, String revision, List<String> diagnostics) {
        public ReloadOutcome {
            Objects.requireNonNull(revision, "revision");
            diagnostics = List.copyOf(diagnostics);
        }
    }
}
