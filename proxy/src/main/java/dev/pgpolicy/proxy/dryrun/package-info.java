/**
 * {@code pgpolicy dry-run}: replays recorded PostgreSQL traffic through a policy set, offline, to
 * show what the set would allow, deny, mask and warn about before it goes live, and what changes
 * against the set in force ({@code --baseline}).
 *
 * <pre>
 * pcap / pcapng ─► PacketCaptureReader ─► PacketDecoder ─► TcpReassembler ─► FrontendStreamDecoder ─┐
 * csvlog / jsonlog ─► ServerLogReader ──────────────────────────────────────────────────────────────┤
 * audit log (JSON Lines) ─► AuditLogReader ─────────────────────────────────────────────────────────┤
 *                                                                      CapturedStatement (TrafficSink)
 *                                                                                                   ▼
 *             DryRun: SqlAnalyzer ─► PolicySet.explain (and the baseline's evaluate) ─► DryRunReport
 *                                                                                                   ▼
 *                                                                            ReportWriter: text | JSON
 * </pre>
 *
 * <p>The capture path uses the proxy's own wire codec ({@code dev.pgpolicy.proxy.wire}), so a
 * dry-run reads client messages exactly as the proxy would. Readers never throw on bad input: a
 * damaged file, a lost segment or an encrypted connection is an {@link
 * dev.pgpolicy.proxy.dryrun.InputProblem} (an error, or a notice when nothing was lost), and
 * reading continues wherever the format allows, so the report covers everything that could be
 * read. docs/operations.md ("Dry-run") is the user-facing description.
 */
package dev.pgpolicy.proxy.dryrun;
