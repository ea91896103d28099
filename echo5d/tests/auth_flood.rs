//! Floods of wrong credentials against the real binary: the flooding address is answered 429
//! with Retry-After, its refusals are logged in a handful of lines (so the log ring keeps
//! the lines from before the flood), and everyone else, including a correct credential from
//! the flooding address, is served. And `--admin-listen`: the admin API only on its own
//! listener.
//!
//! Options go through the environment (`ECHO5_*`), so `ECHO5D_TEST_BIN=<older echo5d>`
//! runs the same attacks against a build that predates them.

mod common;

use common::daemon::{Launch, RealDaemon, free_port, sample_lead, tenant_and_key_at};
use futures_util::StreamExt;
use reqwest::StatusCode;
use serde_json::Value;
use std::net::IpAddr;

/// A client whose connections come from `ip` (any 127/8 address reaches the daemon).
fn client_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(ip.parse::<IpAddr>().unwrap())
        .build()
        .unwrap()
}

/// The N of an aggregated line's message, "N more requests refused ...".
fn aggregated_count(line: &str) -> Option<u64> {
    let before = &line[..line.find(" more requests refused")?];
    before.rsplit(' ').next()?.parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_wrong_credentials_is_throttled_and_logged_in_a_few_lines() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("daemon.log");
    let (mut d, token, key) = RealDaemon::start_logged_with_key(dir.path(), |l| {
        l.env("ECHO5_AUTH_FAILURE_LIMIT", "10")
            .env("ECHO5_AUTH_FAILURE_WINDOW", "60s")
    })
    .await;
    let good = client_from("127.0.0.1");
    let logs = |good: reqwest::Client, url: String, token: String| async move {
        let r = good.get(url).bearer_auth(&token).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        r.json::<Value>().await.unwrap()
    };
    let ring_url = d.url("/api/v1/system/logs?limit=1000");
    let before = logs(good.clone(), ring_url.clone(), token.clone()).await;
    let marker = before["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["message"].as_str().unwrap().contains("tenant created"))
        .expect("the tenant's creation is logged")["seq"]
        .as_u64()
        .unwrap();

    // 6,000 wrong credentials from 127.0.0.2, more than the ring's 5,000 lines: wrong admin
    // tokens and wrong API keys (well-formed and not), 32 at a time.
    let flood = client_from("127.0.0.2");
    const FLOOD: usize = 6000;
    let answers: Vec<(StatusCode, Option<String>, Value)> = futures_util::stream::iter(0..FLOOD)
        .map(|i| {
            let flood = flood.clone();
            let (admin_url, ingest_url) = (d.url("/api/v1/tenants"), d.url("/api/v1/leads"));
            async move {
                let req = match i % 3 {
                    0 => flood
                        .get(admin_url)
                        .bearer_auth(format!("e5a_WrongWrongWrongWrongWrongWrong{i:010}")),
                    1 => flood
                        .post(ingest_url)
                        .header("x-api-key", format!("e5_WrongWrongWrongWrongWrong{i:010}")),
                    _ => flood.post(ingest_url).header("x-api-key", "not-a-key"),
                };
                let r = req.send().await.unwrap();
                let status = r.status();
                let retry = r
                    .headers()
                    .get("retry-after")
                    .map(|v| v.to_str().unwrap().to_string());
                let body: Value = r.json().await.unwrap();
                (status, retry, body)
            }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    let unauthorized = answers
        .iter()
        .filter(|a| a.0 == StatusCode::UNAUTHORIZED)
        .count();
    let throttled: Vec<_> = answers
        .iter()
        .filter(|a| a.0 == StatusCode::TOO_MANY_REQUESTS)
        .collect();
    assert_eq!(unauthorized + throttled.len(), FLOOD, "only 401s and 429s");
    assert!(
        (10..=10 + 32).contains(&unauthorized),
        "{unauthorized} answered 401; the limit is 10 (plus those in flight at once)"
    );
    for (_, retry, body) in &throttled {
        let secs: u64 = retry
            .as_deref()
            .expect("a 429 carries Retry-After")
            .parse()
            .unwrap();
        assert!((1..=60).contains(&secs), "Retry-After: {secs}");
        assert_eq!(body["error"]["code"], "too_many_auth_failures", "{body}");
        assert!(body["error"]["message"].as_str().unwrap().contains("retry"));
    }

    // Other addresses are not throttled: a wrong token from 127.0.0.3 is a plain 401.
    let r = client_from("127.0.0.3")
        .get(d.url("/api/v1/tenants"))
        .bearer_auth("e5a_WrongWrongWrongWrongWrongWrongWrongWron")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // Good clients are served, from elsewhere and from the throttled address itself.
    for c in [&good, &flood] {
        let r = c
            .get(d.url("/api/v1/tenants"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let r = d.post_lead(c, &key, &sample_lead()).await;
        assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    }

    // The ring still holds the line from before the flood, and the flood took few lines.
    let after = logs(good.clone(), ring_url.clone(), token.clone()).await;
    let lines = after["data"].as_array().unwrap();
    assert!(
        lines.iter().any(|l| l["seq"].as_u64() == Some(marker)),
        "the line from before the flood is gone from the ring"
    );
    let refused: Vec<&str> = lines
        .iter()
        .map(|l| l["message"].as_str().unwrap())
        .filter(|m| m.contains("refused (not authorized)") || m.contains("request refused"))
        .collect();
    assert!(
        refused.len() <= 20,
        "{} log lines for the flood: {refused:#?}",
        refused.len()
    );

    // stderr too; and every refusal is accounted for in those lines (one each, or a count).
    d.stop();
    let stderr = std::fs::read_to_string(&log).unwrap();
    let refused: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("refused (not authorized)") || l.contains("request refused"))
        .collect();
    assert!(
        refused.len() <= 20,
        "{} stderr lines for the flood: {refused:#?}",
        refused.len()
    );
    let accounted: u64 = refused
        .iter()
        .map(|l| {
            if l.contains("more requests refused") {
                aggregated_count(l).unwrap()
            } else {
                1
            }
        })
        .sum();
    assert_eq!(accounted, FLOOD as u64 + 1, "{refused:#?}");
    assert!(
        refused
            .iter()
            .any(|l| l.contains("127.0.0.2") && l.contains("more requests refused")),
        "{refused:#?}"
    );
    // The credentials themselves never appear.
    assert!(
        !stderr.contains("WrongWrong"),
        "a presented credential in the log"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_listen_keeps_the_admin_api_off_the_public_listener() {
    let dir = tempfile::tempdir().unwrap();
    let admin_port = free_port();
    let d = RealDaemon::start(
        &dir.path().join("data"),
        Launch::new()
            .log_to(&dir.path().join("daemon.log"))
            .env("ECHO5_ADMIN_LISTEN", &format!("127.0.0.1:{admin_port}")),
    )
    .await;
    let token = d.token();
    let admin = |path: &str| format!("http://127.0.0.1:{admin_port}{path}");
    let c = reqwest::Client::new();

    // The admin listener serves the admin API...
    let (_, key) = tenant_and_key_at(&admin(""), &token).await;
    for path in [
        "/api/v1/tenants",
        "/api/v1/leads",
        "/api/v1/openapi.json",
        "/api/v1/system/logs",
        "/healthz",
    ] {
        let r = c.get(admin(path)).bearer_auth(&token).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "admin listener {path}");
    }

    // ...and the public one answers 404 for every admin route, with or without the token.
    for (method, path) in [
        ("GET", "/api/v1/tenants"),
        ("POST", "/api/v1/tenants"),
        ("GET", "/api/v1/tenants/open-arms"),
        ("GET", "/api/v1/tenants/open-arms/keys"),
        ("GET", "/api/v1/leads"),
        ("GET", "/api/v1/tenants/open-arms/leads.csv"),
        ("GET", "/api/v1/audit"),
        ("GET", "/api/v1/system/logs"),
        ("GET", "/api/v1/platform/settings"),
        ("GET", "/api/v1/dashboard"),
        ("GET", "/api/v1/events"),
        ("GET", "/api/v1/openapi.json"),
    ] {
        for with_token in [true, false] {
            let mut req = c.request(method.parse().unwrap(), d.url(path));
            if with_token {
                req = req.bearer_auth(&token);
            }
            let r = req.send().await.unwrap();
            assert_eq!(r.status(), StatusCode::NOT_FOUND, "public {method} {path}");
            let body: Value = r.json().await.unwrap();
            assert_eq!(body["error"]["code"], "route_not_found", "{body}");
        }
    }

    // Ingest, the key check and health stay public.
    let r = d.post_lead(&c, &key, &sample_lead()).await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = c
        .post(d.url(&format!("/api/v1/ingest/{key}")))
        .form(&[("name", "John Roe"), ("email", "john@example.com")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = c
        .get(d.url("/api/v1/key"))
        .header("x-api-key", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    for path in ["/healthz", "/readyz"] {
        assert_eq!(
            c.get(d.url(path)).send().await.unwrap().status(),
            StatusCode::OK
        );
    }
    // The leads posted on the public side are seen on the admin side.
    let r = c
        .get(admin("/api/v1/tenants/open-arms/leads"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let leads: Value = r.json().await.unwrap();
    assert_eq!(leads["data"].as_array().unwrap().len(), 2, "{leads}");
}
