package dev.pgpolicy.proxy.identity;

import static org.assertj.core.api.Assertions.assertThat;

import com.github.benmanes.caffeine.cache.Ticker;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class LoginThrottleTest {
    /** 2 free failures in 10 min, then 1 s doubling to 4 s; locked for 5 min at 5 failures. */
    private static final LoginThrottle.Limits LIMITS = new LoginThrottle.Limits(2, Duration.ofMinutes(10),
            Duration.ofSeconds(1), Duration.ofSeconds(4), 5, Duration.ofMinutes(5), 1000);

    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    private final Ticker ticker = nanos::get;
    private final LoginThrottle throttle = new LoginThrottle(LIMITS, ticker);

    private static InetAddress ip(String text) throws Exception {
        return InetAddress.getByName(text);
    }

    private void advance(Duration by) {
        nanos.addAndGet(by.toNanos());
    }

    private Duration delay(LoginThrottle.Decision decision) {
        assertThat(decision).isInstanceOf(LoginThrottle.Allow.class);
        return ((LoginThrottle.Allow) decision).delay();
    }

    @Test
    void delaysGrowThenTheKeyIsRefusedThenReleased() throws Exception {
        InetAddress client = ip("10.1.2.3");
        List<Duration> delays = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            delays.add(delay(throttle.check(client, "ana")));
            throttle.recordFailure(client, "ana");
        }
        assertThat(delays).containsExactly(Duration.ZERO, Duration.ZERO, Duration.ofSeconds(1), Duration.ofSeconds(2),
                Duration.ofSeconds(4));

        LoginThrottle.Decision refused = throttle.check(client, "ana");
        assertThat(refused).isInstanceOf(LoginThrottle.Refuse.class);
        assertThat(((LoginThrottle.Refuse) refused).retryAfter()).isEqualTo(Duration.ofMinutes(5));

        advance(Duration.ofMinutes(4));
        assertThat(throttle.check(client, "ana")).isInstanceOf(LoginThrottle.Refuse.class);
        advance(Duration.ofMinutes(1));
        assertThat(delay(throttle.check(client, "ana"))).isZero();
        // A clean slate after release: the next failure counts from one.
        throttle.recordFailure(client, "ana");
        assertThat(delay(throttle.check(client, "ana"))).isZero();

        LoginThrottle.Counters counters = throttle.counters();
        assertThat(counters.failures()).isEqualTo(6);
        assertThat(counters.lockouts()).isEqualTo(2);
        assertThat(counters.refused()).isEqualTo(2);
        assertThat(counters.delayed()).isEqualTo(3);
    }

    @Test
    void delayIsCapped() throws Exception {
        LoginThrottle wide = new LoginThrottle(new LoginThrottle.Limits(0, Duration.ofHours(1), Duration.ofMillis(100),
                Duration.ofSeconds(3), 200, Duration.ofMinutes(1), 100), ticker);
        for (int i = 0; i < 150; i++) {
            wide.recordFailure(ip("10.0.0.1"), "x");
        }
        assertThat(delay(wide.check(ip("10.0.0.1"), "x"))).isEqualTo(Duration.ofSeconds(3));
    }

    @Test
    void failuresOutsideTheWindowAreForgotten() throws Exception {
        for (int i = 0; i < 4; i++) {
            throttle.recordFailure(ip("10.1.2.3"), "ana");
        }
        assertThat(delay(throttle.check(ip("10.1.2.3"), "ana"))).isPositive();
        advance(Duration.ofMinutes(10));
        assertThat(delay(throttle.check(ip("10.1.2.3"), "ana"))).isZero();
        throttle.recordFailure(ip("10.1.2.3"), "ana");
        assertThat(delay(throttle.check(ip("10.1.2.3"), "ana"))).isZero();
    }

    @Test
    void oneUserAttackedFromManyAddressesIsLockedByUser() throws Exception {
        for (int i = 1; i <= 5; i++) {
            throttle.recordFailure(ip("10.0.0." + i), "ana");
        }
        LoginThrottle.Decision decision = throttle.check(ip("10.9.9.9"), "ana");
        assertThat(decision).isInstanceOf(LoginThrottle.Refuse.class);
        assertThat(((LoginThrottle.Refuse) decision).key()).isEqualTo("user ana");
        assertThat(delay(throttle.check(ip("10.9.9.9"), "bob"))).isZero();
    }

    @Test
    void oneAddressGuessingManyUsersIsLockedByAddress() throws Exception {
        for (int i = 1; i <= 5; i++) {
            throttle.recordFailure(ip("10.1.2.3"), "user" + i);
        }
        LoginThrottle.Decision decision = throttle.check(ip("10.1.2.3"), "someone-else");
        assertThat(((LoginThrottle.Refuse) decision).key()).isEqualTo("client 10.1.2.3");
        assertThat(delay(throttle.check(ip("10.1.2.4"), "someone-else"))).isZero();
    }

    @Test
    void ipv6ClientsAreCountedPerSlash64() throws Exception {
        for (int i = 1; i <= 5; i++) {
            throttle.recordFailure(ip("2001:db8:1:2::" + i), "u" + i);
        }
        assertThat(throttle.check(ip("2001:db8:1:2:ffff::9"), "new")).isInstanceOf(LoginThrottle.Refuse.class);
        assertThat(delay(throttle.check(ip("2001:db8:1:3::1"), "new"))).isZero();
    }

    @Test
    void successClearsTheUserButNotTheAddress() throws Exception {
        for (int i = 0; i < 4; i++) {
            throttle.recordFailure(ip("10.1.2.3"), "ana");
        }
        throttle.recordSuccess(ip("10.1.2.3"), "ana");
        assertThat(delay(throttle.check(ip("10.7.7.7"), "ana"))).isZero();
        assertThat(delay(throttle.check(ip("10.1.2.3"), "bob"))).isPositive();
    }

    @Test
    void memoryIsBoundedAndExpiredKeysLeave() throws Exception {
        for (int i = 0; i < 5000; i++) {
            throttle.recordFailure(ip("10.0." + (i / 256) + "." + (i % 256)), "user" + i);
        }
        assertThat(throttle.counters().trackedKeys()).isLessThanOrEqualTo(LIMITS.maxTrackedKeys());
        advance(Duration.ofMinutes(11));
        assertThat(throttle.counters().trackedKeys()).isZero();
    }

    @Test
    void concurrentFailuresAreAllCounted() throws Exception {
        LoginThrottle big = new LoginThrottle(new LoginThrottle.Limits(1000, Duration.ofHours(1), Duration.ofMillis(1),
                Duration.ofSeconds(1), 2000, Duration.ofMinutes(1), 100), ticker);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        CountDownLatch start = new CountDownLatch(1);
        try {
            for (int t = 0; t < 4; t++) {
                pool.execute(() -> {
                    try {
                        start.await();
                        for (int i = 0; i < 500; i++) {
                            big.recordFailure(InetAddress.getByName("10.0.0.1"), "ana");
                        }
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
            }
            start.countDown();
        } finally {
            pool.shutdown();
            assertThat(pool.awaitTermination(1, TimeUnit.MINUTES)).isTrue();
        }
        // The lockout engages at exactly 2000: one lost update and it would not.
        assertThat(big.counters().failures()).isEqualTo(2000);
        assertThat(big.counters().lockouts()).isEqualTo(2);
        assertThat(big.check(ip("10.0.0.1"), "ana")).isInstanceOf(LoginThrottle.Refuse.class);
        assertThat(delay(big.check(ip("10.0.0.2"), "bob"))).isZero();
    }
}
