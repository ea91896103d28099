//! `GET /api/v1/system/logs` and its live tail, on the real `echo5d` binary (so the
//! `tracing` layer `main` installs is what is tested): lines about refused requests show up,
//! the keys and tokens those requests carried never do, and the level / since filters hold.

mod common;

use common::daemon::{Launch, RealDaemon};
use common::sse::SseStream;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;

/// The real daemon, its admin token and a client.
struct Daemon {
    real: RealDaemon,
    token: String,
    client: reqwest::Client,
}

impl Daemon {
    async fn start(dir: &Path) -> Daemon {
        let launch = Launch::new()
            .env_remove("ECHO5_LOG")
            .env("NO_COLOR", "1")
            .stderr_piped();
        let real = RealDaemon::start(dir, launch).await;
        let token = real.token();
        Daemon {
            real,
            token,
            client: reqwest::Client::new(),
        }
    }

    fn url(&self, p: &str) -> String {
        self.real.url(p)
    }

    async fn admin(
        &self,
        method: reqwest::Method,
        p: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .client
            .request(method, self.url(p))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let st = resp.status();
        let text = resp.text().await.unwrap();
        (st, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn logs(&self, query: &str) -> (StatusCode, Value) {
        self.admin(
            reqwest::Method::GET,
            &format!("/api/v1/system/logs{query}"),
            None,
        )
        .await
    }

    /// SIGTERM; waits for a clean exit and returns stderr.
    fn stop(mut self) -> String {
        let (status, _, err) = self.real.stop_with_output();
        assert!(status.success(), "exit {status}: {err}");
        err
    }
}

/// The live tail, read frame by frame.
struct Tail {
    sse: SseStream,
}

impl Tail {
    async fn open(d: &Daemon, query: &str, last_id: Option<u64>) -> Tail {
        let req = d
            .client
            .get(d.url(&format!("/api/v1/system/logs/stream{query}")))
            .bearer_auth(&d.token);
        Tail {
            sse: SseStream::open(req, last_id).await,
        }
    }

    /// The next `log` frame: (id, line). `None` when the stream ended.
    async fn next(&mut self) -> Option<(u64, Value)> {
        self.sse.next("log").await
    }

    /// Frames until one whose message contains `needle`.
    async fn until(&mut self, needle: &str) -> (u64, Value) {
        loop {
            let (id, line) = self.next().await.expect("stream ended early");
            if line["message"].as_str().unwrap().contains(needle) {
                return (id, line);
            }
        }
    }
}

fn messages(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["message"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn logs_show_refused_requests_but_never_a_key_or_token() {
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::start(dir.path()).await;
    let mut tail = Tail::open(&d, "", None).await;
    let mut warn_tail = Tail::open(&d, "?level=warn", None).await;

    let (st, t) = d
        .admin(
            reqwest::Method::POST,
            "/api/v1/tenants",
            Some(json!({"name":"Open Arms"})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{t}");
    let mut secrets = Vec::new();
    let mut keys = Vec::new();
    for label in ["site", "old site"] {
        let (st, k) = d
            .admin(
                reqwest::Method::POST,
                "/api/v1/tenants/open-arms/keys",
                Some(json!({ "label": label })),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED);
        secrets.push(k["secret"].as_str().unwrap().to_string());
        keys.push(k);
    }
    let (live, revoked) = (secrets[0].clone(), secrets[1].clone());
    let (st, _) = d
        .admin(
            reqwest::Method::DELETE,
            &format!(
                "/api/v1/tenants/open-arms/keys/{}",
                keys[1]["id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK);

    // A revoked key in the path of an ingest.
    let resp = d
        .client
        .post(d.url(&format!("/api/v1/ingest/{revoked}")))
        .json(&json!({"name":"Jane","email":"jane@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    // A live key in the path, and in ?api_key= and X-API-Key, with bodies that are refused.
    let resp = d
        .client
        .post(d.url(&format!("/api/v1/ingest/{live}")))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let resp = d
        .client
        .post(d.url(&format!("/api/v1/leads?api_key={live}")))
        .json(&json!({"company":"no contact at all"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    // An admin request with a wrong token (shaped like a real one), and an API key used as
    // the admin token.
    let wrong = "e5a_WrongWrongWrongWrongWrongWrongWrongWron";
    for bearer in [wrong, live.as_str()] {
        let resp = d
            .client
            .get(d.url("/api/v1/tenants"))
            .bearer_auth(bearer)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    }

    // The lines about those requests are there...
    let (st, page) = d.logs("").await;
    assert_eq!(st, StatusCode::OK, "{page}");
    let msgs = messages(&page);
    let has = |needle: &[&str]| msgs.iter().any(|m| needle.iter().all(|n| m.contains(n)));
    assert!(has(&["tenant created", "open-arms"]), "{msgs:#?}");
    assert!(
        has(&[
            "route=\"/api/v1/ingest/{key}\"",
            "request refused",
            "invalid_api_key"
        ]),
        "{msgs:#?}"
    );
    assert!(
        has(&[
            "route=\"/api/v1/ingest/{key}\"",
            "submission refused",
            "status=400"
        ]),
        "{msgs:#?}"
    );
    assert!(
        has(&["route=\"/api/v1/leads\"", "submission refused"]),
        "{msgs:#?}"
    );
    assert!(
        has(&[
            "route=\"/api/v1/tenants\"",
            "request refused",
            "invalid_token"
        ]),
        "{msgs:#?}"
    );
    // ...and no key or token anywhere: not the live key, the revoked one, the wrong
    // token, the admin token, nor their bodies after the prefix.
    let text = page.to_string();
    let all_secrets = [
        live.clone(),
        revoked.clone(),
        wrong.to_string(),
        d.token.clone(),
    ];
    let forbidden = |text: &str| {
        for s in &all_secrets {
            assert!(!text.contains(s.as_str()), "a secret in the log: {text}");
            assert!(
                !text.contains(&s[4..]),
                "a secret's body in the log: {text}"
            );
        }
    };
    forbidden(&text);
    // Every line has the documented shape, oldest first.
    let lines = page["data"].as_array().unwrap();
    let seqs: Vec<u64> = lines.iter().map(|l| l["seq"].as_u64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    assert_eq!(page["latest_seq"].as_u64().unwrap(), *seqs.last().unwrap());
    for l in lines {
        assert!(
            l["time"]
                .as_str()
                .unwrap()
                .parse::<chrono::DateTime<chrono::Utc>>()
                .is_ok()
        );
        assert!(
            ["ERROR", "WARN", "INFO", "DEBUG", "TRACE"].contains(&l["level"].as_str().unwrap())
        );
        // Lines bridged from the `log` crate carry their real target.
        let target = l["target"].as_str().unwrap();
        assert!(!target.is_empty() && target != "log", "{l}");
        assert!(!l["message"].as_str().unwrap().contains("log.file"), "{l}");
    }

    // level = minimum severity.
    let (_, warn) = d.logs("?level=warn").await;
    let warn_lines = warn["data"].as_array().unwrap();
    assert!(
        warn_lines
            .iter()
            .all(|l| ["WARN", "ERROR"].contains(&l["level"].as_str().unwrap()))
    );
    assert_eq!(
        warn_lines
            .iter()
            .filter(|l| l["message"].as_str().unwrap().contains("request refused"))
            .count(),
        3,
        "{warn}"
    );
    assert!(!messages(&warn).iter().any(|m| m.contains("tenant created")));
    let (_, errors) = d.logs("?level=ERROR").await;
    assert!(
        !messages(&errors)
            .iter()
            .any(|m| m.contains("request refused"))
    );
    // since = a seq: only what follows it; limit takes the first after it.
    let created_seq = lines
        .iter()
        .find(|l| l["message"].as_str().unwrap().contains("tenant created"))
        .unwrap()["seq"]
        .as_u64()
        .unwrap();
    let (_, after) = d.logs(&format!("?since={created_seq}")).await;
    let after_seqs: Vec<u64> = after["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(
        after_seqs,
        seqs.iter()
            .copied()
            .filter(|s| *s > created_seq)
            .collect::<Vec<_>>()
    );
    let (_, one) = d.logs(&format!("?since={created_seq}&limit=1")).await;
    assert_eq!(one["data"][0]["seq"].as_u64().unwrap(), created_seq + 1);
    // Without since, limit keeps the newest.
    let (_, newest) = d.logs("?limit=2").await;
    assert_eq!(
        newest["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["seq"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        seqs[seqs.len() - 2..].to_vec()
    );
    // since = a time: lines after it.
    let last_time = lines.last().unwrap()["time"].as_str().unwrap().to_string();
    let (_, none) = d
        .logs(&format!("?since={}", last_time.replace('+', "%2B")))
        .await;
    assert!(none["data"].as_array().unwrap().is_empty(), "{none}");
    let first_time = lines[0]["time"].as_str().unwrap().to_string();
    let (_, some) = d
        .logs(&format!("?since={}", first_time.replace('+', "%2B")))
        .await;
    assert!(!some["data"].as_array().unwrap().is_empty());
    // Bad filters.
    for (q, code, field) in [
        (
            "?level=loud",
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("level"),
        ),
        (
            "?since=yesterday",
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("since"),
        ),
        ("?limit=0", StatusCode::UNPROCESSABLE_ENTITY, Some("limit")),
        (
            "?limit=1001",
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("limit"),
        ),
        ("?lvl=warn", StatusCode::BAD_REQUEST, None),
    ] {
        let (st, e) = d.logs(q).await;
        assert_eq!(st, code, "{q}: {e}");
        assert_eq!(e["error"]["field"].as_str(), field, "{q}: {e}");
    }
    let resp = d
        .client
        .get(d.url("/api/v1/system/logs"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);

    // The live tail saw the same lines, scrubbed too; the warn tail only warnings.
    let (id, line) = tail.until("invalid_token").await;
    assert_eq!(line["seq"].as_u64().unwrap(), id);
    let (_, w) = warn_tail.until("invalid_api_key").await;
    assert_eq!(w["level"], "WARN");
    while let Some((_, l)) = warn_tail.next_now().await {
        assert_ne!(l["level"], "INFO", "{l}");
    }
    // Resume with Last-Event-ID: the kept lines after it come first.
    let mut resumed = Tail::open(&d, "", Some(created_seq)).await;
    let (first, _) = resumed.next().await.unwrap();
    assert_eq!(first, created_seq + 1);

    // Shutdown ends the tails (the daemon exits cleanly, so they did not hold it up).
    let stderr = d.stop();
    while tail.next().await.is_some() {}
    forbidden(&tail.sse.all);
    forbidden(&stderr);
    assert!(tail.sse.all.contains("request refused"));
}

impl Tail {
    /// The next frame already buffered or arriving within 200 ms.
    async fn next_now(&mut self) -> Option<(u64, Value)> {
        tokio::time::timeout(Duration::from_millis(200), self.next())
            .await
            .ok()
            .flatten()
    }
}
