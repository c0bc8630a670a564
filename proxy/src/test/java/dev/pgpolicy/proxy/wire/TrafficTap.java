package dev.pgpolicy.proxy.wire;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A byte-for-byte TCP relay between real clients and a real server that records both directions
 * of every connection, so the tests can run the codec over genuine traffic afterwards. It does not
 * interpret anything while relaying.
 */
final class TrafficTap implements AutoCloseable {

    /** Everything one connection carried, in each direction. */
    static final class Recording {
        private final ByteArrayOutputStream fromClient = new ByteArrayOutputStream();
        private final ByteArrayOutputStream fromServer = new ByteArrayOutputStream();
        private final CountDownLatch closed = new CountDownLatch(2);

        synchronized void client(ByteBuf bytes) {
            fromClient.writeBytes(ByteBufUtil.getBytes(bytes));
        }

        synchronized void server(ByteBuf bytes) {
            fromServer.writeBytes(ByteBufUtil.getBytes(bytes));
        }

        synchronized byte[] clientBytes() {
            return fromClient.toByteArray();
        }

        synchronized byte[] serverBytes() {
            return fromServer.toByteArray();
        }

        boolean awaitClosed(long seconds) throws InterruptedException {
            return closed.await(seconds, TimeUnit.SECONDS);
        }
    }

    private final EventLoopGroup group = new NioEventLoopGroup(2);
    private final List<Recording> recordings = new CopyOnWriteArrayList<>();
    private final Channel listener;
    private final int upstreamPort;

    TrafficTap(int upstreamPort) throws InterruptedException {
        this.upstreamPort = upstreamPort;
        listener = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .childOption(ChannelOption.AUTO_READ, false)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel channel) {
                        Recording recording = new Recording();
                        recordings.add(recording);
                        channel.pipeline().addLast(new ClientSide(recording));
                    }
                })
                .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
    }

    int port() {
        return ((InetSocketAddress) listener.localAddress()).getPort();
    }

    List<Recording> recordings() {
        return List.copyOf(recordings);
    }

    @Override
    public void close() {
        listener.close().syncUninterruptibly();
        group.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private static void closeOnFlush(Channel channel) {
        if (channel.isActive()) {
            channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        }
    }

    /** The client's connection: reads only once the server side is connected (backpressure). */
    private final class ClientSide extends ChannelInboundHandlerAdapter {
        private final Recording recording;
        private Channel server;

        ClientSide(Recording recording) {
            this.recording = recording;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            Channel client = ctx.channel();
            new Bootstrap()
                    .group(client.eventLoop())
                    .channel(NioSocketChannel.class)
                    .option(ChannelOption.AUTO_READ, false)
                    .handler(new ServerSide(client, recording))
                    .connect("127.0.0.1", upstreamPort)
                    .addListener((ChannelFutureListener) future -> {
                        if (future.isSuccess()) {
                            server = future.channel();
                            client.read();
                        } else {
                            client.close();
                        }
                    });
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf bytes = (ByteBuf) msg;
            recording.client(bytes);
            server.writeAndFlush(bytes).addListener((ChannelFutureListener) future -> {
                if (future.isSuccess()) {
                    ctx.channel().read();
                } else {
                    future.channel().close();
                }
            });
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            recording.closed.countDown();
            if (server != null) {
                closeOnFlush(server);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            closeOnFlush(ctx.channel());
        }
    }

    private static final class ServerSide extends ChannelInboundHandlerAdapter {
        private final Channel client;
        private final Recording recording;

        ServerSide(Channel client, Recording recording) {
            this.client = client;
            this.recording = recording;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            ctx.read();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf bytes = (ByteBuf) msg;
            recording.server(bytes);
            client.writeAndFlush(bytes).addListener((ChannelFutureListener) future -> {
                if (future.isSuccess()) {
                    ctx.channel().read();
                } else {
                    future.channel().close();
                }
            });
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            recording.closed.countDown();
            closeOnFlush(client);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            closeOnFlush(ctx.channel());
        }
    }
}
