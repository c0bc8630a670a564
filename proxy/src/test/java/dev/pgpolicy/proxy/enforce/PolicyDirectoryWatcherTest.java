package dev.pgpolicy.proxy.enforce;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgpolicy.policy.testing.PolicyTestRunner;
import dev.pgpolicy.sql.SqlAnalyzer;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reload on a file change: digest comparison, debouncing, recursion into new directories. */
class PolicyDirectoryWatcherTest {

    private static final String BASE = "allow any session;\nallow any select on public.*;\n";
    private static final String BASE_TEST = """
            test "deletes are denied by default" {
              as user "ana";
              query "DELETE FROM public.t";
              expect deny;
            }
            """;

    @TempDir
    Path root;
    private Path policies;

    private SqlAnalyzer analyzer;
    private LivePolicy live;

    @BeforeEach
    void load() throws Exception {
        policies = Files.createDirectory(root.resolve("policies"));
        Files.writeString(policies.resolve("base.pgpolicy"), BASE);
        Files.writeString(policies.resolve("base.pgtest"), BASE_TEST);
        analyzer = PolicyTestRunner.offlineAnalyzer();
        live = LivePolicy.load(policies, analyzer);
    }

    @AfterEach
    void close() {
        analyzer.close();
    }

    @Test
    void onlyAChangedDigestReloadsAndARefusedSetIsNotRetriedUntilItChanges() throws Exception {
        assertThat(live.reloadIfChanged()).isEmpty();
        Files.writeString(policies.resolve("base.pgpolicy"), BASE); // same bytes, new modification time
        Files.writeString(policies.resolve("notes.txt"), "not a policy file");
        assertThat(live.reloadIfChanged()).isEmpty();

        // A test file is part of the digest although it is not part of the revision.
        Files.writeString(policies.resolve("more.pgtest"), BASE_TEST.replace("deletes are", "deletes still are"));
        String revision = live.revision().toString();
        assertThat(live.reloadIfChanged()).hasValueSatisfying(outcome -> assertThat(outcome.loaded()).isTrue());
        assertThat(live.revision().toString()).isEqualTo(revision);
        assertThat(live.reloadIfChanged()).isEmpty();

        Files.writeString(policies.resolve("broken.pgpolicy"), "deny any select on ;\n");
        assertThat(live.reloadIfChanged()).hasValueSatisfying(outcome -> {
            assertThat(outcome.loaded()).isFalse();
            assertThat(outcome.problems()).anySatisfy(p -> assertThat(p).contains("broken.pgpolicy:1:"));
        });
        assertThat(live.reloadIfChanged()).isEmpty();
        // An explicit reload (SIGHUP, POST /reload) always tries again.
        assertThat(live.reload().loaded()).isFalse();

        // Undoing the change restores the digest the last successful load saw, but the last attempt read another.
        Files.delete(policies.resolve("broken.pgpolicy"));
        assertThat(live.reloadIfChanged()).hasValueSatisfying(outcome -> assertThat(outcome.loaded()).isTrue());
    }

    @Test
    void aBurstOfChangesReloadsOnceAndNewSubdirectoriesAreWatched() throws Exception {
        BlockingQueue<LivePolicy.Outcome> reloads = new LinkedBlockingQueue<>();
        // Longer than production's 500 ms: on a loaded test machine the burst itself may stall.
        Duration quiet = Duration.ofMillis(1500);
        try (PolicyDirectoryWatcher watcher = PolicyDirectoryWatcher.start(live, reloads::add, quiet)) {
            // A checkout-like burst: a new nested directory and many files, each written in two steps.
            long burstStart = System.nanoTime();
            Path team = Files.createDirectories(policies.resolve("teams/billing"));
            for (int i = 0; i < 20; i++) {
                Path file = team.resolve("rule-" + i + ".pgpolicy");
                Files.writeString(file, "");
                Files.writeString(file, "@id(\"billing-" + i + "\")\ndeny any delete on billing.t" + i + ";\n");
            }
            Duration burst = Duration.ofNanos(System.nanoTime() - burstStart);
            LivePolicy.Outcome first = reloads.poll(30, TimeUnit.SECONDS);
            assertThat(first).as("no reload after the burst").isNotNull();
            assertThat(first.loaded()).as(first.problems().toString()).isTrue();
            assertThat(live.set().ruleIds()).as("the burst took %s", burst).contains("billing-0", "billing-19");
            // Once: nothing more comes once the burst has settled.
            assertThat(reloads.poll(quiet.toMillis() * 2, TimeUnit.MILLISECONDS)).isNull();

            // The nested directory registered during the burst reports a change inside it.
            Files.writeString(team.resolve("rule-3.pgpolicy"), "@id(\"billing-3-changed\")\ndeny any delete on billing.t3;\n");
            assertThat(reloads.poll(30, TimeUnit.SECONDS)).isNotNull().extracting(LivePolicy.Outcome::loaded).isEqualTo(true);
            assertThat(live.set().ruleIds()).contains("billing-3-changed").doesNotContain("billing-3");

            // A rename out of the set (as `git mv` or an editor's save-as) and a deletion.
            Files.move(team.resolve("rule-4.pgpolicy"), team.resolve("rule-4.pgpolicy.disabled"),
                    StandardCopyOption.ATOMIC_MOVE);
            Files.delete(team.resolve("rule-5.pgpolicy"));
            assertThat(reloads.poll(30, TimeUnit.SECONDS)).isNotNull().extracting(LivePolicy.Outcome::loaded).isEqualTo(true);
            assertThat(live.set().ruleIds()).doesNotContain("billing-4", "billing-5").contains("billing-6");

            // A broken file is refused, the set in force stays, and the outcome reaches the listener.
            String revision = live.revision().toString();
            Files.writeString(team.resolve("rule-6.pgpolicy"), "deny any delete on ;\n");
            LivePolicy.Outcome refused = reloads.poll(30, TimeUnit.SECONDS);
            assertThat(refused).isNotNull();
            assertThat(refused.loaded()).isFalse();
            assertThat(refused.problems()).anySatisfy(p -> assertThat(p).contains("rule-6.pgpolicy:1:"));
            assertThat(live.revision().toString()).isEqualTo(revision);
        }
        // Closed: no reload follows a change any more.
        Files.writeString(policies.resolve("late.pgpolicy"), "@id(\"late\")\ndeny any delete on late.t;\n");
        assertThat(reloads.poll(quiet.toMillis() * 2, TimeUnit.MILLISECONDS)).isNull();
        assertThat(live.set().ruleIds()).doesNotContain("late");
    }

    /**
     * A checkout creates a directory and the directories inside it at once, while the watcher
     * registers the first of them: every directory of the burst must be watched once it settles,
     * however the creations interleave with the registrations. Each round creates a chain, lets it
     * settle, then changes a file in its deepest directory, which must reload. The rounds repeat
     * because one interleaving is down to the scheduler; {@code -Dpgpolicy.test.watcherRounds=500}
     * runs more of them.
     */
    @Test
    void everyDirectoryCreatedInABurstIsWatched() throws Exception {
        int rounds = Integer.getInteger("pgpolicy.test.watcherRounds", 12);
        BlockingQueue<LivePolicy.Outcome> reloads = new LinkedBlockingQueue<>();
        int missed = 0;
        try (PolicyDirectoryWatcher watcher = PolicyDirectoryWatcher.start(live, reloads::add, Duration.ofMillis(50))) {
            for (int round = 0; round < rounds; round++) {
                String created = "created-" + round;
                String changed = "changed-" + round;
                Path chain = policies.resolve("round-" + round);
                Path leaf = Files.createDirectories(chain.resolve("a/b/c/d"));
                Files.writeString(leaf.resolve("leaf.pgpolicy"), denyRule(created));
                awaitRuleIds(reloads, ids -> ids.contains(created), "the burst of " + chain.getFileName());

                Files.writeString(leaf.resolve("leaf.pgpolicy"), denyRule(changed));
                if (!pollRuleIds(reloads, ids -> ids.contains(changed), Duration.ofSeconds(30))) {
                    missed++;
                    live.reload();
                }
                deleteTree(chain);
                awaitRuleIds(reloads, ids -> !ids.contains(changed), "the removal of " + chain.getFileName());
            }
        }
        assertThat(missed).as("rounds whose new directory was not watched, of %d", rounds).isZero();
    }

    /**
     * The kernel's watch follows a directory renamed inside the tree, while the events name
     * entries relative to it: a directory created in the renamed one is found under the new name.
     */
    @Test
    void aDirectoryCreatedInARenamedDirectoryIsWatched() throws Exception {
        BlockingQueue<LivePolicy.Outcome> reloads = new LinkedBlockingQueue<>();
        Path teams = Files.createDirectory(policies.resolve("teams"));
        try (PolicyDirectoryWatcher watcher = PolicyDirectoryWatcher.start(live, reloads::add, Duration.ofMillis(100))) {
            Path squads = Files.move(teams, policies.resolve("squads"), StandardCopyOption.ATOMIC_MOVE);
            Files.writeString(squads.resolve("squad.pgpolicy"), denyRule("squad"));
            awaitRuleIds(reloads, ids -> ids.contains("squad"), "the rename");

            Path billing = Files.createDirectory(squads.resolve("billing"));
            Files.writeString(billing.resolve("billing.pgpolicy"), denyRule("billing"));
            awaitRuleIds(reloads, ids -> ids.contains("billing"), "a new directory in the renamed one");

            Files.writeString(billing.resolve("billing.pgpolicy"), denyRule("billing-changed"));
            awaitRuleIds(reloads, ids -> ids.contains("billing-changed"), "a change in that directory");
        }
    }

    /**
     * Every watcher holds one inotify instance, and the kernel allows few per user
     * ({@code fs.inotify.max_user_instances}, often 128) on a machine where other processes watch
     * too: closing a watcher, including one whose directory was replaced, must give its instance back.
     */
    @Test
    void aClosedWatcherHoldsNoInotifyInstance() throws Exception {
        Path descriptors = Path.of("/proc/self/fd");
        Assumptions.assumeTrue(Files.isDirectory(descriptors), "counts the open inotify instances in /proc");
        long before = inotifyInstances(descriptors);
        BlockingQueue<LivePolicy.Outcome> reloads = new LinkedBlockingQueue<>();
        for (int i = 0; i < 2; i++) {
            try (PolicyDirectoryWatcher watcher = PolicyDirectoryWatcher.start(live, reloads::add, Duration.ofMillis(50))) {
                assertThat(inotifyInstances(descriptors)).isEqualTo(before + 1);
                Path staged = Files.createDirectory(root.resolve("staged-" + i));
                Files.writeString(staged.resolve("base.pgpolicy"), BASE + denyRule("swapped-" + i));
                Files.move(policies, root.resolve("old-" + i), StandardCopyOption.ATOMIC_MOVE);
                Files.move(staged, policies, StandardCopyOption.ATOMIC_MOVE);
                String swapped = "swapped-" + i;
                awaitRuleIds(reloads, ids -> ids.contains(swapped), "the directory was replaced");
                assertThat(inotifyInstances(descriptors)).isEqualTo(before + 1);
            }
        }
        assertThat(inotifyInstances(descriptors)).isEqualTo(before);
    }

    private static long inotifyInstances(Path descriptors) throws IOException {
        long count = 0;
        try (DirectoryStream<Path> open = Files.newDirectoryStream(descriptors)) {
            for (Path descriptor : open) {
                try {
                    if (Files.readSymbolicLink(descriptor).toString().contains("inotify")) {
                        count++;
                    }
                } catch (NoSuchFileException e) {
                    // Closed since the listing (the listing's own descriptor among them).
                }
            }
        }
        return count;
    }

    private static String denyRule(String id) {
        return "@id(\"" + id + "\")\ndeny any delete on public.t;\n";
    }

    private void awaitRuleIds(BlockingQueue<LivePolicy.Outcome> reloads, Predicate<List<String>> expected, String what)
            throws InterruptedException {
        assertThat(pollRuleIds(reloads, expected, Duration.ofSeconds(30))).as("no reload after " + what).isTrue();
    }

    /** Takes reloads until the set in force satisfies {@code expected}; a burst may settle in more than one. */
    private boolean pollRuleIds(BlockingQueue<LivePolicy.Outcome> reloads, Predicate<List<String>> expected,
            Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!expected.test(live.set().ruleIds())) {
            LivePolicy.Outcome outcome = reloads.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
            if (outcome == null) {
                return false;
            }
            assertThat(outcome.loaded()).as(outcome.problems().toString()).isTrue();
        }
        return true;
    }

    private static void deleteTree(Path start) throws IOException {
        try (Stream<Path> walk = Files.walk(start)) {
            for (Path path : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        }
    }

    @Test
    void withoutKernelEventsTheDigestIsPolled() throws Exception {
        BlockingQueue<LivePolicy.Outcome> reloads = new LinkedBlockingQueue<>();
        try (PolicyDirectoryWatcher watcher = PolicyDirectoryWatcher.start(live, reloads::add, Duration.ofMillis(200), false)) {
            Path nested = Files.createDirectories(policies.resolve("a/b"));
            Files.writeString(nested.resolve("deep.pgpolicy"), "@id(\"deep\")\ndeny any delete on public.deep;\n");
            LivePolicy.Outcome outcome = reloads.poll(30, TimeUnit.SECONDS);
            assertThat(outcome).as("the poll saw no change").isNotNull();
            assertThat(outcome.loaded()).as(outcome.problems().toString()).isTrue();
            assertThat(live.set().ruleIds()).contains("deep");
            // Nothing changed since: several polls later there was no further attempt.
            assertThat(reloads.poll(PolicyDirectoryWatcher.POLL_INTERVAL.toMillis() * 3, TimeUnit.MILLISECONDS)).isNull();
        }
    }

    @Test
    void aDirectoryReplacedByARenameIsWatchedAgain() throws Exception {
        BlockingQueue<LivePolicy.Outcome> reloads = new LinkedBlockingQueue<>();
        try (PolicyDirectoryWatcher watcher = PolicyDirectoryWatcher.start(live, reloads::add, Duration.ofMillis(200))) {
            Path staged = Files.createDirectory(policies.resolveSibling(policies.getFileName() + ".next"));
            Files.writeString(staged.resolve("base.pgpolicy"), BASE + "@id(\"swapped\")\ndeny any delete on public.t;\n");
            Files.writeString(staged.resolve("base.pgtest"), BASE_TEST);
            Path old = policies.resolveSibling(policies.getFileName() + ".old");
            Files.move(policies, old, StandardCopyOption.ATOMIC_MOVE);
            Files.move(staged, policies, StandardCopyOption.ATOMIC_MOVE);
            LivePolicy.Outcome outcome = reloads.poll(30, TimeUnit.SECONDS);
            assertThat(outcome).as("no reload after the directory was replaced").isNotNull();
            assertThat(outcome.loaded()).as(outcome.problems().toString()).isTrue();
            assertThat(live.set().ruleIds()).contains("swapped");

            // The new directory's own changes are seen too.
            Files.writeString(policies.resolve("extra.pgpolicy"), "@id(\"extra\")\ndeny any delete on public.u;\n");
            assertThat(reloads.poll(30, TimeUnit.SECONDS)).isNotNull();
            assertThat(live.set().ruleIds()).contains("extra");
        }
    }
}
