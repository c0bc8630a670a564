package dev.pgpolicy.proxy.wire;

/**
 * The 'R' messages: every authentication request and result shares the type byte and is told
 * apart by the Int32 code that starts the body.
 */
public sealed interface Authentication extends BackendMessage
        permits AuthenticationOk, AuthenticationKerberosV5, AuthenticationCleartextPassword,
                AuthenticationMD5Password, AuthenticationSCMCredential, AuthenticationGSS,
                AuthenticationGSSContinue, AuthenticationSSPI, AuthenticationSASL,
                AuthenticationSASLContinue, AuthenticationSASLFinal {

    char TYPE = 'R';

    int OK = 0;
    int KERBEROS_V5 = 2;
    int CLEARTEXT_PASSWORD = 3;
    int MD5_PASSWORD = 5;
    int SCM_CREDENTIAL = 6;
    int GSS = 7;
    int GSS_CONTINUE = 8;
    int SSPI = 9;
    int SASL = 10;
    int SASL_CONTINUE = 11;
    int SASL_FINAL = 12;

    /** The Int32 code that follows the length. */
    int code();
}
