package dev.pgpolicy.proxy.embedded;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs an external program (psql, pgbench, initdb, pg_ctl) to completion with a deadline and
 * captures both output streams.
 *
 * <p>Inherited {@code PG*} environment variables are removed before the caller's are applied: a
 * developer's {@code PGHOST}, {@code PGPASSWORD} or {@code PGSSLMODE} must never redirect or
 * weaken a connection a test or the demo makes. libpq reads them all (libpq docs, "Environment
 * Variables").
 */
public final class ExternalCommand {
    private static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(2);

    private final List<String> command;
    private final Map<String, String> environment = new LinkedHashMap<>();
    private Path directory;
    private byte[] stdin = new byte[0];
    private Duration timeout = DEFAULT_TIMEOUT;

    private ExternalCommand(List<String> command) {
        if (command.isEmpty()) {
            throw new IllegalArgumentException("empty command");
        }
        this.command = List.copyOf(command);
    }

    public static ExternalCommand of(List<String> command) {
        return new ExternalCommand(command);
    }

    public static ExternalCommand of(String... command) {
        return new ExternalCommand(List.of(command));
    }

    public ExternalCommand environment(String name, String value) {
        environment.put(Objects.requireNonNull(name), Objects.requireNonNull(value, name));
        return this;
    }

    public ExternalCommand environment(Map<String, String> variables) {
        variables.forEach(this::environment);
        return this;
    }

    public ExternalCommand directory(Path workingDirectory) {
        this.directory = workingDirectory;
        return this;
    }

    public ExternalCommand stdin(String text) {
        this.stdin = text.getBytes(StandardCharsets.UTF_8);
        return this;
    }

    public ExternalCommand timeout(Duration deadline) {
        if (deadline.isNegative() || deadline.isZero()) {
            throw new IllegalArgumentException("timeout must be positive: " + deadline);
        }
        this.timeout = deadline;
        return this;
    }

    /** Runs the command and waits; throws {@link ProcessTimeoutException} after killing it on timeout. */
    public ProcessResult run() {
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().keySet().removeIf(name -> name.startsWith("PG"));
        builder.environment().putAll(environment);
        if (directory != null) {
            builder.directory(directory.toFile());
        }
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + command.get(0) + ": " + e.getMessage(), e);
        }
        CompletableFuture<byte[]> stdout = drain(process.getInputStream());
        CompletableFuture<byte[]> stderr = drain(process.getErrorStream());
        feed(process, stdin);
        boolean finished;
        try {
            finished = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            killTree(process);
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for " + command.get(0), e);
        }
        if (!finished) {
            killTree(process);
            ProcessResult partial = new ProcessResult(command, exitCodeAfterKill(process),
                    collected(stdout), collected(stderr));
            throw new ProcessTimeoutException(command.get(0) + " did not finish within " + timeout, partial);
        }
        return new ProcessResult(command, process.exitValue(), collected(stdout), collected(stderr));
    }

    private static CompletableFuture<byte[]> drain(InputStream stream) {
        // One thread per stream: a child blocked on a full stderr pipe must not deadlock us.
        CompletableFuture<byte[]> result = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            ByteArrayOutputStream buffer = new ByteArrayOutputStream();
            try (stream) {
                stream.transferTo(buffer);
            } catch (IOException e) {
                // The process was killed and the pipe closed under us; keep what arrived.
            }
            result.complete(buffer.toByteArray());
        }, "external-command-output");
        reader.setDaemon(true);
        reader.start();
        return result;
    }

    private static void feed(Process process, byte[] input) {
        Thread writer = new Thread(() -> {
            try (OutputStream out = process.getOutputStream()) {
                out.write(input);
            } catch (IOException e) {
                // The child exited without reading its input; its exit code and stderr tell why.
            }
        }, "external-command-input");
        writer.setDaemon(true);
        writer.start();
    }

    private static String collected(CompletableFuture<byte[]> output) {
        try {
            // A grandchild that inherited the pipe can keep it open after the child exits;
            // give up waiting for EOF after a short grace period rather than hang.
            return new String(output.get(10, TimeUnit.SECONDS), StandardCharsets.UTF_8);
        } catch (TimeoutException e) {
            return "(output still open after the process exited)";
        } catch (ExecutionException e) {
            return "(output unavailable: " + e.getCause() + ")";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "(interrupted while collecting output)";
        }
    }

    private static void killTree(Process process) {
        List<ProcessHandle> all = new ArrayList<>();
        process.descendants().forEach(all::add);
        all.forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
    }

    private static int exitCodeAfterKill(Process process) {
        try {
            return process.waitFor(5, TimeUnit.SECONDS) ? process.exitValue() : -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }
}
