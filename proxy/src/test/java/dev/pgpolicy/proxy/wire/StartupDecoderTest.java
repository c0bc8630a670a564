package dev.pgpolicy.proxy.wire;

import static dev.pgpolicy.proxy.wire.WireTestSupport.assertEncodes;
import static dev.pgpolicy.proxy.wire.WireTestSupport.assertSameBytes;
import static dev.pgpolicy.proxy.wire.WireTestSupport.buf;
import static dev.pgpolicy.proxy.wire.WireTestSupport.bytes;
import static dev.pgpolicy.proxy.wire.WireTestSupport.feedByteByByte;
import static dev.pgpolicy.proxy.wire.WireTestSupport.protocolFailure;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StartupDecoderTest {
    /** StartupMessage, protocol 3.0, user=ana, database=db, written out from "Message Formats". */
    private static final String STARTUP =
            "0000001e | 00030000 | 'user' 00 'ana' 00 | 'database' 00 'db' 00 | 00";
    private static final String SSL_REQUEST = "00000008 04d2162f";
    private static final String GSSENC_REQUEST = "00000008 04d21630";
    private static final String CANCEL_REQUEST = "00000010 04d2162e | 000004d2 | 0000162e";

    private static StartupPacket decodeOne(String spec) {
        EmbeddedChannel channel = new EmbeddedChannel(new StartupDecoder());
        List<Object> out = feedByteByByte(channel, bytes(spec));
        assertThat(out).hasSize(1);
        assertThat(channel.finishAndReleaseAll()).isFalse();
        return (StartupPacket) out.get(0);
    }

    private static ProtocolException rejected(String spec) {
        EmbeddedChannel channel = new EmbeddedChannel(new StartupDecoder());
        ByteBuf input = buf(spec);
        Throwable thrown = catchThrowable(() -> channel.writeInbound(input));
        assertThat(input.refCnt()).isZero();
        assertThat(channel.finishAndReleaseAll()).isFalse();
        return protocolFailure(thrown);
    }

    @Test
    void decodesAStartupMessageByteByByteKeepingParameterOrder() {
        StartupPacket packet = decodeOne(STARTUP);
        Map<String, String> expected = new LinkedHashMap<>();
        expected.put("user", "ana");
        expected.put("database", "db");
        assertThat(packet).isEqualTo(new StartupMessage(StartupMessage.PROTOCOL_3_0, expected));
        StartupMessage startup = (StartupMessage) packet;
        assertThat(startup.parameters().keySet()).containsExactly("user", "database");
        assertThat(startup.parameter("user")).contains("ana");
        assertEncodes(startup, STARTUP);
    }

    @Test
    void decodesTheRequestCodes() {
        assertThat(decodeOne(SSL_REQUEST)).isSameAs(SSLRequest.INSTANCE);
        assertThat(decodeOne(GSSENC_REQUEST)).isSameAs(GSSENCRequest.INSTANCE);
        assertThat(decodeOne(CANCEL_REQUEST)).isEqualTo(new CancelRequest(1234, 5678));
        assertEncodes(SSLRequest.INSTANCE, SSL_REQUEST);
        assertEncodes(GSSENCRequest.INSTANCE, GSSENC_REQUEST);
        assertEncodes(new CancelRequest(1234, 5678), CANCEL_REQUEST);
    }

    @Test
    void acceptsANewerMinorVersionForTheSessionToNegotiateDown() {
        StartupMessage startup = (StartupMessage) decodeOne("00000010 00030002 'user' 00 'a' 00 00");
        assertThat(startup.majorVersion()).isEqualTo(3);
        assertThat(startup.minorVersion()).isEqualTo(2);
        assertThat(startup.withProtocolVersion(StartupMessage.PROTOCOL_3_0).minorVersion()).isZero();
    }

    @Test
    void otherMajorVersionsAreNotSupported() {
        ProtocolException v2 = rejected("00000009 00020000 00");
        assertThat(v2.sqlState()).isEqualTo(SqlState.FEATURE_NOT_SUPPORTED);
        assertThat(v2.getMessage()).contains("unsupported frontend protocol 2.0");
        ProtocolException unknownRequest = rejected("00000008 04d21631");
        assertThat(unknownRequest.sqlState()).isEqualTo(SqlState.FEATURE_NOT_SUPPORTED);
        assertThat(unknownRequest.getMessage()).contains("1234.5681");
    }

    @Test
    void bytesBufferedBehindAnSslRequestAreAProtocolViolation() {
        // CVE-2021-23214: a man in the middle could append a plaintext StartupMessage or query
        // behind the SSLRequest, to be read as if it had come over the encrypted channel.
        ProtocolException e = rejected(SSL_REQUEST + STARTUP);
        assertThat(e.sqlState()).isEqualTo(SqlState.PROTOCOL_VIOLATION);
        assertThat(e.getMessage()).isEqualTo("received unencrypted data after SSL request");
        assertThat(rejected(SSL_REQUEST + "00").sqlState()).isEqualTo(SqlState.PROTOCOL_VIOLATION);
        assertThat(rejected(GSSENC_REQUEST + "00").sqlState()).isEqualTo(SqlState.PROTOCOL_VIOLATION);
    }

    @Test
    void afterAnSslRequestAnsweredNTheStartupMessageStillDecodes() {
        EmbeddedChannel channel = new EmbeddedChannel(new StartupDecoder());
        List<Object> out = new ArrayList<>(feedByteByByte(channel, bytes(SSL_REQUEST)));
        out.addAll(feedByteByByte(channel, bytes(STARTUP)));
        assertThat(out).hasSize(2);
        assertThat(out.get(0)).isEqualTo(SSLRequest.INSTANCE);
        assertThat(out.get(1)).isInstanceOf(StartupMessage.class);
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    @Test
    void malformedPacketsAreProtocolViolations() {
        Map<String, String> cases = new LinkedHashMap<>();
        cases.put("length below 8", "00000007 000300");
        cases.put("negative length", "ffffffff 00030000");
        cases.put("length over 10000", "00002711 00030000");
        cases.put("SSLRequest with a body", "0000000c 04d2162f 00000000");
        cases.put("GSSENCRequest with a body", "0000000c 04d21630 00000000");
        cases.put("short CancelRequest", "0000000c 04d2162e 000004d2");
        cases.put("long CancelRequest", "00000014 04d2162e 000004d2 0000162e 00000000");
        cases.put("missing list terminator", "0000000f 00030000 'user' 00 'a' 00");
        cases.put("unterminated name", "0000000c 00030000 'user'");
        cases.put("unterminated value", "0000000e 00030000 'user' 00 'a'");
        cases.put("name without a value", "0000000e 00030000 'user' 00 00");
        cases.put("bytes after the terminator", "00000011 00030000 'user' 00 'a' 00 00 'x'");
        cases.put("duplicate parameter", "00000017 00030000 'user' 00 'a' 00 'user' 00 'b' 00 00");
        cases.put("empty body", "00000008 00030000");
        for (Map.Entry<String, String> c : cases.entrySet()) {
            ProtocolException e = rejected(c.getValue());
            assertThat(e.sqlState()).as(c.getKey()).isEqualTo(SqlState.PROTOCOL_VIOLATION);
        }
    }

    @Test
    void invalidUtf8InAParameterIsRefused() {
        ProtocolException e = rejected("00000010 00030000 'user' 00 ff 00 00");
        assertThat(e.sqlState()).isEqualTo(SqlState.CHARACTER_NOT_IN_REPERTOIRE);
    }

    @Test
    void theLengthIsCheckedBeforeTheBodyArrives() {
        EmbeddedChannel channel = new EmbeddedChannel(new StartupDecoder());
        Throwable thrown = catchThrowable(() -> channel.writeInbound(buf("7fffffff")));
        assertThat(protocolFailure(thrown).getMessage()).contains("invalid length of startup packet");
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    @Test
    void decodesOnePacketPerReadAndHandsTheRestToTheNextDecoder() {
        List<Object> afterHandOver = new ArrayList<>();
        EmbeddedChannel channel = new EmbeddedChannel();
        channel.pipeline().addLast("startup", new StartupDecoder());
        channel.pipeline().addLast("session", new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                if (msg instanceof StartupMessage) {
                    // What a session does once startup is over: the typed protocol begins.
                    ctx.pipeline().replace("startup", "frames", new FrameDecoder());
                } else {
                    afterHandOver.add(msg);
                }
            }
        });
        channel.writeInbound(buf(STARTUP + "53 00000004"));
        try {
            assertThat(afterHandOver).hasSize(1);
            RawFrame sync = (RawFrame) afterHandOver.get(0);
            assertSameBytes(sync.content(), bytes("53 00000004"));
        } finally {
            WireTestSupport.releaseAll(afterHandOver);
        }
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    @Test
    void afterTheStartupMessageNothingElseIsDecoded() {
        StartupDecoder decoder = new StartupDecoder();
        EmbeddedChannel channel = new EmbeddedChannel(decoder);
        channel.writeInbound(buf(STARTUP));
        assertThat((Object) channel.readInbound()).isInstanceOf(StartupMessage.class);
        assertThat(decoder.isFinished()).isTrue();
        channel.writeInbound(buf(SSL_REQUEST));
        assertThat((Object) channel.readInbound()).isNull();
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    @Test
    void theRecordRefusesWhatCouldNotBeSent() {
        assertThatThrownBy(() -> StartupMessage.of(Map.of("", "x"))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> StartupMessage.of(Map.of("user", "a\0b"))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new StartupMessage(2 << 16, Map.of())).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void cancelRequestHidesItsSecretKey() {
        assertThat(new CancelRequest(1234, 987654321).toString()).contains("1234").doesNotContain("987654321");
    }
}
