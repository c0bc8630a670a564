package dev.pgpolicy.proxy.audit;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * One statement decision. The level is applied when the statement is built, so a record never
 * holds more than its level allows: {@code text} is null at {@code metadata}, the normalized text
 * at {@code statements} and the text as sent at {@code full}; {@code parameters} is empty unless the
 * level is {@code full}.
 *
 * @param kind the statement kind from the SQL analysis ({@code select}, {@code insert}, ...)
 * @param objects the tables touched, with their actions
 * @param fingerprint the normalized-text fingerprint, null when the statement was not analysed
 * @param level the audit level the policy set for this statement
 * @param text the SQL kept at this level, or null
 * @param parameters Bind parameters as text ({@code \x...} hex for binary ones), null elements for
 *     SQL NULL; only at {@code full}
 * @param decision what was decided
 * @param rules ids of the rules that determined the decision
 * @param masks the columns masked ({@code schema.table.column}), or would-be masked in detect mode
 * @param rows rows returned or affected, null when unknown (denied, failed, or not counted)
 * @param duration time from receipt to completion, null when unknown
 * @param reason why, in words (a deny's {@code @reason}, a guard finding, the server's error
 *     message), or null
 * @param sqlState the SQLSTATE of the server's ErrorResponse when an allowed statement failed
 *     there, null otherwise
 * @param part which statement of its Query message this is, from 1
 * @param parts how many statements the Query message held; a Query with several statements has
 *     one record each, and at {@code full} each carries the whole text as sent
 */
public record AuditStatement(
        String kind,
        List<AuditObject> objects,
        String fingerprint,
        AuditLevel level,
        String text,
        List<String> parameters,
        AuditDecision decision,
        List<String> rules,
        List<String> masks,
        Long rows,
        Duration duration,
        String reason,
        String sqlState,
        int part,
        int parts) {

    public AuditStatement {
        Objects.requireNonNull(kind, "kind");
        objects = List.copyOf(objects);
        Objects.requireNonNull(level, "level");
        // Parameters may be SQL NULL, which List.copyOf refuses; most statements have none.
        parameters = parameters.isEmpty() ? List.of() : Collections.unmodifiableList(new ArrayList<>(parameters));
        Objects.requireNonNull(decision, "decision");
        rules = List.copyOf(rules);
        masks = List.copyOf(masks);
        if (level != AuditLevel.FULL && !parameters.isEmpty()) {
            throw new IllegalArgumentException("Bind parameters are recorded only at level full");
        }
        if (level == AuditLevel.METADATA && text != null) {
            throw new IllegalArgumentException("no SQL text is recorded at level metadata");
        }
        if (rows != null && rows < 0) {
            throw new IllegalArgumentException("negative row count: " + rows);
        }
        if (duration != null && duration.isNegative()) {
            throw new IllegalArgumentException("negative duration: " + duration);
        }
        if (part < 1 || part > parts) {
            throw new IllegalArgumentException("statement " + part + " of " + parts);
        }
    }

    public static Builder builder(AuditLevel level, String kind, AuditDecision decision) {
        return new Builder(level, kind, decision);
    }

    /** Text and parameters may hold personal data or secrets; keep them out of logs and traces. */
    @Override
    public String toString() {
        return "AuditStatement[kind=" + kind + ", objects=" + objects + ", fingerprint=" + fingerprint
                + ", level=" + level.jsonName() + ", text=" + (text == null ? "none" : "<redacted>")
                + ", parameters=" + parameters.size() + ", decision=" + decision.jsonName()
                + ", rules=" + rules + ", masks=" + masks + ", rows=" + rows + ", duration=" + duration
                + ", sqlState=" + sqlState + "]";
    }

    /**
     * Collects what a session knows about a statement; {@link #sql} takes both texts and keeps the
     * one the level allows.
     */
    public static final class Builder {
        private final AuditLevel level;
        private final String kind;
        private final AuditDecision decision;
        private final List<AuditObject> objects = new ArrayList<>();
        private String fingerprint;
        private String text;
        private final List<String> parameters = new ArrayList<>();
        private final List<String> rules = new ArrayList<>();
        private final List<String> masks = new ArrayList<>();
        private Long rows;
        private Duration duration;
        private String reason;
        private String sqlState;
        private int part = 1;
        private int parts = 1;

        private Builder(AuditLevel level, String kind, AuditDecision decision) {
            this.level = Objects.requireNonNull(level, "level");
            this.kind = Objects.requireNonNull(kind, "kind");
            this.decision = Objects.requireNonNull(decision, "decision");
        }

        public Builder object(String schemaQualifiedName, String action) {
            objects.add(new AuditObject(schemaQualifiedName, action));
            return this;
        }

        public Builder objects(List<AuditObject> touched) {
            objects.addAll(touched);
            return this;
        }

        public Builder fingerprint(String value) {
            fingerprint = value;
            return this;
        }

        public Builder sql(String asSent, String normalized) {
            switch (level) {
                case METADATA -> text = null;
                case STATEMENTS -> text = normalized;
                case FULL -> text = asSent;
            }
            return this;
        }

        public Builder parameters(List<String> bindParameters) {
            if (level == AuditLevel.FULL) {
                parameters.addAll(bindParameters);
            }
            return this;
        }

        public Builder rules(List<String> ruleIds) {
            rules.addAll(ruleIds);
            return this;
        }

        public Builder masks(List<String> maskedColumns) {
            masks.addAll(maskedColumns);
            return this;
        }

        public Builder rows(long count) {
            rows = count;
            return this;
        }

        public Builder duration(Duration value) {
            duration = value;
            return this;
        }

        public Builder reason(String value) {
            reason = value;
            return this;
        }

        public Builder sqlState(String value) {
            sqlState = value;
            return this;
        }

        /** Statement {@code number} (from 1) of a Query message holding {@code count}. */
        public Builder part(int number, int count) {
            part = number;
            parts = count;
            return this;
        }

        public AuditStatement build() {
            return new AuditStatement(kind, objects, fingerprint, level, text, parameters, decision,
                    rules, masks, rows, duration, reason, sqlState, part, parts);
        }
    }
}
