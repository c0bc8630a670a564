package dev.pgpolicy.proxy.session;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * The proxy-issued cancel keys of the live sessions. A client only ever sees a key from here,
 * never the server's, so a cancel request cannot reach a backend the client does not own, and a
 * guessed key hits nothing: the secret is compared in constant time ({@link
 * MessageDigest#isEqual}) so response timing does not leak how much of a guess was right.
 */
public final class CancelKeys {

    /** What a client sees in BackendKeyData; the process id is the lookup key, the secret the proof. */
    public record Key(int processId, int secretKey) {
        @Override
        public String toString() {
            return "Key[processId=" + processId + ", secretKey=<redacted>]";
        }
    }

    /** The upstream server's key for one session, to be sent when the client's key matches. */
    public record UpstreamKey(int processId, int secretKey) {
        @Override
        public String toString() {
            return "UpstreamKey[processId=" + processId + ", secretKey=<redacted>]";
        }
    }

    private record Entry(byte[] secret, UpstreamKey upstream) {}

    private final SecureRandom random = new SecureRandom();
    private final ConcurrentMap<Integer, Entry> byProcessId = new ConcurrentHashMap<>();

    /** Issues a fresh key that maps to {@code upstream}; release it when the session ends. */
    public Key issue(UpstreamKey upstream) {
        while (true) {
            // Positive process ids, as PostgreSQL's are: some clients print or parse them.
            int processId = random.nextInt(Integer.MAX_VALUE - 1) + 1;
            int secret = random.nextInt();
            if (byProcessId.putIfAbsent(processId, new Entry(bytes(secret), upstream)) == null) {
                return new Key(processId, secret);
            }
        }
    }

    public void release(Key key) {
        byProcessId.computeIfPresent(key.processId(),
                (id, entry) -> MessageDigest.isEqual(entry.secret(), bytes(key.secretKey())) ? null : entry);
    }

    /** The upstream key when both the process id and the secret match; empty otherwise. */
    public Optional<UpstreamKey> resolve(int processId, int secretKey) {
        Entry entry = byProcessId.get(processId);
        if (entry == null) {
            return Optional.empty();
        }
        return MessageDigest.isEqual(entry.secret(), bytes(secretKey)) ? Optional.of(entry.upstream()) : Optional.empty();
    }

    public int size() {
        return byProcessId.size();
    }

    private static byte[] bytes(int value) {
        return ByteBuffer.allocate(Integer.BYTES).putInt(value).array();
    }
}
