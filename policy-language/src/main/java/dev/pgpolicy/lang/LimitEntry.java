package dev.pgpolicy.lang;

import java.time.Duration;

/**
 * One entry of a limit block. {@code amount} is set for counting limits, {@code duration} for
 * timeouts; {@code scope} is the word after the last {@code per} ({@code user}, {@code role},
 * {@code client_ip}) for the limits that have one, otherwise null.
 */
public record LimitEntry(LimitKind kind, long amount, Duration duration, Name scope, Span span) implements Node {
}
