#!/usr/bin/env bash
# Soak: mixed pgbench and psql traffic through pgpolicy for a long time, with the policy set
# reloaded every minute, against a control running the same pgbench workloads directly.
#
#   bench/soak.sh [--duration S] [--reload-every S] [--clients N] [--json FILE] [--rate TPS]
#                 [--sample-every S] [--warmup S] [--scale N] [--max-heap-slope MIB_PER_HOUR]
#                 [--keep DIR] [--java-classpath CP]
#
# Passes (exit 0) only when: no failed pgbench transaction through the proxy of a kind the
# direct control does not also show; no unexpected psql outcome; every valid reload applied and
# every invalid one refused with a file:line:col diagnostic while the old set stays in force;
# the proxy's heap after full GC does not grow after warm-up; its open files come back to where
# they were once the traffic stops; the audit log verifies. Otherwise exits 1 and says which.
#
# Runs from a fresh Debian machine like bench/compare.sh: installs the PostgreSQL server packages
# when missing, builds the pgpolicy jar when needed, and leaves no process or file behind.
set -euo pipefail
# The whole script is one compound command, read before it runs: editing the file while a run is
# in progress cannot change or break that run.
{

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

usage() {
  sed -n '2,5p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  cat <<'EOF'
Options:
  --duration S          seconds of traffic (default 3600)
  --reload-every S      seconds between policy reloads (default 60)
  --clients N           pgbench clients per workload through the proxy (default 4)
  --rate TPS            limit each pgbench workload through the proxy to TPS (default 0: as fast
                        as it goes); the direct control always runs at --control-rate
  --control-rate TPS    rate of each direct control workload (default 20)
  --sample-every S      seconds between heap/RSS/fd samples, each after a full GC (default 30)
  --warmup S            samples before this are not used for the heap slope (default: a sixth
                        of --duration, at most 300)
  --scale N             pgbench scale factor (default 5)
  --max-heap-slope M    heap growth after warm-up, MiB per hour, beyond which the run fails;
                        growth under 8 MiB over the whole window is taken as noise (default 16)
  --json FILE           also write the report as JSON
  --keep DIR            keep the logs, policies and audit log in DIR (for a failed run)
  --java-classpath CP   run pgpolicy as java -cp CP (the classes of a build under test)
                        instead of bin/pgpolicy's jar; JVM options from PGPOLICY_JAVA_OPTS
                        (default -Xmx512m) either way
EOF
}

duration=3600 reload_every=60 clients=4 rate=0 control_rate=20 sample_every=30 warmup="" scale=5
max_heap_slope=16 json_out="" keep_dir="" java_classpath=""
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration=${2:?}; shift 2 ;;
    --reload-every) reload_every=${2:?}; shift 2 ;;
    --clients) clients=${2:?}; shift 2 ;;
    --rate) rate=${2:?}; shift 2 ;;
    --control-rate) control_rate=${2:?}; shift 2 ;;
    --sample-every) sample_every=${2:?}; shift 2 ;;
    --warmup) warmup=${2:?}; shift 2 ;;
    --scale) scale=${2:?}; shift 2 ;;
    --max-heap-slope) max_heap_slope=${2:?}; shift 2 ;;
    --json) json_out=${2:?}; shift 2 ;;
    --keep) keep_dir=${2:?}; shift 2 ;;
    --java-classpath) java_classpath=${2:?}; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "soak.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
for n in "$duration" "$reload_every" "$clients" "$control_rate" "$sample_every" "$scale" "$max_heap_slope"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "soak.sh: expected a positive integer, got '$n'" >&2; exit 2; }
done
[[ "$rate" =~ ^[0-9]+$ ]] || { echo "soak.sh: --rate expects a number, got '$rate'" >&2; exit 2; }
if [ -z "$warmup" ]; then
  warmup=$((duration / 6)); [ "$warmup" -le 300 ] || warmup=300
fi
[[ "$warmup" =~ ^[0-9]+$ ]] || { echo "soak.sh: --warmup expects seconds, got '$warmup'" >&2; exit 2; }
[ "$duration" -ge 30 ] || { echo "soak.sh: --duration must be at least 30 s" >&2; exit 2; }
if [ -n "$keep_dir" ] && [ -e "$keep_dir" ] && [ -n "$(ls -A "$keep_dir" 2>/dev/null)" ]; then
  echo "soak.sh: --keep $keep_dir is not empty: the logs of two runs would mix" >&2; exit 2
fi
for f in json_out keep_dir; do
  v=${!f}
  if [ -n "$v" ]; then case "$v" in /*) ;; *) printf -v "$f" '%s' "$PWD/$v" ;; esac; fi
done

say() { printf '%s\n' "soak.sh: [$(date -u +%H:%M:%S)] $*" >&2; }
die() { say "$*"; exit 1; }

# ---------------------------------------------------------------------------------------------
# Prerequisites
# ---------------------------------------------------------------------------------------------
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
require_postgres
for tool in jcmd jstat curl; do
  command -v "$tool" >/dev/null || die "$tool is needed (a JDK for jcmd/jstat, curl for the admin endpoint)"
done
# --failures-detailed (pgbench 15): serialization and deadlock failures counted per kind.
"$pgbin/pgbench" --help 2>&1 | grep -q -- --failures-detailed \
  || die "pgbench $("$pgbin/pgbench" --version | awk '{print $3}') has no --failures-detailed (PostgreSQL 15 or later is needed)"

service_user

# ---------------------------------------------------------------------------------------------
# Cleanup: every process we start and the temporary directory, whatever the way out.
# ---------------------------------------------------------------------------------------------
proxy_pid=""
# A background function is a subshell: its pgbench or psql children outlive it unless they are
# ended too, children first so that a loop cannot start another one.
kill_tree() {  # pid
  local child
  for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do kill_tree "$child"; done
  kill -TERM "$1" 2>/dev/null
}
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  set +e
  # Traffic generators and samplers first (they are our children), then the proxy, then PostgreSQL.
  local pid
  for pid in $(jobs -p); do
    case " ${started_pids[*]} " in *" $pid "*) ;; *) kill_tree "$pid" ;; esac
  done
  stop_started
  wait 2>/dev/null
  stop_cluster
  if [ -n "$work" ]; then
    if [ -n "$keep_dir" ]; then
      mkdir -p "$keep_dir" && cp -r "$work/logs" "$work/policies" "$work/audit" "$work/samples.tsv" \
        "$work/reloads.tsv" "$work/pgpolicy.yaml" "$keep_dir/" 2>/dev/null
      say "logs kept in $keep_dir"
    fi
    rm -rf "$work"
  fi
  exit "$status"
}
install_traps cleanup
make_workdir pgpolicy-soak
mkdir -p "$work/logs" "$work/policies" "$work/audit" "$work/staging"

# ---------------------------------------------------------------------------------------------
# PostgreSQL: private cluster, SCRAM over TCP on 127.0.0.1 only, durability off.
# ---------------------------------------------------------------------------------------------
export PGUSER=bench PGDATABASE=bench PGHOST=127.0.0.1 PGSSLMODE=disable PGCONNECT_TIMEOUT=10
pg_port=$(free_port)
init_cluster "$work/logs/initdb.log"
say "PostgreSQL $("$pgbin/postgres" --version | awk '{print $3}')"
max_conn=$((clients * 3 + 100))
start_cluster 60 "-c max_connections=$max_conn \
   -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=128MB \
   -c password_encryption=scram-sha-256"
say "PostgreSQL on 127.0.0.1:$pg_port"

psql_direct() { "$pgbin/psql" -X -p "$pg_port" -qAt -v ON_ERROR_STOP=1 "$@"; }
psql_direct -d postgres -c "CREATE DATABASE bench" >/dev/null
say "pgbench -i -s $scale"
"$pgbin/pgbench" -p "$pg_port" -i -s "$scale" -q >"$work/logs/pgbench-init.log" 2>&1 \
  || { cat "$work/logs/pgbench-init.log" >&2; die "pgbench -i failed"; }
# The tables the psql sessions use: customers (masked columns), secrets (denied), ledger (denied
# only by the second policy version), events (written by every iteration).
psql_direct >/dev/null <<'EOF'
CREATE SCHEMA soak;
CREATE TABLE soak.customers (id int PRIMARY KEY, name text NOT NULL, email text NOT NULL, card text NOT NULL);
INSERT INTO soak.customers
  SELECT i, 'customer ' || i, 'user' || i || '@example.com', '4111 1111 1111 ' || lpad((1000 + i)::text, 4, '0')
  FROM generate_series(1, 200) i;
CREATE TABLE soak.secrets (id int PRIMARY KEY, secret text NOT NULL);
INSERT INTO soak.secrets VALUES (1, 'the vault master key');
CREATE TABLE soak.ledger (id int PRIMARY KEY, amount int NOT NULL);
INSERT INTO soak.ledger SELECT i, i * 10 FROM generate_series(1, 10) i;
CREATE TABLE soak.events (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(), note text NOT NULL);
VACUUM ANALYZE;
EOF

# ---------------------------------------------------------------------------------------------
# Policy set: two valid versions that differ visibly (the e-mail mask; soak.ledger denied in B)
# and an invalid one (an unknown mask function) that must be refused.
# ---------------------------------------------------------------------------------------------
email_mask_b='[email hidden]'
write_policy() {  # version file
  local version=$1 file=$2 email_mask ledger_rule=""
  case "$version" in
    A|invalid) email_mask='email()' ;;
    B) email_mask="redact(\"$email_mask_b\")"
       ledger_rule='@id("no-ledger") @reason("the ledger is closed for the audit")
deny app read on soak.ledger;' ;;
  esac
  cat >"$file" <<EOF
# Soak test policy, version $version.
role app = user == "bench";
role dba = "dba" in groups and auth == "cert";

allow any session;
allow app read, write on public.pgbench_*;
allow app call on function pg_catalog.count;   # pgbench counts the branches to find the scale
allow app read on soak.customers, soak.ledger;
allow app insert on soak.events;
allow app listen, notify;
allow dba all;

@id("no-secrets") @reason("secrets are read by the vault service only")
deny any read on soak.secrets;
$ledger_rule
@id("no-ddl") @reason("schema changes go through migrations")
deny !dba ddl, truncate, alter_system, load, copy_program, do;
@id("no-file-access")
deny any call on function pg_read_file, pg_read_binary_file, pg_ls_dir, lo_import, lo_export, dblink*;

mask !dba soak.customers.email with $email_mask;
mask !dba soak.customers.card with partial(0, "XXXX-XXXX-XXXX-", 4);
mask !dba public.pgbench_history.filler with redact("***");

# Limits well above what the soak traffic does: they must never be hit.
limit app { rows 100000 per query; queries 100000 per second per user; concurrent 500 per user;
            idle 15m; idle_in_transaction 60s; }
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
  if [ "$version" = invalid ]; then
    printf '%s\n' 'mask !dba soak.customers.name with scramble();' >>"$file"
  fi
}
policy_file="$work/policies/soak.pgpolicy"
# Replaced by rename: the proxy's file watch never sees a half-written file.
install_policy() {  # version
  write_policy "$1" "$work/staging/soak.pgpolicy.new"
  mv -f "$work/staging/soak.pgpolicy.new" "$policy_file"
}
install_policy A
current_version=A

# ---------------------------------------------------------------------------------------------
# The proxy, started as an operator would: bin/pgpolicy serve, audit and admin endpoint on.
# ---------------------------------------------------------------------------------------------
# A fixed heap ceiling: a leak then ends in an OutOfMemoryError within the run, not in swap.
java_opts=${PGPOLICY_JAVA_OPTS:--Xmx512m}
if [ -n "$java_classpath" ]; then
  # shellcheck disable=SC2206
  pgpolicy_cmd=("${JAVA_HOME:+$JAVA_HOME/bin/}java" $java_opts -cp "$java_classpath" dev.pgpolicy.proxy.cli.PgPolicyCommand)
else
  pgpolicy_cmd=("$root/bin/pgpolicy")
  say "building pgpolicy if needed"
fi
# SIGHUP as a daemon gets it: a soak started under nohup would otherwise pass on an ignored
# SIGHUP, and the reloads "by sighup" would be done by the file watch alone.
pgpolicy_cmd=(env --default-signal=HUP "${pgpolicy_cmd[@]}")
"${pgpolicy_cmd[@]}" --version >/dev/null || die "pgpolicy does not run: ${pgpolicy_cmd[*]} --version failed"
# The configuration of a production deployment: a catalog account for masking, a fixed hash()
# key, a keyed (HMAC) audit chain that fails closed, the admin endpoint on loopback.
mkdir -p "$work/secrets"
catalog_password="catalog-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
printf '%s\n' "$catalog_password" >"$work/secrets/catalog"
od -An -N32 -tx1 /dev/urandom | tr -d ' \n' >"$work/secrets/mask.key"
od -An -N32 -tx1 /dev/urandom | tr -d ' \n' >"$work/secrets/audit.key"
chmod 0600 "$work"/secrets/*
psql_direct >/dev/null <<EOF
CREATE ROLE pgpolicy_catalog LOGIN PASSWORD '$catalog_password';
GRANT USAGE ON SCHEMA soak TO pgpolicy_catalog;
EOF
start_proxy() {  # sets proxy_port, admin_port, admin, proxy_pid; fails when it does not come up
  proxy_port=$(free_port)
  admin_port=$(free_port)
  while [ "$admin_port" = "$proxy_port" ]; do admin_port=$(free_port); done
  admin="http://127.0.0.1:$admin_port"
  cat >"$work/pgpolicy.yaml" <<EOF
listen: 127.0.0.1:$proxy_port
upstream: { host: 127.0.0.1, port: $pg_port, tls: disable }
policies: policies/
catalog: { user: pgpolicy_catalog, password_file: secrets/catalog }
masking: { hash_key_file: secrets/mask.key }
audit: { dir: audit/, hmac_key_file: secrets/audit.key, fail_closed: true }
admin: { listen: 127.0.0.1:$admin_port }
EOF
  start_pgpolicy "$work/logs/proxy.log" "$proxy_port" "$java_opts" "${pgpolicy_cmd[@]}" serve --config "$work/pgpolicy.yaml" \
    && { proxy_pid=$pgpolicy_pid; return 0; }
  # Exited (a port taken meanwhile, say): no process left to end. Still running: ended on exit.
  kill -0 "$pgpolicy_pid" 2>/dev/null && proxy_pid=$pgpolicy_pid || { forget_pid "$pgpolicy_pid"; proxy_pid=""; }
  return 1
}
for attempt in 1 2 3 4 5; do
  start_proxy && break
  [ -z "$proxy_pid" ] && grep -q -i 'address already in use' "$work/logs/proxy.log" && [ "$attempt" -lt 5 ] \
    && { say "port taken meanwhile, starting pgpolicy on other ports"; continue; }
  tail -n 30 "$work/logs/proxy.log" >&2
  die "pgpolicy did not start and accept connections within 60 s"
done
# bin/pgpolicy execs java: either way $! is the JVM, which jcmd and /proc are asked about.
say "pgpolicy on 127.0.0.1:$proxy_port, admin on 127.0.0.1:$admin_port (pid $proxy_pid)"

psql_proxy() { "$pgbin/psql" -X -p "$proxy_port" -qAt "$@"; }

# ---------------------------------------------------------------------------------------------
# Probe: which policy version is in force, seen by a client.
# ---------------------------------------------------------------------------------------------
raw_email=$(psql_direct -c "SELECT email FROM soak.customers WHERE id = 1")
# Prints "EMAIL<TAB>LEDGER_SQLSTATE<TAB>LEDGER_ERROR".
probe() {
  psql_proxy -v VERBOSITY=terse 2>/dev/null <<'EOF' || true
SELECT email AS probe_email FROM soak.customers WHERE id = 1 \gset
SELECT amount FROM soak.ledger WHERE id = 1 \gset
\echo :probe_email '\t' :SQLSTATE '\t' :LAST_ERROR_MESSAGE
EOF
}
masked_email_a=$(probe | awk -F'\t' '{ sub(/ $/, "", $1); print $1 }')
case "$masked_email_a" in
  ""|"$raw_email"|*probe_email*) die "the policy is not enforced: soak.customers.email came back as '$masked_email_a' (raw '$raw_email')" ;;
esac
say "policy A in force: email '$raw_email' comes back as '$masked_email_a'"

# The probe's reading of the version: A, B, or "?" with what it saw.
probe_version() {
  local out email state message
  out=$(probe)
  IFS=$'\t' read -r email state message <<<"$out"
  email=${email% } state=${state# } state=${state% } message=${message# }
  if [ "$email" = "$masked_email_a" ] && [ "$state" = 00000 ]; then echo A
  elif [ "$email" = "$email_mask_b" ] && [ "$state" = 42501 ] && [[ "$message" == *'"no-ledger"'* ]]; then echo B
  else echo "? email='$email' ledger=$state $message"
  fi
}

# ---------------------------------------------------------------------------------------------
# Samples: heap after a full GC (jcmd GC.run, then jstat: survivors + eden + old used), RSS,
# threads, open fds, open sessions (admin metrics).
# ---------------------------------------------------------------------------------------------
samples="$work/samples.tsv"
: >"$samples"
metric() {  # name-with-labels
  { curl -s --max-time 10 "$admin/metrics" || true; } \
    | awk -v m="$1" '$1 == m { printf "%d\n", $2; found = 1 } END { if (!found) print 0 }'
}
take_sample() {  # label
  local t heap rss threads fds sessions
  t=$(( $(date +%s) - traffic_start ))
  jcmd "$proxy_pid" GC.run >/dev/null 2>&1 || true
  heap=$(jstat -gc "$proxy_pid" 2>/dev/null | awk '
    NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
    NR == 2 { printf "%.1f\n", ($col["S0U"] + $col["S1U"] + $col["EU"] + $col["OU"]) / 1024 }' || true)
  rss=$(awk '/^VmRSS:/ { printf "%.1f\n", $2 / 1024 }' "/proc/$proxy_pid/status" 2>/dev/null || true)
  threads=$(awk '/^Threads:/ { print $2 }' "/proc/$proxy_pid/status" 2>/dev/null || true)
  fds=$(ls "/proc/$proxy_pid/fd" 2>/dev/null | wc -l || true)
  sessions=$(metric pgpolicy_connections_open)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "${heap:-nan}" "${rss:-nan}" "${threads:-nan}" "$fds" "${sessions:-nan}" "$1" >>"$samples"
}

# ---------------------------------------------------------------------------------------------
# psql sessions: one iteration checks an allowed read (masked), a denied read (42501, rule id),
# a guard (42501, guard.tautology), an insert, a COPY TO STDOUT of the masked table, and
# LISTEN/NOTIFY. Every outcome is echoed as a RESULT line and checked after the run.
# ---------------------------------------------------------------------------------------------
iteration_sql() {  # token
  cat <<EOF
SELECT email AS it_email, card AS it_card FROM soak.customers WHERE id = 7 \\gset
\\echo RESULT $1 select :SQLSTATE
\\echo VALUE $1 email :it_email
\\echo VALUE $1 card :it_card
SELECT secret FROM soak.secrets WHERE id = 1;
\\echo RESULT $1 deny :SQLSTATE :LAST_ERROR_MESSAGE
SELECT name FROM soak.customers WHERE id = 1 OR 1 = 1;
\\echo RESULT $1 guard :SQLSTATE :LAST_ERROR_MESSAGE
INSERT INTO soak.events (note) VALUES ('$1');
\\echo RESULT $1 insert :SQLSTATE
\\echo COPYBEGIN $1
COPY soak.customers (id, email, card) TO STDOUT;
\\echo COPYEND $1 :SQLSTATE
LISTEN soak_channel;
NOTIFY soak_channel, '$1';
\\echo RESULT $1 notify :SQLSTATE
UNLISTEN soak_channel;
\\echo RESULT $1 end
EOF
}

psql_new_connection_loop() {  # worker deadline
  local worker=$1 deadline=$2 i=0 out="$work/logs/psql-new-$1.out"
  : >"$out"
  while [ "$(date +%s)" -lt "$deadline" ]; do
    i=$((i + 1))
    echo "EMITTED n$worker-$i" >>"$out"
    iteration_sql "n$worker-$i" | psql_proxy -v VERBOSITY=terse >>"$out" 2>>"$work/logs/psql-new-$worker.err" \
      || echo "EXIT n$worker-$i $?" >>"$out"
    sleep 0.2
  done
}

psql_long_lived_session() {  # worker deadline
  local worker=$1 deadline=$2 out="$work/logs/psql-long-$1.out"
  : >"$out"
  {
    local i=0
    while [ "$(date +%s)" -lt "$deadline" ]; do
      i=$((i + 1))
      # The generator's record of what it sent, so a session that died is counted, not missed.
      echo "EMITTED l$worker-$i" >>"$work/logs/psql-long-$worker.emitted"
      iteration_sql "l$worker-$i"
      sleep 1
    done
  } | psql_proxy -v VERBOSITY=terse >>"$out" 2>>"$work/logs/psql-long-$worker.err" \
    || echo "EXIT l$worker-session $?" >>"$out"
}

# ---------------------------------------------------------------------------------------------
# pgbench: three workloads through the proxy and the same three, slower, directly.
# ---------------------------------------------------------------------------------------------
workload_args() {
  case "$1" in
    tpcb-prepared) echo "-M prepared" ;;
    select-simple) echo "-S -M simple" ;;
    select-extended) echo "-S -M extended" ;;
  esac
}
workloads=(tpcb-prepared select-simple select-extended)
run_pgbench() {  # target workload
  local target=$1 w=$2 p c r
  if [ "$target" = proxy ]; then p=$proxy_port c=$clients r=$rate; else p=$pg_port c=1 r=$control_rate; fi
  local rate_args=()
  [ "$r" -gt 0 ] && rate_args=(-R "$r")
  # shellcheck disable=SC2046
  local status=0
  "$pgbin/pgbench" -p "$p" -n -c "$c" -j 1 -T "$duration" $(workload_args "$w") "${rate_args[@]}" \
    --failures-detailed -P "$sample_every" >"$work/logs/pgbench-$target-$w.log" 2>&1 || status=$?
  echo "$status" >"$work/logs/pgbench-$target-$w.status"
}

# ---------------------------------------------------------------------------------------------
# Reloads: alternate A and B, and the second of every four an invalid version (so that a short
# run has one too); the trigger of the
# valid ones rotates between the file watch (the rename alone), SIGHUP and POST /reload. Each outcome is checked with the probe.
# ---------------------------------------------------------------------------------------------
reloads="$work/reloads.tsv"
: >"$reloads"
wait_for_version() {  # version seconds; prints what the probe last saw
  local want=$1 limit=$2 seen
  local until=$(( $(date +%s) + limit ))
  while :; do
    seen=$(probe_version)
    [ "$seen" = "$want" ] && { echo "$seen"; return 0; }
    [ "$(date +%s)" -ge "$until" ] && { echo "$seen"; return 1; }
    sleep 0.5
  done
}
reload_loop() {  # deadline
  local deadline=$1 k=0 valid=0 next version trigger outcome detail seen answer
  while :; do
    sleep "$reload_every"
    [ $(( $(date +%s) + 20 )) -lt "$deadline" ] || break
    k=$((k + 1))
    if [ $((k % 4)) -eq 2 ]; then
      version=invalid
      install_policy invalid
      # POST /reload answers with the compiler's diagnostics; the file watch may have refused
      # the same files already.
      answer=$(curl -s --max-time 30 -X POST -w '\n%{http_code}' "$admin/reload" || true)
      trigger=post
      if [ "$(tail -n 1 <<<"$answer")" = 422 ] \
          && grep -q -E 'soak\.pgpolicy:[0-9]+:[0-9]+: error' <<<"$answer"; then
        detail=$(grep -o -E 'soak\.pgpolicy:[0-9]+:[0-9]+: error[^"]*' <<<"$answer" | head -n 1)
        # The old set must still be in force, for a while and not only at the first look.
        sleep 2
        seen=$(probe_version)
        if [ "$seen" = "$current_version" ]; then outcome=rejected
        else outcome=failed detail="refused, but the probe saw $seen instead of version $current_version"
        fi
      else
        outcome=failed detail="POST /reload answered: $(tr '\n' ' ' <<<"$answer" | cut -c1-300)"
      fi
      # Back to the valid version in force, so the next reload starts from valid files.
      install_policy "$current_version"
      curl -s --max-time 30 -X POST "$admin/reload" >/dev/null || true
    else
      if [ "$current_version" = A ]; then next=B; else next=A; fi
      version=$next
      install_policy "$next"
      valid=$((valid + 1))
      case $((valid % 3)) in
        1) trigger=watch ;;
        2) trigger=sighup; kill -HUP "$proxy_pid" ;;
        0) trigger=post; curl -s --max-time 30 -X POST "$admin/reload" >"$work/logs/reload-$k.json" || true ;;
      esac
      if seen=$(wait_for_version "$next" 30); then
        outcome=applied detail=""
        current_version=$next
      else
        outcome=failed detail="version $next not in force 30 s after the reload; the probe saw: $seen"
      fi
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$(( $(date +%s) - traffic_start ))" "$k" "$version" "$trigger" "$outcome" "$detail" >>"$reloads"
    say "reload $k: version $version by $trigger: $outcome${detail:+ ($detail)}"
  done
}

sample_loop() {  # deadline
  while [ "$(date +%s)" -lt "$1" ]; do
    sleep "$sample_every"
    take_sample run
  done
}

# ---------------------------------------------------------------------------------------------
# Run
# ---------------------------------------------------------------------------------------------
traffic_start=$(date +%s)
take_sample idle-start
fds_idle_start=$(awk -F'\t' 'END { print $5 }' "$samples")
deadline=$((traffic_start + duration))
say "traffic for ${duration}s: pgbench ${workloads[*]} through the proxy ($clients clients each$([ "$rate" -gt 0 ] && echo ", $rate tps each")) and directly ($control_rate tps each), psql sessions, reloads every ${reload_every}s"
bg_pids=()
for w in "${workloads[@]}"; do
  run_pgbench proxy "$w" & bg_pids+=($!)
  run_pgbench direct "$w" & bg_pids+=($!)
done
psql_new_connection_loop 1 "$deadline" & bg_pids+=($!)
psql_new_connection_loop 2 "$deadline" & bg_pids+=($!)
psql_long_lived_session 1 "$deadline" & bg_pids+=($!)
psql_long_lived_session 2 "$deadline" & bg_pids+=($!)
sample_loop "$deadline" & bg_pids+=($!)
# The reload loop runs in this shell: it keeps current_version.
reload_loop "$deadline"
for pid in "${bg_pids[@]}"; do wait "$pid" || true; done
kill -0 "$proxy_pid" 2>/dev/null || die "pgpolicy exited during the run: $(tail -n 5 "$work/logs/proxy.log" | tr '\n' ' ')"

# Sessions drain, then the idle sample that the start is compared with.
for _ in $(seq 1 60); do
  [ "$(metric pgpolicy_connections_open)" = 0 ] && break
  sleep 0.5
done
take_sample idle-end
elapsed=$(( $(date +%s) - traffic_start ))
fds_idle_end=$(awk -F'\t' 'END { print $5 }' "$samples")
sessions_end=$(awk -F'\t' 'END { print $6 }' "$samples")
reloads_success_metric=$(metric 'pgpolicy_policy_reloads_total{outcome="success"}')
reloads_failure_metric=$(metric 'pgpolicy_policy_reloads_total{outcome="failure"}')
audit_written=$(metric pgpolicy_audit_records_written_total)
audit_write_failures=$(metric pgpolicy_audit_write_failures_total)

# The audit log is verified once the proxy has closed it.
kill -TERM "$proxy_pid"
for _ in $(seq 1 300); do kill -0 "$proxy_pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$proxy_pid" 2>/dev/null && die "pgpolicy did not stop within 30 s of SIGTERM"
wait "$proxy_pid" 2>/dev/null || true
forget_pid "$proxy_pid"
proxy_pid=""
if "${pgpolicy_cmd[@]}" audit verify "$work/audit" --key "$work/secrets/audit.key" >"$work/logs/audit-verify.log" 2>&1; then
  audit_verified=true
else
  audit_verified=false
fi
audit_verify_message=$(tail -n 3 "$work/logs/audit-verify.log" | tr '\n\t"\\' '    ' | cut -c1-300)

# ---------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------
# pgbench: "workload<TAB>kind<TAB>count" per target; kinds: serialization, deadlock, other failed
# transactions, and aborted clients by their error message (numbers blanked so that the same
# error in different rows is one kind).
pgbench_summary() {  # target
  local w log
  for w in "${workloads[@]}"; do
    log="$work/logs/pgbench-$1-$w.log"
    awk -v w="$w" -v status="$(cat "$work/logs/pgbench-$1-$w.status" 2>/dev/null || echo missing)" '
      /^number of transactions actually processed:/ { split($0, a, ": "); split(a[2], b, "/"); tx = b[1] + 0 }
      /^number of failed transactions:/ { failed = $5 + 0 }
      /^number of serialization failures:/ { ser = $5 + 0 }
      /^number of deadlock failures:/ { dead = $5 + 0 }
      /aborted in command/ {
        msg = $0; sub(/^.*aborted in command [0-9]+ query [0-9]+: /, "", msg); gsub(/[0-9]+/, "N", msg)
        aborted[substr(msg, 1, 120)]++
      }
      /^pgbench: error: / && !/aborted in command/ && !/Run was aborted/ {
        msg = $0; sub(/^pgbench: error: /, "", msg); gsub(/[0-9]+/, "N", msg); other[substr(msg, 1, 120)]++
      }
      END {
        printf "%s\ttransactions\t%d\n", w, tx
        if (ser) printf "%s\tserialization failure\t%d\n", w, ser
        if (dead) printf "%s\tdeadlock failure\t%d\n", w, dead
        if (failed - ser - dead > 0) printf "%s\tother failed transaction\t%d\n", w, failed - ser - dead
        for (m in aborted) printf "%s\tclient aborted: %s\t%d\n", w, m, aborted[m]
        for (m in other) printf "%s\terror: %s\t%d\n", w, m, other[m]
        if (status != "0" && status != "") printf "%s\tpgbench exit status %s\t1\n", w, status
      }' "$log"
  done
}
pgbench_summary proxy >"$work/pgbench-proxy.tsv"
pgbench_summary direct >"$work/pgbench-direct.tsv"

# psql outcomes: every emitted iteration must show all its RESULT lines with the expected state.
cat "$work"/logs/psql-long-*.emitted >"$work/emitted.txt" 2>/dev/null || true
cat "$work"/logs/psql-*.out "$work/emitted.txt" | awk -v raw="$raw_email" -v ma="$masked_email_a" -v mb="$email_mask_b" \
    -v rows="200" -v unexpected_out="$work/psql-unexpected.txt" '
  function bad(token, what) { unexpected++; if (shown++ < 50) print token ": " what > unexpected_out }
  $1 == "EMITTED" { emitted[$2] = 1; next }
  $1 == "EXIT" { bad($2, "psql exited with status " $3); next }
  $1 == "COPYBEGIN" { copy_token = $2; copy_rows = 0; copy_bad = 0; next }
  $1 == "COPYEND" {
    if ($3 != "00000") bad($2, "COPY TO STDOUT failed with " $3)
    else if (copy_rows != rows) bad($2, "COPY TO STDOUT gave " copy_rows " rows, expected " rows)
    else if (copy_bad) bad($2, "COPY TO STDOUT row not masked: " copy_bad_row)
    copy_token = ""; copies++; next
  }
  copy_token != "" {
    copy_rows++
    n = split($0, f, "\t")
    if (n != 3 || (f[2] != ma && f[2] != mb) || f[3] !~ /^XXXX-XXXX-XXXX-[0-9][0-9][0-9][0-9]$/) { copy_bad++; copy_bad_row = substr($0, 1, 80) }
    next
  }
  /^Asynchronous notification "soak_channel" with payload "/ {
    p = $0; sub(/^Asynchronous notification "soak_channel" with payload "/, "", p); sub(/".*$/, "", p); notified[p] = 1; next
  }
  $1 == "VALUE" {
    v = $0; sub(/^VALUE [^ ]+ [^ ]+ /, "", v); sub(/ $/, "", v)
    if ($3 == "email" && v != ma && v != mb) bad($2, "email came back as \"" v "\", expected a masked value")
    if ($3 == "card" && v !~ /^XXXX-XXXX-XXXX-[0-9][0-9][0-9][0-9]$/) bad($2, "card came back as \"" v "\", expected a masked value")
    next
  }
  $1 == "RESULT" {
    t = $2; k = $3; state = $4; msg = $0; sub(/^RESULT [^ ]+ [^ ]+ [^ ]* ?/, "", msg)
    if (k == "select" && state != "00000") bad(t, "allowed SELECT failed with " state)
    # A statement whose analysis exceeded the parse budget (docs/security.md: 250 ms) is denied
    # by guard.unparsed: still refused, so not unexpected for a statement that must be denied,
    # but counted, since it means the proxy was starved of CPU.
    if ((k == "deny" || k == "guard") && state == "42501" && index(msg, "\"guard.unparsed\"") > 0) { unparsed++; next }
    if (k == "deny" && (state != "42501" || index(msg, "\"no-secrets\"") == 0)) bad(t, "denied SELECT gave " state " " msg ", expected 42501 by rule \"no-secrets\"")
    if (k == "guard" && (state != "42501" || index(msg, "guard.tautology") == 0)) bad(t, "tautology gave " state " " msg ", expected 42501 by guard.tautology")
    if (k == "insert" && state != "00000") bad(t, "allowed INSERT failed with " state)
    if (k == "notify") { if (state != "00000") bad(t, "LISTEN/NOTIFY failed with " state); else if (!(t in notified)) bad(t, "no notification received for NOTIFY"); notifies++ }
    if (k == "end") { ended[t] = 1; iterations++ }
    next
  }
  END {
    for (t in emitted) if (!(t in ended)) { missing++; bad(t, "iteration sent but not completed") }
    printf "%d\t%d\t%d\t%d\t%d\n", iterations, unexpected, copies, notifies, unparsed
  }' >"$work/psql-summary.tsv"
read -r psql_iterations psql_unexpected psql_copies psql_notifies psql_unparsed <"$work/psql-summary.tsv"
# Every statement of any client that the proxy denied as unparsed (pgbench's start-up queries too).
unparsed_denials=$(grep -c 'by \[guard.unparsed\]' "$work/logs/proxy.log" || true)
psql_errors_sample=""
[ -f "$work/psql-unexpected.txt" ] && psql_errors_sample=$(head -n 5 "$work/psql-unexpected.txt" | tr '\n\t"\\' '    ' | cut -c1-600)

reloads_done=$(wc -l <"$reloads")
reloads_applied=$(awk -F'\t' '$5 == "applied"' "$reloads" | wc -l)
reloads_rejected=$(awk -F'\t' '$5 == "rejected"' "$reloads" | wc -l)
reloads_failed=$(awk -F'\t' '$5 == "failed"' "$reloads" | wc -l)

# Heap after warm-up: first, last, max, least-squares slope per hour over the run samples.
read -r heap_n heap_first heap_last heap_max heap_slope rss_first rss_last rss_max threads_max fds_max sessions_max < <(
  awk -F'\t' -v warm="$warmup" '
    $7 == "run" && $1 >= warm && $2 != "nan" {
      n++; x[n] = $1 / 3600; y[n] = $2; if (n == 1) { hf = $2; rf = $3 } hl = $2; rl = $3
      if ($2 > hm) hm = $2; if ($3 > rm) rm = $3
    }
    $7 == "run" { if ($4 > tm) tm = $4; if ($5 > fm) fm = $5; if ($6 > sm) sm = $6 }
    END {
      slope = 0
      if (n >= 2) {
        for (i = 1; i <= n; i++) { sx += x[i]; sy += y[i] }
        mx = sx / n; my = sy / n
        for (i = 1; i <= n; i++) { sxy += (x[i] - mx) * (y[i] - my); sxx += (x[i] - mx) ^ 2 }
        if (sxx > 0) slope = sxy / sxx
      }
      printf "%d %s %s %s %.1f %s %s %s %s %s %s\n", n, (n ? hf : "nan"), (n ? hl : "nan"), (n ? hm : "nan"), slope,
        (n ? rf : "nan"), (n ? rl : "nan"), (n ? rm : "nan"), tm + 0, fm + 0, sm + 0
    }' "$samples")

# ---------------------------------------------------------------------------------------------
# Criteria
# ---------------------------------------------------------------------------------------------
failures=()
# A proxy failure kind the direct control shows too (any workload) is the database's, not the proxy's.
charged=$(awk -F'\t' 'NR == FNR { if ($2 != "transactions" && $3 > 0) direct[$2] = 1; next }
                      $2 != "transactions" && $3 > 0 && !($2 in direct) { printf "%s %s: %d; ", $1, $2, $3 }' \
          "$work/pgbench-direct.tsv" "$work/pgbench-proxy.tsv")
[ -z "$charged" ] || failures+=("pgbench failures through the proxy that the direct control does not show: $charged")
proxy_tx=$(awk -F'\t' '$2 == "transactions" { s += $3 } END { print s + 0 }' "$work/pgbench-proxy.tsv")
direct_tx=$(awk -F'\t' '$2 == "transactions" { s += $3 } END { print s + 0 }' "$work/pgbench-direct.tsv")
while IFS=$'\t' read -r w kind n; do
  [ "$kind" = transactions ] && [ "$n" -eq 0 ] && failures+=("no pgbench transaction completed through the proxy for $w")
done <"$work/pgbench-proxy.tsv"
[ "$psql_unexpected" -eq 0 ] || failures+=("$psql_unexpected unexpected psql outcomes, e.g. $psql_errors_sample")
[ "$psql_iterations" -gt 0 ] || failures+=("no psql iteration completed")
[ "$reloads_failed" -eq 0 ] || failures+=("$reloads_failed reloads not as expected: $(awk -F'\t' '$5 == "failed" { printf "#%s %s: %s; ", $2, $3, $6 }' "$reloads" | cut -c1-600)")
[ "$reloads_done" -gt 0 ] || failures+=("no reload happened (--reload-every $reload_every is too long for --duration $duration)")
# The slope is judged only over a window long enough for it to mean something: samples taken
# during traffic include whatever the open sessions hold at that moment (seen: 17 to 40 MiB
# within a minute), so a slope over a few samples is that noise extrapolated to an hour.
heap_window=$(awk -F'\t' -v warm="$warmup" '$7 == "run" && $1 >= warm && $2 != "nan" { if (first == "") first = $1; last = $1 }
                                           END { print (first == "" ? 0 : last - first) }' "$samples")
heap_judged=false
if [ "$heap_n" -ge 10 ] && [ "$heap_window" -ge 600 ]; then
  heap_judged=true
  heap_fails=$(awk -v s="$heap_slope" -v f="$heap_first" -v l="$heap_last" -v m="$max_heap_slope" \
    'BEGIN { if (s > m && l - f > 8) print "1"; else print "0" }')
  [ "$heap_fails" = 0 ] || failures+=("heap after GC grows ${heap_slope} MiB/h after warm-up (limit $max_heap_slope MiB/h; ${heap_first} -> ${heap_last} MiB)")
fi
# The idle proxy before and after the traffic, each after a full GC with no session open: what
# the traffic left behind.
heap_idle_start=$(awk -F'\t' '$7 == "idle-start" { print $2 }' "$samples")
heap_idle_end=$(awk -F'\t' '$7 == "idle-end" { print $2 }' "$samples")
idle_growth_fails=$(awk -v a="$heap_idle_start" -v b="$heap_idle_end" 'BEGIN { print (a == "nan" || b == "nan" || b - a > 16) ? 1 : 0 }')
[ "$idle_growth_fails" = 0 ] || failures+=("heap of the idle proxy after full GC grew from $heap_idle_start to $heap_idle_end MiB over the run (limit 16 MiB)")
fd_growth=$((fds_idle_end - fds_idle_start))
[ "$fd_growth" -le 16 ] || failures+=("open files grew from $fds_idle_start to $fds_idle_end between the idle proxy before and after the traffic")
[ "$sessions_end" = 0 ] || failures+=("$sessions_end sessions still open after the traffic stopped")
[ "$audit_verified" = true ] || failures+=("audit verify failed: $audit_verify_message")
[ "$audit_write_failures" -eq 0 ] || failures+=("$audit_write_failures audit write failures")

# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------
load=$(cut -d' ' -f1-3 /proc/loadavg)
{
  printf '\nsoak: %ss of traffic (%ss with the drain), reload every %ss, %s clients per workload, scale %s, %s cores, load average at end %s\n' \
    "$duration" "$elapsed" "$reload_every" "$clients" "$scale" "$(nproc)" "$load"
  printf '\npgbench       %-16s %12s  failures by kind\n' workload transactions
  for target in proxy direct; do
    for w in "${workloads[@]}"; do
      awk -F'\t' -v t="$target" -v w="$w" '$1 == w && $2 == "transactions" { tx = $3 } $1 == w && $2 != "transactions" { f = f sprintf("%s%s: %d", (f == "" ? "" : "; "), $2, $3) }
        END { printf "  %-11s %-16s %12d  %s\n", t, w, tx, f == "" ? "none" : f }' "$work/pgbench-$target.tsv"
    done
  done
  printf '\npsql: %s iterations, %s COPY TO STDOUT checked, %s LISTEN/NOTIFY checked, %s unexpected outcomes\n' \
    "$psql_iterations" "$psql_copies" "$psql_notifies" "$psql_unexpected"
  [ "$psql_unexpected" -eq 0 ] || sed 's/^/  /' "$work/psql-unexpected.txt"
  if [ "$unparsed_denials" -gt 0 ]; then
    printf 'NOTE: %s statements denied by guard.unparsed (%s of them psql statements that had to be denied anyway): their analysis exceeded the 250 ms budget, the proxy was starved of CPU\n' \
      "$unparsed_denials" "$psql_unparsed"
  fi
  printf 'reloads: %s done, %s applied, %s invalid ones rejected with the old set kept, %s not as expected (proxy counted %s successful, %s refused)\n' \
    "$reloads_done" "$reloads_applied" "$reloads_rejected" "$reloads_failed" "$reloads_success_metric" "$reloads_failure_metric"
  printf 'heap after full GC, after %ss warm-up (%s samples over %ss): first %s MiB, last %s MiB, max %s MiB, slope %s MiB/h (limit %s%s)\n' \
    "$warmup" "$heap_n" "$heap_window" "$heap_first" "$heap_last" "$heap_max" "$heap_slope" "$max_heap_slope" \
    "$([ "$heap_judged" = true ] || echo '; not judged: fewer than 10 samples or 600 s after warm-up')"
  printf 'heap of the idle proxy after full GC: %s MiB before the traffic, %s MiB after (limit +16)\n' "$heap_idle_start" "$heap_idle_end"
  printf 'RSS: first %s MiB, last %s MiB, max %s MiB; threads max %s; sessions max %s, after the drain %s\n' \
    "$rss_first" "$rss_last" "$rss_max" "$threads_max" "$sessions_max" "$sessions_end"
  printf 'open files: %s idle before, %s idle after (max %s during the run)\n' "$fds_idle_start" "$fds_idle_end" "$fds_max"
  printf 'audit: %s records written, %s write failures, verify %s\n' "$audit_written" "$audit_write_failures" \
    "$([ "$audit_verified" = true ] && echo ok || echo "FAILED: $audit_verify_message")"
  if [ ${#failures[@]} -eq 0 ]; then
    printf '\nresult: PASS\n'
  else
    printf '\nresult: FAIL\n'
    printf '  - %s\n' "${failures[@]}"
  fi
}

if [ -n "$json_out" ]; then
  json_str() { local s=$1; s=${s//\\/\\\\}; s=${s//\"/\\\"}; s=${s//$'\t'/ }; s=${s//$'\n'/ }; printf '"%s"' "$s"; }
  pgbench_json() {  # target
    awk -F'\t' 'function q(s) { gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s); return "\"" s "\"" }
      { if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 }
        if ($2 == "transactions") tx[$1] = $3; else { fk[$1] = fk[$1] (fk[$1] == "" ? "" : ", ") q($2) ": " $3; total[$1] += $3 } }
      END { printf "["; for (i = 1; i <= n; i++) { w = order[i]
              printf "%s{\"workload\": %s, \"transactions\": %d, \"failures\": %d, \"failures_by_kind\": {%s}}", (i > 1 ? ", " : ""), q(w), tx[w], total[w], fk[w] }
            printf "]" }' "$work/pgbench-$1.tsv"
  }
  {
    printf '{\n'
    printf '  "settings": {"duration_s": %s, "reload_every_s": %s, "clients": %s, "rate": %s, "control_rate": %s, "scale": %s, "sample_every_s": %s, "warmup_s": %s, "max_heap_slope_mib_per_hour": %s, "cores": %s},\n' \
      "$duration" "$reload_every" "$clients" "$rate" "$control_rate" "$scale" "$sample_every" "$warmup" "$max_heap_slope" "$(nproc)"
    printf '  "elapsed_s": %s,\n  "load_average": %s,\n' "$elapsed" "$(json_str "$load")"
    printf '  "pgbench": {"proxy": {"transactions": %s, "workloads": %s}, "direct": {"transactions": %s, "workloads": %s}},\n' \
      "$proxy_tx" "$(pgbench_json proxy)" "$direct_tx" "$(pgbench_json direct)"
    printf '  "psql": {"iterations": %s, "copies_checked": %s, "notifies_checked": %s, "unexpected": %s, "denied_as_unparsed": %s},\n' \
      "$psql_iterations" "$psql_copies" "$psql_notifies" "$psql_unexpected" "$psql_unparsed"
    printf '  "unparsed_denials": %s,\n' "$unparsed_denials"
    printf '  "reloads": {"done": %s, "applied": %s, "rejected": %s, "failed": %s, "metric_success": %s, "metric_failure": %s, "log": [' \
      "$reloads_done" "$reloads_applied" "$reloads_rejected" "$reloads_failed" "${reloads_success_metric}" "${reloads_failure_metric}"
    first=1
    while IFS=$'\t' read -r t k v trig outc det; do
      printf '%s{"t_s": %s, "version": %s, "trigger": %s, "outcome": %s, "detail": %s}' "$([ $first = 1 ] || echo ', ')" \
        "$t" "$(json_str "$v")" "$(json_str "$trig")" "$(json_str "$outc")" "$(json_str "$det")"
      first=0
    done <"$reloads"
    printf ']},\n'
    printf '  "heap_mib": {"samples_after_warmup": %s, "window_s": %s, "first": %s, "last": %s, "max": %s, "slope_per_hour": %s, "slope_judged": %s, "idle_start": %s, "idle_end": %s},\n' \
      "$heap_n" "$heap_window" "${heap_first/nan/null}" "${heap_last/nan/null}" "${heap_max/nan/null}" "$heap_slope" "$heap_judged" \
      "${heap_idle_start/nan/null}" "${heap_idle_end/nan/null}"
    printf '  "rss_mib": {"first": %s, "last": %s, "max": %s},\n' "${rss_first/nan/null}" "${rss_last/nan/null}" "${rss_max/nan/null}"
    printf '  "threads_max": %s,\n  "fds": {"idle_start": %s, "idle_end": %s, "max": %s},\n  "sessions": {"max": %s, "after_drain": %s},\n' \
      "$threads_max" "$fds_idle_start" "$fds_idle_end" "$fds_max" "$sessions_max" "${sessions_end/nan/null}"
    printf '  "samples": ['
    awk -F'\t' 'function v(x) { return x == "nan" ? "null" : x }
      { printf "%s{\"t_s\": %s, \"heap_mib\": %s, \"rss_mib\": %s, \"threads\": %s, \"fds\": %s, \"sessions\": %s, \"phase\": \"%s\"}", (NR > 1 ? ", " : ""), $1, v($2), v($3), v($4), v($5), v($6), $7 }' "$samples"
    printf '],\n'
    printf '  "audit": {"records_written": %s, "write_failures": %s, "verified": %s, "verify_output": %s},\n' \
      "${audit_written}" "${audit_write_failures}" "$audit_verified" "$(json_str "$audit_verify_message")"
    printf '  "failures": ['
    first=1
    for f in "${failures[@]}"; do printf '%s%s' "$([ $first = 1 ] || echo ', ')" "$(json_str "$f")"; first=0; done
    printf '],\n  "pass": %s\n}\n' "$([ ${#failures[@]} -eq 0 ] && echo true || echo false)"
  } >"$json_out"
  say "JSON written to $json_out"
fi

[ ${#failures[@]} -eq 0 ] || exit 1
exit 0
}
