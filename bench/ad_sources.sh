#!/usr/bin/env bash
# Ad-platform lead benchmark: the Google Ads lead form hook (POST /api/v1/hooks/google/{tenant},
# a real-shaped WebhookLead, every lead_id and contact different so each is a real insert)
# beside website ingest (POST /api/v1/leads, the ~1 KB Contact Form 7 body of bench/ingest.sh)
# at concurrency 1, 16 and 64 in the same run, against the same daemon and tenant; then the
# Meta webhook-to-stored-lead latency (signed notification → outbox → Graph API fetch from a
# local stand-in → stored) beside the Google hook's, N leads each (bench/meta_latency.py).
#
# usage: bench/ad_sources.sh [seconds per point, default 5] [Meta leads per round, default 300]
#        ECHO5D_BIN=/path/to/older/echo5d bench/ad_sources.sh 5   (measure another build)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh
SECS=${1:-5}
META_N=${2:-300}
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install -y wrk" >&2; exit 1; }
BIN=${ECHO5D_BIN:-./target/release/echo5d}
[ -n "${ECHO5D_BIN:-}" ] || cargo build --release -q -p echo5d

DIR=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
GPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BIN" --data-dir "$DIR" --listen "127.0.0.1:$PORT" --key-rate-limit 0 --log warn \
  --meta-graph-url "http://127.0.0.1:$GPORT" \
  >/dev/null 2>"$DIR/daemon.log" &
PID=$!
trap 'kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true; rm -rf "$DIR"' EXIT
for _ in $(seq 100); do curl -sf "$BASE/readyz" >/dev/null && break; sleep 0.1; done
TOKEN=$(cat "$DIR/admin.token")
GKEY="bench-google-key-0123456789"
TENANT=$(curl -sf -H "Authorization: Bearer $TOKEN" -d '{"name":"Open Arms","settings":{"spam_keywords":["casino","crypto loan","seo services"],
  "google_ads":{"customer_id":"123-456-7890","conversion_action":"lead","webhook_key":"'"$GKEY"'"}}}' \
  "$BASE/api/v1/tenants" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
KEY=$(curl -sf -H "Authorization: Bearer $TOKEN" -X POST "$BASE/api/v1/tenants/open-arms/keys" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')

# Website: the body of bench/ingest.sh.
write_lead_lua "$PORT" "$KEY" "$DIR/lead.lua"

# Google: a WebhookLead with the standard columns, a custom question and the ad ids (~900
# bytes); lead_id, e-mail and phone differ per request (another seed per wrk run). The URL
# names the tenant by id (what the docs advise) or, in google-slug.lua, by slug.
cat >"$DIR/google.lua" <<LUA
local n = 0
local seed = tostring(os.time()) .. tostring(math.random(1000000))
local area = tostring(200 + os.time() % 800)
local head = "POST /api/v1/hooks/google/$TENANT HTTP/1.1\\r\\nHost: 127.0.0.1:$PORT\\r\\n" ..
  "Content-Type: application/json\\r\\nContent-Length: "
request = function()
  n = n + 1
  local body = '{"lead_id":"Cj0KCQjwit_8BRCoARIsAIx3Rj7g-' .. seed .. '-' .. n .. '","api_version":"1.0",' ..
    '"form_id":40000000001,"campaign_id":20000000002,"adgroup_id":130000000003,"creative_id":650000000004,' ..
    '"gcl_id":"EAIaIQobChMI' .. seed .. n .. '","google_key":"$GKEY","is_test":false,' ..
    '"lead_submit_time":"2026-12-06T20:00:00Z","user_column_data":[' ..
    '{"column_name":"Full Name","string_value":"Maria Lopez ' .. n .. '","column_id":"FULL_NAME"},' ..
    '{"column_name":"User Email","string_value":"maria.' .. seed .. '.' .. n .. '@example.com","column_id":"EMAIL"},' ..
    '{"column_name":"User Phone","string_value":"(' .. area .. ') ' ..
      string.format("%03d-%04d", math.floor(n / 10000) % 1000, n % 10000) .. '","column_id":"PHONE_NUMBER"},' ..
    '{"column_name":"Postal Code","string_value":"94043","column_id":"POSTAL_CODE"},' ..
    '{"column_name":"City","string_value":"Mountain View","column_id":"CITY"},' ..
    '{"column_name":"Company","string_value":"Lopez Family","column_id":"COMPANY_NAME"},' ..
    '{"column_name":"How many hours of care a week?","string_value":"20-30","column_id":"hours_q"}]}'
  return head .. #body .. "\\r\\n\\r\\n" .. body
end
LUA

sed "s|/api/v1/hooks/google/$TENANT |/api/v1/hooks/google/open-arms |" "$DIR/google.lua" >"$DIR/google-slug.lua"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
TICK_US=$((1000000 / $(getconf CLK_TCK)))

run() { # name url conns script
  local out t0 rps p50 p99 errs n cpu
  t0=$(cpu_ticks)
  out=$(wrk -t1 -c"$3" -d"${SECS}s" --latency -s "$4" "$2")
  n=$(echo "$out" | awk '/requests in/ {print $1}')
  cpu=$(( ($(cpu_ticks) - t0) * TICK_US / (n > 0 ? n : 1) ))
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1=="50%" {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  errs=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
  printf '%-34s %5s %12s %10s %10s %8s %10s\n' "$1" "$3" "$rps" "$p50" "$p99" "${errs:-0}" "$cpu"
  echo "$rps" >"$DIR/last"
}

echo "echo5d ad-platform leads beside website ingest, wrk 1 thread, ${SECS}s per point, synchronous=FULL"
printf '%-34s %5s %12s %10s %10s %8s %10s\n' endpoint conns leads/s p50 p99 non-2xx "CPU us/req"
for c in 1 16 64; do
  run "POST /api/v1/leads (website)" "$BASE/api/v1/leads" "$c" "$DIR/lead.lua"; w=$(cat "$DIR/last")
  run "POST /api/v1/hooks/google/{id}" "$BASE/api/v1/hooks/google/$TENANT" "$c" "$DIR/google.lua"; g=$(cat "$DIR/last")
  python3 -c "print(f'{\"  google (id) / website\":<40} {100*$g/$w:>17.1f} %')"
  run "POST /api/v1/hooks/google/{slug}" "$BASE/api/v1/hooks/google/open-arms" "$c" "$DIR/google-slug.lua"; g=$(cat "$DIR/last")
  python3 -c "print(f'{\"  google (slug) / website\":<40} {100*$g/$w:>17.1f} %')"
done
COUNTS=$(curl -sf -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/tenants/open-arms/analytics" \
  | python3 -c 'import json,sys; a=json.load(sys.stdin); print(", ".join(c["key"] + " " + str(c["count"]) for c in a["by_source"]))')
echo "leads stored by source: $COUNTS"

# Meta: the platform's app secret, the tenant's page and token; the Graph API stand-in is
# served by the script on $GPORT.
APP_SECRET="bench-meta-app-secret-0123456789"
META_TOKEN="EAAGbench-open-arms-token-0001"
curl -sf -o /dev/null -H "Authorization: Bearer $TOKEN" -X PATCH -d '{"meta_app_secret":"'"$APP_SECRET"'"}' \
  "$BASE/api/v1/platform/settings"
curl -sf -o /dev/null -H "Authorization: Bearer $TOKEN" -X PATCH \
  -d '{"meta_page_ids":["111111111"],"meta_access_token":"'"$META_TOKEN"'"}' \
  "$BASE/api/v1/tenants/open-arms/settings"
echo
python3 bench/meta_latency.py "$BASE" "$TOKEN" "$TENANT" "$GKEY" "$APP_SECRET" "$META_TOKEN" 111111111 "$GPORT" "$META_N"
