# Shared by run.sh and propagation.sh: installs, builds and process bookkeeping. Sourced, not run.
# Every process started here is recorded and stopped by PID on exit; nothing else is touched.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT="$ROOT/bench/out/gateway"
mkdir -p "$OUT"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
STARTED_PIDS=()

ensure_tools() {
  local missing=()
  for tool in "$@"; do command -v "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "bench: installing ${missing[*]}"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

publish() { # project dir, output dir
  dotnet publish "$ROOT/$1" -c Release -o "$2" -v q --nologo >"$OUT/publish-$(basename "$1").log" 2>&1 \
    || { cat "$OUT/publish-$(basename "$1").log"; echo "bench: publish $1 failed" >&2; exit 1; }
}

start() { # name, command...; logs to $OUT/<name>.log
  local name=$1; shift
  "$@" >"$OUT/$name.log" 2>&1 &
  STARTED_PIDS+=($!)
}

start_nginx() { # name, config file: nginx daemonizes; its master pid comes from the pid file
  local name=$1 conf=$2
  nginx -c "$conf" -p "$OUT/" -e "$OUT/$name.error.log"
  wait_for "nginx $name pid" test -s "$OUT/$name.pid"
  STARTED_PIDS+=("$(cat "$OUT/$name.pid")")
}

wait_for() { # description, command...: polls for up to 60 s
  local what=$1; shift
  for _ in $(seq 1 600); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "bench: timed out waiting for $what" >&2; exit 1
}

http_ok() { curl -fsS -o /dev/null --max-time 2 "$1"; }

stop_all() {
  for pid in "${STARTED_PIDS[@]:-}"; do
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  done
  for pid in "${STARTED_PIDS[@]:-}"; do
    [ -n "$pid" ] && for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  done
}
trap stop_all EXIT INT TERM

# Two static backends standing in for agent-stable and agent-canary: the same for every contender, and cheap,
# so that the numbers measure the proxies rather than the agent. They stamp the identity headers a real agent writes
# (ServiceDefaults' AgentIdentity), which the gateway checks on every response.
backends_conf() { # stable port, canary port
  cat >"$OUT/backends.conf" <<CONF
worker_processes 1;
pid $OUT/backends.pid;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  server { listen 127.0.0.1:$1 reuseport; location / {
    add_header X-Agent-Name agent-worker; add_header X-Agent-Track stable; add_header X-Agent-Version 1.0.0;
    add_header X-Agent-Build bench; add_header X-Agent-Instance stable-1; return 200 "stable\n"; } }
  server { listen 127.0.0.1:$2 reuseport; location / {
    add_header X-Agent-Name agent-worker; add_header X-Agent-Track canary; add_header X-Agent-Version 1.1.0;
    add_header X-Agent-Build bench; add_header X-Agent-Instance canary-1; return 200 "canary\n"; } }
}
CONF
  echo "$OUT/backends.conf"
}
