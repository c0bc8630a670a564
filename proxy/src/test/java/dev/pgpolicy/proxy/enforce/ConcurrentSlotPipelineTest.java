package dev.pgpolicy.proxy.enforce;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgpolicy.proxy.embedded.EmbeddedPostgres;
import dev.pgpolicy.proxy.session.SessionInfo;
import dev.pgpolicy.proxy.testing.BackendMessage;
import dev.pgpolicy.proxy.testing.Frames;
import dev.pgpolicy.proxy.testing.RawSocket;
import dev.pgpolicy.proxy.testing.Resources;
import dev.pgpolicy.proxy.wire.Bind;
import dev.pgpolicy.proxy.wire.Execute;
import dev.pgpolicy.proxy.wire.Parse;
import dev.pgpolicy.proxy.wire.Sync;
import dev.pgpolicy.proxy.wire.WireMessage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code concurrent 1 per user} against pipelining clients on a raw socket, where the test decides
 * what is in flight: a slot belongs to the request it was taken for. The statement a client
 * pipelined behind another is held after its decision (a gate in the decision listener, as
 * {@code audit.fail_closed} holds statements) until the ReadyForQuery of the statement before it
 * has passed; it must still hold the slot when it then runs, so that a second session of the user
 * is refused while it runs, and the count must be back at zero once every request is answered or
 * the session is gone.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConcurrentSlotPipelineTest {

    private static final String USER = "slots_raw";
    /** Marks the statement the gate holds back; it sleeps long enough to be seen running. */
    private static final String GATED = "SELECT 'gated', pg_sleep(3)";
    private static final String GATED_PORTAL = "gated";
    private static final String FIRST = "SELECT 'first', pg_sleep(0.3)";
    private static final Duration WAIT = Duration.ofSeconds(20);

    private EmbeddedPostgres postgres;
    private PolicyProxy proxy;
    private final Gate gate = new Gate();
    private final List<RawSocket> sockets = new ArrayList<>();

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        postgres = EmbeddedPostgres.builder().hbaRule("host all " + USER + " 127.0.0.1/32 trust").start();
        postgres.createRole(USER, null);
        postgres.execute("postgres", "CREATE TABLE slots_sink (v int); GRANT ALL ON slots_sink TO " + USER + ";");
        Path policies = Files.createDirectories(dir.resolve("policies"));
        Files.writeString(policies.resolve("limits.pgpolicy"), """
                allow any all;
                deny any delete on slots_sink;
                limit any { concurrent 1 per user; }
                """);
        proxy = PolicyProxy.start(postgres, policies, gate);
    }

    @AfterAll
    void stop() {
        Resources.closeAll(proxy, postgres);
    }

    @BeforeEach
    void closeTheGate() {
        gate.close();
    }

    @AfterEach
    void noSlotLeftOver() throws InterruptedException {
        gate.open();
        sockets.forEach(RawSocket::close);
        sockets.clear();
        awaitSlotsHeld(0);
    }

    /**
     * Query 1 runs with the slot; Query 2, pipelined behind it, is allowed and held at the gate
     * when Query 1's ReadyForQuery passes. That ReadyForQuery is not Query 2's: the slot stays.
     */
    @Test
    void aSimpleQueryPipelinedBehindAnotherKeepsItsSlotPastTheEarlierReadyForQuery() throws Exception {
        RawSocket pipelining = session();
        pipelining.write(Frames.concat(Frames.query(FIRST), Frames.query(GATED), Frames.query("SELECT 'third'")));
        gate.awaitReached();
        assertThat(readReply(pipelining).sqlState()).isNull(); // Query 1 done, Query 2 still at the gate
        assertThat(proxy.hooks.concurrentSlotsHeld()).isEqualTo(1);
        assertRefusedElsewhere(); // Query 2 holds the slot while it waits

        gate.open();
        awaitGatedRunning();
        assertThat(proxy.hooks.concurrentSlotsHeld()).isEqualTo(1);
        assertRefusedElsewhere(); // ... and while it runs: never two statements of the user at once

        assertThat(readReply(pipelining).sqlState()).isNull();
        assertThat(readReply(pipelining).sqlState()).isNull();
        awaitSlotsHeld(0);
        assertRunsElsewhere();
    }

    /** The same with the extended protocol: three sync groups in one write, the second held at its Bind. */
    @Test
    void anExtendedSyncGroupPipelinedBehindAnotherKeepsItsSlotPastTheEarlierReadyForQuery() throws Exception {
        RawSocket pipelining = session();
        pipelining.write(Frames.concat(Frames.encode(run(FIRST, "")), Frames.encode(run(GATED, GATED_PORTAL)),
                Frames.encode(run("SELECT 'third'", ""))));
        gate.awaitReached();
        assertThat(readReply(pipelining).sqlState()).isNull();
        assertThat(proxy.hooks.concurrentSlotsHeld()).isEqualTo(1);
        assertRefusedElsewhere();

        gate.open();
        awaitGatedRunning();
        assertRefusedElsewhere();

        assertThat(readReply(pipelining).sqlState()).isNull();
        assertThat(readReply(pipelining).sqlState()).isNull();
        awaitSlotsHeld(0);
        assertRunsElsewhere();
    }

    /**
     * A statement denied in the middle of a pipeline takes no slot and gives none back early: the
     * one after it still holds the slot it runs under.
     */
    @Test
    void aDeniedStatementInThePipelineNeitherTakesNorFreesASlot() throws Exception {
        RawSocket pipelining = session();
        pipelining.write(Frames.concat(Frames.query(FIRST), Frames.query("DELETE FROM slots_sink"),
                Frames.query(GATED)));
        gate.awaitReached();
        assertThat(readReply(pipelining).sqlState()).isNull();
        assertThat(readReply(pipelining).sqlState()).isEqualTo("42501");
        assertThat(proxy.hooks.concurrentSlotsHeld()).isEqualTo(1);

        gate.open();
        awaitGatedRunning();
        assertRefusedElsewhere();
        assertThat(readReply(pipelining).sqlState()).isNull();
        awaitSlotsHeld(0);
        assertRunsElsewhere();
    }

    /** A session that ends with its statement at the gate, or running, gives the slot back once. */
    @Test
    void aSessionEndingWhileItHoldsTheSlotGivesItBack() throws Exception {
        RawSocket waiting = session();
        waiting.write(Frames.concat(Frames.query(FIRST), Frames.query(GATED)));
        gate.awaitReached();
        assertThat(proxy.hooks.concurrentSlotsHeld()).isEqualTo(1);
        waiting.close();
        awaitSlotsHeld(0);
        assertRunsElsewhere();

        RawSocket running = session();
        gate.open();
        running.write(Frames.query(GATED));
        awaitGatedRunning();
        assertThat(proxy.hooks.concurrentSlotsHeld()).isEqualTo(1);
        running.close();
        awaitSlotsHeld(0);
        assertRunsElsewhere();
    }

    /** A statement refused by the limit took no slot: the holder's slot is the only one, and comes back once. */
    @Test
    void aRefusedStatementTakesNoSlotAndTheHoldersSlotComesBackOnce() throws Exception {
        RawSocket holder = session();
        holder.write(Frames.query(GATED));
        gate.awaitReached();
        RawSocket other = session();
        // Refused twice in a pipeline of its own, with the extended protocol too.
        other.write(Frames.concat(Frames.query("SELECT 1"), Frames.encode(run("SELECT 2", ""))));
        assertThat(readReply(other).sqlState()).isEqualTo("53400");
        assertThat(readReply(other).sqlState()).isEqualTo("53400");
        assertThat(proxy.hooks.concurrentSlotsHeld()).isEqualTo(1);
        gate.open();
        assertThat(readReply(holder).sqlState()).isNull();
        awaitSlotsHeld(0);
        // Had a refusal given back a slot it never took, the count would have gone below what is
        // held: two statements of the user would now both get one.
        holder.write(Frames.query(GATED));
        awaitGatedRunning();
        assertThat(proxy.hooks.concurrentSlotsHeld()).isEqualTo(1);
        assertRefusedElsewhere();
        assertThat(readReply(holder).sqlState()).isNull();
    }

    private RawSocket session() {
        RawSocket socket = proxy.session(USER);
        sockets.add(socket);
        return socket;
    }

    private static WireMessage[] run(String sql, String portal) {
        return new WireMessage[] {new Parse("", sql, List.of()), new Bind(portal, "", List.of(), List.of(), List.of()),
                new Execute(portal, 0), Sync.INSTANCE};
    }

    /** What came back up to the next ReadyForQuery: the error's SQLSTATE, if any. */
    private record Reply(String sqlState) {
    }

    private static Reply readReply(RawSocket socket) {
        String sqlState = null;
        while (true) {
            BackendMessage message = socket.readMessage();
            if (message.type() == 'E') {
                sqlState = message.sqlState();
            } else if (message.type() == 'Z') {
                return new Reply(sqlState);
            }
        }
    }

    /** Another session of the same user is refused by the limit: the slot is taken. */
    private void assertRefusedElsewhere() {
        try (RawSocket other = session()) {
            other.write(Frames.query("SELECT 'elsewhere'"));
            assertThat(readReply(other).sqlState()).as("a second statement of the user while one runs").isEqualTo("53400");
        }
    }

    private void assertRunsElsewhere() {
        try (RawSocket other = session()) {
            other.write(Frames.query("SELECT 'elsewhere'"));
            assertThat(readReply(other).sqlState()).isNull();
        }
    }

    /** Waits until the server runs the gated statement. */
    private void awaitGatedRunning() throws InterruptedException {
        Instant deadline = Instant.now().plus(WAIT);
        while (Instant.now().isBefore(deadline)) {
            String running = postgres.query("postgres", "SELECT count(*) FROM pg_stat_activity WHERE usename = '" + USER
                    + "' AND state = 'active' AND query LIKE '%''gated''%'").get(0).get(0);
            if (running.equals("1")) {
                return;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("the gated statement did not start within " + WAIT);
    }

    private void awaitSlotsHeld(int expected) throws InterruptedException {
        Instant deadline = Instant.now().plus(WAIT);
        while (proxy.hooks.concurrentSlotsHeld() != expected && Instant.now().isBefore(deadline)) {
            Thread.sleep(20);
        }
        assertThat(proxy.hooks.concurrentSlotsHeld()).as("concurrent slots held").isEqualTo(expected);
    }

    /**
     * Holds back the allowed statements that carry {@link #GATED} (a Query, or a Bind of the
     * portal {@link #GATED_PORTAL}) after their decision and slot, until the test opens it.
     */
    private static final class Gate implements DecisionListener {
        private volatile CompletableFuture<Void> passage = new CompletableFuture<>();
        private final Semaphore reached = new Semaphore(0);

        void close() {
            passage = new CompletableFuture<>();
            reached.drainPermits();
        }

        void open() {
            passage.complete(null);
        }

        void awaitReached() throws InterruptedException {
            assertThat(reached.tryAcquire(WAIT.toSeconds(), TimeUnit.SECONDS)).as("the gated statement was decided").isTrue();
        }

        @Override
        public CompletionStage<Void> record(Decided decided) {
            if (decided.outcome() == Outcome.ALLOWED && decided.message().equals("Query") && decided.sql().equals(GATED)) {
                reached.release();
                return passage;
            }
            return GO_AHEAD;
        }

        @Override
        public CompletionStage<Void> bound(SessionInfo session, Bind bind, Instant receivedAt, long receivedNanos) {
            if (bind.portalName().equals(GATED_PORTAL)) {
                reached.release();
                return passage;
            }
            return GO_AHEAD;
        }
    }
}
