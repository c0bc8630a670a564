package dev.pgpolicy.proxy.server;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A strict reader of the Prometheus text exposition format 0.0.4: every line is a HELP, a TYPE or
 * a sample {@code name{label="value",...} value}; each family has at most one HELP and one TYPE,
 * given before its samples; every sample belongs to a declared family (with the suffixes its
 * type allows). Anything else throws, so a test that parses the proxy's output checks the format.
 */
final class PrometheusText {

    private static final Pattern HELP = Pattern.compile("# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)");
    private static final Pattern TYPE = Pattern.compile("# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)");
    private static final Pattern SAMPLE = Pattern.compile(
            "([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{((?:[a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\\\\n]|\\\\[\\\\\"n])*\",?)*)\\})? "
                    + "([-+]?(?:[0-9]*\\.?[0-9]+(?:[eE][-+]?[0-9]+)?|Inf|NaN))(?: -?[0-9]+)?");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

    record Sample(String name, Map<String, String> labels, double value) {}

    final Map<String, String> types = new LinkedHashMap<>();
    final List<Sample> samples = new ArrayList<>();

    static PrometheusText parse(String text) {
        PrometheusText parsed = new PrometheusText();
        Map<String, String> help = new HashMap<>();
        int lineNumber = 0;
        for (String line : text.split("\n", -1)) {
            lineNumber++;
            if (line.isEmpty()) {
                continue;
            }
            Matcher m;
            if ((m = HELP.matcher(line)).matches()) {
                if (help.put(m.group(1), m.group(2)) != null) {
                    throw new IllegalArgumentException("line " + lineNumber + ": second HELP for " + m.group(1));
                }
            } else if ((m = TYPE.matcher(line)).matches()) {
                if (parsed.types.put(m.group(1), m.group(2)) != null) {
                    throw new IllegalArgumentException("line " + lineNumber + ": second TYPE for " + m.group(1));
                }
            } else if (line.startsWith("#")) {
                throw new IllegalArgumentException("line " + lineNumber + ": unexpected comment: " + line);
            } else if ((m = SAMPLE.matcher(line)).matches()) {
                String name = m.group(1);
                String family = parsed.familyOf(name);
                if (family == null) {
                    throw new IllegalArgumentException("line " + lineNumber + ": sample of undeclared family: " + line);
                }
                Map<String, String> labels = new LinkedHashMap<>();
                if (m.group(2) != null) {
                    Matcher label = LABEL.matcher(m.group(2));
                    while (label.find()) {
                        labels.put(label.group(1), label.group(2));
                    }
                }
                String value = m.group(3);
                double number = value.endsWith("Inf") ? (value.startsWith("-") ? Double.NEGATIVE_INFINITY
                        : Double.POSITIVE_INFINITY) : Double.parseDouble(value);
                parsed.samples.add(new Sample(name, labels, number));
            } else {
                throw new IllegalArgumentException("line " + lineNumber + ": not a sample line: " + line);
            }
        }
        for (String family : parsed.types.keySet()) {
            if (!help.containsKey(family)) {
                throw new IllegalArgumentException("no HELP for " + family);
            }
        }
        return parsed;
    }

    /** The declared family a sample name belongs to, by the suffixes its type allows. */
    private String familyOf(String name) {
        for (Map.Entry<String, String> family : types.entrySet()) {
            String base = family.getKey();
            List<String> suffixes;
            switch (family.getValue()) {
                case "counter":
                    suffixes = List.of("", "_total", "_created");
                    break;
                case "histogram":
                    suffixes = List.of("_bucket", "_sum", "_count", "_created");
                    break;
                case "summary":
                    suffixes = List.of("", "_sum", "_count", "_created");
                    break;
                default:
                    suffixes = List.of("");
            }
            for (String suffix : suffixes) {
                if (name.equals(base + suffix)) {
                    return base;
                }
            }
        }
        return null;
    }

    /** The value of the one sample with this name and these labels (a subset match); 0 when absent. */
    double value(String name, Map<String, String> labels) {
        List<Sample> matching = samples.stream()
                .filter(s -> s.name().equals(name) && s.labels().entrySet().containsAll(labels.entrySet()))
                .toList();
        if (matching.size() > 1) {
            throw new IllegalArgumentException("several samples match " + name + labels + ": " + matching);
        }
        return matching.isEmpty() ? 0 : matching.get(0).value();
    }

    double value(String name) {
        return value(name, Map.of());
    }
}
