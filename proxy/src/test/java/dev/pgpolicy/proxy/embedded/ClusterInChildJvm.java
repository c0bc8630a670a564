package dev.pgpolicy.proxy.embedded;

/**
 * Entry point of a child JVM for {@link LeftoverTest}: starts a cluster, prints its postmaster pid
 * and directory on one line, then waits to be terminated.
 */
public final class ClusterInChildJvm {
    private ClusterInChildJvm() {
    }

    public static void main(String[] args) throws InterruptedException {
        EmbeddedPostgres postgres = EmbeddedPostgres.start();
        System.out.println("READY " + postgres.postmasterPid() + " " + postgres.baseDirectory());
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
