package dev.pgpolicy.proxy.embedded;

/** Role attributes of {@code CREATE ROLE} that test setups need; LOGIN is implied unless NOLOGIN is given. */
public enum RoleAttribute {
    SUPERUSER,
    CREATEDB,
    CREATEROLE,
    REPLICATION,
    BYPASSRLS,
    NOLOGIN
}
