package dev.pgpolicy.policy;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Where the catalog says unqualified names live, for one statement and one role: for each name
 * looked up, the schemas holding a relation (or a function) of that name that the role may use
 * (USAGE). A name missing from a map was not looked up, so it is placed by the search_path alone.
 * Equal placements resolve alike, so the value can key a decision cache.
 */
public record CatalogPlacements(Map<String, List<String>> relations, Map<String, List<String>> functions) {

    private static final CatalogPlacements NONE = new CatalogPlacements(Map.of(), Map.of());

    public CatalogPlacements {
        // Sorted copies: equal content prints and compares the same whatever the lookup order.
        relations = copy(relations);
        functions = copy(functions);
    }

    private static Map<String, List<String>> copy(Map<String, List<String>> placements) {
        TreeMap<String, List<String>> sorted = new TreeMap<>();
        placements.forEach((name, schemas) -> sorted.put(name, schemas.stream().sorted().toList()));
        return java.util.Collections.unmodifiableMap(sorted);
    }

    /** Nothing looked up: what the offline commands and a proxy without catalog have. */
    public static CatalogPlacements none() {
        return NONE;
    }

    Optional<List<String>> relationSchemas(String name) {
        return Optional.ofNullable(relations.get(name));
    }

    Optional<List<String>> functionSchemas(String name) {
        return Optional.ofNullable(functions.get(name));
    }

    @Override
    public String toString() {
        return "relations " + relations + " functions " + functions;
    }
}
