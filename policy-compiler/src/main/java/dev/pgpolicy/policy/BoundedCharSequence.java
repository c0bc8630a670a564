package dev.pgpolicy.policy;

/** A CharSequence that throws after a fixed budget of reads, shared with its subsequences. */
final class BoundedCharSequence implements CharSequence {

    static final class Exhausted extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Exhausted() {
            super("regular expression step budget exhausted", null, false, false);
        }
    }

    private final CharSequence text;
    private final int[] budget;

    BoundedCharSequence(CharSequence text, int[] budget) {
        this.text = text;
        this.budget = budget;
    }

    @Override
    public char charAt(int index) {
        if (--budget[0] < 0) {
            throw new Exhausted();
        }
        return text.charAt(index);
    }

    @Override
    public int length() {
        return text.length();
    }

    @Override
    public CharSequence subSequence(int start, int end) {
        return new BoundedCharSequence(text.subSequence(start, end), budget);
    }

    @Override
    public String toString() {
        return text.toString();
    }
}
