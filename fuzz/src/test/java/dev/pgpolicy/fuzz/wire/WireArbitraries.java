package dev.pgpolicy.fuzz.wire;

import dev.pgpolicy.proxy.wire.AuthenticationCleartextPassword;
import dev.pgpolicy.proxy.wire.AuthenticationGSS;
import dev.pgpolicy.proxy.wire.AuthenticationGSSContinue;
import dev.pgpolicy.proxy.wire.AuthenticationKerberosV5;
import dev.pgpolicy.proxy.wire.AuthenticationMD5Password;
import dev.pgpolicy.proxy.wire.AuthenticationOk;
import dev.pgpolicy.proxy.wire.AuthenticationSASL;
import dev.pgpolicy.proxy.wire.AuthenticationSASLContinue;
import dev.pgpolicy.proxy.wire.AuthenticationSASLFinal;
import dev.pgpolicy.proxy.wire.AuthenticationSCMCredential;
import dev.pgpolicy.proxy.wire.AuthenticationSSPI;
import dev.pgpolicy.proxy.wire.BackendKeyData;
import dev.pgpolicy.proxy.wire.BackendMessage;
import dev.pgpolicy.proxy.wire.Bind;
import dev.pgpolicy.proxy.wire.BindComplete;
import dev.pgpolicy.proxy.wire.Bytes;
import dev.pgpolicy.proxy.wire.CancelRequest;
import dev.pgpolicy.proxy.wire.Close;
import dev.pgpolicy.proxy.wire.CloseComplete;
import dev.pgpolicy.proxy.wire.CommandComplete;
import dev.pgpolicy.proxy.wire.CopyBothResponse;
import dev.pgpolicy.proxy.wire.CopyData;
import dev.pgpolicy.proxy.wire.CopyDone;
import dev.pgpolicy.proxy.wire.CopyFail;
import dev.pgpolicy.proxy.wire.CopyInResponse;
import dev.pgpolicy.proxy.wire.CopyOutResponse;
import dev.pgpolicy.proxy.wire.DataRow;
import dev.pgpolicy.proxy.wire.Describe;
import dev.pgpolicy.proxy.wire.EmptyQueryResponse;
import dev.pgpolicy.proxy.wire.ErrorResponse;
import dev.pgpolicy.proxy.wire.Execute;
import dev.pgpolicy.proxy.wire.Flush;
import dev.pgpolicy.proxy.wire.FrontendMessage;
import dev.pgpolicy.proxy.wire.FunctionCall;
import dev.pgpolicy.proxy.wire.FunctionCallResponse;
import dev.pgpolicy.proxy.wire.GSSENCRequest;
import dev.pgpolicy.proxy.wire.GSSResponse;
import dev.pgpolicy.proxy.wire.NegotiateProtocolVersion;
import dev.pgpolicy.proxy.wire.NoData;
import dev.pgpolicy.proxy.wire.NoticeResponse;
import dev.pgpolicy.proxy.wire.NotificationResponse;
import dev.pgpolicy.proxy.wire.ParameterDescription;
import dev.pgpolicy.proxy.wire.ParameterStatus;
import dev.pgpolicy.proxy.wire.Parse;
import dev.pgpolicy.proxy.wire.ParseComplete;
import dev.pgpolicy.proxy.wire.PasswordMessage;
import dev.pgpolicy.proxy.wire.PortalSuspended;
import dev.pgpolicy.proxy.wire.Query;
import dev.pgpolicy.proxy.wire.ReadyForQuery;
import dev.pgpolicy.proxy.wire.RowDescription;
import dev.pgpolicy.proxy.wire.SASLInitialResponse;
import dev.pgpolicy.proxy.wire.SASLResponse;
import dev.pgpolicy.proxy.wire.SSLRequest;
import dev.pgpolicy.proxy.wire.StartupMessage;
import dev.pgpolicy.proxy.wire.StartupPacket;
import dev.pgpolicy.proxy.wire.Sync;
import dev.pgpolicy.proxy.wire.TargetKind;
import dev.pgpolicy.proxy.wire.Terminate;
import dev.pgpolicy.proxy.wire.TransactionStatus;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;

/**
 * Generators for every protocol message. Sizes stay small (strings of a few dozen characters,
 * lists of a few entries) so that thousands of tries fit in seconds; the codec's size limits are
 * covered by the unit tests.
 *
 * <p>DataRow and CopyData are built over unpooled wrapped arrays, which the leak detector does not
 * track, because a generated value may be dropped by the framework without being released.
 */
final class WireArbitraries {
    private WireArbitraries() {
    }

    // ---- building blocks

    /** Strings that fit a C-string: no NUL, any other Unicode, often plain ASCII. */
    static Arbitrary<String> text() {
        return Arbitraries.oneOf(
                Arbitraries.strings().ascii().excludeChars('\0').ofMaxLength(24),
                Arbitraries.strings().withCharRange('\u0001', '\uD7FF').withCharRange('\uE000', '\uFFFD').ofMaxLength(8),
                Arbitraries.of("", "SELECT 1", "é", "\uD83D\uDE00", "日本語", "$1"));
    }

    static Arbitrary<String> nonEmptyText() {
        return text().filter(s -> !s.isEmpty());
    }

    static Arbitrary<Bytes> bytes() {
        return Arbitraries.bytes().array(byte[].class).ofMaxSize(40).map(Bytes::of);
    }

    static Arbitrary<Optional<Bytes>> nullableBytes() {
        return bytes().optional(0.8);
    }

    static Arbitrary<Integer> int16() {
        return Arbitraries.oneOf(Arbitraries.of(0, 1, -1), Arbitraries.integers().between(Short.MIN_VALUE, Short.MAX_VALUE));
    }

    static Arbitrary<Integer> int32() {
        return Arbitraries.oneOf(Arbitraries.of(0, 1, -1, 23, 25, Integer.MIN_VALUE, Integer.MAX_VALUE), Arbitraries.integers());
    }

    /** Format-code lists by the 0 / 1 / one-per-value rule of Bind and FunctionCall. */
    static Arbitrary<List<Integer>> formatsFor(int valueCount) {
        return Arbitraries.oneOf(
                Arbitraries.just(List.of()),
                int16().list().ofSize(1),
                int16().list().ofSize(valueCount));
    }

    // ---- frontend

    static Arbitrary<Query> query() {
        return text().map(Query::new);
    }

    static Arbitrary<Parse> parse() {
        return Combinators.combine(text(), text(), int32().list().ofMaxSize(6)).as(Parse::new);
    }

    static Arbitrary<Bind> bind() {
        return nullableBytes().list().ofMaxSize(6).flatMap(parameters -> Combinators.combine(
                text(), text(), formatsFor(parameters.size()), int16().list().ofMaxSize(6))
                .as((portal, statement, formats, results) -> new Bind(portal, statement, formats, parameters, results)));
    }

    static Arbitrary<FunctionCall> functionCall() {
        return nullableBytes().list().ofMaxSize(6).flatMap(arguments -> Combinators.combine(
                int32(), formatsFor(arguments.size()), int16())
                .as((oid, formats, result) -> new FunctionCall(oid, formats, arguments, result)));
    }

    static Arbitrary<CopyData> copyData() {
        return Arbitraries.bytes().array(byte[].class).ofMaxSize(60).map(b -> new CopyData(Unpooled.wrappedBuffer(b)));
    }

    /** Every frontend message the generic decoder handles (all but the 'p' family). */
    static Arbitrary<FrontendMessage> frontendMessage() {
        return Arbitraries.oneOf(List.of(
                query(),
                parse(),
                bind(),
                Combinators.combine(Arbitraries.of(TargetKind.class), text()).as(Describe::new),
                Combinators.combine(text(), int32()).as(Execute::new),
                Combinators.combine(Arbitraries.of(TargetKind.class), text()).as(Close::new),
                Arbitraries.of(Sync.INSTANCE, Flush.INSTANCE, Terminate.INSTANCE, CopyDone.INSTANCE),
                copyData(),
                text().map(CopyFail::new),
                functionCall()));
    }

    /** The 'p' family, which only the stage-specific decoders accept. */
    static Arbitrary<FrontendMessage> authenticationResponse() {
        Arbitrary<Bytes> password = Arbitraries.bytes().filter(b -> b != 0).array(byte[].class).ofMaxSize(40).map(Bytes::of);
        return Arbitraries.oneOf(List.of(
                password.map(PasswordMessage::new),
                Combinators.combine(text(), nullableBytes()).as(SASLInitialResponse::new),
                bytes().map(SASLResponse::new),
                bytes().map(GSSResponse::new)));
    }

    // ---- backend

    static Arbitrary<BackendMessage> authenticationRequest() {
        return Arbitraries.oneOf(List.of(
                Arbitraries.of(AuthenticationOk.INSTANCE, AuthenticationKerberosV5.INSTANCE,
                        AuthenticationCleartextPassword.INSTANCE, AuthenticationSCMCredential.INSTANCE,
                        AuthenticationGSS.INSTANCE, AuthenticationSSPI.INSTANCE),
                Arbitraries.bytes().array(byte[].class).ofSize(4).map(b -> new AuthenticationMD5Password(Bytes.of(b))),
                bytes().map(AuthenticationGSSContinue::new),
                nonEmptyText().list().ofMinSize(1).ofMaxSize(4).map(AuthenticationSASL::new),
                bytes().map(AuthenticationSASLContinue::new),
                bytes().map(AuthenticationSASLFinal::new)));
    }

    static Arbitrary<RowDescription.Field> field() {
        return Combinators.combine(text(), int32(), int16(), int32(), int16(), int32(), int16())
                .as(RowDescription.Field::new);
    }

    static Arbitrary<DataRow> dataRow() {
        return nullableBytes().list().ofMaxSize(8).map(WireArbitraries::dataRowOf);
    }

    static DataRow dataRowOf(List<Optional<Bytes>> columns) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(body)) {
            out.writeShort(columns.size());
            for (Optional<Bytes> column : columns) {
                if (column.isEmpty()) {
                    out.writeInt(-1);
                } else {
                    out.writeInt(column.get().length());
                    out.write(column.get().toByteArray());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return DataRow.wrap(Unpooled.wrappedBuffer(body.toByteArray()));
    }

    /** S, C and M always, in a random position among other fields, some of unknown types. */
    static Arbitrary<Map<Character, String>> responseFields() {
        Arbitrary<Character> extraType = Arbitraries.chars().range('\u0001', '\u00FF')
                .filter(c -> c != 'S' && c != 'C' && c != 'M');
        return Combinators.combine(
                Arbitraries.of("ERROR", "FATAL", "PANIC", "WARNING", "NOTICE", "LOG"),
                Arbitraries.strings().withCharRange('0', '9').withCharRange('A', 'Z').ofLength(5),
                text(),
                Arbitraries.maps(extraType, text()).ofMaxSize(5))
                .as((severity, code, message, extra) -> {
                    Map<Character, String> fields = new LinkedHashMap<>(extra);
                    fields.put('S', severity);
                    fields.put('C', code);
                    fields.put('M', message);
                    return fields;
                });
    }

    static Arbitrary<BackendMessage> backendMessage() {
        return Arbitraries.oneOf(List.of(
                authenticationRequest(),
                Combinators.combine(text(), text()).as(ParameterStatus::new),
                Combinators.combine(int32(), int32()).as(BackendKeyData::new),
                Arbitraries.of(TransactionStatus.class).map(ReadyForQuery::new),
                field().list().ofMaxSize(5).map(RowDescription::new),
                dataRow(),
                text().map(CommandComplete::new),
                Arbitraries.of(EmptyQueryResponse.INSTANCE, ParseComplete.INSTANCE, BindComplete.INSTANCE,
                        CloseComplete.INSTANCE, NoData.INSTANCE, PortalSuspended.INSTANCE, CopyDone.INSTANCE),
                responseFields().map(ErrorResponse::new),
                responseFields().map(NoticeResponse::new),
                int32().list().ofMaxSize(6).map(ParameterDescription::new),
                Combinators.combine(Arbitraries.of(0, 1), int16().list().ofMaxSize(6)).as(CopyInResponse::new),
                Combinators.combine(Arbitraries.of(0, 1), int16().list().ofMaxSize(6)).as(CopyOutResponse::new),
                Combinators.combine(Arbitraries.of(0, 1), int16().list().ofMaxSize(6)).as(CopyBothResponse::new),
                Combinators.combine(int32(), text(), text()).as(NotificationResponse::new),
                Combinators.combine(Arbitraries.integers().between(0, 0xFFFF), text().list().ofMaxSize(4))
                        .as(NegotiateProtocolVersion::new),
                nullableBytes().map(FunctionCallResponse::new),
                copyData()));
    }

    // ---- startup

    static Arbitrary<StartupMessage> startupMessage() {
        return Combinators.combine(
                Arbitraries.integers().between(0, 0xFFFF),
                Arbitraries.maps(nonEmptyText(), text()).ofMaxSize(6))
                .as((minor, parameters) -> new StartupMessage((3 << 16) | minor, parameters));
    }

    static Arbitrary<StartupPacket> startupPacket() {
        return Arbitraries.oneOf(List.of(
                startupMessage(),
                Arbitraries.of(SSLRequest.INSTANCE, GSSENCRequest.INSTANCE),
                Combinators.combine(int32(), int32()).as(CancelRequest::new)));
    }
}
