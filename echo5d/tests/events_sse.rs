//! The live event stream over a real connection: a new lead and a new breach arrive as
//! Server-Sent Events, and a reconnect with Last-Event-ID gets what it missed.

mod common;

use chrono::TimeDelta;
use common::sse::SseStream;
use common::{TestServer, t0};
use serde_json::{Value, json};

/// The event stream, optionally resumed after `last_id`.
async fn open_stream(s: &TestServer, last_id: Option<u64>) -> SseStream {
    let req = s.client.get(s.url("/api/v1/events")).bearer_auth(&s.token);
    SseStream::open(req, last_id).await
}

/// The next event of `kind` (id, parsed data), skipping others; fails after 10 s.
async fn next(stream: &mut SseStream, kind: &str) -> (u64, Value) {
    stream.next(kind).await.expect("stream ended")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_leads_and_breaches_arrive_live_and_resume_works() {
    let s = TestServer::start_with(|a| a.sla_interval = 1).await;
    let (t, key) = s
        .tenant_with_key(r#"{"name":"Open Arms","settings":{"sla_hours":4}}"#)
        .await;
    let mut stream = open_stream(&s, None).await;

    let (_, r) = s
        .submit(
            &key,
            Some("application/json"),
            br#"{"name":"Live Lead","email":"live@example.com"}"#,
        )
        .await;
    let (created_id, e) = next(&mut stream, "lead.created").await;
    assert_eq!(e["data"]["lead_id"], r["id"]);
    assert_eq!(
        e["tenant"],
        json!({"id": t["id"], "slug": "open-arms", "name": "Open Arms"})
    );
    assert!(
        !e.to_string().contains("live@example.com"),
        "no personal data in events"
    );

    let (_, backdated) = s
        .post(
            "/api/v1/tenants/open-arms/leads",
            &json!({"name":"Old","created_at": (t0() - TimeDelta::hours(6)).to_rfc3339()})
                .to_string(),
        )
        .await;
    let (_, e) = next(&mut stream, "sla.breached").await;
    assert_eq!(e["data"]["lead_id"], backdated["id"]);
    assert_eq!(e["data"]["overdue_minutes"], 120);

    s.patch("/api/v1/tenants/open-arms/settings", r#"{"sla_hours":8}"#)
        .await;
    let (updated_id, e) = next(&mut stream, "tenant.updated").await;
    assert_eq!(e["data"]["changed"], "settings");
    drop(stream);

    // Missed while disconnected: a key created and a lead moved.
    s.post(
        "/api/v1/tenants/open-arms/keys",
        r#"{"label":"second site"}"#,
    )
    .await;
    let (_, st) = s.get("/api/v1/tenants/open-arms/stages").await;
    s.patch(
        &format!("/api/v1/leads/{}", r["id"].as_str().unwrap()),
        &json!({"stage_id": st["data"][1]["id"]}).to_string(),
    )
    .await;
    let mut resumed = open_stream(&s, Some(updated_id)).await;
    let (key_id, e) = next(&mut resumed, "key.created").await;
    assert!(key_id > updated_id);
    assert!(e["data"]["prefix"].as_str().unwrap().starts_with("e5_"));
    assert_eq!(
        e["data"].as_object().unwrap().len(),
        1,
        "the prefix only, never the key"
    );
    let (_, e) = next(&mut resumed, "lead.updated").await;
    assert_eq!(e["data"]["lead_id"], r["id"]);
    assert!(created_id < updated_id);
    s.stop().await;
}

#[tokio::test]
async fn the_stream_needs_the_admin_token() {
    let s = TestServer::start().await;
    let resp = s.client.get(s.url("/api/v1/events")).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "missing_token");
    s.stop().await;
}
