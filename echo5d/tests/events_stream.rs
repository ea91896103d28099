//! The event stream beyond leads: platform and key changes made over the admin API arrive
//! with the documented `data` and `tenant`, and what a client resuming with `Last-Event-ID`
//! gets when its id is older than the ring (1,024 events) or from before a restart.

mod common;

use common::sse::SseStream;
use common::{TestServer, t0};
use echo5_core::clock::ManualClock;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::Arc;

/// The event stream, optionally resumed after `last_id`.
async fn open_stream(s: &TestServer, last_id: Option<u64>) -> SseStream {
    let req = s.client.get(s.url("/api/v1/events")).bearer_auth(&s.token);
    SseStream::open(req, last_id).await
}

async fn next(stream: &mut SseStream, kind: &str) -> (u64, Value) {
    stream.next(kind).await.expect("stream ended")
}

/// One `platform.updated`: a PATCH that changes `default_sla_hours` to `hours`.
async fn platform_change(s: &TestServer, hours: u32) {
    let (status, body) = s
        .patch(
            "/api/v1/platform/settings",
            &json!({ "default_sla_hours": hours }).to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn platform_and_key_changes_arrive_with_their_data_and_tenant() {
    let s = TestServer::start().await;
    let (t, old_secret) = s.tenant_with_key(r#"{"name":"Open Arms"}"#).await;
    let tenant = json!({"id": t["id"], "slug": "open-arms", "name": "Open Arms"});
    let (_, keys) = s.get("/api/v1/tenants/open-arms/keys").await;
    let old = keys["data"][0].clone();
    let mut stream = open_stream(&s, None).await;

    // Platform settings: two fields changed, no tenant.
    let (status, body) = s
        .patch(
            "/api/v1/platform/settings",
            r#"{"default_sla_hours": 12, "operator_name": "Ops Desk"}"#,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (platform_id, e) = next(&mut stream, "platform.updated").await;
    assert_eq!(e["kind"], "platform.updated");
    assert_eq!(e["id"], platform_id);
    assert_eq!(e["tenant"], Value::Null, "{e}");
    let changed: BTreeSet<&str> = e["data"]["changed"]
        .as_array()
        .unwrap_or_else(|| panic!("changed is a list: {e}"))
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(
        changed,
        BTreeSet::from(["default_sla_hours", "operator_name"]),
        "{e}"
    );
    assert!(
        !e.to_string().contains("Ops Desk"),
        "data names fields, not values: {e}"
    );

    // The same values again change nothing and announce nothing: the next event is the
    // rotation, with the next id.
    s.patch(
        "/api/v1/platform/settings",
        r#"{"default_sla_hours": 12, "operator_name": "Ops Desk"}"#,
    )
    .await;

    // Rotation: announced with the old key's prefix and the tenant.
    let (status, rotated) = s
        .post(
            &format!(
                "/api/v1/tenants/open-arms/keys/{}/rotate",
                old["id"].as_str().unwrap()
            ),
            r#"{"grace_hours": 1}"#,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{rotated}");
    let new_secret = rotated["new_key"]["secret"].as_str().unwrap().to_string();
    let (rotated_id, e) = next(&mut stream, "key.rotated").await;
    assert_eq!(rotated_id, platform_id + 1, "an event between: {e}");
    assert_eq!(e["tenant"], tenant);
    assert_eq!(e["data"], json!({"prefix": old["prefix"]}));

    // Revocation of the new key: its prefix, the tenant.
    let (status, revoked) = s
        .delete(&format!(
            "/api/v1/tenants/open-arms/keys/{}",
            rotated["new_key"]["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{revoked}");
    let (revoked_id, e) = next(&mut stream, "key.revoked").await;
    assert_eq!(revoked_id, rotated_id + 1);
    assert_eq!(e["tenant"], tenant);
    assert_eq!(e["data"], json!({"prefix": rotated["new_key"]["prefix"]}));
    assert_ne!(e["data"]["prefix"], old["prefix"]);

    for secret in [&old_secret, &new_secret] {
        assert!(!stream.all.contains(secret.as_str()), "a key in the stream");
    }
}

/// Reads frames of any kind until the one with id `last` (inclusive): (id, kind) of each.
async fn frames_until(stream: &mut SseStream, last: u64) -> Vec<(u64, String)> {
    let mut out = Vec::new();
    loop {
        // `next` skips frames of other kinds; every frame here is one of these two.
        let (id, e) = next(stream, "platform.updated").await;
        out.push((id, e["kind"].as_str().unwrap().to_string()));
        if id >= last {
            return out;
        }
    }
}

/// The contract keeps the last 1,024 events for `Last-Event-ID`. A client whose id is
/// older gets those 1,024 and nothing else: no `lagged` frame, no error. The only sign of
/// what it missed is the gap between its id and the first id replayed (ids increase by
/// one), which it has to notice itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_older_than_the_ring_replays_the_last_1024_without_a_signal() {
    let s = TestServer::start().await;
    let mut stream = open_stream(&s, None).await;
    platform_change(&s, 5).await;
    let (first, _) = next(&mut stream, "platform.updated").await;
    drop(stream);

    // 1,100 more while the client is away.
    for i in 0..1100u32 {
        platform_change(&s, 6 + i % 2).await;
    }
    let newest = first + 1100;

    let mut resumed = open_stream(&s, Some(first)).await;
    let got = frames_until(&mut resumed, newest).await;
    let ids: Vec<u64> = got.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids.len(), 1024, "the ring's size");
    assert_eq!(ids[0], newest - 1023, "the oldest event still kept");
    assert!(
        ids.windows(2).all(|w| w[1] == w[0] + 1),
        "replayed in order, without holes"
    );
    let missed = ids[0] - first - 1;
    assert_eq!(missed, 76, "events the client never sees");
    assert!(
        !resumed.all.contains("event: lagged") && !resumed.all.contains("event: error"),
        "today the stream says nothing about the events it dropped"
    );

    // Live again afterwards.
    platform_change(&s, 9).await;
    let (live, _) = next(&mut resumed, "platform.updated").await;
    assert_eq!(live, newest + 1);
}

/// Ids start at 1 again when the daemon starts. A console that reconnects after a restart
/// sends the id it saw before it; everything the new process publishes must still reach it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_with_an_id_from_before_a_restart_still_gets_new_events() {
    let s = TestServer::start().await;
    let mut stream = open_stream(&s, None).await;
    for i in 0..20u32 {
        platform_change(&s, 5 + i % 2).await;
    }
    let mut seen = 0;
    while seen < 20 {
        let (id, _) = next(&mut stream, "platform.updated").await;
        seen = id;
    }
    drop(stream);
    let dir = s.stop().await;

    let s = TestServer::start_in(dir, Arc::new(ManualClock::new(t0())), |_| {}).await;
    // Published after the restart, before the console reconnects: in the ring.
    platform_change(&s, 7).await;
    let mut resumed = open_stream(&s, Some(seen)).await;
    let (id, e) = next(&mut resumed, "platform.updated").await;
    assert_eq!(id, 1, "the new process's first event: {e}");
    // And live.
    platform_change(&s, 8).await;
    let (id, _) = next(&mut resumed, "platform.updated").await;
    assert_eq!(id, 2);
}
