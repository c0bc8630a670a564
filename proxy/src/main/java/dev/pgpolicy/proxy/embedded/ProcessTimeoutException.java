package dev.pgpolicy.proxy.embedded;

/** An external command outlived its deadline and was killed, together with its children. */
public final class ProcessTimeoutException extends RuntimeException {
    private final ProcessResult partial;

    public ProcessTimeoutException(String message, ProcessResult partial) {
        super(message + "\n" + partial.describe());
        this.partial = partial;
    }

    /** Output captured before the kill; the exit code is the one the killed process reported. */
    public ProcessResult partial() {
        return partial;
    }
}
