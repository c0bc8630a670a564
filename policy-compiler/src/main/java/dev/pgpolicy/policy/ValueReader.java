package dev.pgpolicy.policy;

/** Reads one operand: a session attribute or a constant. Null means the value is missing. */
interface ValueReader {
    Object read(SessionContext session);

    record Constant(Object value) implements ValueReader {
        @Override
        public Object read(SessionContext session) {
            return value;
        }
    }

    record Of(Attribute attribute) implements ValueReader {
        @Override
        public Object read(SessionContext session) {
            return attribute.read(session);
        }
    }
}
