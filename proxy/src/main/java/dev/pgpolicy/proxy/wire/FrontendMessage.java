package dev.pgpolicy.proxy.wire;

/** A typed message a client sends after the startup packet; decoded by {@link FrontendMessages}. */
public sealed interface FrontendMessage extends WireMessage
        permits Query, Parse, Bind, Describe, Execute, Sync, Flush, Close, Terminate,
                PasswordMessage, SASLInitialResponse, SASLResponse, GSSResponse,
                CopyData, CopyDone, CopyFail, FunctionCall {
}
