package dev.pgpolicy.proxy.enforce;

import dev.pgpolicy.policy.MaskSet;
import dev.pgpolicy.proxy.wire.RowDescription;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The {@link MaskPlan}s already made for result layouts, so that a statement a masked principal
 * runs again (the common case: an application repeats a few statements) finds its plan with one
 * map lookup instead of a catalog lookup and a mask match per column.
 *
 * <p>A plan is a function of exactly what {@link Key} holds, which is why a hit returns the plan
 * a fresh build would make:
 * <ul>
 *   <li>per column, the table OID, attribute number and type OID of the RowDescription (the only
 *       parts of a field the plan reads: the name is an alias, and format, size and modifier do
 *       not change which action a column gets);</li>
 *   <li>the principal's {@link MaskSet}, by identity: it is immutable and derived once per
 *       principal class of one policy revision, so a reload or another principal class is another
 *       instance (two equal sets under different identities only cost a miss: a session keeps
 *       its principal class, so its repeated statements hit, while sessions of the same principal
 *       may each make their own first plan);</li>
 *   <li>whether the statement names a masked column (computed columns are NULL when it does);</li>
 *   <li>the database, whose catalog places the table OIDs, and the catalog's
 *       {@linkplain dev.pgpolicy.proxy.catalog.CatalogCache#generation() generation}, which moves
 *       on every change of the cached table columns (a load, an invalidation after DDL, an
 *       eviction), so a plan never outlives the catalog answers it was made from;</li>
 *   <li>the session's {@code client_encoding}, which decides the charset masked values are
 *       written in.</li>
 * </ul>
 * The masking key and the catalog itself belong to the one {@link PolicyHooks} that owns this
 * cache and never change under it. A plan made while a catalog lookup failed is not stored: the
 * failure is transient and its columns are NULL only until the catalog answers again.
 */
final class RowPlanCache {

    /**
     * Distinct layouts kept before the cache starts over: far more than the statements an
     * application repeats, and a bound on what keys of replaced policy revisions can hold on to.
     */
    static final int MAX_PLANS = 2048;

    private final Map<Key, MaskPlan> plans = new ConcurrentHashMap<>();

    /** The plan stored under {@code key}; null when none is. */
    MaskPlan get(Key key) {
        return plans.get(key);
    }

    void put(Key key, MaskPlan plan) {
        if (plans.size() >= MAX_PLANS) {
            plans.clear();
        }
        plans.put(key, plan);
    }

    int size() {
        return plans.size();
    }

    /**
     * The key of one layout; see the class comment for why it is complete. Read
     * {@code catalogGeneration} before making the plan stored under it: a catalog change during
     * the build then leaves that entry under a generation no later lookup asks for.
     */
    static Key key(RowDescription description, MaskSet masks, boolean namesMasked, String database,
            String clientEncoding, long catalogGeneration) {
        List<RowDescription.Field> fields = description.fields();
        int[] columns = new int[fields.size() * 3];
        int i = 0;
        for (RowDescription.Field field : fields) {
            columns[i++] = field.tableOid();
            columns[i++] = field.attributeNumber();
            columns[i++] = field.typeOid();
        }
        return new Key(columns, masks, namesMasked, database, clientEncoding, catalogGeneration);
    }

    /**
     * A plain class rather than a record: its hash is computed once, and equals compares the
     * column array by content without going through the record's generated methods.
     */
    static final class Key {
        private final int[] columns;
        private final MaskSet masks;
        private final boolean namesMasked;
        private final String database;
        private final String clientEncoding;
        private final long catalogGeneration;
        private final int hash;

        private Key(int[] columns, MaskSet masks, boolean namesMasked, String database, String clientEncoding,
                long catalogGeneration) {
            this.columns = columns;
            this.masks = masks;
            this.namesMasked = namesMasked;
            this.database = database;
            this.clientEncoding = clientEncoding;
            this.catalogGeneration = catalogGeneration;
            int h = Arrays.hashCode(columns);
            h = 31 * h + System.identityHashCode(masks);
            h = 31 * h + (namesMasked ? 1 : 0);
            h = 31 * h + database.hashCode();
            h = 31 * h + clientEncoding.hashCode();
            h = 31 * h + Long.hashCode(catalogGeneration);
            this.hash = h;
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof Key that && hash == that.hash && masks == that.masks
                    && namesMasked == that.namesMasked && catalogGeneration == that.catalogGeneration
                    && Arrays.equals(columns, that.columns) && database.equals(that.database)
                    && clientEncoding.equals(that.clientEncoding);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }
}
