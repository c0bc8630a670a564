package dev.pgpolicy.proxy.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgpolicy.proxy.embedded.EmbeddedPostgres;
import dev.pgpolicy.proxy.testing.LeakReports;
import dev.pgpolicy.proxy.testing.PostgresExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The relay under paranoid leak detection reports no leak. Results of several messages arrive in
 * one read and leave as one coalesced write of the receive buffer; that write must give its
 * memory back in a way the leak detector sees, or every multi-row answer is a "LEAK:" line.
 */
@ExtendWith(PostgresExtension.class)
class LeakFreeRelayTest {

    @Test
    void multiMessageResultsRelayedInOneWriteAreNotReportedAsLeaks(EmbeddedPostgres postgres) {
        try (ProxyFixture fixture = ProxyFixture.start(postgres);
                LeakReports leaks = LeakReports.start()) {
            for (int i = 0; i < 20; i++) {
                dev.pgpolicy.proxy.embedded.ProcessResult result = fixture.client("postgres").psql("SELECT g, 'row ' || g FROM generate_series(1, 50) g");
                assertThat(result.succeeded()).as(result.describe()).isTrue();
                assertThat(result.stdout().lines()).hasSize(50);
            }
            leaks.assertNone();
        }
    }
}
