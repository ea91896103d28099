#!/usr/bin/env bash
# Admin API benchmark: GET /api/v1/tenants/{id} and a settings update, beside GET /healthz
# in the same run (this machine is noisy; compare within a run, not across runs).
#
# usage: bench/admin.sh [seconds per point, default 5] [connections, default 16]
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-5}
CONNS=${2:-16}
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install -y wrk" >&2; exit 1; }
cargo build --release -q -p echo5d

DIR=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
./target/release/echo5d --data-dir "$DIR" --listen "127.0.0.1:$PORT" --demo --log warn >/dev/null 2>"$DIR/daemon.log" &
PID=$!
trap 'kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true; rm -rf "$DIR"' EXIT
for _ in $(seq 100); do curl -sf "$BASE/readyz" >/dev/null && break; sleep 0.1; done
TOKEN=$(cat "$DIR/admin.token")
TENANT=$(curl -sf -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/tenants/open-arms" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')

cat >"$DIR/get.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $TOKEN"
LUA
cat >"$DIR/patch.lua" <<LUA
wrk.method = "PATCH"
wrk.headers["Authorization"] = "Bearer $TOKEN"
wrk.headers["Content-Type"] = "application/json"
local n = 0
request = function()
  n = n + 1
  return wrk.format(nil, nil, nil, '{"sla_hours": ' .. (n % 720 + 1) .. '}')
end
LUA

run() { # name url script
  local out
  if [ -n "$3" ]; then
    out=$(wrk -t1 -c"$CONNS" -d"${SECS}s" --latency -s "$3" "$2")
  else
    out=$(wrk -t1 -c"$CONNS" -d"${SECS}s" --latency "$2")
  fi
  local rps p50 p99 errs
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1=="50%" {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  errs=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
  printf '%-34s %12s %10s %10s %8s\n' "$1" "$rps" "$p50" "$p99" "${errs:-0}"
}

echo "echo5d admin API, wrk 1 thread, $CONNS connections, ${SECS}s per point"
printf '%-34s %12s %10s %10s %8s\n' endpoint req/s p50 p99 non-2xx
run "GET /healthz (baseline)" "$BASE/healthz" ""
run "GET /api/v1/tenants/{id}" "$BASE/api/v1/tenants/$TENANT" "$DIR/get.lua"
run "PATCH .../settings (durable)" "$BASE/api/v1/tenants/$TENANT/settings" "$DIR/patch.lua"
run "GET /healthz (again)" "$BASE/healthz" ""
