package dev.pgpolicy.proxy.session;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PhaseTest {

    @Test
    void eachPhaseAcceptsOnlyItsMessages() {
        for (char type : "QPBEDCSHXdcfF".toCharArray()) {
            assertThat(Phase.READY.accepts(type)).as("READY accepts %s", type).isTrue();
        }
        assertThat(Phase.READY.accepts('p')).isFalse();
        assertThat(Phase.AUTHENTICATING.accepts('p')).isTrue();
        assertThat(Phase.AUTHENTICATING.accepts('Q')).isFalse();
        assertThat(Phase.AWAITING_READY.accepts('Q')).isFalse();
        assertThat(Phase.AWAITING_READY.accepts('X')).isTrue();
        for (Phase phase : new Phase[] {Phase.STARTUP, Phase.TLS_HANDSHAKE, Phase.CONNECTING, Phase.CLOSED}) {
            for (char type = 0; type < 128; type++) {
                assertThat(phase.accepts(type)).as("%s accepts %s", phase, (int) type).isFalse();
            }
        }
    }

    @Test
    void handshakeDeadlineStopsAtReady() {
        assertThat(Phase.AUTHENTICATING.inHandshake()).isTrue();
        assertThat(Phase.READY.inHandshake()).isFalse();
        assertThat(Phase.CLOSED.inHandshake()).isFalse();
    }
}
