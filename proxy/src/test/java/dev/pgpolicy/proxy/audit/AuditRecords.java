package dev.pgpolicy.proxy.audit;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** A scripted session's records, as the proxy would build them. */
final class AuditRecords {
    static final Instant T0 = Instant.parse("2026-11-21T10:15:30.123456789Z");
    static final String REVISION = "git:3f2a9c1+sha256:9b1e";
    static final AuditConnection ANA = new AuditConnection("ana", List.of("bi_readers", "staff"), "analyst_ro",
            "shop", "psql", "10.1.2.3", 51234, true);

    private AuditRecords() {
    }

    /** open, auth, a statement at each level, a denied one, close: seven records. */
    static List<AuditRecord> session(String sessionId) {
        List<AuditRecord> records = new ArrayList<>();
        records.add(AuditRecord.connectionOpened(T0, sessionId, ANA, REVISION));
        records.add(AuditRecord.authenticated(T0.plusMillis(3), sessionId, ANA, "scram-sha-256", true, null, REVISION));
        records.add(AuditRecord.statement(T0.plusMillis(10), sessionId, ANA, AuditStatement
                .builder(AuditLevel.METADATA, "select", AuditDecision.ALLOW)
                .object("public.orders", "select")
                .fingerprint("a1b2c3")
                .sql("SELECT * FROM orders WHERE id = 7", "SELECT * FROM orders WHERE id = $1")
                .rules(List.of("orders.read"))
                .rows(1)
                .duration(Duration.ofNanos(812_345))
                .build(), REVISION));
        records.add(AuditRecord.statement(T0.plusMillis(20), sessionId, ANA, AuditStatement
                .builder(AuditLevel.STATEMENTS, "select", AuditDecision.ALLOW)
                .object("public.customers", "select")
                .fingerprint("d4e5f6")
                .sql("SELECT email, card FROM customers WHERE name = 'Ana'",
                        "SELECT email, card FROM customers WHERE name = $1")
                .rules(List.of("customers.mask_pii"))
                .masks(List.of("public.customers.email", "public.customers.card"))
                .rows(2)
                .duration(Duration.ofMillis(2))
                .build(), REVISION));
        records.add(AuditRecord.statement(T0.plusMillis(30), sessionId, ANA, AuditStatement
                .builder(AuditLevel.FULL, "insert", AuditDecision.ALLOW)
                .object("public.orders", "insert")
                .fingerprint("0a0b0c")
                .sql("INSERT INTO orders(customer, total) VALUES ($1, $2)", "INSERT INTO orders(customer, total) VALUES ($1, $2)")
                .parameters(Arrays.asList("42", null))
                .rules(List.of("orders.write"))
                .rows(1)
                .duration(Duration.ofMillis(1))
                .build(), REVISION));
        records.add(AuditRecord.statement(T0.plusMillis(40), sessionId, ANA, AuditStatement
                .builder(AuditLevel.STATEMENTS, "drop_table", AuditDecision.DENY)
                .object("public.customers", "drop")
                .fingerprint("ffeedd")
                .sql("DROP TABLE customers", "DROP TABLE customers")
                .rules(List.of("no_ddl"))
                .reason("DDL only through migrations")
                .build(), REVISION));
        records.add(AuditRecord.connectionClosed(T0.plusSeconds(2), sessionId, ANA, Duration.ofSeconds(2),
                "client terminated", REVISION));
        return records;
    }

    static AuditRecord statement(String sessionId, int n) {
        return AuditRecord.statement(T0.plusMillis(n), sessionId, ANA, AuditStatement
                .builder(AuditLevel.STATEMENTS, "select", AuditDecision.ALLOW)
                .object("public.orders", "select")
                .fingerprint("f" + n)
                .sql("SELECT * FROM orders WHERE id = " + n, "SELECT * FROM orders WHERE id = $1")
                .rows(1)
                .build(), REVISION);
    }
}
