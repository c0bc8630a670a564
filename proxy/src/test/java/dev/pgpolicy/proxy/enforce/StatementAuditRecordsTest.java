package dev.pgpolicy.proxy.enforce;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pgpolicy.policy.AuditLevel;
import dev.pgpolicy.policy.CompileResult;
import dev.pgpolicy.policy.Decision;
import dev.pgpolicy.policy.PolicyCompiler;
import dev.pgpolicy.policy.PolicySet;
import dev.pgpolicy.policy.SearchPathResolver;
import dev.pgpolicy.policy.SessionContext;
import dev.pgpolicy.policy.SourceFile;
import dev.pgpolicy.proxy.audit.AuditConfig;
import dev.pgpolicy.proxy.audit.AuditConnection;
import dev.pgpolicy.proxy.audit.AuditLog;
import dev.pgpolicy.proxy.session.Phase;
import dev.pgpolicy.proxy.session.SessionAttachments;
import dev.pgpolicy.proxy.session.SessionInfo;
import dev.pgpolicy.sql.QueryAnalysis;
import dev.pgpolicy.sql.SqlAnalyzer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the statement audit keeps between records (the session's connection, a cached decision's
 * reading, the revision's text) never shows in a record once what it was built from changed.
 */
class StatementAuditRecordsTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String POLICY = """
            allow any session;
            allow any select on public.accounts;
            @id("no-ddl") @reason("schema changes go through migrations")
            deny any ddl;
            audit any full;
            """;
    private static final LivePolicy.Revision FIRST = new LivePolicy.Revision("aaaa", Optional.empty());
    private static final LivePolicy.Revision SECOND = new LivePolicy.Revision("bbbb", Optional.of("c0ffee"));

    private static QueryAnalysis dropTable;
    private static Decision denial;

    @TempDir
    Path work;

    @BeforeAll
    static void decide() {
        CompileResult compiled = PolicyCompiler.compile(List.of(new SourceFile("audit.pgpolicy", POLICY)));
        assertThat(compiled.hasErrors()).as(compiled.diagnostics().toString()).isFalse();
        PolicySet policies = compiled.policySet().orElseThrow();
        try (SqlAnalyzer analyzer = new SqlAnalyzer()) {
            dropTable = analyzer.analyze("DROP TABLE accounts");
        }
        SessionContext ana = new SessionContext("ana", Set.of(), "ana", "bank", "app", null, "passthrough", false,
                null, Instant.parse("2026-12-04T12:00:00Z"), ZoneOffset.UTC);
        denial = policies.evaluate(ana, dropTable, SearchPathResolver.defaultPath());
        assertThat(denial.allowed()).isFalse();
    }

    @Test
    void aDecisionCachedAcrossAReloadTakesTheRevisionOfEachStatement() throws IOException {
        Session session = new Session("psql");
        List<JsonNode> records = audit(audit -> {
            audit.record(denied(session, denial, FIRST, AuditLevel.STATEMENTS));
            audit.record(denied(session, denial, SECOND, AuditLevel.STATEMENTS));
            audit.record(denied(session, denial, FIRST, AuditLevel.STATEMENTS));
        });
        assertThat(records).extracting(r -> r.get("policy_revision").asText())
                .containsExactly("sha256 aaaa", "git c0ffee, sha256 bbbb", "sha256 aaaa");
        assertThat(records).allSatisfy(r -> {
            assertThat(r.get("decision").asText()).isEqualTo("deny");
            assertThat(r.get("rules").toString()).isEqualTo("[\"no-ddl\"]");
            assertThat(r.get("reason").asText()).isEqualTo("schema changes go through migrations");
        });
    }

    @Test
    void aCachedDecisionAtAnotherLevelOrRefusedByALimitIsReadAgain() throws IOException {
        Session session = new Session("psql");
        List<JsonNode> records = audit(audit -> {
            audit.record(denied(session, denial, FIRST, AuditLevel.FULL));
            audit.record(denied(session, denial, FIRST, AuditLevel.METADATA));
            audit.record(new DecisionListener.Decided(session, "Query", "", "DROP TABLE accounts", dropTable, denial,
                    DecisionListener.Outcome.DENIED, FIRST, AuditLevel.STATEMENTS, "refused for its own reason",
                    Instant.now(), System.nanoTime()));
            audit.record(denied(session, denial, FIRST, AuditLevel.FULL));
        });
        assertThat(records).hasSize(4);
        assertThat(records.get(0).get("level").asText()).isEqualTo("full");
        assertThat(records.get(0).get("text").asText()).isEqualTo("DROP TABLE accounts");
        assertThat(records.get(1).get("level").asText()).isEqualTo("metadata");
        assertThat(records.get(1).get("text").isNull()).as("no text at metadata").isTrue();
        assertThat(records.get(2).get("reason").asText()).isEqualTo("refused for its own reason");
        assertThat(records.get(2).get("rules")).isEmpty();
        assertThat(records.get(3).get("text").asText()).isEqualTo("DROP TABLE accounts");
        assertThat(records.get(3).get("rules").toString()).isEqualTo("[\"no-ddl\"]");
    }

    @Test
    void aChangedApplicationNameShowsInTheNextRecord() throws IOException {
        Session session = new Session("first-name");
        List<JsonNode> records = audit(audit -> {
            audit.record(denied(session, denial, FIRST, AuditLevel.STATEMENTS));
            audit.record(denied(session, denial, FIRST, AuditLevel.STATEMENTS));
            session.applicationName = "second-name";
            audit.record(denied(session, denial, FIRST, AuditLevel.STATEMENTS));
            session.applicationName = null;
            audit.record(denied(session, denial, FIRST, AuditLevel.STATEMENTS));
        });
        assertThat(records).extracting(r -> r.get("application_name").isNull() ? null : r.get("application_name").asText())
                .containsExactly("first-name", "first-name", "second-name", null);
        assertThat(records).allSatisfy(r -> {
            assertThat(r.get("client_addr").asText()).isEqualTo("127.0.0.1");
            assertThat(r.get("client_port").asInt()).isEqualTo(50_123);
            assertThat(r.get("user").asText()).isEqualTo("ana");
        });
    }

    @Test
    void theConnectionIsKeptUntilAFieldItShowsChanges() {
        Session session = new Session("app");
        SessionConnection connection = new SessionConnection();
        AuditConnection first = connection.of(session);
        assertThat(connection.of(session)).as("nothing changed: the same instance").isSameAs(first);

        session.applicationName = new String("app".toCharArray());
        assertThat(connection.of(session)).as("an equal value in a new string").isEqualTo(first);

        session.user = "bob";
        AuditConnection renamed = connection.of(session);
        assertThat(renamed.user()).isEqualTo("bob");
        assertThat(renamed.database()).isEqualTo("bank");

        session.groups = List.of("tellers");
        assertThat(connection.of(session).groups()).containsExactly("tellers");
        session.dbUser = "teller_svc";
        assertThat(connection.of(session).dbUser()).isEqualTo("teller_svc");
        session.tls = true;
        assertThat(connection.of(session).tls()).isTrue();
        assertThat(connection.of(session)).isEqualTo(StatementAudit.connection(session));
    }

    private interface Script {
        void run(StatementAudit audit);
    }

    /** Runs {@code script} against an audit log in a fresh directory; returns its statement records. */
    private List<JsonNode> audit(Script script) throws IOException {
        Path directory = work.resolve("audit-" + System.nanoTime());
        try (AuditLog log = AuditLog.open(AuditConfig.defaults(directory))) {
            script.run(new StatementAudit(log));
        }
        List<JsonNode> statements = new ArrayList<>();
        List<Path> files;
        try (Stream<Path> listing = Files.list(directory)) {
            files = listing.filter(p -> p.getFileName().toString().endsWith(".jsonl")).sorted().toList();
        }
        for (Path file : files) {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                JsonNode record = JSON.readTree(line);
                if (record.get("event").asText().equals("statement")) {
                    statements.add(record);
                }
            }
        }
        return statements;
    }

    private static DecisionListener.Decided denied(SessionInfo session, Decision decision,
            LivePolicy.Revision revision, AuditLevel level) {
        return new DecisionListener.Decided(session, "Query", "", "DROP TABLE accounts", dropTable, decision,
                DecisionListener.Outcome.DENIED, revision, level, null, Instant.now(), System.nanoTime());
    }

    /** A session whose fields a test changes between statements, as SET and login change a real one's. */
    private static final class Session implements SessionInfo {
        private final SessionAttachments attachments = new SessionAttachments();
        private final InetSocketAddress client = new InetSocketAddress("127.0.0.1", 50_123);
        String user = "ana";
        List<String> groups = List.of();
        String dbUser;
        String applicationName;
        boolean tls;

        Session(String applicationName) {
            this.applicationName = applicationName;
        }

        @Override
        public String id() {
            return "5e55";
        }

        @Override
        public SessionAttachments attachments() {
            return attachments;
        }

        @Override
        public InetSocketAddress clientAddress() {
            return client;
        }

        @Override
        public Optional<String> user() {
            return Optional.ofNullable(user);
        }

        @Override
        public Optional<String> dbUser() {
            return dbUser == null ? user() : Optional.of(dbUser);
        }

        @Override
        public List<String> groups() {
            return groups;
        }

        @Override
        public Optional<String> database() {
            return Optional.of("bank");
        }

        @Override
        public Optional<String> applicationName() {
            return Optional.ofNullable(applicationName);
        }

        @Override
        public boolean tls() {
            return tls;
        }

        @Override
        public Optional<String> authMethod() {
            return Optional.of("scram-sha-256");
        }

        @Override
        public Phase phase() {
            return Phase.READY;
        }

        @Override
        public char transactionStatus() {
            return 'I';
        }
    }
}
