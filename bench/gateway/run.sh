#!/usr/bin/env bash
# Throughput, CPU and allocations per request, and open-loop latency of the gateway (YARP, every feature on) against
# bare YARP (standard pipeline, two clusters, the same 10 % split), nginx (split_clients over the same two backends)
# and calling one backend directly. 127.0.0.1 only. Rerunnable; bounded (~7-8 minutes with the defaults).
#
#   bench/gateway/run.sh                      # defaults below
#   BACKEND=agentworker bench/gateway/run.sh  # the real AgentWorker as both tracks, requests POST work items
#   ROUNDS=1 DURATION=5s RATES="1000 4000" OPEN_DURATION=5 bench/gateway/run.sh   # a short run (~3 minutes)
#   OPEN_DURATION=0 bench/gateway/run.sh      # closed loop only;  ROUNDS=0: open loop only
#   GATEWAY_ENV="Gateway__Telemetry__TraceSampleRatio=1" bench/gateway/run.sh      # gateway-only settings
#   RUNTIME_ENV="DOTNET_gcServer=0" bench/gateway/run.sh                           # both .NET proxies
#   GATEWAY_B_ENV="DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=0" bench/gateway/run.sh   # A/B: a second gateway,
#       "gateway-b", with these settings on top, measured in the same rounds (the only fair comparison on a busy box)
#   GATEWAY_C_ENV="..."                       # a third gateway, "gateway-c", likewise (this build plus these settings)
#   GATEWAY_B_BUILD=/tmp/main-gateway bench/gateway/run.sh   # A/B of two builds: gateway-b runs that published gateway
#       (dotnet publish Gateway -c Release -o DIR from another checkout), e.g. main before a change
#   PROFILE=1 bench/gateway/run.sh            # also a system-wide perf profile of each contender's first measured
#       window: CPU share by process, the proxy's threads, binaries and top symbols (profile.py); costs some CPU itself
#
# Closed loop: wrk (same threads, connections, duration for all), after a warm-up each, ROUNDS rounds in rotating
# order, medians. Reported per contender: req/s, p50/p99, CPU time per request (the proxy's processes, from /proc:
# steadier than req/s on a shared machine) and, for .NET processes, bytes allocated per request (the runtime's own
# counter, GC.GetTotalAllocatedBytes, read through a startup hook — exact, and the same whatever else runs).
# Open loop: GatewayBench load sends at a constant rate (RATES), latency counted from each request's due time, and
# the table reports what each proxy adds over direct at p50, p99 and p99.9.
#
# The .NET proxies get one long warm-up first (GATEWAY_WARMUP): tiered compilation with dynamic PGO needs tens of
# seconds of traffic on 2 busy cores before the code is final, and measuring earlier measures the JIT.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-5s}
GATEWAY_WARMUP=${GATEWAY_WARMUP:-20s}
GATEWAY_ENV=${GATEWAY_ENV:-}
RUNTIME_ENV=${RUNTIME_ENV:-}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-3}
WEIGHT=${WEIGHT:-1000}          # canary share in basis points, for every proxy (10 %)
BACKEND=${BACKEND:-static}      # static: two nginx static responders; agentworker: two real AgentWorker processes
RATES=${RATES:-1000 4000 8000}  # open-loop request rates
OPEN_DURATION=${OPEN_DURATION:-10}  # seconds per open-loop rate and contender (after a 2 s warm-up); 0 = skip
PROFILE=${PROFILE:-}            # 1: perf record -a (flat, PROFILE_HZ) during each contender's first measured window
PROFILE_HZ=${PROFILE_HZ:-999}
GATEWAY_B_ENV=${GATEWAY_B_ENV:-}
GATEWAY_B_BUILD=${GATEWAY_B_BUILD:-}
GATEWAY_B=${GATEWAY_B_ENV}${GATEWAY_B_BUILD}
GATEWAY_C_ENV=${GATEWAY_C_ENV:-}
CONTENDERS=${CONTENDERS:-direct nginx yarp gateway${GATEWAY_B:+ gateway-b}${GATEWAY_C_ENV:+ gateway-c}}
STABLE_PORT=18081 CANARY_PORT=18082 NGINX_PORT=18090 GATEWAY_PORT=18091 YARP_PORT=18092 GATEWAY_B_PORT=18093 STUB_PORT=18095
GATEWAY_C_PORT=18096
# Allocation counters (the startup hook's ports) of the .NET processes.
declare -A ALLOC_PORT=([gateway]=18191 [yarp]=18192 [direct]=18193 [gateway-b]=18194 [gateway-c]=18196)
HOOK="$OUT/bench/GatewayBench.dll"

ensure_tools nginx wrk curl
if [ -n "$PROFILE" ]; then
  ensure_tools perf
  # The runtime writes /tmp/perf-PID.map, so that perf can name JIT-compiled methods; without W^X, JIT code lives in
  # anonymous memory where perf looks those names up (with it, in a memfd double mapping perf cannot name).
  RUNTIME_ENV="DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 $RUNTIME_ENV"
fi
echo "bench: building (Release)"
publish Gateway "$OUT/gateway"
publish bench/gateway/GatewayBench "$OUT/bench"

WRK_SCRIPT=()
REQUEST_PATH=/
LOAD_BODY=()
if [ "$BACKEND" = agentworker ]; then
  publish AgentWorker "$OUT/agent"
  for track in stable canary; do
    port=$STABLE_PORT version=1.0.0 hook=()
    [ $track = canary ] && port=$CANARY_PORT version=1.1.0
    [ $track = stable ] && hook=(DOTNET_STARTUP_HOOKS="$HOOK" BENCH_ALLOC_PORT=${ALLOC_PORT[direct]})
    start agent-$track env ASPNETCORE_URLS="http://127.0.0.1:$port" ASPNETCORE_ENVIRONMENT=Production \
      Agent__Name=agent-worker Agent__Track=$track Agent__Version=$version "${hook[@]}" \
      dotnet "$OUT/agent/AgentWorker.dll" --contentRoot "$OUT/agent"
    [ $track = stable ] && BACKEND_PID=${STARTED_PIDS[-1]}
    wait_for "agent-$track" http_ok "http://127.0.0.1:$port/health"
  done
  # One synchronous work item per request, as the whole-app tests send them.
  body='{"id":"item-1","kind":"text","payload":{"text":"hello from wrk"}}'
  cat >"$OUT/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '$body'
LUA
  WRK_SCRIPT=(-s "$OUT/post.lua")
  REQUEST_PATH=/api/items
  LOAD_BODY=(--body "$body")
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
      add_header X-Gateway-Track \$track;
    }
  }
}
CONF
start_nginx nginx "$OUT/nginx.conf"

# Bare YARP: the gateway's runtime settings (Gateway.csproj: workstation GC, non-concurrent, no thread-pool spinning,
# tiered PGO; GatewayBench.csproj has the PGO and non-concurrent GC, these variables the rest, so that the load
# generator built from the same project keeps its own), then RUNTIME_ENV, and the gateway's Kestrel transport settings
# (Kestrel's defaults; BareYarp.cs takes --io-queue-count N); none of the gateway's features. So the gateway/bare-YARP ratio is the cost of our
# code, not of settings.
GATEWAY_RUNTIME=(DOTNET_gcServer=0 DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0)
start yarp env DOTNET_STARTUP_HOOKS="$HOOK" BENCH_ALLOC_PORT=${ALLOC_PORT[yarp]} "${GATEWAY_RUNTIME[@]}" $RUNTIME_ENV \
  dotnet "$OUT/bench/GatewayBench.dll" yarp --port $YARP_PORT --weight "$WEIGHT" \
  --stable "http://127.0.0.1:$STABLE_PORT" --canary "http://127.0.0.1:$CANARY_PORT"
YARP_PID=${STARTED_PIDS[-1]}

# The routing stream: a stub serving RolloutApi's stream contract with the bench weight.
start stub dotnet "$OUT/bench/GatewayBench.dll" stub --port $STUB_PORT --weight "$WEIGHT"
wait_for "routing stub" http_ok "http://127.0.0.1:$STUB_PORT/api/routing"

# The gateway as Aspire runs it: tracks by service-discovery name, resolved from services__* variables.
start_gateway() { # name, port, build directory, extra env...
  local name=$1 port=$2 build=$3; shift 3
  start "$name" env \
    ASPNETCORE_URLS="http://127.0.0.1:$port" ASPNETCORE_ENVIRONMENT=Production \
    Gateway__RolloutApi="http://127.0.0.1:$STUB_PORT" \
    Gateway__Stable__Destination=http://agent-stable Gateway__Canary__Destination=http://agent-canary \
    Gateway__Stable__Version=1.0.0 Gateway__Canary__Version=1.1.0 \
    services__agent-stable__http__0="http://127.0.0.1:$STABLE_PORT" \
    services__agent-canary__http__0="http://127.0.0.1:$CANARY_PORT" \
    DOTNET_STARTUP_HOOKS="$HOOK" BENCH_ALLOC_PORT=${ALLOC_PORT[$name]} \
    $RUNTIME_ENV $GATEWAY_ENV "$@" \
    dotnet "$build/Gateway.dll" --contentRoot "$build"
  wait_for "$name" http_ok "http://127.0.0.1:$port/health"
  wait_for "$name routing weight $WEIGHT" sh -c "curl -fsS http://127.0.0.1:$port/gateway/routing | grep -q '\"weight\":$WEIGHT,'"
}
start_gateway gateway $GATEWAY_PORT "$OUT/gateway"
GATEWAY_PID=${STARTED_PIDS[-1]} # env execs dotnet, so this is the gateway's own PID
if [ -n "$GATEWAY_B" ]; then
  # shellcheck disable=SC2086 # word splitting is the point: VAR=value pairs
  start_gateway gateway-b $GATEWAY_B_PORT "${GATEWAY_B_BUILD:-$OUT/gateway}" $GATEWAY_B_ENV
  GATEWAY_B_PID=${STARTED_PIDS[-1]}
fi
if [ -n "$GATEWAY_C_ENV" ]; then
  # shellcheck disable=SC2086
  start_gateway gateway-c $GATEWAY_C_PORT "$OUT/gateway" $GATEWAY_C_ENV
  GATEWAY_C_PID=${STARTED_PIDS[-1]}
fi
wait_for "bare YARP" http_ok "http://127.0.0.1:$YARP_PORT/health"
wait_for "nginx" http_ok "http://127.0.0.1:$NGINX_PORT/health"

declare -A url=([direct]="http://127.0.0.1:$STABLE_PORT$REQUEST_PATH" [nginx]="http://127.0.0.1:$NGINX_PORT$REQUEST_PATH"
  [yarp]="http://127.0.0.1:$YARP_PORT$REQUEST_PATH" [gateway]="http://127.0.0.1:$GATEWAY_PORT$REQUEST_PATH"
  [gateway-b]="http://127.0.0.1:$GATEWAY_B_PORT$REQUEST_PATH" [gateway-c]="http://127.0.0.1:$GATEWAY_C_PORT$REQUEST_PATH")
read -r -a order <<<"$CONTENDERS"

to_ms() { # wrk latency (e.g. 812.00us, 1.20ms, 1.01s) in milliseconds
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000; printf "%.3f", n }'
}

# CPU time (user + system, clock ticks) of a contender's processes: the proxy for nginx, YARP and the gateway, the
# backend for "direct" (nginx's static responders, or the stable AgentWorker).
contender_pids() {
  local pids
  case $1 in
    gateway) pids=$GATEWAY_PID ;;
    gateway-b) pids=$GATEWAY_B_PID ;;
    gateway-c) pids=$GATEWAY_C_PID ;;
    yarp) pids=$YARP_PID ;;
    nginx) pids="$(cat "$OUT/nginx.pid") $(pgrep -P "$(cat "$OUT/nginx.pid")" | tr '\n' ' ')" ;;
    direct)
      if [ "$BACKEND" = agentworker ]; then pids=$BACKEND_PID
      else pids="$(cat "$OUT/backends.pid") $(pgrep -P "$(cat "$OUT/backends.pid")" | tr '\n' ' ')"; fi ;;
  esac
  echo "$pids"
}
cpu_ticks() {
  local pids
  pids=$(contender_pids "$1")
  for pid in $pids; do awk '{ print $14 + $15 }' "/proc/$pid/stat"; done | awk '{ s += $1 } END { print s }'
}

# The startup hook's line for a .NET contender: bytes allocated so far, gen0/1/2 collections, GC pause ms, thread-pool
# threads, completed work items; empty for nginx (and for direct on static backends).
runtime_stats() {
  local port=${ALLOC_PORT[$1]:-}
  [ "$1" = direct ] && [ "$BACKEND" != agentworker ] && port=
  [ -n "$port" ] || return 0
  exec 3<>"/dev/tcp/127.0.0.1/$port" && head -1 <&3 && exec 3<&-
}
alloc_bytes() { runtime_stats "$1" | cut -d' ' -f1; }

# Context switches (voluntary + involuntary, every thread) of a contender's processes so far: each one is a thread
# going to sleep or being descheduled, the cost a proxy pays for every hop between threads.
ctx_switches() {
  local pids
  pids=$(contender_pids "$1")
  for pid in $pids; do cat /proc/"$pid"/task/*/status 2>/dev/null; done \
    | awk '/^(nonvoluntary|voluntary)_ctxt_switches/ { s += $2 } END { print s + 0 }'
}

measure() { # name → appends "name rps p50 p99 cpu_us_per_request bytes_per_request" to results
  local name=$1 log="$OUT/wrk-$1-$round.txt"
  local profiling= perf_pids=()
  [ -n "$PROFILE" ] && [ "$round" = 1 ] && profiling=1
  if [ -n "$profiling" ]; then
    # The contender's syscalls by name over a 2 s slice of its warm-up (perf trace slows what it traces, so not during
    # the measured window); profile.py divides them by the warm-up's request rate.
    (sleep 1; exec perf trace -s -p "$(contender_pids "$name" | xargs | tr ' ' ',')" -o "$OUT/perf-trace-$name.txt" -- sleep 2) \
      >/dev/null 2>&1 &
    perf_pids+=($!)
  fi
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" "${WRK_SCRIPT[@]}" "${url[$name]}" >"$OUT/wrk-warmup-$name.txt"
  local before after alloc_before alloc_after cs_before cs_after
  alloc_before=$(alloc_bytes "$name")
  cs_before=$(ctx_switches "$name")
  before=$(cpu_ticks "$name")
  if [ -n "$profiling" ]; then
    # Flat samples on every core for the wrk window (DURATION in seconds), started just after wrk.
    (sleep 0.2; exec perf record -a -F "$PROFILE_HZ" -o "$OUT/perf-$name.data" -- sleep "$(( ${DURATION%s} - 1 ))") \
      >"$OUT/perf-$name.log" 2>&1 &
    perf_pids+=($!)
  fi
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "${WRK_SCRIPT[@]}" "${url[$name]}" >"$log"
  for pid in "${perf_pids[@]}"; do wait "$pid" || true; done
  after=$(cpu_ticks "$name")
  cs_after=$(ctx_switches "$name")
  alloc_after=$(alloc_bytes "$name")
  local rps p50 p99 errors requests cpu bytes=- cs
  rps=$(awk '/^Requests\/sec/ { print $2 }' "$log")
  requests=$(awk '/requests in/ { print $1 }' "$log")
  p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$log")")
  p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$log")")
  cpu=$(awk -v t=$((after - before)) -v n="$requests" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", t / hz * 1e6 / n }')
  cs=$(awk -v a="$cs_before" -v b="$cs_after" -v n="$requests" 'BEGIN { printf "%.2f", (b - a) / n }')
  [ -n "$alloc_before" ] && bytes=$(awk -v a="$alloc_before" -v b="$alloc_after" -v n="$requests" 'BEGIN { printf "%.0f", (b - a) / n }')
  errors=$(awk '/Non-2xx|Socket errors/ { sub(/^ +/, ""); printf "%s; ", $0 }' "$log")
  printf '%-9s round %d: %10.0f req/s  p50 %7.3f ms  p99 %7.3f ms  cpu %6.1f us/req  alloc %6s B/req  cs %5s /req  %s\n' \
    "$name" "$round" "$rps" "$p50" "$p99" "$cpu" "$bytes" "$cs" "$errors"
  echo "$name $rps $p50 $p99 $cpu $bytes $cs" >>"$OUT/results.txt"
}

median() { sort -n | awk '{ a[NR] = $1 } END { if (NR == 0) print "nan"; else print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
col() { awk -v n="$1" -v c="$2" '$1 == n && $c != "-" { print $c }' "$OUT/results.txt" | median; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "nan" || b == "nan" || b == 0) print "n/a"; else printf "%.2fx", a / b }'; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

: >"$OUT/results.txt"
: >"$OUT/open-loop.txt"
LOAD_START=$(loadavg)
echo "bench: load average at the start $LOAD_START; $(nproc) cores; backend $BACKEND; canary weight $WEIGHT bp${RUNTIME_ENV:+; runtime env: $RUNTIME_ENV}${GATEWAY_ENV:+; gateway env: $GATEWAY_ENV}${GATEWAY_B:+; gateway-b: ${GATEWAY_B_BUILD:-this build}${GATEWAY_B_ENV:+ plus $GATEWAY_B_ENV}}${GATEWAY_C_ENV:+; gateway-c: this build plus $GATEWAY_C_ENV}"
for name in yarp gateway ${GATEWAY_B:+gateway-b} ${GATEWAY_C_ENV:+gateway-c}; do
  echo "bench: $name warm-up $GATEWAY_WARMUP"
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$GATEWAY_WARMUP" "${WRK_SCRIPT[@]}" "${url[$name]}" >/dev/null
done

if [ "$ROUNDS" -gt 0 ]; then
  echo "bench: closed loop: wrk -t$THREADS -c$CONNECTIONS -d$DURATION (after a $WARMUP warm-up each), $ROUNDS rounds in rotating order; load average $(loadavg)"
  for round in $(seq 1 "$ROUNDS"); do
    # Rotate the order each round so that drift in the machine's load does not always favour the same contender.
    for i in "${!order[@]}"; do measure "${order[$(( (i + round - 1) % ${#order[@]} ))]}"; done
  done
  echo "bench: load average after the closed loop $(loadavg)"
  if [ -n "$PROFILE" ]; then
    nginx_pids="$(cat "$OUT/nginx.pid"),$(pgrep -P "$(cat "$OUT/nginx.pid")" | paste -sd,)"
    backend_pids=${BACKEND_PID:-"$(cat "$OUT/backends.pid"),$(pgrep -P "$(cat "$OUT/backends.pid")" | paste -sd,)"}
    roles="gateway=$GATEWAY_PID yarp=$YARP_PID nginx=$nginx_pids backends=$backend_pids${GATEWAY_B:+ gateway-b=$GATEWAY_B_PID}${GATEWAY_C_ENV:+ gateway-c=$GATEWAY_C_PID}"
    for name in "${order[@]}"; do
      [ -s "$OUT/perf-$name.data" ] || continue
      perf script -i "$OUT/perf-$name.data" -F comm,pid,tid,ip,sym,dso 2>/dev/null >"$OUT/perf-$name.txt" || true
      python3 "$ROOT/bench/gateway/profile.py" "$([ "$name" = direct ] && echo backends || echo "$name")" "$OUT/perf-$name.txt" "$roles" \
        "${PROFILE_TOP:-25}" "$OUT/perf-trace-$name.txt" "$(awk '/^Requests\/sec/ { print $2 }' "$OUT/wrk-warmup-$name.txt")"
    done
  fi
  printf '\n%-9s %12s %10s %10s %12s %12s %12s\n' target "req/s" "p50 ms" "p99 ms" "cpu us/req" "alloc B/req" "ctx sw/req"
  for name in "${order[@]}"; do
    printf '%-9s %12.0f %10.3f %10.3f %12.1f %12s %12s\n' "$name" "$(col $name 2)" "$(col $name 3)" "$(col $name 4)" "$(col $name 5)" "$(col $name 6)" "$(col $name 7)"
  done
fi

if [ "$OPEN_DURATION" -gt 0 ]; then
  echo
  echo "bench: open loop: constant rate, ${OPEN_DURATION}s per rate and contender after a 2 s warm-up, latency from each request's due time; load average $(loadavg)"
  i=0
  for rate in $RATES; do
    for j in "${!order[@]}"; do
      name=${order[$(( (j + i) % ${#order[@]} ))]}
      stats_before=$(runtime_stats "$name")
      line=$(dotnet "$OUT/bench/GatewayBench.dll" load --url "${url[$name]}" --rate "$rate" --duration "$OPEN_DURATION" \
        --warmup 2 "${LOAD_BODY[@]}" || true)
      # What the runtime did meanwhile (warm-up included): collections, their total pause, thread-pool threads at the end.
      [ -n "$stats_before" ] && line+=$(awk -v a="$stats_before" -v b="$(runtime_stats "$name")" 'BEGIN {
        split(a, x, " "); split(b, y, " ");
        printf "  [gc0 %d gc1 %d gc2 %d pause_ms %.1f pool_threads %d]", y[2] - x[2], y[3] - x[3], y[4] - x[4], y[5] - x[5], y[6] }')
      printf '%-9s %s\n' "$name" "$line"
      echo "$name $line" >>"$OUT/open-loop.txt"
    done
    i=$((i + 1))
  done
  echo "bench: load average after the open loop $(loadavg)"
  python3 - "$OUT/open-loop.txt" <<'PY'
import sys
rows = {}
for line in open(sys.argv[1]):
    f = line.split()
    kv = dict(zip(f[1::2], f[2::2]))
    if "p999_ms" not in kv:
        continue
    rows[(f[0], int(kv["rate"]))] = kv
rates = sorted({r for _, r in rows})
names = [n for n in ["direct", "nginx", "yarp", "gateway", "gateway-b", "gateway-c"] if any((n, r) in rows for r in rates)]
print("\nopen loop, latency in ms (absolute; for proxies, in brackets: added over direct at the same rate)")
print(f"{'rate':>6} {'target':<9} {'achieved':>9} {'errors':>7} {'p50':>16} {'p99':>16} {'p99.9':>16}")
for r in rates:
    d = rows.get(("direct", r))
    for n in names:
        kv = rows.get((n, r))
        if kv is None:
            continue
        cells = []
        for k in ("p50_ms", "p99_ms", "p999_ms"):
            v = float(kv[k])
            cells.append(f"{v:7.3f}" + (f" ({v - float(d[k]):+.3f})" if d and n != "direct" else " " * 9))
        print(f"{r:>6} {n:<9} {kv['achieved_rps']:>9} {kv['errors']:>7} " + " ".join(f"{c:>16}" for c in cells))
for r in rates:
    x = rows.get(("nginx", r))
    for n in ("gateway", "gateway-b", "gateway-c"):
        g = rows.get((n, r))
        if g and x:
            print(f"{n} p99 / nginx p99 at {r} req/s: {float(g['p99_ms']) / float(x['p99_ms']):.2f}x")
PY
fi

# The issue's Done-when ratios, all from this run, and the rows README.md and bench/README.md take, ready to paste.
python3 "$ROOT/bench/gateway/summary.py" "$OUT/results.txt" "$OUT/open-loop.txt" "$BACKEND" "$LOAD_START" "$(loadavg)" "$ROUNDS"

# What the gateway itself saw: its per-track stats over the run (the split must match the weight).
curl -fsS "http://127.0.0.1:$GATEWAY_PORT/gateway/stats?window=600" >"$OUT/gateway-stats.json"
python3 - "$OUT/gateway-stats.json" <<'PY' || true
import json, sys
s = json.load(open(sys.argv[1]))
st, ca = s["stable"]["requests"], s["canary"]["requests"]
print(f"gateway split over the last 600 s: canary {100 * ca / max(1, st + ca):.3f}% of {st + ca} requests (weight {s['weight'] / 100:.2f}%)")
m = s.get("identityMismatches") or {}
print(f"served-by check: {m.get('total', 0)} responses whose agent-written identity did not match the gateway's choice")
PY
