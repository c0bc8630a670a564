package dev.pgpolicy.proxy.audit;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;

/**
 * The chain fields of one audit line, read back for verification and for resuming the chain.
 * Parsing checks the shape a writer produces (a JSON object without duplicate keys that ends with
 * the {@code hash} field); {@link #hashMatches} checks the chain value over the canonical bytes.
 */
record LogLine(
        long seq,
        String event,
        String alg,
        String prev,
        String hash,
        String prevFile,
        Torn torn,
        int bodyStart,
        int bodyLength) {

    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .build();

    /** Thrown for a line that is not an audit record; the message says what is wrong. */
    static final class MalformedLineException extends Exception {
        private static final long serialVersionUID = 1L;

        MalformedLineException(String message) {
            super(message);
        }
    }

    static LogLine parse(byte[] bytes, int start, int end) throws MalformedLineException {
        int length = end - start;
        if (length <= AuditJson.HASH_SUFFIX_LENGTH) {
            throw new MalformedLineException("too short to be a record");
        }
        int suffix = end - AuditJson.HASH_SUFFIX_LENGTH;
        if (!Arrays.equals(bytes, suffix, suffix + AuditJson.HASH_PREFIX.length,
                AuditJson.HASH_PREFIX, 0, AuditJson.HASH_PREFIX.length)
                || bytes[end - 2] != '"' || bytes[end - 1] != '}') {
            throw new MalformedLineException("does not end with the hash field");
        }
        String hash = new String(bytes, suffix + AuditJson.HASH_PREFIX.length, AuditJson.HASH_HEX_LENGTH,
                StandardCharsets.US_ASCII);
        if (!isHex(hash)) {
            throw new MalformedLineException("hash is not 64 lowercase hex digits");
        }
        JsonNode node;
        try {
            node = JSON.readTree(bytes, start, length);
        } catch (JsonProcessingException e) {
            throw new MalformedLineException("not valid JSON (" + e.getOriginalMessage() + ")");
        } catch (IOException e) {
            throw new MalformedLineException("not valid JSON (" + e.getMessage() + ")");
        }
        if (node == null || !node.isObject()) {
            throw new MalformedLineException("not a JSON object");
        }
        JsonNode seq = node.get("seq");
        if (seq == null || !seq.canConvertToExactIntegral() || !seq.canConvertToLong() || seq.asLong() < 1) {
            throw new MalformedLineException("seq is missing or not a positive integer");
        }
        String prev = text(node, "prev");
        if (prev == null || !isHex(prev)) {
            throw new MalformedLineException("prev is missing or not 64 lowercase hex digits");
        }
        String event = text(node, "event");
        if (event == null) {
            throw new MalformedLineException("event is missing");
        }
        String alg = text(node, "alg");
        if (!ChainKey.SHA256.equals(alg) && !ChainKey.HMAC_SHA256.equals(alg)) {
            throw new MalformedLineException("alg is missing or unknown");
        }
        String prevFile = null;
        Torn torn = null;
        if (AuditEvent.LOG_START.jsonName().equals(event)) {
            prevFile = text(node, "prev_file");
            JsonNode tornNode = node.get("torn");
            if (tornNode != null && tornNode.isObject()) {
                String file = text(tornNode, "file");
                JsonNode offset = tornNode.get("offset");
                JsonNode tornLength = tornNode.get("length");
                if (file == null || offset == null || !offset.canConvertToLong() || tornLength == null
                        || !tornLength.canConvertToLong() || offset.asLong() < 0 || tornLength.asLong() < 0) {
                    throw new MalformedLineException("torn is not {file, offset, length}");
                }
                torn = new Torn(file, offset.asLong(), tornLength.asLong());
            }
        }
        return new LogLine(seq.asLong(), event, alg, prev, hash, prevFile, torn, start, suffix - start);
    }

    boolean hashMatches(byte[] bytes, ChainKey key) {
        String computed = key.chain(bytes, bodyStart, bodyLength);
        return MessageDigest.isEqual(
                computed.getBytes(StandardCharsets.US_ASCII), hash.getBytes(StandardCharsets.US_ASCII));
    }

    private static String text(JsonNode node, String field) {
        JsonNode value = node.get(field);
        return value != null && value.isTextual() ? value.textValue() : null;
    }

    private static boolean isHex(String value) {
        if (value.length() != AuditJson.HASH_HEX_LENGTH) {
            return false;
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (!(c >= '0' && c <= '9') && !(c >= 'a' && c <= 'f')) {
                return false;
            }
        }
        return true;
    }
}
