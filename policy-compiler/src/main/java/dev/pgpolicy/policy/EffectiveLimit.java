package dev.pgpolicy.policy;

import dev.pgpolicy.lang.LimitKind;
import java.time.Duration;

/**
 * The limit in force for one dimension ({@code kind} and {@code scope}): the smallest of all
 * matching limit entries. {@code amount} is set for counting limits, {@code duration} for
 * timeouts. {@code ruleId} names the limit rule that set it, which is also the counter key for
 * {@link LimitScope#ROLE}.
 */
public record EffectiveLimit(LimitKind kind, LimitScope scope, long amount, Duration duration, String ruleId) {

    boolean tighterThan(EffectiveLimit other) {
        return kind.isDuration() ? duration.compareTo(other.duration) < 0 : amount < other.amount;
    }
}
