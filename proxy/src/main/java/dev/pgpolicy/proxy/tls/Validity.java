package dev.pgpolicy.proxy.tls;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Objects;

/**
 * The validity period of a certificate (RFC 5280, 4.1.2.5). Already-expired and not-yet-valid
 * periods are allowed on purpose: tests prove that such certificates are refused.
 */
public record Validity(Instant notBefore, Instant notAfter) {

    /*
     * Backdating notBefore absorbs clock skew between the machine that issues and the one that
     * verifies; an hour is what public CAs commonly use.
     */
    private static final Duration BACKDATE = Duration.ofHours(1);

    public Validity {
        Objects.requireNonNull(notBefore, "notBefore");
        Objects.requireNonNull(notAfter, "notAfter");
        // X.509 encodes times with one-second precision; truncating keeps equals() honest after a round trip.
        notBefore = notBefore.truncatedTo(ChronoUnit.SECONDS);
        notAfter = notAfter.truncatedTo(ChronoUnit.SECONDS);
        if (!notAfter.isAfter(notBefore)) {
            throw new IllegalArgumentException("notAfter " + notAfter + " must be after notBefore " + notBefore);
        }
    }

    /** Valid from an hour ago for the given duration from now. */
    public static Validity fromNow(Duration lifetime) {
        if (lifetime.isNegative() || lifetime.isZero()) {
            throw new IllegalArgumentException("lifetime must be positive: " + lifetime);
        }
        Instant now = Instant.now();
        return new Validity(now.minus(BACKDATE), now.plus(lifetime));
    }

    /** A period that ended {@code ago} ago, after having lasted a day. */
    public static Validity expired(Duration ago) {
        Instant end = Instant.now().minus(ago);
        return new Validity(end.minus(Duration.ofDays(1)), end);
    }

    public boolean contains(Instant instant) {
        return !instant.isBefore(notBefore) && !instant.isAfter(notAfter);
    }
}
