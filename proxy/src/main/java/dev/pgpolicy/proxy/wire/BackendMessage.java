package dev.pgpolicy.proxy.wire;

/** A typed message a server sends; decoded by {@link BackendMessages}. */
public sealed interface BackendMessage extends WireMessage
        permits Authentication, ParameterStatus, BackendKeyData, ReadyForQuery, RowDescription,
                DataRow, CommandComplete, EmptyQueryResponse, ErrorResponse, NoticeResponse,
                ParseComplete, BindComplete, CloseComplete, NoData, ParameterDescription,
                PortalSuspended, CopyInResponse, CopyOutResponse, CopyBothResponse,
                NotificationResponse, NegotiateProtocolVersion, FunctionCallResponse,
                CopyData, CopyDone {
}
