/**
 * SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL speaks it, for both ends of the proxy.
 *
 * <ul>
 *   <li>{@link dev.pgpolicy.proxy.scram.ScramServer}: authenticates a client against a stored
 *       {@link dev.pgpolicy.proxy.scram.ScramVerifier} ({@code auth.mode: proxy}); offers
 *       SCRAM-SHA-256-PLUS when given the {@link dev.pgpolicy.proxy.scram.ChannelBinding} of the
 *       proxy's certificate; unknown users run against {@link dev.pgpolicy.proxy.scram.MockVerifiers}
 *       and fail exactly like a wrong password.</li>
 *   <li>{@link dev.pgpolicy.proxy.scram.ScramClient}: logs in upstream with a service account's
 *       password, binding to the upstream certificate when offered; {@link dev.pgpolicy.proxy.scram.Md5Password}
 *       answers servers that still ask for md5.</li>
 *   <li>{@link dev.pgpolicy.proxy.scram.SaslPrep}: password normalization, with PostgreSQL's
 *       fallback to the raw bytes.</li>
 * </ul>
 * The package depends on the wire records only; it holds no sockets and no threads, so the session
 * drives it from its event loop and tests drive it with byte strings.
 */
package dev.pgpolicy.proxy.scram;
