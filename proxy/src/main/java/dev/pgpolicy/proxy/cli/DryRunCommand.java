package dev.pgpolicy.proxy.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.pgpolicy.lang.Diagnostic;
import dev.pgpolicy.policy.PolicySet;
import dev.pgpolicy.proxy.dryrun.Change;
import dev.pgpolicy.proxy.dryrun.DryRun;
import dev.pgpolicy.proxy.dryrun.DryRunReport;
import dev.pgpolicy.proxy.dryrun.InputFormat;
import dev.pgpolicy.proxy.dryrun.InputProblem;
import dev.pgpolicy.proxy.dryrun.PolicySets;
import dev.pgpolicy.proxy.dryrun.ReportWriter;
import dev.pgpolicy.proxy.dryrun.TrafficReaders;
import dev.pgpolicy.sql.SqlAnalyzer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code pgpolicy dry-run --policies DIR [--baseline DIR] [--json] [--fail-on ...] TRAFFIC...}:
 * replays recorded traffic through a policy set and reports what it would allow, deny, mask and
 * warn about; with a baseline set, only what changes between the two, with an exit status a CI
 * job can gate on.
 */
@Command(
        name = "dry-run",
        mixinStandardHelpOptions = true,
        description = {
            "Replay recorded traffic through a policy set: per user and statement fingerprint, what would be allowed,"
                    + " denied (with rule ids), masked or warned; the parse coverage; the rules nothing used.",
            "TRAFFIC: pcap or pcapng captures of plaintext PostgreSQL traffic (tcpdump), PostgreSQL csvlog or jsonlog"
                    + " files written with log_statement=all, pgpolicy audit logs at level full (a file or a directory).",
            "With --baseline DIR, only the statements whose decision changes are reported.",
            "",
            "Exit status: 0 done; 1 a policy set has errors (diagnostics as file:line:col); 2 usage error;"
                    + " 3 a change listed in --fail-on was found; 4 an input could not be read completely"
                    + " (the report covers what was read)."
        })
public final class DryRunCommand implements Callable<Integer> {
    static final int EXIT_POLICY_ERROR = 1;
    static final int EXIT_GATED_CHANGE = 3;
    static final int EXIT_INPUT_DAMAGED = 4;

    @Option(names = "--policies", required = true, paramLabel = "DIR",
            description = "The policy set to try: a directory (every *.pgpolicy under it) or one .pgpolicy file.")
    Path policies;

    @Option(names = "--baseline", paramLabel = "DIR",
            description = "The policy set in force today; only decisions that differ from it are reported.")
    Path baseline;

    @Option(names = "--json", description = "Print one JSON object (DESIGN.md) instead of text.")
    boolean json;

    @Option(names = "--fail-on", paramLabel = "CHANGE", split = ",", defaultValue = "any-change",
            description = "With --baseline, exit 3 when one of these changes is found: newly-denied, newly-allowed,"
                    + " mask-changed, any-change, none (default: ${DEFAULT-VALUE}: a policy change that alters any"
                    + " decision on recorded traffic must be acknowledged by narrowing this list).")
    List<String> failOn;

    @Option(names = "--format", paramLabel = "FORMAT",
            description = "Read every TRAFFIC input as this format: pcap, pcapng, csvlog, jsonlog, audit"
                    + " (default: recognised by content and extension).")
    String format;

    @Option(names = "--port", paramLabel = "PORT", split = ",",
            description = "Server ports, to tell the client side of captured connections whose start was not captured"
                    + " (default: 5432,6432).")
    List<Integer> ports;

    @Option(names = "--groups", paramLabel = "USER=G1|G2",
            description = "Groups of a user, for policies that read groups (repeatable). Audit log records carry their own.")
    List<String> groups;

    @Option(names = "--users", paramLabel = "FILE",
            description = "A users file (users.yaml, as for auth.mode proxy) whose entries give each user's groups.")
    Path usersFile;

    @Parameters(arity = "1..*", paramLabel = "TRAFFIC", description = "Recorded traffic files (or audit log directories).")
    List<Path> traffic;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Set<Change> gate = gate();
        Optional<InputFormat> forcedFormat = inputFormat();
        Map<String, Set<String>> groupMap = groupMap();
        Set<Integer> serverPorts = ports == null || ports.isEmpty() ? TrafficReaders.DEFAULT_SERVER_PORTS : Set.copyOf(ports);
        for (int port : serverPorts) {
            if (port < 1 || port > 65_535) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--port " + port + " is not a TCP port");
            }
        }

        Optional<PolicySet> policy = load(policies, err);
        Optional<PolicySet> before = baseline == null ? Optional.empty() : load(baseline, err);
        if (policy.isEmpty() || (baseline != null && before.isEmpty())) {
            err.flush();
            return EXIT_POLICY_ERROR;
        }

        DryRunReport report;
        try (SqlAnalyzer analyzer = new SqlAnalyzer(SqlAnalyzer.Settings.defaults().withBudget(Duration.ofSeconds(2)))) {
            DryRun run = new DryRun(policy.get(), before, user -> groupMap.getOrDefault(user, Set.of()), analyzer);
            for (Path input : traffic) {
                TrafficReaders.read(input, forcedFormat, serverPorts, run);
            }
            report = run.report();
        }
        for (InputProblem notice : report.notices()) {
            err.println("note: " + notice);
        }
        for (InputProblem problem : report.problems()) {
            err.println("error: " + problem);
        }
        if (json) {
            out.println(ReportWriter.json(report));
        } else {
            ReportWriter.text(report, out);
        }
        out.flush();
        err.flush();
        boolean gated = gate.stream().anyMatch(change -> report.count(change) > 0);
        if (gated) {
            return EXIT_GATED_CHANGE;
        }
        return report.problems().isEmpty() ? 0 : EXIT_INPUT_DAMAGED;
    }

    private Set<Change> gate() {
        Set<Change> gate = EnumSet.noneOf(Change.class);
        for (String value : failOn) {
            String keyword = value.strip().toLowerCase(Locale.ROOT);
            switch (keyword) {
                case "none":
                    break;
                case "any-change":
                    gate.addAll(EnumSet.allOf(Change.class));
                    break;
                default:
                    Change change = null;
                    for (Change candidate : Change.values()) {
                        if (candidate.keyword().equals(keyword)) {
                            change = candidate;
                        }
                    }
                    if (change == null) {
                        throw new CommandLine.ParameterException(spec.commandLine(), "--fail-on: unknown change '" + value
                                + "' (newly-denied, newly-allowed, mask-changed, any-change, none)");
                    }
                    gate.add(change);
            }
        }
        if (failOn.stream().anyMatch(v -> v.strip().equalsIgnoreCase("none")) && failOn.size() > 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--fail-on none cannot be combined with other changes");
        }
        return gate;
    }

    private Optional<InputFormat> inputFormat() {
        if (format == null) {
            return Optional.empty();
        }
        for (InputFormat candidate : InputFormat.values()) {
            if (candidate.keyword().equals(format.strip().toLowerCase(Locale.ROOT))) {
                return Optional.of(candidate);
            }
        }
        throw new CommandLine.ParameterException(spec.commandLine(), "--format: unknown format '" + format
                + "' (pcap, pcapng, csvlog, jsonlog, audit)");
    }

    private Map<String, Set<String>> groupMap() {
        Map<String, Set<String>> map = new HashMap<>();
        if (usersFile != null) {
            try {
                JsonNode users = new ObjectMapper(new YAMLFactory()).readTree(usersFile.toFile()).path("users");
                users.fields().forEachRemaining(entry -> {
                    Set<String> userGroups = new HashSet<>();
                    entry.getValue().path("groups").forEach(group -> userGroups.add(group.asText()));
                    map.computeIfAbsent(entry.getKey(), k -> new HashSet<>()).addAll(userGroups);
                });
            } catch (IOException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--users " + usersFile + ": " + e.getMessage());
            }
        }
        for (String mapping : groups == null ? List.<String>of() : groups) {
            int equals = mapping.indexOf('=');
            if (equals <= 0) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--groups expects USER=G1|G2, not '" + mapping + "'");
            }
            Set<String> userGroups = map.computeIfAbsent(mapping.substring(0, equals), k -> new HashSet<>());
            for (String group : mapping.substring(equals + 1).split("\\|")) {
                if (!group.isBlank()) {
                    userGroups.add(group.strip());
                }
            }
        }
        return map;
    }

    private static Optional<PolicySet> load(Path location, PrintWriter err) {
        PolicySets.Loaded loaded = PolicySets.load(location);
        List<Diagnostic> shown = new ArrayList<>(loaded.diagnostics());
        shown.forEach(err::println);
        if (loaded.hasErrors()) {
            err.println(location + ": the policy set has errors; nothing was replayed");
            return Optional.empty();
        }
        return loaded.policySet();
    }
}
