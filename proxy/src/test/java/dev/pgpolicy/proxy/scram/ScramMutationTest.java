package dev.pgpolicy.proxy.scram;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import dev.pgpolicy.proxy.wire.AuthenticationSASL;
import dev.pgpolicy.proxy.wire.AuthenticationSASLContinue;
import dev.pgpolicy.proxy.wire.AuthenticationSASLFinal;
import dev.pgpolicy.proxy.wire.Bytes;
import dev.pgpolicy.proxy.wire.SASLInitialResponse;
import dev.pgpolicy.proxy.wire.SASLResponse;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Mutated versions of valid SCRAM messages (bit flips, truncations, inserted separators) on both
 * sides: the server always answers with an outcome and the client with a message or a
 * ScramException; no other exception escapes, and no mutation authenticates.
 */
class ScramMutationTest {
    private static final ScramVerifier VERIFIER =
            ScramVerifier.derive("pencil".toCharArray(), Rfc7677VectorTest.SALT, 4096);
    private static final MockVerifiers MOCKS = MockVerifiers.random(4096);
    private static final byte[] SEPARATORS = ",=pnyrcv\0\u00ff".getBytes(StandardCharsets.ISO_8859_1);

    static byte[] mutate(byte[] valid, Random random) {
        byte[] out = valid.clone();
        switch (random.nextInt(4)) {
            case 0:
                out[random.nextInt(out.length)] ^= (byte) (1 << random.nextInt(8));
                return out;
            case 1:
                return Arrays.copyOf(out, random.nextInt(out.length));
            case 2:
                out[random.nextInt(out.length)] = SEPARATORS[random.nextInt(SEPARATORS.length)];
                return out;
            default:
                int cut = random.nextInt(out.length);
                byte[] longer = Arrays.copyOf(out, out.length + 1);
                System.arraycopy(out, cut, longer, cut + 1, out.length - cut);
                longer[cut] = SEPARATORS[random.nextInt(SEPARATORS.length)];
                return longer;
        }
    }

    @Test
    void mutatedClientMessagesNeverThrowNorAuthenticate() {
        Random random = new Random(7677);
        byte[] first = Rfc7677VectorTest.CLIENT_FIRST.getBytes(StandardCharsets.UTF_8);
        byte[] last = Rfc7677VectorTest.CLIENT_FINAL.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < 3000; i++) {
            ScramServer server = ScramServer.start("user", Optional.of(VERIFIER), MOCKS, Optional.empty(),
                    () -> Rfc7677VectorTest.SERVER_NONCE);
            boolean mutateFirst = random.nextBoolean();
            byte[] firstSent = mutateFirst ? mutate(first, random) : first;
            byte[] lastSent = mutateFirst ? last : mutate(last, random);
            ScramServer.Outcome outcome = server.onInitialResponse(SASLInitialResponse.of("SCRAM-SHA-256", Bytes.of(firstSent)));
            if (outcome instanceof ScramServer.Challenge) {
                outcome = server.onResponse(new SASLResponse(Bytes.of(lastSent)));
            }
            assertThat(outcome).isNotNull();
            if (outcome instanceof ScramServer.Success) {
                // Only a mutation that changed nothing the proof covers may pass: the same
                // messages, and a proof spelled differently (unused base64 bits) but equal.
                assertThat(firstSent).isEqualTo(first);
                String sent = new String(lastSent, StandardCharsets.UTF_8);
                String original = Rfc7677VectorTest.CLIENT_FINAL;
                int proofAt = sent.lastIndexOf(",p=");
                assertThat(sent.substring(0, proofAt)).isEqualTo(original.substring(0, original.lastIndexOf(",p=")));
                assertThat(Base64.getDecoder().decode(sent.substring(proofAt + 3)))
                        .isEqualTo(Base64.getDecoder().decode(original.substring(original.lastIndexOf(",p=") + 3)));
            }
        }
    }

    @Test
    void mutatedServerMessagesNeverThrowAnythingButScramException() {
        Random random = new Random(5802);
        byte[] first = Rfc7677VectorTest.SERVER_FIRST.getBytes(StandardCharsets.UTF_8);
        byte[] last = Rfc7677VectorTest.SERVER_FINAL.getBytes(StandardCharsets.UTF_8);
        AuthenticationSASL offer = new AuthenticationSASL(List.of("SCRAM-SHA-256"));
        for (int i = 0; i < 300; i++) {
            boolean mutateFirst = random.nextBoolean();
            byte[] firstSent = mutateFirst ? mutate(first, random) : first;
            byte[] lastSent = mutateFirst ? last : mutate(last, random);
            assertThatCode(() -> {
                ScramClient client = ScramClient.start(offer, "pencil".toCharArray(), Optional.empty(),
                        ScramClient.ChannelBindingMode.PREFER, "user", () -> Rfc7677VectorTest.CLIENT_NONCE);
                client.initialResponse();
                try {
                    client.onContinue(new AuthenticationSASLContinue(Bytes.of(firstSent)));
                    client.onFinal(new AuthenticationSASLFinal(Bytes.of(lastSent)));
                    // Accepted: the signature decodes to the right bytes.
                    String sent = new String(lastSent, StandardCharsets.UTF_8);
                    assertThat(firstSent).isEqualTo(first);
                    assertThat(Base64.getDecoder().decode(sent.substring(2, 46)))
                            .isEqualTo(Base64.getDecoder().decode(Rfc7677VectorTest.SERVER_FINAL.substring(2)));
                } catch (ScramException expected) {
                    assertThat(client.succeeded()).isFalse();
                }
            }).doesNotThrowAnyException();
        }
    }
}
