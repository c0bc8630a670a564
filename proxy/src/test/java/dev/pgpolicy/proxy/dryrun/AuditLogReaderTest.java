package dev.pgpolicy.proxy.dryrun;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgpolicy.proxy.audit.AuditConfig;
import dev.pgpolicy.proxy.audit.AuditConnection;
import dev.pgpolicy.proxy.audit.AuditDecision;
import dev.pgpolicy.proxy.audit.AuditLevel;
import dev.pgpolicy.proxy.audit.AuditLog;
import dev.pgpolicy.proxy.audit.AuditRecord;
import dev.pgpolicy.proxy.audit.AuditStatement;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A Query with several statements has one record each; a dry-run replays its text once. */
class AuditLogReaderTest {

    @TempDir
    Path work;

    @Test
    void theRecordsOfOneQueryAreReplayedOnce() throws Exception {
        AuditConnection app = new AuditConnection("app_user", List.of(), "app_user", "db", null, "127.0.0.1", 40_001,
                false);
        String query = "INSERT INTO t VALUES (1); SELECT id FROM t";
        Instant now = Instant.now();
        try (AuditLog log = AuditLog.open(AuditConfig.defaults(work))) {
            log.appendConfirmed(AuditRecord.statement(now, "s1", app, AuditStatement
                    .builder(AuditLevel.FULL, "insert", AuditDecision.ALLOW).sql(query, "insert into t values (?)")
                    .part(1, 2).build(), "r1")).get();
            log.appendConfirmed(AuditRecord.statement(now, "s1", app, AuditStatement
                    .builder(AuditLevel.FULL, "select", AuditDecision.ALLOW).sql(query, "select id from t")
                    .part(2, 2).build(), "r1")).get();
            // At level statements each record holds its own statement's normalized text.
            log.appendConfirmed(AuditRecord.statement(now, "s1", app, AuditStatement
                    .builder(AuditLevel.STATEMENTS, "select", AuditDecision.ALLOW).sql(query, "select id from t")
                    .part(2, 2).build(), "r1")).get();
        }
        RecordingSink sink = new RecordingSink();
        new AuditLogReader().read(work, sink);
        assertThat(sink.sql()).containsExactly(query, "select id from t");
    }
}
