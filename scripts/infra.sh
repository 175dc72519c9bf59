#!/usr/bin/env bash
# Local PostgreSQL 15 and RabbitMQ 3.10 as plain processes on private ports, data under .local/ (git-ignored).
#   scripts/infra.sh start|stop|status|env       the project's main instance
#   scripts/infra.sh running                     exits 0 when both run (scripts stop only what they started)
#   scripts/infra.sh rabbitmq start|stop|kill NAME PORT   an extra broker node (tests that stop a broker use their own)
#   scripts/infra.sh postgres start|stop|kill|purge NAME PORT   an extra PostgreSQL server (tests that crash the database
#                                                use their own); kill is SIGKILL (a crash), purge stops it and deletes its data
# Idempotent: start on a running instance does nothing; stop on a stopped one does nothing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/config.sh
source "$ROOT/scripts/config.sh"
STATE="$ROOT/.local/infra"
PG_DIR="$STATE/postgres"
PG_BIN="$(ls -d /usr/lib/postgresql/15/bin 2>/dev/null || true)"
RMQ_BIN=/usr/lib/rabbitmq/bin

log() { printf '[infra] %s\n' "$*" >&2; }
die() { printf '[infra] error: %s\n' "$*" >&2; exit 1; }

port_taken() { [ -n "$(ss -Htln "sport = :$1" 2>/dev/null)" ]; }

install_missing() {
  local need=()
  [ -x /usr/lib/postgresql/15/bin/postgres ] || need+=(postgresql-15)
  [ -x "$RMQ_BIN/rabbitmq-server" ] || need+=(rabbitmq-server)
  command -v ss >/dev/null || need+=(iproute2)
  # run.sh derives each service's identity keys with it.
  command -v openssl >/dev/null || need+=(openssl)
  [ ${#need[@]} -eq 0 ] && return 0
  [ "$(id -u)" -eq 0 ] || die "missing ${need[*]}; run as root or install them with apt-get"
  log "installing ${need[*]} from apt"
  # Debian would start them as system services; we run our own private instances instead.
  if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; fi
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  PG_BIN=/usr/lib/postgresql/15/bin
}

as_postgres() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

# A PostgreSQL server with its data under DIR, listening on 127.0.0.1:PORT (socket in DIR/socket).
pg_running() { [ -f "$1/data/postmaster.pid" ] && as_postgres "$PG_BIN/pg_ctl" -D "$1/data" status >/dev/null 2>&1; }

pg_start() {
  local dir=$1 port=$2
  if pg_running "$dir"; then log "postgres already running on $port"; return 0; fi
  port_taken "$port" && die "port $port (PostgreSQL) is taken by another process; set STITCHFIN_PG_PORT"
  mkdir -p "$dir/socket"
  [ "$(id -u)" -eq 0 ] && chown -R postgres:postgres "$dir"
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    log "initialising postgres in $dir/data"
    local pwfile="$dir/pwfile"
    printf '%s\n' "$STITCHFIN_PG_PASSWORD" > "$pwfile"
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$pwfile"
    as_postgres "$PG_BIN/initdb" -D "$dir/data" -U "$STITCHFIN_PG_USER" --auth=scram-sha-256 \
      --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8 >/dev/null
    rm -f "$pwfile"
  fi
  # After a crash the server replays its WAL before it accepts connections; -w waits for that too.
  as_postgres "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 120 \
    -o "-p $port -k $dir/socket -c listen_addresses=127.0.0.1 -c max_connections=400 -c fsync=${STITCHFIN_PG_FSYNC:-on}" start >/dev/null \
    || die "postgres did not start; see $dir/postgres.log"
  log "postgres ready on 127.0.0.1:$port"
}

pg_stop() {
  if pg_running "$1"; then as_postgres "$PG_BIN/pg_ctl" -D "$1/data" -m fast -w stop >/dev/null; log "postgres stopped"; fi
}

# A crash: SIGKILL to the postmaster and to every server process it started, all at once, so none of them finishes
# or flushes anything after it. The postmaster is frozen first so that it starts no process while they are listed.
pg_kill() {
  local dir=$1 pid children
  pg_running "$dir" || return 0
  pid=$(head -1 "$dir/data/postmaster.pid")
  kill -STOP "$pid"
  children=$(pgrep -P "$pid" || true)
  # shellcheck disable=SC2086
  kill -KILL "$pid" $children 2>/dev/null || true
  for _ in $(seq 1 100); do
    # shellcheck disable=SC2086
    kill -0 "$pid" $children 2>/dev/null || break
    sleep 0.1
  done
  log "postgres ${dir##*/} killed (SIGKILL)"
}

# RabbitMQ node NAME on AMQP PORT; management on PORT+1, Erlang distribution on PORT+2, its own epmd on PORT+3.
rmq_env() {
  local name=$1 port=$2 base="$STATE/rabbitmq-$1"
  export HOME="$base" RABBITMQ_NODENAME="stitchfin-$name@localhost" RABBITMQ_NODE_PORT="$port" \
    RABBITMQ_DIST_PORT="$((port + 2))" ERL_EPMD_PORT="$((port + 3))" RABBITMQ_BASE="$base" \
    RABBITMQ_MNESIA_BASE="$base/mnesia" RABBITMQ_LOG_BASE="$base/log" RABBITMQ_PID_FILE="$base/rabbitmq.pid" \
    RABBITMQ_CONFIG_FILE="$base/rabbitmq.conf" RABBITMQ_ENABLED_PLUGINS_FILE="$base/enabled_plugins" \
    RABBITMQ_CONF_ENV_FILE="$base/rabbitmq-env.conf" RABBITMQ_ADVANCED_CONFIG_FILE="$base/advanced.config"
}

rmq_running() { ( rmq_env "$1" "$2"; [ -f "$RABBITMQ_PID_FILE" ] && kill -0 "$(cat "$RABBITMQ_PID_FILE")" 2>/dev/null ); }

rmq_start() {
  local name=$1 port=$2
  if rmq_running "$name" "$port"; then log "rabbitmq $name already running on $port"; return 0; fi
  local p; for p in "$port" "$((port + 1))" "$((port + 2))" "$((port + 3))"; do
    port_taken "$p" && die "port $p (RabbitMQ $name) is taken by another process; set STITCHFIN_RABBITMQ_PORT"
  done
  (
    rmq_env "$name" "$port"
    mkdir -p "$RABBITMQ_MNESIA_BASE" "$RABBITMQ_LOG_BASE"
    [ -f "$HOME/.erlang.cookie" ] || { head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$HOME/.erlang.cookie"; chmod 400 "$HOME/.erlang.cookie"; }
    : > "$RABBITMQ_CONF_ENV_FILE"
    echo '[rabbitmq_management].' > "$RABBITMQ_ENABLED_PLUGINS_FILE"
    echo '[].' > "$RABBITMQ_ADVANCED_CONFIG_FILE"
    cat > "$RABBITMQ_CONFIG_FILE" <<CONF
listeners.tcp.1 = 127.0.0.1:$port
management.tcp.port = $((port + 1))
management.tcp.ip = 127.0.0.1
default_user = $STITCHFIN_RABBITMQ_USER
default_pass = $STITCHFIN_RABBITMQ_PASSWORD
default_vhost = /
default_user_tags.administrator = true
default_permissions.configure = .*
default_permissions.read = .*
default_permissions.write = .*
log.file.level = warning
CONF
    "$RMQ_BIN/rabbitmq-server" -detached >/dev/null 2>&1
    "$RMQ_BIN/rabbitmqctl" -q -n "$RABBITMQ_NODENAME" wait --timeout 90 "$RABBITMQ_PID_FILE" >/dev/null 2>&1 \
      || die "rabbitmq $name did not start; see $RABBITMQ_LOG_BASE"
    # The management listener comes up a moment after the node; tests create vhosts through it.
    for _ in $(seq 1 100); do
      curl -fsS -u "$STITCHFIN_RABBITMQ_USER:$STITCHFIN_RABBITMQ_PASSWORD" "http://127.0.0.1:$((port + 1))/api/overview" >/dev/null 2>&1 && break
      sleep 0.2
    done
  )
  log "rabbitmq $name ready on 127.0.0.1:$port (management :$((port + 1)))"
}

rmq_stop() {
  local name=$1 port=$2
  (
    rmq_env "$name" "$port"
    if [ -f "$RABBITMQ_PID_FILE" ] && kill -0 "$(cat "$RABBITMQ_PID_FILE")" 2>/dev/null; then
      local pid; pid=$(cat "$RABBITMQ_PID_FILE")
      "$RMQ_BIN/rabbitmqctl" -q -n "$RABBITMQ_NODENAME" stop "$RABBITMQ_PID_FILE" >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
      rm -f "$RABBITMQ_PID_FILE"
      echo "stopped" >&2
    fi
    epmd -port "$ERL_EPMD_PORT" -kill >/dev/null 2>&1 || true
  ) 2>/dev/null | grep -q stopped && log "rabbitmq $name stopped" || true
}

# A crash of the node: SIGKILL to its Erlang VM. Its epmd is stopped as `stop` does, so `start` finds its ports free.
rmq_kill() {
  local name=$1 port=$2
  (
    rmq_env "$name" "$port"
    if [ -f "$RABBITMQ_PID_FILE" ] && kill -0 "$(cat "$RABBITMQ_PID_FILE")" 2>/dev/null; then
      local pid; pid=$(cat "$RABBITMQ_PID_FILE")
      kill -KILL "$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      rm -f "$RABBITMQ_PID_FILE"
    fi
    epmd -port "$ERL_EPMD_PORT" -kill >/dev/null 2>&1 || true
  )
  log "rabbitmq $name killed (SIGKILL)"
}

print_env() {
  cat <<ENV
export STITCHFIN_PG_HOST=127.0.0.1 STITCHFIN_PG_PORT=$STITCHFIN_PG_PORT STITCHFIN_PG_USER=$STITCHFIN_PG_USER STITCHFIN_PG_PASSWORD=$STITCHFIN_PG_PASSWORD
export STITCHFIN_RABBITMQ_HOST=127.0.0.1 STITCHFIN_RABBITMQ_PORT=$STITCHFIN_RABBITMQ_PORT STITCHFIN_RABBITMQ_USER=$STITCHFIN_RABBITMQ_USER STITCHFIN_RABBITMQ_PASSWORD=$STITCHFIN_RABBITMQ_PASSWORD
ENV
}

case "${1:-}" in
  start) install_missing; pg_start "$PG_DIR" "$STITCHFIN_PG_PORT"; rmq_start main "$STITCHFIN_RABBITMQ_PORT" ;;
  stop) pg_stop "$PG_DIR"; rmq_stop main "$STITCHFIN_RABBITMQ_PORT" ;;
  status)
    pg_running "$PG_DIR" && echo "postgres: running on $STITCHFIN_PG_PORT" || echo "postgres: stopped"
    rmq_running main "$STITCHFIN_RABBITMQ_PORT" && echo "rabbitmq: running on $STITCHFIN_RABBITMQ_PORT" || echo "rabbitmq: stopped" ;;
  running) pg_running "$PG_DIR" && rmq_running main "$STITCHFIN_RABBITMQ_PORT" ;;
  env) print_env ;;
  rabbitmq)
    [ $# -eq 4 ] || die "usage: $0 rabbitmq start|stop|kill NAME PORT"
    install_missing
    case "$2" in
      start) rmq_start "$3" "$4" ;; stop) rmq_stop "$3" "$4" ;; kill) rmq_kill "$3" "$4" ;;
      *) die "usage: $0 rabbitmq start|stop|kill NAME PORT" ;;
    esac ;;
  postgres)
    [ $# -eq 4 ] || die "usage: $0 postgres start|stop|kill|purge NAME PORT"
    [[ "$3" =~ ^[A-Za-z0-9_-]+$ ]] || die "a dedicated server's NAME is letters, digits, - and _"
    install_missing
    dir="$STATE/postgres-$3"
    case "$2" in
      start) pg_start "$dir" "$4" ;; stop) pg_stop "$dir" ;; kill) pg_kill "$dir" ;;
      purge) pg_stop "$dir"; pg_kill "$dir"; rm -rf "$dir" ;;
      *) die "usage: $0 postgres start|stop|kill|purge NAME PORT" ;;
    esac ;;
  *) echo "usage: $0 start|stop|status|running|env | rabbitmq start|stop|kill NAME PORT | postgres start|stop|kill|purge NAME PORT" >&2; exit 2 ;;
esac
