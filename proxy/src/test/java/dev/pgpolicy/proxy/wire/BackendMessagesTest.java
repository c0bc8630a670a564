package dev.pgpolicy.proxy.wire;

import static dev.pgpolicy.proxy.wire.WireTestSupport.assertEncodes;
import static dev.pgpolicy.proxy.wire.WireTestSupport.bytes;
import static dev.pgpolicy.proxy.wire.WireTestSupport.decodeFrame;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.netty.buffer.Unpooled;
import io.netty.util.ReferenceCountUtil;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class BackendMessagesTest {

    /** Checks both directions against a vector written out by hand from "Message Formats". */
    private static void assertWire(BackendMessage message, String spec) {
        assertEncodes(message, spec);
        BackendMessage decoded = decodeFrame(bytes(spec), BackendMessages::decode);
        try {
            assertThat(decoded).isEqualTo(message);
        } finally {
            ReferenceCountUtil.release(decoded);
        }
    }

    private static ProtocolException rejected(String spec) {
        RawFrame frame = RawFrame.wrap(Unpooled.wrappedBuffer(bytes(spec)));
        try {
            return catchThrowableOfType(ProtocolException.class, () -> BackendMessages.decode(frame));
        } finally {
            assertThat(frame.release()).isTrue();
        }
    }

    @Test
    void authenticationRequests() {
        assertWire(AuthenticationOk.INSTANCE, "52 00000008 00000000");
        assertWire(AuthenticationKerberosV5.INSTANCE, "52 00000008 00000002");
        assertWire(AuthenticationCleartextPassword.INSTANCE, "52 00000008 00000003");
        assertWire(new AuthenticationMD5Password(Bytes.of((byte) 1, (byte) 2, (byte) 3, (byte) 4)),
                "52 0000000c 00000005 01020304");
        assertWire(AuthenticationSCMCredential.INSTANCE, "52 00000008 00000006");
        assertWire(AuthenticationGSS.INSTANCE, "52 00000008 00000007");
        assertWire(new AuthenticationGSSContinue(Bytes.of((byte) 9)), "52 00000009 00000008 09");
        assertWire(AuthenticationSSPI.INSTANCE, "52 00000008 00000009");
        assertWire(new AuthenticationSASL(List.of("SCRAM-SHA-256-PLUS", "SCRAM-SHA-256")),
                "52 0000002a | 0000000a | 'SCRAM-SHA-256-PLUS' 00 | 'SCRAM-SHA-256' 00 | 00");
        assertWire(new AuthenticationSASLContinue(Bytes.utf8("r=abc,s=c2FsdA==,i=4096")),
                "52 0000001f 0000000b 'r=abc,s=c2FsdA==,i=4096'");
        assertWire(new AuthenticationSASLFinal(Bytes.utf8("v=sig")), "52 0000000d 0000000c 'v=sig'");
    }

    @Test
    void saslOfferWithoutChannelBinding() {
        AuthenticationSASL offer = new AuthenticationSASL(List.of("SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"));
        assertThat(offer.without("SCRAM-SHA-256-PLUS").mechanisms()).containsExactly("SCRAM-SHA-256");
    }

    @Test
    void sessionStartMessages() {
        assertWire(new ParameterStatus("client_encoding", "UTF8"), "53 00000019 'client_encoding' 00 'UTF8' 00");
        assertWire(new BackendKeyData(1234, 0x01020304), "4b 0000000c 000004d2 01020304");
        assertWire(ReadyForQuery.IDLE, "5a 00000005 49");
        assertWire(ReadyForQuery.IN_TRANSACTION, "5a 00000005 54");
        assertWire(ReadyForQuery.FAILED, "5a 00000005 45");
        assertWire(new NegotiateProtocolVersion(0, List.of("_pq_.foo")), "76 00000015 00000000 00000001 '_pq_.foo' 00");
    }

    @Test
    void queryResults() {
        assertWire(new RowDescription(List.of(new RowDescription.Field("?column?", 0, 0, 23, 4, -1, 0))),
                "54 00000021 | 0001 | '?column?' 00 | 00000000 | 0000 | 00000017 | 0004 | ffffffff | 0000");
        assertWire(new RowDescription(List.of()), "54 00000006 0000");
        assertWire(new CommandComplete("SELECT 1"), "43 0000000d 'SELECT 1' 00");
        assertWire(EmptyQueryResponse.INSTANCE, "49 00000004");
        assertWire(ParseComplete.INSTANCE, "31 00000004");
        assertWire(BindComplete.INSTANCE, "32 00000004");
        assertWire(CloseComplete.INSTANCE, "33 00000004");
        assertWire(NoData.INSTANCE, "6e 00000004");
        assertWire(PortalSuspended.INSTANCE, "73 00000004");
        assertWire(new ParameterDescription(List.of(23, 25)), "74 0000000e 0002 00000017 00000019");
        assertWire(new FunctionCallResponse(Optional.of(Bytes.utf8("ok"))), "56 0000000a 00000002 'ok'");
        assertWire(new FunctionCallResponse(Optional.empty()), "56 00000008 ffffffff");
        assertWire(new NotificationResponse(42, "jobs", ""), "41 0000000e 0000002a 'jobs' 00 00");
    }

    @Test
    void copyResponses() {
        assertWire(new CopyInResponse(0, List.of(0, 0)), "47 0000000b 00 0002 0000 0000");
        assertWire(new CopyOutResponse(1, List.of(1)), "48 00000009 01 0001 0001");
        assertWire(new CopyBothResponse(0, List.of()), "57 00000007 00 0000");
        assertThat(new CopyOutResponse(1, List.of()).isBinary()).isTrue();
        assertWire(CopyDone.INSTANCE, "63 00000004");
    }

    @Test
    void dataRow() {
        DataRow row = DataRow.of(io.netty.buffer.UnpooledByteBufAllocator.DEFAULT,
                List.of(Optional.of(Bytes.utf8("1")), Optional.empty()));
        try {
            assertWire(row, "44 0000000f | 0002 | 00000001 31 | ffffffff");
        } finally {
            row.release();
        }
    }

    @Test
    void errorResponse() {
        ErrorResponse error = ErrorResponse.of("ERROR", SqlState.INSUFFICIENT_PRIVILEGE, "permission denied", null);
        assertWire(error, "45 0000002d | 53 'ERROR' 00 | 56 'ERROR' 00 | 43 '42501' 00 | 4d 'permission denied' 00 | 00");
        assertWire(NoticeResponse.of("NOTICE", SqlState.SUCCESSFUL_COMPLETION, "hi"),
                "4e 00000020 | 53 'NOTICE' 00 | 56 'NOTICE' 00 | 43 '00000' 00 | 4d 'hi' 00 | 00");
    }

    @Test
    void errorResponseKeepsUnknownFieldsInOrder() {
        String spec = "45 00000019 | 53 'FATAL' 00 | 43 '57P01' 00 | 4d 'x' 00 | 5a 'z' 00 | 00";
        ErrorResponse error = (ErrorResponse) decodeFrame(bytes(spec), BackendMessages::decode);
        assertThat(error.fields().keySet()).containsExactly('S', 'C', 'M', 'Z');
        assertThat(error.field('Z')).contains("z");
        assertThat(error.sqlState()).contains(SqlState.ADMIN_SHUTDOWN);
        assertThat(error.isFatal()).isTrue();
        assertEncodes(error, spec);
    }

    @Test
    void malformedFramesAreProtocolViolations() {
        Map<String, String> cases = new LinkedHashMap<>();
        cases.put("AuthenticationOk with a body", "52 00000009 00000000 00");
        cases.put("authentication code missing", "52 00000006 0000");
        cases.put("unknown authentication code", "52 00000008 00000004");
        cases.put("MD5 salt too short", "52 0000000b 00000005 010203");
        cases.put("MD5 salt too long", "52 0000000d 00000005 0102030405");
        cases.put("SASL list unterminated", "52 0000000a 0000000a 'ab'");
        cases.put("SASL list empty", "52 00000009 0000000a 00");
        cases.put("SASL bytes after the list", "52 0000000c 0000000a 'a' 00 00 00");
        cases.put("ReadyForQuery unknown status", "5a 00000005 58");
        cases.put("ReadyForQuery without status", "5a 00000004");
        cases.put("BackendKeyData short", "4b 00000008 000004d2");
        cases.put("ParameterStatus without value", "53 00000007 'ab' 00");
        cases.put("RowDescription count too large", "54 00000006 0001");
        cases.put("RowDescription truncated field", "54 0000000d 0001 'a' 00 00000000 00");
        cases.put("RowDescription trailing bytes", "54 00000007 0000 00");
        cases.put("DataRow count over the data", "44 0000000a 0002 00000000");
        cases.put("DataRow column past the end", "44 0000000b 0001 00000002 31");
        cases.put("DataRow length below -1", "44 0000000a 0001 fffffffe");
        cases.put("DataRow trailing bytes", "44 0000000b 0001 ffffffff 00");
        cases.put("CommandComplete unterminated", "43 00000008 'SELE'");
        cases.put("EmptyQueryResponse with a body", "49 00000005 00");
        cases.put("ParseComplete with a body", "31 00000005 00");
        cases.put("ErrorResponse unterminated list", "45 0000000e 53 'ERROR' 00 43 'X' 00");
        cases.put("ErrorResponse missing code", "45 0000000f 53 'ERROR' 00 4d 'm' 00 00");
        cases.put("ErrorResponse duplicate field", "45 00000011 53 'E' 00 43 'X' 00 4d 'm' 00 4d 'n' 00 00");
        cases.put("ErrorResponse unterminated value", "45 00000008 53 'ERR'");
        cases.put("CopyOutResponse unknown format", "48 00000007 02 0000");
        cases.put("CopyInResponse count past the end", "47 00000009 00 0002 0000");
        cases.put("ParameterDescription count past the end", "74 0000000a 0002 00000017");
        cases.put("NegotiateProtocolVersion negative count", "76 0000000c 00000000 ffffffff");
        cases.put("NegotiateProtocolVersion count over the data", "76 0000000e 00000000 00000005 'a' 00");
        cases.put("FunctionCallResponse length past the end", "56 00000009 00000002 'o'");
        cases.put("NotificationResponse without payload", "41 0000000d 0000002a 'jobs' 00");
        cases.put("unknown type", "7a 00000004");
        cases.put("frontend type on the backend", "51 0000000d 'SELECT 1' 00");
        for (Map.Entry<String, String> c : cases.entrySet()) {
            ProtocolException e = rejected(c.getValue());
            assertThat(e).as(c.getKey()).isNotNull();
            assertThat(e.sqlState()).as(c.getKey()).isEqualTo(SqlState.PROTOCOL_VIOLATION);
        }
    }

    @Test
    void recordsRefuseValuesThatCannotBeSent() {
        assertThatThrownBy(() -> new AuthenticationSASL(List.of())).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new AuthenticationMD5Password(Bytes.of((byte) 1)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new RowDescription.Field("a", 0, 40000, 0, 0, 0, 0))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new CopyInResponse(2, List.of())).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ErrorResponse(Map.of('S', "ERROR"))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ErrorResponse(Map.of('S', "E", 'C', "X", 'M', "m", (char) 0, "x")))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void backendKeyDataHidesItsSecretKey() {
        assertThat(new BackendKeyData(77, 123456789).toString()).contains("77").doesNotContain("123456789");
        assertThat(new AuthenticationSASLContinue(Bytes.utf8("r=nonce")).toString()).doesNotContain("nonce")
                .doesNotContain("6e6f6e6365");
    }

    @Test
    void namesEveryBackendType() {
        assertThat(BackendMessages.name('D')).isEqualTo("DataRow");
        assertThat(BackendMessages.name('R')).isEqualTo("Authentication");
        assertThat(BackendMessages.name('Q')).isEqualTo("unknown");
    }
}
