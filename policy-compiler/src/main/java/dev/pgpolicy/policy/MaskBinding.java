package dev.pgpolicy.policy;

/** A mask rule that applies to a principal: its id, its column pattern as written, and the mask. */
public record MaskBinding(String ruleId, String columnPattern, MaskSpec mask) {
}
