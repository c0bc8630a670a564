package dev.pgpolicy.proxy.cli;

import dev.pgpolicy.proxy.config.ConfigFile;
import dev.pgpolicy.proxy.config.HostPort;
import dev.pgpolicy.proxy.server.ProxyConfig;
import dev.pgpolicy.proxy.server.ProxyServer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * {@code pgpolicy serve}: runs the proxy until SIGTERM or SIGINT, then shuts down gracefully.
 * Flags override the configuration file (DESIGN.md, "Command line").
 */
@Command(
        name = "serve",
        mixinStandardHelpOptions = true,
        description = "Run the proxy in front of a PostgreSQL server until stopped (SIGTERM/SIGINT).")
public final class ServeCommand implements Callable<Integer> {

    private static final Logger LOG = LoggerFactory.getLogger(ServeCommand.class);

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--config", paramLabel = "FILE", description = "YAML configuration file (pgpolicy.yaml).")
    Path configFile;

    @Option(names = "--listen", paramLabel = "HOST:PORT", description = "Address to accept clients on (default 127.0.0.1:6432).")
    String listen;

    @Option(names = "--upstream", paramLabel = "HOST:PORT", description = "The PostgreSQL server.")
    String upstream;

    @Option(names = "--policies", paramLabel = "DIR", description = "Directory of .pgpolicy files to enforce.")
    Path policies;

    @Option(names = "--tls-cert", paramLabel = "FILE", description = "PEM certificate (chain) clients see; without it a self-signed one is generated.")
    Path tlsCert;

    @Option(names = "--tls-key", paramLabel = "FILE", description = "PEM private key of --tls-cert.")
    Path tlsKey;

    @Option(names = "--upstream-tls", paramLabel = "MODE", description = "disable, require, verify-ca or verify-full.")
    String upstreamTls;

    @Option(names = "--upstream-ca", paramLabel = "FILE", description = "CA certificate(s) that sign the server's certificate.")
    Path upstreamCa;

    @Option(names = "--audit", paramLabel = "DIR", description = "Directory for the audit log.")
    Path audit;

    @Option(names = "--admin", paramLabel = "HOST:PORT", description = "Address of the admin and metrics endpoint.")
    String admin;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        ProxyConfig config;
        try {
            config = configuration();
        } catch (IllegalArgumentException | ConfigFile.ConfigException e) {
            err.println("pgpolicy serve: " + e.getMessage());
            err.flush();
            return 2;
        }
        // SIGHUP reloads, the convention of PostgreSQL and most daemons. sun.misc.Signal is the
        // JDK's only way to catch it; the handler runs on a JVM thread, off the event loops. It is
        // installed before the start: the JVM's default for SIGHUP is to exit, so a reload asked
        // for while the proxy starts must not stop it (the start reads the files as they are then).
        AtomicReference<ProxyServer> running = new AtomicReference<>();
        SignalHandler previous = Signal.handle(new Signal("HUP"), signal -> {
            ProxyServer current = running.get();
            if (current == null) {
                LOG.info("SIGHUP while starting: the users file and the policy set are read as the start loads them");
                return;
            }
            LOG.info("SIGHUP: reloading the users file and the policy set");
            current.reload();
        });
        if (previous == SignalHandler.SIG_IGN) {
            // The JVM keeps a SIGHUP the process inherited as ignored (nohup, some supervisors)
            // ignored, and says nothing: an operator's SIGHUP would then reload nothing, silently.
            LOG.warn("SIGHUP is ignored in this process (started under nohup or by a supervisor that ignores it): "
                    + "a SIGHUP will not reload; use POST /reload on the admin endpoint or the policy file watch, "
                    + "or start pgpolicy without ignoring SIGHUP");
        }
        ProxyServer server;
        try {
            server = ProxyServer.start(config);
        } catch (IllegalArgumentException e) {
            err.println("pgpolicy serve: " + e.getMessage());
            err.flush();
            return 1;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            LOG.info("stop requested: shutting down (grace period {} ms)", config.shutdownGracePeriod().toMillis());
            server.close();
            stopped.countDown();
        }, "pgpolicy-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        running.set(server);
        LOG.info("running: SIGHUP reloads the users file and the policy set, SIGTERM stops");
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            server.close();
        }
        return 0;
    }

    ProxyConfig configuration() {
        ProxyConfig.Builder builder = configFile == null ? ProxyConfig.builder() : ConfigFile.load(configFile);
        if (listen != null) {
            builder.listen(option("--listen", () -> HostPort.parse(listen)));
        }
        if (upstream != null) {
            builder.upstream(option("--upstream", () -> HostPort.parse(upstream)));
        }
        if (policies != null) {
            builder.policiesDir(policies);
        }
        if (tlsCert != null || tlsKey != null) {
            if (tlsCert == null || tlsKey == null) {
                throw new IllegalArgumentException("--tls-cert and --tls-key go together");
            }
            builder.tls(tlsCert, tlsKey);
        }
        if (upstreamTls != null) {
            builder.upstreamTls(option("--upstream-tls", () -> ProxyConfig.UpstreamTls.parse(upstreamTls)));
        }
        if (upstreamCa != null) {
            builder.upstreamCa(upstreamCa);
        }
        if (audit != null) {
            builder.auditDir(audit);
        }
        if (admin != null) {
            builder.adminListen(option("--admin", () -> HostPort.parse(admin)));
        }
        return builder.build();
    }

    private interface Parser<T> {
        T parse();
    }

    private static <T> T option(String name, Parser<T> parser) {
        try {
            return parser.parse();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(name + ": " + e.getMessage(), e);
        }
    }
}
