package dev.pgpolicy.proxy.wire;

/**
 * Turns a client's {@link RawFrame} into a {@link FrontendMessage}: a stateless switch on the type
 * byte, strict about every byte (terminated strings, counts that fit, no trailing bytes), with
 * every failure a {@link ProtocolException}.
 *
 * <p>The 'p' type byte is PasswordMessage, SASLInitialResponse, SASLResponse or GSSResponse
 * depending on which authentication request the server sent last, which a stateless decoder cannot
 * know. {@link #decode} therefore refuses 'p' (guessing would let a SASL payload be read as a
 * password, or the reverse); the session, which knows the stage, calls {@link #decodePassword},
 * {@link #decodeSaslInitialResponse}, {@link #decodeSaslResponse} or {@link #decodeGssResponse}.
 *
 * <p>Decoding never consumes the frame: the caller still owns it. A {@link CopyData} result holds
 * its own reference to the frame's bytes and must be released separately.
 */
public final class FrontendMessages {
    private FrontendMessages() {
    }

    public static FrontendMessage decode(RawFrame frame) {
        char type = frame.type();
        switch (type) {
            case Query.TYPE:
                return read(frame, "Query", Query::read);
            case Parse.TYPE:
                return read(frame, "Parse", Parse::read);
            case Bind.TYPE:
                return read(frame, "Bind", Bind::read);
            case Describe.TYPE:
                return read(frame, "Describe", Describe::read);
            case Execute.TYPE:
                return read(frame, "Execute", Execute::read);
            case Close.TYPE:
                return read(frame, "Close", Close::read);
            case Sync.TYPE:
                return empty(frame, "Sync", Sync.INSTANCE);
            case Flush.TYPE:
                return empty(frame, "Flush", Flush.INSTANCE);
            case Terminate.TYPE:
                return empty(frame, "Terminate", Terminate.INSTANCE);
            case CopyDone.TYPE:
                return empty(frame, "CopyDone", CopyDone.INSTANCE);
            case CopyFail.TYPE:
                return read(frame, "CopyFail", CopyFail::read);
            case CopyData.TYPE:
                return new CopyData(frame.body().retainedSlice());
            case FunctionCall.TYPE:
                return read(frame, "FunctionCall", FunctionCall::read);
            case PasswordMessage.TYPE:
                throw new ProtocolException("unexpected authentication response ('p' message) outside authentication");
            default:
                throw new ProtocolException("invalid frontend message type '" + RawFrame.printable(type) + "'");
        }
    }

    public static PasswordMessage decodePassword(RawFrame frame) {
        expectPasswordType(frame, "PasswordMessage");
        return read(frame, "PasswordMessage", PasswordMessage::read);
    }

    public static SASLInitialResponse decodeSaslInitialResponse(RawFrame frame) {
        expectPasswordType(frame, "SASLInitialResponse");
        return read(frame, "SASLInitialResponse", SASLInitialResponse::read);
    }

    public static SASLResponse decodeSaslResponse(RawFrame frame) {
        expectPasswordType(frame, "SASLResponse");
        return read(frame, "SASLResponse", SASLResponse::read);
    }

    public static GSSResponse decodeGssResponse(RawFrame frame) {
        expectPasswordType(frame, "GSSResponse");
        return read(frame, "GSSResponse", GSSResponse::read);
    }

    /** The message name for a frontend type byte, for logs and errors; "unknown" otherwise. */
    public static String name(char type) {
        return switch (type) {
            case Query.TYPE -> "Query";
            case Parse.TYPE -> "Parse";
            case Bind.TYPE -> "Bind";
            case Describe.TYPE -> "Describe";
            case Execute.TYPE -> "Execute";
            case Close.TYPE -> "Close";
            case Sync.TYPE -> "Sync";
            case Flush.TYPE -> "Flush";
            case Terminate.TYPE -> "Terminate";
            case CopyDone.TYPE -> "CopyDone";
            case CopyFail.TYPE -> "CopyFail";
            case CopyData.TYPE -> "CopyData";
            case FunctionCall.TYPE -> "FunctionCall";
            case PasswordMessage.TYPE -> "PasswordMessage";
            default -> "unknown";
        };
    }

    private static void expectPasswordType(RawFrame frame, String expected) {
        if (frame.type() != PasswordMessage.TYPE) {
            throw new ProtocolException("expected " + expected + " ('p'), received message type '"
                    + RawFrame.printable(frame.type()) + "'");
        }
    }

    private static <T> T empty(RawFrame frame, String name, T message) {
        if (frame.bodyLength() != 0) {
            throw new ProtocolException("invalid " + name + " message: " + frame.bodyLength()
                    + " unexpected trailing byte(s)");
        }
        return message;
    }

    static <T> T read(RawFrame frame, String name, java.util.function.Function<WireReader, T> reader) {
        WireReader body = new WireReader(frame.body(), name);
        try {
            return reader.apply(body);
        } catch (IllegalArgumentException e) {
            // A record's own check (e.g. format count against parameter count) refused the values.
            throw body.malformed(e.getMessage());
        }
    }
}
