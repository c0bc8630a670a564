package dev.pgpolicy.proxy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgpolicy.proxy.scram.ScramVerifier;
import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class HashPasswordCommandTest {
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String stdin, String... args) {
        HashPasswordCommand command = new HashPasswordCommand();
        command.input = new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8));
        command.console = null;
        CommandLine line = new CommandLine(command);
        line.setOut(new PrintWriter(out, true));
        line.setErr(new PrintWriter(err, true));
        return line.execute(args);
    }

    @Test
    void printsAVerifierOfThePasswordOnStdin() throws Exception {
        assertThat(run("s3cr\u00E9t pass\nignored second line\n", "--stdin")).isZero();
        String printed = out.toString().strip();
        ScramVerifier verifier = ScramVerifier.parse(printed);
        assertThat(verifier.iterations()).isEqualTo(4096);
        assertThat(verifier.matches("s3cr\u00E9t pass".toCharArray())).isTrue();
        assertThat(printed).doesNotContain("s3cr");
    }

    @Test
    void withoutATerminalItReadsStdinAndHonoursIterations() throws Exception {
        assertThat(run("pw\r\n", "--iterations", "10000")).isZero();
        ScramVerifier verifier = ScramVerifier.parse(out.toString().strip());
        assertThat(verifier.iterations()).isEqualTo(10000);
        assertThat(verifier.matches("pw".toCharArray())).isTrue();
    }

    @Test
    void refusesWeakIterationCountsAndEmptyPasswords() {
        assertThat(run("pw\n", "--iterations", "1000")).isEqualTo(2);
        assertThat(err.toString()).contains("--iterations must be between 4096");
        assertThat(run("\n", "--stdin")).isEqualTo(1);
        assertThat(err.toString()).contains("the password is empty");
        assertThat(out.toString()).isEmpty();
    }

    @Test
    void isRegisteredAsASubcommand() {
        assertThat(PgPolicyCommand.newCommandLine().getSubcommands()).containsKey("hash-password");
    }
}
