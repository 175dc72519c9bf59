#!/usr/bin/env bash
# Runs every test: installs what is missing, starts the local infrastructure (unless already running),
# builds once, runs the test projects in parallel (each owns its databases and RabbitMQ virtual host),
# stops what it started, and exits non-zero if anything failed.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"
source scripts/config.sh

RESULTS="$ROOT/artifacts/test-results"
JOBS="${STITCHFIN_TEST_JOBS:-4}"
log() { printf '[test] %s\n' "$*" >&2; }

install_missing() {
  local need=()
  command -v espeak-ng >/dev/null || need+=(espeak-ng)
  command -v curl >/dev/null || need+=(curl)
  command -v docker-compose >/dev/null || need+=(docker-compose)
  command -v chromium >/dev/null || need+=(chromium)
  command -v node >/dev/null || need+=(nodejs npm)
  [ ${#need[@]} -eq 0 ] && return 0
  log "installing ${need[*]} from apt"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
}

infra_was_running=0
scripts/infra.sh running && infra_was_running=1
cleanup() { [ $infra_was_running = 1 ] || scripts/infra.sh stop; }
trap cleanup EXIT

install_missing
scripts/infra.sh start || exit 1
eval "$(scripts/infra.sh env)"

log "building"
dotnet build StitchFin.sln -c Release -nologo -v quiet -clp:ErrorsOnly || { log "build failed"; exit 1; }

rm -rf "$RESULTS"; mkdir -p "$RESULTS"

# The dashboard: install, component tests, build (the edge serves web/dist; the browser test needs it).
log "web: install, test, build"
web_ok=1
( cd web && npm ci --no-audit --no-fund --loglevel=error && npm test && npm run build ) > "$RESULTS/web.log" 2>&1 || web_ok=0
web_summary=$(sed 's/\x1b\[[0-9;]*m//g' "$RESULTS/web.log" | grep -E '^ *Tests +[0-9]' | tail -1)
web_passed=$(sed -nE 's/.* ([0-9]+) passed.*/\1/p' <<< "$web_summary")
web_failed=$(sed -nE 's/.*Tests +([0-9]+) failed.*/\1/p' <<< "$web_summary")
mapfile -t projects < <(find services tests -name '*Tests.csproj' | sort)
# Projects that rebuild or publish run after the others, alone, so they never rewrite binaries in use.
SERIAL=(tests/StitchFin.Deploy.Tests/StitchFin.Deploy.Tests.csproj)
mapfile -t parallel < <(printf '%s\n' "${projects[@]}" | grep -vxF -f <(printf '%s\n' "${SERIAL[@]}"))
log "running ${#projects[@]} test projects, $JOBS at a time"

run_project() {
  local proj=$1 name; name=$(basename "$proj" .csproj)
  dotnet test "$proj" -c Release --no-build -nologo --logger "trx;LogFileName=$name.trx" \
    --results-directory "$RESULTS/$name" > "$RESULTS/$name.log" 2>&1
  echo $? > "$RESULTS/$name.exit"
}

for proj in "${parallel[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do sleep 0.5; done
  run_project "$proj" &
done
wait
for proj in "${SERIAL[@]}"; do run_project "$proj"; done

passed=${web_passed:-0}; failed=${web_failed:-0}; broken=0
if [ $web_ok = 0 ]; then broken=1; log "web FAILED; its output:"; tail -n 60 "$RESULTS/web.log"; else log "web: ${web_passed:-0} passed"; fi
for proj in "${projects[@]}"; do
  name=$(basename "$proj" .csproj)
  line=$(grep -E '^(Passed|Failed)!' "$RESULTS/$name.log" | tail -1)
  p=$(sed -nE 's/.*Passed: +([0-9]+).*/\1/p' <<< "$line"); f=$(sed -nE 's/.*Failed: +([0-9]+).*/\1/p' <<< "$line")
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
  if [ "$(cat "$RESULTS/$name.exit")" != 0 ]; then
    broken=$((broken + 1))
    log "$name FAILED; its output:"
    grep -vE '^\s*$' "$RESULTS/$name.log" | tail -n 80
  else
    log "$name: $line"
  fi
done

[ -f "$RESULTS/fault-summary.txt" ] && cat "$RESULTS/fault-summary.txt"
echo "$passed passed, $failed failed"
[ $broken -eq 0 ] && [ $failed -eq 0 ] && [ $passed -gt 0 ]
