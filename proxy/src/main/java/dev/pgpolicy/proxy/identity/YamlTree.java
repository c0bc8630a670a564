package dev.pgpolicy.proxy.identity;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A YAML document read with Jackson's streaming parser into nodes that remember their line and
 * column, so every validation message can point at the offending key or value. Duplicate keys
 * are an error rather than "last one wins": in a users file a second {@code ana:} entry silently
 * replacing the first is exactly the mistake that must not pass.
 */
final class YamlTree {
    /** Nesting beyond any sensible users file; keeps a hostile file from exhausting the stack. */
    private static final int MAX_DEPTH = 32;

    record Location(int line, int column) {
        static Location of(JsonLocation location) {
            return location == null ? new Location(1, 1)
                    : new Location(Math.max(1, location.getLineNr()), Math.max(1, location.getColumnNr()));
        }
    }

    sealed interface Node permits MapNode, ListNode, ScalarNode {
        Location location();

        String kind();
    }

    record Entry(String key, Location keyLocation, Node value) {
    }

    record MapNode(Location location, Map<String, Entry> entries) implements Node {
        @Override
        public String kind() {
            return "a mapping";
        }

        Optional<Entry> get(String key) {
            return Optional.ofNullable(entries.get(key));
        }
    }

    record ListNode(Location location, List<Node> items) implements Node {
        @Override
        public String kind() {
            return "a list";
        }
    }

    /** A scalar; {@code text} is null for YAML null ({@code ~} or nothing). */
    record ScalarNode(Location location, String text) implements Node {
        @Override
        public String kind() {
            return text == null ? "null" : "a scalar";
        }
    }

    /** A syntax or structure error at a position. */
    static final class YamlException extends Exception {
        private static final long serialVersionUID = 1L;
        private final transient Location location;

        YamlException(Location location, String message) {
            super(message);
            this.location = location;
        }

        Location location() {
            return location;
        }
    }

    private YamlTree() {
    }

    /** The document's root node; an empty document is an empty mapping at 1:1. */
    static Node parse(byte[] yaml) throws YamlException {
        try (JsonParser parser = new YAMLFactory().createParser(yaml)) {
            JsonToken token = parser.nextToken();
            if (token == null) {
                return new MapNode(new Location(1, 1), Map.of());
            }
            Node root = read(parser, 0);
            if (parser.nextToken() != null) {
                throw new YamlException(Location.of(parser.currentTokenLocation()), "more than one YAML document");
            }
            return root;
        } catch (JsonProcessingException e) {
            throw new YamlException(Location.of(e.getLocation()), "YAML syntax: " + firstLine(e.getOriginalMessage()));
        } catch (IOException e) {
            throw new YamlException(new Location(1, 1), "cannot read YAML: " + e.getMessage());
        }
    }

    private static Node read(JsonParser parser, int depth) throws IOException, YamlException {
        Location at = Location.of(parser.currentTokenLocation());
        if (depth > MAX_DEPTH) {
            throw new YamlException(at, "nesting deeper than " + MAX_DEPTH + " levels");
        }
        JsonToken token = parser.currentToken();
        switch (token) {
            case START_OBJECT: {
                Map<String, Entry> entries = new LinkedHashMap<>();
                while (parser.nextToken() == JsonToken.FIELD_NAME) {
                    String key = parser.currentName();
                    Location keyAt = Location.of(parser.currentTokenLocation());
                    parser.nextToken();
                    Node value = read(parser, depth + 1);
                    Entry previous = entries.putIfAbsent(key, new Entry(key, keyAt, value));
                    if (previous != null) {
                        throw new YamlException(keyAt, "duplicate key \"" + key + "\" (first at line "
                                + previous.keyLocation().line() + ")");
                    }
                }
                return new MapNode(at, Collections.unmodifiableMap(entries));
            }
            case START_ARRAY: {
                List<Node> items = new ArrayList<>();
                while (parser.nextToken() != JsonToken.END_ARRAY) {
                    items.add(read(parser, depth + 1));
                }
                return new ListNode(at, List.copyOf(items));
            }
            case VALUE_NULL:
                return new ScalarNode(at, null);
            case VALUE_STRING:
            case VALUE_NUMBER_INT:
            case VALUE_NUMBER_FLOAT:
            case VALUE_TRUE:
            case VALUE_FALSE:
                return new ScalarNode(at, parser.getText());
            default:
                throw new YamlException(at, "unexpected YAML content (" + token + ")");
        }
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "malformed document";
        }
        int newline = message.indexOf('\n');
        return newline < 0 ? message : message.substring(0, newline);
    }
}
