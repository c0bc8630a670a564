package dev.pgpolicy.proxy.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.pgpolicy.proxy.identity.LoginThrottle;
import dev.pgpolicy.proxy.server.ProxyConfig;
import dev.pgpolicy.proxy.server.UpstreamPoolConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Reads {@code pgpolicy.yaml} (DESIGN.md, "The configuration file") into a {@link
 * ProxyConfig.Builder} that command-line flags then override. Unknown keys are errors, not
 * warnings: a misspelt {@code requre: true} must not quietly leave TLS optional. Relative paths
 * are resolved against the directory of the file, so a configuration directory can be moved as
 * a whole.
 */
public final class ConfigFile {

    /** Configuration errors carry the file, line and column, like policy diagnostics. */
    public static final class ConfigException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public ConfigException(String message) {
            super(message);
        }
    }

    record Document(
            String listen,
            Upstream upstream,
            Tls tls,
            Auth auth,
            String policies,
            @JsonProperty("policies_watch") Boolean policiesWatch,
            Catalog catalog,
            Masking masking,
            Audit audit,
            Admin admin,
            @JsonProperty("max_client_connections") Integer maxClientConnections,
            @JsonProperty("handshake_timeout") String handshakeTimeout,
            @JsonProperty("shutdown_grace_period") String shutdownGracePeriod,
            @JsonProperty("io_threads") Integer ioThreads) {}

    record Upstream(String host, Integer port, String tls, String ca, Pool pool) {}

    /** {@code upstream.pool} (see UpstreamPoolConfig); absent keys keep their defaults. */
    record Pool(Boolean enabled, @JsonProperty("reset_query") String resetQuery,
                @JsonProperty("max_idle_per_key") Integer maxIdlePerKey, @JsonProperty("max_idle") Integer maxIdle,
                @JsonProperty("idle_timeout") String idleTimeout, @JsonProperty("max_lifetime") String maxLifetime) {}

    record Tls(String cert, String key, Boolean require, @JsonProperty("client_ca") String clientCa,
               @JsonProperty("require_client_cert") Boolean requireClientCert) {}

    record Auth(String mode, String users, @JsonProperty("login_throttle") LoginThrottleLimits loginThrottle) {}

    /** The failed-login throttle's operator-facing limits; the delay curve keeps its defaults. */
    record LoginThrottleLimits(@JsonProperty("failures_before_delay") Integer failuresBeforeDelay,
                               @JsonProperty("failures_before_lockout") Integer failuresBeforeLockout,
                               String window, String lockout) {}

    record Audit(String dir, @JsonProperty("hmac_key_file") String hmacKeyFile, @JsonProperty("fail_closed") Boolean failClosed,
            @JsonProperty("max_file_bytes") Long maxFileBytes) {}

    record Admin(String listen, @JsonProperty("token_file") String tokenFile) {}

    /** How masks are computed (see ProxyConfig#maskingHashKeyFile). */
    record Masking(@JsonProperty("hash_key_file") String hashKeyFile) {}

    /** The metadata connection's account for masking (see ProxyConfig#catalogUser). */
    record Catalog(String user, @JsonProperty("password_file") String passwordFile) {}

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private ConfigFile() {}

    /** Reads and validates the file; the result has no upstream when the file names none. */
    public static ProxyConfig.Builder load(Path file) {
        Document doc;
        try {
            if (!Files.isRegularFile(file)) {
                throw new ConfigException(file + ": no such configuration file");
            }
            doc = YAML.readValue(file.toFile(), Document.class);
        } catch (JsonMappingException e) {
            String where = locate(file, e.getLocation());
            if (e instanceof UnrecognizedPropertyException unknown) {
                // The YAML parser reports where it stopped (often the end of the mapping); point at the key.
                where = locateKey(file, unknown.getPropertyName()).orElse(where);
            }
            throw new ConfigException(where + describe(e));
        } catch (JsonProcessingException e) {
            throw new ConfigException(locate(file, e.getLocation()) + e.getOriginalMessage());
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read: " + e.getMessage());
        }
        if (doc == null) {
            return ProxyConfig.builder();
        }
        Path base = file.toAbsolutePath().getParent();
        ProxyConfig.Builder builder = ProxyConfig.builder();
        try {
            apply(doc, base, builder);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(file + ": " + e.getMessage());
        }
        return builder;
    }

    private static void apply(Document doc, Path base, ProxyConfig.Builder builder) {
        if (doc.listen() != null) {
            builder.listen(field("listen", () -> HostPort.parse(doc.listen())));
        }
        Upstream upstream = doc.upstream();
        if (upstream != null) {
            if (upstream.host() != null || upstream.port() != null) {
                if (upstream.host() == null || upstream.port() == null) {
                    throw new IllegalArgumentException("upstream needs both host and port");
                }
                builder.upstream(field("upstream", () -> new HostPort(upstream.host(), upstream.port())));
            }
            if (upstream.tls() != null) {
                builder.upstreamTls(field("upstream.tls", () -> ProxyConfig.UpstreamTls.parse(upstream.tls())));
            }
            if (upstream.ca() != null) {
                builder.upstreamCa(path(base, upstream.ca()));
            }
            Pool pool = upstream.pool();
            if (pool != null) {
                builder.upstreamPool(field("upstream.pool", () -> {
                    UpstreamPoolConfig d = UpstreamPoolConfig.defaults();
                    return new UpstreamPoolConfig(
                            pool.enabled() == null ? d.enabled() : pool.enabled(),
                            pool.resetQuery() == null ? d.resetQuery() : pool.resetQuery(),
                            pool.maxIdlePerKey() == null ? d.maxIdlePerKey() : pool.maxIdlePerKey(),
                            pool.maxIdle() == null ? d.maxIdle() : pool.maxIdle(),
                            pool.idleTimeout() == null ? d.idleTimeout() : Durations.parse(pool.idleTimeout()),
                            pool.maxLifetime() == null ? d.maxLifetime() : Durations.parse(pool.maxLifetime()));
                }));
            }
        }
        Tls tls = doc.tls();
        if (tls != null) {
            if ((tls.cert() == null) != (tls.key() == null)) {
                throw new IllegalArgumentException("tls.cert and tls.key go together: give both or neither");
            }
            if (tls.cert() != null) {
                builder.tls(path(base, tls.cert()), path(base, tls.key()));
            }
            if (tls.require() != null) {
                builder.requireTls(tls.require());
            }
            if (tls.requireClientCert() != null) {
                builder.requireClientCertificate(tls.requireClientCert());
            }
            if (tls.clientCa() != null) {
                builder.clientCa(path(base, tls.clientCa()));
            }
        }
        Auth auth = doc.auth();
        if (auth != null) {
            if (auth.mode() != null) {
                builder.authMode(field("auth.mode", () -> ProxyConfig.AuthMode.parse(auth.mode())));
            }
            if (auth.users() != null) {
                builder.usersFile(path(base, auth.users()));
            }
            LoginThrottleLimits throttle = auth.loginThrottle();
            if (throttle != null) {
                builder.loginThrottle(field("auth.login_throttle", () -> {
                    LoginThrottle.Limits d = LoginThrottle.Limits.defaults();
                    return new LoginThrottle.Limits(
                            throttle.failuresBeforeDelay() == null ? d.failuresBeforeDelay() : throttle.failuresBeforeDelay(),
                            throttle.window() == null ? d.window() : Durations.parse(throttle.window()),
                            d.baseDelay(), d.maxDelay(),
                            throttle.failuresBeforeLockout() == null ? d.failuresBeforeLockout() : throttle.failuresBeforeLockout(),
                            throttle.lockout() == null ? d.lockout() : Durations.parse(throttle.lockout()),
                            d.maxTrackedKeys());
                }));
            }
        }
        if (doc.policies() != null) {
            builder.policiesDir(path(base, doc.policies()));
        }
        if (doc.policiesWatch() != null) {
            builder.policiesWatch(doc.policiesWatch());
        }
        if (doc.catalog() != null) {
            builder.catalog(doc.catalog().user(),
                    doc.catalog().passwordFile() == null ? null : path(base, doc.catalog().passwordFile()));
        }
        if (doc.masking() != null && doc.masking().hashKeyFile() != null) {
            builder.maskingHashKeyFile(field("masking.hash_key_file", () -> path(base, doc.masking().hashKeyFile())));
        }
        Audit audit = doc.audit();
        if (audit != null) {
            if (audit.dir() == null && (audit.hmacKeyFile() != null || audit.failClosed() != null
                    || audit.maxFileBytes() != null)) {
                throw new IllegalArgumentException("audit settings need audit.dir");
            }
            if (audit.dir() != null) {
                builder.auditDir(path(base, audit.dir()));
            }
            if (audit.hmacKeyFile() != null) {
                builder.auditHmacKeyFile(path(base, audit.hmacKeyFile()));
            }
            if (audit.failClosed() != null) {
                builder.auditFailClosed(audit.failClosed());
            }
            if (audit.maxFileBytes() != null) {
                builder.auditMaxFileBytes(audit.maxFileBytes());
            }
        }
        Admin admin = doc.admin();
        if (admin != null && admin.listen() != null) {
            builder.adminListen(field("admin.listen", () -> HostPort.parse(admin.listen())));
        }
        if (admin != null && admin.tokenFile() != null) {
            builder.adminTokenFile(path(base, admin.tokenFile()));
        }
        if (doc.maxClientConnections() != null) {
            builder.maxClientConnections(doc.maxClientConnections());
        }
        if (doc.handshakeTimeout() != null) {
            builder.handshakeTimeout(field("handshake_timeout", () -> Durations.parse(doc.handshakeTimeout())));
        }
        if (doc.ioThreads() != null) {
            builder.ioThreads(doc.ioThreads());
        }
        if (doc.shutdownGracePeriod() != null) {
            builder.shutdownGracePeriod(
                    field("shutdown_grace_period", () -> Durations.parse(doc.shutdownGracePeriod())));
        }
    }

    private interface Parser<T> {
        T parse();
    }

    private static <T> T field(String name, Parser<T> parser) {
        try {
            return parser.parse();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(name + ": " + e.getMessage(), e);
        }
    }

    private static Path path(Path base, String value) {
        if (value.isBlank()) {
            throw new IllegalArgumentException("empty path");
        }
        return base.resolve(value).normalize();
    }

    private static String locate(Path file, JsonLocation location) {
        if (location == null || location.getLineNr() < 1) {
            return file + ": ";
        }
        return file + ":" + location.getLineNr() + ":" + location.getColumnNr() + ": ";
    }

    private static Optional<String> locateKey(Path file, String key) {
        try {
            Pattern pattern = Pattern.compile(
                    "(^|[\\s{,])(" + Pattern.quote(key) + ")\\s*:");
            List<String> lines = Files.readAllLines(file);
            for (int i = 0; i < lines.size(); i++) {
                Matcher m = pattern.matcher(lines.get(i));
                if (m.find()) {
                    return Optional.of(file + ":" + (i + 1) + ":" + (m.start(2) + 1) + ": ");
                }
            }
        } catch (IOException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }

    private static String describe(JsonMappingException e) {
        String path = e.getPath().stream()
                .map(ref -> ref.getFieldName() != null ? ref.getFieldName() : "[" + ref.getIndex() + "]")
                .collect(Collectors.joining("."));
        if (e instanceof UnrecognizedPropertyException) {
            return "unknown key '" + path + "'";
        }
        String message = e.getOriginalMessage();
        // Jackson's messages name Java types; keep the first sentence and the YAML path.
        int cut = message.indexOf(" (");
        return (path.isEmpty() ? "" : path + ": ") + (cut > 0 ? message.substring(0, cut) : message);
    }
}
