#!/usr/bin/env bash
# Scale: many idle connections held by pgpolicy under a bounded heap, and many active clients.
#
#   bench/scale.sh [--idle N] [--sessions N] [--clients N] [--duration S] [--heap SIZE]
#                  [--scale N] [--phases LIST] [--targets LIST] [--quick]
#
# Phases, each against one pgpolicy process started with -Xmx SIZE (default 512m):
#   idle      N TCP connections that never send a startup packet (handshake deadline raised);
#   sessions  N sessions that logged in through the proxy and then sit idle, one PostgreSQL
#             backend each (pgbench clients that only run \sleep);
#   active    pgbench -c N -j 2 (select-only and TPC-B-like, -M prepared) through pgpolicy,
#             PgBouncer (session mode) and directly, in the same run.
# While the idle connections or sessions are held the script reports the proxy's heap after a full
# GC, its resident set, its native memory outside the heap (direct buffers), its threads and the
# cost per connection, and checks that an ordinary psql query through the proxy is still answered.
#
# Like compare.sh: runs from the repository root, starts its own PostgreSQL (and PgBouncer),
# installs what it lacks, leaves no process or file behind.
set -euo pipefail
# Read whole before running: editing the file during a run cannot change that run.
{

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

usage() {
  sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  cat <<'EOF'
Options:
  --idle N         pre-login idle connections (default 10000)
  --sessions N     logged-in idle sessions (default 10000, capped by the descriptor limit: the
                   proxy holds two descriptors per session)
  --clients N      active pgbench clients (default 1000)
  --duration S     measured seconds per active run, after all clients connected (default 15)
  --heap SIZE      the proxy's -Xmx (default 512m)
  --scale N        pgbench scale factor (default 10)
  --phases LIST    comma list of idle,sessions,active (default all)
  --targets LIST   comma list of direct,pgbouncer,pgpolicy for the active phase (default all)
  --quick          smoke run: 1000 idle, 500 sessions, 100 clients, 5 s
EOF
}

idle=10000 sessions=10000 clients=1000 duration=15 heap=512m scale=10
phases_opt="idle,sessions,active" targets_opt="direct,pgbouncer,pgpolicy"
while [ $# -gt 0 ]; do
  case "$1" in
    --idle) idle=${2:?}; shift 2 ;;
    --sessions) sessions=${2:?}; shift 2 ;;
    --clients) clients=${2:?}; shift 2 ;;
    --duration) duration=${2:?}; shift 2 ;;
    --heap) heap=${2:?}; shift 2 ;;
    --scale) scale=${2:?}; shift 2 ;;
    --phases) phases_opt=${2:?}; shift 2 ;;
    --targets) targets_opt=${2:?}; shift 2 ;;
    --quick) idle=1000 sessions=500 clients=100 duration=5; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "scale.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
for n in "$idle" "$sessions" "$clients" "$duration" "$scale"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "scale.sh: expected a positive integer, got '$n'" >&2; exit 2; }
done
[[ "$heap" =~ ^[1-9][0-9]*[kKmMgG]$ ]] || { echo "scale.sh: --heap expects a size like 512m, got '$heap'" >&2; exit 2; }
IFS=, read -r -a phases <<<"$phases_opt"
IFS=, read -r -a targets <<<"$targets_opt"
for p in "${phases[@]}"; do
  case "$p" in idle|sessions|active) ;; *) echo "scale.sh: unknown phase $p" >&2; exit 2 ;; esac
done
for t in "${targets[@]}"; do
  case "$t" in direct|pgbouncer|pgpolicy) ;; *) echo "scale.sh: unknown target $t" >&2; exit 2 ;; esac
done
has() { local x=$1; shift; case " $* " in *" $x "*) return 0 ;; esac; return 1; }

say() { printf '%s\n' "scale.sh: $*" >&2; }
die() { say "$*"; exit 1; }

# Every held connection is a descriptor here (the pre-login holder is this shell's child) and in
# the proxy, and every session two in the proxy (client and server side). The soft limit is raised
# to the hard one; the hard one can only be raised by the administrator.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
fd_limit=$(ulimit -n)
# Descriptors the proxy's JVM needs besides the connections: jars, epoll and event fds, logs.
fd_reserve=150
if [ "$idle" -gt $((fd_limit - fd_reserve)) ]; then
  say "NOTE: --idle $idle exceeds the descriptor limit $fd_limit (ulimit -Hn): holding $((fd_limit - fd_reserve))"
  idle=$((fd_limit - fd_reserve))
fi
sessions_wanted=$sessions
if [ "$sessions" -gt $(((fd_limit - fd_reserve) / 2)) ]; then
  sessions=$(((fd_limit - fd_reserve) / 2))
  say "NOTE: $sessions_wanted sessions need $((2 * sessions_wanted)) descriptors in the proxy; the limit is $fd_limit (ulimit -Hn): holding $sessions"
fi

# ---------------------------------------------------------------------------------------------
# Prerequisites (as compare.sh)
# ---------------------------------------------------------------------------------------------
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
require_postgres
if has active "${phases[@]}" && has pgbouncer "${targets[@]}"; then require_pgbouncer; fi
jcmd_bin=$(command -v jcmd || true)
[ -n "$jcmd_bin" ] || jcmd_bin="$(dirname "$(readlink -f "$(command -v java)")")/jcmd"
[ -x "$jcmd_bin" ] || die "jcmd (JDK) is needed to read the proxy's heap after a full GC"
service_user

# ---------------------------------------------------------------------------------------------
# Cleanup
# ---------------------------------------------------------------------------------------------
proxy_pid="" bouncer_pid="" holder_pid="" pgbench_pid=""
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  set +e
  stop_pid "$pgbench_pid"; stop_pid "$holder_pid"; stop_started
  stop_cluster
  [ -n "$work" ] && rm -rf "$work"
  exit "$status"
}
install_traps cleanup
make_workdir pgpolicy-scale

# ---------------------------------------------------------------------------------------------
# PostgreSQL: room for every session; small per-backend memory so that thousands of idle
# backends fit; durability off (the disk is not measured).
# ---------------------------------------------------------------------------------------------
export PGUSER=bench PGDATABASE=bench PGHOST=127.0.0.1 PGSSLMODE=disable PGCONNECT_TIMEOUT=30
pg_port=$(free_port)
init_cluster "$work/initdb.log"
# The held sessions log in as "idle" without a password: thousands of SCRAM exchanges (PBKDF2 on
# both ends) would only lengthen the run; what a session holds once logged in is the same.
{ echo "host all idle 127.0.0.1/32 trust"; cat "$pgdata/pg_hba.conf"; } >"$work/hba" && cat "$work/hba" >"$pgdata/pg_hba.conf"
max_conn=$(( (sessions > clients ? sessions : clients) + 100 ))
say "PostgreSQL $("$pgbin/postgres" --version | awk '{print $3}') on 127.0.0.1:$pg_port, max_connections $max_conn"
start_cluster 120 "-c max_connections=$max_conn \
   -c shared_buffers=128MB -c work_mem=1MB -c fsync=off -c synchronous_commit=off \
   -c full_page_writes=off -c password_encryption=scram-sha-256"
"$pgbin/psql" -p "$pg_port" -d postgres -qAt -c "CREATE DATABASE bench" -c "CREATE ROLE idle LOGIN" >/dev/null
if has active "${phases[@]}"; then
  say "pgbench -i -s $scale"
  "$pgbin/pgbench" -p "$pg_port" -i -s "$scale" -q >"$work/pgbench-init.log" 2>&1 \
    || { cat "$work/pgbench-init.log" >&2; die "pgbench -i failed"; }
  "$pgbin/psql" -p "$pg_port" -qAt -c "VACUUM ANALYZE" >/dev/null
fi

# ---------------------------------------------------------------------------------------------
# The proxy: a pure relay, bounded heap, native memory tracking for the direct buffers.
# ---------------------------------------------------------------------------------------------
"$root/bin/pgpolicy" --version >/dev/null   # builds the jar when missing or stale
cat >"$work/pgpolicy.yaml" <<EOF
# Room for every held session, and a handshake deadline long enough to hold pre-login
# connections for the measurement (the default, 10 s, would close them).
max_client_connections: $((sessions > clients ? sessions + 100 : clients + 100))
handshake_timeout: 30m
EOF
# Another process may bind the port between free_port's check and the proxy's bind: then another.
for attempt in 1 2 3 4 5; do
  proxy_port=$(free_port)
  : >"$work/pgpolicy.log"
  start_pgpolicy "$work/pgpolicy.log" "$proxy_port" "-Xmx$heap -XX:NativeMemoryTracking=summary ${PGPOLICY_JAVA_OPTS:-}" \
    "$root/bin/pgpolicy" serve --config "$work/pgpolicy.yaml" --listen "127.0.0.1:$proxy_port" \
    --upstream "127.0.0.1:$pg_port" --upstream-tls disable && break
  grep -q 'Address already in use' "$work/pgpolicy.log" && [ "$attempt" -lt 5 ] \
    || { tail -n 30 "$work/pgpolicy.log" >&2; die "pgpolicy does not answer on $proxy_port"; }
  stop_pid "$pgpolicy_pid"
  say "port $proxy_port taken meanwhile, starting pgpolicy on another port"
done
proxy_pid=$pgpolicy_pid
say "pgpolicy on 127.0.0.1:$proxy_port (pid $proxy_pid, -Xmx$heap, descriptor limit $fd_limit)"

proxy_fds() { ls "/proc/$proxy_pid/fd" 2>/dev/null | wc -l; }

# One line of the proxy's memory, all in KiB: heap used after a full GC, heap committed, resident
# set, native memory of category Other (NIO and Netty direct buffers), threads, descriptors.
proxy_memory() {
  "$jcmd_bin" "$proxy_pid" GC.run >/dev/null
  local heap_line nmt
  heap_line=$("$jcmd_bin" "$proxy_pid" GC.heap_info | grep -m 1 -E 'heap +total')
  nmt=$("$jcmd_bin" "$proxy_pid" VM.native_memory summary)
  local used committed other rss threads
  used=$(sed -E 's/.*used ([0-9]+)K.*/\1/' <<<"$heap_line")
  committed=$(sed -E 's/.*total ([0-9]+)K.*/\1/' <<<"$heap_line")
  other=$(grep -m 1 -E '^-? *Other \(' <<<"$nmt" | sed -E 's/.*committed=([0-9]+)KB.*/\1/')
  rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$proxy_pid/status")
  threads=$(awk '/^Threads:/ { print $2 }' "/proc/$proxy_pid/status")
  echo "${used:-0} ${committed:-0} ${other:-0} $rss $threads $(proxy_fds)"
}

# A normal query through the proxy while the connections are held; fails the run if unanswered.
served_beside() {
  local answer
  answer=$("$pgbin/psql" -p "$proxy_port" -qAt -c "SELECT 'answered beside ' || $1 || ' held connections'" 2>&1) \
    || die "psql through the proxy failed while $1 connections were held: $answer"
  say "psql through the proxy: $answer"
}

memory_rows=()
# label count before-line after-line
memory_row() {
  local label=$1 n=$2; read -r u0 c0 o0 r0 t0 f0 <<<"$3"; read -r u1 c1 o1 r1 t1 f1 <<<"$4"
  memory_rows+=("$(awk -v l="$label" -v n="$n" -v u0="$u0" -v u1="$u1" -v c1="$c1" -v o0="$o0" -v o1="$o1" \
      -v r0="$r0" -v r1="$r1" -v t1="$t1" -v f1="$f1" 'BEGIN {
        printf "%-22s %7d %9.1f %9.1f %8.2f %9.1f %8.2f %9.1f %8.2f %7d %7d\n", l, n, u1 / 1024, c1 / 1024,
          (u1 - u0) / n, r1 / 1024, (r1 - r0) / n, o1 / 1024, (o1 - o0) / n, t1, f1 }')")
  say "${memory_rows[-1]}"
}

# ---------------------------------------------------------------------------------------------
# Phase idle: pre-login connections. A child shell opens them (one descriptor each, no process
# per connection) and then becomes a sleep that holds them; killing it closes them all.
# ---------------------------------------------------------------------------------------------
phase_idle() {
  local base; base=$(proxy_memory)
  local fds0; fds0=$(proxy_fds)
  say "idle: opening $idle pre-login connections"
  local started=$SECONDS
  ( for _ in $(seq 1 "$idle"); do exec {fd}<>"/dev/tcp/127.0.0.1/$proxy_port"; done
    echo opened >"$work/idle.opened"
    exec sleep 3600 ) 2>"$work/idle.err" &
  holder_pid=$!
  until [ -f "$work/idle.opened" ]; do
    kill -0 "$holder_pid" 2>/dev/null || die "opening the idle connections failed: $(tail -n 3 "$work/idle.err")"
    sleep 0.2
  done
  # Accepted by the proxy, not only queued in the kernel's backlog.
  for _ in $(seq 1 600); do [ "$(proxy_fds)" -ge $((fds0 + idle)) ] && break; sleep 0.1; done
  [ "$(proxy_fds)" -ge $((fds0 + idle)) ] || die "the proxy holds $(( $(proxy_fds) - fds0 )) of $idle connections"
  say "idle: $idle connections held after $((SECONDS - started)) s"
  served_beside "$idle"
  memory_row "idle before login" "$idle" "$base" "$(proxy_memory)"
  stop_pid "$holder_pid"; holder_pid=""
  for _ in $(seq 1 300); do [ "$(proxy_fds)" -le $((fds0 + 10)) ] && break; sleep 0.1; done
}

# ---------------------------------------------------------------------------------------------
# Phase sessions: logged-in sessions, each with its backend, doing nothing. pgbench clients whose
# script only sleeps: they log in once and never send a query.
# ---------------------------------------------------------------------------------------------
backend_count() {  # role
  "$pgbin/psql" -p "$pg_port" -d postgres -qAt \
    -c "SELECT count(*) FROM pg_stat_activity WHERE usename = '$1' AND backend_type = 'client backend'" 2>/dev/null \
    || echo -1   # unanswered (thousands of backends starting or exiting): not a count
}
mem_available_kib() { awk '/^MemAvailable:/ { print $2 }' /proc/meminfo; }
# Each idle session costs the machine about 1.5 MiB of MemAvailable, nearly all of it PostgreSQL's
# backend (1.1 MiB PSS, plus page tables and kernel structures; measured with 5,000 sessions on
# Linux 6.18, PostgreSQL 15). Reckon 2 MiB, hold only as many as leave a reserve to the rest of the
# machine, and stop if memory runs short while logging in (the OOM killer picks no favourites).
session_cost_kib=2048
memory_reserve_kib=$((6 * 1024 * 1024))
phase_sessions() {
  local fit=$(( ($(mem_available_kib) - memory_reserve_kib) / session_cost_kib ))
  if [ "$sessions" -gt "$fit" ]; then
    [ "$fit" -ge 1 ] || die "sessions: too little memory available for any session"
    say "NOTE: $sessions sessions need about $((sessions * session_cost_kib / 1024 / 1024)) GiB; $((fit)) fit in the memory available beside a 6 GiB reserve: holding $fit"
    sessions_capped_by="memory ($(( $(mem_available_kib) / 1024 )) MiB available, 6 GiB kept for the rest of the machine, about $((session_cost_kib / 1024)) MiB per session)"
    sessions=$fit
  fi
  local base; base=$(proxy_memory)
  local available_before; available_before=$(mem_available_kib)
  printf '\\sleep 10 s\n' >"$work/sleep.sql"
  say "sessions: logging in $sessions idle sessions through the proxy"
  local started=$SECONDS
  "$pgbin/pgbench" -p "$proxy_port" -U idle -n -c "$sessions" -j 8 -T 3600 -f "$work/sleep.sql" \
    >"$work/sessions.out" 2>&1 &
  pgbench_pid=$!
  local n=0 last=-1 stalled=0
  while :; do
    kill -0 "$pgbench_pid" 2>/dev/null || die "pgbench ended before its sessions were open: $(tail -n 5 "$work/sessions.out")"
    n=$(backend_count idle)
    [ "$n" -ge "$sessions" ] && break
    # Logins that stop progressing for 60 s mean something refuses them: say so, do not wait an hour.
    if [ "$n" -eq "$last" ]; then stalled=$((stalled + 1)); else stalled=0; last=$n; fi
    [ "$stalled" -lt 60 ] || die "sessions stalled at $n of $sessions: $(tail -n 5 "$work/sessions.out")"
    [ $(((SECONDS - started) % 30)) -ne 0 ] || say "sessions: $n of $sessions logged in"
    [ "$(mem_available_kib)" -gt $((memory_reserve_kib / 2)) ] \
      || die "sessions: stopped at $n of $sessions, the machine has less than $((memory_reserve_kib / 2 / 1024)) MiB available"
    sleep 1
  done
  say "sessions: $sessions sessions logged in after $((SECONDS - started)) s"
  served_beside "$sessions"
  local proxy_line; proxy_line=$(proxy_memory)
  # PostgreSQL's side of the same sessions: proportional set size of its backends.
  local pss
  # One awk over all the files: a process per backend would take minutes on a loaded machine.
  pss=$(ps -o pid= --ppid "$pg_server_pid" | sed 's|^ *\(.*\)|/proc/\1/smaps_rollup|' \
        | xargs awk '/^Pss:/ { s += $2 } END { print s + 0 }' 2>/dev/null | awk '{ s += $1 } END { print s + 0 }')
  local machine=$(( available_before - $(mem_available_kib) ))
  backend_note="PostgreSQL for the same $sessions sessions: $((pss / 1024)) MiB PSS over its processes, $((pss / sessions)) KiB per backend; the machine's available memory fell by $((machine / 1024)) MiB, $((machine / sessions)) KiB per session (backends, page tables, pgbench, proxy)"
  say "$backend_note"
  memory_row "sessions (logged in)" "$sessions" "$base" "$proxy_line"
  stop_pid "$pgbench_pid"; pgbench_pid=""
  for _ in $(seq 1 300); do [ "$(backend_count idle)" -eq 0 ] && break; sleep 1; done
}

# ---------------------------------------------------------------------------------------------
# Phase active: pgbench -c N through each target. The measured window starts once every client is
# connected and running (pgbench starts transactions only after all its connections are made) and
# lasts --duration seconds; TPS, latency and failures come from the per-transaction log inside the
# window, CPU from /proc over the same window, so connection set-up counts in none of them.
# ---------------------------------------------------------------------------------------------
declare -A port cpu_pid
port[direct]=$pg_port
port[pgpolicy]=$proxy_port
cpu_pid[pgpolicy]=$proxy_pid
clk_tck=$(getconf CLK_TCK)
start_pgbouncer_target() {
  start_pgbouncer $((clients + 100)) $((clients + 10))
  port[pgbouncer]=$bouncer_port
  cpu_pid[pgbouncer]=$bouncer_pid
}

active_rows=()
run_active() {  # workload target
  local w=$1 t=$2 args
  case "$w" in select-prepared) args="-S -M prepared" ;; tpcb-prepared) args="-M prepared" ;; esac
  local prefix="$work/log/$w.$t"
  mkdir -p "$work/log"
  # shellcheck disable=SC2086
  "$pgbin/pgbench" -p "${port[$t]}" -n -c "$clients" -j 2 -T 3600 $args -l --log-prefix="$prefix" \
    >"$work/active.out" 2>&1 &
  pgbench_pid=$!
  local started=$SECONDS
  until [ -n "$(find "$work/log" -name "$(basename "$prefix").*" -size +0 2>/dev/null | head -n 1)" ]; do
    kill -0 "$pgbench_pid" 2>/dev/null || die "pgbench ended early ($w, $t): $(tail -n 5 "$work/active.out")"
    [ $((SECONDS - started)) -lt 600 ] || die "pgbench clients not connected after 600 s ($w, $t)"
    sleep 0.2
  done
  local connect_s=$((SECONDS - started))
  sleep 2   # past the first transactions of every client
  local w0 w1 c0=0 c1=0 heap_line=""
  w0=$(date +%s.%N); [ -n "${cpu_pid[$t]:-}" ] && c0=$(proc_ticks "${cpu_pid[$t]}")
  sleep "$duration"
  w1=$(date +%s.%N); [ -n "${cpu_pid[$t]:-}" ] && c1=$(proc_ticks "${cpu_pid[$t]}")
  # The proxy's memory with every client still connected (a full GC: after the window).
  [ "$t" = pgpolicy ] && heap_line=$(proxy_memory)
  sleep 1   # let pgbench flush the window's log lines
  stop_pid "$pgbench_pid"; pgbench_pid=""
  local aborted; aborted=$(grep -c -i 'aborted' "$work/active.out" || true)
  # Transactions that ended inside the window: latency in µs, or "failed".
  cat "$prefix".* | awk -v w0="$w0" -v w1="$w1" '{ at = $5 + $6 / 1e6; if (at >= w0 && at < w1) print $3 }' \
    >"$work/window"
  local failed pct n
  failed=$(( $(grep -c -v '^[0-9]' "$work/window" || true) + aborted ))
  n=$(grep -c '^[0-9]' "$work/window" || true)
  [ "$n" -gt 0 ] || die "no transaction ended in the measured window ($w, $t): $(tail -n 5 "$work/active.out")"
  pct=$(grep '^[0-9]' "$work/window" | sort -n | awk -v n="$n" '
    BEGIN { i50 = int(n * 0.50 + 0.999999); i99 = int(n * 0.99 + 0.999999) }
    NR == i50 { p50 = $1 } NR == i99 { p99 = $1 } END { printf "%.3f %.3f", p50 / 1000, p99 / 1000 }')
  active_rows+=("$(awk -v w0="$w0" -v w1="$w1" -v c0="$c0" -v c1="$c1" -v hz="$clk_tck" -v n="$n" -v pct="$pct" \
      -v w="$w" -v t="$t" -v proxied="${cpu_pid[$t]:+1}" -v mem="$heap_line" -v failed="$failed" -v cs="$connect_s" '
    BEGIN {
      split(pct, p, " ")
      cpu = proxied ? sprintf("%.1f", (c1 - c0) / hz * 1e6 / n) : "-"
      heap = "-"; rss = "-"
      if (mem != "") { split(mem, m, " "); heap = sprintf("%.1f", m[1] / 1024); rss = sprintf("%.1f", m[4] / 1024) }
      printf "%s %s %.0f %.3f %.3f %s %s %s %d %d\n", w, t, n / (w1 - w0), p[1], p[2], cpu,
        heap, rss, failed, cs }')")
  say "$(active_row "${active_rows[-1]}")"
  rm -f "$prefix".*
}

# One line of the active table from "workload target tps p50 p99 cpu heap rss failed conn_s";
# "p99 x B" is the p99 latency as a ratio to PgBouncer's on the same workload in this run, when
# PgBouncer's row is there: the tail under many clients is where a proxy differs most.
active_row() {  # fields
  local w t tps p50 p99 cpu heap rss failed cs ratio="-" row bw bt bp99
  read -r w t tps p50 p99 cpu heap rss failed cs <<<"$1"
  for row in "${active_rows[@]}"; do
    read -r bw bt _ _ bp99 _ <<<"$row"
    if [ "$bw" = "$w" ] && [ "$bt" = pgbouncer ]; then
      ratio=$(awk -v a="$p99" -v b="$bp99" 'BEGIN { print (b + 0 > 0) ? sprintf("%.2f", a / b) : "-" }')
    fi
  done
  printf '%-16s %-10s %9s %8s %8s %8s %9s %9s %9s %7s %8s\n' "$w" "$t" "$tps" "$p50" "$p99" "$ratio" "$cpu" \
    "$heap" "$rss" "$failed" "$cs"
}

phase_active() {
  local order=()
  for t in "${targets[@]}"; do
    [ "$t" = pgbouncer ] && start_pgbouncer_target
    order+=("$t")
  done
  for w in select-prepared tpcb-prepared; do
    for t in "${order[@]}"; do
      say "active: $w through $t, $clients clients"
      run_active "$w" "$t"
    done
  done
  stop_pid "$bouncer_pid"; bouncer_pid=""
}

# ---------------------------------------------------------------------------------------------
started=$SECONDS
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
backend_note="" sessions_capped_by=""
for p in "${phases[@]}"; do "phase_$p"; done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
printf '\nscale (commit %s, -Xmx%s, %d cores, descriptor limit %d, load average %s at start, %s at end, %d s)\n' \
  "$commit" "$heap" "$(nproc)" "$fd_limit" "$load_start" "$load_end" $((SECONDS - started))
if [ ${#memory_rows[@]} -gt 0 ]; then
  printf '\nproxy memory while connections are held; heap after a full GC; "per conn" = growth over the proxy before the phase, in KiB\n'
  printf 'direct = native memory of category Other (NIO and Netty direct buffers), from -XX:NativeMemoryTracking\n\n'
  hdr=$(printf '%-22s %7s %9s %9s %8s %9s %8s %9s %8s %7s %7s' phase conns "heap MiB" "commit" "per conn" "RSS MiB" \
        "per conn" "direct" "per conn" threads fds)
  echo "$hdr"; echo "${hdr//?/-}"
  printf '%s\n' "${memory_rows[@]}"
  [ -n "$backend_note" ] && printf '\n%s\n' "$backend_note"
  if [ "$sessions" -lt "$sessions_wanted" ] && has sessions "${phases[@]}"; then
    printf 'sessions capped at %d of %d by %s\n' "$sessions" "$sessions_wanted" \
      "${sessions_capped_by:-descriptors: the proxy holds two per session and the limit is $fd_limit}"
  fi
fi
if [ ${#active_rows[@]} -gt 0 ]; then
  printf '\n%d active clients (pgbench -j 2), %d s window after all clients connected\n' "$clients" "$duration"
  printf 'proxy us = CPU of the proxy process (pgpolicy or PgBouncer) per transaction; heap and RSS of pgpolicy after a full GC, clients connected\n'
  printf 'p99 x B = p99 latency as a ratio to PgBouncer'"'"'s on the same workload\n\n'
  hdr=$(printf '%-16s %-10s %9s %8s %8s %8s %9s %9s %9s %7s %8s' workload target tps "p50 ms" "p99 ms" "p99 x B" \
        "proxy us" "heap MiB" "RSS MiB" failed "conn s")
  echo "$hdr"; echo "${hdr//?/-}"
  for row in "${active_rows[@]}"; do active_row "$row"; done
fi
exit 0
}
