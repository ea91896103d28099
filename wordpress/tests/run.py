#!/usr/bin/env python3
"""End-to-end tests of the Echo5 Leads WordPress plugin, on real parts only.

Starts MariaDB (a private data directory, socket only), a real WordPress (Debian's 6.1 with
the plugin copied in and active) served by PHP's built-in server, the real echo5d with a
tenant and an API key made over its admin API, and a visitor in headless Chromium driven by
Selenium. Each case prints `ok - name` or `FAIL - name: why`; the last line is
`N passed, N failed`. Exits non-zero when a case fails.

    python3 wordpress/tests/run.py --wordpress /path/to/wordpress --daemon target/debug/echo5d
        [--keep] [--bench N]

--bench N: instead of the cases, N form posts each with the plugin and the daemon up, with
the daemon down, and to the same form without the plugin; prints p50/p99 of each.
"""

import argparse
import http.client
import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
PLUGIN = os.path.join(os.path.dirname(HERE), "echo5-leads")
ADMIN_USER, ADMIN_PASS = "admin", "echo5-admin-pass"
UTM = {
    "utm_source": "newsletter",
    "utm_medium": "email",
    "utm_campaign": "spring-care",
    "utm_term": "home care",
    "utm_content": "hero",
    "gclid": "Cj0KCQ-test-gclid",
    "fbclid": "IwAR-test-fbclid",
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what, check, timeout=30.0, interval=0.2):
    """Polls check() until it returns a truthy value; fails with `what` after timeout."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            last = check()
            if last:
                return last
        except Exception as e:  # the thing polled may not be up yet
            last = e
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def request(method, url, body=None, headers=None, timeout=30, follow=True):
    """(status, headers, body bytes) of one request; never raises on an HTTP status."""
    data = body if isinstance(body, (bytes, type(None))) else body.encode()
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    opener = urllib.request.build_opener() if follow else urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


class StandIn:
    """A daemon stand-in on loopback in front of the real daemon: answers the first requests
    to /api/v1/leads as the test tells it (503, 429, hang, or forward and then answer 503),
    forwards everything else, and records what it was sent."""

    def __init__(self, upstream):
        self.upstream = upstream
        self.script = []  # one action per coming lead request: "503", "429:<s>", "hang:<s>", "lose"
        self.seen = []  # (path, headers dict, body) of every lead request
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _forward(self, body):
                conn = http.client.HTTPConnection("127.0.0.1", outer.upstream, timeout=30)
                hdrs = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                conn.request(self.command, self.path, body=body, headers=hdrs)
                r = conn.getresponse()
                return r.status, r.getheaders(), r.read()

            def _reply(self, status, headers, body):
                self.send_response(status)
                for k, v in headers:
                    if k.lower() not in ("content-length", "connection", "transfer-encoding"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                try:
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the plugin gave up waiting (its timeout): nobody reads the answer

            def _handle(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                action = None
                if self.path.startswith("/api/v1/leads"):
                    with outer.lock:
                        outer.seen.append((self.path, dict(self.headers), body))
                        action = outer.script.pop(0) if outer.script else None
                err = b'{"error":{"code":"storage_busy","message":"stand-in: busy"}}'
                if action == "503":
                    return self._reply(503, [("Content-Type", "application/json"), ("Retry-After", "1")], err)
                if action and action.startswith("429:"):
                    return self._reply(
                        429,
                        [("Content-Type", "application/json"), ("Retry-After", action[4:])],
                        b'{"error":{"code":"rate_limited","message":"stand-in: slow down"}}',
                    )
                if action and action.startswith("hang:"):
                    time.sleep(float(action[5:]))
                    return self._reply(503, [("Content-Type", "application/json")], err)
                status, headers, out = self._forward(body)
                if action == "lose":
                    # The daemon has stored the lead; its answer is lost on the way back.
                    return self._reply(503, [("Content-Type", "application/json"), ("Retry-After", "1")], err)
                return self._reply(status, headers, out)

            do_GET = do_POST = _handle

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


class Site:
    """MariaDB, WordPress on PHP's built-in server, echo5d, and Chromium."""

    def __init__(self, wordpress, daemon_bin, keep, fpm=False):
        self.fpm = fpm
        self.tmp = tempfile.mkdtemp(prefix="echo5-wp-")
        self.keep = keep
        self.procs = {}
        self.wordpress_src = wordpress
        self.daemon_bin = os.path.abspath(daemon_bin)
        self.driver = None

    # ---- processes -------------------------------------------------------------------

    def spawn(self, name, args, env=None, log=None):
        out = open(os.path.join(self.tmp, f"{name}.log"), "ab")
        # A process group of its own: PHP's server forks workers, PHP-FPM and nginx fork
        # theirs, and stopping must end them all.
        p = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=self.tmp,
                             start_new_session=True)
        self.procs[name] = p
        return p

    def stop(self, name):
        p = self.procs.pop(name, None)
        if p and p.poll() is None:
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if p:
            try:
                os.killpg(p.pid, signal.SIGKILL)  # workers left behind by the leader
            except ProcessLookupError:
                pass

    def close(self):
        if self.driver:
            try:
                self.driver.quit()
            except Exception:
                pass
        for name in list(self.procs):
            self.stop(name)
        if not self.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)
        else:
            print(f"# kept {self.tmp}")

    # ---- MariaDB ---------------------------------------------------------------------

    def start_mariadb(self):
        data = os.path.join(self.tmp, "mysql")
        self.sock = os.path.join(self.tmp, "mysql.sock")
        subprocess.run(
            ["mariadb-install-db", "--no-defaults", f"--datadir={data}", "--user=root",
             "--auth-root-authentication-method=normal", "--skip-test-db"],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        self.spawn("mariadb", ["mariadbd", "--no-defaults", f"--datadir={data}", f"--socket={self.sock}",
                               "--skip-networking", "--user=root", f"--pid-file={self.tmp}/mysql.pid",
                               "--innodb-buffer-pool-size=64M", "--skip-log-bin"])
        wait_for("MariaDB's socket", lambda: os.path.exists(self.sock)
                 and subprocess.run(["mariadb", f"--socket={self.sock}", "-uroot", "-e", "SELECT 1"],
                                    capture_output=True).returncode == 0)
        subprocess.run(["mariadb", f"--socket={self.sock}", "-uroot", "-e",
                        "CREATE DATABASE wp; CREATE USER 'wp'@'localhost' IDENTIFIED BY 'wp';"
                        "GRANT ALL ON wp.* TO 'wp'@'localhost';"], check=True)

    # ---- WordPress -------------------------------------------------------------------

    def setup_wordpress(self):
        self.docroot = os.path.join(self.tmp, "wordpress")
        shutil.copytree(self.wordpress_src, self.docroot, symlinks=True)
        # The copy of the plugin under test, as a site would have it.
        shutil.copytree(PLUGIN, os.path.join(self.docroot, "wp-content", "plugins", "echo5-leads"))
        os.makedirs(os.path.join(self.docroot, "wp-content", "mu-plugins"), exist_ok=True)
        shutil.copy(os.path.join(HERE, "mu-plugins", "echo5-test-site.php"),
                    os.path.join(self.docroot, "wp-content", "mu-plugins"))
        self.wp_port = free_port()
        self.url = f"http://127.0.0.1:{self.wp_port}"
        config = f"""<?php
define( 'DB_NAME', 'wp' );
define( 'DB_USER', 'wp' );
define( 'DB_PASSWORD', 'wp' );
define( 'DB_HOST', 'localhost:{self.sock}' );
define( 'DB_CHARSET', 'utf8mb4' );
define( 'DB_COLLATE', '' );
$table_prefix = 'wp_';
foreach ( array( 'AUTH_KEY', 'SECURE_AUTH_KEY', 'LOGGED_IN_KEY', 'NONCE_KEY', 'AUTH_SALT', 'SECURE_AUTH_SALT', 'LOGGED_IN_SALT', 'NONCE_SALT' ) as $k ) {{
	define( $k, 'echo5-test-' . $k );
}}
define( 'WP_DEBUG', true );
define( 'WP_DEBUG_LOG', '{self.tmp}/wp-debug.log' );
define( 'WP_DEBUG_DISPLAY', false );
// A system cron (here: the test) calls wp-cron.php, as the plugin's readme recommends.
define( 'DISABLE_WP_CRON', true );
define( 'AUTOMATIC_UPDATER_DISABLED', true );
define( 'WP_HTTP_BLOCK_EXTERNAL', true );
define( 'WP_ACCESSIBLE_HOSTS', '127.0.0.1,localhost' );
if ( ! defined( 'ABSPATH' ) ) {{
	define( 'ABSPATH', __DIR__ . '/' );
}}
require_once ABSPATH . 'wp-settings.php';
"""
        with open(os.path.join(self.docroot, "wp-config.php"), "w") as f:
            f.write(config)
        out = self.wp("install", "Contact")
        self.page_url = json.loads(out.strip().splitlines()[-1])["page_url"]
        if self.fpm:
            self.start_nginx_fpm()
        else:
            env = dict(os.environ, PHP_CLI_SERVER_WORKERS="4")
            self.spawn("php", ["php", "-d", "variables_order=EGPCS", "-S", f"127.0.0.1:{self.wp_port}",
                               "-t", self.docroot], env=env)
        wait_for("WordPress", lambda: request("GET", self.url + "/")[0] == 200)

    def start_nginx_fpm(self):
        """nginx and PHP-FPM (Debian's nginx-light and php8.2-fpm) instead of PHP's built-in
        server: there the plugin's immediate send runs after fastcgi_finish_request()."""
        t = self.tmp
        with open(f"{t}/fpm.conf", "w") as f:
            f.write(f"""[global]
pid = {t}/fpm.pid
error_log = {t}/fpm.log
daemonize = no
[www]
listen = {t}/fpm.sock
pm = static
pm.max_children = 4
clear_env = no
catch_workers_output = yes
""")
        with open(f"{t}/nginx.conf", "w") as f:
            f.write(f"""user root;
daemon off;
worker_processes 1;
pid {t}/nginx.pid;
error_log {t}/nginx-error.log;
events {{ worker_connections 256; }}
http {{
  access_log off;
  client_body_temp_path {t}/nginx-body;
  fastcgi_temp_path {t}/nginx-fcgi;
  proxy_temp_path {t}/nginx-proxy;
  uwsgi_temp_path {t}/nginx-uwsgi;
  scgi_temp_path {t}/nginx-scgi;
  include /etc/nginx/mime.types;
  server {{
    listen 127.0.0.1:{self.wp_port};
    root {self.docroot};
    index index.php;
    location / {{ try_files $uri $uri/ /index.php?$args; }}
    location ~ \\.php$ {{
      include /etc/nginx/fastcgi_params;
      fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
      fastcgi_param HTTP_HOST $http_host;
      fastcgi_pass unix:{t}/fpm.sock;
    }}
  }}
}}
""")
        fpm = next(p for p in ("/usr/sbin/php-fpm8.2", "/usr/sbin/php-fpm") if os.path.exists(p))
        self.spawn("php-fpm", [fpm, "-R", "-F", "-y", f"{t}/fpm.conf"])
        wait_for("PHP-FPM's socket", lambda: os.path.exists(f"{t}/fpm.sock"))
        self.spawn("nginx", ["/usr/sbin/nginx", "-c", f"{t}/nginx.conf", "-p", t, "-e", f"{t}/nginx-error.log"])

    def wp(self, *args):
        """Runs wordpress/tests/wp.php in the site; its stdout."""
        r = subprocess.run(["php", os.path.join(HERE, "wp.php"), self.docroot, self.url, *args],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise AssertionError(f"wp.php {args}: {r.stderr}{r.stdout}")
        return r.stdout

    def sql(self, statement):
        """Runs SQL in the site's database as root (to break things on purpose)."""
        subprocess.run(["mariadb", f"--socket={self.sock}", "-uroot", "wp", "-e", statement], check=True)

    def outbox(self):
        return json.loads(self.wp("outbox").strip() or "[]") or []

    def set_option(self, name, value):
        self.wp("option-set", name, value)

    def run_cron(self):
        """What a system cron does: GET wp-cron.php."""
        status, _, body = request("GET", self.url + "/wp-cron.php", timeout=60)
        assert status == 200, f"wp-cron.php answered {status}: {body[:200]!r}"

    # ---- echo5d ----------------------------------------------------------------------

    def start_daemon(self, port=None):
        self.daemon_data = getattr(self, "daemon_data", os.path.join(self.tmp, "echo5"))
        os.makedirs(self.daemon_data, exist_ok=True)
        self.daemon_port = port or getattr(self, "daemon_port", None) or free_port()
        self.daemon_url = f"http://127.0.0.1:{self.daemon_port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("ECHO5_")}
        self.spawn("echo5d", [self.daemon_bin, "--data-dir", self.daemon_data,
                              "--listen", f"127.0.0.1:{self.daemon_port}"], env=env)
        wait_for("echo5d /readyz", lambda: request("GET", self.daemon_url + "/readyz")[0] == 200)
        with open(os.path.join(self.daemon_data, "admin.token")) as f:
            self.token = f.read().strip()

    def admin(self, method, path, body=None):
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        status, _, out = request(method, self.daemon_url + path,
                              None if body is None else json.dumps(body), headers)
        return status, (json.loads(out) if out else None)

    def make_tenant_and_key(self):
        status, t = self.admin("POST", "/api/v1/tenants", {"name": "Open Arms"})
        assert status == 201, (status, t)
        status, k = self.admin("POST", "/api/v1/tenants/open-arms/keys", {})
        assert status == 201, (status, k)
        self.key = k["secret"]

    def leads(self):
        """Every lead of the tenant (spam included), newest first."""
        out, cursor = [], None
        while True:
            q = "?limit=200&spam=all" + (f"&cursor={urllib.parse.quote(cursor)}" if cursor else "")
            status, page = self.admin("GET", "/api/v1/tenants/open-arms/leads" + q)
            assert status == 200, (status, page)
            out += page["data"]
            cursor = page.get("next_cursor")
            if not cursor:
                return out

    def leads_with_email(self, email):
        return [lead for lead in self.leads() if lead.get("email") == email]

    # ---- Chromium --------------------------------------------------------------------

    def browser(self):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        if self.driver:
            self.driver.quit()
        opts = webdriver.ChromeOptions()
        opts.binary_location = "/usr/bin/chromium"
        for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--disable-dev-shm-usage", f"--user-data-dir={tempfile.mkdtemp(dir=self.tmp)}"):
            opts.add_argument(flag)
        self.driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
        self.driver.set_page_load_timeout(60)
        return self.driver

    def login_admin(self):
        from selenium.webdriver.common.by import By

        d = self.driver or self.browser()
        d.get(self.url + "/wp-login.php")
        d.find_element(By.ID, "user_login").send_keys(ADMIN_USER)
        d.find_element(By.ID, "user_pass").send_keys(ADMIN_PASS)
        d.find_element(By.ID, "wp-submit").click()
        wait_for("the dashboard", lambda: "/wp-admin/" in d.current_url)
        return d

    def submit_form(self, name, email, message, phone="(555) 010-2000"):
        """The visitor fills the [echo5_form] on the current page and sends it; returns the
        text the page then shows."""
        from selenium.webdriver.common.by import By

        d = self.driver
        d.find_element(By.NAME, "echo5_name").send_keys(name)
        d.find_element(By.NAME, "echo5_email").send_keys(email)
        d.find_element(By.NAME, "echo5_phone").send_keys(phone)
        d.find_element(By.NAME, "echo5_message").send_keys(message)
        started = time.time()
        d.find_element(By.CSS_SELECTOR, ".echo5-form button[type=submit]").click()
        shown = wait_for("the form's answer", lambda: d.find_elements(By.CSS_SELECTOR, ".echo5-form-success, .echo5-form-error"))
        return shown[0].text, time.time() - started


# ---- the cases ---------------------------------------------------------------------------

def settled(site, needle, count=1):
    """The `count` outbox rows whose payload contains `needle` (a string, or any of a list),
    once each has had its attempt and none is in flight: under PHP-FPM the visitor's answer
    comes before the attempt ends."""
    needles = [needle] if isinstance(needle, str) else needle

    def check():
        rows = [r for r in site.outbox() if any(n in r["payload"] for n in needles)]
        done = len(rows) == count and all(int(r["attempts"]) >= 1 and int(r["locked_until"]) == 0 for r in rows)
        return rows if done else None

    return wait_for(f"{count} attempted row(s) with {needle}", check)


def saved_notice(d):
    """Waits for WordPress's "Settings saved." after a save."""
    from selenium.webdriver.common.by import By

    notice = wait_for("the saved settings", lambda: d.find_elements(By.ID, "setting-error-settings_updated"))
    assert "saved" in notice[0].text.lower(), notice[0].text
    # The next save must not find this page's notice.
    d.execute_script("arguments[0].remove()", notice[0])


def case_settings_page(site):
    """The admin saves the daemon URL and key; the key shows masked; test connection names
    the tenant."""
    from selenium.webdriver.common.by import By

    d = site.login_admin()
    d.get(site.url + "/wp-admin/admin.php?page=echo5-leads-settings")
    url_input = d.find_element(By.ID, "echo5_leads_url")
    url_input.clear()
    url_input.send_keys(site.daemon_url)
    d.find_element(By.ID, "echo5_leads_api_key").send_keys(site.key)
    d.find_element(By.ID, "submit").click()
    saved_notice(d)
    assert site.key not in d.page_source, "the full key is in the settings page"
    saved = d.find_element(By.ID, "echo5-leads-key-saved").text
    assert site.key[:8] in saved and "•" in saved, f"masked key shown as {saved!r}"
    assert d.find_element(By.ID, "echo5_leads_api_key").get_attribute("value") == ""
    d.find_element(By.ID, "echo5-leads-test").click()
    result = wait_for("the test result", lambda: d.find_elements(By.ID, "echo5-leads-test-result"))[0].text
    assert "Open Arms" in result and "open-arms" in result, f"test connection said {result!r}"
    # A second save with the key field left blank keeps the key.
    d.find_element(By.ID, "submit").click()
    saved_notice(d)
    d.find_element(By.ID, "echo5-leads-test").click()
    result = wait_for("the test result", lambda: d.find_elements(By.ID, "echo5-leads-test-result"))[0].text
    assert "Open Arms" in result, f"after a blank save, test connection said {result!r}"


def visitor_arrives_with_utm(site):
    """A fresh browser: the visitor follows a link on another site to the home page with UTM
    parameters, then goes to the contact page (whose URL has none)."""
    d = site.browser()
    link = site.url + "/?" + urllib.parse.urlencode(UTM)
    d.get(site.daemon_url + "/healthz")  # another origin, as the referring site
    d.execute_script("window.location.href = arguments[0];", link)
    wait_for("the landing page", lambda: "utm_source" in d.current_url and
             d.execute_script("return document.readyState") == "complete")
    d.get(site.page_url)
    return d


def case_shortcode_lead_reaches_daemon(site):
    """Name, e-mail, message, form name, page URL and the UTM fields reach the daemon."""
    visitor_arrives_with_utm(site)
    text, _ = site.submit_form("Jane Visitor", "jane.visitor@example.com", "Please call me about care.")
    assert "Thank you" in text, f"the visitor saw {text!r}"
    lead = wait_for("the lead at the daemon", lambda: site.leads_with_email("jane.visitor@example.com"))
    assert len(lead) == 1, f"{len(lead)} leads"
    lead = lead[0]
    expect = {"name": "Jane Visitor", "email": "jane.visitor@example.com",
              "message": "Please call me about care.", "form_name": "Contact page",
              "page_url": site.page_url, "phone": "+15550102000", **UTM}
    for k, v in expect.items():
        assert lead.get(k) == v, f"{k}: {lead.get(k)!r} != {v!r}"
    assert (lead.get("referrer") or "").startswith(site.daemon_url), f"referrer {lead.get('referrer')!r}"
    custom = lead.get("custom") or {}
    assert custom.get("landing_page", "").startswith(site.url + "/?utm_source=newsletter"), custom
    assert custom.get("form_plugin") == "shortcode", custom
    rows = settled(site, "jane.visitor@")
    assert rows[0]["status"] == "sent" and rows[0]["lead_id"] == lead["id"], rows


def case_shortcode_honeypot_and_invalid(site):
    """A filled honeypot is answered like a success and stores nothing; a post without a
    valid e-mail address is sent back with the error and stores nothing."""
    before = len(site.outbox())
    base = {"action": "echo5_leads_submit", "echo5_form_name": "Contact page", "echo5_page_url": site.page_url,
            "echo5_anchor": "echo5-form-1", "echo5_name": "Bot", "echo5_email": "bot@example.com",
            "echo5_message": "buy now"}
    for extra, result in (({"echo5_website": "http://spam.example"}, "sent"),
                          ({"echo5_email": "not-an-address"}, "invalid"),
                          ({"echo5_name": ""}, "invalid")):
        body = urllib.parse.urlencode({**base, **extra})
        status, headers, _ = request("POST", site.url + "/wp-admin/admin-post.php", body,
                                     {"Content-Type": "application/x-www-form-urlencoded"}, follow=False)
        location = headers.get("Location", "")
        assert status == 303 and f"echo5_leads={result}" in location, (extra, status, location)
        assert location.startswith(site.page_url.split("?")[0]), location
    assert len(site.outbox()) == before, "a refused post was stored"


def case_store_failure_is_not_thanked(site):
    """A database that refuses the outbox row: the visitor is told to try again, not thanked
    for a lead that exists nowhere."""
    body = urllib.parse.urlencode({
        "action": "echo5_leads_submit", "echo5_form_name": "Contact page", "echo5_page_url": site.page_url,
        "echo5_anchor": "echo5-form-1", "echo5_name": "Lost Visitor", "echo5_email": "lost@example.com",
        "echo5_message": "nowhere"})
    site.sql("RENAME TABLE wp_echo5_leads_outbox TO wp_echo5_leads_outbox_away")
    try:
        status, headers, _ = request("POST", site.url + "/wp-admin/admin-post.php", body,
                                     {"Content-Type": "application/x-www-form-urlencoded"}, follow=False)
    finally:
        site.sql("RENAME TABLE wp_echo5_leads_outbox_away TO wp_echo5_leads_outbox")
    location = headers.get("Location", "")
    assert status == 303 and "echo5_leads=error" in location, (status, location)
    status, _, page = request("GET", location.split("#")[0])
    assert status == 200 and b"could not be saved" in page, status
    assert not [r for r in site.outbox() if "lost@example.com" in r["payload"]]


def case_daemon_down_then_cron(site):
    """With the daemon stopped, three submissions succeed for the visitor and are queued;
    when it is back and WP-Cron runs, each arrives exactly once."""
    site.stop("echo5d")
    site.browser()
    emails = [f"queued{i}@example.com" for i in range(3)]
    for i, email in enumerate(emails):
        site.driver.get(site.page_url)
        text, _ = site.submit_form(f"Queued Visitor {i}", email, f"Queued while down #{i}")
        assert "Thank you" in text, f"the visitor saw {text!r}"
    rows = settled(site, emails, 3)
    for r in rows:
        assert r["status"] == "queued" and int(r["attempts"]) == 1, r
        assert r["last_error"] and int(r["last_status"]) == 0, r
    site.run_cron()  # still down: attempts grow, nothing lost
    site.start_daemon()
    time.sleep(1.2)  # the test site's backoff is one second
    site.run_cron()
    wait_for("three delivered rows", lambda: all(
        r["status"] == "sent" for r in site.outbox() if any(e in r["payload"] for e in emails)) or site.run_cron())
    for _ in range(2):  # more cron runs send nothing again
        time.sleep(1.1)
        site.run_cron()
    for email in emails:
        got = site.leads_with_email(email)
        assert len(got) == 1, f"{email}: {len(got)} leads"


def case_503_then_200(site):
    """A daemon answering 503 and then 200 gives one lead, sent twice with one
    Idempotency-Key and the same body; so does an answer lost after the daemon stored it."""
    proxy = StandIn(site.daemon_port)
    try:
        site.set_option("echo5_leads_url", f"http://127.0.0.1:{proxy.port}")
        for action, email in (("503", "busy503@example.com"), ("lose", "lost-answer@example.com")):
            proxy.script = [action]
            proxy.seen.clear()
            site.browser().get(site.page_url)
            text, _ = site.submit_form("Retry Visitor", email, "Sent twice, stored once")
            assert "Thank you" in text
            row = settled(site, email)[0]
            assert row["status"] == "queued" and int(row["last_status"]) == 503, row
            time.sleep(1.2)
            site.run_cron()
            wait_for("the retry", lambda: [r for r in site.outbox() if email in r["payload"]][0]["status"] == "sent"
                     or site.run_cron())
            assert len(proxy.seen) == 2, f"{action}: {len(proxy.seen)} requests"
            keys = {s[1].get("Idempotency-Key") for s in proxy.seen}
            assert len(keys) == 1 and None not in keys, keys
            assert proxy.seen[0][2] == proxy.seen[1][2], "the retry's body differs"
            got = site.leads_with_email(email)
            assert len(got) == 1, f"{action}: {len(got)} leads"
    finally:
        site.set_option("echo5_leads_url", site.daemon_url)
        proxy.close()


def case_429_and_timeout(site):
    """429 waits as long as Retry-After says; a daemon that does not answer within the short
    timeout leaves the row queued, and the visitor still sees success."""
    proxy = StandIn(site.daemon_port)
    try:
        site.set_option("echo5_leads_url", f"http://127.0.0.1:{proxy.port}")
        proxy.script = ["429:120"]
        site.browser().get(site.page_url)
        site.submit_form("Rate Limited", "ratelimited@example.com", "429")
        row = settled(site, "ratelimited@")[0]
        assert row["status"] == "queued" and int(row["last_status"]) == 429, row
        wait = int(row["next_attempt_at"]) - int(row["updated_at"])
        assert 119 <= wait <= 121, f"next attempt in {wait} s, Retry-After said 120"
        proxy.script = ["hang:8"]
        site.driver.get(site.page_url)
        text, took = site.submit_form("Slow Daemon", "timeout@example.com", "hang")
        assert "Thank you" in text, text
        row = settled(site, "timeout@")[0]
        assert row["status"] == "queued" and int(row["last_status"]) == 0, row
        assert "timed out" in row["last_error"].lower() or "timeout" in row["last_error"].lower(), row
        # Less than the stand-in's 8 s: the plugin gave up waiting (3 s) before it answered.
        assert took < 7.5, f"the visitor waited {took:.1f} s"
        server = "nginx + PHP-FPM" if site.fpm else "PHP's built-in server"
        print(f"# a daemon that does not answer: the visitor waited {took:.1f} s ({server})")
        time.sleep(8)  # the stand-in's hung reply ends; the next attempt is forwarded
        site.run_cron()
        wait_for("the timed-out lead", lambda: site.leads_with_email("timeout@example.com") or site.run_cron())
    finally:
        site.set_option("echo5_leads_url", site.daemon_url)
        proxy.close()


def case_invalid_key_parks_failed(site):
    """An unknown key: parked as failed with the daemon's message on the admin page; retry
    after fixing the key delivers it; delete removes a row."""
    from selenium.webdriver.common.by import By

    site.set_option("echo5_leads_api_key", "e5_" + "x" * 32)
    try:
        for email in ("badkey@example.com", "badkey2@example.com"):
            site.browser().get(site.page_url)
            text, _ = site.submit_form("Bad Key", email, "refused")
            assert "Thank you" in text, text
        rows = settled(site, "badkey", 2)
        assert all(r["status"] == "failed" and int(r["last_status"]) == 401 for r in rows), rows
        site.run_cron()
        rows = [r for r in site.outbox() if "badkey" in r["payload"]]
        assert all(int(r["attempts"]) == 1 for r in rows), "a failed row was retried by itself"
        status, _, body = request("POST", site.daemon_url + "/api/v1/leads", '{"email":"x@example.com"}',
                               {"X-API-Key": "e5_" + "x" * 32, "Content-Type": "application/json"})
        message = json.loads(body)["error"]["message"]
        d = site.login_admin()
        d.get(site.url + "/wp-admin/admin.php?page=echo5-leads")
        failed = d.find_element(By.CSS_SELECTOR, "table.echo5-leads-failed").text
        assert message in failed and "HTTP 401" in failed, f"admin page shows {failed!r}, daemon said {message!r}"
        assert "badkey@example.com" in failed
    finally:
        site.set_option("echo5_leads_api_key", site.key)
    retry_id, delete_id = (r["id"] for r in rows)
    d.get(site.url + "/wp-admin/admin.php?page=echo5-leads")
    d.find_element(By.CSS_SELECTOR, f"#echo5-leads-row-{retry_id} button.button-primary").click()
    notice = wait_for("the retry's notice", lambda: d.find_elements(By.ID, "echo5-leads-result"))[0].text
    assert "Delivered" in notice, notice
    assert len(site.leads_with_email("badkey@example.com")) == 1
    # Row actions without the row's nonce, or without a logged-in administrator, do nothing.
    status = d.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0], {method: 'POST', credentials: 'same-origin',"
        " body: new URLSearchParams({action: 'echo5_leads_delete', id: arguments[1]})})"
        ".then(r => done(r.status), () => done(0));",
        site.url + "/wp-admin/admin-post.php", str(delete_id))
    assert status == 403, f"a delete without its nonce answered {status}"
    status, _, _ = request("POST", site.url + "/wp-admin/admin-post.php",
                           urllib.parse.urlencode({"action": "echo5_leads_delete", "id": delete_id}),
                           {"Content-Type": "application/x-www-form-urlencoded"}, follow=False)
    assert status != 200 and status != 302, f"a logged-out delete answered {status}"
    assert [r for r in site.outbox() if r["id"] == delete_id], "a refused delete removed the row"
    d.find_element(By.CSS_SELECTOR, f"#echo5-leads-row-{delete_id} button.button-link-delete").click()
    d.switch_to.alert.accept()
    notice = wait_for("the delete's notice", lambda: d.find_elements(By.ID, "echo5-leads-result"))[0].text
    assert "Deleted" in notice, notice
    assert not [r for r in site.outbox() if r["id"] == delete_id]
    assert not site.leads_with_email("badkey2@example.com")


def case_form_plugin_hooks(site):
    """Each form plugin's hook, fired with that plugin's argument shapes inside the real
    WordPress, gives the expected payload field by field (wordpress/tests/form-hooks.php)."""
    r = subprocess.run(["php", os.path.join(HERE, "form-hooks.php"), site.docroot, site.url],
                       capture_output=True, text=True)
    sys.stdout.write("".join("#   " + line + "\n" for line in r.stdout.splitlines()))
    assert r.returncode == 0, f"form-hooks.php failed:\n{r.stdout}\n{r.stderr}"


def case_multisite(site):
    """On a multisite network (a second WordPress, same database, prefix ms_; driven from the
    command line, so its port in the domain does not matter): network activation makes a
    table and a retry event on every site and on a site added later, a site's submission
    stays in its table, a deleted site's table goes, network deactivation stops every
    event, and uninstall cleans every site (wordpress/tests/multisite.php)."""
    docroot = os.path.join(site.tmp, "wordpress-ms")
    shutil.copytree(site.docroot, docroot, symlinks=True)
    config_path = os.path.join(docroot, "wp-config.php")
    with open(config_path) as f:
        config = f.read()
    config = config.replace("$table_prefix = 'wp_';", "$table_prefix = 'ms_';\n"
                            "define( 'WP_ALLOW_MULTISITE', true );\n"
                            "if ( file_exists( __DIR__ . '/ms-on.php' ) ) {\n\trequire __DIR__ . '/ms-on.php';\n}")
    assert "ms-on.php" in config, "the test site's wp-config.php changed shape"
    with open(config_path, "w") as f:
        f.write(config)
    script = os.path.join(HERE, "multisite.php")
    for step in ("install", "check"):
        r = subprocess.run(["php", script, docroot, site.url, step], capture_output=True, text=True)
        if step == "check":
            sys.stdout.write("".join("#   " + line + "\n" for line in r.stdout.splitlines()))
        assert r.returncode == 0, f"multisite.php {step} failed:\n{r.stdout}\n{r.stderr}"
    # WordPress answers a network it cannot load with an error page and exit status 0.
    assert r.stdout.rstrip().endswith(" passed, 0 failed") and "\nok - " in "\n" + r.stdout, r.stdout[-2000:]


def case_uninstall(site):
    """Uninstall removes the table, the options and the cron event."""
    left = json.loads(site.wp("uninstall").strip().splitlines()[-1])
    assert left == {"table": "", "options": [], "cron": False}, left


CASES = [
    case_settings_page,
    case_shortcode_lead_reaches_daemon,
    case_shortcode_honeypot_and_invalid,
    case_store_failure_is_not_thanked,
    case_daemon_down_then_cron,
    case_503_then_200,
    case_429_and_timeout,
    case_invalid_key_parks_failed,
    case_form_plugin_hooks,
    case_multisite,
    case_uninstall,
]


def percentile(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def bench(site, n):
    """Times form posts as a visitor's browser makes them (the request and its redirect
    answer, not the page the redirect leads to)."""
    site.set_option("echo5_leads_url", site.daemon_url)
    site.set_option("echo5_leads_api_key", site.key)

    def post(action, i):
        body = urllib.parse.urlencode({
            "action": action, "echo5_form_name": "Bench", "echo5_page_url": site.page_url,
            "echo5_name": f"Bench {i}", "echo5_email": f"bench{i}-{action}-{time.time()}@example.com",
            "echo5_message": "bench", "echo5_anchor": "echo5-form-1"})
        t = time.perf_counter()
        status, _, _ = request("POST", site.url + "/wp-admin/admin-post.php", body,
                            {"Content-Type": "application/x-www-form-urlencoded", "Referer": site.page_url},
                            follow=False)
        took = time.perf_counter() - t
        assert status == 303, status
        return took * 1000

    # Blocks of each variant in turn (ABCD ABCD …), so drift in the machine's load spreads
    # over all of them alike.
    variants = (("without the plugin (plugin deactivated, plain handler)", "echo5_test_plain", "off", True),
                ("plugin active, plain handler (the plugin's load cost)", "echo5_test_plain", "on", True),
                ("plugin, daemon up", "echo5_leads_submit", "on", True),
                ("plugin, daemon down", "echo5_leads_submit", "on", False))
    rounds = max(1, min(10, n // 10))
    results = {v[0]: [] for v in variants}
    for r in range(rounds):
        block = n // rounds + (1 if r < n % rounds else 0)
        for label, action, plugin, daemon_up in variants:
            site.wp("plugin", plugin)
            if not daemon_up:
                site.stop("echo5d")
            for i in range(3):  # warm PHP's opcode cache after the switch
                post(action, i)
            results[label] += [post(action, i) for i in range(block)]
            if not daemon_up:
                site.start_daemon()
    for label, times in results.items():
        print(f"# {label}: n={len(times)} p50={percentile(times, 50):.1f} ms p99={percentile(times, 99):.1f} ms")
    return results


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wordpress", required=True, help="a WordPress tree (Debian's /usr/share/wordpress)")
    ap.add_argument("--daemon", required=True, help="the echo5d binary")
    ap.add_argument("--keep", action="store_true", help="keep the temporary site for a look")
    ap.add_argument("--bench", type=int, default=0, help="time N form posts per variant instead of the cases")
    ap.add_argument("--fpm", action="store_true", help="serve WordPress with nginx and PHP-FPM instead of PHP's built-in server")
    ap.add_argument("--only", default="", help="run only cases whose name contains this")
    args = ap.parse_args()

    site = Site(args.wordpress, args.daemon, args.keep, args.fpm)
    passed = failed = 0
    try:
        t = time.time()
        site.start_mariadb()
        site.start_daemon()
        site.make_tenant_and_key()
        site.setup_wordpress()
        print(f"# site up in {time.time() - t:.1f} s: WordPress {site.url}, echo5d {site.daemon_url}")
        # The settings case saves these through the page again; set here so any case can run alone.
        site.set_option("echo5_leads_url", site.daemon_url)
        site.set_option("echo5_leads_api_key", site.key)
        if args.bench:
            bench(site, args.bench)
            return 0
        # Cases after the settings page rely on the settings it saved.
        for case in CASES:
            name = case.__name__[len("case_"):]
            if args.only and args.only not in name:
                continue
            t = time.time()
            try:
                case(site)
                passed += 1
                print(f"ok - {name} ({time.time() - t:.1f} s)")
            except Exception as e:
                failed += 1
                print(f"FAIL - {name}: {e}")
                traceback.print_exc(file=sys.stdout)
            sys.stdout.flush()
    finally:
        if failed:
            for log in ("php.log", "wp-debug.log", "echo5d.log"):
                path = os.path.join(site.tmp, log)
                if os.path.exists(path):
                    with open(path, errors="replace") as f:
                        print(f"# --- last lines of {log}")
                        lines = [line for line in f if "Deprecated" not in line
                                 and not line.rstrip().endswith(("Accepted", "Closing"))]
                        print("".join("# " + line for line in lines[-30:]))
        site.close()
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
