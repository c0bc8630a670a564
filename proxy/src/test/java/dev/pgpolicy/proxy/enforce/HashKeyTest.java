package dev.pgpolicy.proxy.enforce;

import static dev.pgpolicy.proxy.enforce.EnforcementFixture.ANALYST;
import static dev.pgpolicy.proxy.enforce.EnforcementFixture.DB;
import static dev.pgpolicy.proxy.enforce.EnforcementFixture.PASSWORD;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.pgpolicy.proxy.embedded.EmbeddedPostgres;
import dev.pgpolicy.proxy.embedded.ProcessResult;
import dev.pgpolicy.proxy.server.ProxyConfig;
import dev.pgpolicy.proxy.server.ProxyServer;
import dev.pgpolicy.proxy.testing.PgClient;
import dev.pgpolicy.proxy.testing.PostgresExtension;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * {@code masking.hash_key_file}: proxies started with the same key file hash the same value to
 * the same token through psql (two at once, or one restarted), another key gives other tokens,
 * and a key file that cannot be used refuses the start. Without the file, a policy set that uses
 * {@code hash()} is reported at start.
 */
@ExtendWith(PostgresExtension.class)
class HashKeyTest {

    private static final String NAMES = "SELECT name FROM payments.customers ORDER BY id";

    private EmbeddedPostgres postgres;
    private Path policies;

    @TempDir
    Path dir;

    @BeforeEach
    void policies(EmbeddedPostgres postgres) throws IOException {
        this.postgres = postgres;
        EnforcementFixture.createSchema(postgres);
        policies = Files.createDirectories(dir.resolve("policies"));
        Files.copy(EnforcementFixture.policyDirectory().resolve("policy.pgpolicy"), policies.resolve("policy.pgpolicy"));
        Files.writeString(policies.resolve("hash.pgpolicy"), "mask analyst payments.customers.name with hash();\n");
    }

    private Path keyFile(String name, String content, String permissions) throws IOException {
        Path file = Files.writeString(dir.resolve(name), content);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(permissions));
        return file;
    }

    private ProxyConfig config(Path policyDirectory, Path hashKeyFile) throws IOException {
        Path catalogPassword = Files.writeString(dir.resolve("catalog.pw"), postgres.superuserPassword() + "\n");
        return ProxyConfig.builder().listen("127.0.0.1", 0).upstream(postgres.host(), postgres.port())
                .shutdownGracePeriod(Duration.ZERO).policiesDir(policyDirectory)
                .catalog(postgres.superuser(), catalogPassword).maskingHashKeyFile(hashKeyFile).build();
    }

    private static List<String> names(ProxyServer proxy) {
        ProcessResult result = PgClient.to("127.0.0.1", proxy.address().getPort()).user(ANALYST).password(PASSWORD)
                .database(DB).sslMode("disable").psql(NAMES);
        assertThat(result.succeeded()).as(result.describe()).isTrue();
        return result.stdout().strip().lines().toList();
    }

    @Test
    void proxiesWithTheSameKeyFileGiveTheSameTokensAcrossInstancesAndRestarts() throws IOException {
        Path key = keyFile("mask.key", "7f3a9c0e5b1d4f2a8e6c0b9d7a5f3e1c2b4d6f8a0c2e4f6a8b0d2f4a6c8e0a2b\n", "rw-------");
        List<String> first;
        try (ProxyServer a = ProxyServer.start(config(policies, key));
             ProxyServer b = ProxyServer.start(config(policies, key))) {
            first = names(a);
            assertThat(names(b)).isEqualTo(first);
        }
        assertThat(first).hasSize(2).allMatch(token -> token.matches("h:[0-9a-f]{24}"));
        assertThat(first.get(0)).isNotEqualTo(first.get(1));
        try (ProxyServer restarted = ProxyServer.start(config(policies, key))) {
            assertThat(names(restarted)).isEqualTo(first);
        }
    }

    @Test
    void anotherKeyGivesOtherTokens() throws IOException {
        Path one = keyFile("one.key", "a".repeat(32), "rw-------");
        Path other = keyFile("other.key", "b".repeat(32), "rw-------");
        try (ProxyServer a = ProxyServer.start(config(policies, one));
             ProxyServer b = ProxyServer.start(config(policies, other))) {
            List<String> underOne = names(a);
            List<String> underOther = names(b);
            assertThat(underOne).hasSize(2);
            assertThat(underOther).hasSize(2).doesNotContainAnyElementsOf(underOne);
        }
    }

    @Test
    void unusableKeyFilesRefuseTheStartWithTheReason() throws IOException {
        Path shortKey = keyFile("short.key", "x".repeat(31) + "\n", "rw-------");
        assertThatThrownBy(() -> ProxyServer.start(config(policies, shortKey)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("masking.hash_key_file " + shortKey + ": holds 31 bytes of key; at least 32 are needed"
                        + " (create one with: openssl rand -hex 32 > short.key)");
        Path absent = dir.resolve("absent.key");
        assertThatThrownBy(() -> ProxyServer.start(config(policies, absent)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("masking.hash_key_file " + absent + ": no such file");
        Path unreadable = keyFile("unreadable.key", "c".repeat(40), "---------");
        if (!Files.isReadable(unreadable)) { // root reads every file: the case cannot arise then
            assertThatThrownBy(() -> ProxyServer.start(config(policies, unreadable)))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("masking.hash_key_file " + unreadable + ": cannot read");
        }
        Path huge = keyFile("huge.key", "d".repeat(5000), "rw-------");
        assertThatThrownBy(() -> ProxyServer.start(config(policies, huge)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("larger than 4096 bytes");
    }

    @Test
    void aKeyFileOthersCanReadIsWarnedAboutAndNeverLogged() throws IOException {
        String secret = "e".repeat(48);
        Path open = keyFile("open.key", secret + "\n", "rw-r--r--");
        Path closed = keyFile("closed.key", secret + "\n", "rw-------");
        List<ILoggingEvent> openLog = logged(MaskingKey.class, () -> {
            try (ProxyServer proxy = ProxyServer.start(config(policies, open))) {
                return names(proxy);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
        assertThat(openLog).anySatisfy(event -> {
            assertThat(event.getLevel()).isEqualTo(Level.WARN);
            assertThat(event.getFormattedMessage()).contains(open.toString()).contains("rw-r--r--").contains("chmod 600");
        });
        assertThat(openLog).noneMatch(event -> event.getFormattedMessage().contains(secret));
        List<ILoggingEvent> closedLog = logged(MaskingKey.class, () -> {
            try (ProxyServer proxy = ProxyServer.start(config(policies, closed))) {
                return names(proxy);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
        assertThat(closedLog).isEmpty();
    }

    @Test
    void withoutAKeyFileAPolicySetUsingHashIsReportedOnceAtStart() throws IOException {
        List<ILoggingEvent> withHash = logged(MaskingKey.class, () -> {
            try (ProxyServer proxy = ProxyServer.start(config(policies, null))) {
                List<String> tokens = names(proxy);
                assertThat(tokens).allMatch(token -> token.matches("h:[0-9a-f]{24}"));
                return names(proxy);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
        assertThat(withHash).filteredOn(event -> event.getLevel() == Level.WARN)
                .singleElement().extracting(ILoggingEvent::getFormattedMessage).asString()
                .contains("hash()").contains("masking.hash_key_file").contains("change on every restart");

        Path noHash = Files.createDirectories(dir.resolve("no-hash"));
        Files.copy(EnforcementFixture.policyDirectory().resolve("policy.pgpolicy"), noHash.resolve("policy.pgpolicy"));
        List<ILoggingEvent> withoutHash = logged(MaskingKey.class, () -> {
            try (ProxyServer proxy = ProxyServer.start(config(noHash, null))) {
                return names(proxy);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
        assertThat(withoutHash).isEmpty();
    }

    private static List<ILoggingEvent> logged(Class<?> source, Supplier<?> action) {
        Logger logger = (Logger) LoggerFactory.getLogger(source);
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        logger.addAppender(appender);
        try {
            action.get();
        } finally {
            logger.detachAppender(appender);
        }
        return List.copyOf(appender.list);
    }
}
