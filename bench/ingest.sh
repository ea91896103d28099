#!/usr/bin/env bash
# Ingest benchmark: durable lead ingest (POST /api/v1/leads, ~1 KB realistic JSON, every
# body different so each is a real insert) at concurrency 1, 16 and 64, each beside
# GET /healthz at the same concurrency in the same run.
#
# usage: bench/ingest.sh [seconds per point, default 5]
#        ECHO5D_BIN=/path/to/older/echo5d bench/ingest.sh 5   (measure another build)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh
SECS=${1:-5}
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install -y wrk" >&2; exit 1; }
# ECHO5D_BIN: another build to measure (A/B against an older commit in the same session).
BIN=${ECHO5D_BIN:-./target/release/echo5d}
[ -n "${ECHO5D_BIN:-}" ] || cargo build --release -q -p echo5d

DIR=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
"$BIN" --data-dir "$DIR" --listen "127.0.0.1:$PORT" --key-rate-limit 0 --log warn \
  >/dev/null 2>"$DIR/daemon.log" &
PID=$!
trap 'kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true; rm -rf "$DIR"' EXIT
for _ in $(seq 100); do curl -sf "$BASE/readyz" >/dev/null && break; sleep 0.1; done
TOKEN=$(cat "$DIR/admin.token")
curl -sf -H "Authorization: Bearer $TOKEN" -d '{"name":"Open Arms","settings":{"spam_keywords":["casino","crypto loan","seo services"]}}' \
  "$BASE/api/v1/tenants" >/dev/null
KEY=$(curl -sf -H "Authorization: Bearer $TOKEN" -X POST "$BASE/api/v1/tenants/open-arms/keys" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')

write_lead_lua "$PORT" "$KEY" "$DIR/lead.lua"

# CPU time the daemon has used so far, in clock ticks (utime + stime of /proc/PID/stat).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
TICK_US=$((1000000 / $(getconf CLK_TCK)))

run() { # name url conns [script]
  local out t0
  t0=$(cpu_ticks)
  if [ -n "${4:-}" ]; then out=$(wrk -t1 -c"$3" -d"${SECS}s" --latency -s "$4" "$2")
  else out=$(wrk -t1 -c"$3" -d"${SECS}s" --latency "$2"); fi
  local rps p50 p99 errs n cpu
  # The daemon's CPU per request is steadier than req/s on a shared machine whose other
  # tenants take cycles (steal): compare both.
  n=$(echo "$out" | awk '/requests in/ {print $1}')
  cpu=$(( ($(cpu_ticks) - t0) * TICK_US / (n > 0 ? n : 1) ))
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1=="50%" {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  errs=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
  printf '%-28s %5s %12s %10s %10s %8s %10s\n' "$1" "$3" "$rps" "$p50" "$p99" "${errs:-0}" "$cpu"
  echo "$rps" >"$DIR/last"
}

echo "echo5d ingest, wrk 1 thread, ${SECS}s per point, ~1 KB JSON bodies, synchronous=FULL"
printf '%-28s %5s %12s %10s %10s %8s %10s\n' endpoint conns req/s p50 p99 non-2xx "CPU us/req"
for c in 1 16 64; do
  run "GET /healthz" "$BASE/healthz" "$c"; h=$(cat "$DIR/last")
  run "POST /api/v1/leads" "$BASE/api/v1/leads" "$c" "$DIR/lead.lua"; l=$(cat "$DIR/last")
  python3 -c "print(f'{\"  ingest / healthz\":<34} {100*$l/$h:>17.1f} %')"
done
STORED=$(curl -sf -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/tenants/open-arms/stages" \
  | python3 -c 'import json,sys; print(sum(s["lead_count"] for s in json.load(sys.stdin)["data"]))')
echo "leads stored: $STORED"
