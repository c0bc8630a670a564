package dev.pgpolicy.proxy.dryrun;

import java.net.InetAddress;
import java.util.Objects;

/** One side of a TCP connection. */
record Endpoint(InetAddress address, int port) {
    Endpoint {
        Objects.requireNonNull(address, "address");
    }

    @Override
    public String toString() {
        String host = address.getHostAddress();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }
}
