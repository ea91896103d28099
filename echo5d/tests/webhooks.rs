//! Outgoing webhooks against a real receiver on loopback: signatures (checked with the
//! independent `standardwebhooks` crate), the retry schedule on the manual clock,
//! `Retry-After`, 410, redirects, timeouts, and the address rule at create and at send.

mod common;

use chrono::{TimeDelta, Utc};
use common::receiver::{Receiver, Reply};
use common::{TestServer, assert_error};
use echo5_core::clock::{Clock, ManualClock};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(10);

fn allow_loopback(a: &mut echo5d::config::ServeArgs) {
    a.outbound.outbound_allow_cidr = vec!["127.0.0.0/8".parse().unwrap()];
}

/// A tenant with an ingest key and an endpoint at `url` taking `events`; returns (tenant
/// slug, key, endpoint JSON with its secret).
async fn setup(s: &TestServer, name: &str, url: &str, events: Value) -> (String, String, Value) {
    let (t, key) = s
        .tenant_with_key(&json!({ "name": name }).to_string())
        .await;
    let slug = t["slug"].as_str().unwrap().to_string();
    let (status, w) = s
        .post(
            &format!("/api/v1/tenants/{slug}/webhooks"),
            &json!({ "url": url, "events": events, "description": "test" }).to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{w}");
    (slug, key, w)
}

async fn submit(s: &TestServer, key: &str, n: usize) -> Value {
    let (status, r) = s
        .submit(
            key,
            Some("application/json"),
            json!({ "name": format!("Lead {n}"), "email": format!("lead{n}@example.com") })
                .to_string()
                .as_bytes(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    r
}

async fn deliveries(s: &TestServer, slug: &str, id: &str) -> Vec<Value> {
    let (status, page) = s
        .get(&format!("/api/v1/tenants/{slug}/webhooks/{id}/deliveries"))
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["data"].as_array().unwrap().clone()
}

/// Waits until the delivery log's newest entry has `n` attempts.
async fn attempts_recorded(s: &TestServer, slug: &str, id: &str, n: usize) -> Value {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let d = deliveries(s, slug, id).await;
        if let Some(first) = d.first()
            && first["attempts"].as_array().unwrap().len() >= n
        {
            return first.clone();
        }
        assert!(std::time::Instant::now() < deadline, "{n} attempts: {d:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn headers_of(r: &common::receiver::Received) -> axum::http::HeaderMap {
    r.headers.clone()
}

#[tokio::test]
async fn signatures_verify_with_the_standard_webhooks_crate_and_rotation_signs_twice() {
    // Real time on the clock: the crate checks the timestamp against the wall clock.
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start_in(dir, Arc::new(ManualClock::new(Utc::now())), allow_loopback).await;
    let rx = Receiver::start().await;
    let (slug, key, w) = setup(&s, "Signed", &rx.url("/in"), json!(["lead.created"])).await;
    let secret = w["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"), "{w}");
    assert_eq!(w["active"], true);
    assert!(w.get("secret").is_some());
    let receipt = submit(&s, &key, 1).await;
    let got = rx.wait_for("/in", 1, WAIT).await;
    let m = &got[0];
    standardwebhooks::Webhook::new(&secret)
        .unwrap()
        .verify(&m.body, &headers_of(m))
        .expect("the signature verifies");
    // Another secret does not verify it.
    let other = echo5_core::webhooks::generate_secret().unwrap();
    assert!(
        standardwebhooks::Webhook::new(other.expose())
            .unwrap()
            .verify(&m.body, &headers_of(m))
            .is_err()
    );
    let body = m.json();
    assert_eq!(body["type"], "lead.created");
    assert_eq!(body["data"]["id"], receipt["id"]);
    assert_eq!(body["data"]["email"], "lead1@example.com");
    assert!(body["data"].get("raw").is_none(), "{body}");
    assert!(body["timestamp"].is_string());
    assert!(m.header("webhook-id").starts_with("msg_"));

    // The secret is never shown again.
    let id = w["id"].as_str().unwrap();
    let (_, listed) = s.get(&format!("/api/v1/tenants/{slug}/webhooks")).await;
    assert!(!listed.to_string().contains(&secret));
    assert_eq!(listed["data"][0]["id"], id);

    // Rotation: a new secret, and both sign for 24 h.
    let (status, rotated) = s
        .post(
            &format!("/api/v1/tenants/{slug}/webhooks/{id}/rotate-secret"),
            "",
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    let new_secret = rotated["secret"].as_str().unwrap().to_string();
    assert_ne!(new_secret, secret);
    assert!(rotated["previous_secret_expires_at"].is_string());
    let (status, d) = s
        .post(&format!("/api/v1/tenants/{slug}/webhooks/{id}/test"), "")
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{d}");
    assert_eq!(d["type"], "webhook.test");
    let got = rx.wait_for("/in", 2, WAIT).await;
    let t = &got[1];
    assert_eq!(t.json()["type"], "webhook.test");
    assert_eq!(t.header("webhook-signature").split(' ').count(), 2);
    for sec in [&secret, &new_secret] {
        standardwebhooks::Webhook::new(sec)
            .unwrap()
            .verify(&t.body, &headers_of(t))
            .expect("both secrets verify during the overlap");
    }
    // After 24 h only the new secret signs.
    s.clock.advance(TimeDelta::hours(25));
    s.post(&format!("/api/v1/tenants/{slug}/webhooks/{id}/test"), "")
        .await;
    let got = rx.wait_for("/in", 3, WAIT).await;
    assert_eq!(got[2].header("webhook-signature").split(' ').count(), 1);
}

#[tokio::test]
async fn a_receiver_failing_three_times_gets_the_fourth_attempt_with_the_same_id() {
    let s = TestServer::start_with(allow_loopback).await;
    let rx = Receiver::start().await;
    rx.plan(
        "/flaky",
        vec![Reply::Status(500), Reply::Status(502), Reply::Status(500)],
    );
    let (slug, key, w) = setup(&s, "Flaky", &rx.url("/flaky"), json!(["*"])).await;
    let id = w["id"].as_str().unwrap();
    submit(&s, &key, 1).await;
    rx.wait_for("/flaky", 1, WAIT).await;
    // Each wait of the schedule passes on the manual clock only: 5 s, 5 min, 30 min.
    for (n, wait) in [(1, 5), (2, 300), (3, 1800)] {
        let d = attempts_recorded(&s, &slug, id, n).await;
        assert_eq!(d["status"], "pending", "{d}");
        let next: chrono::DateTime<Utc> = d["next_attempt_at"].as_str().unwrap().parse().unwrap();
        assert_eq!(next, s.clock.now() + TimeDelta::seconds(wait), "{d}");
        // Not before its time.
        s.clock.advance(TimeDelta::seconds(wait - 1));
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(rx.received("/flaky").len(), n);
        s.clock.advance(TimeDelta::seconds(1));
        rx.wait_for("/flaky", n + 1, WAIT).await;
    }
    let d = attempts_recorded(&s, &slug, id, 4).await;
    let got = rx.received("/flaky");
    assert_eq!(got.len(), 4);
    let ids: Vec<String> = got.iter().map(|r| r.header("webhook-id")).collect();
    assert!(ids.iter().all(|i| i == &ids[0]), "{ids:?}");
    assert_eq!(d["message_id"], ids[0].as_str());
    // Each try carries its own timestamp.
    assert_ne!(
        got[0].header("webhook-timestamp"),
        got[3].header("webhook-timestamp")
    );
    let deadline = std::time::Instant::now() + WAIT;
    let d = loop {
        let d = deliveries(&s, &slug, id).await.remove(0);
        if d["status"] == "succeeded" || std::time::Instant::now() > deadline {
            break d;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(d["status"], "succeeded", "{d}");
    let codes: Vec<i64> = d["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status_code"].as_i64().unwrap())
        .collect();
    assert_eq!(codes, vec![500, 502, 500, 200]);
    assert_eq!(d["attempts"][0]["response"], "answer");
    // The status filter.
    let (_, ok) = s
        .get(&format!(
            "/api/v1/tenants/{slug}/webhooks/{id}/deliveries?status=succeeded"
        ))
        .await;
    assert_eq!(ok["data"].as_array().unwrap().len(), 1);
    let (_, failed) = s
        .get(&format!(
            "/api/v1/tenants/{slug}/webhooks/{id}/deliveries?status=failed"
        ))
        .await;
    assert_eq!(failed["data"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn gone_disables_the_endpoint_at_once() {
    let s = TestServer::start_with(allow_loopback).await;
    let rx = Receiver::start().await;
    rx.always("/gone", Reply::Status(410));
    let (slug, key, w) = setup(&s, "Gone", &rx.url("/gone"), json!(["lead.created"])).await;
    let id = w["id"].as_str().unwrap();
    submit(&s, &key, 1).await;
    rx.wait_for("/gone", 1, WAIT).await;
    let deadline = std::time::Instant::now() + WAIT;
    let w = loop {
        let (_, w) = s
            .get(&format!("/api/v1/tenants/{slug}/webhooks/{id}"))
            .await;
        if w["active"] == false || std::time::Instant::now() > deadline {
            break w;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(w["active"], false, "{w}");
    assert_eq!(w["disabled_reason"], "gone");
    let d = deliveries(&s, &slug, id).await;
    assert_eq!(d[0]["status"], "failed");
    // Nothing more is sent to it, even after the schedule's first wait.
    submit(&s, &key, 2).await;
    s.clock.advance(TimeDelta::minutes(10));
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(rx.received("/gone").len(), 1);
    // Re-enabled, it takes messages again and recover sends the one it failed.
    rx.always("/gone", Reply::Status(200));
    let (status, w) = s
        .patch(
            &format!("/api/v1/tenants/{slug}/webhooks/{id}"),
            r#"{"active": true}"#,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{w}");
    assert_eq!(w["disabled_reason"], Value::Null);
    let (status, r) = s
        .post(
            &format!("/api/v1/tenants/{slug}/webhooks/{id}/recover"),
            &json!({ "since": "2020-01-01T00:00:00Z" }).to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{r}");
    assert_eq!(r["queued"], 1);
    rx.wait_for("/gone", 2, WAIT).await;
}

#[tokio::test]
async fn retry_after_on_429_and_503_is_honoured() {
    let s = TestServer::start_with(allow_loopback).await;
    let rx = Receiver::start().await;
    rx.plan(
        "/busy",
        vec![
            Reply::WithHeaders(429, vec![("retry-after", "120".into())]),
            Reply::WithHeaders(503, vec![("retry-after", "900".into())]),
        ],
    );
    let (slug, key, w) = setup(&s, "Busy", &rx.url("/busy"), json!(["lead.created"])).await;
    let id = w["id"].as_str().unwrap();
    submit(&s, &key, 1).await;
    let d = attempts_recorded(&s, &slug, id, 1).await;
    let next: chrono::DateTime<Utc> = d["next_attempt_at"].as_str().unwrap().parse().unwrap();
    // 120 s, not the schedule's 5 s.
    assert_eq!(next, s.clock.now() + TimeDelta::seconds(120), "{d}");
    s.clock.advance(TimeDelta::seconds(5));
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(rx.received("/busy").len(), 1);
    s.clock.advance(TimeDelta::seconds(115));
    rx.wait_for("/busy", 2, WAIT).await;
    let d = attempts_recorded(&s, &slug, id, 2).await;
    let next: chrono::DateTime<Utc> = d["next_attempt_at"].as_str().unwrap().parse().unwrap();
    // 900 s from the 503, more than the schedule's 300 s.
    assert_eq!(next, s.clock.now() + TimeDelta::seconds(900), "{d}");
    s.clock.advance(TimeDelta::seconds(900));
    rx.wait_for("/busy", 3, WAIT).await;
}

#[tokio::test]
async fn a_redirect_is_not_followed() {
    let s = TestServer::start_with(allow_loopback).await;
    let rx = Receiver::start().await;
    rx.always(
        "/moved",
        Reply::WithHeaders(307, vec![("location", rx.url("/target"))]),
    );
    let (slug, key, w) = setup(&s, "Moved", &rx.url("/moved"), json!(["lead.created"])).await;
    let id = w["id"].as_str().unwrap();
    submit(&s, &key, 1).await;
    let d = attempts_recorded(&s, &slug, id, 1).await;
    assert_eq!(d["attempts"][0]["status_code"], 307);
    assert_eq!(d["status"], "pending", "a redirect is a failure: {d}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(rx.received("/target").len(), 0);
}

#[tokio::test]
async fn a_slow_receiver_times_out() {
    let s = TestServer::start_with(|a| {
        allow_loopback(a);
        a.outbound.webhook_timeout = Duration::from_secs(1);
    })
    .await;
    let rx = Receiver::start().await;
    rx.always("/slow", Reply::Slow(Duration::from_secs(4)));
    let (slug, key, slow) = setup(&s, "Two", &rx.url("/slow"), json!(["lead.created"])).await;
    submit(&s, &key, 0).await;
    let id = slow["id"].as_str().unwrap();
    let d = attempts_recorded(&s, &slug, id, 1).await;
    let a = &d["attempts"][0];
    assert_eq!(a["status_code"], Value::Null, "{d}");
    assert!(a["error"].as_str().unwrap().starts_with("timeout"), "{d}");
    // The attempt lasted the timeout, not the receiver's 4 s.
    assert!(a["duration_ms"].as_u64().unwrap() >= 900, "{d}");
    assert!(a["duration_ms"].as_u64().unwrap() < 3000, "{d}");
}

/// An endpoint whose receiver never answers holds its own slots only: another endpoint of
/// the same tenant gets every message while the first still has all of its in flight.
/// The timeout is far beyond the wait, so nothing here depends on how fast the machine is.
#[tokio::test]
async fn a_receiver_that_never_answers_holds_no_other_endpoint() {
    let s = TestServer::start_with(|a| {
        allow_loopback(a);
        a.outbound.webhook_timeout = Duration::from_secs(600);
    })
    .await;
    let rx = Receiver::start().await;
    let gate = Arc::new(tokio::sync::Notify::new());
    rx.always("/held", Reply::Held(gate.clone()));
    let (slug, key, held) = setup(&s, "Two", &rx.url("/held"), json!(["lead.created"])).await;
    let (status, fast) = s
        .post(
            &format!("/api/v1/tenants/{slug}/webhooks"),
            &json!({ "url": rx.url("/fast"), "events": ["*"] }).to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    // More messages than the held endpoint may have in flight.
    let n = echo5d::outbox_worker::PER_ENDPOINT * 2;
    for i in 0..n {
        submit(&s, &key, i).await;
    }
    rx.wait_for("/fast", n, WAIT).await;
    // The held endpoint took exactly its share of sends and no more.
    rx.wait_for("/held", echo5d::outbox_worker::PER_ENDPOINT, WAIT)
        .await;
    assert_eq!(
        rx.received("/held").len(),
        echo5d::outbox_worker::PER_ENDPOINT
    );
    let d = deliveries(&s, &slug, fast["id"].as_str().unwrap()).await;
    assert_eq!(d.len(), n);
    let held_id = held["id"].as_str().unwrap();
    assert!(
        deliveries(&s, &slug, held_id)
            .await
            .iter()
            .all(|m| m["status"] == "pending")
    );
    gate.notify_waiters();
}

/// URLs the address rule refuses, each naming loopback, private or link-local space.
fn forbidden_urls(port: u16) -> Vec<String> {
    vec![
        format!("http://127.0.0.1:{port}/x"),
        "http://10.0.0.1/x".into(),
        "http://169.254.169.254/latest/meta-data/".into(),
        format!("http://[::1]:{port}/x"),
        format!("http://[::ffff:127.0.0.1]:{port}/x"),
        format!("http://localhost:{port}/x"),
    ]
}

#[tokio::test]
async fn internal_addresses_are_refused_at_create_and_patch() {
    let s = TestServer::start().await;
    let t = s.tenant(r#"{"name": "Guarded"}"#).await;
    let slug = t["slug"].as_str().unwrap();
    for url in forbidden_urls(9) {
        let got = s
            .post(
                &format!("/api/v1/tenants/{slug}/webhooks"),
                &json!({ "url": url, "events": ["*"] }).to_string(),
            )
            .await;
        assert_error(&got, StatusCode::BAD_REQUEST, "url_forbidden", Some("url"));
        assert!(
            got.1["error"]["message"]
                .as_str()
                .unwrap()
                .contains("address"),
            "{}",
            got.1
        );
    }
    let (_, list) = s.get(&format!("/api/v1/tenants/{slug}/webhooks")).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 0);
    // Not http(s): refused by the rules before any lookup.
    let got = s
        .post(
            &format!("/api/v1/tenants/{slug}/webhooks"),
            r#"{"url": "file:///etc/passwd", "events": ["*"]}"#,
        )
        .await;
    assert_error(
        &got,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_url",
        Some("url"),
    );
    let got = s
        .post(
            &format!("/api/v1/tenants/{slug}/webhooks"),
            r#"{"url": "https://hooks.example.com/x", "events": ["lead.nope"]}"#,
        )
        .await;
    assert_error(
        &got,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_events",
        Some("events"),
    );
}

#[tokio::test]
async fn the_allow_list_lets_loopback_through_and_nothing_else() {
    let s = TestServer::start_with(allow_loopback).await;
    let rx = Receiver::start().await;
    let (slug, _, w) = setup(&s, "Allowed", &rx.url("/ok"), json!(["*"])).await;
    let id = w["id"].as_str().unwrap();
    for url in ["http://10.0.0.1/x", "http://169.254.169.254/x"] {
        let got = s
            .patch(
                &format!("/api/v1/tenants/{slug}/webhooks/{id}"),
                &json!({ "url": url }).to_string(),
            )
            .await;
        assert_error(&got, StatusCode::BAD_REQUEST, "url_forbidden", Some("url"));
    }
    // The mapped form of an allowed address is allowed; ::1 is not in 127.0.0.0/8.
    let got = s
        .patch(
            &format!("/api/v1/tenants/{slug}/webhooks/{id}"),
            &json!({ "url": format!("http://[::ffff:127.0.0.1]:{}/ok", rx.port) }).to_string(),
        )
        .await;
    assert_eq!(got.0, StatusCode::OK, "{}", got.1);
    let got = s
        .patch(
            &format!("/api/v1/tenants/{slug}/webhooks/{id}"),
            &json!({ "url": format!("http://[::1]:{}/ok", rx.port) }).to_string(),
        )
        .await;
    assert_error(&got, StatusCode::BAD_REQUEST, "url_forbidden", Some("url"));
}

#[tokio::test]
async fn internal_addresses_are_refused_at_send() {
    // Endpoints created while loopback was allowed; the daemon restarted without it.
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(common::t0()));
    let s = TestServer::start_in(dir, clock.clone(), |a| {
        a.outbound.outbound_allow_cidr =
            vec!["127.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()];
    })
    .await;
    let rx = Receiver::start().await;
    let urls = [
        rx.url("/v4"),
        format!("http://[::ffff:127.0.0.1]:{}/mapped", rx.port),
        format!("http://localhost:{}/name", rx.port),
    ];
    let (slug, key, _) = setup(&s, "Rebound", &urls[0], json!(["lead.created"])).await;
    let mut ids = Vec::new();
    for u in &urls[1..] {
        let (status, w) = s
            .post(
                &format!("/api/v1/tenants/{slug}/webhooks"),
                &json!({ "url": u, "events": ["lead.created"] }).to_string(),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{u}: {w}");
        ids.push(w["id"].as_str().unwrap().to_string());
    }
    let dir = s.stop().await;
    let s = TestServer::start_in(dir, clock, |_| {}).await;
    submit(&s, &key, 1).await;
    let (_, list) = s.get(&format!("/api/v1/tenants/{slug}/webhooks")).await;
    for w in list["data"].as_array().unwrap() {
        let id = w["id"].as_str().unwrap();
        let d = attempts_recorded(&s, &slug, id, 1).await;
        let a = &d["attempts"][0];
        assert_eq!(a["status_code"], Value::Null, "{}: {d}", w["url"]);
        assert!(
            a["error"].as_str().unwrap().starts_with("url_forbidden"),
            "{}: {d}",
            w["url"]
        );
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(rx.all().is_empty(), "a refused address was called");
}

#[tokio::test]
async fn lead_changes_reach_the_endpoints_that_take_them() {
    let s = TestServer::start_with(allow_loopback).await;
    let rx = Receiver::start().await;
    let (slug, key, _) = setup(
        &s,
        "Changes",
        &rx.url("/stages"),
        json!(["lead.stage_changed", "lead.deleted"]),
    )
    .await;
    let receipt = submit(&s, &key, 1).await;
    let lead = receipt["id"].as_str().unwrap();
    let (_, stages) = s.get(&format!("/api/v1/tenants/{slug}/stages")).await;
    let second = stages["data"][1]["id"].as_str().unwrap();
    let (status, _) = s
        .patch(
            &format!("/api/v1/leads/{lead}"),
            &json!({ "stage_id": second }).to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let got = rx.wait_for("/stages", 1, WAIT).await;
    let b = got[0].json();
    assert_eq!(
        b["type"], "lead.stage_changed",
        "lead.created is not taken: {b}"
    );
    assert_eq!(b["data"]["stage_id"], second);
    let (status, _) = s.delete(&format!("/api/v1/leads/{lead}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let got = rx.wait_for("/stages", 2, WAIT).await;
    let b = got[1].json();
    assert_eq!(b["type"], "lead.deleted");
    assert_eq!(
        b["data"],
        json!({ "id": lead, "tenant_id": b["data"]["tenant_id"] })
    );
}

#[tokio::test]
async fn an_endpoint_failing_every_attempt_for_five_days_is_disabled_and_its_manager_told() {
    let smtp = common::smtp::SmtpSink::start().await;
    let url = smtp.url();
    let s = TestServer::start_with(move |a| {
        allow_loopback(a);
        a.smtp_url = Some(echo5_core::secret::Secret::new(url));
        // A try a day: the fifth day passes within one message's schedule.
        a.outbound.outbound_retry_schedule =
            echo5_core::outbox::RetrySchedule::parse("0,86400,86400,86400,86400,86400,86400")
                .unwrap();
    })
    .await;
    let rx = Receiver::start().await;
    rx.always("/down", Reply::Status(500));
    let t = s
        .tenant(r#"{"name":"Down Co","settings":{"manager_email":"boss@down.example"}}"#)
        .await;
    let slug = t["slug"].as_str().unwrap().to_string();
    let (st, w) = s
        .post(
            &format!("/api/v1/tenants/{slug}/webhooks"),
            &json!({ "url": rx.url("/down"), "events": ["*"] }).to_string(),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{w}");
    let id = w["id"].as_str().unwrap();
    s.post(&format!("/api/v1/tenants/{slug}/webhooks/{id}/test"), "")
        .await;
    // Attempts on days 0..=4 fail and the endpoint stays; the one on day 5 disables it.
    for day in 1..=5 {
        attempts_recorded(&s, &slug, id, day).await;
        let (_, w) = s
            .get(&format!("/api/v1/tenants/{slug}/webhooks/{id}"))
            .await;
        assert_eq!(w["active"], true, "day {day}: {w}");
        s.clock.advance(TimeDelta::days(1));
    }
    attempts_recorded(&s, &slug, id, 6).await;
    let deadline = std::time::Instant::now() + WAIT;
    let w = loop {
        let (_, w) = s
            .get(&format!("/api/v1/tenants/{slug}/webhooks/{id}"))
            .await;
        if w["active"] == false || std::time::Instant::now() > deadline {
            break w;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(w["active"], false, "{w}");
    assert_eq!(w["disabled_reason"], "failing");
    let deadline = std::time::Instant::now() + WAIT;
    while smtp.mails().is_empty() {
        assert!(std::time::Instant::now() < deadline, "no notice mailed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mail = &smtp.mails()[0];
    let text = mail.decoded();
    assert!(text.contains("boss@down.example"), "{text}");
    assert!(
        text.contains("every delivery attempt has failed for 5 days"),
        "{text}"
    );
    assert_eq!(deliveries(&s, &slug, id).await[0]["status"], "failed");
    assert_eq!(rx.received("/down").len(), 6);
}

#[tokio::test]
async fn a_disabled_endpoints_notice_waits_out_an_smtp_outage_and_a_restart_and_is_sent_once() {
    use echo5_core::outbox_tasks::TaskStatus;
    use echo5_data::outbox_tasks::TaskFilter;
    use std::sync::atomic::Ordering;

    let smtp = common::smtp::SmtpSink::start().await;
    smtp.failing.store(true, Ordering::SeqCst);
    let url = smtp.url();
    let flags = move |a: &mut echo5d::config::ServeArgs| {
        allow_loopback(a);
        a.smtp_url = Some(echo5_core::secret::Secret::new(url.clone()));
        a.outbound.outbound_retry_schedule =
            echo5_core::outbox::RetrySchedule::parse("0,5,5,5,5,5").unwrap();
    };
    let s = TestServer::start_with(flags.clone()).await;
    let rx = Receiver::start().await;
    rx.always("/gone", Reply::Status(410));
    let t = s
        .tenant(r#"{"name":"Gone Co","settings":{"manager_email":"boss@gone.example"}}"#)
        .await;
    let slug = t["slug"].as_str().unwrap().to_string();
    let (st, w) = s
        .post(
            &format!("/api/v1/tenants/{slug}/webhooks"),
            &json!({ "url": rx.url("/gone"), "events": ["*"] }).to_string(),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{w}");
    let id = w["id"].as_str().unwrap().to_string();
    s.post(&format!("/api/v1/tenants/{slug}/webhooks/{id}/test"), "")
        .await;

    // The SMTP server refuses (451): the notice stays queued with the error.
    let store = s.state.store.clone();
    let deadline = std::time::Instant::now() + WAIT;
    let task = loop {
        let tasks = store.tasks(TaskFilter::default(), 10).await.unwrap();
        if let Some(t) = tasks.into_iter().find(|t| t.attempts >= 1) {
            break t;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the notice was never tried"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(task.status, TaskStatus::Pending, "{task:?}");
    assert!(
        task.last_error.as_deref().unwrap_or("").contains("451"),
        "{task:?}"
    );
    assert!(smtp.mails().is_empty());

    // A restart keeps it; the server comes back; the next attempt on the schedule sends it.
    let clock = s.clock.clone();
    let dir = s.stop().await;
    smtp.failing.store(false, Ordering::SeqCst);
    let s = TestServer::start_in(dir, clock, flags).await;
    s.clock.advance(TimeDelta::seconds(5));
    let deadline = std::time::Instant::now() + WAIT;
    while smtp.mails().is_empty() {
        assert!(std::time::Instant::now() < deadline, "no notice mailed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let text = smtp.mails()[0].decoded();
    assert!(text.contains("boss@gone.example"), "{text}");
    assert!(text.contains("410 Gone"), "{text}");
    assert!(text.contains(&id), "{text}");
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let tasks = s
            .state
            .store
            .tasks(TaskFilter::default(), 10)
            .await
            .unwrap();
        assert_eq!(tasks.len(), 1, "one notice: {tasks:?}");
        if tasks[0].status == TaskStatus::Succeeded {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{tasks:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Later passes send nothing more.
    s.clock.advance(TimeDelta::minutes(5));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(smtp.mails().len(), 1);
}

#[tokio::test]
async fn endpoint_changes_are_audited_without_the_urls_path_or_the_secret() {
    let s = TestServer::start_with(allow_loopback).await;
    let rx = Receiver::start().await;
    let capability = "/hooks/catch/42/s3cr3t-capability";
    let (slug, _, w) = setup(&s, "Audit Co", &rx.url(capability), json!(["lead.created"])).await;
    let id = w["id"].as_str().unwrap().to_string();
    let secret = w["secret"].as_str().unwrap().to_string();
    let base = format!("/api/v1/tenants/{slug}/webhooks/{id}");
    let (st, _) = s
        .patch(
            &base,
            &json!({ "events": ["*"], "active": false }).to_string(),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, rotated) = s.post(&format!("{base}/rotate-secret"), "").await;
    assert_eq!(st, StatusCode::OK, "{rotated}");
    let (st, _) = s.delete(&base).await;
    assert_eq!(st, StatusCode::NO_CONTENT);

    let (st, page) = s.get(&format!("/api/v1/audit?tenant={slug}")).await;
    assert_eq!(st, StatusCode::OK, "{page}");
    let rows: Vec<&Value> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["target"] == id.as_str())
        .collect();
    let actions: Vec<&str> = rows.iter().map(|r| r["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        [
            "webhook.deleted",
            "webhook.secret_rotated",
            "webhook.updated",
            "webhook.created"
        ],
        "{page}"
    );
    let origin = rx.url("").trim_end_matches('/').to_string();
    assert_eq!(rows[3]["details"]["origin"], origin.as_str(), "{}", rows[3]);
    assert_eq!(rows[3]["details"]["events"], json!(["lead.created"]));
    assert_eq!(
        rows[2]["details"],
        json!({ "events": ["*"], "active": false })
    );
    assert!(
        rows.iter().all(|r| r["by"]["kind"] == "admin_token"),
        "{page}"
    );
    let text = page.to_string();
    assert!(!text.contains("s3cr3t-capability"), "{text}");
    assert!(!text.contains(&secret), "{text}");
    assert!(
        !text.contains(rotated["secret"].as_str().unwrap()),
        "{text}"
    );
}

#[tokio::test]
async fn erasing_a_lead_scrubs_the_messages_and_tasks_already_built_about_it() {
    use echo5_core::outbox_tasks::{ERASED, MailTask, NewTask, TaskStatus};
    use echo5_data::outbox_tasks::TaskFilter;

    let s = TestServer::start_with(allow_loopback).await;
    let rx = Receiver::start().await;
    rx.plan("/crm", vec![Reply::Status(500)]);
    let (slug, key, w) = setup(&s, "Erase Co", &rx.url("/crm"), json!(["*"])).await;
    let id = w["id"].as_str().unwrap();
    let receipt = submit(&s, &key, 77).await;
    let lead = receipt["id"].as_str().unwrap().to_string();
    // The first attempt fails with the lead's body built and stored for the retry.
    let first = rx.wait_for("/crm", 1, WAIT).await;
    let text = |r: &common::receiver::Received| String::from_utf8_lossy(&r.body).into_owned();
    assert!(text(&first[0]).contains("Lead 77"), "{}", text(&first[0]));
    attempts_recorded(&s, &slug, id, 1).await;
    // A notice about the lead, not yet sent.
    let task = s
        .state
        .store
        .enqueue_task(
            NewTask::mail(
                &MailTask {
                    to: "boss@erase.example".into(),
                    subject: "New lead: Lead 77".into(),
                    text: "lead77@example.com".into(),
                },
                s.clock.now() + TimeDelta::hours(1),
            )
            .lead(lead.parse().unwrap()),
        )
        .await
        .unwrap()
        .unwrap();

    let (st, body) = s.delete(&format!("/api/v1/leads/{lead}")).await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{body}");

    // The retry of the built message names the lead by id only; lead.deleted follows.
    s.clock.advance(TimeDelta::seconds(5));
    let got = rx.wait_for("/crm", 3, WAIT).await;
    let retry = got
        .iter()
        .skip(1)
        .find(|r| r.header("webhook-id") == first[0].header("webhook-id"))
        .expect("the retry of the first message");
    let b = retry.json();
    assert_eq!(b["type"], "lead.created");
    assert_eq!(b["timestamp"], first[0].json()["timestamp"]);
    assert_eq!(b["data"]["id"], lead.as_str());
    assert_eq!(b["data"].as_object().unwrap().len(), 2, "{b}");
    let all: String = got.iter().skip(1).map(text).collect();
    assert!(
        !all.contains("Lead 77") && !all.contains("lead77@"),
        "{all}"
    );
    assert!(got.iter().any(|r| r.json()["type"] == "lead.deleted"));

    let t = s
        .state
        .store
        .tasks(TaskFilter::default(), 10)
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.id == task)
        .unwrap();
    assert_eq!(t.status, TaskStatus::Failed);
    assert_eq!(t.last_error.as_deref(), Some(ERASED));
    assert_eq!(t.payload, json!({}));
}

/// `null` for a field with no empty value (an endpoint's URL, events, description or
/// active flag; a user's name, role, permissions or active flag) is 400 naming the field,
/// not a 200 that changed nothing; the endpoint and the user stay as they were.
#[tokio::test]
async fn null_where_nothing_can_be_cleared_is_refused_naming_the_field() {
    let s = TestServer::start_with(allow_loopback).await;
    let (slug, _, w) = setup(&s, "Null Checks", "http://127.0.0.1:9/hook", json!(["*"])).await;
    let hook = format!(
        "/api/v1/tenants/{slug}/webhooks/{}",
        w["id"].as_str().unwrap()
    );
    let (st, user) = s
        .post(
            &format!("/api/v1/tenants/{slug}/users"),
            r#"{"email": "nell@nullchecks.test", "name": "Nell", "role": "manager"}"#,
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{user}");
    let person = format!(
        "/api/v1/tenants/{slug}/users/{}",
        user["id"].as_str().unwrap()
    );
    let (st, hook_before) = s.get(&hook).await;
    assert_eq!(st, StatusCode::OK, "{hook_before}");
    let (st, user_before) = s.get(&person).await;
    assert_eq!(st, StatusCode::OK, "{user_before}");
    assert_eq!(user_before["name"], "Nell");
    for (path, field) in [
        (&hook, "url"),
        (&hook, "events"),
        (&hook, "description"),
        (&hook, "active"),
        (&person, "name"),
        (&person, "role"),
        (&person, "permissions"),
        (&person, "active"),
    ] {
        let (st, body) = s.patch(path, &json!({ field: null }).to_string()).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{field}: {body}");
        assert_eq!(body["error"]["code"], "invalid_type", "{field}: {body}");
        assert_eq!(body["error"]["field"], field, "{body}");
    }
    assert_eq!(s.get(&hook).await.1, hook_before);
    assert_eq!(s.get(&person).await.1, user_before);
    // `null` where it does clear something still does: a permission back to the role's.
    let (st, body) = s
        .patch(&person, r#"{"permissions": {"view_leads": null}}"#)
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
}
