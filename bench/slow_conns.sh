#!/usr/bin/env bash
# /healthz latency while N slow connections are held open: wrk --latency against GET /healthz
# first alone, then while a helper holds N half-sent requests (a request line and one header,
# then one more header line every 5 s, never the blank line that ends the head). When the
# daemon closes one (header read timeout, connection cap), the helper opens another, so N
# stay held for the whole run, as an attacker would.
#
# usage: bench/slow_conns.sh [slow connections, default 500] [seconds per point, default 5]
#        ECHO5D_BIN=/path/to/older/echo5d bench/slow_conns.sh 500 5   (measure another build)
#        ECHO5D_ARGS="--header-read-timeout 2s" bench/slow_conns.sh      (extra daemon flags)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-500}
SECS=${2:-5}
CONNS=${WRK_CONNS:-16}
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install -y wrk" >&2; exit 1; }
BIN=${ECHO5D_BIN:-./target/release/echo5d}
[ -n "${ECHO5D_BIN:-}" ] || cargo build --release -q -p echo5d

DIR=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
# shellcheck disable=SC2086 # ECHO5D_ARGS is a list of flags
"$BIN" --data-dir "$DIR" --listen "127.0.0.1:$PORT" --log warn ${ECHO5D_ARGS:-} >/dev/null 2>"$DIR/daemon.log" &
PID=$!
HELPER=""
trap '[ -n "$HELPER" ] && kill $HELPER 2>/dev/null; kill $PID 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$DIR"' EXIT
for _ in $(seq 100); do curl -sf "$BASE/readyz" >/dev/null && break; sleep 0.1; done

cat >"$DIR/hold.py" <<'PY'
import selectors, socket, sys, time
port, n, secs = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
sel = selectors.DefaultSelector()
held = set()
def open_one():
    s = socket.create_connection(("127.0.0.1", port))
    s.setblocking(False)
    s.send(b"POST /api/v1/leads HTTP/1.1\r\nHost: echo5\r\n")
    sel.register(s, selectors.EVENT_READ)
    held.add(s)
for _ in range(n):
    open_one()
print("ready", flush=True)
end, trickled, reopened = time.time() + secs, time.time(), 0
while time.time() < end:
    for key, _ in sel.select(timeout=0.2):
        s = key.fileobj
        try:
            data = s.recv(4096)
        except BlockingIOError:
            continue
        except OSError:
            data = b""
        if not data:
            sel.unregister(s); s.close(); held.discard(s); reopened += 1
            open_one()
    if time.time() - trickled >= 5:
        for s in list(held):
            try:
                s.send(b"X-Slow: a\r\n")
            except OSError:
                pass
        trickled = time.time()
print(f"held {len(held)} slow connections; {reopened} reopened after the daemon closed them", flush=True)
PY

run() { # label
  local out rps p50 p99 errs
  out=$(wrk -t1 -c"$CONNS" -d"${SECS}s" --latency "$BASE/healthz")
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1=="50%" {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  errs=$(echo "$out" | awk '/Socket errors/ {print $0}' | sed 's/^ *//')
  printf '%-34s %12s %10s %10s  %s\n' "$1" "$rps" "$p50" "$p99" "${errs:-}"
}

echo "echo5d GET /healthz, wrk 1 thread, $CONNS connections, ${SECS}s per point ($BIN)"
printf '%-34s %12s %10s %10s\n' "" req/s p50 p99
run "no slow connections"
python3 "$DIR/hold.py" "$PORT" "$N" "$((SECS + 1))" >"$DIR/hold.out" &
HELPER=$!
for _ in $(seq 300); do grep -q ready "$DIR/hold.out" 2>/dev/null && break; sleep 0.1; done
run "$N slow connections held"
wait "$HELPER" || true
HELPER=""
tail -n 1 "$DIR/hold.out"
run "after they are gone"
