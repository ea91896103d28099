//! A deactivated tenant's keys are refused on every API-key route, at once and across a
//! restart, and work again once the tenant is reactivated. On the real `echo5d` binary.

mod common;

use common::daemon::Launch;
use common::real_api::RealApi;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn set_active(api: &RealApi, slug: &str, active: bool) {
    let (status, t) = api
        .admin(
            reqwest::Method::PATCH,
            &format!("/api/v1/tenants/{slug}"),
            json!({ "active": active }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{t}");
    assert_eq!(t["active"], active);
}

async fn lead_count(api: &RealApi, slug: &str) -> usize {
    api.leads(slug).await.len()
}

/// Every API-key route, and every place the key may travel: (what, status, body).
async fn key_routes(api: &RealApi, key: &str, n: usize) -> Vec<(String, StatusCode, Value)> {
    let email = |route: &str| format!("{route}{n}@example.com");
    let form = |route: &str| json!({ "name": "Ada Lovelace", "email": email(route), "message": "Call me" });
    let c = &api.client;
    let mut out = Vec::new();
    let reqs: Vec<(&str, reqwest::RequestBuilder)> = vec![
        (
            "POST /leads X-API-Key",
            c.post(api.d.url("/api/v1/leads"))
                .header("x-api-key", key)
                .json(&form("xkey")),
        ),
        (
            "POST /leads Bearer + Idempotency-Key",
            c.post(api.d.url("/api/v1/leads"))
                .bearer_auth(key)
                .header("idempotency-key", format!("retry-{n}"))
                .json(&form("bearer")),
        ),
        (
            "POST /leads ?api_key= form-urlencoded",
            c.post(api.d.url(&format!("/api/v1/leads?api_key={key}")))
                .form(&[("your-name", "Ada"), ("your-email", &email("query"))]),
        ),
        (
            "POST /ingest/{key}",
            c.post(api.d.url(&format!("/api/v1/ingest/{key}")))
                .json(&form("path")),
        ),
        (
            "GET /ingest/{key}",
            c.get(api.d.url(&format!(
                "/api/v1/ingest/{key}?name=Ada&email={}",
                email("get")
            ))),
        ),
        (
            "GET /key",
            c.get(api.d.url("/api/v1/key")).header("x-api-key", key),
        ),
    ];
    for (what, req) in reqs {
        let (status, body) = api.send(req).await;
        out.push((what.to_string(), status, body));
    }
    out
}

#[track_caller]
fn assert_inactive(answers: &[(String, StatusCode, Value)]) {
    for (what, status, body) in answers {
        assert_eq!(*status, StatusCode::FORBIDDEN, "{what}: {body}");
        assert_eq!(body["error"]["code"], "tenant_inactive", "{what}: {body}");
        let message = body["error"]["message"].as_str().unwrap_or("");
        assert!(message.contains("inactive"), "{what}: {body}");
    }
}

#[track_caller]
fn assert_accepted(answers: &[(String, StatusCode, Value)]) {
    for (what, status, body) in answers {
        assert_eq!(*status, StatusCode::OK, "{what}: {body}");
    }
}

#[tokio::test]
async fn deactivated_tenant_keys_are_refused_until_reactivated() {
    let dir = tempfile::tempdir().unwrap();
    let (mut api, key) = RealApi::start_with_key(&dir.path().join("data"), Launch::new()).await;
    let (status, _) = api
        .admin(
            reqwest::Method::POST,
            "/api/v1/tenants",
            json!({"name": "Caring Hearts"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let other = api.new_key("caring-hearts").await;

    assert_accepted(&key_routes(&api, &key, 1).await);
    let stored = lead_count(&api, "open-arms").await;
    assert_eq!(stored, 5);

    // Deactivated: refused at once, nothing stored; the other tenant is untouched.
    set_active(&api, "open-arms", false).await;
    assert_inactive(&key_routes(&api, &key, 2).await);
    assert_eq!(lead_count(&api, "open-arms").await, stored);
    assert_accepted(&key_routes(&api, &other, 2).await);
    // A key created while the tenant is inactive is refused too.
    let late = api.new_key("open-arms").await;
    assert_inactive(&key_routes(&api, &late, 3).await);

    // Across a restart (the refusal comes from the stored state, not only from memory).
    api.d.stop();
    api.d.restart().await;
    assert_inactive(&key_routes(&api, &key, 4).await);
    assert_eq!(lead_count(&api, "open-arms").await, stored);

    // Reactivated: both keys work again at once.
    set_active(&api, "open-arms", true).await;
    assert_accepted(&key_routes(&api, &key, 5).await);
    assert_accepted(&key_routes(&api, &late, 6).await);
    assert_eq!(lead_count(&api, "open-arms").await, stored + 10);

    // A PUT that replaces the tenant with `active: false` deactivates it the same way.
    let (status, t) = api
        .admin(
            reqwest::Method::GET,
            "/api/v1/tenants/open-arms",
            Value::Null,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let mut replaced = t.clone();
    replaced["active"] = json!(false);
    let (status, body) = api
        .admin(reqwest::Method::PUT, "/api/v1/tenants/open-arms", replaced)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_inactive(&key_routes(&api, &key, 7).await);
}

#[tokio::test]
async fn tenant_created_inactive_takes_no_leads() {
    let dir = tempfile::tempdir().unwrap();
    let api = RealApi::start(&dir.path().join("data"), Launch::new()).await;
    let (status, t) = api
        .admin(
            reqwest::Method::POST,
            "/api/v1/tenants",
            json!({"name": "Family First", "active": false}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{t}");
    let key = api.new_key("family-first").await;
    assert_inactive(&key_routes(&api, &key, 1).await);
    assert_eq!(lead_count(&api, "family-first").await, 0);
    set_active(&api, "family-first", true).await;
    assert_accepted(&key_routes(&api, &key, 2).await);
}
