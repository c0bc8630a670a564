package dev.pgpolicy.proxy.wire;

import static dev.pgpolicy.proxy.wire.WireTestSupport.assertEncodes;
import static dev.pgpolicy.proxy.wire.WireTestSupport.bytes;
import static dev.pgpolicy.proxy.wire.WireTestSupport.decodeFrame;
import static dev.pgpolicy.proxy.wire.WireTestSupport.encode;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.netty.buffer.Unpooled;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class FrontendMessagesTest {

    /** Checks both directions against a vector written out by hand from "Message Formats". */
    private static void assertWire(FrontendMessage message, String spec, Function<RawFrame, ? extends FrontendMessage> decoder) {
        assertEncodes(message, spec);
        FrontendMessage decoded = decodeFrame(bytes(spec), decoder);
        try {
            assertThat(decoded).isEqualTo(message);
        } finally {
            io.netty.util.ReferenceCountUtil.release(decoded);
        }
    }

    private static void assertWire(FrontendMessage message, String spec) {
        assertWire(message, spec, FrontendMessages::decode);
    }

    private static ProtocolException rejected(String spec, Function<RawFrame, ?> decoder) {
        RawFrame frame = RawFrame.wrap(Unpooled.wrappedBuffer(bytes(spec)));
        try {
            return catchThrowableOfType(ProtocolException.class, () -> decoder.apply(frame));
        } finally {
            assertThat(frame.release()).isTrue();
        }
    }

    @Test
    void query() {
        assertWire(new Query("SELECT 1"), "51 0000000d 'SELECT 1' 00");
    }

    @Test
    void queryInUtf8() {
        assertWire(new Query("SELECT 'ä'"), "51 00000010 'SELECT ' 27 c3a4 27 00");
    }

    @Test
    void parse() {
        assertWire(new Parse("s1", "SELECT $1", List.of(23)),
                "50 00000017 | 's1' 00 | 'SELECT $1' 00 | 0001 | 00000017");
    }

    @Test
    void bindWithABinaryParameterAndANull() {
        Bind bind = new Bind("", "s1", List.of(1),
                List.of(Optional.of(Bytes.of((byte) 0, (byte) 0, (byte) 0, (byte) 42)), Optional.empty()), List.of());
        assertWire(bind, "42 0000001c | 00 | 's1' 00 | 0001 0001 | 0002 | 00000004 0000002a | ffffffff | 0000");
        assertThat(bind.parameterFormat(0)).isEqualTo(1);
        assertThat(bind.parameterFormat(1)).isEqualTo(1);
        assertThat(bind.resultFormat(3)).isZero();
    }

    @Test
    void bindWithPerColumnResultFormats() {
        Bind bind = new Bind("p", "", List.of(), List.of(), List.of(0, 1));
        assertWire(bind, "42 00000011 | 'p' 00 | 00 | 0000 | 0000 | 0002 0000 0001");
        assertThat(bind.resultFormat(1)).isEqualTo(1);
    }

    @Test
    void describeExecuteCloseAndTheEmptyOnes() {
        assertWire(new Describe(TargetKind.PORTAL, ""), "44 00000006 50 00");
        assertWire(new Describe(TargetKind.STATEMENT, "s1"), "44 00000008 53 's1' 00");
        assertWire(new Execute("", 0), "45 00000009 00 00000000");
        assertWire(new Execute("c", 100), "45 0000000a 'c' 00 00000064");
        assertWire(new Close(TargetKind.STATEMENT, "s1"), "43 00000008 53 's1' 00");
        assertWire(Sync.INSTANCE, "53 00000004");
        assertWire(Flush.INSTANCE, "48 00000004");
        assertWire(Terminate.INSTANCE, "58 00000004");
        assertWire(CopyDone.INSTANCE, "63 00000004");
    }

    @Test
    void copyFailAndFunctionCall() {
        assertWire(new CopyFail("aborted"), "66 0000000c 'aborted' 00");
        assertWire(new FunctionCall(1598, List.of(), List.of(Optional.of(Bytes.utf8("x")), Optional.empty()), 1),
                "46 00000017 | 0000063e | 0000 | 0002 | 00000001 'x' | ffffffff | 0001");
    }

    @Test
    void copyDataKeepsItsPayloadAsASliceOfTheFrame() {
        RawFrame frame = RawFrame.wrap(Unpooled.wrappedBuffer(bytes("64 00000008 31 09 32 0a")));
        CopyData data = (CopyData) FrontendMessages.decode(frame);
        try {
            assertThat(data.dataLength()).isEqualTo(4);
            assertThat(frame.refCnt()).isEqualTo(2);
            assertThat(encode(data)).isEqualTo(bytes("64 00000008 31 09 32 0a"));
            assertThat(data.toString()).isEqualTo("CopyData[4 bytes]");
        } finally {
            data.release();
            frame.release();
        }
        assertThat(frame.refCnt()).isZero();
    }

    @Test
    void passwordMessagesDecodeOnlyThroughTheStageSpecificDecoders() {
        assertWire(PasswordMessage.of("secret"), "70 0000000b 'secret' 00", FrontendMessages::decodePassword);
        assertWire(SASLInitialResponse.of("SCRAM-SHA-256", Bytes.utf8("n,,n=,r=abc")),
                "70 00000021 | 'SCRAM-SHA-256' 00 | 0000000b | 'n,,n=,r=abc'",
                FrontendMessages::decodeSaslInitialResponse);
        assertWire(new SASLInitialResponse("SCRAM-SHA-256", Optional.empty()),
                "70 00000016 | 'SCRAM-SHA-256' 00 | ffffffff", FrontendMessages::decodeSaslInitialResponse);
        assertWire(new SASLResponse(Bytes.utf8("c=biws")), "70 0000000a 'c=biws'", FrontendMessages::decodeSaslResponse);
        assertWire(new GSSResponse(Bytes.of((byte) 1, (byte) 2)), "70 00000006 0102", FrontendMessages::decodeGssResponse);

        ProtocolException generic = rejected("70 0000000b 'secret' 00", FrontendMessages::decode);
        assertThat(generic.sqlState()).isEqualTo(SqlState.PROTOCOL_VIOLATION);
        ProtocolException wrongType = rejected("51 0000000d 'SELECT 1' 00", FrontendMessages::decodePassword);
        assertThat(wrongType.getMessage()).contains("expected PasswordMessage");
    }

    @Test
    void secretsNeverAppearInToString() {
        assertThat(PasswordMessage.of("hunter2").toString()).doesNotContain("hunter2").doesNotContain("68756e746572");
        assertThat(SASLInitialResponse.of("SCRAM-SHA-256", Bytes.utf8("n,,n=,r=nonce")).toString())
                .contains("SCRAM-SHA-256").doesNotContain("nonce").doesNotContain("6e6f6e6365");
        assertThat(new SASLResponse(Bytes.utf8("p=proof")).toString()).doesNotContain("proof").doesNotContain("7072");
        assertThat(new GSSResponse(Bytes.utf8("token")).toString()).doesNotContain("746f6b656e");
    }

    @Test
    void malformedFramesAreProtocolViolations() {
        Map<String, String> cases = new LinkedHashMap<>();
        cases.put("unterminated query", "51 0000000c 'SELECT 1'");
        cases.put("query with trailing bytes", "51 0000000e 'SELECT 1' 00 00");
        cases.put("Sync with a body", "53 00000005 00");
        cases.put("Terminate with a body", "58 00000005 00");
        cases.put("parse count past the end", "50 0000000e 's' 00 'q' 00 0002 00000017");
        cases.put("parse count below the data", "50 0000000e 's' 00 'q' 00 0000 00000017");
        cases.put("bind format count mismatch", "42 00000014 00 00 0002 0000 0000 0001 ffffffff 0000");
        cases.put("bind parameter length past the end", "42 00000010 00 00 0000 0001 00000010 'ab' ");
        cases.put("bind parameter length below -1", "42 00000010 00 00 0000 0001 fffffffe 0000");
        cases.put("bind missing result formats", "42 0000000a 00 00 0000 0000");
        cases.put("describe of an unknown kind", "44 00000006 58 00");
        cases.put("describe without a name", "44 00000005 53");
        cases.put("execute short row count", "45 00000007 00 0000");
        cases.put("close trailing bytes", "43 00000007 50 00 00");
        cases.put("function call format mismatch", "46 00000012 0000063e 0002 0000 0000 0000 0000");
        cases.put("copy fail unterminated", "66 00000007 'abc'");
        cases.put("unknown type", "7a 00000004");
        cases.put("backend type on the frontend", "5a 00000005 49");
        for (Map.Entry<String, String> c : cases.entrySet()) {
            ProtocolException e = rejected(c.getValue(), FrontendMessages::decode);
            assertThat(e).as(c.getKey()).isNotNull();
            assertThat(e.sqlState()).as(c.getKey()).isEqualTo(SqlState.PROTOCOL_VIOLATION);
        }
    }

    @Test
    void malformedAuthenticationResponsesAreProtocolViolations() {
        assertThat(rejected("70 00000007 'abc'", FrontendMessages::decodePassword)).isNotNull();
        assertThat(rejected("70 0000000b 'pw' 00 'junk'", FrontendMessages::decodePassword)).isNotNull();
        assertThat(rejected("70 0000000f 'SCRAM' 00 00000005 'x'", FrontendMessages::decodeSaslInitialResponse))
                .isNotNull();
        assertThat(rejected("70 0000000c 'SCRAM' 00 0000", FrontendMessages::decodeSaslInitialResponse)).isNotNull();
        assertThat(rejected("70 0000000f 'SCRAM' 00 fffffffe 'x'", FrontendMessages::decodeSaslInitialResponse))
                .isNotNull();
    }

    @Test
    void invalidUtf8IsRefusedRatherThanReplaced() {
        // C0 AF is an overlong '/': decoding it leniently would let the policy see different text
        // from what the server runs.
        ProtocolException e = rejected("51 00000007 c0af 00", FrontendMessages::decode);
        assertThat(e.sqlState()).isEqualTo(SqlState.CHARACTER_NOT_IN_REPERTOIRE);
    }

    @Test
    void recordsRefuseValuesThatCannotBeSent() {
        assertThatThrownBy(() -> new Query("a\0b")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Bind("", "", List.of(0, 1), List.of(Optional.empty()), List.of()))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Bind("", "", List.of(70000), List.of(), List.of()))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new PasswordMessage(Bytes.of((byte) 'a', (byte) 0)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Describe(null, "")).isInstanceOf(NullPointerException.class);
    }

    @Test
    void acceptsTheMaximumParameterCountPostgresqlAccepts() {
        // pq_getmsgint(msg, 2) is unsigned: 65535 parameters are legal.
        List<Optional<Bytes>> parameters = java.util.Collections.nCopies(65_535, Optional.empty());
        Bind bind = new Bind("", "", List.of(), parameters, List.of());
        FrontendMessage decoded = decodeFrame(encode(bind), FrontendMessages::decode);
        assertThat(decoded).isEqualTo(bind);
    }

    @Test
    void namesEveryFrontendType() {
        assertThat(FrontendMessages.name('B')).isEqualTo("Bind");
        assertThat(FrontendMessages.name('p')).isEqualTo("PasswordMessage");
        assertThat(FrontendMessages.name('z')).isEqualTo("unknown");
    }
}
