//! Alert mail from the real `echo5d` binary to a real SMTP server from PyPI (aiosmtpd, in the
//! venv `.ci/smtp-venv.sh` makes; `ECHO5_TEST_PYTHON` names another python with it) that
//! requires AUTH: the mail arrives authenticated, with `From:` the `--smtp-from` value, and
//! a wrong password leaves the alert queued until a daemon with the right one sends it.
//!
//! STARTTLS: the daemon's mailer (lettre with rustls and the built-in Mozilla roots) trusts
//! no other certificate authority, and no flag or environment variable adds one, so a relay
//! with a private or self-signed certificate cannot be used with `tls=required`. The last
//! test pins that: the alert is not sent in clear and stays queued.
//!
//! No python with aiosmtpd is a failure, not a skip.

mod common;

use common::daemon::{Launch, RealDaemon};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// An SMTP server: aiosmtpd on a loopback port, AUTH (PLAIN and LOGIN) required, one JSON
/// line per event in a file: `{"event": "mail", "mail_from", "rcpt_tos", "data", "tls",
/// "auth_user"}` or `{"event": "auth_failed", "user"}`.
const SERVER: &str = r#"
import asyncio, json, ssl, sys
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

port, user, password, log, cert, key, require_tls = sys.argv[1:8]
require_tls = require_tls == "1"

def record(obj):
    with open(log, "a") as f:
        f.write(json.dumps(obj) + "\n")

def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (isinstance(auth_data, LoginPassword)
          and auth_data.login == user.encode() and auth_data.password == password.encode())
    if not ok:
        record({"event": "auth_failed", "mechanism": mechanism,
                "user": auth_data.login.decode() if isinstance(auth_data, LoginPassword) else None})
    return AuthResult(success=ok, auth_data=auth_data)

class Handler:
    async def handle_DATA(self, server, session, envelope):
        auth = session.auth_data
        record({"event": "mail", "mail_from": envelope.mail_from,
                "rcpt_tos": envelope.rcpt_tos,
                "data": envelope.content.decode("utf-8", "replace"),
                "tls": session.ssl is not None,
                "auth_user": auth.login.decode() if isinstance(auth, LoginPassword) else None})
        return "250 OK"

tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
tls.load_cert_chain(cert, key)
c = Controller(Handler(), hostname="127.0.0.1", port=int(port), server_hostname="localhost",
               tls_context=tls, require_starttls=require_tls, auth_required=True,
               auth_require_tls=require_tls, authenticator=authenticator)
c.start()
print("READY", flush=True)
sys.stdin.read()
c.stop()
"#;

/// The python that has aiosmtpd.
fn python() -> PathBuf {
    if let Ok(p) = std::env::var("ECHO5_TEST_PYTHON") {
        return PathBuf::from(p);
    }
    let target = std::env::var("CARGO_TARGET_DIR").map_or_else(
        |_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"),
        PathBuf::from,
    );
    target.join("smtp-venv/bin/python")
}

struct PySmtp {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl PySmtp {
    /// Starts the server with a fresh self-signed certificate for `localhost`, accepting
    /// `user`/`password`; with `require_tls`, STARTTLS before AUTH or mail.
    fn start(dir: &Path, user: &str, password: &str, require_tls: bool) -> PySmtp {
        let (cert, key) = (dir.join("smtp-cert.pem"), dir.join("smtp-key.pem"));
        let out = Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            ])
            .args(["-subj", "/CN=localhost"])
            .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .output()
            .expect("openssl (for the SMTP server's certificate) is installed");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let script = dir.join("smtp_server.py");
        std::fs::write(&script, SERVER).unwrap();
        let log = dir.join("smtp.jsonl");
        let port = common::daemon::free_port();
        let py = python();
        let mut child = Command::new(&py)
            .arg(&script)
            .arg(port.to_string())
            .args([user, password])
            .arg(&log)
            .arg(&cert)
            .arg(&key)
            .arg(if require_tls { "1" } else { "0" })
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "no python at {} ({e}): run `bash .ci/smtp-venv.sh` or set ECHO5_TEST_PYTHON",
                    py.display()
                )
            });
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        if line.trim() != "READY" {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "the aiosmtpd server did not start (is aiosmtpd installed in {}? `bash \
                 .ci/smtp-venv.sh`): {}",
                py.display(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        PySmtp { child, port, log }
    }

    fn events(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn of(&self, kind: &str) -> Vec<Value> {
        self.events()
            .into_iter()
            .filter(|e| e["event"] == kind)
            .collect()
    }

    /// Waits up to `within` for `n` events of `kind`.
    async fn wait_for(&self, kind: &str, n: usize, within: Duration) -> Vec<Value> {
        let deadline = Instant::now() + within;
        loop {
            let got = self.of(kind);
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "no {kind} within {within:?}; server saw {:?}",
                self.events()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

impl Drop for PySmtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const FROM: &str = "Open Arms Alerts <alerts@openarms.example>";

/// The daemon on `dir/data` sending over `smtp_url` as [`FROM`], checking SLAs every second.
async fn daemon(dir: &Path, smtp_url: &str) -> RealDaemon {
    RealDaemon::start_logged(dir, |l: Launch| {
        l.args(&["--sla-interval", "1", "--smtp-from", FROM])
            .env("ECHO5_SMTP_URL", smtp_url)
    })
    .await
}

/// A tenant with a manager and a 1-hour SLA, and a lead that arrived 3 hours ago (in
/// breach at once): the lead's id.
async fn breach(d: &RealDaemon) -> String {
    let token = d.token();
    let client = reqwest::Client::new();
    let r = client
        .post(d.url("/api/v1/tenants"))
        .bearer_auth(&token)
        .json(&json!({"name": "Open Arms",
            "settings": {"sla_hours": 1, "manager_email": "boss@openarms.example"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let created = (chrono::Utc::now() - chrono::TimeDelta::hours(3)).to_rfc3339();
    let r = client
        .post(d.url("/api/v1/tenants/open-arms/leads"))
        .bearer_auth(&token)
        .json(&json!({"name": "Jane Waiting", "email": "jane@example.com", "created_at": created}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let lead: Value = r.json().await.unwrap();
    lead["id"].as_str().unwrap().to_string()
}

/// A header's value in a raw message.
fn header<'a>(data: &'a str, name: &str) -> Option<&'a str> {
    data.lines().take_while(|l| !l.is_empty()).find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alert_mail_is_sent_authenticated_from_the_smtp_from_address() {
    let dir = tempfile::tempdir().unwrap();
    let smtp = PySmtp::start(dir.path(), "echo5", "s3cret pass", false);
    let url = format!("smtp://echo5:s3cret%20pass@127.0.0.1:{}", smtp.port);
    let mut d = daemon(dir.path(), &url).await;
    let lead = breach(&d).await;

    let mails = smtp.wait_for("mail", 1, Duration::from_secs(30)).await;
    assert_eq!(mails.len(), 1, "{mails:?}");
    let m = &mails[0];
    assert_eq!(m["auth_user"], "echo5", "sent without AUTH: {m}");
    assert_eq!(m["mail_from"], "alerts@openarms.example");
    assert_eq!(m["rcpt_tos"], json!(["boss@openarms.example"]));
    let data = m["data"].as_str().unwrap();
    assert_eq!(
        header(data, "From"),
        Some(r#""Open Arms Alerts" <alerts@openarms.example>"#),
        "{data}"
    );
    assert_eq!(header(data, "To"), Some("boss@openarms.example"), "{data}");
    assert_eq!(
        header(data, "Message-ID"),
        Some(format!("<sla-{lead}@echo5>").as_str()),
        "{data}"
    );
    assert!(
        header(data, "Subject").is_some_and(|s| s.contains("SLA breach at Open Arms")),
        "{data}"
    );
    assert!(smtp.of("auth_failed").is_empty());
    assert!(
        !d.log_text().contains("s3cret"),
        "the SMTP password in the daemon's log"
    );
    assert!(d.stop().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_leaves_the_alert_queued_until_the_right_one_sends_it() {
    let dir = tempfile::tempdir().unwrap();
    let smtp = PySmtp::start(dir.path(), "echo5", "right", false);
    let mut d = daemon(
        dir.path(),
        &format!("smtp://echo5:wrong@127.0.0.1:{}", smtp.port),
    )
    .await;
    let lead = breach(&d).await;
    let failed = smtp
        .wait_for("auth_failed", 1, Duration::from_secs(30))
        .await;
    assert_eq!(failed[0]["user"], "echo5");
    assert!(smtp.of("mail").is_empty(), "sent without AUTH");
    // The attempt ends within the mailer's 20 s send deadline (lettre alone stalls here).
    let deadline = Instant::now() + Duration::from_secs(30);
    while !d.log_text().contains("SLA alert not sent; will retry") {
        assert!(
            Instant::now() < deadline,
            "the failure was not logged:\n{}",
            d.log_text()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(d.stop().success());

    // The same data directory, the right password: the queued alert goes out (after its
    // backoff: 10 s from the first failure), once.
    let mut d = daemon(
        dir.path(),
        &format!("smtp://echo5:right@127.0.0.1:{}", smtp.port),
    )
    .await;
    let mails = smtp.wait_for("mail", 1, Duration::from_secs(45)).await;
    assert_eq!(mails[0]["auth_user"], "echo5");
    let data = mails[0]["data"].as_str().unwrap();
    assert_eq!(
        header(data, "Message-ID"),
        Some(format!("<sla-{lead}@echo5>").as_str())
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(smtp.of("mail").len(), 1, "sent twice");
    assert!(d.stop().success());
}

/// Today's limit, pinned: with `tls=required` against a relay whose certificate comes from
/// a private authority, the handshake fails (the daemon trusts only the Mozilla roots
/// built into it), nothing is sent in clear, and the alert is logged as not sent, to be
/// retried.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starttls_to_a_private_ca_relay_fails_closed_and_keeps_the_alert() {
    let dir = tempfile::tempdir().unwrap();
    let smtp = PySmtp::start(dir.path(), "echo5", "right", true);
    let cert = dir.path().join("smtp-cert.pem");
    let mut d = RealDaemon::start_logged(dir.path(), |l: Launch| {
        l.args(&["--sla-interval", "1", "--smtp-from", FROM])
            .env(
                "ECHO5_SMTP_URL",
                &format!("smtp://echo5:right@localhost:{}?tls=required", smtp.port),
            )
            // What would make an OpenSSL- or native-roots-based client trust the relay;
            // the daemon ignores it.
            .env("SSL_CERT_FILE", cert.to_str().unwrap())
    })
    .await;
    breach(&d).await;
    // The first attempt runs within a couple of seconds of the breach.
    let deadline = Instant::now() + Duration::from_secs(30);
    while !d.log_text().contains("SLA alert not sent; will retry") {
        assert!(
            Instant::now() < deadline,
            "no certificate error logged:\n{}",
            d.log_text()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let log = d.log_text();
    let line = log
        .lines()
        .find(|l| l.contains("SLA alert not sent"))
        .unwrap();
    assert!(
        line.to_lowercase().contains("certificate"),
        "not a certificate failure: {line}"
    );
    assert!(smtp.events().is_empty(), "{:?}", smtp.events());
    assert!(d.stop().success());
}
