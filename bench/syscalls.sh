#!/usr/bin/env bash
# System calls, context switches and wake-ups per transaction of PgBouncer and of pgpolicy's relay,
# counted on one private cluster over a fixed number of pgbench transactions.
#
#   bench/syscalls.sh [--transactions N] [--rows-transactions N] [--clients N] [--threads N]
#                     [--warmup S] [--workloads LIST] [--jar FILE] [--io-threads N]
#                     [--keep-traces DIR] [--kernel-profile DIR]
#
# CPU per transaction moves with the load of a shared machine; these counts do not. For every
# workload and target: one plain pass (total system calls from perf's raw_syscalls tracepoint,
# context switches of all the process's threads from /proc) and one pass under strace -f (each
# call by kind, with the type of its file descriptor and its result), each over pgbench -t.
set -euo pipefail
{

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

usage() {
  sed -n '2,6p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  cat <<'EOF'
Options:
  --transactions N       pgbench -t per client for the select-only workloads (default 2000)
  --rows-transactions N  pgbench -t per client for rows10k (default 20)
  --clients N            pgbench clients (default 8)
  --threads N            pgbench threads (default 2)
  --warmup S             seconds of pgbench per workload and target before counting (default 15)
  --workloads LIST       comma list of select-simple,select-prepared,rows10k (default all three)
  --jar FILE             run pgpolicy from this jar instead of bin/pgpolicy (to count another build)
  --io-threads N         pgpolicy's io_threads (default: the configuration's default)
  --keep-traces DIR      keep the strace files there
  --kernel-profile DIR   a third pass per workload and target under `perf record -g` (software
                         clock, 2 kHz), kept in DIR with each thread group's CPU per transaction
EOF
}

transactions=2000 rows_transactions=20 clients=8 threads=2 warmup=15 jar="" keep="" io_threads="" kprof=""
workloads_opt="select-simple,select-prepared,rows10k"
while [ $# -gt 0 ]; do
  case "$1" in
    --transactions) transactions=${2:?}; shift 2 ;;
    --rows-transactions) rows_transactions=${2:?}; shift 2 ;;
    --clients) clients=${2:?}; shift 2 ;;
    --threads) threads=${2:?}; shift 2 ;;
    --warmup) warmup=${2:?}; shift 2 ;;
    --workloads) workloads_opt=${2:?}; shift 2 ;;
    --jar) jar=$(realpath "${2:?}"); shift 2 ;;
    --io-threads) io_threads=${2:?}; shift 2 ;;
    --keep-traces) keep=$(realpath -m "${2:?}"); shift 2 ;;
    --kernel-profile) kprof=$(realpath -m "${2:?}"); shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "syscalls.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
IFS=, read -r -a workloads <<<"$workloads_opt"
for w in "${workloads[@]}"; do
  case "$w" in select-simple|select-prepared|rows10k) ;;
    *) echo "syscalls.sh: unknown workload $w" >&2; exit 2 ;; esac
done

say() { printf '%s\n' "syscalls.sh: $*" >&2; }
die() { say "$*"; exit 1; }

# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
require_postgres
require_pgbouncer
service_user
command -v strace >/dev/null || die "strace is needed (apt-get install strace)"
command -v perf >/dev/null || die "perf is needed (apt-get install linux-perf)"

tracer_pids=()
cleanup() {
  local status=$? pid
  trap - EXIT INT TERM
  set +e
  for pid in "${tracer_pids[@]}"; do kill -INT "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
  stop_started
  stop_cluster
  [ -n "$work" ] && rm -rf "$work"
  exit "$status"
}
install_traps cleanup
make_workdir pgpolicy-syscalls
[ -z "$keep" ] || mkdir -p "$keep"
[ -z "$kprof" ] || mkdir -p "$kprof"

export PGUSER=bench PGDATABASE=bench PGHOST=127.0.0.1 PGSSLMODE=disable PGCONNECT_TIMEOUT=10
pg_port=$(free_port)
init_cluster "$work/initdb.log"
start_cluster 60 "-c max_connections=$((clients * 4 + 50)) -c fsync=off -c synchronous_commit=off \
   -c full_page_writes=off -c shared_buffers=256MB -c password_encryption=scram-sha-256"
"$pgbin/psql" -p "$pg_port" -d postgres -qAt -c "CREATE DATABASE bench" >/dev/null
"$pgbin/pgbench" -p "$pg_port" -i -s 10 -q >"$work/pgbench-init.log" 2>&1 \
  || { cat "$work/pgbench-init.log" >&2; die "pgbench -i failed"; }
"$pgbin/psql" -p "$pg_port" -qAt -c "VACUUM ANALYZE" >/dev/null

declare -A port pid
start_pgbouncer $((clients * 4 + 100)) $((clients + 10))
port[pgbouncer]=$bouncer_port pid[pgbouncer]=$bouncer_pid
if [ -n "$jar" ]; then pgpolicy=(java -jar "$jar"); else pgpolicy=("$root/bin/pgpolicy"); fi
config_args=()
if [ -n "$io_threads" ]; then
  printf 'io_threads: %s\n' "$io_threads" >"$work/pgpolicy.yaml"
  config_args=(--config "$work/pgpolicy.yaml")
fi
"${pgpolicy[@]}" --version >/dev/null
for attempt in 1 2 3 4 5; do
  p=$(free_port)
  : >"$work/pgpolicy.log"
  start_pgpolicy "$work/pgpolicy.log" "$p" "${PGPOLICY_JAVA_OPTS:-}" "${pgpolicy[@]}" serve "${config_args[@]}" \
    --listen "127.0.0.1:$p" --upstream "127.0.0.1:$pg_port" --upstream-tls disable && break
  grep -q 'Address already in use' "$work/pgpolicy.log" && [ "$attempt" -lt 5 ] \
    || { tail -n 30 "$work/pgpolicy.log" >&2; die "pgpolicy did not start"; }
  stop_pid "$pgpolicy_pid"
done
port[pgpolicy-allow]=$p pid[pgpolicy-allow]=$pgpolicy_pid
say "PostgreSQL on $pg_port, PgBouncer on ${port[pgbouncer]} (pid $bouncer_pid), pgpolicy on $p (pid $pgpolicy_pid)"

cat >"$work/rows10k.sql" <<EOF
\\set a random(1, $((100000 * 10 - 9999)))
SELECT aid, bid, abalance, filler FROM pgbench_accounts WHERE aid BETWEEN :a AND :a + 9999;
EOF
workload_args() {
  case "$1" in
    select-simple) echo "-S -M simple" ;;
    select-prepared) echo "-S -M prepared" ;;
    rows10k) echo "-M prepared -f $work/rows10k.sql" ;;
  esac
}

# Voluntary and non-voluntary context switches summed over the process's threads.
switches() {
  cat /proc/"$1"/task/*/status 2>/dev/null \
    | awk '/^voluntary_ctxt_switches/ { v += $2 } /^nonvoluntary_ctxt_switches/ { n += $2 } END { print v + 0, n + 0 }'
}

# pgbench -t over the target; prints the transactions pgbench reports as processed.
run_pgbench() {  # target workload transactions-per-client
  local out
  # shellcheck disable=SC2046
  out=$("$pgbin/pgbench" -p "${port[$1]}" -n -c "$clients" -j "$threads" -t "$3" $(workload_args "$2") 2>&1) \
    || { printf '%s\n' "$out" >&2; die "pgbench failed on $1 ($2)"; }
  printf '%s\n' "$out" | awk '/number of transactions actually processed/ { split($NF, a, "/"); print a[1] }'
}

# A tracer attached in the background; waits until it is attached, so no call is missed.
start_tracer() {  # ready-file command...
  local ready=$1; shift
  "$@" &
  tracer_pids+=("$!")
  for _ in $(seq 1 100); do [ -s "$ready" ] && break; sleep 0.1; done
  sleep 0.5
}
stop_tracer() {
  local t=${tracer_pids[-1]}
  kill -INT "$t" 2>/dev/null || true
  wait "$t" 2>/dev/null || true
  unset 'tracer_pids[-1]'
}

results="$work/results.tsv"
: >"$results"
for w in "${workloads[@]}"; do
  n=$transactions
  [ "$w" != rows10k ] || n=$rows_transactions
  for t in pgbouncer pgpolicy-allow; do
    target_pid=${pid[$t]}
    say "$w on $t: warm-up ${warmup}s"
    # shellcheck disable=SC2046
    "$pgbin/pgbench" -p "${port[$t]}" -n -c "$clients" -j "$threads" -T "$warmup" $(workload_args "$w") \
      >/dev/null 2>&1 || die "warm-up failed on $t ($w)"

    # Plain pass: totals without strace in the way.
    read -r v0 n0 < <(switches "$target_pid")
    start_tracer "$work/perf.out" perf stat -x, -e raw_syscalls:sys_enter,context-switches,cpu-migrations \
      -p "$target_pid" -o "$work/perf.out"
    tx=$(run_pgbench "$t" "$w" "$n")
    stop_tracer
    read -r v1 n1 < <(switches "$target_pid")
    perf_calls=$(awk -F, '$3 == "raw_syscalls:sys_enter" { print $1 }' "$work/perf.out")
    perf_cs=$(awk -F, '$3 == "context-switches" { print $1 }' "$work/perf.out")
    printf 'plain\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$w" "$t" "$tx" "$perf_calls" "$perf_cs" \
      "$((v1 - v0))" "$((n1 - n0))" >>"$results"

    # strace pass: every call by kind, its descriptor's type and its result.
    trace="$work/$w.$t.strace"
    : >"$trace"
    start_tracer "$trace" strace -f -qq -y -o "$trace" -p "$target_pid"
    tx=$(run_pgbench "$t" "$w" "$n")
    stop_tracer
    threads_file="$work/$w.$t.threads"
    for task in /proc/"$target_pid"/task/*; do
      printf '%s\t%s\n' "${task##*/}" "$(cat "$task/comm" 2>/dev/null || echo '?')"
    done >"$threads_file"
    python3 "$root/bench/strace_counts.py" "$trace" "$threads_file" "$tx" "$w" "$t" >>"$results"
    [ -z "$keep" ] || cp "$trace" "$threads_file" "$keep/"
    rm -f "$trace"

    # Kernel profile pass: where the CPU goes, kernel functions included (the JVM's own frames
    # show as addresses); a separate pass, because strace and perf would each skew the other.
    if [ -n "$kprof" ]; then
      python3 "$root/bench/thread_cpu.py" snapshot "$target_pid" >"$work/threads.before"
      start_tracer "$kprof/$w.$t.perf.data" perf record -q -F 2000 -g -p "$target_pid" \
        -o "$kprof/$w.$t.perf.data"
      tx=$(run_pgbench "$t" "$w" "$n")
      python3 "$root/bench/thread_cpu.py" snapshot "$target_pid" >"$work/threads.after"
      stop_tracer
      python3 "$root/bench/thread_cpu.py" report "$work/threads.before" "$work/threads.after" "$tx" \
        >"$kprof/$w.$t.threads.txt"
      say "$w on $t: kernel profile in $kprof/$w.$t.perf.data (perf report -i FILE --no-children --sort sym)"
    fi
  done
done

python3 "$root/bench/strace_counts.py" --report "$results" "$(uptime)"
}
