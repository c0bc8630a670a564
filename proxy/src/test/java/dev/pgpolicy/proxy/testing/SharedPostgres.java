package dev.pgpolicy.proxy.testing;

import dev.pgpolicy.proxy.embedded.EmbeddedPostgres;

/**
 * One PostgreSQL cluster per test JVM, started on first use. Starting a cluster costs about a
 * second (initdb plus start); sharing it keeps the suite fast. Its shutdown hook stops it when the
 * JVM exits. Tests that change cluster-wide state (roles, settings) use names unique to the test,
 * or start a cluster of their own with {@link EmbeddedPostgres#builder()}.
 */
public final class SharedPostgres {
    private static EmbeddedPostgres instance;

    private SharedPostgres() {
    }

    public static synchronized EmbeddedPostgres get() {
        if (instance == null || !instance.isRunning()) {
            instance = EmbeddedPostgres.start();
        }
        return instance;
    }
}
