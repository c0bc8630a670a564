package dev.pgpolicy.proxy.cli;

import dev.pgpolicy.proxy.scram.ScramVerifier;
import java.io.Console;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code pgpolicy hash-password}: prints the SCRAM-SHA-256 verifier of a password, in the
 * {@code pg_authid} form the users file stores. The password is read from the terminal without
 * echo (asked twice), or from standard input with {@code --stdin} or when there is no terminal,
 * never from the command line, where {@code ps} and shell history would keep it.
 */
@Command(name = "hash-password",
        description = "Print the SCRAM-SHA-256 verifier of a password for the users file.",
        mixinStandardHelpOptions = true)
public final class HashPasswordCommand implements Callable<Integer> {
    /** One line of password is enough; a larger input is a mistake (a file piped by accident). */
    private static final int MAX_PASSWORD_BYTES = 1024;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--iterations", paramLabel = "N", defaultValue = "4096",
            description = "PBKDF2 iteration count (at least 4096, RFC 7677; default ${DEFAULT-VALUE}).")
    int iterations;

    @Option(names = "--stdin", description = "Read the password from standard input (first line).")
    boolean stdin;

    /** Replaced in tests; the process's standard input otherwise. */
    InputStream input = System.in;
    /** Replaced in tests; the process's console (null when not a terminal) otherwise. */
    Console console = System.console();

    @Override
    public Integer call() {
        if (iterations < ScramVerifier.DEFAULT_ITERATIONS || iterations > ScramVerifier.MAX_ITERATIONS) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--iterations must be between "
                    + ScramVerifier.DEFAULT_ITERATIONS + " and " + ScramVerifier.MAX_ITERATIONS);
        }
        char[] password = null;
        try {
            password = stdin || console == null ? fromStream() : fromTerminal();
            if (password.length == 0) {
                spec.commandLine().getErr().println("hash-password: the password is empty");
                return 1;
            }
            spec.commandLine().getOut().println(
                    ScramVerifier.generate(password, iterations, new SecureRandom()).encode());
            spec.commandLine().getOut().flush();
            return 0;
        } catch (PasswordInputException e) {
            spec.commandLine().getErr().println("hash-password: " + e.getMessage());
            return 1;
        } finally {
            if (password != null) {
                Arrays.fill(password, '\0');
            }
        }
    }

    private char[] fromTerminal() throws PasswordInputException {
        char[] first = console.readPassword("Password: ");
        if (first == null) {
            throw new PasswordInputException("no password entered");
        }
        char[] second = console.readPassword("Repeat password: ");
        try {
            if (second == null || !Arrays.equals(first, second)) {
                Arrays.fill(first, '\0');
                throw new PasswordInputException("the passwords do not match");
            }
            return first;
        } finally {
            if (second != null) {
                Arrays.fill(second, '\0');
            }
        }
    }

    /** The first line of standard input, without its line ending, strictly UTF-8. */
    private char[] fromStream() throws PasswordInputException {
        byte[] line = new byte[MAX_PASSWORD_BYTES];
        CharBuffer decoded = null;
        try {
            int length = 0;
            int b;
            while ((b = input.read()) != -1 && b != '\n') {
                if (length == MAX_PASSWORD_BYTES) {
                    throw new PasswordInputException("the password is longer than " + MAX_PASSWORD_BYTES + " bytes");
                }
                line[length++] = (byte) b;
            }
            if (length > 0 && line[length - 1] == '\r') {
                length--;
            }
            decoded = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(line, 0, length));
            char[] password = new char[decoded.remaining()];
            decoded.get(password);
            return password;
        } catch (CharacterCodingException e) {
            throw new PasswordInputException("the password is not valid UTF-8");
        } catch (IOException e) {
            throw new PasswordInputException("cannot read standard input: " + e.getMessage());
        } finally {
            Arrays.fill(line, (byte) 0);
            if (decoded != null && decoded.hasArray()) {
                Arrays.fill(decoded.array(), '\0');
            }
        }
    }

    private static final class PasswordInputException extends Exception {
        private static final long serialVersionUID = 1L;

        PasswordInputException(String message) {
            super(message);
        }
    }
}
