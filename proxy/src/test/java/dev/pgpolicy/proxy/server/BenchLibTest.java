package dev.pgpolicy.proxy.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@code bench/lib.sh}, the setup that compare.sh, scale.sh and soak.sh share: the port picker
 * stays out of the kernel's ephemeral range and away from listening sockets, and the cleanup ends
 * the processes the library started but not one the script has already ended and forgotten (its
 * pid may belong to someone else by then). The scripts themselves run in {@link SoakTest}.
 */
class BenchLibTest {

    @Test
    void freePortPicksBelowTheEphemeralRange() throws Exception {
        // Read line by line: Files.readString trusts the file's size, which procfs reports as 0, and
        // returns the first byte only.
        int ephemeralLow = Integer.parseInt(Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range"))
                .get(0).trim().split("\\s+")[0]);
        String printed = bash("for _ in $(seq 1 300); do free_port; done");
        List<Integer> ports = printed.lines().map(Integer::parseInt).toList();
        assertThat(ports).hasSize(300);
        assertThat(ports).allSatisfy(port -> assertThat(port).isBetween(10000, ephemeralLow - 1));
    }

    @Test
    void portInUseTellsAListeningPortFromAClosedOne() throws Exception {
        int port;
        try (ServerSocket listening = new ServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
            port = listening.getLocalPort();
            assertThat(bash("port_in_use " + port + " && echo in-use || echo free")).isEqualTo("in-use\n");
        }
        assertThat(bash("port_in_use " + port + " && echo in-use || echo free")).isEqualTo("free\n");
    }

    @Test
    void stopStartedEndsTheStartedProcessesButNotAForgottenOne() throws Exception {
        // Their output goes elsewhere: a sleep left over must not hold the pipe read here.
        String printed = bash("""
                sleep 300 >/dev/null & started=$!; started_pids+=("$started")
                sleep 300 >/dev/null & forgotten=$!; started_pids+=("$forgotten")
                forget_pid "$forgotten"
                stop_started
                kill -0 "$started" 2>/dev/null && echo started-alive || echo started-ended
                kill -0 "$forgotten" 2>/dev/null && echo forgotten-alive || echo forgotten-ended
                echo "left: ${#started_pids[@]}"
                kill "$forgotten"
                """);
        assertThat(printed).isEqualTo("started-ended\nforgotten-alive\nleft: 0\n");
    }

    /** Runs a snippet with lib.sh sourced as the scripts source it, under their shell options. */
    private static String bash(String snippet) throws IOException, InterruptedException {
        Path root = BenchFiles.repositoryRoot();
        String script = "set -euo pipefail\n"
                + "root=" + quote(root.toString()) + "\n"
                + "say() { printf '%s\\n' \"lib test: $*\" >&2; }\n"
                + "die() { say \"$*\"; exit 1; }\n"
                + ". \"$root/bench/lib.sh\"\n"
                + snippet;
        Process bash = new ProcessBuilder("bash", "-c", script).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        byte[] out = bash.getInputStream().readAllBytes();
        assertThat(bash.waitFor(60, TimeUnit.SECONDS)).as("bash finished").isTrue();
        String printed = new String(out, StandardCharsets.UTF_8);
        assertThat(bash.exitValue()).as("bash exit status; it printed:\n%s", printed).isZero();
        return printed;
    }

    private static String quote(String value) {
        return "'" + value.replace("'", "'\\''") + "'";
    }
}
