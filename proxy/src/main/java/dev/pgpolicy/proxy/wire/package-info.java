/**
 * The PostgreSQL frontend/backend protocol 3.0 ("Frontend/Backend Protocol" in the PostgreSQL
 * docs), on its own: message records, decoders and encoders. Nothing here depends on the rest of
 * the proxy or on the policy modules, so the fuzz properties and offline tools can use it alone.
 *
 * <h2>Shape</h2>
 * <ul>
 * <li>{@link dev.pgpolicy.proxy.wire.StartupDecoder} reads the untyped first packets
 *     ({@link dev.pgpolicy.proxy.wire.StartupPacket}); {@link dev.pgpolicy.proxy.wire.FrameDecoder}
 *     then cuts typed frames into {@link dev.pgpolicy.proxy.wire.RawFrame}s, which a relay forwards
 *     as they are when it has no reason to change them.</li>
 * <li>{@link dev.pgpolicy.proxy.wire.FrontendMessages} and
 *     {@link dev.pgpolicy.proxy.wire.BackendMessages} turn a frame into a record when the session
 *     needs to look inside; every record can {@code encode} itself, and
 *     {@link dev.pgpolicy.proxy.wire.MessageEncoder} writes records and frames to a channel.</li>
 * </ul>
 *
 * <h2>Conventions</h2>
 * <ul>
 * <li>Strict: lengths within bounds, C-strings terminated, counts that fit, no trailing bytes,
 *     known type bytes only. Every violation is a
 *     {@link dev.pgpolicy.proxy.wire.ProtocolException} carrying SQLSTATE 08P01 (0A000 for an
 *     unsupported protocol version), and the session ends, as PostgreSQL ends it.</li>
 * <li>Text is UTF-8 and decoded strictly (malformed input is 22021): the policy engine must read
 *     exactly the statement the server will run. That also requires the session to keep
 *     {@code client_encoding} at UTF8: under GBK, SJIS or BIG5 an ASCII byte such as a backslash
 *     can be the second half of a character, so bytes that are valid UTF-8 (e3 81 81 5c) could
 *     show the proxy an escaped quote and the server a closed string. Passwords stay bytes.</li>
 * <li>Ownership: a {@link dev.pgpolicy.proxy.wire.RawFrame} owns one reference to its bytes.
 *     Decoding never consumes it. {@link dev.pgpolicy.proxy.wire.DataRow} and
 *     {@link dev.pgpolicy.proxy.wire.CopyData} hold their own reference to the same memory (no
 *     copy) and are released separately; every other record is a plain immutable value.</li>
 * <li>Record constructors throw {@link java.lang.IllegalArgumentException} for values that could
 *     not be sent (a NUL inside a string, an Int16 out of range, mismatched format counts); the
 *     decoders turn that into a ProtocolException.</li>
 * <li>Nothing that carries a credential or row data prints it: {@code toString} shows lengths.</li>
 * </ul>
 */
package dev.pgpolicy.proxy.wire;
