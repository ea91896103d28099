//! API keys over a real loopback socket: show once, reveal, rotate with grace, revoke, and
//! every way a WordPress site can present a key.

mod common;

use chrono::TimeDelta;
use common::{TestServer, assert_error, captured_logs};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// `GET /api/v1/key` with the key presented one way.
async fn whoami(s: &TestServer, how: &str, key: &str) -> (StatusCode, Value) {
    let url = s.url("/api/v1/key");
    let req = match how {
        "x-api-key" => s.client.get(url).header("x-api-key", key),
        "bearer" => s
            .client
            .get(url)
            .header("authorization", format!("Bearer {key}")),
        "bare" => s.client.get(url).header("authorization", key),
        "api_key" => s.client.get(format!("{url}?api_key={key}")),
        "key" => s.client.get(format!("{url}?key={key}")),
        other => panic!("{other}"),
    };
    let resp = req.send().await.unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap())
}

async fn create(s: &TestServer, tenant: &str, body: &str) -> Value {
    let resp = s
        .client
        .post(s.url(&format!("/api/v1/tenants/{tenant}/keys")))
        .bearer_auth(&s.token)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    resp.json().await.unwrap()
}

#[tokio::test]
async fn a_created_key_authenticates_every_way_a_site_can_send_it() {
    let s = TestServer::start().await;
    let t = s.tenant(r#"{"name":"Open Arms"}"#).await;
    let k = create(&s, "open-arms", r#"{"label":"openarms.com contact form"}"#).await;
    let secret = k["secret"].as_str().unwrap();
    assert!(secret.starts_with("e5_") && secret.len() == 35, "{secret}");
    assert_eq!(k["prefix"], &secret[..8]);
    assert_eq!(k["label"], "openarms.com contact form");
    assert_eq!(k["status"], "active");
    for how in ["x-api-key", "bearer", "bare", "api_key", "key"] {
        let (status, who) = whoami(&s, how, secret).await;
        assert_eq!(status, StatusCode::OK, "{how}: {who}");
        assert_eq!(
            who["tenant"],
            json!({"id": t["id"], "slug": "open-arms", "name": "Open Arms"})
        );
        assert_eq!(who["key_id"], k["id"]);
    }
    assert_error(
        &whoami(&s, "x-api-key", "e5_wrongwrongwrongwrongwrongwrong12").await,
        StatusCode::UNAUTHORIZED,
        "invalid_api_key",
        None,
    );
    let resp = s.client.get(s.url("/api/v1/key")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "missing_api_key");
    // Keys and admin tokens are not interchangeable.
    assert_error(
        &whoami(&s, "bearer", &s.token).await,
        StatusCode::UNAUTHORIZED,
        "invalid_api_key",
        None,
    );
    let resp = s
        .client
        .get(s.url("/api/v1/tenants"))
        .bearer_auth(secret)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    // An empty body creates a key labelled "default".
    let d = create(&s, "open-arms", "").await;
    assert_eq!(d["label"], "default");
    s.stop().await;
}

#[tokio::test]
async fn list_shows_metadata_never_the_secret_and_reveal_is_audited() {
    let s = TestServer::start().await;
    s.tenant(r#"{"name":"Open Arms"}"#).await;
    let k = create(&s, "open-arms", r#"{"label":"site"}"#).await;
    let secret = k["secret"].as_str().unwrap().to_string();
    whoami(&s, "x-api-key", &secret).await;
    let (status, list) = s.get("/api/v1/tenants/open-arms/keys").await;
    assert_eq!(status, StatusCode::OK);
    let row = &list["data"][0];
    assert_eq!(row["prefix"], &secret[..8]);
    assert_eq!(row["label"], "site");
    assert_eq!(
        row["last_used_at"], "2026-05-28T20:26:40Z",
        "use shows before the flush"
    );
    assert!(row.get("secret").is_none());
    assert!(!list.to_string().contains(&secret[8..]));

    let resp = s
        .client
        .post(s.url(&format!(
            "/api/v1/tenants/open-arms/keys/{}/reveal",
            k["id"].as_str().unwrap()
        )))
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let revealed: Value = resp.json().await.unwrap();
    assert_eq!(revealed["secret"], secret.as_str());
    let (_, audit) = s.get("/api/v1/audit?action=key.revealed").await;
    assert_eq!(audit["data"].as_array().unwrap().len(), 1);
    assert_eq!(audit["data"][0]["tenant"]["slug"], "open-arms");
    assert_eq!(audit["data"][0]["target"], k["id"]);
    let (_, audit_all) = s.get("/api/v1/audit").await;
    assert!(!audit_all.to_string().contains(&secret[8..]));
    assert!(
        !captured_logs().contains(&secret[8..]),
        "a key reached the log"
    );
    s.stop().await;
}

#[tokio::test]
async fn rotate_with_grace_keeps_both_until_expiry() {
    let s = TestServer::start().await;
    s.tenant(r#"{"name":"Open Arms"}"#).await;
    let k = create(&s, "open-arms", r#"{"label":"site"}"#).await;
    let old = k["secret"].as_str().unwrap().to_string();
    let id = k["id"].as_str().unwrap();
    let resp = s
        .client
        .post(s.url(&format!("/api/v1/tenants/open-arms/keys/{id}/rotate")))
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let r: Value = resp.json().await.unwrap();
    let new = r["new_key"]["secret"].as_str().unwrap().to_string();
    assert_ne!(new, old);
    assert_eq!(r["new_key"]["rotated_from"], id);
    assert_eq!(r["new_key"]["label"], "site");
    assert_eq!(r["old_key"]["status"], "expiring");
    assert_eq!(
        r["old_key"]["expires_at"], "2026-05-29T20:26:40Z",
        "default grace is 24 h"
    );
    assert!(r["old_key"].get("secret").is_none());
    assert_eq!(whoami(&s, "x-api-key", &old).await.0, StatusCode::OK);
    assert_eq!(whoami(&s, "x-api-key", &new).await.0, StatusCode::OK);
    s.clock.advance(TimeDelta::hours(24));
    assert_error(
        &whoami(&s, "x-api-key", &old).await,
        StatusCode::UNAUTHORIZED,
        // Expired keys answer like unknown ones; the admin API shows the status.
        "invalid_api_key",
        None,
    );
    assert_eq!(whoami(&s, "x-api-key", &new).await.0, StatusCode::OK);
    let (_, list) = s.get("/api/v1/tenants/open-arms/keys").await;
    let statuses: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["active", "expired"]);
    assert_error(
        &s.post(&format!("/api/v1/tenants/open-arms/keys/{id}/rotate"), "{}")
            .await,
        StatusCode::CONFLICT,
        "key_expired",
        None,
    );
    s.stop().await;
}

#[tokio::test]
async fn grace_zero_and_revoke_stop_a_key_at_once() {
    let s = TestServer::start().await;
    s.tenant(r#"{"name":"Open Arms"}"#).await;
    let k = create(&s, "open-arms", "{}").await;
    let id = k["id"].as_str().unwrap();
    let (status, r) = s
        .post(
            &format!("/api/v1/tenants/open-arms/keys/{id}/rotate"),
            r#"{"grace_hours":0,"label":"new site"}"#,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{r}");
    assert_eq!(r["new_key"]["label"], "new site");
    assert_error(
        &whoami(&s, "bearer", k["secret"].as_str().unwrap()).await,
        StatusCode::UNAUTHORIZED,
        // Expired keys answer like unknown ones; the admin API shows the status.
        "invalid_api_key",
        None,
    );
    let new = r["new_key"]["secret"].as_str().unwrap();
    let new_id = r["new_key"]["id"].as_str().unwrap();
    assert_eq!(whoami(&s, "bearer", new).await.0, StatusCode::OK);
    let (status, revoked) = s
        .delete(&format!("/api/v1/tenants/open-arms/keys/{new_id}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(revoked["status"], "revoked");
    assert_error(
        &whoami(&s, "bearer", new).await,
        StatusCode::UNAUTHORIZED,
        "invalid_api_key",
        None,
    );
    let (status, again) = s
        .delete(&format!("/api/v1/tenants/open-arms/keys/{new_id}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["revoked_at"], revoked["revoked_at"]);
    assert_error(
        &s.post(
            &format!("/api/v1/tenants/open-arms/keys/{new_id}/reveal"),
            "",
        )
        .await,
        StatusCode::CONFLICT,
        "key_revoked",
        None,
    );
    let (_, audit) = s.get("/api/v1/audit?tenant=open-arms").await;
    let actions: Vec<&str> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "key.revoked",
            "key.rotated",
            "key.created",
            "tenant.created"
        ]
    );
    s.stop().await;
}

#[tokio::test]
async fn keys_are_scoped_to_their_tenant() {
    let s = TestServer::start().await;
    let a = s.tenant(r#"{"name":"Open Arms"}"#).await;
    s.tenant(r#"{"name":"Caring Hearts"}"#).await;
    let ka = create(&s, "open-arms", "{}").await;
    let kid = ka["id"].as_str().unwrap();
    let (_, who) = whoami(&s, "x-api-key", ka["secret"].as_str().unwrap()).await;
    assert_eq!(who["tenant"]["id"], a["id"]);
    for got in [
        s.post(
            &format!("/api/v1/tenants/caring-hearts/keys/{kid}/reveal"),
            "",
        )
        .await,
        s.post(
            &format!("/api/v1/tenants/caring-hearts/keys/{kid}/rotate"),
            "",
        )
        .await,
        s.delete(&format!("/api/v1/tenants/caring-hearts/keys/{kid}"))
            .await,
    ] {
        assert_error(&got, StatusCode::NOT_FOUND, "not_found", None);
        assert!(!got.1.to_string().contains(ka["secret"].as_str().unwrap()));
    }
    let (_, b_keys) = s.get("/api/v1/tenants/caring-hearts/keys").await;
    assert_eq!(b_keys["data"], json!([]));
    assert_eq!(
        whoami(&s, "x-api-key", ka["secret"].as_str().unwrap())
            .await
            .0,
        StatusCode::OK,
        "A's key untouched"
    );
    s.stop().await;
}

#[tokio::test]
async fn key_request_errors() {
    let s = TestServer::start().await;
    s.tenant(r#"{"name":"Open Arms"}"#).await;
    let k = create(&s, "open-arms", "{}").await;
    let id = k["id"].as_str().unwrap();
    let rot = format!("/api/v1/tenants/open-arms/keys/{id}/rotate");
    assert_error(
        &s.post(&rot, r#"{"grace_hours":721}"#).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "out_of_range",
        Some("grace_hours"),
    );
    assert_error(
        &s.post(&rot, r#"{"grace_hours":-1}"#).await,
        StatusCode::BAD_REQUEST,
        "invalid_type",
        Some("grace_hours"),
    );
    assert_error(
        &s.post(&rot, r#"{"grace":1}"#).await,
        StatusCode::BAD_REQUEST,
        "unknown_field",
        Some("grace"),
    );
    assert_error(
        &s.post("/api/v1/tenants/open-arms/keys", r#"{"label":""}"#)
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "blank",
        Some("label"),
    );
    assert_error(
        &s.post("/api/v1/tenants/open-arms/keys/nope/reveal", "")
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    );
    assert_error(
        &s.delete(&format!(
            "/api/v1/tenants/open-arms/keys/{}",
            uuid::Uuid::now_v7()
        ))
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    );
    assert_error(
        &s.get("/api/v1/tenants/nobody/keys").await,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    );
    // Nothing changed: the one key still works.
    assert_eq!(
        whoami(&s, "x-api-key", k["secret"].as_str().unwrap())
            .await
            .0,
        StatusCode::OK
    );
    s.stop().await;
}

#[tokio::test]
async fn key_usage_is_written_at_shutdown() {
    let s = TestServer::start().await;
    let t = s.tenant(r#"{"name":"Open Arms"}"#).await;
    let k = create(&s, "open-arms", "{}").await;
    s.clock.advance(TimeDelta::minutes(3));
    whoami(&s, "x-api-key", k["secret"].as_str().unwrap()).await;
    let dir = s.stop().await;
    // Reopen the database: the coalesced use was committed by the shutdown.
    let key = echo5d::datadir::master_key(dir.path(), None, None).unwrap();
    let clock: std::sync::Arc<dyn echo5_core::clock::Clock> =
        std::sync::Arc::new(echo5_core::clock::ManualClock::new(common::t0()));
    let store =
        echo5_data::Store::open(&dir.path().join("echo5.db"), key, clock, Default::default())
            .unwrap();
    let tid: uuid::Uuid = t["id"].as_str().unwrap().parse().unwrap();
    let keys = store.list_keys(tid.into()).await.unwrap();
    assert_eq!(
        keys[0].last_used_at,
        Some(common::t0() + TimeDelta::minutes(3))
    );
}
