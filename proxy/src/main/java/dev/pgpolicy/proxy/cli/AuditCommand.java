package dev.pgpolicy.proxy.cli;

import dev.pgpolicy.proxy.audit.AuditVerifier;
import dev.pgpolicy.proxy.audit.ChainKey;
import dev.pgpolicy.proxy.audit.VerifyReport;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code pgpolicy audit verify FILE|DIR}: checks the chain of an audit log (docs/audit.md). */
@Command(
        name = "audit",
        description = "Work with the tamper-evident audit log.",
        subcommands = {AuditCommand.Verify.class})
public final class AuditCommand implements Runnable {

    /** Exit status when the files cannot be checked at all (missing key, unreadable path). */
    static final int EXIT_CANNOT_CHECK = 2;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing sub-command (verify)");
    }

    @Command(
            name = "verify",
            description = {
                "Checks the hash chain of audit files: a directory (its *.jsonl files in name order) or files.",
                "Exit 0: chain intact. Exit 1: the chain breaks (the first bad record is named) or the newest file"
                        + " ends with a torn record. Exit 2: the files cannot be checked."
            })
    static final class Verify implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Parameters(arity = "1..*", paramLabel = "FILE|DIR", description = "an audit directory, or audit files")
        List<Path> paths;

        @Option(names = "--key", paramLabel = "FILE", description = "the HMAC key file of a keyed chain (audit.hmac_key_file)")
        Path keyFile;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            if (paths.size() > 1 && paths.stream().anyMatch(Files::isDirectory)) {
                err.println("error: give one directory, or one or more files");
                return EXIT_CANNOT_CHECK;
            }
            try (ChainKey key = keyFile == null ? ChainKey.unkeyed() : ChainKey.fromFile(keyFile)) {
                AuditVerifier verifier = new AuditVerifier(key);
                VerifyReport report = paths.size() == 1 ? verifier.verify(paths.get(0)) : verifier.verify(paths);
                if (report.chainBreak() != null && report.chainBreak().kind() == VerifyReport.Kind.KEY_REQUIRED) {
                    err.println("error: " + report.chainBreak().describe());
                    return EXIT_CANNOT_CHECK;
                }
                out.println(report.summary());
                for (String note : report.notes()) {
                    err.println("note: " + note);
                }
                return report.intact() ? 0 : 1;
            } catch (NoSuchFileException e) {
                err.println("error: no such file or directory: " + e.getFile());
                return EXIT_CANNOT_CHECK;
            } catch (IOException e) {
                err.println("error: " + e.getMessage());
                return EXIT_CANNOT_CHECK;
            }
        }
    }
}
