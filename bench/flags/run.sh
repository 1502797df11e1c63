#!/usr/bin/env bash
# Kill-switch propagation under load. A real RolloutApi (temporary SQLite file, API keys from the environment) and several
# real AgentWorker instances (stable and canary tracks, last-known cache in a temporary folder) on 127.0.0.1; the stable
# revision ships EnrichedOutput on. Every instance gets RATE requests/s (open loop) and LOAD closed-loop clients (LOAD>0
# saturates the machine: a stress figure) while the flag's kill switch is flipped FLIPS times (kill, restore, kill, ...).
# Per flip: the time from the kill call returning until EVERY instance has answered a request sent after that moment with
# the new behaviour ("basic" after a kill, "enriched" after a restore); also when the snapshot reached a plain stream
# subscriber, and whether any instance answered with the old behaviour after it had switched. Prints p50/p95/p99/max
# (goal: p99 < 100 ms) and writes every flip to bench/out/flags/flips.csv. Rerunnable; bounded (a few seconds of flips
# after the Release build; every wait has a deadline). Other work on the machine shows in the tails: the load average
# before and after is printed with the numbers.
#
#   bench/flags/run.sh
#   FLIPS=400 STABLE_INSTANCES=3 CANARY_INSTANCES=1 RATE=200 bench/flags/run.sh
#   LOAD=2 bench/flags/run.sh          # plus two closed-loop clients per instance: every core busy
#   AGENT_ENV="DOTNET_gcServer=0" bench/flags/run.sh   # extra environment for every AgentWorker (API_ENV: RolloutApi)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT="$ROOT/bench/out/flags"
FLIPS=${FLIPS:-200}
WARMUP=${WARMUP:-10}
STABLE_INSTANCES=${STABLE_INSTANCES:-2}
CANARY_INSTANCES=${CANARY_INSTANCES:-1}
RATE=${RATE:-100}               # open-loop requests per second per instance, besides the probes
LOAD=${LOAD:-0}                 # closed-loop clients per instance (as fast as the instance answers)
TIMEOUT_MS=${TIMEOUT_MS:-5000}  # a flip that takes longer counts as failed
API_PORT=${API_PORT:-18181}
AGENT_BASE_PORT=${AGENT_BASE_PORT:-18190}
AGENT_ENV=${AGENT_ENV:-}
API_ENV=${API_ENV:-}
AGENT=agent-worker
OPERATOR_KEY="bench-operator-$$-$RANDOM"
VIEWER_KEY="bench-viewer-$$-$RANDOM"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 ASPNETCORE_ENVIRONMENT=Production
mkdir -p "$OUT"
# shellcheck source=../lib/processes.sh
source "$ROOT/bench/lib/processes.sh"

echo "bench: building (Release)"
publish RolloutApi "$OUT/rollout-api"
publish AgentWorker "$OUT/agent-worker"
publish bench/flags/FlagsBench "$OUT/bench"

rm -rf "$OUT/data" "$OUT/cache"
mkdir -p "$OUT/data" "$OUT/cache"
first_stable="http://127.0.0.1:$AGENT_BASE_PORT"
first_canary="http://127.0.0.1:$((AGENT_BASE_PORT + STABLE_INSTANCES))"
api_env=(
  ASPNETCORE_URLS="http://127.0.0.1:$API_PORT"
  RolloutApi__DatabasePath="$OUT/data/rollout-api.db"
  Auth__ApiKeys__bench-operator__Key="$OPERATOR_KEY" Auth__ApiKeys__bench-operator__Role=operator
  Auth__ApiKeys__bench-viewer__Key="$VIEWER_KEY" Auth__ApiKeys__bench-viewer__Role=viewer
  Agents__${AGENT}__Stable__Destination="$first_stable" Agents__${AGENT}__Stable__Version=1.0.0
  Agents__${AGENT}__Canary__Destination="$first_canary" Agents__${AGENT}__Canary__Version=1.1.0
  Logging__LogLevel__Default=Warning
)
# shellcheck disable=SC2206 # word splitting is the point: AGENT_ENV/API_ENV hold NAME=value pairs
api_env+=($API_ENV)
agent_env=($AGENT_ENV)
flags_served() { http_ok -H "X-Api-Key: $VIEWER_KEY" "http://127.0.0.1:$API_PORT/api/agents/$AGENT/flags?track=stable" 2>/dev/null; }

start rollout-api env "${api_env[@]}" dotnet "$OUT/rollout-api/RolloutApi.dll" --contentRoot "$OUT/rollout-api"
wait_for "rollout-api" http_ok "http://127.0.0.1:$API_PORT/health"
wait_for "flag endpoints" flags_served

agents=()
port=$AGENT_BASE_PORT
for track in stable canary; do
  count=$([ "$track" = stable ] && echo "$STABLE_INSTANCES" || echo "$CANARY_INSTANCES")
  version=$([ "$track" = stable ] && echo 1.0.0 || echo 1.1.0)
  for i in $(seq 1 "$count"); do
    start "agent-$track-$i" env \
      ASPNETCORE_URLS="http://127.0.0.1:$port" \
      Agent__Name=$AGENT Agent__Track="$track" Agent__Version="$version" \
      Flags__RolloutApi="http://127.0.0.1:$API_PORT" Flags__ApiKey="$VIEWER_KEY" \
      Flags__CachePath="$OUT/cache/$track-$i.json" \
      Logging__LogLevel__Default=Warning "${agent_env[@]}" \
      dotnet "$OUT/agent-worker/AgentWorker.dll" --contentRoot "$OUT/agent-worker"
    agents+=("http://127.0.0.1:$port")
    port=$((port + 1))
  done
done
for url in "${agents[@]}"; do wait_for "agent $url" http_ok "$url/health"; done

echo "bench: $STABLE_INSTANCES stable + $CANARY_INSTANCES canary AgentWorker instances: ${agents[*]}; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
set +e
timeout 600 dotnet "$OUT/bench/FlagsBench.dll" measure \
  --api "http://127.0.0.1:$API_PORT" --operator-key "$OPERATOR_KEY" --viewer-key "$VIEWER_KEY" --agent "$AGENT" \
  --agents "$(IFS=,; echo "${agents[*]}")" --flips "$FLIPS" --warmup "$WARMUP" --rate "$RATE" --load "$LOAD" --timeout-ms "$TIMEOUT_MS" \
  --out "$OUT/flips.csv" | tee "$OUT/results.txt"
status=${PIPESTATUS[0]}
set -e
echo "bench: load average after: $(cut -d' ' -f1-3 /proc/loadavg) (other processes on this machine count too)"
exit "$status"
