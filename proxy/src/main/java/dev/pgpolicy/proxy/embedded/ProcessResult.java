package dev.pgpolicy.proxy.embedded;

import java.util.List;

/** How an external command ended: its exit code and everything it wrote, decoded as UTF-8. */
public record ProcessResult(List<String> command, int exitCode, String stdout, String stderr) {

    public ProcessResult {
        command = List.copyOf(command);
    }

    public boolean succeeded() {
        return exitCode == 0;
    }

    /** Both streams, for assertion messages and exceptions. */
    public String describe() {
        return String.join(" ", command) + " exited with " + exitCode
                + (stdout.isBlank() ? "" : "\n--- stdout ---\n" + stdout.strip())
                + (stderr.isBlank() ? "" : "\n--- stderr ---\n" + stderr.strip());
    }
}
