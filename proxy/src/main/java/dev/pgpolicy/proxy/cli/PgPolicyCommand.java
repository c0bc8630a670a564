package dev.pgpolicy.proxy.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code pgpolicy} command line. The sub-command names and flags are a contract that scripts
 * depend on (DESIGN.md, "Command line"): change them only together with DESIGN.md and the README.
 */
@Command(
        name = "pgpolicy",
        mixinStandardHelpOptions = true,
        versionProvider = PgPolicyCommand.Version.class,
        description = "PostgreSQL security proxy enforcing .pgpolicy policies.",
        subcommands = {
            CommandLine.HelpCommand.class,
            ServeCommand.class,
            DemoCommand.class,
            CheckCommand.class,
            TestCommand.class,
            ExplainCommand.class,
        })
public final class PgPolicyCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing sub-command");
    }

    public static void main(String[] args) {
        System.exit(newCommandLine().execute(args));
    }

    public static CommandLine newCommandLine() {
        return new CommandLine(new PgPolicyCommand()).setCaseInsensitiveEnumValuesAllowed(true);
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = PgPolicyCommand.class.getPackage().getImplementationVersion();
            return new String[] {"pgpolicy " + (version == null ? "development build" : version)};
        }
    }
}
