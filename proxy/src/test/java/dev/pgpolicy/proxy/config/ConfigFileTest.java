package dev.pgpolicy.proxy.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgpolicy.proxy.identity.LoginThrottle;
import dev.pgpolicy.proxy.server.ProxyConfig;
import dev.pgpolicy.proxy.server.UpstreamPoolConfig;
import io.netty.util.NettyRuntime;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigFileTest {

    /** The minimal shape from DESIGN.md, verbatim. */
    private static final String DESIGN_EXAMPLE = """
            listen: 127.0.0.1:6432
            upstream: { host: 127.0.0.1, port: 5432, tls: verify-full, ca: upstream-ca.crt }
            tls: { cert: proxy.crt, key: proxy.key, require: false, client_ca: clients-ca.crt }
            auth:
              mode: passthrough          # or: proxy
              users: users.yaml          # proxy mode: per user a SCRAM verifier, groups, upstream account
            policies: policies/
            audit: { dir: audit/, hmac_key_file: audit.key, fail_closed: false }
            admin: { listen: 127.0.0.1:9187, token_file: admin.token }
            """;

    @TempDir
    Path dir;

    private Path write(String yaml) throws IOException {
        Path file = dir.resolve("pgpolicy.yaml");
        Files.writeString(file, yaml);
        return file;
    }

    @Test
    void designExampleParsesWithPathsRelativeToTheFile() throws IOException {
        ProxyConfig config = ConfigFile.load(write(DESIGN_EXAMPLE)).build();
        assertThat(config.listen()).isEqualTo(new HostPort("127.0.0.1", 6432));
        assertThat(config.upstream()).isEqualTo(new HostPort("127.0.0.1", 5432));
        assertThat(config.upstreamTls()).isEqualTo(ProxyConfig.UpstreamTls.VERIFY_FULL);
        assertThat(config.upstreamCa()).contains(dir.resolve("upstream-ca.crt"));
        assertThat(config.tlsCert()).contains(dir.resolve("proxy.crt"));
        assertThat(config.tlsKey()).contains(dir.resolve("proxy.key"));
        assertThat(config.requireTls()).isFalse();
        assertThat(config.clientCa()).contains(dir.resolve("clients-ca.crt"));
        assertThat(config.authMode()).isEqualTo(ProxyConfig.AuthMode.PASSTHROUGH);
        assertThat(config.usersFile()).contains(dir.resolve("users.yaml"));
        assertThat(config.policiesDir()).contains(dir.resolve("policies"));
        assertThat(config.auditDir()).contains(dir.resolve("audit"));
        assertThat(config.auditHmacKeyFile()).contains(dir.resolve("audit.key"));
        assertThat(config.adminListen()).contains(new HostPort("127.0.0.1", 9187));
        assertThat(config.adminTokenFile()).contains(dir.resolve("admin.token"));
        // Features of later releases are carried, and the server refuses to run without them:
        // the users file of proxy-terminated authentication, client certificates.
        assertThat(config.unsupportedFeatures()).hasSize(2);
    }

    @Test
    void thePolicyDirectoryIsWatchedUnlessTurnedOff() throws IOException {
        assertThat(ConfigFile.load(write(DESIGN_EXAMPLE)).build().policiesWatch()).isTrue();
        assertThat(ConfigFile.load(write(DESIGN_EXAMPLE + "policies_watch: false\n")).build().policiesWatch()).isFalse();
        Path file = write(DESIGN_EXAMPLE + "policies_watch: sometimes\n");
        assertThatThrownBy(() -> ConfigFile.load(file)).isInstanceOf(ConfigFile.ConfigException.class)
                .hasMessageContaining("policies_watch");
    }

    @Test
    void upstreamPoolSettingsKeepTheirDefaultsUnlessGiven() throws IOException {
        ProxyConfig defaults = ConfigFile.load(write(DESIGN_EXAMPLE)).build();
        assertThat(defaults.upstreamPool()).isEqualTo(UpstreamPoolConfig.defaults());
        assertThat(defaults.upstreamPool().resetQuery()).isEqualTo("DISCARD ALL");
        assertThat(defaults.ioThreads()).isZero();
        // One event loop per processor, not Netty's default of two.
        assertThat(defaults.eventLoops()).isEqualTo(NettyRuntime.availableProcessors());

        ProxyConfig config = ConfigFile.load(write("""
                upstream:
                  host: 127.0.0.1
                  port: 5432
                  pool: { reset_query: "DISCARD ALL; SELECT 1", max_idle_per_key: 3, idle_timeout: 5s }
                io_threads: 3
                """)).build();
        UpstreamPoolConfig pool = config.upstreamPool();
        assertThat(pool.enabled()).isTrue();
        assertThat(pool.resetQuery()).isEqualTo("DISCARD ALL; SELECT 1");
        assertThat(pool.maxIdlePerKey()).isEqualTo(3);
        assertThat(pool.maxIdle()).isEqualTo(UpstreamPoolConfig.DEFAULT_MAX_IDLE);
        assertThat(pool.idleTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(pool.maxLifetime()).isEqualTo(UpstreamPoolConfig.DEFAULT_MAX_LIFETIME);
        assertThat(config.ioThreads()).isEqualTo(3);
        assertThat(config.eventLoops()).isEqualTo(3);

        assertThat(ConfigFile.load(write("upstream: { host: h, port: 5432, pool: { enabled: false } }\n")).build()
                .upstreamPool().enabled()).isFalse();
    }

    @Test
    void anEmptyResetQueryIsRefusedWithTheWayToTurnReuseOff() throws IOException {
        Path file = write("upstream: { host: h, port: 5432, pool: { reset_query: \"  \" } }\n");
        assertThatThrownBy(() -> ConfigFile.load(file)).isInstanceOf(ConfigFile.ConfigException.class)
                .hasMessageContaining("upstream.pool").hasMessageContaining("enabled: false");
        Path zero = write("upstream: { host: h, port: 5432, pool: { max_idle: 0 } }\n");
        assertThatThrownBy(() -> ConfigFile.load(zero)).isInstanceOf(ConfigFile.ConfigException.class)
                .hasMessageContaining("max_idle");
        Path unknown = write("upstream: { host: h, port: 5432, pool: { max_idel: 4 } }\n");
        assertThatThrownBy(() -> ConfigFile.load(unknown)).isInstanceOf(ConfigFile.ConfigException.class)
                .hasMessageContaining("max_idel");
    }

    @Test
    void failedLoginThrottleLimits() throws IOException {
        ProxyConfig config = ConfigFile.load(write("""
                upstream: { host: 127.0.0.1, port: 5432 }
                auth: { mode: proxy, users: users.yaml, login_throttle: { failures_before_delay: 2, failures_before_lockout: 6, lockout: 90s } }
                """)).build();
        assertThat(config.loginThrottle().failuresBeforeDelay()).isEqualTo(2);
        assertThat(config.loginThrottle().failuresBeforeLockout()).isEqualTo(6);
        assertThat(config.loginThrottle().lockout()).isEqualTo(Duration.ofSeconds(90));
        assertThat(config.loginThrottle().window()).isEqualTo(LoginThrottle.Limits.defaults().window());

        assertThatThrownBy(() -> ConfigFile.load(write("""
                upstream: { host: 127.0.0.1, port: 5432 }
                auth: { login_throttle: { failures_before_delay: 9, failures_before_lockout: 3 } }
                """))).hasMessageContaining("auth.login_throttle");
    }

    @Test
    void auditRotationSizeAndAdminToken() throws IOException {
        ProxyConfig config = ConfigFile.load(write("""
                upstream: { host: 127.0.0.1, port: 5432 }
                audit: { dir: audit/, fail_closed: true, max_file_bytes: 1048576 }
                admin: { listen: 0.0.0.0:9187, token_file: secrets/admin.token }
                """)).build();
        assertThat(config.auditFailClosed()).isTrue();
        assertThat(config.auditMaxFileBytes()).isEqualTo(1_048_576);
        assertThat(config.adminTokenFile()).contains(dir.resolve("secrets/admin.token"));
        assertThat(config.unsupportedFeatures()).isEmpty();
    }

    @Test
    void operationalSettings() throws IOException {
        ProxyConfig config = ConfigFile.load(write("""
                upstream: { host: db.internal, port: 5433 }
                max_client_connections: 250
                handshake_timeout: 2500ms
                shutdown_grace_period: 1m
                tls: { require: true }
                """)).build();
        assertThat(config.upstream()).isEqualTo(new HostPort("db.internal", 5433));
        assertThat(config.maxClientConnections()).isEqualTo(250);
        assertThat(config.handshakeTimeout()).isEqualTo(Duration.ofMillis(2500));
        assertThat(config.shutdownGracePeriod()).isEqualTo(Duration.ofMinutes(1));
        assertThat(config.requireTls()).isTrue();
        assertThat(config.tlsCert()).isEmpty();
        assertThat(config.unsupportedFeatures()).isEmpty();
    }

    @Test
    void maskingHashKeyFileResolvesAgainstTheConfigDirectory() throws IOException {
        ProxyConfig config = ConfigFile.load(write("""
                upstream: { host: 127.0.0.1, port: 5432 }
                masking: { hash_key_file: secrets/mask.key }
                """)).build();
        assertThat(config.maskingHashKeyFile()).contains(dir.resolve("secrets/mask.key"));
        assertThat(ConfigFile.load(write("upstream: { host: 127.0.0.1, port: 5432 }\n")).build().maskingHashKeyFile())
                .isEmpty();
    }

    @Test
    void maskingKeysAreCheckedWithTheirPosition() throws IOException {
        Path misspelt = write("""
                upstream: { host: 127.0.0.1, port: 5432 }
                masking:
                  hash_key: mask.key
                """);
        assertThatThrownBy(() -> ConfigFile.load(misspelt)).isInstanceOf(ConfigFile.ConfigException.class)
                .hasMessage(misspelt + ":3:3: unknown key 'masking.hash_key'");
        assertThatThrownBy(() -> ConfigFile.load(write("masking: { hash_key_file: \"\" }\n")))
                .isInstanceOf(ConfigFile.ConfigException.class).hasMessageContaining("masking.hash_key_file: empty path");
    }

    @Test
    void unknownKeyIsAnErrorWithItsPosition() throws IOException {
        Path file = write("""
                upstream: { host: 127.0.0.1, port: 5432 }
                tls:
                  requre: true
                """);
        assertThatThrownBy(() -> ConfigFile.load(file)).isInstanceOf(ConfigFile.ConfigException.class)
                .hasMessage(file + ":3:3: unknown key 'tls.requre'");
    }

    @Test
    void invalidValuesAreNamed() throws IOException {
        assertThatThrownBy(() -> ConfigFile.load(write("upstream: { host: h, port: 1, tls: sometimes }\n")))
                .hasMessageContaining("upstream.tls: upstream TLS mode must be one of disable, require, verify-ca, verify-full");
        assertThatThrownBy(() -> ConfigFile.load(write("listen: localhost\n")))
                .hasMessageContaining("listen: expected HOST:PORT");
        assertThatThrownBy(() -> ConfigFile.load(write("upstream: { host: h, port: 1 }\nhandshake_timeout: soon\n")))
                .hasMessageContaining("handshake_timeout: expected a duration");
        assertThatThrownBy(() -> ConfigFile.load(write("tls: { cert: a.crt }\n")))
                .hasMessageContaining("tls.cert and tls.key go together");
        assertThatThrownBy(() -> ConfigFile.load(write("auth: { mode: ldap }\n")))
                .hasMessageContaining("auth.mode: auth mode must be passthrough or proxy");
        assertThatThrownBy(() -> ConfigFile.load(write("upstream: [1, 2]\n")))
                .isInstanceOf(ConfigFile.ConfigException.class).hasMessageStartingWith(dir.resolve("pgpolicy.yaml") + ":1:");
    }

    @Test
    void missingFileIsReported() {
        assertThatThrownBy(() -> ConfigFile.load(dir.resolve("absent.yaml")))
                .hasMessageContaining("absent.yaml: no such configuration file");
    }

    @Test
    void verifyModesNeedACaFile() {
        assertThatThrownBy(() -> ProxyConfig.builder().upstream("h", 5432)
                .upstreamTls(ProxyConfig.UpstreamTls.VERIFY_FULL).build())
                .hasMessageContaining("needs the CA file");
        assertThatThrownBy(() -> ProxyConfig.builder().build()).hasMessageContaining("no upstream server configured");
    }

    @Test
    void hostPortParsing() {
        assertThat(HostPort.parse("127.0.0.1:6432")).isEqualTo(new HostPort("127.0.0.1", 6432));
        assertThat(HostPort.parse("[::1]:5432")).isEqualTo(new HostPort("::1", 5432));
        assertThat(HostPort.parse("[::1]:5432").toString()).isEqualTo("[::1]:5432");
        assertThatThrownBy(() -> HostPort.parse("::1:5432")).hasMessageContaining("brackets");
        assertThatThrownBy(() -> HostPort.parse("host:70000")).hasMessageContaining("outside 0..65535");
        assertThatThrownBy(() -> HostPort.parse("host:")).hasMessageContaining("expected HOST:PORT");
    }
}
