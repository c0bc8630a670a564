package dev.pgpolicy.proxy.session;

import java.util.Arrays;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * Values that components keep with one session, for as long as the session object lives. The
 * enforcement hooks and the statement audit look up their state of a session several times per
 * statement; kept here, that is a field read and a scan of a handful of entries, where a map of all
 * sessions (weak-keyed, so that a session's state dies with it) hashed the session and allocated a
 * lookup key on every call.
 *
 * <p>Safe from any thread: the entries are replaced whole on every change, so a reader needs no
 * lock; changes, which happen about once per session and key, are serialised.
 */
public final class SessionAttachments {

    /**
     * Names one value. Compared by identity: each owner (one hooks instance, one audit) creates
     * its own key, so that two owners never share a session's value by accident.
     */
    public static final class Key<T> {
        private final String name;

        public Key(String name) {
            this.name = Objects.requireNonNull(name, "name");
        }

        @Override
        public String toString() {
            return name;
        }
    }

    private static final Object[] EMPTY = new Object[0];

    /** Key, value, key, value, ... */
    private volatile Object[] entries = EMPTY;

    /** The value of {@code key}, or null when there is none. */
    @SuppressWarnings("unchecked")
    public <T> T get(Key<T> key) {
        Object[] current = entries;
        for (int i = 0; i < current.length; i += 2) {
            if (current[i] == key) {
                return (T) current[i + 1];
            }
        }
        return null;
    }

    /** The value of {@code key}, created by {@code create} (once, even when threads race) when there is none. */
    public <T> T computeIfAbsent(Key<T> key, Supplier<? extends T> create) {
        T present = get(key);
        if (present != null) {
            return present;
        }
        synchronized (this) {
            present = get(key);
            if (present != null) {
                return present;
            }
            T created = Objects.requireNonNull(create.get(), "created value");
            Object[] current = entries;
            Object[] more = Arrays.copyOf(current, current.length + 2);
            more[current.length] = key;
            more[current.length + 1] = created;
            entries = more;
            return created;
        }
    }

    /** Removes the value of {@code key} and returns it, or null when there was none. */
    public synchronized <T> T remove(Key<T> key) {
        Object[] current = entries;
        for (int i = 0; i < current.length; i += 2) {
            if (current[i] == key) {
                @SuppressWarnings("unchecked")
                T removed = (T) current[i + 1];
                Object[] fewer = new Object[current.length - 2];
                System.arraycopy(current, 0, fewer, 0, i);
                System.arraycopy(current, i + 2, fewer, i, current.length - i - 2);
                entries = fewer;
                return removed;
            }
        }
        return null;
    }
}
