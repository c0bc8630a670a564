package dev.pgpolicy.proxy.catalog;

import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;

/**
 * Answers of the catalog's name lookups, each kept for a fixed time after it was stored, so that
 * a name created or dropped over another connection is seen within that time.
 *
 * <p>A map with a deadline per entry rather than a Caffeine cache with {@code expireAfterWrite}:
 * these answers are read for every statement on the event loops, and a Caffeine read (its expiry
 * check, its read buffer, and the maintenance it then runs on the reading thread) cost several
 * times a map read in the statement path's profile. Bounded by forgetting everything when full:
 * an answer is cheap to ask again, and a workload's names are far fewer than the bound.
 */
final class ExpiringLookups<K, V> {

    private record Entry<V>(V value, long expiresAtNanos) {
    }

    private final ConcurrentHashMap<K, Entry<V>> entries = new ConcurrentHashMap<>();
    private final long lifetimeNanos;
    private final long capacity;

    ExpiringLookups(Duration lifetime, long capacity) {
        this.lifetimeNanos = lifetime.toNanos();
        this.capacity = capacity;
    }

    /** The answer stored for {@code key} less than the lifetime ago, or null. */
    V get(K key) {
        Entry<V> entry = entries.get(key);
        if (entry == null) {
            return null;
        }
        if (System.nanoTime() - entry.expiresAtNanos() >= 0) {
            entries.remove(key, entry);
            return null;
        }
        return entry.value();
    }

    void put(K key, V value) {
        if (entries.size() >= capacity) {
            entries.clear();
        }
        entries.put(key, new Entry<>(value, System.nanoTime() + lifetimeNanos));
    }

    void removeIf(Predicate<? super K> key) {
        entries.keySet().removeIf(key);
    }

    void clear() {
        entries.clear();
    }
}
