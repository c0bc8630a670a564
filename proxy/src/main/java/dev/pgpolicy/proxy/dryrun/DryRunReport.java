package dev.pgpolicy.proxy.dryrun;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The result of a dry-run: counts over every captured statement, one entry per (principal,
 * fingerprint, outcome), the changes against a baseline set when there is one, the rules no
 * statement used, and what went wrong reading the inputs.
 *
 * @param statements SQL texts read from the inputs (a simple Query message counts once, however
 *                   many statements it holds; each execution of a prepared statement counts)
 * @param parsed     those the SQL analyser understood completely
 * @param changes    present only with a baseline set
 */
public record DryRunReport(long statements, long parsed, Totals totals, List<Entry> entries,
                           Optional<List<ChangeEntry>> changes, List<String> unusedRules,
                           List<InputProblem> problems, List<InputProblem> notices) {
    public DryRunReport {
        entries = List.copyOf(entries);
        changes = changes.map(List::copyOf);
        unusedRules = List.copyOf(unusedRules);
        problems = List.copyOf(problems);
        notices = List.copyOf(notices);
    }

    /** Statements by decision; {@code masked} and {@code warned} are allowed statements with masks or warnings. */
    public record Totals(long allow, long deny, long masked, long warned) {
    }

    /** Statements of one user and fingerprint that got the same outcome. */
    public record Entry(String user, String fingerprint, String sql, boolean parsed, String decision, List<String> rules,
                        Map<String, String> masks, List<String> warnings, boolean wouldDeny, long count) {
        public Entry {
            rules = List.copyOf(rules);
            masks = Map.copyOf(masks);
            warnings = List.copyOf(warnings);
        }
    }

    /** Statements of one user and fingerprint whose outcome changed the same way. */
    public record ChangeEntry(String user, String fingerprint, String sql, Change change, String before, String after,
                              List<String> rulesBefore, List<String> rulesAfter, Map<String, String> masksBefore,
                              Map<String, String> masksAfter, long count) {
        public ChangeEntry {
            rulesBefore = List.copyOf(rulesBefore);
            rulesAfter = List.copyOf(rulesAfter);
            masksBefore = Map.copyOf(masksBefore);
            masksAfter = Map.copyOf(masksAfter);
        }
    }

    public long count(Change change) {
        return changes.orElse(List.of()).stream().filter(c -> c.change() == change).mapToLong(ChangeEntry::count).sum();
    }
}
