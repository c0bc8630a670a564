package dev.pgpolicy.proxy.enforce;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgpolicy.policy.MaskFunction;
import dev.pgpolicy.policy.MaskSpec;
import dev.pgpolicy.proxy.session.CopyFilter;
import dev.pgpolicy.proxy.session.Phase;
import dev.pgpolicy.proxy.session.SessionAttachments;
import dev.pgpolicy.proxy.session.SessionException;
import dev.pgpolicy.proxy.session.SessionInfo;
import dev.pgpolicy.proxy.wire.CopyOutResponse;
import dev.pgpolicy.proxy.wire.SqlState;
import dev.pgpolicy.sql.CopyOptions;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * What the session gets when a CopyOutResponse arrives: the frames as they are when nothing is
 * masked, a masker when something is, and the end of the session (42501) whenever the server's
 * COPY is not the one that was planned.
 */
class CopyOutPlannerTest {

    private static final MaskingKey KEY = MaskingKey.perProcess();
    private static final CopyOptions TEXT = CopyOptions.defaults(CopyOptions.Format.TEXT);
    private static final MaskPlan EMAIL_IN_SECOND_COLUMN = MaskPlan.of(List.of(MaskPlan.KEEP,
            new MaskPlan.Mask(new MaskSpec(MaskFunction.EMAIL, List.of()), "s.t.email")), KEY);

    /** A session that only reports its client_encoding. */
    private static SessionInfo session(String clientEncoding) {
        return new SessionInfo() {
            private final SessionAttachments attachments = new SessionAttachments();

            @Override
            public String id() {
                return "test";
            }

            @Override
            public SessionAttachments attachments() {
                return attachments;
            }

            @Override
            public InetSocketAddress clientAddress() {
                return null;
            }

            @Override
            public Optional<String> user() {
                return Optional.of("ana");
            }

            @Override
            public Optional<String> database() {
                return Optional.of("db");
            }

            @Override
            public Optional<String> applicationName() {
                return Optional.empty();
            }

            @Override
            public boolean tls() {
                return false;
            }

            @Override
            public Optional<String> authMethod() {
                return Optional.empty();
            }

            @Override
            public Phase phase() {
                return Phase.READY;
            }

            @Override
            public char transactionStatus() {
                return 'I';
            }

            @Override
            public Optional<String> serverParameter(String name) {
                return Optional.ofNullable(Map.of("client_encoding", clientEncoding).get(name));
            }
        };
    }

    private static CopyOutResponse text(int columns) {
        return new CopyOutResponse(0, java.util.Collections.nCopies(columns, 0));
    }

    @Test
    void aCopyWithNothingMaskedPassesAsItCame() {
        List<CopyOutPlanner.CopyOutPlan> plans = List.of(CopyOutPlanner.CopyOutPlan.unchanged(TEXT, KEY, "COPY a"));
        assertThat(CopyOutPlanner.filter(session("UTF8"), plans, 0, text(3))).isSameAs(CopyFilter.UNCHANGED);
        assertThat(CopyOutPlanner.filter(session("UTF8"), plans, 0, new CopyOutResponse(1, List.of(1, 1))))
                .as("binary, planned as such because nothing it reads is masked").isSameAs(CopyFilter.UNCHANGED);
    }

    @Test
    void aMaskedCopyGetsAMasker() {
        List<CopyOutPlanner.CopyOutPlan> plans = List.of(
                CopyOutPlanner.CopyOutPlan.unchanged(TEXT, KEY, "COPY a"),
                new CopyOutPlanner.CopyOutPlan(TEXT, EMAIL_IN_SECOND_COLUMN, Set.of(), "COPY b"));
        assertThat(CopyOutPlanner.filter(session("UTF8"), plans, 1, text(2))).isInstanceOf(CopyOutMasker.class);
    }

    @Test
    void aCopyThatDoesNotMatchItsPlanEndsTheSession() {
        List<CopyOutPlanner.CopyOutPlan> plans = List.of(
                new CopyOutPlanner.CopyOutPlan(TEXT, EMAIL_IN_SECOND_COLUMN, Set.of(), "COPY b"));
        assertThatThrownBy(() -> CopyOutPlanner.filter(session("UTF8"), plans, 1, text(2)))
                .as("more COPY results than planned").isInstanceOf(SessionException.class)
                .hasMessageContaining("did not plan for");
        assertThatThrownBy(() -> CopyOutPlanner.filter(session("UTF8"), List.of(), 0, text(2)))
                .isInstanceOf(SessionException.class);
        assertThatThrownBy(() -> CopyOutPlanner.filter(session("UTF8"), plans, 0, text(3)))
                .isInstanceOf(SessionException.class).hasMessageContaining("copies 3 columns where 2 were planned");
        assertThatThrownBy(() -> CopyOutPlanner.filter(session("UTF8"), plans, 0, new CopyOutResponse(1, List.of(1, 1))))
                .isInstanceOf(SessionException.class).hasMessageContaining("binary");
        assertThatThrownBy(() -> CopyOutPlanner.filter(session("SJIS"), plans, 0, text(2)))
                .isInstanceOfSatisfying(SessionException.class,
                        e -> assertThat(e.sqlState()).isEqualTo(SqlState.INSUFFICIENT_PRIVILEGE))
                .hasMessageContaining("encoding \"SJIS\"");
    }
}
