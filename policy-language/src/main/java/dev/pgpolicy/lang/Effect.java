package dev.pgpolicy.lang;

public enum Effect {
    ALLOW, DENY
}
