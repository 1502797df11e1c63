# Shared by the bench scripts (source it after setting ROOT and OUT): start the processes a bench needs, wait for them
# with a deadline, publish in Release, and stop only what this script started.
STARTED_PIDS=()

start() { # name, command...; logs to $OUT/<name>.log; the pid is recorded for stop_all
  local name=$1; shift
  "$@" >"$OUT/$name.log" 2>&1 &
  STARTED_PIDS+=($!)
}

stop_all() { # only the processes this script started, by pid
  for pid in "${STARTED_PIDS[@]:-}"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; done
  for pid in "${STARTED_PIDS[@]:-}"; do
    [ -n "$pid" ] && for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  done
  STARTED_PIDS=()
}
trap stop_all EXIT INT TERM

wait_for() { # description, command...: polls for up to 60 s
  local what=$1; shift
  for _ in $(seq 1 600); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "bench: timed out waiting for $what (logs in $OUT)" >&2; exit 1
}

http_ok() { curl -fsS -o /dev/null --max-time 2 "$@"; }

publish() { # project dir, output dir
  dotnet publish "$ROOT/$1" -c Release -o "$2" -v q --nologo >"$OUT/publish-$(basename "$1").log" 2>&1 \
    || { cat "$OUT/publish-$(basename "$1").log"; echo "bench: publish $1 failed" >&2; exit 1; }
}
