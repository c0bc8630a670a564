package dev.pgpolicy.lang;

public sealed interface Statement extends Node
        permits RoleDefinition, AccessRule, MaskRule, LimitRule, GuardRule, AuditRule, ModeDirective {
}
