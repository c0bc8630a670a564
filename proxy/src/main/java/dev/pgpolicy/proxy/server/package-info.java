/**
 * The running proxy: {@link dev.pgpolicy.proxy.server.ProxyConfig} (what to run, immutable) and
 * {@link dev.pgpolicy.proxy.server.ProxyServer} (listening socket, event loops, TLS contexts,
 * graceful shutdown). {@code serve}, the demo and the integration tests all start the proxy
 * through {@code ProxyServer.start}.
 */
package dev.pgpolicy.proxy.server;
