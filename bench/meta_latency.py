#!/usr/bin/env python3
"""Meta webhook-to-stored-lead latency beside the Google hook's, against a running echo5d.

Started by bench/ad_sources.sh, which runs the daemon with --meta-graph-url pointing at the
Graph API stand-in this script serves (GET /v21.0/{leadgen_id} answering a real-shaped lead,
checking the access token). For each of N leads:

- Meta: a signed page notification is posted to /api/v1/hooks/meta; the lead counts as
  stored when the daemon's event stream (/api/v1/events) announces its lead.created, which
  is published once the lead is durable. Latency = that moment - the moment the POST began.
- Google: a WebhookLead is posted to /api/v1/hooks/google/{tenant}; it answers once the lead
  is durable. Latency = the request's round trip.

Two rounds each: one lead at a time (nothing queued), then a burst of N sent at once
(the fetches queue in the outbox).

usage: meta_latency.py BASE TOKEN TENANT_ID GOOGLE_KEY APP_SECRET META_TOKEN PAGE GRAPH_PORT N
"""

import hashlib
import hmac
import http.client
import json
import sys
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BASE, TOKEN, TENANT, GKEY, SECRET, META_TOKEN, PAGE, GPORT, N = sys.argv[1:10]
GPORT, N = int(GPORT), int(N)
HOST, PORT = urllib.parse.urlparse(BASE).hostname, urllib.parse.urlparse(BASE).port


class Graph(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out as two writes; with Nagle on, the second waits for the
    # client's delayed ACK (40 ms), which would be measured as the daemon's time.
    disable_nagle_algorithm = True

    def do_GET(self):
        u = urllib.parse.urlparse(self.path)
        q = urllib.parse.parse_qs(u.query)
        parts = u.path.strip("/").split("/")
        if q.get("access_token", [""])[0] != META_TOKEN:
            body = {"error": {"message": "Invalid OAuth access token.", "type": "OAuthException", "code": 190}}
            status = 400
        elif len(parts) == 2 and parts[0] == "v21.0":
            lid = parts[1]
            status, body = 200, {
                "id": lid, "created_time": "2026-12-06T20:00:00+0000", "form_id": "1200000000001",
                "ad_id": "23850000000000001", "ad_name": "Spring respite", "adset_id": "23850000000000002",
                "adset_name": "Caregivers 45+", "campaign_id": "23850000000000003", "campaign_name": "Home care",
                "is_organic": False, "platform": "fb",
                "field_data": [
                    {"name": "full_name", "values": ["Jane Doe " + lid[-6:]]},
                    {"name": "email", "values": [f"jane.{lid}@example.com"]},
                    {"name": "phone_number", "values": [f"+1512{int(lid) % 10_000_000:07d}"]},
                    {"name": "city", "values": ["Austin"]},
                    {"name": "zip_code", "values": ["78701"]},
                    {"name": "which_services?", "values": ["bathing", "meals"]}]}
        else:
            status, body = 400, {"error": {"message": "Unknown path components", "type": "OAuthException", "code": 2500}}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_):
        pass


def serve_graph():
    srv = ThreadingHTTPServer(("127.0.0.1", GPORT), Graph)
    threading.Thread(target=srv.serve_forever, daemon=True).start()


stored = {}  # lead id -> monotonic time its lead.created arrived
stored_lock = threading.Condition()


def watch_events():
    c = http.client.HTTPConnection(HOST, PORT)
    c.request("GET", "/api/v1/events", headers={"Authorization": f"Bearer {TOKEN}", "Accept": "text/event-stream"})
    r = c.getresponse()
    assert r.status == 200, r.status
    kind = None
    while True:
        line = r.fp.readline()
        if not line:
            return
        line = line.decode().rstrip("\n")
        if line.startswith("event:"):
            kind = line[6:].strip()
        elif line.startswith("data:") and kind == "lead.created":
            e = json.loads(line[5:])
            if e["data"].get("source") == "meta":
                with stored_lock:
                    stored[e["data"]["lead_id"]] = time.monotonic()
                    stored_lock.notify_all()


def conn():
    return http.client.HTTPConnection(HOST, PORT)


def post(c, path, body, headers):
    c.request("POST", path, body=body, headers={"content-type": "application/json", **headers})
    r = c.getresponse()
    data = r.read()
    assert r.status == 200, (r.status, data)
    return data


def notification(lid):
    return json.dumps({"object": "page", "entry": [{"id": PAGE, "time": int(time.time()), "changes": [
        {"field": "leadgen", "value": {"leadgen_id": lid, "page_id": PAGE, "form_id": "1200000000001",
                                       "adgroup_id": "23850000000000002", "ad_id": "23850000000000001",
                                       "created_time": int(time.time())}}]}]}, separators=(",", ":")).encode()


def send_meta(c, lid):
    body = notification(lid)
    sig = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    t = time.monotonic()
    post(c, "/api/v1/hooks/meta", body, {"x-hub-signature-256": sig})
    return t


def google_body(n, seed):
    return json.dumps({
        "lead_id": f"lat-{seed}-{n}", "api_version": "1.0", "form_id": 40000000001, "campaign_id": 20000000002,
        "adgroup_id": 130000000003, "creative_id": 650000000004, "gcl_id": f"EAIa{seed}{n}", "google_key": GKEY,
        "is_test": False, "user_column_data": [
            {"column_name": "Full Name", "string_value": f"Maria Lopez {n}", "column_id": "FULL_NAME"},
            {"column_name": "User Email", "string_value": f"maria.{seed}.{n}@example.com", "column_id": "EMAIL"},
            {"column_name": "User Phone", "string_value": f"(650) 555-{n % 10000:04d}", "column_id": "PHONE_NUMBER"},
            {"column_name": "City", "string_value": "Mountain View", "column_id": "CITY"}]}).encode()


def lead_external(lead_id):
    c = conn()
    c.request("GET", f"/api/v1/leads/{lead_id}", headers={"Authorization": f"Bearer {TOKEN}"})
    r = c.getresponse()
    return json.loads(r.read())["external_id"]


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def report(name, ms):
    print(f"{name:<44} {len(ms):>5} {pct(ms, 50):>9.2f} {pct(ms, 99):>9.2f} {max(ms):>9.2f}")


def meta_round(prefix, burst):
    """Latency per lead, in ms, by leadgen id."""
    sent = {}
    before = set(stored)
    if burst:
        with ThreadPoolExecutor(16) as ex:
            def one(i):
                c = conn()
                lid = f"{prefix}{i:06d}"
                sent[lid] = send_meta(c, lid)
            list(ex.map(one, range(N)))
    else:
        c = conn()
        for i in range(N):
            lid = f"{prefix}{i:06d}"
            with stored_lock:
                n0 = len(stored)
            sent[lid] = send_meta(c, lid)
            with stored_lock:
                stored_lock.wait_for(lambda: len(stored) > n0, timeout=30)
    deadline = time.monotonic() + 60
    with stored_lock:
        stored_lock.wait_for(lambda: len(stored) - len(before) >= N, timeout=max(0, deadline - time.monotonic()))
    new = {k: v for k, v in stored.items() if k not in before}
    got = []
    for lead_id, t in new.items():
        ext = lead_external(lead_id)
        if ext in sent:
            got.append((t - sent[ext]) * 1000)
    assert len(got) == N, f"{len(got)} of {N} Meta leads stored"
    return got


def google_round(seed, burst):
    ms = []
    lock = threading.Lock()

    def one(c, i):
        t = time.monotonic()
        post(c, f"/api/v1/hooks/google/{TENANT}", google_body(i, seed), {})
        with lock:
            ms.append((time.monotonic() - t) * 1000)

    if burst:
        with ThreadPoolExecutor(16) as ex:
            list(ex.map(lambda i: one(conn(), i), range(N)))
    else:
        c = conn()
        for i in range(N):
            one(c, i)
    return ms


serve_graph()
threading.Thread(target=watch_events, daemon=True).start()
time.sleep(0.3)
seed = str(int(time.time()))
print(f"webhook-to-stored-lead, {N} leads per round (ms)")
print(f"{'round':<44} {'leads':>5} {'p50':>9} {'p99':>9} {'max':>9}")
report("meta hook → Graph fetch → stored, one at a time", meta_round(seed[-4:] + "1", False))
report("google hook → stored, one at a time", google_round(seed + "a", False))
report("meta, burst of N (16 senders)", meta_round(seed[-4:] + "2", True))
report("google, burst of N (16 senders)", google_round(seed + "b", True))
