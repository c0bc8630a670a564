package dev.pgpolicy.proxy.session;

import java.net.InetSocketAddress;
import java.time.Instant;

/**
 * A consistent view of one session, taken on its event loop ({@link ClientSession#snapshot()}),
 * for {@code GET /sessions}.
 */
public record SessionSnapshot(
        String id,
        String user,
        String database,
        String applicationName,
        InetSocketAddress clientAddress,
        boolean tls,
        Phase phase,
        char transactionStatus,
        Instant started,
        long bytesIn,
        long bytesOut) {}
