package dev.pgpolicy.proxy.wire;

/**
 * Turns a server's {@link RawFrame} into a {@link BackendMessage}: a stateless switch on the type
 * byte (and, for 'R', on the authentication code), strict about every byte, with every failure a
 * {@link ProtocolException}. A server that breaks framing is treated like a client that does: the
 * proxy cannot know what such a stream means, so it refuses to interpret it.
 *
 * <p>Decoding never consumes the frame: the caller still owns it. {@link DataRow} and
 * {@link CopyData} results hold their own reference to the frame's bytes (no copy) and must be
 * released separately.
 */
public final class BackendMessages {
    private BackendMessages() {
    }

    public static BackendMessage decode(RawFrame frame) {
        char type = frame.type();
        switch (type) {
            case Authentication.TYPE:
                return FrontendMessages.read(frame, "Authentication", BackendMessages::readAuthentication);
            case ParameterStatus.TYPE:
                return FrontendMessages.read(frame, "ParameterStatus", ParameterStatus::read);
            case BackendKeyData.TYPE:
                return FrontendMessages.read(frame, "BackendKeyData", BackendKeyData::read);
            case ReadyForQuery.TYPE:
                return FrontendMessages.read(frame, "ReadyForQuery", ReadyForQuery::read);
            case RowDescription.TYPE:
                return FrontendMessages.read(frame, "RowDescription", RowDescription::read);
            case DataRow.TYPE:
                return DataRow.decode(frame.body());
            case CommandComplete.TYPE:
                return FrontendMessages.read(frame, "CommandComplete", CommandComplete::read);
            case EmptyQueryResponse.TYPE:
                return empty(frame, "EmptyQueryResponse", EmptyQueryResponse.INSTANCE);
            case ErrorResponse.TYPE:
                return FrontendMessages.read(frame, "ErrorResponse", ErrorResponse::read);
            case NoticeResponse.TYPE:
                return FrontendMessages.read(frame, "NoticeResponse", NoticeResponse::read);
            case ParseComplete.TYPE:
                return empty(frame, "ParseComplete", ParseComplete.INSTANCE);
            case BindComplete.TYPE:
                return empty(frame, "BindComplete", BindComplete.INSTANCE);
            case CloseComplete.TYPE:
                return empty(frame, "CloseComplete", CloseComplete.INSTANCE);
            case NoData.TYPE:
                return empty(frame, "NoData", NoData.INSTANCE);
            case PortalSuspended.TYPE:
                return empty(frame, "PortalSuspended", PortalSuspended.INSTANCE);
            case ParameterDescription.TYPE:
                return FrontendMessages.read(frame, "ParameterDescription", ParameterDescription::read);
            case CopyInResponse.TYPE:
                return FrontendMessages.read(frame, "CopyInResponse", CopyInResponse::read);
            case CopyOutResponse.TYPE:
                return FrontendMessages.read(frame, "CopyOutResponse", CopyOutResponse::read);
            case CopyBothResponse.TYPE:
                return FrontendMessages.read(frame, "CopyBothResponse", CopyBothResponse::read);
            case CopyData.TYPE:
                return new CopyData(frame.body().retainedSlice());
            case CopyDone.TYPE:
                return empty(frame, "CopyDone", CopyDone.INSTANCE);
            case NotificationResponse.TYPE:
                return FrontendMessages.read(frame, "NotificationResponse", NotificationResponse::read);
            case NegotiateProtocolVersion.TYPE:
                return FrontendMessages.read(frame, "NegotiateProtocolVersion", NegotiateProtocolVersion::read);
            case FunctionCallResponse.TYPE:
                return FrontendMessages.read(frame, "FunctionCallResponse", FunctionCallResponse::read);
            default:
                throw new ProtocolException("invalid backend message type '" + RawFrame.printable(type) + "'");
        }
    }

    /** The message name for a backend type byte, for logs and errors; "unknown" otherwise. */
    public static String name(char type) {
        return switch (type) {
            case Authentication.TYPE -> "Authentication";
            case ParameterStatus.TYPE -> "ParameterStatus";
            case BackendKeyData.TYPE -> "BackendKeyData";
            case ReadyForQuery.TYPE -> "ReadyForQuery";
            case RowDescription.TYPE -> "RowDescription";
            case DataRow.TYPE -> "DataRow";
            case CommandComplete.TYPE -> "CommandComplete";
            case EmptyQueryResponse.TYPE -> "EmptyQueryResponse";
            case ErrorResponse.TYPE -> "ErrorResponse";
            case NoticeResponse.TYPE -> "NoticeResponse";
            case ParseComplete.TYPE -> "ParseComplete";
            case BindComplete.TYPE -> "BindComplete";
            case CloseComplete.TYPE -> "CloseComplete";
            case NoData.TYPE -> "NoData";
            case PortalSuspended.TYPE -> "PortalSuspended";
            case ParameterDescription.TYPE -> "ParameterDescription";
            case CopyInResponse.TYPE -> "CopyInResponse";
            case CopyOutResponse.TYPE -> "CopyOutResponse";
            case CopyBothResponse.TYPE -> "CopyBothResponse";
            case CopyData.TYPE -> "CopyData";
            case CopyDone.TYPE -> "CopyDone";
            case NotificationResponse.TYPE -> "NotificationResponse";
            case NegotiateProtocolVersion.TYPE -> "NegotiateProtocolVersion";
            case FunctionCallResponse.TYPE -> "FunctionCallResponse";
            default -> "unknown";
        };
    }

    private static Authentication readAuthentication(WireReader body) {
        int code = body.readInt32("authentication code");
        switch (code) {
            case Authentication.OK:
                return noData(body, AuthenticationOk.INSTANCE);
            case Authentication.KERBEROS_V5:
                return noData(body, AuthenticationKerberosV5.INSTANCE);
            case Authentication.CLEARTEXT_PASSWORD:
                return noData(body, AuthenticationCleartextPassword.INSTANCE);
            case Authentication.MD5_PASSWORD:
                return AuthenticationMD5Password.read(body);
            case Authentication.SCM_CREDENTIAL:
                return noData(body, AuthenticationSCMCredential.INSTANCE);
            case Authentication.GSS:
                return noData(body, AuthenticationGSS.INSTANCE);
            case Authentication.GSS_CONTINUE:
                return AuthenticationGSSContinue.read(body);
            case Authentication.SSPI:
                return noData(body, AuthenticationSSPI.INSTANCE);
            case Authentication.SASL:
                return AuthenticationSASL.read(body);
            case Authentication.SASL_CONTINUE:
                return AuthenticationSASLContinue.read(body);
            case Authentication.SASL_FINAL:
                return AuthenticationSASLFinal.read(body);
            default:
                throw body.malformed("unknown authentication request code " + code);
        }
    }

    private static Authentication noData(WireReader body, Authentication message) {
        body.expectEnd();
        return message;
    }

    private static <T> T empty(RawFrame frame, String name, T message) {
        if (frame.bodyLength() != 0) {
            throw new ProtocolException("invalid " + name + " message: " + frame.bodyLength()
                    + " unexpected trailing byte(s)");
        }
        return message;
    }
}
