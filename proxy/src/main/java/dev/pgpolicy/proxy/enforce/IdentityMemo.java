package dev.pgpolicy.proxy.enforce;

import java.util.function.Function;

/**
 * A fixed number of slots remembering what a function computed for an object, found by the
 * object's identity: one array read and one reference comparison on a hit, nothing allocated.
 * For values derived from immutable objects that the proxy's own caches hand out again and again
 * (a cached {@code Decision}, a statement's cached facts), where a hash map keyed by the object's
 * value would hash and compare the whole record on every lookup.
 *
 * <p>Two keys that share a slot replace each other; a miss only costs the computation again, so
 * the memo is always right and at most {@code slots} keys are kept alive by it. Safe from any
 * thread without locks: a slot holds one immutable entry, whose final fields a reader sees
 * completely (JLS 17.5) even when it reads the slot without synchronization.
 */
final class IdentityMemo<K, V> {

    private record Entry<K, V>(K key, V value) {
    }

    private final Entry<K, V>[] slots;
    private final int mask;

    @SuppressWarnings("unchecked")
    IdentityMemo(int slots) {
        if (slots <= 0 || Integer.bitCount(slots) != 1) {
            throw new IllegalArgumentException("slots must be a power of two: " + slots);
        }
        this.slots = (Entry<K, V>[]) new Entry<?, ?>[slots];
        this.mask = slots - 1;
    }

    /** What was remembered for {@code key} (this very instance), or null. */
    V get(K key) {
        Entry<K, V> entry = slots[slot(key)];
        return entry != null && entry.key == key ? entry.value : null;
    }

    /** Remembers {@code value} for {@code key}, in place of whatever its slot held; returns {@code value}. */
    V put(K key, V value) {
        slots[slot(key)] = new Entry<>(key, value);
        return value;
    }

    /** What was remembered for {@code key}, or what {@code compute} makes of it, remembered. */
    V computeIfAbsent(K key, Function<? super K, ? extends V> compute) {
        V value = get(key);
        return value != null ? value : put(key, compute.apply(key));
    }

    private int slot(K key) {
        return spread(System.identityHashCode(key)) & mask;
    }

    /** Identity hash codes are random in their low bits already; mixing the high ones in costs nothing. */
    private static int spread(int hash) {
        return hash ^ (hash >>> 16);
    }
}
