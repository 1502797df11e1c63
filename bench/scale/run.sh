#!/usr/bin/env bash
# Scale: one real RolloutApi (temporary SQLite file), GATEWAYS real gateway processes following its routing stream, and
# up to 1,000 simulated flag subscribers (one SSE connection each, like an agent's flag stream) in one ScaleBench
# process, all on 127.0.0.1. For each size in SIZES (cumulative) it measures: the every-flag kill switch reaching ALL
# subscribers (p50/p99/max over FLIPS flips, from the call's start), each subscriber's own arrival p99, an abort reaching
# all gateways (the call returns once every known gateway reported applying it; RolloutApi:GatewayAckTimeout is 10 s
# here so the duration is the real time, and the answer must say GATEWAYS/GATEWAYS), and RolloutApi's RSS and CPU.
# Goals: p99 <= 100 ms at 1,000 subscribers; memory linear, <= 50 KB per subscriber. Bounded (every wait has a
# deadline); stops only the processes it started; prints the load average with the numbers.
#
#   flock /tmp/agentaspire-bench.lock bench/scale/run.sh
#   SIZES=100,250,500,1000 FLIPS=40 ABORTS=10 GATEWAYS=4 bench/scale/run.sh
#   API_ENV="DOTNET_gcServer=0" bench/scale/run.sh     # extra environment for RolloutApi (NAME=value pairs)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT="$ROOT/bench/out/scale"
SIZES=${SIZES:-100,250,500,1000}
FLIPS=${FLIPS:-40}
ABORTS=${ABORTS:-10}
GATEWAYS=${GATEWAYS:-4}
API_ENV=${API_ENV:-}
API_PORT=${API_PORT:-18281}
GATEWAY_BASE_PORT=${GATEWAY_BASE_PORT:-18290}
AGENT=agent-worker
OPERATOR_KEY="bench-operator-$$-$RANDOM"
VIEWER_KEY="bench-viewer-$$-$RANDOM"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 ASPNETCORE_ENVIRONMENT=Production
ulimit -n 65536 2>/dev/null || true
mkdir -p "$OUT"
# shellcheck source=../lib/processes.sh
source "$ROOT/bench/lib/processes.sh"

echo "bench: building (Release)"
publish RolloutApi "$OUT/rollout-api"
publish Gateway "$OUT/gateway"
publish bench/scale/ScaleBench "$OUT/bench"

rm -rf "$OUT/data" && mkdir -p "$OUT/data"
start rollout-api env \
  ASPNETCORE_URLS="http://127.0.0.1:$API_PORT" \
  RolloutApi__DatabasePath="$OUT/data/rollout-api.db" \
  RolloutApi__GatewayAckTimeout=00:00:10 \
  Auth__ApiKeys__bench-operator__Key="$OPERATOR_KEY" Auth__ApiKeys__bench-operator__Role=operator \
  Auth__ApiKeys__bench-viewer__Key="$VIEWER_KEY" Auth__ApiKeys__bench-viewer__Role=viewer \
  Agents__${AGENT}__Stable__Destination="http://127.0.0.1:9" Agents__${AGENT}__Stable__Version=1.0.0 \
  Agents__${AGENT}__Canary__Destination="http://127.0.0.1:9" Agents__${AGENT}__Canary__Version=1.1.0 \
  Logging__LogLevel__Default=Warning OTEL_EXPORTER_OTLP_ENDPOINT= $API_ENV \
  dotnet "$OUT/rollout-api/RolloutApi.dll" --contentRoot "$OUT/rollout-api"
API_PID=${STARTED_PIDS[-1]}
wait_for "rollout-api" http_ok "http://127.0.0.1:$API_PORT/health"

for i in $(seq 1 "$GATEWAYS"); do
  port=$((GATEWAY_BASE_PORT + i))
  start "gateway-$i" env \
    ASPNETCORE_URLS="http://127.0.0.1:$port" \
    Gateway__Id="bench-gw-$i" Gateway__Agent=$AGENT Gateway__RolloutApi="http://127.0.0.1:$API_PORT" Gateway__ApiKey="$VIEWER_KEY" \
    Gateway__Stable__Destination="http://127.0.0.1:9" Gateway__Canary__Destination="http://127.0.0.1:9" \
    Logging__LogLevel__Default=Warning OTEL_EXPORTER_OTLP_ENDPOINT= \
    dotnet "$OUT/gateway/Gateway.dll" --contentRoot "$OUT/gateway"
  wait_for "gateway $i" http_ok "http://127.0.0.1:$port/gateway/routing"
done
wait_for "$GATEWAYS gateways to report" bash -c \
  "curl -fsS -H 'X-Api-Key: $VIEWER_KEY' http://127.0.0.1:$API_PORT/api/routing/gateways | grep -o '\"connected\":true' | wc -l | grep -qx $GATEWAYS"

echo "bench: RolloutApi pid $API_PID, $GATEWAYS gateways; sizes $SIZES, $FLIPS kill-switch flips and $ABORTS aborts per size"
echo "bench: load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
set +e
timeout 900 dotnet "$OUT/bench/ScaleBench.dll" \
  --api "http://127.0.0.1:$API_PORT" --operator-key "$OPERATOR_KEY" --viewer-key "$VIEWER_KEY" --agent "$AGENT" \
  --api-pid "$API_PID" --sizes "$SIZES" --flips "$FLIPS" --aborts "$ABORTS" | tee "$OUT/results.txt"
status=${PIPESTATUS[0]}
set -e
echo "bench: load average after: $(cut -d' ' -f1-3 /proc/loadavg) (other processes on this machine count too)"
# The issue's goals, read from the largest size's row (| size | p50 / p99 / max | ... | KB per subscriber | ...).
awk -F'|' '$2 ~ /^ *[0-9]+ *$/ { row = $0; size = $2 + 0; split($3, k, "/"); p99 = k[2] + 0; kb = $8 + 0 }
  END { if (row == "") exit;
        printf "GOAL kill switch -> all %d subscribers, p99 <= 100 ms: %.1f ms -- %s\n", size, p99, (p99 <= 100 ? "MET" : "NOT MET");
        printf "GOAL memory <= 50 KB per subscriber at %d: %.1f KB -- %s\n", size, kb, (kb <= 50 ? "MET" : "NOT MET") }' "$OUT/results.txt"
exit "$status"
