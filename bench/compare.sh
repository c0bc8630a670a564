#!/usr/bin/env bash
# pgbench side by side: directly against PostgreSQL, through PgBouncer (session mode) and through
# pgpolicy (relay without policy, and with a realistic policy), interleaved over several rounds.
#
#   bench/compare.sh [--rounds N] [--duration S] [--clients N] [--threads N] [--scale N]
#                    [--warmup S] [--warmup-transactions N] [--targets LIST] [--workloads LIST] [--json FILE] [--quick]
#
# For every workload and target it reports TPS, p50/p99 latency (from pgbench's per-transaction
# log), the CPU the proxy process spends per transaction (utime+stime from /proc/PID/stat around
# the run) and PostgreSQL's own CPU per transaction, each also as a ratio to the direct connection
# and to PgBouncer in the same round; the printed figures are medians over the rounds. Ratios, not
# absolute numbers, are what carries from one machine to another: pgbench, PostgreSQL and the
# proxy share the cores.
#
# Runs from a fresh Debian machine: installs PgBouncer and the PostgreSQL server packages when
# missing, builds the pgpolicy jar when needed, and leaves no process or file behind (trap on exit,
# Ctrl-C and failure).
set -euo pipefail
# The whole script is one compound command, read before it runs: editing the file while a run is
# in progress (bash otherwise reads scripts as it goes) cannot change or break that run.
{

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

usage() {
  sed -n '2,6p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  cat <<'EOF'
Options:
  --rounds N       rounds; each runs every workload on every target (default 3)
  --duration S     seconds per pgbench run (default 5)
  --clients N      pgbench clients, the same for every target (default 8)
  --threads N      pgbench threads (default 2)
  --scale N        pgbench scale factor (default 10)
  --warmup S       seconds of warm-up per workload and target before the first round (default 5)
  --warmup-transactions N
                   pgpolicy targets: keep warming a workload up until it ran N transactions
                   (default 20000, a twentieth for rows10k and connect; 0: time only), for at
                   most --warmup-max seconds
  --warmup-max S   the most a pgpolicy target's warm-up may take per workload (default 60)
  --targets LIST   comma list of direct,pgbouncer,pgpolicy-allow,pgpolicy-realistic,pgpolicy-proxy
                   (default all but pgpolicy-proxy)
  --workloads LIST comma list of select-simple,select-extended,select-prepared,tpcb-prepared,
                   rows10k,connect (default all)
  --json FILE      also write the per-round results and the medians as JSON
  --quick          smoke run: one round of 3 s, 1 s warm-up, no transaction count
EOF
}

rounds=3 duration=5 clients=8 threads=2 scale=10 warmup=5 json_out=""
warmup_transactions=20000 warmup_max=60
targets_opt="direct,pgbouncer,pgpolicy-allow,pgpolicy-realistic"
workloads_opt="select-simple,select-extended,select-prepared,tpcb-prepared,rows10k,connect"
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=${2:?}; shift 2 ;;
    --duration) duration=${2:?}; shift 2 ;;
    --clients) clients=${2:?}; shift 2 ;;
    --threads) threads=${2:?}; shift 2 ;;
    --scale) scale=${2:?}; shift 2 ;;
    --warmup) warmup=${2:?}; shift 2 ;;
    --warmup-transactions) warmup_transactions=${2:?}; shift 2 ;;
    --warmup-max) warmup_max=${2:?}; shift 2 ;;
    --targets) targets_opt=${2:?}; shift 2 ;;
    --workloads) workloads_opt=${2:?}; shift 2 ;;
    --json) json_out=${2:?}; shift 2 ;;
    --quick) rounds=1 duration=3 warmup=1 warmup_transactions=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "compare.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
for n in "$rounds" "$duration" "$clients" "$threads" "$scale"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "compare.sh: expected a positive integer, got '$n'" >&2; exit 2; }
done
[[ "$warmup" =~ ^[0-9]+$ ]] || { echo "compare.sh: --warmup expects seconds, got '$warmup'" >&2; exit 2; }
[[ "$warmup_transactions" =~ ^[0-9]+$ ]] \
  || { echo "compare.sh: --warmup-transactions expects a count, got '$warmup_transactions'" >&2; exit 2; }
[[ "$warmup_max" =~ ^[1-9][0-9]*$ ]] || { echo "compare.sh: --warmup-max expects seconds, got '$warmup_max'" >&2; exit 2; }
[ "$threads" -le "$clients" ] || threads=$clients
if [ -n "$json_out" ]; then
  case "$json_out" in /*) ;; *) json_out="$PWD/$json_out" ;; esac
fi
IFS=, read -r -a targets <<<"$targets_opt"
IFS=, read -r -a workloads <<<"$workloads_opt"
for t in "${targets[@]}"; do
  case "$t" in direct|pgbouncer|pgpolicy-allow|pgpolicy-realistic|pgpolicy-proxy) ;;
    *) echo "compare.sh: unknown target $t" >&2; exit 2 ;; esac
done
for w in "${workloads[@]}"; do
  case "$w" in select-simple|select-extended|select-prepared|tpcb-prepared|rows10k|connect) ;;
    *) echo "compare.sh: unknown workload $w" >&2; exit 2 ;; esac
done

say() { printf '%s\n' "compare.sh: $*" >&2; }
die() { say "$*"; exit 1; }

# ---------------------------------------------------------------------------------------------
# Prerequisites
# ---------------------------------------------------------------------------------------------
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
require_postgres
case " ${targets[*]} " in *" pgbouncer "*) require_pgbouncer ;; esac
service_user

# ---------------------------------------------------------------------------------------------
# Cleanup: every process we start and the temporary directory, whatever the way out.
# ---------------------------------------------------------------------------------------------
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  set +e
  stop_started
  stop_cluster
  [ -n "$work" ] && rm -rf "$work"
  exit "$status"
}
install_traps cleanup
make_workdir pgpolicy-bench

# ---------------------------------------------------------------------------------------------
# PostgreSQL: private cluster, SCRAM over TCP on 127.0.0.1 only, durability off (we measure the
# proxies, not the disk).
# ---------------------------------------------------------------------------------------------
export PGUSER=bench PGDATABASE=bench PGHOST=127.0.0.1 PGSSLMODE=disable PGCONNECT_TIMEOUT=10
pg_port=$(free_port)
init_cluster "$work/initdb.log"
say "PostgreSQL $("$pgbin/postgres" --version | awk '{print $3}') on 127.0.0.1:$pg_port (data in $pgdata)"
max_conn=$((clients * 4 + 50))
start_cluster 60 "-c max_connections=$max_conn \
   -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=256MB \
   -c password_encryption=scram-sha-256"

"$pgbin/psql" -p "$pg_port" -d postgres -qAt -c "CREATE DATABASE bench" >/dev/null
say "pgbench -i -s $scale"
"$pgbin/pgbench" -p "$pg_port" -i -s "$scale" -q >"$work/pgbench-init.log" 2>&1 \
  || { cat "$work/pgbench-init.log" >&2; die "pgbench -i failed"; }
"$pgbin/psql" -p "$pg_port" -qAt -c "VACUUM ANALYZE" >/dev/null

# ---------------------------------------------------------------------------------------------
# Targets
# ---------------------------------------------------------------------------------------------
declare -A port cpu_pid skip_reason note
port[direct]=$pg_port

start_pgbouncer_target() {
  start_pgbouncer $((clients * 4 + 100)) $((clients + 10))
  port[pgbouncer]=$bouncer_port
  cpu_pid[pgbouncer]=$bouncer_pid
  say "PgBouncer $("$pgbouncer_bin" --version 2>&1 | head -n 1 | awk '{print $2}') on 127.0.0.1:$bouncer_port (pid $bouncer_pid)"
}

# The realistic policy: what a payments team would put in front of this database. pgbench's user
# may read and write the pgbench tables, nothing else; DDL and file access denied; the accounts'
# filler column is masked (the 10k-row workload reads it); guards on; audit at metadata.
write_realistic_policy() {
  mkdir -p "$work/policies"
  cat >"$work/policies/bench.pgpolicy" <<'EOF'
role app = user == "bench";
role dba = "dba" in groups and auth == "cert";

allow any session;
allow app read, write on public.pgbench_*;
allow app call on function pg_catalog.count;   # pgbench counts the branches to find the scale
allow dba all;

@id("no-ddl") @reason("schema changes go through migrations")
deny !dba ddl, truncate, alter_system, load, copy_program, do;
@id("no-file-access")
deny any call on function pg_read_file, pg_read_binary_file, pg_ls_dir, lo_import, lo_export, dblink*;

mask !dba public.pgbench_accounts.filler with redact("***");
mask !dba public.pgbench_history.filler with redact("***");

limit app { rows 50000 per query; idle 15m; idle_in_transaction 60s; }
limit any { connections 1000 per client_ip; }

guard !dba stacked_statements deny;
guard any tautology deny;
guard any union_probe deny;
guard any sleep deny;
guard any file_access deny;
guard any program_exec deny;
guard !dba unparsed deny;

audit any metadata;
EOF
}

# A fresh log for every start: the checks below read what this start printed.
launch_pgpolicy() {  # log port args...; sets pgpolicy_pid, fails when it does not come up
  local log=$1 p=$2; shift 2
  : >"$log"
  start_pgpolicy "$log" "$p" "${PGPOLICY_JAVA_OPTS:-}" "$root/bin/pgpolicy" "$@"
}

# auth.mode proxy: pgpolicy verifies pgbench's SCRAM itself (against the role's verifier from
# pg_authid, as PgBouncer does) and logs in upstream as the service account "bench", mapped to the
# same role; upstream connections are reused between sessions (upstream.pool, on by default).
write_proxy_mode_config() {  # port
  mkdir -p "$work/proxy-mode"
  local verifier
  verifier=$("$pgbin/psql" -p "$pg_port" -qAt -c "SELECT rolpassword FROM pg_authid WHERE rolname = 'bench'")
  case "$verifier" in SCRAM-SHA-256\$*) ;; *) die "no SCRAM verifier for role bench" ;; esac
  printf '%s\n' "$PGPASSWORD" >"$work/proxy-mode/bench.password"
  chmod 0600 "$work/proxy-mode/bench.password"
  cat >"$work/proxy-mode/users.yaml" <<EOF
users:
  bench: { scram: "$verifier", upstream: bench }
accounts:
  bench: { user: bench, password_file: bench.password }
EOF
  cat >"$work/proxy-mode/pgpolicy.yaml" <<EOF
listen: 127.0.0.1:$1
upstream: { host: 127.0.0.1, port: $pg_port, tls: disable }
auth: { mode: proxy, users: users.yaml }
EOF
}

# Starts target on port p; fails when it does not come up.
launch_target() {  # target port log
  local t=$1 p=$2 log=$3
  local args=(serve --listen "127.0.0.1:$p" --upstream "127.0.0.1:$pg_port" --upstream-tls disable)
  case "$t" in
    pgpolicy-proxy)
      write_proxy_mode_config "$p"
      args=(serve --config "$work/proxy-mode/pgpolicy.yaml") ;;
    pgpolicy-realistic)
      args+=(--config "$work/realistic.yaml" --policies "$work/policies")
      launch_pgpolicy "$log" "$p" "${args[@]}" --audit "$work/audit" && return 0
      grep -q -i 'audit.*not available' "$log" && ! grep -q -i 'policies (--policies' "$log" || return 1
      # A build with enforcement but without the audit writer: measure the policy, say so.
      note[$t]="this build has no audit log ('$(grep -m 1 -i 'audit.*not available' "$log" | cut -c1-160)'): measured with the policy enforced and no audit records written"
      say "NOTE $t: ${note[$t]}"
      stop_pid "$pgpolicy_pid" ;;
  esac
  launch_pgpolicy "$log" "$p" "${args[@]}"
}

start_pgpolicy_target() {  # target
  local t=$1 p log="$work/$1.log" started="" attempt
  if [ "$t" = pgpolicy-realistic ]; then
    write_realistic_policy
    mkdir -p "$work/audit"
    if "$root/bin/pgpolicy" help check >/dev/null 2>&1; then
      if ! "$root/bin/pgpolicy" check "$work/policies" >"$work/check.log" 2>&1; then
        skip_reason[$t]="the realistic policy does not compile on this build: $(head -n 3 "$work/check.log" | tr '\n' ' ')"
        return 0
      fi
    fi
    # Masking and the "$user" schema of the default search_path are resolved through the
    # catalog connection (docs/enforcement.md); without it every masked value is NULL and every
    # unqualified name is uncertain, so the policy's allow rules on public.pgbench_* never apply.
    # pgbench's own role serves as the catalog account.
    printf 'catalog: { user: bench, password_file: %s }\n' "$work/pwfile" >"$work/realistic.yaml"
  fi
  # Another process may bind the port between free_port's check and the proxy's bind: then the
  # target starts on another port rather than being skipped or failing the run.
  for attempt in 1 2 3 4 5; do
    p=$(free_port)
    launch_target "$t" "$p" "$log" && { started=1; break; }
    grep -q 'Address already in use' "$log" && [ "$attempt" -lt 5 ] || break
    stop_pid "$pgpolicy_pid"
    say "port $p taken meanwhile, starting $t on another port"
  done
  local pid=$pgpolicy_pid
  if [ -z "$started" ]; then
    if [ "$t" = pgpolicy-realistic ]; then
      skip_reason[$t]="'pgpolicy serve --policies DIR' does not start on this build: $(grep -m 1 -i -E 'refus|error|exception' "$log" | cut -c1-300)"
      stop_pid "$pid"
      return 0
    fi
    tail -n 30 "$log" >&2
    die "pgpolicy ($t) did not start"
  fi
  if [ "$t" = pgpolicy-realistic ]; then
    # Only measure what the policy actually does: the masked column must come back masked.
    local filler
    filler=$("$pgbin/psql" -p "$p" -qAt -c "SELECT filler FROM pgbench_accounts WHERE aid = 1" 2>&1 || true)
    if [ "$filler" != "***" ]; then
      skip_reason[$t]="this build's 'serve --policies' does not enforce the policy (pgbench_accounts.filler came back as '${filler:0:60}', expected '***')"
      stop_pid "$pid"
      return 0
    fi
  fi
  port[$t]=$p
  cpu_pid[$t]=$pid
  say "pgpolicy $t on 127.0.0.1:$p (pid $pid)"
}

say "building pgpolicy if needed"
"$root/bin/pgpolicy" --version >/dev/null

active=()
for t in "${targets[@]}"; do
  case "$t" in
    direct) ;;
    pgbouncer) start_pgbouncer_target ;;
    pgpolicy-*) start_pgpolicy_target "$t" ;;
  esac
  if [ -n "${skip_reason[$t]:-}" ]; then
    say "SKIPPED $t: ${skip_reason[$t]}"
  else
    active+=("$t")
  fi
done
[ ${#active[@]} -gt 0 ] || die "no target left to measure"

# ---------------------------------------------------------------------------------------------
# Workloads
# ---------------------------------------------------------------------------------------------
rows_max=$((100000 * scale - 9999))
cat >"$work/rows10k.sql" <<EOF
\\set a random(1, $rows_max)
SELECT aid, bid, abalance, filler FROM pgbench_accounts WHERE aid BETWEEN :a AND :a + 9999;
EOF

workload_args() {
  case "$1" in
    select-simple) echo "-S -M simple" ;;
    select-extended) echo "-S -M extended" ;;
    select-prepared) echo "-S -M prepared" ;;
    tpcb-prepared) echo "-M prepared" ;;
    rows10k) echo "-M prepared -f $work/rows10k.sql" ;;
    connect) echo "-S -M simple -C" ;;
  esac
}

clk_tck=$(getconf CLK_TCK)
# Proxy CPU: proc_ticks (lib.sh), utime+stime of the process, all its threads included.
# PostgreSQL's CPU: the postmaster, its live children, and the children it has already reaped.
server_children() { ps -o pid= --ppid "$pg_server_pid"; }
server_ticks() {
  local total child
  total=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 + $14 + $15 }' "/proc/$pg_server_pid/stat")
  for child in $(server_children); do
    total=$((total + $(proc_ticks "$child")))
  done
  echo "$total"
}

results="$work/results.tsv"
: >"$results"

# One pgbench run; appends "round workload target tps txns failed p50_ms p99_ms proxy_us server_us".
run_one() {  # round workload target seconds
  local r=$1 w=$2 t=$3 secs=$4
  local prefix="$work/log/$w.$t.$r"
  mkdir -p "$work/log"
  rm -f "$prefix".*
  local proxy_before=0 proxy_after=0 server_before server_after
  [ -n "${cpu_pid[$t]:-}" ] && proxy_before=$(proc_ticks "${cpu_pid[$t]}")
  server_before=$(server_ticks)
  local children_before; children_before=$(server_children | wc -l)
  local out="$work/pgbench.out"
  # shellcheck disable=SC2046
  if ! "$pgbin/pgbench" -p "${port[$t]}" -n -c "$clients" -j "$threads" -T "$secs" \
       $(workload_args "$w") -l --log-prefix="$prefix" >"$out" 2>&1; then
    tail -n 20 "$out" >&2
    die "pgbench failed: workload $w, target $t"
  fi
  [ -n "${cpu_pid[$t]:-}" ] && proxy_after=$(proc_ticks "${cpu_pid[$t]}")
  # Backends of closed sessions are still exiting: between exit and the postmaster reaping them
  # their CPU time shows neither in /proc/PID/stat nor in the postmaster's cutime. Wait until the
  # postmaster is back to the children it had before the run (PgBouncer keeps its pool open, so
  # its count does not go down: bounded wait).
  for _ in $(seq 1 30); do
    [ "$(server_children | wc -l)" -le "$children_before" ] && break
    sleep 0.1
  done
  server_after=$(server_ticks)
  local tps txns failed
  txns=$(awk -F': ' '/^number of transactions actually processed/ { print $2; exit }' "$out")
  last_txns=${txns:-0}
  [ "$r" = warmup ] && { rm -f "$prefix".*; return 0; }
  tps=$(awk '/^tps = / { print $3; exit }' "$out")
  failed=$(awk '/^number of failed transactions/ { print $5; exit }' "$out")
  [ -n "$failed" ] || failed=0
  [ "$failed" = 0 ] || say "WARNING: $failed failed transactions: workload $w, target $t, round $r"
  local pct
  pct=$(cat "$prefix".* | awk '{ print $3 }' | sort -n \
        | awk '{ v[NR] = $1 } END {
                 if (NR == 0) { print "nan nan"; exit }
                 i50 = int(NR * 0.50 + 0.999999); i99 = int(NR * 0.99 + 0.999999)
                 if (i50 < 1) i50 = 1; if (i99 < 1) i99 = 1
                 printf "%.3f %.3f\n", v[i50] / 1000, v[i99] / 1000 }')
  rm -f "$prefix".*
  awk -v r="$r" -v w="$w" -v t="$t" -v tps="$tps" -v n="$txns" -v f="$failed" -v pct="$pct" \
      -v pb="$proxy_before" -v pa="$proxy_after" -v sb="$server_before" -v sa="$server_after" \
      -v hz="$clk_tck" -v proxied="${cpu_pid[$t]:+1}" 'BEGIN {
        split(pct, p, " ")
        proxy = proxied ? sprintf("%.2f", (pa - pb) / hz * 1e6 / n) : "nan"
        server = sprintf("%.2f", (sa - sb) / hz * 1e6 / n)
        printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r, w, t, tps, n, f, p[1], p[2], proxy, server
      }' >>"$results"
  say "$(printf 'round %-2s %-16s %-19s tps %9.1f  p50 %7.3f ms  p99 %7.3f ms' "$r" "$w" "$t" "$tps" $pct)"
}

started=$(date +%s)
# The JVM compiles a method after it ran a number of times (C2: about 15,000 invocations), not
# after a time: on a loaded machine a pgpolicy target runs few transactions per second, so a timed
# warm-up leaves its statement path interpreted or in C1's profiling code, and the measured CPU per
# transaction then grows with the machine's load (docs/performance.md, run 10). pgpolicy targets are
# therefore warmed up until they ran --warmup-transactions, within --warmup-max seconds.
# A transaction of rows10k relays 10,000 rows and one of connect logs a client in: the JIT has
# seen their hot paths many times over after a twentieth of the count, and the full count would
# take minutes on its own (a full run must stay under 10 minutes).
warm_up() {  # workload target
  local w=$1 t=$2 done_txns=0 spent=0 chunk=$warmup wanted=$warmup_transactions
  [ "$chunk" -ge 5 ] || chunk=5
  case "$w" in rows10k|connect) wanted=$((warmup_transactions / 20)) ;; esac
  if [ "$warmup" -gt 0 ]; then
    run_one warmup "$w" "$t" "$warmup"
    done_txns=$last_txns spent=$warmup
  fi
  case "$t" in pgpolicy-*) ;; *) return 0 ;; esac
  while [ "$done_txns" -lt "$wanted" ] && [ "$spent" -lt "$warmup_max" ]; do
    [ $((spent + chunk)) -le "$warmup_max" ] || chunk=$((warmup_max - spent))
    run_one warmup "$w" "$t" "$chunk"
    done_txns=$((done_txns + last_txns)) spent=$((spent + chunk))
  done
  if [ "$warmup_transactions" -gt 0 ]; then
    if [ "$done_txns" -lt "$wanted" ]; then
      say "WARNING: warm-up of $w through $t stopped at ${spent}s with $done_txns of $wanted transactions: the JIT may still be compiling its path, so its CPU per transaction reads high (--warmup-max)"
    else
      say "warm-up: $w through $t: $done_txns transactions in ${spent}s"
    fi
  fi
}
if [ "$warmup" -gt 0 ] || [ "$warmup_transactions" -gt 0 ]; then
  say "warm-up: ${warmup}s per workload and target; pgpolicy targets until $warmup_transactions transactions (at most ${warmup_max}s)"
  for w in "${workloads[@]}"; do
    for t in "${active[@]}"; do warm_up "$w" "$t"; done
  done
fi
for r in $(seq 1 "$rounds"); do
  for w in "${workloads[@]}"; do
    # Rotate the order of targets from round to round so that drift (thermal, other load on the
    # machine) does not always favour the same target.
    n=${#active[@]}
    for i in $(seq 0 $((n - 1))); do
      run_one "$r" "$w" "${active[$(((i + r - 1) % n))]}" "$duration"
    done
  done
done
elapsed=$(( $(date +%s) - started ))

# ---------------------------------------------------------------------------------------------
# Report: per workload and target, medians over rounds of the values and of the per-round ratios.
# ---------------------------------------------------------------------------------------------
skipped_note="" skipped_names=""
for t in "${targets[@]}"; do
  if [ -n "${skip_reason[$t]:-}" ]; then
    skipped_note+="$t skipped: ${skip_reason[$t]}"$'\n'
    skipped_names+="${skipped_names:+, }$t (see above)"
  elif [ -n "${note[$t]:-}" ]; then
    skipped_note+="$t note: ${note[$t]}"$'\n'
  fi
done

awk -F'\t' -v workloads="${workloads[*]}" -v targets="${active[*]}" -v json_out="$json_out" \
    -v skipped="$skipped_note" -v skipped_names="$skipped_names" -v meta="rounds=$rounds duration=${duration}s clients=$clients threads=$threads scale=$scale warmup=${warmup}s,${warmup_transactions}tx cores=$(nproc)" \
    -v elapsed="$elapsed" '
function median(s,    a, n, i, j, x) {
  n = split(s, a, " ")
  if (n == 0) return "nan"
  for (i = 2; i <= n; i++) { x = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
  return n % 2 ? a[(n + 1) / 2] + 0 : (a[n / 2] + a[n / 2 + 1]) / 2
}
function add(key, v) { if (v != "nan" && v != "") vals[key] = vals[key] " " v }
function ratio(a, b) { return (a == "nan" || b == "nan" || b + 0 == 0) ? "nan" : a / b }
function fmt(x, f) { return x == "nan" ? "-" : sprintf(f, x) }
function jnum(x) { return x == "nan" ? "null" : sprintf("%.4g", x) }
{
  r = $1; w = $2; t = $3
  tps[r, w, t] = $4; p50[r, w, t] = $7; p99[r, w, t] = $8; pcpu[r, w, t] = $9; scpu[r, w, t] = $10
  rounds_seen[r] = 1; failed[w, t] += $6
  rows[NR] = $0
}
END {
  nw = split(workloads, W, " "); nt = split(targets, T, " ")
  for (r in rounds_seen) for (i = 1; i <= nw; i++) for (j = 1; j <= nt; j++) {
    w = W[i]; t = T[j]; if (!((r, w, t) in tps)) continue
    add("tps" SUBSEP w SUBSEP t, tps[r, w, t]); add("p50" SUBSEP w SUBSEP t, p50[r, w, t])
    add("p99" SUBSEP w SUBSEP t, p99[r, w, t]); add("pcpu" SUBSEP w SUBSEP t, pcpu[r, w, t])
    add("scpu" SUBSEP w SUBSEP t, scpu[r, w, t])
    if ((r, w, "direct") in tps) {
      add("tpsD" SUBSEP w SUBSEP t, ratio(tps[r, w, t], tps[r, w, "direct"]))
      add("p99D" SUBSEP w SUBSEP t, ratio(p99[r, w, t], p99[r, w, "direct"]))
    }
    if ((r, w, "pgbouncer") in tps) {
      add("tpsB" SUBSEP w SUBSEP t, ratio(tps[r, w, t], tps[r, w, "pgbouncer"]))
      add("p50B" SUBSEP w SUBSEP t, ratio(p50[r, w, t], p50[r, w, "pgbouncer"]))
      add("p99B" SUBSEP w SUBSEP t, ratio(p99[r, w, t], p99[r, w, "pgbouncer"]))
      if (pcpu[r, w, t] != "nan") add("pcpuB" SUBSEP w SUBSEP t, ratio(pcpu[r, w, t], pcpu[r, w, "pgbouncer"]))
      add("scpuB" SUBSEP w SUBSEP t, ratio(scpu[r, w, t], scpu[r, w, "pgbouncer"]))
    }
    if ((r, w, "direct") in tps && pcpu[r, w, t] != "nan")
      add("pcpuS" SUBSEP w SUBSEP t, ratio(pcpu[r, w, t], scpu[r, w, "direct"]))
  }
  printf "\npgbench comparison (%s); medians over rounds; ratios are per round, then the median\n", meta
  printf "x direct / x bouncer: ratio to the direct connection / to PgBouncer in the same round\n"
  printf "proxy CPU: utime+stime of the proxy process per transaction; server CPU: the PostgreSQL server processes, per transaction\n\n"
  hdr = sprintf("%-16s %-19s %10s %9s %9s %8s %8s %8s %8s %9s %9s %9s %9s", "workload", "target", "tps", "x direct", "x bouncer", \
         "p50 ms", "p99 ms", "p99 x B", "p99 x D", "proxy us", "x bouncer", "x srv(D)", "server us")
  print hdr; gsub(/./, "-", hdr); print hdr
  for (i = 1; i <= nw; i++) for (j = 1; j <= nt; j++) {
    w = W[i]; t = T[j]; k = SUBSEP w SUBSEP t
    if (!(("tps" k) in vals)) continue
    m_tps[w, t] = median(vals["tps" k]); m_tpsB[w, t] = median(vals["tpsB" k]); m_pcpuB[w, t] = median(vals["pcpuB" k])
    printf "%-16s %-19s %10s %9s %9s %8s %8s %8s %8s %9s %9s %9s %9s\n", w, t, fmt(m_tps[w, t], "%.0f"), \
      fmt(median(vals["tpsD" k]), "%.2f"), fmt(m_tpsB[w, t], "%.2f"), \
      fmt(median(vals["p50" k]), "%.3f"), fmt(median(vals["p99" k]), "%.3f"), \
      fmt(median(vals["p99B" k]), "%.2f"), fmt(median(vals["p99D" k]), "%.2f"), \
      fmt(median(vals["pcpu" k]), "%.1f"), fmt(m_pcpuB[w, t], "%.2f"), fmt(median(vals["pcpuS" k]), "%.2f"), \
      fmt(median(vals["scpu" k]), "%.1f")
    if (failed[w, t] > 0) printf "  ^ %d failed transactions\n", failed[w, t]
  }
  if (skipped != "") printf "\n%s", skipped
  # One line: for each pgpolicy target, the worst and best TPS and CPU ratio to PgBouncer.
  line = ""
  for (j = 1; j <= nt; j++) {
    t = T[j]; if (t !~ /^pgpolicy/) continue
    lo = ""; hi = ""; clo = ""; chi = ""
    for (i = 1; i <= nw; i++) {
      w = W[i]; x = m_tpsB[w, t]; c = m_pcpuB[w, t]
      if (x != "nan" && x != "") { if (lo == "" || x < lo) { lo = x; low = w } if (hi == "" || x > hi) { hi = x; hiw = w } }
      if (c != "nan" && c != "") { if (clo == "" || c < clo) clo = c; if (chi == "" || c > chi) { chi = c; chiw = w } }
    }
    if (lo == "") continue
    line = line sprintf("%s%s: TPS %.2f-%.2fx PgBouncer (worst %s), proxy CPU/tx %.2f-%.2fx PgBouncer (worst %s)", \
                        line == "" ? "" : "; ", t, lo, hi, low, clo, chi, chiw)
  }
  if (line == "") line = "no pgpolicy target measured against PgBouncer"
  if (skipped_names != "") line = line "; not measured: " skipped_names
  printf "\nsummary: %s [%s, %ds]\n", line, meta, elapsed
  if (json_out != "") {
    printf "{\n  \"settings\": \"%s\",\n  \"runs\": [\n", meta > json_out
    for (n = 1; n <= NR; n++) {
      split(rows[n], f, "\t")
      printf "    {\"round\": %s, \"workload\": \"%s\", \"target\": \"%s\", \"tps\": %s, \"transactions\": %s, \"failed\": %s, \"p50_ms\": %s, \"p99_ms\": %s, \"proxy_cpu_us_per_tx\": %s, \"server_cpu_us_per_tx\": %s}%s\n", \
        f[1], f[2], f[3], jnum(f[4]), f[5], f[6], jnum(f[7]), jnum(f[8]), jnum(f[9]), jnum(f[10]), n < NR ? "," : "" > json_out
    }
    printf "  ],\n  \"medians\": [\n" > json_out
    first = 1
    for (i = 1; i <= nw; i++) for (j = 1; j <= nt; j++) {
      w = W[i]; t = T[j]; k = SUBSEP w SUBSEP t
      if (!(("tps" k) in vals)) continue
      printf "%s    {\"workload\": \"%s\", \"target\": \"%s\", \"tps\": %s, \"tps_x_direct\": %s, \"tps_x_pgbouncer\": %s, \"p50_ms\": %s, \"p99_ms\": %s, \"p99_x_pgbouncer\": %s, \"proxy_cpu_us_per_tx\": %s, \"proxy_cpu_x_pgbouncer\": %s, \"server_cpu_us_per_tx\": %s}", \
        first ? "" : ",\n", w, t, jnum(median(vals["tps" k])), jnum(median(vals["tpsD" k])), jnum(median(vals["tpsB" k])), \
        jnum(median(vals["p50" k])), jnum(median(vals["p99" k])), jnum(median(vals["p99B" k])), \
        jnum(median(vals["pcpu" k])), jnum(median(vals["pcpuB" k])), jnum(median(vals["scpu" k])) > json_out
      first = 0
    }
    printf "\n  ],\n  \"skipped\": \"%s\"\n}\n", gensub_skipped(skipped) > json_out
  }
}
function gensub_skipped(s,    x) { x = s; gsub(/\\/, "\\\\", x); gsub(/"/, "\\\"", x); gsub(/\n+$/, "", x); gsub(/\n/, "; ", x); return x }
' "$results"
[ -n "$json_out" ] && say "JSON written to $json_out"
exit 0
}
