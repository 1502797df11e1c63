#!/usr/bin/env bash
# Propagation under load: from a weight PUT returning to the last request the gateway routed by the old weight.
# The probe (GatewayBench propagation) hosts both track backends, keeps the gateway busy and flips the weight between
# 0 and 10,000 bp FLIPS times; the lag per flip is the old track's last request minus the PUT's return.
#
#   bench/gateway/propagation.sh               # against the real RolloutApi (SQLite in a temp dir)
#   CONTROL=stub bench/gateway/propagation.sh  # against the routing stub (no persistence in the path)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

CONTROL=${CONTROL:-rollout-api}
FLIPS=${FLIPS:-100}
CONCURRENCY=${CONCURRENCY:-16}
STABLE_PORT=18181 CANARY_PORT=18182 GATEWAY_PORT=18191 CONTROL_PORT=18195
VIEWER_KEY=bench-viewer-key OPERATOR_KEY=bench-operator-key

ensure_tools curl
echo "bench: building (Release)"
publish Gateway "$OUT/gateway"
publish bench/gateway/GatewayBench "$OUT/bench"

if [ "$CONTROL" = "rollout-api" ]; then
  publish RolloutApi "$OUT/rollout-api"
  data=$(mktemp -d)
  start rollout-api env \
    ASPNETCORE_URLS="http://127.0.0.1:$CONTROL_PORT" ASPNETCORE_ENVIRONMENT=Production \
    RolloutApi__DatabasePath="$data/rollouts.db" \
    Auth__ApiKeys__viewer__Key=$VIEWER_KEY Auth__ApiKeys__viewer__Role=viewer \
    Auth__ApiKeys__operator__Key=$OPERATOR_KEY Auth__ApiKeys__operator__Role=operator \
    Agents__agent-worker__Stable__Destination=http://agent-stable Agents__agent-worker__Stable__Version=1.0.0 \
    Agents__agent-worker__Canary__Destination=http://agent-canary Agents__agent-worker__Canary__Version=1.1.0 \
    dotnet "$OUT/rollout-api/RolloutApi.dll" --contentRoot "$OUT/rollout-api"
  wait_for "RolloutApi" http_ok "http://127.0.0.1:$CONTROL_PORT/health"
else
  start stub dotnet "$OUT/bench/GatewayBench.dll" stub --port $CONTROL_PORT --weight 0
  wait_for "routing stub" http_ok "http://127.0.0.1:$CONTROL_PORT/api/routing"
fi

start gateway env \
  ASPNETCORE_URLS="http://127.0.0.1:$GATEWAY_PORT" ASPNETCORE_ENVIRONMENT=Production \
  Gateway__RolloutApi="http://127.0.0.1:$CONTROL_PORT" Gateway__ApiKey=$VIEWER_KEY \
  Gateway__Stable__Destination=http://agent-stable Gateway__Canary__Destination=http://agent-canary \
  services__agent-stable__http__0="http://127.0.0.1:$STABLE_PORT" \
  services__agent-canary__http__0="http://127.0.0.1:$CANARY_PORT" \
  dotnet "$OUT/gateway/Gateway.dll" --contentRoot "$OUT/gateway"
wait_for "gateway" http_ok "http://127.0.0.1:$GATEWAY_PORT/health"

echo "bench: propagation via $CONTROL, $FLIPS flips, $CONCURRENCY concurrent clients, $(nproc) cores"
dotnet "$OUT/bench/GatewayBench.dll" propagation \
  --gateway "http://127.0.0.1:$GATEWAY_PORT" --control "http://127.0.0.1:$CONTROL_PORT" --key $OPERATOR_KEY \
  --stable-port $STABLE_PORT --canary-port $CANARY_PORT --flips "$FLIPS" --concurrency "$CONCURRENCY"
