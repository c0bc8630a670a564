/**
 * Who the proxy's users are in {@code auth.mode: proxy}: the users file
 * ({@link dev.pgpolicy.proxy.identity.UsersFile}, held live and reloadable by
 * {@link dev.pgpolicy.proxy.identity.UserDirectory}), the upstream service accounts they map to,
 * and the failed-login throttle ({@link dev.pgpolicy.proxy.identity.LoginThrottle}). Secrets
 * (verifiers, account passwords) never appear in {@code toString}, logs or diagnostics.
 */
package dev.pgpolicy.proxy.identity;
