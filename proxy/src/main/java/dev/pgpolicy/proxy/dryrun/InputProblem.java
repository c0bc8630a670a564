package dev.pgpolicy.proxy.dryrun;

import java.util.Objects;

/**
 * Something wrong with an input file: where (the file, and the byte offset in it when the problem
 * has one, or -1) and what. Reading continues past a problem wherever it can, so the report still
 * covers everything before (and, where the format allows, after) the damage.
 */
public record InputProblem(String file, long offset, String message) {
    public InputProblem {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(message, "message");
    }

    @Override
    public String toString() {
        return offset >= 0 ? file + ": at byte " + offset + ": " + message : file + ": " + message;
    }
}
