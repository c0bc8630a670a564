package dev.pgpolicy.proxy.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Python helpers of {@code bench/syscalls.sh}.
 *
 * <p>{@code bench/strace_counts.py}, which sorts the calls of an {@code strace -f -y} trace for
 * {@code bench/syscalls.sh}: a call split by another thread's line counts once, by the name and
 * descriptor of its first half and the result of its second; socket, eventfd and epoll calls are
 * told apart by the descriptor's type; EAGAIN and empty epoll_wait returns are counted (from the
 * result, not from a quoted argument that looks like one); and the
 * event loops' calls are told from the other threads' by thread name. The lines are strace's own
 * format, taken from a trace of the proxy.
 *
 * <p>{@code bench/thread_cpu.py}, which reads each thread's CPU time from {@code /proc} and reports
 * it per transaction by thread group: the event loops' numbered names make one group, a thread
 * that started between the snapshots counts from zero, and the figures are the differences.
 */
class SyscallsHelpersTest {

    private static final String TRACE = """
            2385  recvfrom(25<socket:[5042181]>,  <unfinished ...>
            617   gettid()                          = 617
            2385  <... recvfrom resumed>"Q\\0\\0\\0\\36select ') = -1 EAGAIN'\\0", 2048, 0, NULL, NULL) = 24
            2385  recvfrom(25<socket:[5042181]>, 0x7f05580e1067, 2048, 0, NULL, NULL) = -1 EAGAIN (Resource temporarily unavailable)
            2385  sendto(26<socket:[5040478]>, "Q\\0\\0\\0\\27select 1\\0", 24, 0, NULL, 0) = 24
            2385  writev(25<socket:[5042181]>, [{iov_base="T\\0", iov_len=2}], 1) = 2
            1306  write(22<anon_inode:[eventfd]>, "\\1\\0\\0\\0\\0\\0\\0\\0", 8 <unfinished ...>
            2385  epoll_wait(21<anon_inode:[eventpoll]>,  <unfinished ...>
            1306  <... write resumed>)              = 8
            2385  <... epoll_wait resumed>[], 4096, 1000) = 0
            2385  epoll_wait(21<anon_inode:[eventpoll]>, [{events=EPOLLIN, data={u32=25, u64=25}}], 4096, -1) = 1
            2385  epoll_ctl(21<anon_inode:[eventpoll]>, EPOLL_CTL_MOD, 26<socket:[5040478]>, {events=EPOLLET}) = 0
            621   futex(0x7f0d, FUTEX_WAIT_BITSET_PRIVATE, 0, NULL, FUTEX_BITSET_MATCH_ANY <unfinished ...>
            621   <... futex resumed>)              = -1 ETIMEDOUT (Connection timed out)
            2385  timerfd_settime(23<anon_inode:[timerfd]>, 0, {it_interval={tv_sec=0, tv_nsec=0}, it_value={tv_sec=1, tv_nsec=0}}, NULL) = 0
            2385  read(23<anon_inode:[eventfd]>, "\\1\\0\\0\\0\\0\\0\\0\\0", 8) = 8
            2385  +++ exited with 0 +++
            """;

    private static final String THREADS = """
            2385\tpgpolicy-io-3-4
            1306\tpgpolicy-accept
            617\tC2 CompilerThre
            621\tVM Periodic Tas
            """;

    @Test
    void countsEveryCallOnceByKindDescriptorAndResult(@TempDir Path dir) throws Exception {
        Map<String, Integer> counts = counts(dir);
        assertThat(counts).containsEntry("traced", 12)
                .containsEntry("sock_read", 2)
                .containsEntry("sock_read_eagain", 1)
                .containsEntry("sock_write", 2)
                .containsEntry("eventfd_write", 1)
                .containsEntry("eventfd_read", 1)
                .containsEntry("epoll_wait", 2)
                .containsEntry("epoll_wait_0", 1)
                .containsEntry("epoll_ctl", 1)
                .containsEntry("timerfd", 1)
                .containsEntry("futex", 1)
                .containsEntry("other", 1)
                .containsEntry("other:gettid", 1);
        // Nine of the twelve are the event loop's: not the accept thread's wake-up, the JIT's or the VM's.
        assertThat(counts).containsEntry("loop_calls", 9);
    }

    @Test
    void reportsEachThreadGroupsCpuPerTransaction(@TempDir Path dir) throws Exception {
        Path before = Files.writeString(dir.resolve("before"), """
                2385\tpgpolicy-io-3-1\t10.000\t40.000
                2386\tpgpolicy-io-3-2\t11.000\t41.000
                617\tC2 CompilerThre\t5.000\t1.000
                """);
        Path after = Files.writeString(dir.resolve("after"), """
                2385\tpgpolicy-io-3-1\t10.500\t41.000
                2386\tpgpolicy-io-3-2\t11.300\t41.600
                617\tC2 CompilerThre\t5.000\t1.000
                4242\tpgpolicy-audit-writer\t0.100\t0.300
                """);
        String printed = python("bench/thread_cpu.py", "report", before.toString(), after.toString(), "100000");
        // 0.8 s of user and 1.6 s of system time over 100,000 transactions: 8 and 16 µs each; the
        // JIT used nothing, so it has no line; the writer started between the snapshots.
        assertThat(printed.lines().map(line -> line.trim().split("\\s{2,}")).toList())
                .containsExactly(new String[] {"threads", "user us/tx", "system us/tx"},
                        new String[] {"pgpolicy-io", "8.00", "16.00"},
                        new String[] {"pgpolicy-audit-writer", "1.00", "3.00"},
                        new String[] {"all", "9.00", "19.00"});
    }

    @Test
    void snapshotsEveryThreadOfALiveProcess() throws Exception {
        String printed = python("bench/thread_cpu.py", "snapshot", Long.toString(ProcessHandle.current().pid()));
        List<String[]> rows = printed.lines().map(line -> line.split("\t")).toList();
        assertThat(rows).hasSizeGreaterThan(1)
                .allSatisfy(row -> assertThat(row).hasSize(4))
                .anySatisfy(row -> assertThat(row[1]).isEqualTo("VM Thread"));
        assertThat(rows).allSatisfy(row -> {
            assertThat(Double.parseDouble(row[2])).isNotNegative();
            assertThat(Double.parseDouble(row[3])).isNotNegative();
        });
    }

    private static String python(String script, String... arguments) throws IOException, InterruptedException {
        // bin/install-prerequisites installs python3: without it this is a failure, not a skip.
        assertThat(onPath("python3")).as("python3 on the PATH (bin/install-prerequisites installs it)").isTrue();
        List<String> command = new java.util.ArrayList<>(List.of("python3", BenchFiles.resolve(script).toString()));
        command.addAll(List.of(arguments));
        Process python = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        byte[] out = python.getInputStream().readAllBytes();
        assertThat(python.waitFor(60, TimeUnit.SECONDS)).as("python3 finished").isTrue();
        String printed = new String(out, StandardCharsets.UTF_8);
        assertThat(python.exitValue()).as("exit status; it printed:\n%s", printed).isZero();
        return printed;
    }

    private static Map<String, Integer> counts(Path dir) throws IOException, InterruptedException {
        Path trace = Files.writeString(dir.resolve("trace"), TRACE);
        Path threads = Files.writeString(dir.resolve("threads"), THREADS);
        String printed = python("bench/strace_counts.py", trace.toString(), threads.toString(), "1",
                "select-simple", "pgpolicy-allow");
        List<String[]> rows = printed.lines().map(line -> line.split("\t")).toList();
        assertThat(rows).allSatisfy(row -> assertThat(row).hasSize(6).startsWith("strace", "select-simple",
                "pgpolicy-allow", "1"));
        return rows.stream().collect(Collectors.toMap(row -> row[4], row -> Integer.parseInt(row[5])));
    }

    private static boolean onPath(String command) {
        String path = System.getenv().getOrDefault("PATH", "");
        for (String dir : path.split(java.io.File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, command))) {
                return true;
            }
        }
        return false;
    }
}
