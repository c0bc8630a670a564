package dev.pgpolicy.proxy.cli;

import dev.pgpolicy.proxy.config.HostPort;
import dev.pgpolicy.proxy.embedded.EmbeddedPostgres;
import dev.pgpolicy.proxy.embedded.EmbeddedPostgresException;
import dev.pgpolicy.proxy.server.ProxyConfig;
import dev.pgpolicy.proxy.server.ProxyServer;
import dev.pgpolicy.proxy.tls.CertifiedKey;
import dev.pgpolicy.proxy.tls.PkiException;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code pgpolicy demo}: a private PostgreSQL with a small payments schema full of (fake) personal
 * data, and the proxy in front of it, so anyone can try pgpolicy with psql in one command. Ctrl-C
 * stops both and deletes every file the demo wrote.
 */
@Command(
        name = "demo",
        mixinStandardHelpOptions = true,
        description = {
            "Starts an embedded PostgreSQL with sample personal data (schema payments) and pgpolicy in front"
                    + " of it, prints psql commands to try, and runs until Ctrl-C.",
            "Everything lives in a temporary directory that is deleted on exit."
        })
public final class DemoCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(DemoCommand.class);

    static final String DEFAULT_LISTEN = "127.0.0.1:6432";

    @Option(names = "--listen", paramLabel = "HOST:PORT", defaultValue = DEFAULT_LISTEN,
            description = "Where the proxy listens (default ${DEFAULT-VALUE}; port 0 picks a free port;"
                    + " when the default port is taken, a free one is used).")
    String listen;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        HostPort requested;
        try {
            requested = HostPort.parse(listen);
        } catch (IllegalArgumentException e) {
            err.println("pgpolicy demo: --listen: " + e.getMessage());
            err.flush();
            return 2;
        }
        if (DEFAULT_LISTEN.equals(listen) && !portFree(requested)) {
            log.info("port {} is in use; the demo proxy takes a free port instead", requested.port());
            requested = new HostPort(requested.host(), 0);
        }
        Demo demo;
        try {
            demo = Demo.start(requested);
        } catch (EmbeddedPostgresException | IllegalArgumentException | PkiException | UncheckedIOException e) {
            // Start failures are the operator's to fix (missing binaries, port in use): a message, no trace.
            err.println("pgpolicy demo: " + e.getMessage());
            err.flush();
            return 1;
        }
        try (demo) {
            out.print(demo.instructions());
            out.flush();
            demo.awaitStop();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }

    private static boolean portFree(HostPort address) {
        try (ServerSocket probe = new ServerSocket()) {
            probe.bind(new InetSocketAddress(InetAddress.getByName(address.host()), address.port()));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * A running demo: PostgreSQL with the sample data, and the proxy in front of it accepting
     * TLS clients only. {@link #close()} (or the JVM shutdown hook, on Ctrl-C) stops the proxy, then
     * PostgreSQL, and deletes the directory.
     */
    public static final class Demo implements AutoCloseable {
        public static final String DATABASE = "demo";
        /** The roles schema.sql grants to, in the order the instructions present them. */
        public static final List<String> ROLES = List.of("app", "analyst", "dba");
        static final List<String> DEMO_POLICY_FILES = List.of("demo.pgpolicy", "demo.pgtest");
        /** A change to the demo's set that the instructions dry-run against the recorded traffic. */
        static final String PROPOSED_POLICY_FILE = "proposed.pgpolicy";

        private final EmbeddedPostgres postgres;
        private final ProxyServer proxy;
        private final Map<String, String> passwords;
        private final Thread shutdownHook;
        private final CountDownLatch stopped = new CountDownLatch(1);

        private Demo(EmbeddedPostgres postgres, ProxyServer proxy, Map<String, String> passwords) {
            this.postgres = postgres;
            this.proxy = proxy;
            this.passwords = passwords;
            this.shutdownHook = new Thread(this::close, "pgpolicy-demo-shutdown");
            Runtime.getRuntime().addShutdownHook(shutdownHook);
        }

        public static Demo start(HostPort listen) {
            log.info("starting the embedded PostgreSQL ...");
            EmbeddedPostgres postgres = EmbeddedPostgres.start();
            ProxyServer proxy = null;
            try {
                Map<String, String> passwords = loadSampleData(postgres);
                proxy = startProxy(postgres, listen);
                return new Demo(postgres, proxy, passwords);
            } catch (RuntimeException e) {
                if (proxy != null) {
                    proxy.close();
                }
                postgres.stop();
                throw e;
            }
        }

        /** Creates the roles with fresh random passwords, the demo database and the sample schema. */
        static Map<String, String> loadSampleData(EmbeddedPostgres postgres) {
            Map<String, String> passwords = new LinkedHashMap<>();
            for (String role : ROLES) {
                String password = randomPassword();
                postgres.createRole(role, password);
                passwords.put(role, password);
            }
            postgres.createDatabase(DATABASE, "dba");
            postgres.execute(DATABASE, sampleSchema());
            return Map.copyOf(passwords);
        }

        static String sampleSchema() {
            try (InputStream in = DemoCommand.class.getResourceAsStream("/demo/schema.sql")) {
                if (in == null) {
                    throw new IllegalStateException("demo/schema.sql is missing from the pgpolicy jar");
                }
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read demo/schema.sql", e);
            }
        }

        private static ProxyServer startProxy(EmbeddedPostgres postgres, HostPort listen) {
            // The proxy's certificate comes from the same CA as the server's, so clients can check
            // it with sslmode=verify-full and the one CA file the instructions name.
            Path proxyDirectory = postgres.baseDirectory().resolve("proxy");
            try {
                Files.createDirectories(proxyDirectory);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create " + proxyDirectory, e);
            }
            CertifiedKey proxyKey = postgres.certificateAuthority().issueLocalhostServer();
            Path certificate = proxyDirectory.resolve("proxy.crt");
            Path key = proxyDirectory.resolve("proxy.key");
            proxyKey.writeCertificateChain(certificate);
            proxyKey.writePrivateKey(key);
            Path policies = writeDemoPolicies(proxyDirectory.resolve("policies"));
            writeProposedPolicies(proxyDirectory.resolve("proposed"));
            // Masking resolves result columns over a catalog connection of its own; in the demo
            // the cluster's superuser reads the catalog.
            Path catalogPassword = proxyDirectory.resolve("catalog.password");
            try {
                Files.writeString(catalogPassword, postgres.superuserPassword() + "\n", StandardCharsets.UTF_8);
                Files.setPosixFilePermissions(catalogPassword, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write " + catalogPassword, e);
            }
            ProxyConfig config = ProxyConfig.builder()
                    .listen(listen)
                    .policiesDir(policies)
                    .catalog(postgres.superuser(), catalogPassword)
                    // Audit and the admin endpoint on, as an operator would run it; a free
                    // loopback port keeps two demos (or a demo and the tests) from colliding.
                    .auditDir(proxyDirectory.resolve("audit"))
                    .adminListen(new HostPort("127.0.0.1", 0))
                    .upstream(postgres.host(), postgres.port())
                    // Passthrough SCRAM cannot cross a TLS upstream for clients that talk TLS to the
                    // proxy: libpq then sends the gs2 flag "y" (RFC 5802 section 6: it supports
                    // channel binding but the offer had no SCRAM-SHA-256-PLUS), and a server whose
                    // own connection is TLS must treat that as a downgrade attack and refuse. The
                    // demo keeps both ends on 127.0.0.1, so the server leg stays on loopback TCP.
                    .upstreamTls(ProxyConfig.UpstreamTls.DISABLE)
                    .tls(certificate, key)
                    .requireTls(true)
                    // A demo is stopped with Ctrl-C while psql sessions are open; do not linger.
                    .shutdownGracePeriod(Duration.ofSeconds(2))
                    .build();
            try {
                return ProxyServer.start(config);
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                // Netty rethrows a failed bind as its undeclared IOException (EADDRINUSE).
                throw new IllegalArgumentException("cannot listen on " + listen + ": " + e.getMessage(), e);
            }
        }

        /** The demo's policy set and its tests, shipped in the jar, as a directory the proxy loads. */
        static Path writeDemoPolicies(Path directory) {
            try {
                Files.createDirectories(directory);
                for (String file : DEMO_POLICY_FILES) {
                    copyResource("/demo/policies/" + file, directory.resolve(file));
                }
                return directory;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write the demo policies to " + directory, e);
            }
        }

        /**
         * The demo's set plus one proposed rule, in a directory of its own: what a policy author
         * would have on a branch, for {@code pgpolicy dry-run --baseline} to compare with the set
         * in force. It is never loaded by the proxy.
         */
        static Path writeProposedPolicies(Path directory) {
            try {
                Files.createDirectories(directory);
                copyResource("/demo/policies/demo.pgpolicy", directory.resolve("demo.pgpolicy"));
                copyResource("/demo/proposed/" + PROPOSED_POLICY_FILE, directory.resolve(PROPOSED_POLICY_FILE));
                return directory;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write the proposed policies to " + directory, e);
            }
        }

        private static void copyResource(String resource, Path target) throws IOException {
            try (InputStream in = DemoCommand.class.getResourceAsStream(resource)) {
                if (in == null) {
                    throw new IllegalStateException(resource.substring(1) + " is missing from the pgpolicy jar");
                }
                Files.copy(in, target);
            }
        }

        public EmbeddedPostgres postgres() {
            return postgres;
        }

        public InetSocketAddress proxyAddress() {
            return proxy.address();
        }

        public Path auditDirectory() {
            return postgres.baseDirectory().resolve("proxy").resolve("audit");
        }

        public Path policiesDirectory() {
            return postgres.baseDirectory().resolve("proxy").resolve("policies");
        }

        public Path proposedPoliciesDirectory() {
            return postgres.baseDirectory().resolve("proxy").resolve("proposed");
        }

        public Map<String, String> passwords() {
            return passwords;
        }

        /** What the demo prints: where things run and psql commands ready to paste. */
        public String instructions() {
            InetSocketAddress address = proxyAddress();
            String host = address.getAddress().getHostAddress();
            int port = address.getPort();
            StringBuilder text = new StringBuilder();
            text.append('\n').append("pgpolicy demo is running.\n\n");
            text.append(String.format("  proxy       %s:%d  (TLS certificate SHA-256 %s)%n", host, port,
                    proxy.certificateFingerprint()));
            text.append(String.format("  PostgreSQL  %s:%d  (database %s; the proxy relays to it over loopback TCP)%n",
                    postgres.host(), postgres.port(), DATABASE));
            text.append(String.format("  CA file     %s%n", postgres.caCertificate()));
            text.append("\nConnect through the proxy (one role per line; the passwords are new at every start):\n\n");
            for (String role : ROLES) {
                text.append(String.format("  PGPASSWORD='%s' psql \"host=%s port=%d dbname=%s user=%s sslmode=require\"%n",
                        passwords.get(role), host, port, DATABASE, role));
            }
            text.append("\nOr verify the proxy's certificate as well:\n\n");
            text.append(String.format(
                    "  PGPASSWORD='%s' psql \"host=localhost port=%d dbname=%s user=analyst sslmode=verify-full sslrootcert=%s\"%n",
                    passwords.get("analyst"), port, DATABASE, postgres.caCertificate()));
            text.append("\nThe proxy enforces the policy set in ").append(policiesDirectory()).append(":\n\n");
            text.append("  SELECT full_name, email, ssn, card_number FROM payments.customers LIMIT 5;"
                    + "  -- analyst: masked; dba: clear\n");
            text.append("  SELECT id FROM payments.customers WHERE ssn = '900-00-0000';"
                    + "  -- analyst: denied by no-pii-filter\n");
            text.append("  SELECT status, count(*), sum(amount) FROM payments.orders GROUP BY status;\n");
            text.append("  INSERT INTO payments.orders (customer_id, amount, status, card_last4)"
                    + " VALUES (1, 9.99, 'pending', '0000');  -- app may, analyst may not\n");
            text.append("  DROP TABLE payments.orders;  -- app: denied by no-ddl\n");
            text.append("  SELECT * FROM payments.customers WHERE email = '' OR 1=1;  -- denied by guard.tautology\n");
            proxy.adminAddress().ifPresent(admin -> text.append(String.format(
                    "%nAdmin endpoint: http://127.0.0.1:%d/metrics  /sessions  /policy  (POST /reload)%n",
                    admin.getPort())));
            text.append(String.format("Audit log: %s%n  bin/pgpolicy audit verify %s%n",
                    auditDirectory(), auditDirectory()));
            text.append(String.format("%nTry a policy change on the traffic recorded so far: %s adds a rule that"
                    + " denies the%nanalyst's order query above; the dry-run lists what would change and exits 3:%n%n",
                    proposedPoliciesDirectory().resolve(PROPOSED_POLICY_FILE)));
            text.append(String.format("  bin/pgpolicy dry-run --policies %s --baseline %s %s%n", proposedPoliciesDirectory(),
                    policiesDirectory(), auditDirectory()));
            text.append("\nSee why, without a database:\n\n");
            text.append(String.format("  bin/pgpolicy explain --policies %s --as user=analyst"
                    + " \"SELECT email, ssn FROM payments.customers WHERE id = 1\"%n", policiesDirectory()));
            text.append("\nPress Ctrl-C to stop: the proxy and PostgreSQL stop and ")
                    .append(postgres.baseDirectory()).append(" is deleted.\n");
            return text.toString();
        }

        /** Blocks until {@link #close()} runs (from another thread or the shutdown hook) or the thread is interrupted. */
        public void awaitStop() throws InterruptedException {
            stopped.await();
        }

        @Override
        public void close() {
            synchronized (this) {
                if (stopped.getCount() == 0) {
                    return;
                }
                try {
                    proxy.close();
                } finally {
                    try {
                        postgres.stop();
                    } finally {
                        stopped.countDown();
                        try {
                            Runtime.getRuntime().removeShutdownHook(shutdownHook);
                        } catch (IllegalStateException shuttingDown) {
                            // Running inside the hook: the JVM is already on its way out.
                        }
                    }
                }
            }
            log.info("demo stopped; PostgreSQL and the proxy are down and their files deleted");
        }

        private static String randomPassword() {
            byte[] bytes = new byte[12];
            new SecureRandom().nextBytes(bytes);
            // URL-safe base64 has no quote, space or backslash: safe inside the printed shell command.
            return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
        }
    }
}
