package dev.pgpolicy.proxy.audit;

import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;

/**
 * Run in a child JVM by {@link AuditCrashTest}: appends records as fast as the log takes them until
 * the test kills it with SIGKILL. Prints {@code READY} once records are flowing.
 */
public final class AuditCrashChild {
    private AuditCrashChild() {
    }

    public static void main(String[] args) throws Exception {
        Path directory = Path.of(args[0]);
        String session = args[1];
        AuditLog log = AuditLog.open(AuditConfig.defaults(directory).withMaxFileBytes(64 * 1024));
        for (int n = 0; ; n++) {
            CompletableFuture<Void> written = log.appendConfirmed(AuditRecords.statement(session, n));
            // Wait now and then so the loop runs at the disk's pace instead of filling the queue.
            if (n % 64 == 63) {
                written.get();
            }
            if (n == 255) {
                System.out.println("READY");
                System.out.flush();
            }
        }
    }
}
