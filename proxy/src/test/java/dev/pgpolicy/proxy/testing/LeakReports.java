package dev.pgpolicy.proxy.testing;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * Collects Netty's "LEAK:" reports while a test runs, so that a buffer the proxy forgot to release
 * fails the test that provoked it instead of scrolling past in the log.
 *
 * <p>Netty reports a leak only when the garbage collector has collected a tracked buffer that was
 * never released, and only from inside a later allocation ({@code ResourceLeakDetector.track}).
 * {@link #assertNone()} therefore collects garbage and allocates a few tracked buffers before it
 * looks. The reports go to the {@code io.netty.util.ResourceLeakDetector} logger at ERROR, which
 * is where this appender listens; nothing else in the log changes.
 */
public final class LeakReports implements AutoCloseable {

    private static final String DETECTOR_LOGGER = ResourceLeakDetector.class.getName();

    private final Logger logger = (Logger) LoggerFactory.getLogger(DETECTOR_LOGGER);
    private final Appender appender = new Appender();

    private LeakReports() {
    }

    /**
     * Starts collecting. Leaks of buffers dropped before this call (by earlier tests in the same
     * JVM) are flushed out first, so they are logged as usual but not blamed on this test.
     */
    public static LeakReports start() {
        provokeReports();
        LeakReports reports = new LeakReports();
        reports.appender.setContext(reports.logger.getLoggerContext());
        reports.appender.start();
        reports.logger.addAppender(reports.appender);
        return reports;
    }

    /** Fails with every report collected since {@link #start()}. */
    public void assertNone() {
        provokeReports();
        List<String> leaks = appender.reports();
        if (!leaks.isEmpty()) {
            throw new AssertionError(leaks.size() + " Netty leak report(s):\n" + String.join("\n\n", leaks));
        }
    }

    @Override
    public void close() {
        logger.detachAppender(appender);
        appender.stop();
    }

    /** Two rounds of GC, each followed by tracked allocations, which is when the detector reports. */
    private static void provokeReports() {
        for (int round = 0; round < 2; round++) {
            System.gc();
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
            for (int i = 0; i < 64; i++) {
                ByteBuf probe = PooledByteBufAllocator.DEFAULT.directBuffer(64);
                probe.release();
                ByteBuf heapProbe = PooledByteBufAllocator.DEFAULT.heapBuffer(64);
                heapProbe.release();
            }
        }
    }

    private static final class Appender extends AppenderBase<ILoggingEvent> {
        private final List<String> reports = new ArrayList<>();

        @Override
        protected synchronized void append(ILoggingEvent event) {
            if (event.getLevel().isGreaterOrEqual(Level.ERROR) && event.getFormattedMessage().contains("LEAK:")) {
                reports.add(event.getFormattedMessage());
            }
        }

        synchronized List<String> reports() {
            return List.copyOf(reports);
        }
    }
}
