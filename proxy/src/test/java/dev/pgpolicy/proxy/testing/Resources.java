package dev.pgpolicy.proxy.testing;

/** Closing a test class's shared resources in order, for {@code @AfterAll}. */
public final class Resources {

    private Resources() {
    }

    /**
     * Closes each resource that is not null, in the order given (a proxy before the server behind
     * it), and every one of them even when an earlier one fails: a failed proxy close must not
     * leave a PostgreSQL running. The first failure is thrown, the later ones suppressed into it.
     */
    public static void closeAll(AutoCloseable... resources) {
        RuntimeException failure = null;
        for (AutoCloseable resource : resources) {
            if (resource == null) {
                continue;
            }
            try {
                resource.close();
            } catch (Exception e) {
                if (failure == null) {
                    failure = e instanceof RuntimeException runtime ? runtime : new IllegalStateException(e);
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }
}
