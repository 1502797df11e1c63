#!/usr/bin/env bash
# Throughput and latency of the gateway (YARP, every feature on) against nginx (split_clients over the same two
# backends) and against calling one backend directly: wrk with the same threads, connections and duration for all,
# 127.0.0.1 only. Rerunnable; bounded (about ROUNDS x 3 x (WARMUP + DURATION)).
#
#   bench/gateway/run.sh                      # defaults below
#   DURATION=10s CONNECTIONS=64 ROUNDS=3 bench/gateway/run.sh
#   GATEWAY_ENV="OTEL_TRACES_SAMPLER=parentbased_traceidratio OTEL_TRACES_SAMPLER_ARG=0.01" bench/gateway/run.sh
#   BACKEND=agentworker bench/gateway/run.sh  # the real AgentWorker as both tracks, wrk POSTs work items
#
# The gateway gets one long warm-up first (GATEWAY_WARMUP): tiered compilation with dynamic PGO needs tens of
# seconds of traffic on 2 busy cores before the code is final, and measuring earlier measures the JIT.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-5s}
GATEWAY_WARMUP=${GATEWAY_WARMUP:-30s}
GATEWAY_ENV=${GATEWAY_ENV:-}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-3}
WEIGHT=${WEIGHT:-1000}
BACKEND=${BACKEND:-static}      # static: two nginx static responders; agentworker: two real AgentWorker processes          # canary share in basis points, for both the gateway and nginx (10%)
STABLE_PORT=18081 CANARY_PORT=18082 NGINX_PORT=18090 GATEWAY_PORT=18091 STUB_PORT=18095

ensure_tools nginx wrk curl
echo "bench: building (Release)"
publish Gateway "$OUT/gateway"
publish bench/gateway/GatewayBench "$OUT/bench"

WRK_SCRIPT=()
REQUEST_PATH=/
if [ "$BACKEND" = agentworker ]; then
  publish AgentWorker "$OUT/agent"
  for track in stable canary; do
    port=$STABLE_PORT version=1.0.0
    [ $track = canary ] && port=$CANARY_PORT version=1.1.0
    start agent-$track env ASPNETCORE_URLS="http://127.0.0.1:$port" ASPNETCORE_ENVIRONMENT=Production \
      Agent__Name=agent-worker Agent__Track=$track Agent__Version=$version \
      dotnet "$OUT/agent/AgentWorker.dll" --contentRoot "$OUT/agent"
    [ $track = stable ] && BACKEND_PID=${STARTED_PIDS[-1]}
    wait_for "agent-$track" http_ok "http://127.0.0.1:$port/health"
  done
  # One synchronous work item per request, as the whole-app tests send them.
  cat >"$OUT/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"id":"item-1","kind":"text","payload":{"text":"hello from wrk"}}'
LUA
  WRK_SCRIPT=(-s "$OUT/post.lua")
  REQUEST_PATH=/api/items
else
  start_nginx backends "$(backends_conf $STABLE_PORT $CANARY_PORT)"
fi

# nginx as the reference proxy: weighted split over the same backends, pooled keep-alive upstream connections.
nginx_share=$(awk "BEGIN { printf \"%.2f\", $WEIGHT / 100 }")
cat >"$OUT/nginx.conf" <<CONF
worker_processes auto;
pid $OUT/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  upstream stable { server 127.0.0.1:$STABLE_PORT; keepalive 256; keepalive_requests 1000000; }
  upstream canary { server 127.0.0.1:$CANARY_PORT; keepalive 256; keepalive_requests 1000000; }
  split_clients "\${request_id}" \$track { $nginx_share% canary; * stable; }
  server {
    listen 127.0.0.1:$NGINX_PORT reuseport;
    location / {
      proxy_pass http://\$track;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      add_header X-Agent-Track \$track;
    }
  }
}
CONF
start_nginx nginx "$OUT/nginx.conf"

# The routing stream: a stub serving RolloutApi's stream contract with the bench weight.
start stub dotnet "$OUT/bench/GatewayBench.dll" stub --port $STUB_PORT --weight "$WEIGHT"
wait_for "routing stub" http_ok "http://127.0.0.1:$STUB_PORT/api/routing"

# The gateway as Aspire runs it: tracks by service-discovery name, resolved from services__* variables.
start gateway env \
  ASPNETCORE_URLS="http://127.0.0.1:$GATEWAY_PORT" ASPNETCORE_ENVIRONMENT=Production \
  Gateway__RolloutApi="http://127.0.0.1:$STUB_PORT" \
  Gateway__Stable__Destination=http://agent-stable Gateway__Canary__Destination=http://agent-canary \
  Gateway__Stable__Version=1.0.0 Gateway__Canary__Version=1.1.0 \
  services__agent-stable__http__0="http://127.0.0.1:$STABLE_PORT" \
  services__agent-canary__http__0="http://127.0.0.1:$CANARY_PORT" \
  $GATEWAY_ENV \
  dotnet "$OUT/gateway/Gateway.dll" --contentRoot "$OUT/gateway"
GATEWAY_PID=${STARTED_PIDS[-1]} # env execs dotnet, so this is the gateway's own PID
wait_for "gateway" http_ok "http://127.0.0.1:$GATEWAY_PORT/health"
wait_for "gateway routing weight $WEIGHT" sh -c "curl -fsS http://127.0.0.1:$GATEWAY_PORT/gateway/routing | grep -q '\"weight\":$WEIGHT,'"
wait_for "nginx" http_ok "http://127.0.0.1:$NGINX_PORT/health"

to_ms() { # wrk latency (e.g. 812.00us, 1.20ms, 1.01s) in milliseconds
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000; printf "%.3f", n }'
}

# CPU time (user + system, clock ticks) of a contender's processes: the proxy for nginx and the gateway, the backend
# nginx for "direct". Per request it is the machine-independent part of the comparison: it does not move with
# whatever else the 2 cores are running, unlike req/s.
cpu_ticks() {
  local pids
  case $1 in
    gateway) pids=$GATEWAY_PID ;;
    nginx) pids="$(cat "$OUT/nginx.pid") $(pgrep -P "$(cat "$OUT/nginx.pid")" | tr '\n' ' ')" ;;
    direct)
      if [ "$BACKEND" = agentworker ]; then pids=$BACKEND_PID
      else pids="$(cat "$OUT/backends.pid") $(pgrep -P "$(cat "$OUT/backends.pid")" | tr '\n' ' ')"; fi ;;
  esac
  for pid in $pids; do awk '{ print $14 + $15 }' "/proc/$pid/stat"; done | awk '{ s += $1 } END { print s }'
}

measure() { # name url → appends "name rps p50 p99 cpu_us_per_request" to results
  local name=$1 url=$2 log="$OUT/wrk-$1-$round.txt"
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" "${WRK_SCRIPT[@]}" "$url" >/dev/null
  local before after
  before=$(cpu_ticks "$name")
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "${WRK_SCRIPT[@]}" "$url" >"$log"
  after=$(cpu_ticks "$name")
  local rps p50 p99 errors requests cpu
  rps=$(awk '/^Requests\/sec/ { print $2 }' "$log")
  requests=$(awk '/requests in/ { print $1 }' "$log")
  p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$log")")
  p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$log")")
  cpu=$(awk -v t=$((after - before)) -v n="$requests" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", t / hz * 1e6 / n }')
  errors=$(awk '/Non-2xx|Socket errors/ { sub(/^ +/, ""); printf "%s; ", $0 }' "$log")
  printf '%-8s round %d: %10.0f req/s  p50 %7.3f ms  p99 %7.3f ms  cpu %6.1f us/req  %s\n' "$name" "$round" "$rps" "$p50" "$p99" "$cpu" "$errors"
  echo "$name $rps $p50 $p99 $cpu" >>"$OUT/results.txt"
}

: >"$OUT/results.txt"
echo "bench: gateway warm-up $GATEWAY_WARMUP${GATEWAY_ENV:+ (env: $GATEWAY_ENV)}"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$GATEWAY_WARMUP" "${WRK_SCRIPT[@]}" "http://127.0.0.1:$GATEWAY_PORT$REQUEST_PATH" >/dev/null
echo "bench: backend $BACKEND, wrk -t$THREADS -c$CONNECTIONS -d$DURATION (after a $WARMUP warm-up each), $ROUNDS rounds, canary weight $WEIGHT bp, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
declare -A url=([direct]="http://127.0.0.1:$STABLE_PORT$REQUEST_PATH" [nginx]="http://127.0.0.1:$NGINX_PORT$REQUEST_PATH" [gateway]="http://127.0.0.1:$GATEWAY_PORT$REQUEST_PATH")
order=(direct nginx gateway)
for round in $(seq 1 "$ROUNDS"); do
  # Rotate the order each round so that drift in the machine's load does not always favour the same contender.
  for i in 0 1 2; do name=${order[$(( (i + round - 1) % 3 ))]}; measure "$name" "${url[$name]}"; done
done
echo "bench: load average at the end $(cut -d' ' -f1-3 /proc/loadavg)"

# Medians over the rounds, then the ratios the README reports.
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
col() { awk -v n="$1" -v c="$2" '$1 == n { print $c }' "$OUT/results.txt" | median; }
printf '\n%-8s %12s %10s %10s %14s\n' target "req/s" "p50 ms" "p99 ms" "cpu us/req"
for name in direct nginx gateway; do
  printf '%-8s %12.0f %10.3f %10.3f %14.1f\n' "$name" "$(col $name 2)" "$(col $name 3)" "$(col $name 4)" "$(col $name 5)"
done
awk -v g="$(col gateway 2)" -v n="$(col nginx 2)" -v d="$(col direct 2)" -v gp="$(col gateway 4)" -v np="$(col nginx 4)" \
    -v gc="$(col gateway 5)" -v nc="$(col nginx 5)" 'BEGIN {
  printf "\ngateway/nginx req/s: %.2fx   gateway/direct req/s: %.2fx   gateway p99 / nginx p99: %.2fx   gateway/nginx cpu per request: %.1fx\n",
    g / n, g / d, gp / np, gc / nc }'

# What the gateway itself saw: its per-track stats over the run (the split must match the weight).
curl -fsS "http://127.0.0.1:$GATEWAY_PORT/gateway/stats?window=600" >"$OUT/gateway-stats.json"
python3 - "$OUT/gateway-stats.json" <<'PY' || true
import json, sys
s = json.load(open(sys.argv[1]))
st, ca = s["stable"]["requests"], s["canary"]["requests"]
print(f"gateway split over the run: canary {100 * ca / max(1, st + ca):.3f}% of {st + ca} requests (weight {s['weight'] / 100:.2f}%)")
PY
