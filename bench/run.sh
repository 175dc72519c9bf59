#!/usr/bin/env bash
# Load benchmark of the whole system: builds Release, starts the local infrastructure, and runs bench/LoadBench,
# which starts its own isolated copy of the services on free ports (never 8080) and stops it at the end.
#   bench/run.sh                       fast vendors, 32 clients, 20 s (see --help for every option)
#   bench/run.sh --mode default        the vendors' default latencies and faults
#   bench/run.sh --quick               every section briefly, for smoke tests
#   bench/run.sh --open-loop --capacity 390 --phases 50%:60s,200%:60s,25%:60s
#                                      an offered rate in phases, per-interval rows (see bench/LoadBench/README.md)
#   bench/run.sh > bench.md            Markdown tables on stdout, progress on stderr
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
log() { printf '[bench] %s\n' "$*" >&2; }

command -v dotnet >/dev/null || { log "error: the .NET 10 SDK is required (https://dot.net)"; exit 1; }
log "building (Release)"
dotnet build StitchFin.sln -c Release -nologo -v quiet -clp:ErrorsOnly >&2

infra_was_running=1
scripts/infra.sh running || infra_was_running=0
scripts/infra.sh start
cleanup() { [ $infra_was_running = 1 ] || scripts/infra.sh stop; }
trap cleanup EXIT

# Every .NET process here (the bench and, through run.sh, each service) inherits this. By default idle thread-pool
# workers spin-wait; with six services and the load generator sharing two cores, that spinning steals the CPU the
# busy process needs (10-16% of throughput in one measurement on such a machine).
export DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0

dotnet bench/LoadBench/bin/Release/net10.0/LoadBench.dll "$@"
