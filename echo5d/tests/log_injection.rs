//! Log and terminal injection, on the real `echo5d` binary: leads whose fields carry escape
//! sequences (CSI, OSC 0/8/52, DCS), C1 controls, bidi and zero-width characters and
//! CRLF-forged log lines are posted with the daemon logging at `trace` into a pipe. Neither
//! its stderr nor its log ring (`GET /api/v1/system/logs`) may then hold an ESC, C1 or CR
//! character, an invisible format character, a forged line, or any of the posted names,
//! e-mail addresses and phone numbers; the stored leads' fields are clean; and the raw body
//! stored with each lead is byte for byte what was sent.

mod common;

use common::daemon::{Launch, RealDaemon};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Terminal attacks, each tried in every field.
fn payloads() -> Vec<String> {
    vec![
        "\u{1b}[2J\u{1b}[H".into(),
        "\u{1b}[31;1mRED\u{1b}[0m".into(),
        "\u{1b}]52;c;ZWNobyBwd25lZCB8IHNo\u{7}".into(),
        "\u{1b}]0;you have been owned\u{1b}\\".into(),
        "\u{1b}]8;;http://evil.test/\u{1b}\\click\u{1b}]8;;\u{1b}\\".into(),
        "\u{1b}P1$r0m\u{1b}\\".into(),
        "\u{9b}2J\u{9b}31m".into(),
        "\u{9d}0;c1 title\u{9c}".into(),
        "\u{85}NEL".into(),
        "\r\n2026-05-01T10:00:00.000000Z  WARN echo5d::auth: FORGED admin login ok".into(),
        "\n2026-05-01T10:00:00.000000Z ERROR echo5d: FORGED disk full".into(),
        "\rFORGED overwrite".into(),
        "\u{202E}FORGED desrever\u{202C}".into(),
        "\u{2066}\u{2067}\u{2068}FORGED isolate\u{2069}".into(),
        "\u{200B}\u{200C}\u{200D}\u{2060}\u{FEFF}\u{AD}".into(),
        "\u{8}\u{8}\u{8}\u{7f}\u{7}\u{0}".into(),
        "\u{E0041}\u{E0042}\u{3164}".into(),
    ]
}

/// The characters none of the outputs may hold: C0 controls (but the line feed ending each
/// line of stderr), DEL, C1, and invisible format characters.
fn bad_char(c: char) -> bool {
    (c.is_control() && c != '\n') || echo5_core::ingest::clean::is_invisible(c)
}

struct Sent {
    id: String,
    name_marker: String,
    email_marker: String,
    phone_digits: String,
    body: Vec<u8>,
}

/// Posts one lead with `attack` in every field; `i` makes its name, e-mail and phone unique
/// (and so traceable in the log).
async fn post_attack(d: &RealDaemon, key: &str, i: usize, attack: &str, form: bool) -> Sent {
    let name_marker = format!("Zelda{i:03}");
    let email_marker = format!("zq{i:03}mail");
    let phone_digits = format!("5550177{i:03}");
    let fields = [
        ("name", format!("{name_marker}{attack} Quux")),
        ("email", format!("{email_marker}{attack}@example.org")),
        ("phone", format!("555-0177-{i:03}{attack}")),
        (
            "message",
            format!("Hello{attack}\r\nsecond line {name_marker}"),
        ),
        ("company", format!("Acme{attack}")),
        ("page_url", format!("https://a.test/{attack}")),
        ("utm_source", format!("g{attack}")),
        ("utm_campaign", format!("c{attack}")),
        ("form_name", format!("Contact{attack}")),
        ("notes2", format!("free text{attack} more")),
        (&*format!("field{attack}"), format!("v{attack}")),
    ]
    .map(|(k, v)| (k.to_string(), v));
    let (ct, body) = if form {
        let body: Vec<String> = fields
            .iter()
            .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
            .collect();
        (
            "application/x-www-form-urlencoded",
            body.join("&").into_bytes(),
        )
    } else {
        let obj: serde_json::Map<String, Value> = fields
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        ("application/json", serde_json::to_vec(&obj).unwrap())
    };
    let r = reqwest::Client::new()
        .post(d.url("/api/v1/leads"))
        .header("x-api-key", key)
        .header("content-type", ct)
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{attack:?}");
    let receipt: Value = r.json().await.unwrap();
    Sent {
        id: receipt["id"].as_str().unwrap().to_string(),
        name_marker,
        email_marker,
        phone_digits,
        body,
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Every text of a JSON value, keys included.
fn texts(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| texts(x, out)),
        Value::Object(o) => o.iter().for_each(|(k, x)| {
            out.push(k.clone());
            texts(x, out)
        }),
        _ => {}
    }
}

/// What a log may not hold: a bad character, a forged line, a posted name, address or phone.
fn assert_log_clean(what: &str, log: &str, sent: &[Sent]) {
    if let Some(c) = log.chars().find(|c| bad_char(*c)) {
        let at = log.find(c).unwrap_or(0);
        let from = log.floor_char_boundary(at.saturating_sub(80));
        panic!("{what}: {c:?} in the log near {:?}", &log[from..at]);
    }
    assert!(!log.contains("FORGED"), "{what}: a forged line got through");
    let lower = log.to_lowercase();
    for s in sent {
        assert!(!log.contains(&s.name_marker), "{what}: {}", s.name_marker);
        assert!(
            !lower.contains(&s.email_marker),
            "{what}: {}",
            s.email_marker
        );
        assert!(!log.contains(&s.phone_digits), "{what}: {}", s.phone_digits);
    }
    assert!(!log.contains("Quux"), "{what}: a lead's name is in the log");
}

#[tokio::test]
async fn hostile_lead_text_reaches_no_log_and_is_stored_clean() {
    let dir = tempfile::tempdir().unwrap();
    // stderr is a pipe, as under systemd or in a container: no colour codes either.
    let launch = Launch::new()
        .args(&["--log", "trace", "--sla-interval", "1"])
        .env_remove("ECHO5_LOG")
        .env_remove("NO_COLOR")
        .stderr_piped();
    let mut d = RealDaemon::start(dir.path(), launch).await;
    let token = d.token();
    let client = reqwest::Client::new();
    let admin = |method: reqwest::Method, path: &str| {
        client.request(method, d.url(path)).bearer_auth(&token)
    };
    let r = admin(reqwest::Method::POST, "/api/v1/tenants")
        .json(&json!({"name": "Open Arms",
                      "settings": {"sla_hours": 1, "manager_email": "boss@openarms.test"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = admin(reqwest::Method::POST, "/api/v1/tenants/open-arms/keys")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let key = r.json::<Value>().await.unwrap()["secret"]
        .as_str()
        .unwrap()
        .to_string();

    let mut sent = Vec::new();
    for (i, attack) in payloads().iter().enumerate() {
        sent.push(post_attack(&d, &key, 2 * i, attack, false).await);
        sent.push(post_attack(&d, &key, 2 * i + 1, attack, true).await);
    }
    // All of them at once, in one more lead.
    let all: String = payloads().concat();
    sent.push(post_attack(&d, &key, 999, &all, false).await);

    // A lead entered by hand two hours ago: its SLA alert (no SMTP configured) is logged.
    // Manual entry refuses control characters but takes bidi and zero-width ones.
    let r = admin(reqwest::Method::POST, "/api/v1/tenants/open-arms/leads")
        .json(&json!({
            "name": "Zelda500 \u{202E}FORGED\u{202C} Quux\u{200B}",
            "email": "zq500mail@example.org",
            "created_at": (chrono::Utc::now() - chrono::TimeDelta::hours(2)).to_rfc3339(),
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let manual: Value = r.json().await.unwrap();
    sent.push(Sent {
        id: manual["id"].as_str().unwrap().to_string(),
        name_marker: "Zelda500".into(),
        email_marker: "zq500mail".into(),
        phone_digits: "5550177500".into(),
        body: Vec::new(),
    });

    // The stored leads: every one-line field clean, the message with `\n` line breaks only.
    for s in &sent {
        let r = admin(reqwest::Method::GET, &format!("/api/v1/leads/{}", s.id))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let lead: Value = r.json().await.unwrap();
        if s.body.is_empty() {
            continue;
        }
        for f in [
            "name",
            "email",
            "phone",
            "company",
            "page_url",
            "utm_source",
            "utm_campaign",
            "form_name",
        ] {
            let v = lead[f]
                .as_str()
                .unwrap_or_else(|| panic!("{f} missing: {lead}"));
            assert!(!v.chars().any(|c| bad_char(c) || c == '\n'), "{f}: {v:?}");
            assert_eq!(v.trim(), v, "{f}: {v:?}");
        }
        assert!(lead["name"].as_str().unwrap().starts_with(&s.name_marker));
        assert!(
            lead["email"]
                .as_str()
                .unwrap()
                .starts_with(&s.email_marker.to_lowercase())
        );
        assert!(
            // Stored in E.164 (`+1` for this US tenant) when the digits make a US number.
            lead["phone"]
                .as_str()
                .unwrap()
                .trim_start_matches("+1")
                .starts_with(&s.phone_digits),
            "{}",
            lead["phone"]
        );
        let message = lead["message"].as_str().unwrap();
        assert!(!message.chars().any(bad_char), "message: {message:?}");
        assert!(message.starts_with("Hello") && message.contains("\nsecond line"));
        let mut custom = Vec::new();
        texts(&lead["custom"], &mut custom);
        assert!(custom.len() >= 4, "{}", lead["custom"]);
        for t in custom {
            assert!(!t.chars().any(bad_char), "custom: {t:?}");
        }
    }

    // The SLA alert of the manual lead has been logged: then every line is in.
    let deadline = Instant::now() + Duration::from_secs(30);
    let ring = loop {
        let r = admin(
            reqwest::Method::GET,
            "/api/v1/system/logs?level=trace&limit=1000",
        )
        .send()
        .await
        .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let page: Value = r.json().await.unwrap();
        let lines = page["data"].as_array().cloned().unwrap_or_default();
        if lines.iter().any(|l| {
            l["message"]
                .as_str()
                .is_some_and(|m| m.contains("SLA alert"))
        }) {
            break lines;
        }
        assert!(Instant::now() < deadline, "no SLA alert logged: {page}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(
        ring.iter().any(|l| l["message"]
            .as_str()
            .is_some_and(|m| m.contains("lead ingested"))),
        "debug lines are in the ring"
    );
    let ring_text: String = ring
        .iter()
        .map(|l| format!("{} {}\n", l["target"], l["message"]))
        .collect();
    // Decoded from JSON: an escaped control character in the ring would be a real one here.
    let decoded: String = ring
        .iter()
        .map(|l| format!("{}\n", l["message"].as_str().unwrap_or_default()))
        .collect();
    assert_log_clean("ring", &ring_text, &sent);
    assert_log_clean("ring (decoded)", &decoded, &sent);

    let (status, _, stderr) = d.stop_with_output();
    assert!(status.success(), "{stderr}");
    assert!(stderr.contains("SLA alert"), "{stderr}");
    assert!(stderr.contains("lead ingested"), "debug lines on stderr");
    assert_log_clean("stderr", &stderr, &sent);
    for line in stderr.lines() {
        // Each line is one event, starting with its timestamp: nothing forged in between.
        assert!(
            line.len() > 4 && line.as_bytes()[..4].iter().all(u8::is_ascii_digit),
            "a line that is not an event: {line:?}"
        );
    }

    // The raw bodies are the evidence: stored as sent, byte for byte.
    let db = rusqlite::Connection::open_with_flags(
        dir.path().join("echo5.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    for s in sent.iter().filter(|s| !s.body.is_empty()) {
        let raw: Vec<u8> = db
            .query_row("SELECT raw FROM leads WHERE id = ?1", [&s.id], |r| r.get(0))
            .unwrap();
        assert_eq!(raw, s.body, "{}", s.name_marker);
    }
}
