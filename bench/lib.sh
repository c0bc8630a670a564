# shellcheck shell=bash
# The setup that compare.sh, scale.sh and soak.sh share: a private PostgreSQL cluster, PgBouncer
# and pgpolicy on loopback ports, and their removal on the way out. Sourced (not run) by those
# scripts once they have set `root` (the repository) and defined `say` and `die` (their messages
# carry the script's name). What each script measures, and how, stays in the script.
#
#   require_postgres          sets pgbin: the newest PostgreSQL bin directory with initdb, pg_ctl,
#                             pgbench and psql; bin/install-prerequisites installs it (and Java)
#                             when missing
#   require_pgbouncer         sets pgbouncer_bin, installing the Debian package when it is missing
#   service_user              sets as_service: PostgreSQL and PgBouncer refuse to run as root, so
#                             as root they run as the postgres OS user
#   make_workdir PREFIX       sets work: a temporary directory those services may write in
#   free_port                 prints a port free on 127.0.0.1, below the kernel's ephemeral range
#   init_cluster LOG          sets PGPASSWORD (exported) and pgdata; initdb with SCRAM for role bench
#   start_cluster SECS OPTS   starts it on pg_port (a fresh port when that one was taken
#                             meanwhile), extra server options OPTS; sets pg_server_pid
#   wait_ready PORT PID       waits up to 60 s until psql is answered on PORT; fails when PID exits
#   start_pgbouncer MAX POOL  PgBouncer in session mode in front of pg_port for role bench (SCRAM
#                             verifier from pg_authid), on another port when the first was taken
#                             meanwhile; sets bouncer_pid and bouncer_port
#   start_pgpolicy LOG PORT JAVA_OPTS COMMAND...
#                             runs COMMAND (bin/pgpolicy serve ...) with PGPOLICY_JAVA_OPTS, its
#                             output appended to LOG; sets pgpolicy_pid at once, waits as wait_ready
#   proc_ticks PID            utime+stime of a process in clock ticks, all its threads included
#   stop_pid PID              TERM, up to 10 s, then KILL (and forget_pid)
#   forget_pid PID            takes a process the script has ended itself off started_pids
#   stop_started              stop_pid on every process the functions above started
#   stop_cluster              immediate shutdown of the private cluster, when it runs
#   install_traps CLEANUP     CLEANUP on exit, and an exit with the usual status on INT and TERM
#
# The scripts start their services on ports they pick themselves, so two runs (or a run and the
# test suite) can share a machine.

started_pids=()   # every process started here: stop_started ends them whatever the way out
work="" pgdata="" pg_server_pid=""

find_pg_bindir() {
  local bin
  for bin in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r) $(pg_config --bindir 2>/dev/null || true); do
    if [ -x "$bin/initdb" ] && [ -x "$bin/pg_ctl" ] && [ -x "$bin/pgbench" ] && [ -x "$bin/psql" ]; then
      echo "$bin"; return 0
    fi
  done
  return 1
}

require_postgres() {
  pgbin=$(find_pg_bindir) || { "$root/bin/install-prerequisites" && pgbin=$(find_pg_bindir); } \
    || die "no PostgreSQL server binaries found after bin/install-prerequisites"
  command -v java >/dev/null || "$root/bin/install-prerequisites"
}

require_pgbouncer() {
  pgbouncer_bin=$(command -v pgbouncer || ls /usr/sbin/pgbouncer 2>/dev/null || true)
  [ -z "$pgbouncer_bin" ] || return 0
  say "installing pgbouncer (Debian package)"
  local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends pgbouncer >&2
  pgbouncer_bin=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)
  [ -x "$pgbouncer_bin" ] || die "pgbouncer is still missing after apt-get install"
}

# as_service is a command prefix, not a function: setpriv execs (no intermediate process), so $!
# of a service started in the background is the service's own pid, where a function run with &
# would be a subshell whose pid is not the server's.
service_user() {
  as_service=()
  if [ "$(id -u)" -eq 0 ]; then
    id -u postgres >/dev/null 2>&1 || "$root/bin/install-prerequisites"
    as_service=(setpriv --reuid=postgres --regid=postgres --init-groups env HOME=/tmp)
  fi
}

make_workdir() {  # prefix
  work=$(mktemp -d "/tmp/$1.XXXXXX")
  chmod 0755 "$work"
  # The services write their logs here as the postgres user.
  if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$work"; fi
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# Below the kernel's ephemeral range (ip_local_port_range): under load, outgoing connections take
# source ports from that range, and one of them could take a port picked there between this check
# and the service's bind. Free means nothing listens on it now; the starts retry on a port taken
# meanwhile all the same (start_cluster and start_pgbouncer here, the scripts' pgpolicy starts).
ephemeral_low=$(awk '{ print $1 }' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
[ "$ephemeral_low" -gt 12000 ] 2>/dev/null || ephemeral_low=32768
free_port() {
  local p
  while :; do
    p=$((10000 + RANDOM % (ephemeral_low - 10000)))
    port_in_use "$p" || { echo "$p"; return; }
  done
}

init_cluster() {  # initdb-log
  local log=$1
  export PGPASSWORD="bench-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
  pgdata="$work/pgdata"
  mkdir -p "$pgdata" "$work/sock"
  printf '%s\n' "$PGPASSWORD" >"$work/pwfile"
  chmod 0644 "$work/pwfile"
  if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$pgdata" "$work/sock"; fi
  chmod 0700 "$pgdata"
  "${as_service[@]}" "$pgbin/initdb" -D "$pgdata" -U bench --pwfile="$work/pwfile" -A scram-sha-256 \
    -E UTF8 --locale=C >"$log" 2>&1 || { cat "$log" >&2; die "initdb failed"; }
}

start_cluster() {  # pg_ctl-timeout-seconds server-options
  local timeout=$1 options=$2 attempt
  for attempt in 1 2 3 4 5; do
    if "${as_service[@]}" "$pgbin/pg_ctl" -D "$pgdata" -l "$work/postgres.log" -w -t "$timeout" start -o \
        "-p $pg_port -c listen_addresses=127.0.0.1 -k $work/sock $options" >/dev/null 2>&1; then
      pg_server_pid=$(head -n 1 "$pgdata/postmaster.pid")
      return 0
    fi
    grep -q 'Address already in use' "$work/postgres.log" || break
    pg_port=$(free_port)
    say "port taken meanwhile, PostgreSQL on 127.0.0.1:$pg_port instead"
  done
  tail -n 20 "$work/postgres.log" >&2
  die "PostgreSQL did not start"
}

wait_ready() {  # port pid
  local p=$1 pid=$2
  for _ in $(seq 1 300); do
    kill -0 "$pid" 2>/dev/null || return 1
    "$pgbin/psql" -X -p "$p" -qAt -c "SELECT 1" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  return 1
}

start_pgbouncer() {  # max_client_conn default_pool_size
  mkdir -p "$work/pgbouncer"
  # The role's SCRAM verifier from pg_authid, not the plaintext: PgBouncer then checks the client's
  # proof against the stored keys and logs in upstream with the ClientKey recovered from that
  # proof, as recommended, instead of running PBKDF2 (4096 iterations) for every connection.
  local verifier attempt
  verifier=$("$pgbin/psql" -X -p "$pg_port" -qAt -c "SELECT rolpassword FROM pg_authid WHERE rolname = 'bench'")
  case "$verifier" in SCRAM-SHA-256\$*) ;; *) die "no SCRAM verifier for role bench" ;; esac
  printf '"bench" "%s"\n' "$verifier" >"$work/pgbouncer/userlist.txt"
  for attempt in 1 2 3 4 5; do
    bouncer_port=$(free_port)
    rm -f "$work/pgbouncer/pgbouncer.log"   # what this attempt logs, not the last one
    cat >"$work/pgbouncer/pgbouncer.ini" <<EOF
[databases]
bench = host=127.0.0.1 port=$pg_port dbname=bench

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $bouncer_port
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $work/pgbouncer/userlist.txt
pool_mode = session
max_client_conn = $1
default_pool_size = $2
pkt_buf = 65536
logfile = $work/pgbouncer/pgbouncer.log
log_connections = 0
log_disconnections = 0
ignore_startup_parameters = extra_float_digits
EOF
    if [ "$(id -u)" -eq 0 ]; then chown -R postgres:postgres "$work/pgbouncer"; fi
    "${as_service[@]}" "$pgbouncer_bin" "$work/pgbouncer/pgbouncer.ini" >"$work/pgbouncer/stdout.log" 2>&1 &
    bouncer_pid=$!
    started_pids+=("$bouncer_pid")
    wait_ready "$bouncer_port" "$bouncer_pid" && return 0
    stop_pid "$bouncer_pid"
    cat "$work/pgbouncer/stdout.log" "$work/pgbouncer/pgbouncer.log" 2>/dev/null | grep -q 'Address already in use' \
      && [ "$attempt" -lt 5 ] || break
    say "port taken meanwhile, PgBouncer on another port"
  done
  tail -n 30 "$work/pgbouncer/stdout.log" "$work/pgbouncer/pgbouncer.log" >&2
  die "PgBouncer did not start"
}

# bin/pgpolicy execs java, so pgpolicy_pid is the JVM itself: /proc, jcmd and signals reach it.
start_pgpolicy() {  # log port java-opts command...
  local log=$1 p=$2 java_opts=$3; shift 3
  PGPOLICY_JAVA_OPTS="$java_opts" "$@" >>"$log" 2>&1 &
  pgpolicy_pid=$!
  started_pids+=("$pgpolicy_pid")
  wait_ready "$p" "$pgpolicy_pid"
}

# The command name in /proc/PID/stat (field 2) may contain spaces, so fields are counted after the
# closing parenthesis; utime and stime are fields 14 and 15.
proc_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || echo 0; }

stop_pid() {  # pid
  local pid=$1
  [ -n "$pid" ] || return 0
  forget_pid "$pid"
  if kill -TERM "$pid" 2>/dev/null; then
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

# A process stopped before the end leaves started_pids: its pid may be reused by someone else's
# process by the time the script exits, and that one must not be signalled.
forget_pid() {  # pid
  local kept=() p
  for p in "${started_pids[@]}"; do [ "$p" = "$1" ] || kept+=("$p"); done
  started_pids=("${kept[@]}")
}

stop_started() {
  local pid
  # TERM to all first, so that they shut down side by side rather than one after the other.
  for pid in "${started_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  while [ ${#started_pids[@]} -gt 0 ]; do stop_pid "${started_pids[0]}"; done
}

stop_cluster() {
  if [ -n "$pgdata" ] && [ -f "$pgdata/postmaster.pid" ]; then
    "${as_service[@]}" "$pgbin/pg_ctl" -D "$pgdata" -m immediate -w stop >/dev/null 2>&1
  fi
  return 0
}

install_traps() {  # cleanup-function
  trap "$1" EXIT
  trap 'say "interrupted"; exit 130' INT
  trap 'say "terminated"; exit 143' TERM
}
