#!/usr/bin/env bash
# Runs the whole system locally behind the edge on http://127.0.0.1:${STITCHFIN_EDGE_PORT:-8080}.
#   ./run.sh                      install what is missing, start infrastructure, build, start every service; Ctrl-C stops all
#   ./run.sh up --detach          the same, but return once everything is ready (tests use this)
#   ./run.sh down                 stop every service this run directory started
#   ./run.sh stop|start|restart|kill SERVICE   one service on its own (kill sends SIGKILL, to stage crashes)
#   ./run.sh pause|resume SERVICE              freeze a service (SIGSTOP) and let it go on (SIGCONT), to stage a hang
#   ./run.sh status                            what runs, and how often each service was restarted after a crash
# Every service runs under a watcher of its own that restarts it when it exits without run.sh having been asked (a
# crash, an out-of-memory kill, a kill -9 from outside), after a backoff of 1 s doubling to 30 s; it logs each restart
# to the service's log and counts it in `status`. stop, kill, restart, down and the end of a foreground run are asked
# for, so they are never undone: `kill` stages a crash that stays down until `./run.sh start SERVICE`.
# Ports, database names and the RabbitMQ virtual host come from scripts/config.sh and can be overridden, so
# several isolated copies can run side by side (the end-to-end tests do). Any ASP.NET configuration
# variable (Section__Key=value) set in the environment at `up` reaches every service, and is kept for restarts.
# Services run as Production unless ASPNETCORE_ENVIRONMENT says otherwise, so they refuse secrets published in the
# repository: the admin key, identity signing key and API-key pepper come from the environment (STITCHFIN_ADMIN_KEY,
# STITCHFIN_IDENTITY_SIGNING_KEY, STITCHFIN_KEY_PEPPER) or are generated on the first start into .local/secrets.env.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"
source scripts/config.sh
source scripts/identity-keys.sh

SERVICES=(tenancy providers conversation metering voice gateway)
RUN_DIR="${STITCHFIN_RUN_DIR:-$ROOT/.local/run}"
CONFIGURATION="${STITCHFIN_CONFIGURATION:-Release}"
mkdir -p "$RUN_DIR"

log() { printf '[run] %s\n' "$*" >&2; }
die() { printf '[run] error: %s\n' "$*" >&2; exit 1; }

# Secrets from the environment, else the ones this checkout generated on its first start: random, kept in
# .local/secrets.env (git-ignored) so that restarts and `./run.sh start SERVICE` use the same ones.
load_secrets() {
  local file="$ROOT/.local/secrets.env"
  if [ -n "${STITCHFIN_ADMIN_KEY:-}" ] && [ -n "${STITCHFIN_IDENTITY_SIGNING_KEY:-}" ] && [ -n "${STITCHFIN_KEY_PEPPER:-}" ]; then
    return 0
  fi
  if [ ! -f "$file" ]; then
    mkdir -p "$ROOT/.local"
    local draft; draft=$(mktemp "$file.XXXXXX")
    local name; for name in STITCHFIN_ADMIN_KEY STITCHFIN_IDENTITY_SIGNING_KEY STITCHFIN_KEY_PEPPER; do
      printf ': "${%s:=%s}"\n' "$name" "$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')" >> "$draft"
    done
    # A link fails if the file exists: of two first starts at once, both then use the one that got there first.
    ln "$draft" "$file" 2>/dev/null || true
    rm -f "$draft"
    log "generated secrets into $file"
  fi
  # shellcheck source=/dev/null
  source "$file"
}

load_secrets

title() { tr '[:lower:]' '[:upper:]' <<< "${1:0:1}"; }
project() { local t; t="$(title "$1")${1:1}"; echo "services/$1/$t.Api"; }
assembly() { local t; t="$(title "$1")${1:1}"; echo "$(project "$1")/bin/$CONFIGURATION/net10.0/StitchFin.$t.Api.dll"; }

port_of() {
  case "$1" in
    gateway) echo "$STITCHFIN_EDGE_PORT" ;;
    tenancy) echo "$STITCHFIN_TENANCY_PORT" ;;
    conversation) echo "$STITCHFIN_CONVERSATION_PORT" ;;
    providers) echo "$STITCHFIN_PROVIDERS_PORT" ;;
    voice) echo "$STITCHFIN_VOICE_PORT" ;;
    metering) echo "$STITCHFIN_METERING_PORT" ;;
    *) die "unknown service '$1' (one of: ${SERVICES[*]})" ;;
  esac
}

url_of() { echo "http://127.0.0.1:$(port_of "$1")"; }

# The environment every service starts with: shared settings first, then the service's own.
service_env() {
  local s=$1
  local common=(
    "ASPNETCORE_URLS=$(url_of "$s")" "Urls=$(url_of "$s")"
    "ASPNETCORE_ENVIRONMENT=${ASPNETCORE_ENVIRONMENT:-Production}"
    "RabbitMq__Host=127.0.0.1" "RabbitMq__Port=$STITCHFIN_RABBITMQ_PORT" "RabbitMq__VirtualHost=$STITCHFIN_RABBITMQ_VHOST"
    "RabbitMq__Username=$STITCHFIN_RABBITMQ_USER" "RabbitMq__Password=$STITCHFIN_RABBITMQ_PASSWORD"
    "ConnectionStrings__Database=Host=127.0.0.1;Port=$STITCHFIN_PG_PORT;Database=${STITCHFIN_DB_PREFIX}_$s;Username=$STITCHFIN_PG_USER;Password=$STITCHFIN_PG_PASSWORD"
    "Services__Tenancy=$(url_of tenancy)" "Services__Conversation=$(url_of conversation)" "Services__Providers=$(url_of providers)"
    "Services__Voice=$(url_of voice)" "Services__Metering=$(url_of metering)"
    "Edge__DashboardPath=$ROOT/web/dist"
    "Providers__VendorA__BaseUrl=$(url_of providers)/vendors/vendor-a/v1/" "Providers__VendorB__BaseUrl=$(url_of providers)/vendors/vendor-b/v1/"
  )
  # Each secret only where it is used: the admin key at the edge, the pepper in tenancy.
  [ "$s" = tenancy ] && common+=("ApiKeys__Pepper=$STITCHFIN_KEY_PEPPER")
  if [ "$s" = gateway ]; then
    common+=("Edge__AdminKey=$STITCHFIN_ADMIN_KEY")
    local c; for c in tenancy conversation providers voice metering; do
      common+=("ReverseProxy__Clusters__${c}__Destinations__primary__Address=$(url_of "$c")/")
    done
  fi
  mapfile -t -O "${#common[@]}" common < <(identity_keys_env "$s")
  printf '%s\n' "${common[@]}"
}


pid_of() { local f="$RUN_DIR/$1.pid"; [ -f "$f" ] && cat "$f" || true; }
is_running() { local pid; pid=$(pid_of "$1"); [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; }
watcher_of() { local f="$RUN_DIR/$1.watcher.pid"; [ -f "$f" ] && cat "$f" || true; }
is_watched() { local pid; pid=$(watcher_of "$1"); [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; }
restarts_of() { local f="$RUN_DIR/$1.restarts"; [ -f "$f" ] && cat "$f" || echo 0; }

start_service() {
  local s=$1
  if is_running "$s" || is_watched "$s"; then log "$s already running (pid $(pid_of "$s"))"; return 0; fi
  [ -f "$(assembly "$s")" ] || die "$(assembly "$s") is missing; build first (./run.sh builds)"
  if [ -n "$(ss -Htln "sport = :$(port_of "$s")" 2>/dev/null)" ]; then die "port $(port_of "$s") for $s is taken by another process"; fi
  rm -f "$RUN_DIR/$s.pid"
  # The watcher runs in a session of its own, away from this script's terminal and output, so it outlives
  # `up --detach` and a Ctrl-C reaches only this script (which then stops everything in order).
  setsid "$ROOT/run.sh" watch "$s" < /dev/null >> "$RUN_DIR/$s.log" 2>&1 &
  echo $! > "$RUN_DIR/$s.watcher.pid"
  local waited; for waited in $(seq 1 100); do [ -s "$RUN_DIR/$s.pid" ] && break; sleep 0.05; done
  log "$s starting on $(url_of "$s") (pid $(pid_of "$s"), log $RUN_DIR/$s.log)"
}

# Starts the service as a child of the calling watcher; sets `child` and the pid file.
launch_service() {
  local s=$1
  local -a envs; mapfile -t envs < <(service_env "$s")
  # Overrides saved at `up` (Section__Key variables from the caller) win over the defaults.
  [ -f "$RUN_DIR/overrides.env" ] && mapfile -t -O "${#envs[@]}" envs < "$RUN_DIR/overrides.env"
  # The secrets this script holds are not inherited: a service gets only the ones service_env gives it.
  local -a unset=(); local name
  for name in $(compgen -v STITCHFIN_ | grep -E '^STITCHFIN_(ADMIN_KEY|IDENTITY_|KEY_PEPPER)'); do unset+=(-u "$name"); done
  (cd "$ROOT/$(project "$s")" && exec env "${unset[@]}" "${envs[@]}" setsid dotnet "$ROOT/$(assembly "$s")" >> "$RUN_DIR/$s.log" 2>&1) &
  child=$!
  echo "$child" > "$RUN_DIR/$s.pid"
}

# The watcher of one service (`run.sh watch SERVICE`, started by start_service): the service's parent, it restarts
# the service whenever it exits on its own, and stops it when stop_service asks (TERM: a stop, USR1: a SIGKILL). The
# traps only note what was asked; the loop acts on it, so a request that comes at any moment is carried out.
watch_service() {
  local s=$1 child="" asked="" delay=1 began status restarts
  note() { log "$(date -u +%FT%TZ) $*"; }
  trap 'asked=TERM' TERM INT HUP
  trap 'asked=KILL' USR1
  echo $$ > "$RUN_DIR/$s.watcher.pid"
  while true; do
    began=$SECONDS
    launch_service "$s"
    status=0
    while [ -z "$asked" ]; do
      # Returns when the service exits (with its status, even if it exited at once) or a trapped signal arrives; a
      # paused service does not end the wait.
      wait "$child" && status=0 || status=$?
      kill -0 "$child" 2>/dev/null || break
    done
    if [ -n "$asked" ]; then
      stop_pid "$child" "$asked"
      note "$s stopped ($asked), as asked"
      rm -f "$RUN_DIR/$s.pid"
      exit 0
    fi
    # A run that lasted a minute was a recovery: the next crash starts the backoff over.
    [ $((SECONDS - began)) -lt 60 ] || delay=1
    note "$s (pid $child) exited unexpectedly ($(exit_reason "$status")) after $((SECONDS - began)) s; restarting it in $delay s"
    sleep "$delay" & wait $! || true
    [ -z "$asked" ] || kill "$!" 2>/dev/null || true
    if [ -n "$asked" ]; then rm -f "$RUN_DIR/$s.pid"; exit 0; fi
    restarts=$(( $(restarts_of "$s") + 1 ))
    echo "$restarts" > "$RUN_DIR/$s.restarts"
    note "$s restart $restarts"
    delay=$(( delay * 2 < 30 ? delay * 2 : 30 ))
  done
}

exit_reason() {
  if [ "$1" -gt 128 ]; then echo "killed by SIG$(kill -l $(($1 - 128)) 2>/dev/null || echo $(($1 - 128)))"; else echo "exit code $1"; fi
}

# Signals a process and waits for it to end, at most 15 s before SIGKILL.
stop_pid() {
  local pid=$1 signal=$2
  kill -0 "$pid" 2>/dev/null || return 0
  kill "-$signal" "$pid" 2>/dev/null || true
  # A paused service gets the signal only once it runs again.
  kill -CONT "$pid" 2>/dev/null || true
  for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}

stop_service() {
  local s=$1 signal=${2:-TERM} pid watcher stopped=0
  watcher=$(watcher_of "$s")
  if [ -n "$watcher" ] && kill -0 "$watcher" 2>/dev/null; then
    # The watcher stops the service itself, so this exit is not taken for a crash.
    kill "-$([ "$signal" = KILL ] && echo USR1 || echo TERM)" "$watcher" 2>/dev/null || true
    for _ in $(seq 1 200); do kill -0 "$watcher" 2>/dev/null || break; sleep 0.1; done
    stopped=1
  fi
  rm -f "$RUN_DIR/$s.watcher.pid"
  # A service without a watcher (its watcher was killed, or an older run.sh started it).
  pid=$(pid_of "$s")
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then stop_pid "$pid" "$signal"; stopped=1; fi
  [ $stopped = 0 ] || log "$s stopped ($signal)"
  rm -f "$RUN_DIR/$s.pid"
}

# Why a service stopped during start: its unhandled exception, which names a refused setting for example (the stack
# trace after it fills the end of the log), then the end of its log.
start_failure() {
  local log="$RUN_DIR/$1.log"
  tail -n 200 "$log" | grep 'Unhandled exception\.' | tail -n 1 || true
  echo "last lines of its log:"
  tail -n 20 "$log"
}

signal_service() {
  local s=$1 signal=$2 pid
  pid=$(pid_of "$s")
  is_running "$s" || die "$s is not running"
  kill "-$signal" "$pid"
  log "$s sent SIG$signal (pid $pid)"
}

wait_ready() {
  local s=$1 deadline=$((SECONDS + ${2:-90}))
  until curl -fsS -o /dev/null "$(url_of "$s")/health/ready" 2>/dev/null; do
    if ! is_running "$s"; then
      # Its watcher would start it again and again: a failed start leaves nothing running.
      local why; why=$(start_failure "$s"); stop_service "$s"; die "$s exited during start: $why"
    fi
    [ $SECONDS -lt $deadline ] || die "$s not ready after ${2:-90}s; see $RUN_DIR/$s.log"
    sleep 0.3
  done
}

ensure_vhost() {
  [ "$STITCHFIN_RABBITMQ_VHOST" = "/" ] && return 0
  local api="http://127.0.0.1:$((STITCHFIN_RABBITMQ_PORT + 1))/api" auth="$STITCHFIN_RABBITMQ_USER:$STITCHFIN_RABBITMQ_PASSWORD"
  local v=$STITCHFIN_RABBITMQ_VHOST  # plain names only ([A-Za-z0-9_-]); no URL encoding needed
  curl -fsS -u "$auth" -X PUT "$api/vhosts/$v" >/dev/null
  curl -fsS -u "$auth" -X PUT -H 'content-type: application/json' -d '{"configure":".*","write":".*","read":".*"}' \
    "$api/permissions/$v/$STITCHFIN_RABBITMQ_USER" >/dev/null
}

build() {
  command -v dotnet >/dev/null || die "the .NET 10 SDK is required (https://dot.net); it is not in Debian's archive"
  if [ "${STITCHFIN_SKIP_BUILD:-0}" != 1 ]; then
    log "building ($CONFIGURATION)"
    dotnet build StitchFin.sln -c "$CONFIGURATION" -nologo -v quiet -clp:ErrorsOnly >&2 || die "build failed"
    build_dashboard
  fi
}

# The edge serves web/dist; build it when it is missing or older than its sources.
build_dashboard() {
  if [ -f web/dist/index.html ] && [ -z "$(find web/src web/index.html web/package.json -newer web/dist/index.html 2>/dev/null | head -1)" ]; then
    return 0
  fi
  if ! command -v npm >/dev/null; then
    [ "$(id -u)" -eq 0 ] || die "Node.js and npm are needed to build the dashboard"
    log "installing nodejs and npm from apt"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
  fi
  log "building the dashboard"
  (cd web && npm ci --no-audit --no-fund --loglevel=error && npm run build) >&2 || die "dashboard build failed"
}

down() { local i; for ((i=${#SERVICES[@]}-1; i>=0; i--)); do stop_service "${SERVICES[$i]}"; done; }

# The foreground run's end: its services, and the infrastructure if this run started it.
stop_all() { down; [ "${infra_was_running:-1}" = 1 ] || scripts/infra.sh stop; }

up() {
  local detach=${1:-}
  infra_was_running=1
  scripts/infra.sh running || infra_was_running=0
  # Tests that bring their own broker (to stop it on purpose) manage infrastructure themselves.
  [ "${STITCHFIN_SKIP_INFRA:-0}" = 1 ] || scripts/infra.sh start
  ensure_vhost
  build
  env | grep -E '^[A-Za-z][A-Za-z0-9]*__[A-Za-z0-9_.-]+=' > "$RUN_DIR/overrides.env" || true
  # Restarts are counted per run.
  rm -f "$RUN_DIR"/*.restarts
  if [ -z "$detach" ]; then
    # Ctrl-C stops everything; so does a failed start, which would otherwise leave half a system running.
    trap 'echo; log "stopping"; stop_all; exit 0' INT TERM
    trap 'status=$?; [ $status = 0 ] || { log "start failed; stopping what was started"; stop_all; }' EXIT
  fi
  local s; for s in "${SERVICES[@]}"; do start_service "$s"; done
  for s in "${SERVICES[@]}"; do wait_ready "$s"; done
  curl -fsS -o /dev/null "$(url_of gateway)/health/ready" || log "warning: the edge reports a service not ready yet"
  cat <<MSG

  StitchFin is running.
    Edge (API and dashboard):  $(url_of gateway)
    Admin key:                 $STITCHFIN_ADMIN_KEY
    Create a tenant:           curl -s -X POST $(url_of gateway)/tenants -H 'X-Admin-Key: $STITCHFIN_ADMIN_KEY' -H 'content-type: application/json' -d '{"name":"Acme"}'
    Logs:                      $RUN_DIR/<service>.log
MSG
  [ -n "$detach" ] && return 0
  echo "  Press Ctrl-C to stop everything."
  while true; do sleep 1 & wait $!; done
}

case "${1:-up}" in
  up) up "${2:-}" ;;
  down) down ;;
  start) port_of "${2:?service}" >/dev/null; start_service "$2"; wait_ready "$2" ;;
  stop) port_of "${2:?service}" >/dev/null; stop_service "$2" ;;
  kill) port_of "${2:?service}" >/dev/null; stop_service "$2" KILL ;;
  restart) port_of "${2:?service}" >/dev/null; stop_service "$2"; start_service "$2"; wait_ready "$2" ;;
  pause) port_of "${2:?service}" >/dev/null; signal_service "$2" STOP ;;
  resume) port_of "${2:?service}" >/dev/null; signal_service "$2" CONT ;;
  status)
    for s in "${SERVICES[@]}"; do
      if ! is_running "$s"; then
        if is_watched "$s"; then echo "$s: restarting after a crash, restarts: $(restarts_of "$s")"; else echo "$s: stopped"; fi
      elif [ "$(ps -o state= -p "$(pid_of "$s")")" = T ]; then echo "$s: paused (pid $(pid_of "$s")) $(url_of "$s"), restarts: $(restarts_of "$s")"
      else echo "$s: running (pid $(pid_of "$s")) $(url_of "$s"), restarts: $(restarts_of "$s")"; fi
    done ;;
  watch) port_of "${2:?service}" >/dev/null; watch_service "$2" ;;
  *) echo "usage: ./run.sh [up [--detach]|down|status|start|stop|restart|kill|pause|resume SERVICE]" >&2; exit 2 ;;
esac
