package dev.pgpolicy.proxy.embedded;

import com.sun.security.auth.module.UnixSystem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The operating-system account the PostgreSQL programs run under. {@code initdb} and
 * {@code postgres} refuse to run as root ("cannot be run as root"), so a root JVM runs them as
 * an unprivileged account (by default {@code postgres}, which the Debian server package creates)
 * and hands it the cluster directory. Any other JVM runs them as itself.
 */
final class ServerAccount {
    private static final List<Path> RUNUSER = List.of(Path.of("/usr/sbin/runuser"), Path.of("/sbin/runuser"),
            Path.of("/usr/bin/runuser"));

    private final String user;
    private final List<String> prefix;
    private final boolean switchesUser;

    private ServerAccount(String user, List<String> prefix, boolean switchesUser) {
        this.user = user;
        this.prefix = prefix;
        this.switchesUser = switchesUser;
    }

    /** Chosen when the cluster starts, not when the class loads: the account may appear after a package install. */
    static ServerAccount forCurrentProcess(String unprivilegedUser) {
        if (new UnixSystem().getUid() != 0) {
            return new ServerAccount(System.getProperty("user.name"), List.of(), false);
        }
        ProcessResult lookup = ExternalCommand.of("id", "-u", unprivilegedUser).timeout(Duration.ofSeconds(30)).run();
        if (!lookup.succeeded()) {
            throw new EmbeddedPostgresException("running as root, so PostgreSQL must run as the OS user '"
                    + unprivilegedUser + "', which does not exist (" + lookup.stderr().strip() + "). Install the"
                    + " PostgreSQL server package (bin/install-prerequisites creates it) or choose another account"
                    + " with EmbeddedPostgres.builder().osUser(...).");
        }
        if ("0".equals(lookup.stdout().strip())) {
            throw new EmbeddedPostgresException("OS user '" + unprivilegedUser + "' has uid 0; PostgreSQL refuses to run as root");
        }
        for (Path runuser : RUNUSER) {
            if (Files.isExecutable(runuser)) {
                return new ServerAccount(unprivilegedUser, List.of(runuser.toString(), "-u", unprivilegedUser, "--"), true);
            }
        }
        // Without util-linux's runuser, su with an explicit shell works even for nologin accounts.
        return new ServerAccount(unprivilegedUser, List.of("su", "-s", "/bin/sh", unprivilegedUser, "-c"), true);
    }

    String user() {
        return user;
    }

    boolean switchesUser() {
        return switchesUser;
    }

    List<String> command(List<String> program) {
        if (!switchesUser) {
            return program;
        }
        List<String> full = new ArrayList<>(prefix);
        if ("su".equals(prefix.get(0))) {
            full.add("exec " + program.stream().map(ServerAccount::shellQuote).collect(Collectors.joining(" ")));
        } else {
            full.addAll(program);
        }
        return full;
    }

    /** Gives the account the directory tree (owner and its login group) when it is not us. */
    void takeOwnership(Path directory) {
        if (!switchesUser) {
            return;
        }
        ProcessResult result = ExternalCommand.of("chown", "-R", user + ":", directory.toString())
                .timeout(Duration.ofMinutes(1)).run();
        if (!result.succeeded()) {
            throw new EmbeddedPostgresException("cannot hand " + directory + " to OS user " + user + ": " + result.describe());
        }
    }

    private static String shellQuote(String argument) {
        return "'" + argument.replace("'", "'\"'\"'") + "'";
    }
}
