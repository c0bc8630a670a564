package dev.pgpolicy.proxy.server;

import dev.pgpolicy.proxy.audit.AuditConfig;
import dev.pgpolicy.proxy.identity.LoginThrottle;
import dev.pgpolicy.proxy.config.HostPort;
import io.netty.util.NettyRuntime;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * Everything the proxy needs to run, immutable once built. {@code serve} builds it from the YAML
 * file and the command-line flags ({@link dev.pgpolicy.proxy.config.ConfigFile}); tests and the
 * demo build it in code with {@link #builder()}.
 *
 * <p>Settings that belong to features not yet in the proxy (policies,
 * proxy-terminated authentication, client certificates) are carried here so the configuration
 * file stays stable; {@link ProxyServer#start} refuses to run with any of them set rather than
 * silently ignoring a security setting ({@link #unsupportedFeatures()}).
 */
public final class ProxyConfig {

    /** How the proxy secures its connection to the server, with libpq's {@code sslmode} meanings. */
    public enum UpstreamTls {
        /** Plaintext. */
        DISABLE,
        /** Encrypted, the server's certificate is not checked. */
        REQUIRE,
        /** Encrypted, the certificate must chain to the configured CA. */
        VERIFY_CA,
        /** As VERIFY_CA, and the certificate must name the host the proxy connects to. */
        VERIFY_FULL;

        public static UpstreamTls parse(String text) {
            for (UpstreamTls mode : values()) {
                if (mode.configName().equals(text.trim().toLowerCase(Locale.ROOT))) {
                    return mode;
                }
            }
            throw new IllegalArgumentException(
                    "upstream TLS mode must be one of disable, require, verify-ca, verify-full; got '"
                            + text + "'");
        }

        public String configName() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }

        public boolean verifiesCertificate() {
            return this == VERIFY_CA || this == VERIFY_FULL;
        }
    }

    /** Who verifies the client's credentials (DESIGN.md, "Identity and authentication"). */
    public enum AuthMode {
        PASSTHROUGH,
        PROXY;

        public static AuthMode parse(String text) {
            for (AuthMode mode : values()) {
                if (mode.name().equalsIgnoreCase(text.trim())) {
                    return mode;
                }
            }
            throw new IllegalArgumentException("auth mode must be passthrough or proxy; got '" + text + "'");
        }
    }

    public static final int DEFAULT_LISTEN_PORT = 6432;
    public static final int DEFAULT_MAX_CLIENT_CONNECTIONS = 100;
    /** DESIGN.md: one deadline covers SSL negotiation, startup and authentication. */
    public static final Duration DEFAULT_HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);
    public static final Duration DEFAULT_SHUTDOWN_GRACE_PERIOD = Duration.ofSeconds(30);

    private final HostPort listen;
    private final HostPort upstream;
    private final UpstreamTls upstreamTls;
    private final Path upstreamCa;
    private final Path tlsCert;
    private final Path tlsKey;
    private final boolean requireTls;
    private final Path clientCa;
    private final boolean requireClientCertificate;
    private final AuthMode authMode;
    private final Path usersFile;
    private final LoginThrottle.Limits loginThrottle;
    private final Path policiesDir;
    private final boolean policiesWatch;
    private final String catalogUser;
    private final Path catalogPasswordFile;
    private final Path maskingHashKeyFile;
    private final Path auditDir;
    private final Path auditHmacKeyFile;
    private final boolean auditFailClosed;
    private final long auditMaxFileBytes;
    private final HostPort adminListen;
    private final Path adminTokenFile;
    private final int maxClientConnections;
    private final Duration handshakeTimeout;
    private final Duration shutdownGracePeriod;
    private final UpstreamPoolConfig upstreamPool;
    private final int ioThreads;

    private ProxyConfig(Builder b) {
        this.listen = b.listen;
        if (b.upstream == null) {
            throw new IllegalArgumentException(
                    "no upstream server configured: set upstream host and port, or give --upstream HOST:PORT");
        }
        this.upstream = b.upstream;
        this.upstreamTls = b.upstreamTls;
        this.upstreamCa = b.upstreamCa;
        this.tlsCert = b.tlsCert;
        this.tlsKey = b.tlsKey;
        this.requireTls = b.requireTls;
        this.clientCa = b.clientCa;
        this.requireClientCertificate = b.requireClientCertificate;
        this.authMode = b.authMode;
        this.usersFile = b.usersFile;
        this.loginThrottle = b.loginThrottle;
        this.policiesDir = b.policiesDir;
        this.policiesWatch = b.policiesWatch;
        this.catalogUser = b.catalogUser;
        this.catalogPasswordFile = b.catalogPasswordFile;
        if (catalogUser == null && catalogPasswordFile != null) {
            throw new IllegalArgumentException("catalog.password_file needs catalog.user");
        }
        this.maskingHashKeyFile = b.maskingHashKeyFile;
        this.auditDir = b.auditDir;
        this.auditHmacKeyFile = b.auditHmacKeyFile;
        this.auditFailClosed = b.auditFailClosed;
        this.auditMaxFileBytes = b.auditMaxFileBytes;
        this.adminListen = b.adminListen;
        this.adminTokenFile = b.adminTokenFile;
        this.maxClientConnections = b.maxClientConnections;
        this.handshakeTimeout = b.handshakeTimeout;
        this.shutdownGracePeriod = b.shutdownGracePeriod;
        this.upstreamPool = b.upstreamPool;
        this.ioThreads = b.ioThreads;
        if (ioThreads < 0) {
            throw new IllegalArgumentException("io_threads must not be negative (0 means one per processor)");
        }
        if (upstream.port() == 0) {
            throw new IllegalArgumentException("upstream port must not be 0");
        }
        if ((tlsCert == null) != (tlsKey == null)) {
            throw new IllegalArgumentException(
                    "the proxy TLS certificate and key go together: give both or neither");
        }
        if (upstreamTls.verifiesCertificate() && upstreamCa == null) {
            throw new IllegalArgumentException("upstream TLS mode " + upstreamTls.configName()
                    + " needs the CA file that signed the server's certificate (upstream ca / --upstream-ca)");
        }
        if (upstreamTls == UpstreamTls.DISABLE && upstreamCa != null) {
            throw new IllegalArgumentException(
                    "an upstream CA file is configured but upstream TLS is disable; choose verify-full");
        }
        if (adminTokenFile != null && adminListen == null) {
            throw new IllegalArgumentException("admin.token_file is set but the admin endpoint is not (admin.listen / --admin)");
        }
        if (auditDir == null && (auditHmacKeyFile != null || auditFailClosed)) {
            throw new IllegalArgumentException("audit settings need the audit directory (audit.dir / --audit)");
        }
        if (maxClientConnections < 1) {
            throw new IllegalArgumentException("max client connections must be at least 1");
        }
        if (handshakeTimeout.isNegative() || handshakeTimeout.isZero()) {
            throw new IllegalArgumentException("handshake timeout must be positive");
        }
        if (shutdownGracePeriod.isNegative()) {
            throw new IllegalArgumentException("shutdown grace period must not be negative");
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.listen = listen;
        b.upstream = upstream;
        b.upstreamTls = upstreamTls;
        b.upstreamCa = upstreamCa;
        b.tlsCert = tlsCert;
        b.tlsKey = tlsKey;
        b.requireTls = requireTls;
        b.clientCa = clientCa;
        b.requireClientCertificate = requireClientCertificate;
        b.authMode = authMode;
        b.usersFile = usersFile;
        b.loginThrottle = loginThrottle;
        b.policiesDir = policiesDir;
        b.policiesWatch = policiesWatch;
        b.catalogUser = catalogUser;
        b.catalogPasswordFile = catalogPasswordFile;
        b.maskingHashKeyFile = maskingHashKeyFile;
        b.auditDir = auditDir;
        b.auditHmacKeyFile = auditHmacKeyFile;
        b.auditFailClosed = auditFailClosed;
        b.auditMaxFileBytes = auditMaxFileBytes;
        b.adminListen = adminListen;
        b.adminTokenFile = adminTokenFile;
        b.maxClientConnections = maxClientConnections;
        b.handshakeTimeout = handshakeTimeout;
        b.shutdownGracePeriod = shutdownGracePeriod;
        b.upstreamPool = upstreamPool;
        b.ioThreads = ioThreads;
        return b;
    }

    public HostPort listen() {
        return listen;
    }

    public HostPort upstream() {
        return upstream;
    }

    public UpstreamTls upstreamTls() {
        return upstreamTls;
    }

    public Optional<Path> upstreamCa() {
        return Optional.ofNullable(upstreamCa);
    }

    /** Empty when the proxy generates a self-signed certificate at start. */
    public Optional<Path> tlsCert() {
        return Optional.ofNullable(tlsCert);
    }

    public Optional<Path> tlsKey() {
        return Optional.ofNullable(tlsKey);
    }

    public boolean requireTls() {
        return requireTls;
    }

    public Optional<Path> clientCa() {
        return Optional.ofNullable(clientCa);
    }

    /** {@code tls.require_client_cert}: the TLS handshake fails without a client certificate from {@link #clientCa()}. */
    public boolean requireClientCertificate() {
        return requireClientCertificate;
    }

    public AuthMode authMode() {
        return authMode;
    }

    public Optional<Path> usersFile() {
        return Optional.ofNullable(usersFile);
    }

    /** How failed logins to the proxy ({@code auth.mode: proxy}) are slowed down and refused. */
    public LoginThrottle.Limits loginThrottle() {
        return loginThrottle;
    }

    public Optional<Path> policiesDir() {
        return Optional.ofNullable(policiesDir);
    }

    /**
     * Whether a change to the policy directory's files reloads the set as SIGHUP does
     * ({@code policies_watch}, default true); without it only SIGHUP and {@code POST /reload} do.
     */
    public boolean policiesWatch() {
        return policiesWatch;
    }

    /**
     * The account of the metadata connection that resolves result columns to
     * {@code schema.table.column} for masking (it reads pg_class, pg_attribute, pg_namespace).
     */
    public Optional<String> catalogUser() {
        return Optional.ofNullable(catalogUser);
    }

    /** The file holding {@link #catalogUser()}'s password; empty for trust or peer setups. */
    public Optional<Path> catalogPasswordFile() {
        return Optional.ofNullable(catalogPasswordFile);
    }

    /**
     * {@code masking.hash_key_file}: the key of {@code hash()} masks, so that tokens stay the same
     * across restarts and proxy instances; empty for a random key per process.
     */
    public Optional<Path> maskingHashKeyFile() {
        return Optional.ofNullable(maskingHashKeyFile);
    }

    public Optional<Path> auditDir() {
        return Optional.ofNullable(auditDir);
    }

    public Optional<Path> auditHmacKeyFile() {
        return Optional.ofNullable(auditHmacKeyFile);
    }

    public boolean auditFailClosed() {
        return auditFailClosed;
    }

    /** Size at which the audit log rotates to a new file (the chain continues across files). */
    public long auditMaxFileBytes() {
        return auditMaxFileBytes;
    }

    public Optional<HostPort> adminListen() {
        return Optional.ofNullable(adminListen);
    }

    /** The bearer token the admin endpoint requires; mandatory when it listens on a non-loopback address. */
    public Optional<Path> adminTokenFile() {
        return Optional.ofNullable(adminTokenFile);
    }

    public int maxClientConnections() {
        return maxClientConnections;
    }

    public Duration handshakeTimeout() {
        return handshakeTimeout;
    }

    public Duration shutdownGracePeriod() {
        return shutdownGracePeriod;
    }

    /** {@code upstream.pool}: reuse of server connections between sessions; used in {@code auth.mode: proxy} only. */
    public UpstreamPoolConfig upstreamPool() {
        return upstreamPool;
    }

    /**
     * {@code io_threads} as configured: the event loops that carry the sessions, 0 for one per
     * processor ({@link #eventLoops()}).
     */
    public int ioThreads() {
        return ioThreads;
    }

    /**
     * The number of event loops the server runs: {@code io_threads}, or one per processor when it
     * is 0. Not Netty's default of two per processor: the proxy's loops are not meant to block (a
     * statement whose analysis could wait goes to a decision worker), so a second loop per
     * processor only adds wake-ups and context switches. Measured with pgbench on two processors,
     * two loops halved the wake-ups per transaction and cost the realistic policy 12 to 16% less
     * CPU per {@code select-prepared} transaction than four, the plain relay 0 to 11% less
     * (docs/performance.md, runs 16 and 17). Each loop keeps its own upstream pool, so fewer loops
     * also mean fewer idle server connections.
     */
    public int eventLoops() {
        return ioThreads > 0 ? ioThreads : NettyRuntime.availableProcessors();
    }

    /**
     * The configured settings whose feature this build of the proxy does not provide yet. Running
     * without them would silently drop a security control (no policy, no audit), so the server
     * refuses to start while this list is not empty.
     */
    public List<String> unsupportedFeatures() {
        List<String> unsupported = new ArrayList<>();
        if (authMode == AuthMode.PROXY && usersFile == null) {
            unsupported.add("auth.mode: proxy needs auth.users, the users file with the verifiers and service accounts");
        }
        if (authMode == AuthMode.PASSTHROUGH && usersFile != null) {
            // In passthrough the server decides who a client is; a users file would be silently ignored.
            unsupported.add("auth.users: the users file is used only with auth.mode: proxy");
        }
        if (clientCa != null && authMode == AuthMode.PASSTHROUGH) {
            // In passthrough the server decides who a client is; a verified certificate would be ignored.
            unsupported.add("tls.client_ca: client certificates authenticate only with auth.mode: proxy");
        }
        if (requireClientCertificate && clientCa == null) {
            unsupported.add("tls.require_client_cert needs tls.client_ca, the CA that issues the client certificates");
        }
        return unsupported;
    }

    @Override
    public String toString() {
        return "ProxyConfig{listen=" + listen + ", upstream=" + upstream + ", upstreamTls="
                + upstreamTls.configName() + ", tlsCert=" + (tlsCert == null ? "generated" : tlsCert)
                + ", requireTls=" + requireTls + ", maxClientConnections=" + maxClientConnections
                + ", handshakeTimeout=" + handshakeTimeout + ", shutdownGracePeriod=" + shutdownGracePeriod + "}";
    }

    /** Mutable collector for {@link ProxyConfig}; {@link #build()} validates the combination. */
    public static final class Builder {
        private HostPort listen = new HostPort("127.0.0.1", DEFAULT_LISTEN_PORT);
        private HostPort upstream;
        private UpstreamTls upstreamTls = UpstreamTls.DISABLE;
        private Path upstreamCa;
        private Path tlsCert;
        private Path tlsKey;
        private boolean requireTls;
        private Path clientCa;
        private boolean requireClientCertificate;
        private AuthMode authMode = AuthMode.PASSTHROUGH;
        private Path usersFile;
        private LoginThrottle.Limits loginThrottle = LoginThrottle.Limits.defaults();
        private Path policiesDir;
        private boolean policiesWatch = true;
        private String catalogUser;
        private Path catalogPasswordFile;
        private Path maskingHashKeyFile;
        private Path auditDir;
        private Path auditHmacKeyFile;
        private boolean auditFailClosed;
        private long auditMaxFileBytes = AuditConfig.DEFAULT_MAX_FILE_BYTES;
        private HostPort adminListen;
        private Path adminTokenFile;
        private int maxClientConnections = DEFAULT_MAX_CLIENT_CONNECTIONS;
        private Duration handshakeTimeout = DEFAULT_HANDSHAKE_TIMEOUT;
        private Duration shutdownGracePeriod = DEFAULT_SHUTDOWN_GRACE_PERIOD;
        private UpstreamPoolConfig upstreamPool = UpstreamPoolConfig.defaults();
        private int ioThreads;

        private Builder() {}

        /** Port 0 picks a free port; {@link ProxyServer#address()} tells which. */
        public Builder listen(HostPort listen) {
            this.listen = Objects.requireNonNull(listen);
            return this;
        }

        public Builder listen(String host, int port) {
            return listen(new HostPort(host, port));
        }

        public Builder upstream(HostPort upstream) {
            this.upstream = Objects.requireNonNull(upstream);
            return this;
        }

        public Builder upstream(String host, int port) {
            return upstream(new HostPort(host, port));
        }

        public Builder upstreamTls(UpstreamTls mode) {
            this.upstreamTls = Objects.requireNonNull(mode);
            return this;
        }

        public Builder upstreamCa(Path caFile) {
            this.upstreamCa = caFile;
            return this;
        }

        public Builder tls(Path certFile, Path keyFile) {
            this.tlsCert = certFile;
            this.tlsKey = keyFile;
            return this;
        }

        public Builder requireTls(boolean require) {
            this.requireTls = require;
            return this;
        }

        public Builder clientCa(Path caFile) {
            this.clientCa = caFile;
            return this;
        }

        public Builder requireClientCertificate(boolean require) {
            this.requireClientCertificate = require;
            return this;
        }

        public Builder authMode(AuthMode mode) {
            this.authMode = Objects.requireNonNull(mode);
            return this;
        }

        public Builder usersFile(Path file) {
            this.usersFile = file;
            return this;
        }

        public Builder loginThrottle(LoginThrottle.Limits limits) {
            this.loginThrottle = Objects.requireNonNull(limits);
            return this;
        }

        public Builder policiesDir(Path dir) {
            this.policiesDir = dir;
            return this;
        }

        public Builder policiesWatch(boolean watch) {
            this.policiesWatch = watch;
            return this;
        }

        public Builder catalog(String user, Path passwordFile) {
            this.catalogUser = user;
            this.catalogPasswordFile = passwordFile;
            return this;
        }

        public Builder maskingHashKeyFile(Path file) {
            this.maskingHashKeyFile = file;
            return this;
        }

        public Builder auditDir(Path dir) {
            this.auditDir = dir;
            return this;
        }

        public Builder auditHmacKeyFile(Path file) {
            this.auditHmacKeyFile = file;
            return this;
        }

        public Builder auditFailClosed(boolean failClosed) {
            this.auditFailClosed = failClosed;
            return this;
        }

        public Builder auditMaxFileBytes(long bytes) {
            this.auditMaxFileBytes = bytes;
            return this;
        }

        public Builder adminListen(HostPort listen) {
            this.adminListen = listen;
            return this;
        }

        public Builder adminTokenFile(Path file) {
            this.adminTokenFile = file;
            return this;
        }

        public Builder maxClientConnections(int max) {
            this.maxClientConnections = max;
            return this;
        }

        public Builder handshakeTimeout(Duration timeout) {
            this.handshakeTimeout = Objects.requireNonNull(timeout);
            return this;
        }

        public Builder shutdownGracePeriod(Duration grace) {
            this.shutdownGracePeriod = Objects.requireNonNull(grace);
            return this;
        }

        public Builder upstreamPool(UpstreamPoolConfig pool) {
            this.upstreamPool = Objects.requireNonNull(pool);
            return this;
        }

        public Builder ioThreads(int threads) {
            this.ioThreads = threads;
            return this;
        }

        public ProxyConfig build() {
            return new ProxyConfig(this);
        }
    }
}
