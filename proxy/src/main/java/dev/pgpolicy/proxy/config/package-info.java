/**
 * The configuration file ({@code pgpolicy.yaml}, DESIGN.md) and the value types it shares with
 * the command line. Unknown keys and bad values are errors with file, line and column.
 */
package dev.pgpolicy.proxy.config;
