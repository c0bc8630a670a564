package dev.pgpolicy.proxy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class ServeCommandTest {

    private record Run(int exitCode, String err) {}

    private static Run run(String... args) {
        StringWriter err = new StringWriter();
        CommandLine cli = PgPolicyCommand.newCommandLine();
        cli.setErr(new PrintWriter(err));
        int code = cli.execute(args);
        return new Run(code, err.toString());
    }

    @Test
    void featuresOfLaterReleasesAreRefusedNotIgnored(@TempDir Path dir) throws Exception {
        Path config = Files.writeString(dir.resolve("pgpolicy.yaml"), """
                upstream: { host: 127.0.0.1, port: 5432 }
                listen: 127.0.0.1:0
                auth: { mode: passthrough, users: users.yaml }
                tls: { require_client_cert: true }
                audit: { dir: audit/ }
                """);
        Run run = run("serve", "--config", config.toString());
        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).contains("refusing to start").contains("auth.users").contains("tls.require_client_cert");
        // Refused before anything was opened: no audit directory appears.
        assertThat(dir.resolve("audit")).doesNotExist();
    }

    @Test
    void aBrokenPolicySetRefusesTheStartWithEveryDiagnostic(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("a.pgpolicy"), "allow any select on public.*;\nallow nobody select on t;\n");
        Files.writeString(dir.resolve("b.pgpolicy"), "deny any frobnicate;\n");
        Run run = run("serve", "--upstream", "127.0.0.1:5432", "--listen", "127.0.0.1:0", "--policies", dir.toString());
        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).contains("was refused").containsPattern("a\\.pgpolicy:2:\\d+: error: unknown role 'nobody'")
                .containsPattern("b\\.pgpolicy:1:\\d+: error: unknown action 'frobnicate'");
    }

    @Test
    void aPolicySetWithAFailingTestRefusesTheStart(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("a.pgpolicy"), "allow any select on public.*;\n");
        Files.writeString(dir.resolve("a.pgtest"), """
                test "drop is allowed" {
                  as user "ana";
                  query "DROP TABLE public.t";
                  expect allow;
                }
                """);
        Run run = run("serve", "--upstream", "127.0.0.1:5432", "--listen", "127.0.0.1:0", "--policies", dir.toString());
        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).contains("was refused").contains("drop is allowed");
    }

    @Test
    void aMaskingKeyFileTooShortRefusesTheStartNamingTheFile(@TempDir Path dir) throws Exception {
        Path key = Files.writeString(dir.resolve("mask.key"), "too-short\n");
        Files.setPosixFilePermissions(key, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        Files.writeString(dir.resolve("a.pgpolicy"), "allow any select on public.*;\n");
        Path config = Files.writeString(dir.resolve("pgpolicy.yaml"), """
                upstream: { host: 127.0.0.1, port: 5432 }
                listen: 127.0.0.1:0
                policies: .
                masking: { hash_key_file: mask.key }
                """);
        Run run = run("serve", "--config", config.toString());
        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).contains("masking.hash_key_file " + key).contains("holds 9 bytes of key; at least 32")
                .doesNotContain("too-short");
        Files.delete(key);
        Run missing = run("serve", "--config", config.toString());
        assertThat(missing.exitCode()).isEqualTo(1);
        assertThat(missing.err()).contains("masking.hash_key_file " + key + ": no such file");
    }

    @Test
    void serveHasNoFlagForTheMaskingKey() {
        StringWriter out = new StringWriter();
        CommandLine cli = PgPolicyCommand.newCommandLine();
        cli.setOut(new PrintWriter(out));
        assertThat(cli.execute("serve", "--help")).isZero();
        // DESIGN.md fixes the command line: the key is a configuration-file setting only.
        assertThat(out.toString()).contains("--policies").doesNotContainIgnoringCase("mask").doesNotContainIgnoringCase("hash");
    }

    @Test
    void missingUpstreamIsAUsageError() {
        Run run = run("serve", "--listen", "127.0.0.1:0");
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("no upstream server configured");
    }

    @Test
    void badFlagValuesAreNamed() {
        assertThat(run("serve", "--upstream", "nowhere").err()).contains("--upstream: expected HOST:PORT");
        assertThat(run("serve", "--upstream", "127.0.0.1:5432", "--upstream-tls", "maybe").err())
                .contains("--upstream-tls: upstream TLS mode must be one of");
        assertThat(run("serve", "--upstream", "127.0.0.1:5432", "--tls-cert", "a.crt").err())
                .contains("--tls-cert and --tls-key go together");
    }

    @Test
    void unreadableCertificateIsReportedBeforeListening(@TempDir Path dir) throws Exception {
        Path cert = Files.writeString(dir.resolve("proxy.crt"), "not a certificate");
        Path key = Files.writeString(dir.resolve("proxy.key"), "not a key");
        Run run = run("serve", "--upstream", "127.0.0.1:5432", "--listen", "127.0.0.1:0",
                "--tls-cert", cert.toString(), "--tls-key", key.toString());
        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).contains("cannot use " + cert);
    }

    @Test
    void flagsOverrideTheConfigFile(@TempDir Path dir) throws Exception {
        Path config = Files.writeString(dir.resolve("pgpolicy.yaml"), """
                listen: 127.0.0.1:7000
                upstream: { host: 127.0.0.1, port: 5432, tls: require }
                max_client_connections: 5
                """);
        ServeCommand serve = new ServeCommand();
        new CommandLine(serve).parseArgs("--config", config.toString(), "--listen", "127.0.0.1:7001",
                "--upstream-tls", "disable");
        var built = serve.configuration();
        assertThat(built.listen().port()).isEqualTo(7001);
        assertThat(built.upstreamTls().configName()).isEqualTo("disable");
        assertThat(built.maxClientConnections()).isEqualTo(5);
    }
}
