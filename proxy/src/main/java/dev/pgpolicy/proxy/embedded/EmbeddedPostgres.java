package dev.pgpolicy.proxy.embedded;

import dev.pgpolicy.proxy.tls.CertificateAuthority;
import dev.pgpolicy.proxy.tls.CertifiedKey;
import dev.pgpolicy.proxy.tls.Pem;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A private PostgreSQL cluster for tests and the demo, started from the binaries installed on the
 * machine ({@link PostgresBinaries}).
 *
 * <p>What {@link Builder#start()} does:
 * <ol>
 *   <li>{@code initdb} into a fresh directory: SCRAM-SHA-256 for every login, a random superuser
 *       password passed through {@code --pwfile} (never on a command line, where {@code ps} shows
 *       it), UTF8, C locale.</li>
 *   <li>Generates a CA and a server certificate for {@code localhost}, {@code 127.0.0.1} and
 *       {@code ::1}, so clients connect with {@code sslmode=verify-full} and {@link #caCertificate()}
 *       as root certificate. The same CA is the server's {@code ssl_ca_file}, so client
 *       certificates issued by {@link #certificateAuthority()} are accepted.</li>
 *   <li>Listens on 127.0.0.1 only, on a free port, and on a Unix socket inside the cluster directory
 *       (never in /var/run/postgresql, where it would collide with a system cluster).</li>
 *   <li>Settings sized for tests: no fsync, 200 connections (pgbench plus parallel tests), small
 *       shared_buffers.</li>
 * </ol>
 *
 * <p>When the JVM runs as root, every PostgreSQL program runs as the {@code postgres} OS user
 * (PostgreSQL refuses root) and the directory is handed to that user.
 *
 * <p>{@link #stop()} shuts down with the "fast" mode (roll back open transactions, disconnect
 * clients), waits for the postmaster to exit and deletes the directory. A JVM shutdown hook does
 * the same after Ctrl-C or a crashed test, and the next start reaps clusters whose JVM died
 * without running hooks (SIGKILL), so nothing stays running.
 */
public final class EmbeddedPostgres implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EmbeddedPostgres.class);

    public static final String HOST = "127.0.0.1";

    static final String DIRECTORY_PREFIX = "pgpolicy-pg-";
    private static final String OWNER_FILE = "owner";
    private static final String LOG_FILE_NAME = "postgresql.log";
    /* sockaddr_un.sun_path is 108 bytes on Linux including the terminating NUL. */
    private static final int MAX_SOCKET_PATH = 107;
    private static final int PORT_ATTEMPTS = 5;
    private static final Pattern SETTING_NAME = Pattern.compile("[a-z_][a-z0-9_.]*");
    private static final Duration ADMIN_TIMEOUT = Duration.ofMinutes(5);
    /*
     * Others may traverse but not list the cluster directory: a client running as another local
     * user can read ca.crt by its path. Everything secret is below it with its own mode: data/
     * is 0700 (PostgreSQL insists), keys are 0600, the Unix socket is 0700.
     */
    private static final java.util.Set<java.nio.file.attribute.PosixFilePermission> BASE_DIRECTORY_MODE =
            PosixFilePermissions.fromString("rwx--x--x");

    private final PostgresBinaries binaries;
    private final ServerAccount account;
    private final Path baseDirectory;
    private final Path dataDirectory;
    private final Path socketDirectory;
    private final Path caCertificate;
    private final CertificateAuthority certificateAuthority;
    private final CertifiedKey serverCertificate;
    private final String superuser;
    private final String superuserPassword;
    private final boolean deleteOnStop;
    private final Thread shutdownHook;
    private int port;
    private long postmasterPid;
    private boolean stopped;

    private EmbeddedPostgres(Builder builder) {
        this.binaries = builder.binaries != null ? builder.binaries : PostgresBinaries.locate();
        this.account = ServerAccount.forCurrentProcess(builder.osUser);
        this.superuser = builder.superuser;
        this.superuserPassword = builder.superuserPassword != null ? builder.superuserPassword : randomPassword();
        this.certificateAuthority = builder.certificateAuthority != null
                ? builder.certificateAuthority
                : CertificateAuthority.generate("pgpolicy embedded PostgreSQL CA");
        this.serverCertificate = certificateAuthority.issueLocalhostServer();
        if (builder.dataDirectory == null) {
            reapOrphans(tempRoot(), binaries);
            this.baseDirectory = createPrivateDirectory(tempRoot());
            this.deleteOnStop = builder.deleteOnStop.orElse(true);
        } else {
            this.baseDirectory = prepareGivenDirectory(builder.dataDirectory);
            this.deleteOnStop = builder.deleteOnStop.orElse(false);
        }
        this.dataDirectory = baseDirectory.resolve("data");
        this.socketDirectory = baseDirectory.resolve("sock");
        this.caCertificate = baseDirectory.resolve("ca.crt");
        this.shutdownHook = new Thread(this::stopQuietly, "embedded-postgres-shutdown");
        try {
            Runtime.getRuntime().addShutdownHook(shutdownHook);
        } catch (IllegalStateException shuttingDown) {
            // Nothing would stop the cluster later, so do not start one.
            if (deleteOnStop) {
                deleteRecursively(baseDirectory);
            }
            throw new EmbeddedPostgresException("the JVM is shutting down; not starting PostgreSQL", shuttingDown);
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A cluster with every default: temporary directory, random port, generated CA and password. */
    public static EmbeddedPostgres start() {
        return builder().start();
    }

    public String host() {
        return HOST;
    }

    public int port() {
        return port;
    }

    public InetSocketAddress address() {
        return new InetSocketAddress(HOST, port);
    }

    public String superuser() {
        return superuser;
    }

    public String superuserPassword() {
        return superuserPassword;
    }

    /** PEM file of the CA that issued the server certificate: libpq's {@code sslrootcert}. */
    public Path caCertificate() {
        return caCertificate;
    }

    /** Issues client certificates the server trusts, and further server certificates (a proxy's). */
    public CertificateAuthority certificateAuthority() {
        return certificateAuthority;
    }

    public CertifiedKey serverCertificate() {
        return serverCertificate;
    }

    /** The directory holding everything: {@code data/} (PGDATA), {@code sock/}, {@code ca.crt}. */
    public Path baseDirectory() {
        return baseDirectory;
    }

    public Path dataDirectory() {
        return dataDirectory;
    }

    public Path socketDirectory() {
        return socketDirectory;
    }

    public Path logFile() {
        return dataDirectory.resolve(LOG_FILE_NAME);
    }

    public PostgresBinaries binaries() {
        return binaries;
    }

    /** The postmaster's process id, to prove in tests that nothing survives {@link #stop()}. */
    public long postmasterPid() {
        return postmasterPid;
    }

    public synchronized boolean isRunning() {
        return !stopped && ProcessHandle.of(postmasterPid).map(ProcessHandle::isAlive).orElse(false);
    }

    /** pgjdbc URL with TLS verify-full against this cluster's CA; credentials go in the properties. */
    public String jdbcUrl(String database) {
        return "jdbc:postgresql://" + HOST + ":" + port + "/" + URLEncoder.encode(database, StandardCharsets.UTF_8)
                + "?sslmode=verify-full&sslrootcert="
                + URLEncoder.encode(caCertificate.toString(), StandardCharsets.UTF_8);
    }

    /**
     * libpq environment for a client connecting over TCP with TLS verify-full (libpq docs,
     * "Environment Variables"); pass it to {@link ExternalCommand#environment(Map)}.
     */
    public Map<String, String> clientEnvironment(String user, String password, String database) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PGHOST", HOST);
        env.put("PGPORT", Integer.toString(port));
        env.put("PGUSER", user);
        env.put("PGPASSWORD", password);
        env.put("PGDATABASE", database);
        env.put("PGSSLMODE", "verify-full");
        env.put("PGSSLROOTCERT", caCertificate.toString());
        env.put("PGCONNECT_TIMEOUT", "10");
        return env;
    }

    /**
     * Runs a SQL script with psql as the superuser over the Unix socket, stopping at the first
     * error ({@code ON_ERROR_STOP}); returns the result without judging it.
     */
    public ProcessResult psql(String database, String script) {
        return ExternalCommand.of(adminPsql(database, "-q", "-f", "-"))
                .environment(adminEnvironment())
                .directory(baseDirectory)
                .stdin(script)
                .timeout(ADMIN_TIMEOUT)
                .run();
    }

    /** Runs a SQL script as the superuser; fails with psql's message when any statement fails. */
    public String execute(String database, String script) {
        ProcessResult result = psql(database, script);
        if (!result.succeeded()) {
            throw new EmbeddedPostgresException("SQL failed on database " + database + ": " + result.stderr().strip());
        }
        return result.stdout();
    }

    /**
     * Rows of one query (SELECT, VALUES, or DML with RETURNING) as text, SQL NULL as Java null.
     * The query runs inside {@code COPY (...) TO STDOUT (FORMAT csv)}: COPY writes NULL as an empty
     * unquoted field and an empty string as {@code ""} (PostgreSQL docs, COPY, "CSV Format"),
     * which psql's own CSV output does not distinguish.
     */
    public List<List<String>> query(String database, String sql) {
        String body = sql.strip();
        while (body.endsWith(";")) {
            body = body.substring(0, body.length() - 1).strip();
        }
        String copy = "COPY (" + body + "\n) TO STDOUT (FORMAT csv)";
        ProcessResult result = ExternalCommand.of(adminPsql(database, "-c", copy))
                .environment(adminEnvironment())
                .directory(baseDirectory)
                .timeout(ADMIN_TIMEOUT)
                .run();
        if (!result.succeeded()) {
            throw new EmbeddedPostgresException("query failed on database " + database + ": " + result.stderr().strip());
        }
        return Csv.parse(result.stdout());
    }

    /** A login role (unless NOLOGIN is given) whose password the server stores as a SCRAM verifier. */
    public void createRole(String name, String password, RoleAttribute... attributes) {
        StringBuilder sql = new StringBuilder();
        // A failing CREATE ROLE would otherwise be written to the server log with its password.
        sql.append("SET log_min_error_statement = panic;\n");
        sql.append("CREATE ROLE ").append(Sql.identifier(name));
        boolean login = true;
        for (RoleAttribute attribute : attributes) {
            if (attribute == RoleAttribute.NOLOGIN) {
                login = false;
            } else {
                sql.append(' ').append(attribute.name());
            }
        }
        sql.append(login ? " LOGIN" : " NOLOGIN");
        if (password != null) {
            sql.append(" PASSWORD ").append(Sql.literal(password));
        }
        sql.append(";\n");
        execute("postgres", sql.toString());
    }

    public void createDatabase(String name) {
        execute("postgres", "CREATE DATABASE " + Sql.identifier(name) + ";\n");
    }

    public void createDatabase(String name, String owner) {
        execute("postgres", "CREATE DATABASE " + Sql.identifier(name) + " OWNER " + Sql.identifier(owner) + ";\n");
    }

    /** The last lines of the server log, for diagnostics. */
    public String logTail(int lines) {
        return tail(logFile(), lines);
    }

    /**
     * Fast shutdown and start again on the same port and data: open sessions end with
     * {@code 57P01 admin_shutdown}, as clients (and the proxy) see when a real server restarts.
     */
    public synchronized void restart() {
        if (stopped) {
            throw new IllegalStateException("cluster in " + dataDirectory + " was stopped; start a new one");
        }
        long previous = postmasterPid;
        // Without --log the new postmaster would write into our pipe and die of SIGPIPE once the pipe closes.
        pgCtl("restart", "restart", Duration.ofSeconds(120), "--log=" + logFile(), "--mode=fast", "--wait", "--timeout=60");
        awaitExit(previous, dataDirectory);
        postmasterPid = readPostmasterPid().orElseThrow(() -> new EmbeddedPostgresException(
                "pg_ctl restarted " + dataDirectory + " but postmaster.pid is missing"));
    }

    /**
     * Fast shutdown, then start again on the same port and data as a standby with no primary
     * ({@code standby.signal}, PostgreSQL docs 27.2.2) and {@code settings} added, such as a
     * {@code restore_command} or {@code hot_standby = off}. Returns once the postmaster runs, not
     * once it accepts connections: the windows in which it refuses them with 57P03 (recovery not
     * yet started, or a standby without hot standby) are what a caller wants to hold open.
     * {@link #promote()} ends recovery.
     */
    public void restartAsStandby(Map<String, String> settings) {
        restartAsStandby(settings, Optional.empty());
    }

    /**
     * As {@link #restartAsStandby(Map)}, with {@code backupLabel} (what {@code pg_backup_stop}
     * returned as {@code labelfile}) written as the data directory's {@code backup_label}: the
     * standby then replays from the backup's checkpoint instead of the one in pg_control, and is
     * not consistent until it has replayed the backup's end record (PostgreSQL docs 26.3.4). A
     * {@code restore_command} that withholds that record holds the standby in recovery but not
     * yet consistent, where a hot standby refuses sessions with 57P03.
     */
    public void restartAsStandbyFromBackup(String backupLabel, Map<String, String> settings) {
        if (!backupLabel.startsWith("START WAL LOCATION: ")) {
            // Anything else would make the startup process refuse to start, far from the cause.
            throw new IllegalArgumentException("not a backup_label (pg_backup_stop's labelfile): " + backupLabel);
        }
        restartAsStandby(settings, Optional.of(backupLabel));
    }

    private synchronized void restartAsStandby(Map<String, String> settings, Optional<String> backupLabel) {
        if (stopped) {
            throw new IllegalStateException("cluster in " + dataDirectory + " was stopped; start a new one");
        }
        long previous = postmasterPid;
        ProcessResult stop = pgCtlStop("fast", Duration.ofSeconds(60));
        if (!stop.succeeded()) {
            throw new EmbeddedPostgresException("stop of " + dataDirectory + " before the standby start failed:\n"
                    + stop.describe());
        }
        awaitExit(previous, dataDirectory);
        try {
            StringBuilder conf = new StringBuilder("\n# Added for a standby start.\n");
            settings.forEach((name, value) -> {
                if (!SETTING_NAME.matcher(name).matches() || value.indexOf('\n') >= 0 || value.indexOf('\r') >= 0) {
                    throw new IllegalArgumentException("not a single-line PostgreSQL setting: " + name);
                }
                conf.append(name).append(" = '").append(value.replace("'", "''")).append("'\n");
            });
            // pgpolicy.conf is included last in postgresql.conf, so these values win.
            Files.writeString(dataDirectory.resolve("pgpolicy.conf"), conf.toString(), StandardOpenOption.APPEND);
            Files.writeString(dataDirectory.resolve("standby.signal"), "");
            if (backupLabel.isPresent()) {
                Files.writeString(dataDirectory.resolve("backup_label"), backupLabel.get());
            }
        } catch (IOException e) {
            throw new EmbeddedPostgresException("cannot prepare " + dataDirectory + " for a standby start: " + e, e);
        }
        account.takeOwnership(baseDirectory);
        pgCtl("start", "standby start", Duration.ofSeconds(60), "--log=" + logFile(), "--no-wait");
        // Without --wait, pg_ctl returns before the postmaster has written its pid file.
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        OptionalLong pid = readPostmasterPid();
        while (pid.isEmpty() || pid.getAsLong() == previous || !isAlive(pid.getAsLong())) {
            if (System.nanoTime() > deadline) {
                throw new EmbeddedPostgresException("the standby postmaster of " + dataDirectory
                        + " did not start within 60 s:\n" + logTail(40));
            }
            sleepBriefly();
            pid = readPostmasterPid();
        }
        postmasterPid = pid.getAsLong();
    }

    /** Ends the recovery {@link #restartAsStandby} began ({@code pg_ctl promote}); returns once the server accepts connections. */
    public synchronized void promote() {
        pgCtl("promote", "promotion", Duration.ofSeconds(90), "--wait", "--timeout=60");
        // pg_ctl returns once pg_control says "in production"; the postmaster admits sessions a
        // moment later, when it writes "ready" into line 8 of postmaster.pid (pidfile.h).
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!postmasterStatus().equals("ready")) {
            if (System.nanoTime() > deadline) {
                throw new EmbeddedPostgresException("the promoted server " + dataDirectory
                        + " did not become ready within 60 s:\n" + logTail(40));
            }
            sleepBriefly();
        }
    }

    private String postmasterStatus() {
        try {
            List<String> lines = Files.readAllLines(dataDirectory.resolve("postmaster.pid"));
            return lines.size() >= 8 ? lines.get(7).strip() : "";
        } catch (IOException e) {
            return "";
        }
    }

    private static void sleepBriefly() {
        try {
            Thread.sleep(20);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EmbeddedPostgresException("interrupted while waiting for the postmaster", e);
        }
    }

    /**
     * Fast shutdown, wait for the postmaster to exit, then delete the directory (unless it was
     * given to the builder and not marked for deletion). Idempotent.
     */
    public synchronized void stop() {
        if (stopped) {
            return;
        }
        stopped = true;
        try {
            shutdownServer();
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(shutdownHook);
            } catch (IllegalStateException alreadyShuttingDown) {
                // Called from the hook itself, or during JVM shutdown: nothing to unregister.
            }
            if (deleteOnStop) {
                deleteRecursively(baseDirectory);
            }
        }
    }

    @Override
    public void close() {
        stop();
    }

    @Override
    public String toString() {
        return "EmbeddedPostgres[" + HOST + ":" + port + ", " + dataDirectory + "]";
    }

    // ---------------------------------------------------------------------------------- startup

    // Synchronized with stop(): a shutdown hook arriving mid-start waits, then stops what was started.
    private synchronized EmbeddedPostgres boot(Builder builder) {
        if (stopped) {
            throw new EmbeddedPostgresException("the JVM is shutting down; not starting PostgreSQL in " + baseDirectory);
        }
        try {
            writeOwnerMarker();
            Files.createDirectories(socketDirectory);
            checkSocketPathLength();
            initdb();
            writeTlsFiles();
            writeHba(builder);
            account.takeOwnership(baseDirectory);
            startServer(builder);
            log.info("PostgreSQL started on {}:{} (data {}, {})", HOST, port, dataDirectory, binaries.directory());
            return this;
        } catch (RuntimeException | IOException e) {
            try {
                stop();
            } catch (RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            }
            if (e instanceof IOException io) {
                throw new EmbeddedPostgresException("cannot prepare " + baseDirectory + ": " + io.getMessage(), io);
            }
            throw (RuntimeException) e;
        }
    }

    private void writeOwnerMarker() throws IOException {
        ProcessHandle self = ProcessHandle.current();
        long started = self.info().startInstant().map(Instant::toEpochMilli).orElse(0L);
        Files.writeString(baseDirectory.resolve(OWNER_FILE), self.pid() + " " + started + "\n");
    }

    private void checkSocketPathLength() {
        int length = socketDirectory.resolve(".s.PGSQL.65535").toString().getBytes(StandardCharsets.UTF_8).length;
        if (length > MAX_SOCKET_PATH) {
            throw new EmbeddedPostgresException("the Unix socket path under " + socketDirectory + " would be " + length
                    + " bytes, over the kernel's limit of " + MAX_SOCKET_PATH + "; choose a shorter data directory");
        }
    }

    private void initdb() throws IOException {
        Path passwordFile = baseDirectory.resolve("superuser.pw");
        Files.writeString(passwordFile, superuserPassword + "\n", StandardOpenOption.CREATE_NEW);
        Files.setPosixFilePermissions(passwordFile, PosixFilePermissions.fromString("rw-------"));
        account.takeOwnership(baseDirectory);
        ProcessResult result;
        try {
            result = ExternalCommand.of(account.command(List.of(
                            binaries.initdb().toString(),
                            "--pgdata=" + dataDirectory,
                            "--username=" + superuser,
                            "--pwfile=" + passwordFile,
                            "--auth=scram-sha-256",
                            "--encoding=UTF8",
                            "--locale=C",
                            // Test clusters are disposable: skipping fsync saves seconds per start.
                            "--no-sync")))
                    .environment("LC_ALL", "C")
                    .directory(baseDirectory)
                    .timeout(Duration.ofMinutes(3))
                    .run();
        } finally {
            Files.deleteIfExists(passwordFile);
        }
        if (!result.succeeded()) {
            String hint = account.switchesUser()
                    ? "\n(initdb runs as OS user '" + account.user() + "', which needs search permission on every"
                            + " parent directory of " + baseDirectory + ")"
                    : "";
            throw new EmbeddedPostgresException("initdb (" + binaries.initdb() + ") failed for " + dataDirectory
                    + ":\n" + result.describe() + hint);
        }
    }

    private void writeTlsFiles() {
        Pem.writeCertificate(caCertificate, certificateAuthority.certificate());
        Pem.writeCertificate(dataDirectory.resolve("root.crt"), certificateAuthority.certificate());
        serverCertificate.writeCertificateChain(dataDirectory.resolve("server.crt"));
        // The server refuses a key that group or others can read ("has group or world access").
        serverCertificate.writePrivateKey(dataDirectory.resolve("server.key"));
    }

    private void writeHba(Builder builder) throws IOException {
        String tcp = builder.requireTls ? "hostssl" : "host";
        StringBuilder hba = new StringBuilder();
        hba.append("# Written by pgpolicy's embedded launcher. First match wins (PostgreSQL docs, 21.1).\n");
        for (String rule : builder.hbaRules) {
            hba.append(rule).append('\n');
        }
        hba.append("local all all scram-sha-256\n");
        hba.append(tcp).append(" all all 127.0.0.1/32 scram-sha-256\n");
        hba.append(tcp).append(" all all ::1/128 scram-sha-256\n");
        Files.writeString(dataDirectory.resolve("pg_hba.conf"), hba.toString());
    }

    private void writeSettings(Builder builder, int chosenPort) throws IOException {
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("listen_addresses", HOST);
        settings.put("port", Integer.toString(chosenPort));
        settings.put("unix_socket_directories", socketDirectory.toString());
        settings.put("unix_socket_permissions", "0700");
        settings.put("ssl", "on");
        settings.put("ssl_cert_file", "server.crt");
        settings.put("ssl_key_file", "server.key");
        settings.put("ssl_ca_file", "root.crt");
        settings.put("ssl_min_protocol_version", "TLSv1.2");
        settings.put("password_encryption", "scram-sha-256");
        settings.put("max_connections", Integer.toString(builder.maxConnections));
        settings.put("shared_buffers", "32MB");
        settings.put("fsync", "off");
        settings.put("synchronous_commit", "off");
        settings.put("full_page_writes", "off");
        settings.put("max_wal_size", "256MB");
        settings.put("log_destination", "stderr");
        settings.put("logging_collector", "off");
        settings.put("log_line_prefix", "%m [%p] %q%u@%d ");
        settings.put("log_timezone", "UTC");
        settings.put("timezone", "UTC");
        settings.put("lc_messages", "C");
        settings.putAll(builder.settings);
        StringBuilder conf = new StringBuilder("# Written by pgpolicy's embedded launcher at each start.\n");
        settings.forEach((name, value) -> conf.append(name).append(" = '").append(value.replace("'", "''")).append("'\n"));
        Files.writeString(dataDirectory.resolve("pgpolicy.conf"), conf.toString());
        Path main = dataDirectory.resolve("postgresql.conf");
        if (!Files.readString(main).contains("include 'pgpolicy.conf'")) {
            // Included last, so these values win over initdb's defaults above them.
            Files.writeString(main, "\ninclude 'pgpolicy.conf'\n", StandardOpenOption.APPEND);
        }
        account.takeOwnership(baseDirectory);
    }

    private void startServer(Builder builder) throws IOException {
        Path pgCtlOutput = baseDirectory.resolve("pg_ctl.out");
        for (int attempt = 1; ; attempt++) {
            int chosenPort = builder.port != 0 ? builder.port : freePort();
            writeSettings(builder, chosenPort);
            ProcessResult result = ExternalCommand.of(account.command(List.of(
                            binaries.pgCtl().toString(), "start",
                            "--pgdata=" + dataDirectory,
                            "--log=" + logFile(),
                            "--wait",
                            "--timeout=" + builder.startTimeout.toSeconds())))
                    .environment("LC_ALL", "C")
                    .directory(baseDirectory)
                    .timeout(builder.startTimeout.plusSeconds(30))
                    .run();
            Files.writeString(pgCtlOutput, result.describe() + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            if (result.succeeded()) {
                this.port = chosenPort;
                this.postmasterPid = readPostmasterPid().orElseThrow(() -> new EmbeddedPostgresException(
                        "pg_ctl reported a start but " + dataDirectory.resolve("postmaster.pid") + " is missing;\n"
                                + logTail(40)));
                return;
            }
            String logText = logTail(40);
            // Another process may take the port between our probe and the postmaster's bind.
            boolean portTaken = logText.contains("Address already in use");
            forceStop();
            if (!(portTaken && builder.port == 0 && attempt < PORT_ATTEMPTS)) {
                throw new EmbeddedPostgresException("PostgreSQL (" + binaries.pgCtl() + ") failed to start in "
                        + dataDirectory + " on port " + chosenPort + ":\n" + result.describe()
                        + "\n--- " + logFile() + " (last lines) ---\n" + logText);
            }
            log.debug("port {} was taken before PostgreSQL could bind it; retrying", chosenPort);
        }
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(false);
            socket.bind(new InetSocketAddress(InetAddress.getByName(HOST), 0));
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot find a free port on " + HOST, e);
        }
    }

    // --------------------------------------------------------------------------------- shutdown

    private void shutdownServer() {
        OptionalLong pid = readPostmasterPid();
        if (pid.isEmpty()) {
            // Never started, or already stopped: pg_ctl removes postmaster.pid on a clean exit.
            return;
        }
        ProcessResult result = pgCtlStop("fast", Duration.ofSeconds(60));
        if (!result.succeeded() && isAlive(pid.getAsLong())) {
            log.warn("fast shutdown of {} failed, forcing: {}", dataDirectory, result.describe());
            forceStop();
        }
        awaitExit(pid.getAsLong(), dataDirectory);
    }

    /** Immediate shutdown (no checkpoint), then SIGKILL if the postmaster still lives. */
    private void forceStop() {
        OptionalLong pid = readPostmasterPid();
        if (pid.isEmpty()) {
            return;
        }
        pgCtlStop("immediate", Duration.ofSeconds(30));
        awaitExit(pid.getAsLong(), dataDirectory);
    }

    /**
     * Runs {@code pg_ctl action --pgdata=... options} as the cluster's account; a failure names
     * {@code what} and ends with the server log's last lines, where PostgreSQL says why.
     */
    private void pgCtl(String action, String what, Duration timeout, String... options) {
        List<String> command = new ArrayList<>(List.of(binaries.pgCtl().toString(), action, "--pgdata=" + dataDirectory));
        command.addAll(List.of(options));
        ProcessResult result = ExternalCommand.of(account.command(command))
                .environment("LC_ALL", "C")
                .directory(baseDirectory)
                .timeout(timeout)
                .run();
        if (!result.succeeded()) {
            throw new EmbeddedPostgresException(what + " of " + dataDirectory + " failed:\n" + result.describe()
                    + "\n--- " + logFile() + " (last lines) ---\n" + logTail(40));
        }
    }

    private ProcessResult pgCtlStop(String mode, Duration timeout) {
        return ExternalCommand.of(account.command(List.of(binaries.pgCtl().toString(), "stop",
                        "--pgdata=" + dataDirectory, "--mode=" + mode, "--wait", "--timeout=" + timeout.toSeconds())))
                .directory(baseDirectory)
                .timeout(timeout.plusSeconds(30))
                .run();
    }

    private static void awaitExit(long pid, Path dataDirectory) {
        Optional<ProcessHandle> handle = ProcessHandle.of(pid).filter(EmbeddedPostgres::isPostgres);
        if (handle.isEmpty()) {
            return;
        }
        try {
            handle.get().onExit().get(30, TimeUnit.SECONDS);
        } catch (Exception notYet) {
            log.warn("postmaster {} of {} did not exit; killing it", pid, dataDirectory);
            handle.get().descendants().forEach(ProcessHandle::destroyForcibly);
            handle.get().destroyForcibly();
            try {
                handle.get().onExit().get(10, TimeUnit.SECONDS);
            } catch (Exception stillThere) {
                throw new EmbeddedPostgresException("postmaster " + pid + " of " + dataDirectory + " survived SIGKILL");
            }
        }
    }

    private static boolean isAlive(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    /** Only ever signal a process that is a PostgreSQL server: pids are reused. */
    private static boolean isPostgres(ProcessHandle handle) {
        return handle.isAlive() && handle.info().command().map(command -> command.endsWith("/postgres")
                || command.endsWith("/postmaster")).orElse(true);
    }

    private OptionalLong readPostmasterPid() {
        return readPostmasterPid(dataDirectory);
    }

    private static OptionalLong readPostmasterPid(Path dataDirectory) {
        // postmaster.pid: first line is the postmaster's PID (PostgreSQL docs, 19.3 / pidfile.h).
        try {
            List<String> lines = Files.readAllLines(dataDirectory.resolve("postmaster.pid"));
            return lines.isEmpty() ? OptionalLong.empty() : OptionalLong.of(Long.parseLong(lines.get(0).strip()));
        } catch (NoSuchFileException e) {
            return OptionalLong.empty();
        } catch (IOException | NumberFormatException e) {
            return OptionalLong.empty();
        }
    }

    private void stopQuietly() {
        try {
            stop();
        } catch (RuntimeException e) {
            log.warn("could not stop embedded PostgreSQL in {}: {}", baseDirectory, e.getMessage());
        }
    }

    // ------------------------------------------------------------------------ orphans and files

    /**
     * Stops and deletes clusters left by a JVM that died without running its shutdown hooks
     * (SIGKILL, a Surefire fork killed on timeout). The owner marker holds the JVM's pid and start
     * time; a live JVM with that pid and start time keeps its cluster.
     */
    static void reapOrphans(Path root, PostgresBinaries binaries) {
        try (DirectoryStream<Path> candidates = Files.newDirectoryStream(root, DIRECTORY_PREFIX + "*")) {
            for (Path candidate : candidates) {
                if (ownerAlive(candidate.resolve(OWNER_FILE))) {
                    continue;
                }
                Path data = candidate.resolve("data");
                OptionalLong pid = readPostmasterPid(data);
                if (pid.isPresent() && isAlive(pid.getAsLong())) {
                    log.warn("stopping orphaned embedded PostgreSQL in {} (its JVM is gone)", candidate);
                    ServerAccount owner = ServerAccount.forCurrentProcess(ownerName(data));
                    ExternalCommand.of(owner.command(List.of(binaries.pgCtl().toString(), "stop",
                                    "--pgdata=" + data, "--mode=immediate", "--wait")))
                            .directory(candidate)
                            .timeout(Duration.ofMinutes(1))
                            .run();
                    awaitExit(pid.getAsLong(), data);
                }
                deleteRecursively(candidate);
            }
        } catch (IOException | RuntimeException e) {
            log.warn("could not reap orphaned embedded clusters under {}: {}", root, e.getMessage());
        }
    }

    private static boolean ownerAlive(Path ownerFile) throws IOException {
        if (!Files.isRegularFile(ownerFile)) {
            // Not ours yet (being created right now) or not ours at all: never touch it.
            return true;
        }
        String[] fields = Files.readString(ownerFile).strip().split(" ");
        try {
            long pid = Long.parseLong(fields[0]);
            long started = Long.parseLong(fields[1]);
            Optional<ProcessHandle> owner = ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
            return owner.isPresent() && owner.get().info().startInstant()
                    .map(instant -> Math.abs(instant.toEpochMilli() - started) < 2_000).orElse(true);
        } catch (RuntimeException malformed) {
            return true;
        }
    }

    private static String ownerName(Path data) throws IOException {
        return Files.getOwner(data).getName();
    }

    private static Path tempRoot() {
        return Path.of(System.getProperty("java.io.tmpdir")).toAbsolutePath();
    }

    private static Path createPrivateDirectory(Path root) {
        try {
            Path directory = Files.createTempDirectory(root, DIRECTORY_PREFIX,
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            Files.setPosixFilePermissions(directory, BASE_DIRECTORY_MODE);
            return directory.toRealPath();
        } catch (IOException e) {
            throw new EmbeddedPostgresException("cannot create a directory for the cluster under " + root + ": " + e, e);
        }
    }

    private static Path prepareGivenDirectory(Path directory) {
        try {
            Path absolute = directory.toAbsolutePath().normalize();
            if (Files.exists(absolute)) {
                try (DirectoryStream<Path> entries = Files.newDirectoryStream(absolute)) {
                    if (entries.iterator().hasNext()) {
                        throw new EmbeddedPostgresException("data directory " + absolute
                                + " is not empty; the launcher only creates new clusters");
                    }
                }
            } else {
                Files.createDirectories(absolute);
            }
            Files.setPosixFilePermissions(absolute, BASE_DIRECTORY_MODE);
            return absolute.toRealPath();
        } catch (IOException e) {
            throw new EmbeddedPostgresException("cannot prepare data directory " + directory + ": " + e, e);
        }
    }

    static void deleteRecursively(Path directory) {
        if (!Files.exists(directory)) {
            return;
        }
        try {
            Files.walkFileTree(directory, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) throws IOException {
                    Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path dir, IOException failure) throws IOException {
                    if (failure != null) {
                        throw failure;
                    }
                    Files.deleteIfExists(dir);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new EmbeddedPostgresException("cannot delete " + directory + ": " + e, e);
        }
    }

    private static String tail(Path file, int lines) {
        try {
            List<String> all = Files.readAllLines(file, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (NoSuchFileException e) {
            return "(no log file " + file + ")";
        } catch (IOException e) {
            return "(cannot read " + file + ": " + e.getMessage() + ")";
        }
    }

    private List<String> adminPsql(String database, String... arguments) {
        List<String> command = new ArrayList<>(List.of(binaries.psql().toString(),
                "--no-psqlrc", "--no-password", "--set=ON_ERROR_STOP=1",
                "--host=" + socketDirectory, "--port=" + port, "--username=" + superuser, "--dbname=" + database));
        command.addAll(List.of(arguments));
        return command;
    }

    private Map<String, String> adminEnvironment() {
        return Map.of("PGPASSWORD", superuserPassword, "PGAPPNAME", "pgpolicy-embedded-admin",
                "PGCLIENTENCODING", "UTF8", "PGCONNECT_TIMEOUT", "10");
    }

    private static String randomPassword() {
        byte[] bytes = new byte[24];
        new SecureRandom().nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    // ---------------------------------------------------------------------------------- builder

    public static final class Builder {
        private Path dataDirectory;
        private Optional<Boolean> deleteOnStop = Optional.empty();
        private int port;
        private String superuser = "postgres";
        private String superuserPassword;
        private PostgresBinaries binaries;
        private String osUser = "postgres";
        private CertificateAuthority certificateAuthority;
        private final Map<String, String> settings = new LinkedHashMap<>();
        private final List<String> hbaRules = new ArrayList<>();
        private boolean requireTls;
        private int maxConnections = 200;
        private Duration startTimeout = Duration.ofSeconds(60);

        private Builder() {
        }

        /**
         * Where the cluster lives (created if missing, must be empty). Without it, a private
         * directory under java.io.tmpdir is used and deleted at stop; a given directory is kept
         * unless {@link #deleteOnStop(boolean)} says otherwise.
         */
        public Builder dataDirectory(Path directory) {
            this.dataDirectory = Objects.requireNonNull(directory);
            return this;
        }

        public Builder deleteOnStop(boolean delete) {
            this.deleteOnStop = Optional.of(delete);
            return this;
        }

        /** 0 (the default) picks a free port. */
        public Builder port(int tcpPort) {
            if (tcpPort < 0 || tcpPort > 65535) {
                throw new IllegalArgumentException("port out of range: " + tcpPort);
            }
            this.port = tcpPort;
            return this;
        }

        public Builder superuser(String name) {
            this.superuser = Objects.requireNonNull(name);
            return this;
        }

        public Builder superuserPassword(String password) {
            if (password.isEmpty() || password.indexOf('\n') >= 0 || password.indexOf('\r') >= 0) {
                throw new IllegalArgumentException("the superuser password must be one non-empty line");
            }
            this.superuserPassword = password;
            return this;
        }

        public Builder binaries(PostgresBinaries installation) {
            this.binaries = Objects.requireNonNull(installation);
            return this;
        }

        public Builder binDirectory(Path directory) {
            return binaries(PostgresBinaries.at(directory));
        }

        /** The OS account the server runs under when the JVM is root; {@code postgres} by default. */
        public Builder osUser(String user) {
            this.osUser = Objects.requireNonNull(user);
            return this;
        }

        /** Issue the server certificate from this CA instead of a fresh one. */
        public Builder certificateAuthority(CertificateAuthority authority) {
            this.certificateAuthority = Objects.requireNonNull(authority);
            return this;
        }

        /** A postgresql.conf setting; applied after the launcher's own, so it wins. */
        public Builder setting(String name, String value) {
            if (!SETTING_NAME.matcher(name).matches()) {
                throw new IllegalArgumentException("not a PostgreSQL setting name: " + name);
            }
            if (value.indexOf('\n') >= 0 || value.indexOf('\r') >= 0) {
                throw new IllegalArgumentException("setting " + name + " must be a single line");
            }
            settings.put(name, value);
            return this;
        }

        /** A pg_hba.conf line placed before the defaults (first match wins), e.g. {@code hostssl all alice 127.0.0.1/32 cert}. */
        public Builder hbaRule(String line) {
            if (line.isBlank() || line.indexOf('\n') >= 0 || line.indexOf('\r') >= 0) {
                throw new IllegalArgumentException("a pg_hba.conf rule is one non-blank line");
            }
            hbaRules.add(line);
            return this;
        }

        /** TCP clients must use TLS ({@code hostssl}); by default plain TCP is accepted too. */
        public Builder requireTls(boolean require) {
            this.requireTls = require;
            return this;
        }

        public Builder maxConnections(int connections) {
            if (connections < 5) {
                throw new IllegalArgumentException("max_connections below 5 leaves no room for superuser_reserved_connections");
            }
            this.maxConnections = connections;
            return this;
        }

        public Builder startTimeout(Duration timeout) {
            if (timeout.toSeconds() < 1) {
                throw new IllegalArgumentException("start timeout must be at least a second");
            }
            this.startTimeout = timeout;
            return this;
        }

        public EmbeddedPostgres start() {
            return new EmbeddedPostgres(this).boot(this);
        }
    }
}
