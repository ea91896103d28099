#!/usr/bin/env bash
# Users and sessions benchmark, all in one run (this machine is noisy; compare within a run):
#  1. GET /healthz alone (baseline);
#  2. POST /api/v1/auth/login, a correct password, at 4 connections: login p50/p99 (argon2id
#     dominates), and GET /healthz measured *at the same time* — argon2 runs off the async
#     runtime, so /healthz p99 must stay near its baseline;
#  3. the cost of authorization on a filtered lead page: the same GET of a tenant's leads
#     with the admin token and with a tenant admin's session, and beside them a manager's
#     session on the same URL (the daemon adds "assigned to me" to the query: their 50
#     leads), each round in another order.
#
# usage: [ROUNDS=2] bench/auth.sh [seconds per point, default 5] [connections for the page, default 16]
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-5}
CONNS=${2:-16}
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install -y wrk" >&2; exit 1; }
cargo build --release -q -p echo5d
BIN=${ECHO5D_BIN:-./target/release/echo5d}

DIR=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
"$BIN" --data-dir "$DIR" --listen "127.0.0.1:$PORT" --demo --log warn >/dev/null 2>"$DIR/daemon.log" &
PID=$!
trap 'kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true; rm -rf "$DIR"' EXIT
for _ in $(seq 100); do curl -sf "$BASE/readyz" >/dev/null && break; sleep 0.1; done
TOKEN=$(cat "$DIR/admin.token")
PASSWORD='violet-Harbor-93-quietly-Lantern'
EMAIL='bench.admin@open-arms.example'

# Tenant users of open-arms, through the invitation link each create answer carries.
user_session() { # email role -> session token
  local invite
  invite=$(curl -sf -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -d "{\"email\":\"$1\",\"name\":\"Bench User\",\"role\":\"$2\"}" \
    "$BASE/api/v1/tenants/open-arms/users" | python3 -c 'import json,sys; print(json.load(sys.stdin)["invite_url"].split("#token=")[1])')
  curl -sf -H 'Content-Type: application/json' -d "{\"token\":\"$invite\",\"password\":\"$PASSWORD\"}" \
    "$BASE/api/v1/auth/accept-invite" >/dev/null
  curl -sf -H 'Content-Type: application/json' -d "{\"email\":\"$1\",\"password\":\"$PASSWORD\"}" \
    "$BASE/api/v1/auth/login" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}
SESSION=$(user_session "$EMAIL" admin)
MANAGER=$(user_session bench.manager@open-arms.example manager)
MANAGER_ID=$(curl -sf -H "Authorization: Bearer $MANAGER" "$BASE/api/v1/me" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["user"]["id"])')
STAGE=$(curl -sf -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/tenants/open-arms/stages" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][0]["id"])')
PAGE="$BASE/api/v1/tenants/open-arms/leads?stage=$STAGE&limit=50"
# The manager is given the first 50 leads of the page.
for lead in $(curl -sf -H "Authorization: Bearer $TOKEN" "$PAGE" |
  python3 -c 'import json,sys; print(" ".join(l["id"] for l in json.load(sys.stdin)["data"]))'); do
  curl -sf -X PATCH -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -d "{\"assigned_to\":\"$MANAGER_ID\"}" "$BASE/api/v1/leads/$lead" >/dev/null
done

cat >"$DIR/login.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"email":"$EMAIL","password":"$PASSWORD"}'
LUA
printf 'wrk.headers["Authorization"] = "Bearer %s"\n' "$TOKEN" >"$DIR/admin.lua"
printf 'wrk.headers["Authorization"] = "Bearer %s"\n' "$SESSION" >"$DIR/session.lua"
printf 'wrk.headers["Authorization"] = "Bearer %s"\n' "$MANAGER" >"$DIR/manager.lua"

# CPU time the daemon has used so far, in clock ticks (utime + stime of /proc/PID/stat):
# per request it is steadier than req/s on a shared machine, so both are shown.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
TICK_US=$((1000000 / $(getconf CLK_TCK)))

row() { # name wrk-output [cpu-us-per-request]
  local rps p50 p99 errs
  rps=$(echo "$2" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$2" | awk '$1=="50%" {print $2}')
  p99=$(echo "$2" | awk '$1=="99%" {print $2}')
  errs=$(echo "$2" | awk '/Non-2xx/ {print $NF}')
  printf '%-44s %10s %10s %10s %8s %10s\n' "$1" "$rps" "$p50" "$p99" "${errs:-0}" "${3:-}"
}
bench() { # name conns url [script]
  local out t0 n
  t0=$(cpu_ticks)
  if [ -n "${4:-}" ]; then
    out=$(wrk -t1 -c"$2" -d"${SECS}s" --latency -s "$4" "$3")
  else
    out=$(wrk -t1 -c"$2" -d"${SECS}s" --latency "$3")
  fi
  n=$(echo "$out" | awk '/requests in/ {print $1}')
  row "$1" "$out" "$(( ($(cpu_ticks) - t0) * TICK_US / (n > 0 ? n : 1) ))"
}

echo "echo5d users and sessions, wrk 1 thread, ${SECS}s per point"
printf '%-44s %10s %10s %10s %8s %10s\n' what req/s p50 p99 non-2xx cpu-us/req
bench "GET /healthz alone (baseline), c4" 4 "$BASE/healthz"
wrk -t1 -c4 -d"${SECS}s" --latency -s "$DIR/login.lua" "$BASE/api/v1/auth/login" >"$DIR/login.out" &
LOGIN=$!
sleep 0.5
bench "GET /healthz during the login burst, c4" 4 "$BASE/healthz"
wait $LOGIN
row "POST /api/v1/auth/login (correct), c4" "$(cat "$DIR/login.out")"
# Warm the page's database pages and caches first, then alternate which credential goes
# first (ABBA): on a shared machine whichever runs first in a pair was often the slower.
wrk -t1 -c"$CONNS" -d3s "$PAGE" -s "$DIR/admin.lua" >/dev/null
orders=("admin session manager" "manager session admin" "session admin manager")
for round in $(seq "${ROUNDS:-2}"); do
  for who in ${orders[$(( (round - 1) % 3 ))]}; do
    case $who in
      admin) bench "lead page, admin token, c$CONNS ($round)" "$CONNS" "$PAGE" "$DIR/admin.lua" ;;
      session) bench "lead page, tenant admin session, c$CONNS ($round)" "$CONNS" "$PAGE" "$DIR/session.lua" ;;
      manager) bench "lead page, manager session, c$CONNS ($round)" "$CONNS" "$PAGE" "$DIR/manager.lua" ;;
    esac
  done
done
