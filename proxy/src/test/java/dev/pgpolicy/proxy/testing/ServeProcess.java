package dev.pgpolicy.proxy.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * {@code pgpolicy serve} in a child JVM, as an operator runs it: its own process (so it can be sent
 * signals, SIGKILL included: the {@link Process} is the JVM itself, no wrapper script), its output
 * in a log file the test reads while it runs.
 */
public final class ServeProcess implements AutoCloseable {

    /** 128 + SIGKILL(9): the exit status of a process killed by SIGKILL. */
    public static final int KILLED = 137;
    /** 128 + SIGTERM(15). */
    public static final int TERMINATED = 143;

    private final Process process;
    private final Path log;

    private ServeProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    /** Starts {@code serve ARGS...} writing to {@code log}; returns once it is listening. */
    public static ServeProcess start(Path log, List<String> args) throws IOException {
        return start(log, List.of(), args);
    }

    /** As {@link #start(Path, List)}, with options for the child JVM (e.g. to start faster). */
    public static ServeProcess start(Path log, List<String> jvmOptions, List<String> args) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(List.of(java));
        command.addAll(jvmOptions);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"),
                "dev.pgpolicy.proxy.cli.PgPolicyCommand", "serve"));
        command.addAll(args);
        Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        ServeProcess serve = new ServeProcess(process, log);
        try {
            serve.awaitLog("running: SIGHUP reloads", Duration.ofSeconds(60));
        } catch (AssertionError | RuntimeException e) {
            process.destroyForcibly();
            throw e;
        }
        return serve;
    }

    /** A port nobody listens on right now, for {@code --listen} and {@code --admin}. */
    public static int freePort() throws IOException {
        try (ServerSocket probe = new ServerSocket(0)) {
            return probe.getLocalPort();
        }
    }

    public long pid() {
        return process.pid();
    }

    /** Everything the process printed so far (this and earlier processes appending to the same log). */
    public List<String> logLines() {
        try {
            return Files.readAllLines(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Waits until a line contains {@code text}; fails with the whole log otherwise. */
    public void awaitLog(String text, Duration timeout) {
        awaitLog("a line containing \"" + text + "\"", lines -> lines.stream().anyMatch(line -> line.contains(text)),
                timeout);
    }

    /** Waits until the log satisfies {@code condition}; fails with the whole log otherwise. */
    public void awaitLog(String description, Predicate<List<String>> condition, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.test(logLines())) {
            if (!process.isAlive()) {
                throw new AssertionError("serve exited with status " + process.exitValue() + " while waiting for "
                        + description + ":\n" + String.join("\n", logLines()));
            }
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("waited " + timeout + " for " + description + " in:\n"
                        + String.join("\n", logLines()));
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted", e);
            }
        }
    }

    /** SIGKILL, as {@link Process#destroyForcibly()} sends it on Unix; returns the exit status. */
    public int kill() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            throw new AssertionError("serve did not end after SIGKILL");
        }
        return process.exitValue();
    }

    /** SIGTERM, a graceful stop; returns the exit status. */
    public int stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("serve did not stop within 60 s of SIGTERM:\n" + String.join("\n", logLines()));
        }
        return process.exitValue();
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
            try {
                process.waitFor(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
