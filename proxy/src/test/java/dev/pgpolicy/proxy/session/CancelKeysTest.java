package dev.pgpolicy.proxy.session;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class CancelKeysTest {

    private final CancelKeys keys = new CancelKeys();

    @Test
    void issuedKeyResolvesToTheUpstreamKeyOnlyWithTheRightSecret() {
        CancelKeys.UpstreamKey upstream = new CancelKeys.UpstreamKey(4242, 99);
        CancelKeys.Key key = keys.issue(upstream);
        assertThat(key.processId()).isPositive();
        assertThat(keys.resolve(key.processId(), key.secretKey())).contains(upstream);
        assertThat(keys.resolve(key.processId(), key.secretKey() + 1)).isEmpty();
        assertThat(keys.resolve(key.processId() + 1, key.secretKey())).isEmpty();
    }

    @Test
    void releasedKeysNoLongerResolve() {
        CancelKeys.Key key = keys.issue(new CancelKeys.UpstreamKey(1, 2));
        keys.release(key);
        assertThat(keys.resolve(key.processId(), key.secretKey())).isEmpty();
        assertThat(keys.size()).isZero();
    }

    @Test
    void keysAreUniqueAndSecretsNeverPrinted() {
        Set<Integer> ids = new HashSet<>();
        for (int i = 0; i < 10_000; i++) {
            ids.add(keys.issue(new CancelKeys.UpstreamKey(i, i)).processId());
        }
        assertThat(ids).hasSize(10_000);
        CancelKeys.Key key = keys.issue(new CancelKeys.UpstreamKey(7, 123456789));
        assertThat(key.toString()).doesNotContain(Integer.toString(key.secretKey()));
        assertThat(new CancelKeys.UpstreamKey(7, 123456789).toString()).doesNotContain("123456789");
    }
}
