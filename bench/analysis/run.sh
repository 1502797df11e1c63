#!/usr/bin/env bash
# Analysis drill bench: real RolloutApi + gateway + two AgentWorkers (stable, canary) on 127.0.0.1, ~200 req/s of work
# items through the gateway (wrk, paced), a rollout at 10 % weight with the built-in background template `default`.
#  1. Bad canary: the revision's flag set makes the canary fail 20 % of its items. Measures the time from the 10 % weight
#     taking effect to the abort committed (both from RolloutApi's audit log) and the user-visible failures (5xx) during
#     the load episode as a share of all requests.
#  2. A/A: AA_RUNS rollouts of a healthy revision held AA_SECONDS each at 10 %; counts false aborts.
# Prints the load average with the numbers; stops only what it started.
#
#   flock /tmp/agentaspire-bench.lock bench/analysis/run.sh
#   AA_RUNS=5 AA_SECONDS=30 EPISODE_SECONDS=30 bench/analysis/run.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT="$ROOT/bench/out/analysis"
AA_RUNS=${AA_RUNS:-3}
AA_SECONDS=${AA_SECONDS:-30}
EPISODE_SECONDS=${EPISODE_SECONDS:-30}
API_PORT=${API_PORT:-18381}
GATEWAY_PORT=${GATEWAY_PORT:-18382}
STABLE_PORT=${STABLE_PORT:-18383}
CANARY_PORT=${CANARY_PORT:-18384}
AGENT=agent-worker
OPERATOR_KEY="bench-operator-$$-$RANDOM"
VIEWER_KEY="bench-viewer-$$-$RANDOM"
API="http://127.0.0.1:$API_PORT"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 ASPNETCORE_ENVIRONMENT=Production
command -v wrk >/dev/null || apt-get install -y wrk >/dev/null
command -v jq >/dev/null || apt-get install -y jq >/dev/null
mkdir -p "$OUT"
# shellcheck source=../lib/processes.sh
source "$ROOT/bench/lib/processes.sh"
api() { curl -fsS --max-time 10 -H "X-Api-Key: $OPERATOR_KEY" -H 'Content-Type: application/json' "$@"; }

echo "bench: building (Release)"
publish RolloutApi "$OUT/rollout-api"; publish Gateway "$OUT/gateway"; publish AgentWorker "$OUT/agent-worker"
rm -rf "$OUT/data" && mkdir -p "$OUT/data"
start rollout-api env ASPNETCORE_URLS="$API" RolloutApi__DatabasePath="$OUT/data/rollout-api.db" \
  Auth__ApiKeys__bench-operator__Key="$OPERATOR_KEY" Auth__ApiKeys__bench-operator__Role=operator \
  Auth__ApiKeys__bench-viewer__Key="$VIEWER_KEY" Auth__ApiKeys__bench-viewer__Role=viewer \
  Agents__${AGENT}__Stable__Destination="http://127.0.0.1:$STABLE_PORT" Agents__${AGENT}__Stable__Version=1.0.0 \
  Agents__${AGENT}__Canary__Destination="http://127.0.0.1:$CANARY_PORT" Agents__${AGENT}__Canary__Version=1.1.0 \
  Gateways__Urls__0="http://127.0.0.1:$GATEWAY_PORT" Logging__LogLevel__Default=Warning OTEL_EXPORTER_OTLP_ENDPOINT= \
  dotnet "$OUT/rollout-api/RolloutApi.dll" --contentRoot "$OUT/rollout-api"
wait_for rollout-api http_ok "$API/health"
for track in stable canary; do
  port=$([ $track = stable ] && echo $STABLE_PORT || echo $CANARY_PORT); version=$([ $track = stable ] && echo 1.0.0 || echo 1.1.0)
  start "agent-$track" env ASPNETCORE_URLS="http://127.0.0.1:$port" Agent__Name=$AGENT Agent__Track=$track Agent__Version=$version \
    Flags__RolloutApi="$API" Flags__ApiKey="$VIEWER_KEY" Flags__CachePath="$OUT/data/$track.json" \
    Logging__LogLevel__Default=Warning OTEL_EXPORTER_OTLP_ENDPOINT= dotnet "$OUT/agent-worker/AgentWorker.dll" --contentRoot "$OUT/agent-worker"
  wait_for "agent $track" http_ok "http://127.0.0.1:$port/health"
done
start gateway env ASPNETCORE_URLS="http://127.0.0.1:$GATEWAY_PORT" Gateway__Agent=$AGENT Gateway__RolloutApi="$API" Gateway__ApiKey="$VIEWER_KEY" \
  Gateway__Stable__Destination="http://127.0.0.1:$STABLE_PORT" Gateway__Canary__Destination="http://127.0.0.1:$CANARY_PORT" \
  Logging__LogLevel__Default=Warning OTEL_EXPORTER_OTLP_ENDPOINT= dotnet "$OUT/gateway/Gateway.dll" --contentRoot "$OUT/gateway"
wait_for gateway http_ok "http://127.0.0.1:$GATEWAY_PORT/gateway/routing"

revision() { # version, flags-json-or-empty → revision number
  local n; n=$(api -X POST "$API/api/agents/$AGENT/revisions" -d "{\"version\":\"$1\",\"imageTag\":\"$1\"}" | jq .number)
  [ -n "$2" ] && api -X PUT "$API/api/agents/$AGENT/revisions/$n/flags" -d "$2" >/dev/null
  echo "$n"
}
rollout() { # revision → rollout id (10 % and hold, background analysis `default`)
  api -X POST "$API/api/agents/$AGENT/rollouts" \
    -d "{\"revision\":$1,\"steps\":[{\"setWeight\":1000},{\"pause\":{}}],\"analysis\":{\"template\":\"default\"}}" | jq .id
}
state() { api "$API/api/agents/$AGENT/rollout" | jq -r .state; }
load() { DELAY_MS=100 timeout $(( $1 + 30 )) wrk -t2 -c20 -d"${1}s" -s "$ROOT/bench/analysis/load.lua" "http://127.0.0.1:$GATEWAY_PORT" 2>&1 | grep '^LOAD'; }
to_ms() { date -d "$1" +%s%3N; }

FAULTY='{"feature_management":{"feature_flags":[{"id":"FaultInjection","enabled":true,"variants":[{"name":"bad","configuration_value":{"failureRate":0.2}}],"allocation":{"default_when_enabled":"bad"}}]}}'
echo "bench: load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

# 1. The bad canary.
bad=$(revision 1.3.0-faulty "$FAULTY")
load "$EPISODE_SECONDS" >"$OUT/episode.txt" & LOAD_PID=$!
sleep 3
id=$(rollout "$bad")
for _ in $(seq 1 600); do [ "$(state)" = Aborted ] && break; sleep 0.1; done
wait $LOAD_PID || true
audit=$(api "$API/api/agents/$AGENT/audit?rolloutId=$id")
weight_at=$(echo "$audit" | jq -r '[.[] | select(.to.weight == 1000)] | min_by(.id) | .at')
abort_at=$(echo "$audit" | jq -r '[.[] | select(.action == "Aborted")][0].at')
total=$(sed -E 's/.*total=([0-9]+).*/\1/' "$OUT/episode.txt"); failures=$(sed -E 's/.*failures=([0-9]+).*/\1/' "$OUT/episode.txt")
echo "bad canary (20 % failing at 10 %): final state $(state); weight 10 % at $weight_at, abort committed at $abort_at"
echo "  time to abort: $(( $(to_ms "$abort_at") - $(to_ms "$weight_at") )) ms (goal <= 10000)"
echo "  user-visible failures: $failures of $total requests in the ${EPISODE_SECONDS}s episode = $(awk "BEGIN{printf \"%.3f\", 100*$failures/$total}") % (goal <= 0.5 %)"
echo "  reason: $(echo "$audit" | jq -r '[.[] | select(.action == "Aborted")][0].reason' | cut -c1-220)"
api -X PUT "$API/api/agents/$AGENT/forced-canary" -d '{"allowed":true}' >/dev/null || true

# 2. A/A: healthy revisions, held at 10 % for AA_SECONDS each.
false_aborts=0
for i in $(seq 1 "$AA_RUNS"); do
  good=$(revision "2.0.$i" "")
  load "$AA_SECONDS" >"$OUT/aa-$i.txt" & LOAD_PID=$!
  sleep 2
  rollout "$good" >/dev/null
  wait $LOAD_PID || true
  s=$(state); [ "$s" = Aborted ] && false_aborts=$((false_aborts + 1))
  echo "A/A run $i: $s after ${AA_SECONDS}s at 10 % ($(cat "$OUT/aa-$i.txt"))"
  [ "$s" = Aborted ] || api -X POST "$API/api/agents/$AGENT/rollout/abort" -d '{"reason":"bench A/A run done"}' >/dev/null
done
echo "A/A false aborts: $false_aborts of $AA_RUNS runs"
echo "bench: load average after: $(cut -d' ' -f1-3 /proc/loadavg) (other processes on this machine count too)"
