package dev.pgpolicy.proxy.testing;

import dev.pgpolicy.proxy.embedded.EmbeddedPostgres;
import dev.pgpolicy.proxy.embedded.ExternalCommand;
import dev.pgpolicy.proxy.embedded.PostgresBinaries;
import dev.pgpolicy.proxy.embedded.ProcessResult;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Runs the real PostgreSQL clients, psql and pgbench, as processes against any host and port (the
 * embedded server or the proxy in front of it), with libpq settings passed through the
 * environment (libpq docs, "Environment Variables"). Each run captures stdout, stderr and the exit
 * code and is killed after its timeout.
 *
 * <pre>{@code
 * ProcessResult r = PgClient.to("127.0.0.1", proxyPort)
 *         .user("app").password("secret").database("shop")
 *         .sslMode("verify-full").sslRootCert(ca)
 *         .psql("SELECT count(*) FROM payments.customers");
 * }</pre>
 */
public final class PgClient {
    private final String host;
    private final int port;
    private final Map<String, String> environment = new LinkedHashMap<>();
    private Duration timeout = Duration.ofMinutes(2);

    private PgClient(String host, int port) {
        this.host = Objects.requireNonNull(host);
        this.port = port;
        environment.put("PGCONNECT_TIMEOUT", "10");
    }

    public static PgClient to(String host, int port) {
        return new PgClient(host, port);
    }

    /** As the cluster's superuser, TLS verify-full against the cluster's CA. */
    public static PgClient superuserOf(EmbeddedPostgres postgres) {
        return to(postgres.host(), postgres.port())
                .user(postgres.superuser()).password(postgres.superuserPassword()).database("postgres")
                .sslMode("verify-full").sslRootCert(postgres.caCertificate());
    }

    public PgClient user(String user) {
        return env("PGUSER", user);
    }

    public PgClient password(String password) {
        return env("PGPASSWORD", password);
    }

    public PgClient database(String database) {
        return env("PGDATABASE", database);
    }

    /** disable, allow, prefer, require, verify-ca or verify-full. */
    public PgClient sslMode(String mode) {
        return env("PGSSLMODE", mode);
    }

    public PgClient sslRootCert(Path caFile) {
        return env("PGSSLROOTCERT", caFile.toString());
    }

    public PgClient sslClientCertificate(Path certificateFile, Path keyFile) {
        return env("PGSSLCERT", certificateFile.toString()).env("PGSSLKEY", keyFile.toString());
    }

    public PgClient applicationName(String name) {
        return env("PGAPPNAME", name);
    }

    public PgClient env(String name, String value) {
        environment.put(name, value);
        return this;
    }

    public PgClient timeout(Duration deadline) {
        this.timeout = deadline;
        return this;
    }

    /** {@code psql -c SQL}: unaligned, tuples only, stop at the first error. */
    public ProcessResult psql(String sql) {
        return psqlWith("--no-align", "--tuples-only", "--command=" + sql);
    }

    /** psql reading a script from stdin, echoing nothing but results. */
    public ProcessResult psqlScript(String script) {
        return run(psqlCommand("--quiet", "--no-align", "--tuples-only", "--file=-"), script);
    }

    /** psql with arbitrary extra arguments (after the connection options). */
    public ProcessResult psqlWith(String... arguments) {
        return run(psqlCommand(arguments), "");
    }

    /** pgbench with the given arguments, e.g. {@code "-i", "-s", "1"} or {@code "-c", "4", "-t", "100"}. */
    public ProcessResult pgbench(String... arguments) {
        List<String> command = new ArrayList<>(List.of(binaries().pgbench().toString(), "--host=" + host, "--port=" + port));
        command.addAll(List.of(arguments));
        return run(command, "");
    }

    private List<String> psqlCommand(String... arguments) {
        List<String> command = new ArrayList<>(List.of(binaries().psql().toString(),
                "--no-psqlrc", "--no-password", "--set=ON_ERROR_STOP=1", "--host=" + host, "--port=" + port));
        command.addAll(List.of(arguments));
        return command;
    }

    private ProcessResult run(List<String> command, String stdin) {
        return ExternalCommand.of(command).environment(environment).stdin(stdin).timeout(timeout).run();
    }

    private static PostgresBinaries binaries() {
        return Binaries.INSTANCE;
    }

    private static final class Binaries {
        static final PostgresBinaries INSTANCE = PostgresBinaries.locate();
    }
}
