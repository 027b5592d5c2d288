# Shared helpers for the headroom live tests (sourced, not run).
# Needs: $tmp (a private temp dir) and $exporter (the binary) set by the caller.

skip() {
  echo "SKIP: $*"
  exit 77
}

fail() {
  echo "FAIL: $*" >&2
  if [ -n "${exporter_log:-}" ] && [ -f "$exporter_log" ]; then
    echo "--- exporter log (last 20 lines) ---" >&2
    tail -n 20 "$exporter_log" >&2 || true
  fi
  exit 1
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_exporter NAME ARGS...: starts the exporter on a free 127.0.0.1 port and
# waits until /metrics answers. Sets port, exporter_pid, exporter_log.
start_exporter() {
  local name=$1
  shift
  port=$(free_port)
  exporter_log="$tmp/exporter-$name.log"
  "$exporter" --web.listen-address "127.0.0.1:$port" "$@" >"$exporter_log" 2>&1 &
  exporter_pid=$!
  local i
  for i in $(seq 1 100); do
    if curl -sf "http://127.0.0.1:$port/metrics" -o /dev/null; then return 0; fi
    kill -0 "$exporter_pid" 2>/dev/null || fail "exporter ($name) exited at start"
    sleep 0.1
  done
  fail "exporter ($name) did not answer on 127.0.0.1:$port"
}

stop_exporter() {
  if [ -n "${exporter_pid:-}" ]; then
    kill "$exporter_pid" 2>/dev/null || true
    wait "$exporter_pid" 2>/dev/null || true
    exporter_pid=""
  fi
}

# scrape: fetches /metrics into $tmp/scrape.txt.
scrape() {
  curl -sf "http://127.0.0.1:$port/metrics" -o "$tmp/scrape.txt" || fail "scrape failed"
}

# val 'name{labels}': the value of one series of the last scrape, or empty.
# Label values may contain spaces: the value is what follows the last space.
val() {
  awk -v s="$1" '!/^#/ {
      i = match($0, / [^ ]+$/)
      if (i > 0 && substr($0, 1, i - 1) == s) { print substr($0, i + 1); exit }
    }' "$tmp/scrape.txt"
}

# need 'series': its value, failing when the series is absent.
need() {
  local v
  v=$(val "$1")
  [ -n "$v" ] || fail "series $1 missing from the scrape"
  echo "$v"
}

# within A B TOL: |A - B| <= TOL (floats).
within() {
  awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= t) }'
}

# check_within WHAT A B TOL
check_within() {
  within "$2" "$3" "$4" || fail "$1: got $2, expected $3 (tolerance $4)"
  echo "ok: $1: $2 vs expected $3 (tolerance $4)"
}

# wait_for 'series' VALUE: scrapes until the series has that value (10 s).
wait_for() {
  local i
  for i in $(seq 1 50); do
    scrape
    [ "$(val "$1")" = "$2" ] && return 0
    sleep 0.2
  done
  fail "$1 never became $2 (last: $(val "$1"))"
}
