package dev.pgpolicy.proxy.dryrun;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Prints a {@link DryRunReport}, as text for people or as the JSON object of DESIGN.md
 * ("Command line"): {@code {"statements", "parsed", "decisions", "changes", "unused_rules"}},
 * {@code changes} only with a baseline. {@code decisions} holds the totals by decision and, without
 * a baseline, one entry per user, fingerprint and outcome. SQL is shown normalized (literals
 * replaced by placeholders): a report is shared in CI logs and must not spread the values clients
 * sent.
 */
public final class ReportWriter {
    private static final int TEXT_SQL_WIDTH = 100;
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private ReportWriter() {
    }

    public static String json(DryRunReport report) {
        ObjectNode root = JSON.createObjectNode();
        root.put("statements", report.statements());
        root.put("parsed", report.parsed());
        ObjectNode decisions = root.putObject("decisions");
        decisions.put("allow", report.totals().allow());
        decisions.put("deny", report.totals().deny());
        decisions.put("masked", report.totals().masked());
        decisions.put("warned", report.totals().warned());
        if (report.changes().isEmpty()) {
            ArrayNode entries = decisions.putArray("entries");
            for (DryRunReport.Entry entry : report.entries()) {
                ObjectNode node = entries.addObject();
                node.put("fingerprint", entry.fingerprint());
                node.put("sql", entry.sql());
                node.put("user", entry.user());
                node.put("decision", entry.decision());
                node.put("parsed", entry.parsed());
                strings(node.putArray("rules"), entry.rules());
                masks(node.putObject("masks"), entry.masks());
                strings(node.putArray("warnings"), entry.warnings());
                if (entry.wouldDeny() && entry.decision().equals("allow")) {
                    node.put("would_deny", true);
                }
                node.put("count", entry.count());
            }
        }
        report.changes().ifPresent(changes -> {
            ArrayNode array = root.putArray("changes");
            for (DryRunReport.ChangeEntry change : changes) {
                ObjectNode node = array.addObject();
                node.put("fingerprint", change.fingerprint());
                node.put("sql", change.sql());
                node.put("user", change.user());
                node.put("before", change.before());
                node.put("after", change.after());
                node.put("count", change.count());
                node.put("change", change.change().keyword());
                strings(node.putArray("rules_before"), change.rulesBefore());
                strings(node.putArray("rules_after"), change.rulesAfter());
                masks(node.putObject("masks_before"), change.masksBefore());
                masks(node.putObject("masks_after"), change.masksAfter());
            }
        });
        strings(root.putArray("unused_rules"), report.unusedRules());
        try {
            return JSON.writeValueAsString(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a tree of plain values always serialises", e);
        }
    }

    private static void strings(ArrayNode array, List<String> values) {
        values.forEach(array::add);
    }

    private static void masks(ObjectNode node, Map<String, String> masks) {
        new TreeMap<>(masks).forEach(node::put);
    }

    public static void text(DryRunReport report, PrintWriter out) {
        long statements = report.statements();
        out.printf(Locale.ROOT, "statements: %d, parsed: %d (%s)%n", statements, report.parsed(),
                statements == 0 ? "-" : String.format(Locale.ROOT, "%.1f%%", 100.0 * report.parsed() / statements));
        DryRunReport.Totals totals = report.totals();
        out.printf(Locale.ROOT, "decisions: %d allowed (%d masked, %d warned), %d denied%n", totals.allow(), totals.masked(),
                totals.warned(), totals.deny());
        if (report.changes().isPresent()) {
            List<DryRunReport.ChangeEntry> changes = report.changes().get();
            out.printf(Locale.ROOT, "changes against the baseline: %d newly denied, %d newly allowed, %d with changed masks%n",
                    report.count(Change.NEWLY_DENIED), report.count(Change.NEWLY_ALLOWED), report.count(Change.MASK_CHANGED));
            for (DryRunReport.ChangeEntry change : changes) {
                out.printf(Locale.ROOT, "  %-13s %6dx  user %s: %s%n", change.change().keyword(), change.count(), change.user(),
                        shorten(change.sql()));
                switch (change.change()) {
                    case NEWLY_DENIED:
                        out.printf("      was allowed, now denied%s%n", by(change.rulesAfter()));
                        break;
                    case NEWLY_ALLOWED:
                        out.printf("      was denied%s, now allowed%s%n", by(change.rulesBefore()), masksSuffix(change.masksAfter()));
                        break;
                    case MASK_CHANGED:
                        out.printf("      masks were %s, now %s%n", maskList(change.masksBefore()), maskList(change.masksAfter()));
                        break;
                    default:
                        throw new AssertionError(change.change());
                }
            }
        } else {
            if (!report.entries().isEmpty()) {
                out.println("by user and statement:");
            }
            for (DryRunReport.Entry entry : report.entries()) {
                StringBuilder detail = new StringBuilder();
                if (entry.decision().equals("deny")) {
                    detail.append(by(entry.rules()).strip());
                }
                if (!entry.masks().isEmpty()) {
                    detail.append("masks ").append(maskList(entry.masks()));
                }
                if (!entry.warnings().isEmpty()) {
                    detail.append(detail.length() > 0 ? "; " : "").append("warns ").append(String.join(", ", entry.warnings()));
                }
                if (entry.wouldDeny() && entry.decision().equals("allow")) {
                    detail.append(detail.length() > 0 ? "; " : "").append("would deny in enforce mode");
                }
                if (!entry.parsed()) {
                    detail.append(detail.length() > 0 ? "; " : "").append("not parsed");
                }
                out.printf(Locale.ROOT, "  %-5s %6dx  user %s: %s%n", entry.decision(), entry.count(), entry.user(), shorten(entry.sql()));
                if (detail.length() > 0) {
                    out.println("      " + detail);
                }
            }
        }
        out.println(report.unusedRules().isEmpty() ? "unused rules: none"
                : "unused rules (" + report.unusedRules().size() + "): " + String.join(", ", report.unusedRules()));
    }

    private static String by(List<String> rules) {
        return rules.isEmpty() ? " (no allow rule covers it)" : " by " + String.join(", ", rules);
    }

    private static String masksSuffix(Map<String, String> masks) {
        return masks.isEmpty() ? "" : " with masks " + maskList(masks);
    }

    private static String maskList(Map<String, String> masks) {
        if (masks.isEmpty()) {
            return "none";
        }
        StringBuilder text = new StringBuilder();
        new TreeMap<>(masks).forEach((column, mask) -> text.append(text.length() > 0 ? ", " : "").append(column).append(" with ").append(mask));
        return text.toString();
    }

    private static String shorten(String sql) {
        String flat = sql.replaceAll("\\s+", " ").strip();
        return flat.length() <= TEXT_SQL_WIDTH ? flat : flat.substring(0, TEXT_SQL_WIDTH - 3) + "...";
    }
}
