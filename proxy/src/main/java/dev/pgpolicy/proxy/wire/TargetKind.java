package dev.pgpolicy.proxy.wire;

import java.util.Optional;

/** What a Describe or Close names: a prepared statement ('S') or a portal ('P'). */
public enum TargetKind {
    STATEMENT('S'),
    PORTAL('P');

    private final char code;

    TargetKind(char code) {
        this.code = code;
    }

    public char code() {
        return code;
    }

    public static Optional<TargetKind> fromCode(int code) {
        for (TargetKind kind : values()) {
            if (kind.code == code) {
                return Optional.of(kind);
            }
        }
        return Optional.empty();
    }

    static TargetKind read(WireReader body) {
        byte code = body.readByte("target kind");
        return fromCode(code).orElseThrow(() -> body.malformed(
                "target kind must be 'S' or 'P', not 0x" + Integer.toHexString(code & 0xFF)));
    }
}
