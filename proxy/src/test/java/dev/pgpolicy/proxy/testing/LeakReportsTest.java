package dev.pgpolicy.proxy.testing;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.Test;

class LeakReportsTest {

    @Test
    void aBufferDroppedWithoutReleaseFailsTheCheck() {
        ResourceLeakDetector.Level configured = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
        try (LeakReports reports = LeakReports.start()) {
            dropWithoutRelease();
            assertThatThrownBy(reports::assertNone).isInstanceOf(AssertionError.class)
                    .hasMessageContaining("LEAK:").hasMessageContaining("deliberately leaked by LeakReportsTest");
        } finally {
            ResourceLeakDetector.setLevel(configured);
        }
    }

    private static void dropWithoutRelease() {
        ByteBuf leaked = PooledByteBufAllocator.DEFAULT.directBuffer(16);
        leaked.touch("deliberately leaked by LeakReportsTest").writeByte(1);
    }
}
