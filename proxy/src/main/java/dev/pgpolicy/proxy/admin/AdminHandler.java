package dev.pgpolicy.proxy.admin;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pgpolicy.proxy.session.ClientSession;
import dev.pgpolicy.proxy.session.SessionSnapshot;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.timeout.ReadTimeoutException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin routes. Every request is authenticated first (when a token is configured), so an
 * unauthenticated client learns nothing, not even which paths exist. Answers are JSON except
 * {@code /metrics}; errors are {@code {"error": "..."}}.
 *
 * <pre>
 *   GET    /healthz          200 while the process runs
 *   GET    /readyz           200 when the proxy listens and the audit log (if any) is healthy, else 503
 *   GET    /metrics          Prometheus text format
 *   GET    /sessions         the open sessions
 *   DELETE /sessions/{id}    ends one as pg_terminate_backend would (FATAL 57P01)
 *   GET    /policy           the policy set in force; 404 without one
 *   POST   /reload           compile, test and swap in the policy directory; 503 without one
 * </pre>
 */
@ChannelHandler.Sharable
final class AdminHandler extends SimpleChannelInboundHandler<FullHttpRequest> {

    private static final Logger LOG = LoggerFactory.getLogger(AdminHandler.class);
    private static final String JSON = "application/json";
    private static final String SESSIONS_PREFIX = "/sessions/";
    private static final String NO_POLICY = "no policy configured";

    private final AdminSources sources;
    private final Optional<BearerToken> token;
    private final ExecutorService reloads;
    private final ObjectMapper json = new ObjectMapper();

    AdminHandler(AdminSources sources, Optional<BearerToken> token, ExecutorService reloads) {
        this.sources = sources;
        this.token = token;
        this.reloads = reloads;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        boolean keepAlive = HttpUtil.isKeepAlive(request);
        if (request.decoderResult().isFailure()) {
            respond(ctx, false, error(HttpResponseStatus.BAD_REQUEST, "malformed HTTP request"));
            return;
        }
        if (token.isPresent() && !token.get().accepts(request.headers().get(HttpHeaderNames.AUTHORIZATION))) {
            FullHttpResponse response = error(HttpResponseStatus.UNAUTHORIZED, "missing or wrong bearer token");
            // RFC 6750 section 3: tell the client which scheme is expected.
            response.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"pgpolicy\"");
            respond(ctx, keepAlive, response);
            return;
        }
        String path = new QueryStringDecoder(request.uri()).path();
        HttpMethod method = request.method();
        switch (path) {
            case "/healthz":
                if (allowed(ctx, keepAlive, method, HttpMethod.GET)) {
                    respond(ctx, keepAlive, json(HttpResponseStatus.OK, Map.of("status", "ok")));
                }
                return;
            case "/readyz":
                if (allowed(ctx, keepAlive, method, HttpMethod.GET)) {
                    readiness(ctx, keepAlive);
                }
                return;
            case "/metrics":
                if (allowed(ctx, keepAlive, method, HttpMethod.GET)) {
                    respond(ctx, keepAlive, response(HttpResponseStatus.OK, ProxyMetrics.CONTENT_TYPE,
                            sources.metrics().scrape()));
                }
                return;
            case "/sessions":
                if (allowed(ctx, keepAlive, method, HttpMethod.GET)) {
                    listSessions(ctx, keepAlive);
                }
                return;
            case "/policy":
                if (allowed(ctx, keepAlive, method, HttpMethod.GET)) {
                    policy(ctx, keepAlive);
                }
                return;
            case "/reload":
                if (allowed(ctx, keepAlive, method, HttpMethod.POST)) {
                    reload(ctx, keepAlive);
                }
                return;
            default:
                if (path.startsWith(SESSIONS_PREFIX) && path.length() > SESSIONS_PREFIX.length()
                        && path.indexOf('/', SESSIONS_PREFIX.length()) < 0) {
                    if (allowed(ctx, keepAlive, method, HttpMethod.DELETE)) {
                        terminate(ctx, keepAlive, path.substring(SESSIONS_PREFIX.length()));
                    }
                    return;
                }
                respond(ctx, keepAlive, error(HttpResponseStatus.NOT_FOUND, "no such endpoint: " + path));
        }
    }

    private boolean allowed(ChannelHandlerContext ctx, boolean keepAlive, HttpMethod method, HttpMethod expected) {
        if (method.equals(expected)) {
            return true;
        }
        FullHttpResponse response = error(HttpResponseStatus.METHOD_NOT_ALLOWED,
                method.name() + " is not allowed here; use " + expected.name());
        response.headers().set(HttpHeaderNames.ALLOW, expected.name());
        respond(ctx, keepAlive, response);
        return false;
    }

    private void readiness(ChannelHandlerContext ctx, boolean keepAlive) {
        List<String> problems = new ArrayList<>();
        if (!sources.listening().getAsBoolean()) {
            problems.add("the proxy is not accepting connections");
        }
        sources.audit().filter(log -> !log.healthy())
                .ifPresent(log -> problems.add("the audit log is failing: " + log.failure()));
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("status", problems.isEmpty() ? "ready" : "not ready");
        if (!problems.isEmpty()) {
            body.put("problems", problems);
        }
        respond(ctx, keepAlive, json(problems.isEmpty() ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE, body));
    }

    private void listSessions(ChannelHandlerContext ctx, boolean keepAlive) {
        // Each snapshot is taken on its session's event loop; the answer goes out when all are in,
        // without blocking this loop.
        List<CompletableFuture<SessionSnapshot>> snapshots = new ArrayList<>();
        for (ClientSession session : sources.sessions().get()) {
            snapshots.add(session.snapshot());
        }
        CompletableFuture.allOf(snapshots.stream()
                        .map(f -> f.exceptionally(failure -> null))
                        .toArray(CompletableFuture[]::new))
                .whenComplete((ignored, failure) -> {
                    List<Map<String, Object>> list = new ArrayList<>();
                    snapshots.stream()
                            .map(f -> f.getNow(null))
                            .filter(s -> s != null)
                            .sorted(Comparator.comparing(SessionSnapshot::started).thenComparing(SessionSnapshot::id))
                            .forEach(s -> list.add(describe(s)));
                    respond(ctx, keepAlive, json(HttpResponseStatus.OK, Map.of("sessions", list)));
                });
    }

    private static Map<String, Object> describe(SessionSnapshot s) {
        Map<String, Object> entry = new LinkedHashMap<>();
        entry.put("id", s.id());
        entry.put("user", s.user());
        entry.put("database", s.database());
        entry.put("application_name", s.applicationName());
        entry.put("client_address", s.clientAddress() == null ? null : s.clientAddress().getAddress().getHostAddress());
        entry.put("client_port", s.clientAddress() == null ? null : s.clientAddress().getPort());
        entry.put("tls", s.tls());
        entry.put("phase", s.phase().name().toLowerCase(java.util.Locale.ROOT));
        entry.put("transaction_status", transactionStatus(s.transactionStatus()));
        entry.put("started", s.started().toString());
        entry.put("bytes_in", s.bytesIn());
        entry.put("bytes_out", s.bytesOut());
        return entry;
    }

    /** ReadyForQuery's status byte in words (PostgreSQL protocol docs, "ReadyForQuery"). */
    private static String transactionStatus(char status) {
        switch (status) {
            case 'I':
                return "idle";
            case 'T':
                return "in_transaction";
            case 'E':
                return "failed_transaction";
            default:
                return String.valueOf(status);
        }
    }

    private void terminate(ChannelHandlerContext ctx, boolean keepAlive, String id) {
        Optional<ClientSession> target = sources.sessions().get().stream()
                .filter(session -> session.id().equals(id))
                .findFirst();
        if (target.isEmpty()) {
            respond(ctx, keepAlive, error(HttpResponseStatus.NOT_FOUND, "no open session with id " + id));
            return;
        }
        LOG.info("admin: terminating session {} on request from {}", id, ctx.channel().remoteAddress());
        target.get().terminateByAdministrator();
        respond(ctx, keepAlive, json(HttpResponseStatus.OK, Map.of("terminated", id)));
    }

    private void policy(ChannelHandlerContext ctx, boolean keepAlive) {
        if (sources.policy().isEmpty()) {
            respond(ctx, keepAlive, error(HttpResponseStatus.NOT_FOUND, NO_POLICY));
            return;
        }
        respond(ctx, keepAlive, json(HttpResponseStatus.OK, sources.policy().get().describe()));
    }

    private void reload(ChannelHandlerContext ctx, boolean keepAlive) {
        if (sources.policy().isEmpty()) {
            respond(ctx, keepAlive, error(HttpResponseStatus.SERVICE_UNAVAILABLE, NO_POLICY));
            return;
        }
        PolicyControl policy = sources.policy().get();
        try {
            CompletableFuture.supplyAsync(policy::reload, reloads).whenComplete((outcome, failure) -> {
                if (failure != null) {
                    LOG.error("admin: policy reload failed", failure);
                    sources.metrics().recordReload(false);
                    respond(ctx, keepAlive, error(HttpResponseStatus.INTERNAL_SERVER_ERROR,
                            "reload failed; the previous policy set stays in force (see the proxy log)"));
                    return;
                }
                sources.metrics().recordReload(outcome.succeeded());
                Map<String, Object> body = new LinkedHashMap<>();
                body.put("reloaded", outcome.succeeded());
                body.put("revision", outcome.revision());
                body.put("diagnostics", outcome.diagnostics());
                // 422: the request was understood but the new policy set was refused.
                respond(ctx, keepAlive, json(outcome.succeeded() ? HttpResponseStatus.OK
                        : HttpResponseStatus.UNPROCESSABLE_ENTITY, body));
            });
        } catch (RejectedExecutionException e) {
            respond(ctx, keepAlive, error(HttpResponseStatus.SERVICE_UNAVAILABLE, "shutting down"));
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (!(cause instanceof ReadTimeoutException)) {
            LOG.debug("admin: connection from {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
        }
        ctx.close();
    }

    // ---------------------------------------------------------------- responses

    private FullHttpResponse error(HttpResponseStatus status, String message) {
        return json(status, Map.of("error", message));
    }

    private FullHttpResponse json(HttpResponseStatus status, Object body) {
        byte[] bytes;
        try {
            bytes = json.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write admin response as JSON", e);
        }
        return response(status, JSON, bytes);
    }

    private static FullHttpResponse response(HttpResponseStatus status, String contentType, byte[] body) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(body));
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, contentType)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length)
                .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE);
        return response;
    }

    private static void respond(ChannelHandlerContext ctx, boolean keepAlive, FullHttpResponse response) {
        HttpUtil.setKeepAlive(response, keepAlive);
        if (keepAlive) {
            ctx.writeAndFlush(response);
        } else {
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        }
    }

}
