package dev.pgpolicy.lang;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Optional;

/**
 * Decoding of literal token text. IP addresses are parsed here rather than with
 * {@link InetAddress#getByName}, which would fall back to a DNS lookup for anything that is not
 * a well-formed literal: a policy compiler must never touch the network.
 */
public final class Literals {

    private Literals() {
    }

    /** A decoded IP literal: the address with host bits cleared for a CIDR, and the prefix or -1. */
    public record IpValue(InetAddress address, int prefixLength, boolean hostBitsSet) {
    }

    /**
     * Parses {@code 10.0.0.0/8}, {@code 10.1.2.3}, {@code ::1}, {@code fe80::/10},
     * {@code ::ffff:10.0.0.1}. Returns empty for anything malformed.
     */
    public static Optional<IpValue> parseIp(String text) {
        String addressText = text;
        int prefix = -1;
        int slash = text.indexOf('/');
        if (slash >= 0) {
            addressText = text.substring(0, slash);
            String prefixText = text.substring(slash + 1);
            if (prefixText.isEmpty() || prefixText.length() > 3 || !prefixText.chars().allMatch(Character::isDigit)) {
                return Optional.empty();
            }
            prefix = Integer.parseInt(prefixText);
        }
        byte[] bytes = addressText.indexOf(':') >= 0 ? parseIpv6(addressText) : parseIpv4(addressText);
        if (bytes == null || prefix > bytes.length * 8) {
            return Optional.empty();
        }
        boolean hostBitsSet = false;
        if (prefix >= 0) {
            for (int bit = prefix; bit < bytes.length * 8; bit++) {
                int mask = 0x80 >>> (bit % 8);
                if ((bytes[bit / 8] & mask) != 0) {
                    hostBitsSet = true;
                    bytes[bit / 8] &= (byte) ~mask;
                }
            }
        }
        try {
            return Optional.of(new IpValue(InetAddress.getByAddress(bytes), prefix, hostBitsSet));
        } catch (UnknownHostException impossible) {
            // getByAddress only throws for a wrong array length, which the parsers rule out.
            return Optional.empty();
        }
    }

    static byte[] parseIpv4(String text) {
        String[] parts = text.split("\\.", -1);
        if (parts.length != 4) {
            return null;
        }
        byte[] bytes = new byte[4];
        for (int i = 0; i < 4; i++) {
            String part = parts[i];
            if (part.isEmpty() || part.length() > 3 || !part.chars().allMatch(c -> c >= '0' && c <= '9')) {
                return null;
            }
            int value = Integer.parseInt(part);
            if (value > 255) {
                return null;
            }
            bytes[i] = (byte) value;
        }
        return bytes;
    }

    /** RFC 4291 section 2.2 text forms, including {@code ::} compression and a dotted IPv4 tail. */
    static byte[] parseIpv6(String text) {
        if (text.isEmpty() || text.length() > 45) {
            return null;
        }
        int doubleColon = text.indexOf("::");
        if (doubleColon >= 0 && text.indexOf("::", doubleColon + 1) >= 0) {
            return null;
        }
        String head = doubleColon >= 0 ? text.substring(0, doubleColon) : text;
        String tail = doubleColon >= 0 ? text.substring(doubleColon + 2) : "";
        int[] headGroups = groups(head, doubleColon < 0);
        int[] tailGroups = groups(tail, true);
        if (headGroups == null || tailGroups == null) {
            return null;
        }
        int total = headGroups.length + tailGroups.length;
        if (doubleColon < 0 ? total != 8 : total > 7) {
            return null;
        }
        int[] all = new int[8];
        System.arraycopy(headGroups, 0, all, 0, headGroups.length);
        System.arraycopy(tailGroups, 0, all, 8 - tailGroups.length, tailGroups.length);
        byte[] bytes = new byte[16];
        for (int i = 0; i < 8; i++) {
            bytes[2 * i] = (byte) (all[i] >>> 8);
            bytes[2 * i + 1] = (byte) all[i];
        }
        return bytes;
    }

    /** 16-bit groups of one side of {@code ::}; a dotted IPv4 part is allowed only at the very end. */
    private static int[] groups(String side, boolean mayEndWithIpv4) {
        if (side.isEmpty()) {
            return new int[0];
        }
        String[] parts = side.split(":", -1);
        int count = parts.length;
        boolean ipv4Tail = mayEndWithIpv4 && parts[count - 1].indexOf('.') >= 0;
        int[] result = new int[ipv4Tail ? count + 1 : count];
        for (int i = 0; i < count; i++) {
            String part = parts[i];
            if (ipv4Tail && i == count - 1) {
                byte[] v4 = parseIpv4(part);
                if (v4 == null) {
                    return null;
                }
                result[i] = ((v4[0] & 0xff) << 8) | (v4[1] & 0xff);
                result[i + 1] = ((v4[2] & 0xff) << 8) | (v4[3] & 0xff);
                continue;
            }
            if (part.isEmpty() || part.length() > 4) {
                return null;
            }
            int value = 0;
            for (int k = 0; k < part.length(); k++) {
                int digit = Character.digit(part.charAt(k), 16);
                if (digit < 0) {
                    return null;
                }
                value = value * 16 + digit;
            }
            result[i] = value;
        }
        return result;
    }

    /** {@code 250ms}, {@code 30s}, {@code 15m}, {@code 2h}; empty on overflow or bad text. */
    public static Optional<Duration> parseDuration(String text) {
        int unitStart = 0;
        while (unitStart < text.length() && Character.isDigit(text.charAt(unitStart))) {
            unitStart++;
        }
        if (unitStart == 0 || unitStart > 12) {
            return Optional.empty();
        }
        long amount = Long.parseLong(text.substring(0, unitStart));
        switch (text.substring(unitStart)) {
            case "ms": return Optional.of(Duration.ofMillis(amount));
            case "s": return Optional.of(Duration.ofSeconds(amount));
            case "m": return Optional.of(Duration.ofMinutes(amount));
            case "h": return Optional.of(Duration.ofHours(amount));
            default: return Optional.empty();
        }
    }
}
