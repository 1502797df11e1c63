#!/usr/bin/env bash
# Usage: bench/first-hour/start-stop.sh [apphost args...]   (from the repository root, after `dotnet build AgentAspire.sln`)
# Starts the built AppHost the way a terminal does (job control: own process group), times start -> rollout-api,
# upstream-api and gateway /health 200, runs $PRE_STOP, then Ctrl-C (SIGINT to the process group) and polls every 0.1 s
# until every process of the app (dotnet run, AppHost, DCP and all its descendants, the services) is gone.
# Prints when each process went, and the load average beside the numbers. The ports are fixed: one app at a time.
set -u
set -m
WT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$WT"
LOG=${LOG:-/tmp/agentaspire-start-stop.log}
: > $LOG
start=$(date +%s.%N)
dotnet run --project AppHost --no-build -- "$@" > $LOG 2>&1 &
PID=$!
healthy() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$1" 2>/dev/null)" = 200 ]; }
ok=0
for i in $(seq 1 1800); do
  if healthy http://localhost:5110/health && healthy http://localhost:5150/health && healthy http://localhost:5120/health; then ok=1; break; fi
  sleep 0.1
done
t_healthy=$(echo "$(date +%s.%N) - $start" | bc)
echo "healthy=$ok after ${t_healthy}s (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
${PRE_STOP:-true}
APPHOST=$(pgrep -f "$WT/AppHost/bin/.*/AppHost" | head -1)
desc() { local p; for p in $(pgrep -P "$1"); do echo "$p"; desc "$p"; done; }
DCP=$(pgrep -f "dcp start-apiserver --monitor $APPHOST ")
PIDS="$PID $(desc $PID) $DCP $(for d in $DCP; do desc $d; done) $(pgrep -f "$WT/[A-Za-z]*/bin/")"
PIDS=$(echo $PIDS | tr ' ' '\n' | sort -un | tr '\n' ' ')
declare -A NAME
for p in $PIDS; do NAME[$p]=$(ps -o args= -p $p | sed -E 's#^(/[^ ]*/)?([^ ]+)( ([a-zA-Z/.-]+))?.*#\2 \4#' | sed -E 's#/[^ ]*/bin/[^ ]*/##' | cut -c1-60); done
echo "app processes: $(echo $PIDS | wc -w)"
declare -A GONE
stop=$(date +%s.%N)
kill -INT -- -$PID
for i in $(seq 1 600); do
  n=0
  for p in $PIDS; do
    [ -n "${GONE[$p]:-}" ] && continue
    if [ -d /proc/$p ] && ! grep -q '^State:.*Z' /proc/$p/status 2>/dev/null; then n=$((n+1)); else GONE[$p]=$(echo "$(date +%s.%N) - $stop" | bc); fi
  done
  [ "$n" -eq 0 ] && break
  sleep 0.1
done
t_gone=$(echo "$(date +%s.%N) - $stop" | bc)
wait $PID 2>/dev/null
for p in $PIDS; do echo "  ${GONE[$p]:-alive} $p ${NAME[$p]}"; done | sort -n
echo "Ctrl-C -> every app process gone after ${t_gone}s (left: $n) (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
exit 0
