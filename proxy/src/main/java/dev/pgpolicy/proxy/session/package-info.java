/**
 * One client session and its upstream connection: the {@link dev.pgpolicy.proxy.session.Phase}
 * state machine, passthrough authentication, proxy-issued cancel keys, the in-flight request
 * queue that attributes every result to its statement, and the
 * {@link dev.pgpolicy.proxy.session.SessionHooks} where policy enforcement and masking act.
 * Every failure leaves through {@link dev.pgpolicy.proxy.session.Errors}: a SQLSTATE and a
 * correlation id for the client, the details in the log.
 */
package dev.pgpolicy.proxy.session;
