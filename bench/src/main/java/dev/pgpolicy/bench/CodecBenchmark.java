package dev.pgpolicy.bench;

import dev.pgpolicy.proxy.wire.Bind;
import dev.pgpolicy.proxy.wire.BindComplete;
import dev.pgpolicy.proxy.wire.Bytes;
import dev.pgpolicy.proxy.wire.CommandComplete;
import dev.pgpolicy.proxy.wire.DataRow;
import dev.pgpolicy.proxy.wire.Execute;
import dev.pgpolicy.proxy.wire.FrameDecoder;
import dev.pgpolicy.proxy.wire.FrontendMessages;
import dev.pgpolicy.proxy.wire.Parse;
import dev.pgpolicy.proxy.wire.Query;
import dev.pgpolicy.proxy.wire.RawFrame;
import dev.pgpolicy.proxy.wire.ReadyForQuery;
import dev.pgpolicy.proxy.wire.Sync;
import dev.pgpolicy.proxy.wire.TransactionStatus;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The relay's codec on realistic buffers. Decoding runs the {@link FrameDecoder} in a Netty
 * pipeline, as the proxy does, over one pooled direct buffer holding a whole server reply: what
 * each message costs until it reaches the session's handler (a frame or a run, a slice, a
 * {@code fireChannelRead}), not the socket read. Encoding covers the client-side messages the
 * session builds itself (the stand-ins for a denied statement) and the decoding of the extended
 * protocol messages it reads on every prepared transaction.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SampleTime)
@Warmup(iterations = 6, time = 1)
@Measurement(iterations = 5, time = 1)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class CodecBenchmark {

    /** A 4-column row like pgbench_accounts (aid, bid, abalance, filler char(84)), text format. */
    static DataRow accountsRow(ByteBufAllocator alloc, int aid) {
        return DataRow.of(alloc, List.of(
                Optional.of(Bytes.utf8(Integer.toString(aid))),
                Optional.of(Bytes.utf8(Integer.toString(1 + aid / 100_000))),
                Optional.of(Bytes.utf8("0")),
                Optional.of(Bytes.utf8(" ".repeat(84)))));
    }

    private final ByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;
    /** pgbench -S -M prepared: BindComplete, DataRow (abalance), CommandComplete, ReadyForQuery. */
    private ByteBuf selectReply;
    /** 1,000 accounts rows, CommandComplete and ReadyForQuery: one large result. */
    private ByteBuf rows1000;
    private EmbeddedChannel frames;
    private EmbeddedChannel runs;
    private RawFrame bindFrame;
    private RawFrame executeFrame;

    @Setup(Level.Trial)
    public void setUp() {
        selectReply = alloc.directBuffer();
        new BindComplete().encode(selectReply);
        DataRow balance = DataRow.of(alloc, List.of(Optional.of(Bytes.utf8("-4213"))));
        balance.encode(selectReply);
        balance.release();
        new CommandComplete("SELECT 1").encode(selectReply);
        new ReadyForQuery(TransactionStatus.IDLE).encode(selectReply);

        rows1000 = alloc.directBuffer();
        for (int aid = 1; aid <= 1000; aid++) {
            DataRow row = accountsRow(alloc, aid);
            row.encode(rows1000);
            row.release();
        }
        new CommandComplete("SELECT 1000").encode(rows1000);
        new ReadyForQuery(TransactionStatus.IDLE).encode(rows1000);

        frames = new EmbeddedChannel(new FrameDecoder(), new Sink());
        runs = new EmbeddedChannel(FrameDecoder.withDataRowRuns(), new Sink());

        bindFrame = RawFrame.of(new Bind("", "P0_1", List.of(), List.of(Optional.of(Bytes.utf8("12345"))),
                List.of()), alloc);
        executeFrame = RawFrame.of(new Execute("", 0), alloc);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        selectReply.release();
        rows1000.release();
        bindFrame.release();
        executeFrame.release();
        frames.finishAndReleaseAll();
        runs.finishAndReleaseAll();
    }

    /** The session's stand-in: releases what reaches it, as a relay hands it on. */
    private static final class Sink extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
        }
    }

    @Benchmark
    public void decodeSelectReply() {
        frames.pipeline().fireChannelRead(selectReply.retainedDuplicate());
    }

    /** 1,002 frames, one message each. */
    @Benchmark
    public void decodeRows1000() {
        frames.pipeline().fireChannelRead(rows1000.retainedDuplicate());
    }

    /** The same buffer cut into one run of 1,000 rows and two frames. */
    @Benchmark
    public void decodeRows1000AsRuns() {
        runs.pipeline().fireChannelRead(rows1000.retainedDuplicate());
    }

    /** What the session sends upstream in place of a denied extended-protocol statement. */
    @Benchmark
    public void encodeDeniedExtended(Blackhole blackhole) {
        ByteBuf parse = new Parse("", "SELECT pgpolicy_denied_42501()", List.of()).encode(alloc);
        ByteBuf bind = new Bind("", "", List.of(), List.of(), List.of()).encode(alloc);
        ByteBuf execute = new Execute("", 0).encode(alloc);
        ByteBuf sync = new Sync().encode(alloc);
        blackhole.consume(parse.readableBytes() + bind.readableBytes() + execute.readableBytes() + sync.readableBytes());
        parse.release();
        bind.release();
        execute.release();
        sync.release();
    }

    @Benchmark
    public void encodeQuery(Blackhole blackhole) {
        ByteBuf query = new Query("SELECT abalance FROM pgbench_accounts WHERE aid = 12345").encode(alloc);
        blackhole.consume(query.getByte(0));
        query.release();
    }

    /** The records the session decodes from a prepared transaction's Bind and Execute. */
    @Benchmark
    public void decodeBindExecute(Blackhole blackhole) {
        blackhole.consume(FrontendMessages.decode(bindFrame));
        blackhole.consume(FrontendMessages.decode(executeFrame));
    }
}
