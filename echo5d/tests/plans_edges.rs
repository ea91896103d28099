//! Plans at their edges, on a real daemon over a real SQLite file: odd bodies for plans and
//! a tenant's billing fields (every one a 4xx naming the field, none changing anything),
//! hard limits at 0 and after the plan changes, a rotated key's old half, leads past the
//! limit on every ingest path, notices under a burst, after a lowered limit and across the
//! UTC month boundary, retention exactly at its edge and after a lowered window, and the
//! Stripe reports under concurrent syncs and a refused key that never shows.

mod common;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use common::plans::{
    assert_limit, counts_match_rows, lead, notice_server, on_plan, plan, settled_notices,
};
use common::receiver::{Receiver, Reply};
use common::smtp::SmtpSink;
use common::stripe::{meter_events, stripe_args, until_reported};
use common::{TestServer, assert_error};
use echo5_core::clock::Clock;
use echo5_core::plans::Threshold;
use echo5_core::usage::Month;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

async fn set_limits(s: &TestServer, plan: &str, limits: Value) {
    let (st, p) = s
        .patch(
            &format!("/api/v1/platform/plans/{plan}"),
            &json!({ "limits": limits }).to_string(),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{p}");
}

async fn tenant_id(s: &TestServer, slug: &str) -> uuid::Uuid {
    s.get(&format!("/api/v1/tenants/{slug}")).await.1["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// A 4xx with a JSON error naming `field` (status and code as given when `Some`).
#[track_caller]
fn assert_refused(got: &(StatusCode, Value), status: StatusCode, field: &str, what: &str) {
    assert_eq!(got.0, status, "{what}: {}", got.1);
    assert!(
        got.1["error"]["code"]
            .as_str()
            .is_some_and(|c| !c.is_empty()),
        "{what}: a code: {}",
        got.1
    );
    assert!(
        got.1["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{what}: a message: {}",
        got.1
    );
    assert_eq!(got.1["error"]["field"], field, "{what}: {}", got.1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odd_plan_bodies_are_4xx_naming_the_field_and_change_nothing() {
    let s = TestServer::start().await;
    let bad = StatusCode::BAD_REQUEST;
    let rule = StatusCode::UNPROCESSABLE_ENTITY;
    let long = "n".repeat(10 * 1024);
    let cases: Vec<(String, StatusCode, &str)> = vec![
        (json!({}).to_string(), bad, "name"),
        (json!({"name": null}).to_string(), bad, "name"),
        (json!({"name": 5}).to_string(), bad, "name"),
        (json!({"name": " "}).to_string(), rule, "name"),
        (json!({"name": long}).to_string(), rule, "name"),
        (json!({"name": "Pro\u{7}"}).to_string(), rule, "name"),
        (json!({"name": "Pro\u{0}x"}).to_string(), rule, "name"),
        (json!({"name": "Pro\nPlus"}).to_string(), rule, "name"),
        (
            r#"{"name":"x","price_cents":-1}"#.into(),
            bad,
            "price_cents",
        ),
        (
            r#"{"name":"x","price_cents":1.5}"#.into(),
            bad,
            "price_cents",
        ),
        (
            r#"{"name":"x","price_cents":"4900"}"#.into(),
            bad,
            "price_cents",
        ),
        (
            r#"{"name":"x","price_cents":1e30}"#.into(),
            bad,
            "price_cents",
        ),
        (
            r#"{"name":"x","price_cents":18446744073709551616}"#.into(),
            bad,
            "price_cents",
        ),
        (
            r#"{"name":"x","price_cents":1000000001}"#.into(),
            rule,
            "price_cents",
        ),
        (
            r#"{"name":"x","price_cents":null}"#.into(),
            bad,
            "price_cents",
        ),
        (r#"{"name":"x","currency":"EURO"}"#.into(), rule, "currency"),
        (r#"{"name":"x","currency":"€€"}"#.into(), rule, "currency"),
        (r#"{"name":"x","currency":"E1R"}"#.into(), rule, "currency"),
        (r#"{"name":"x","currency":""}"#.into(), rule, "currency"),
        (r#"{"name":"x","currency":978}"#.into(), bad, "currency"),
        (r#"{"name":"x","seats":3}"#.into(), bad, "seats"),
        (r#"{"name":"x","limits":null}"#.into(), bad, "limits"),
        (r#"{"name":"x","limits":[1,2]}"#.into(), bad, "limits"),
        (r#"{"name":"x","limits":5}"#.into(), bad, "limits"),
        (
            r#"{"name":"x","limits":{"seats":3}}"#.into(),
            bad,
            "limits.seats",
        ),
        (
            r#"{"name":"x","limits":{"users":-1}}"#.into(),
            bad,
            "limits.users",
        ),
        (
            r#"{"name":"x","limits":{"users":2.5}}"#.into(),
            bad,
            "limits.users",
        ),
        (
            r#"{"name":"x","limits":{"users":"2"}}"#.into(),
            bad,
            "limits.users",
        ),
        (
            r#"{"name":"x","limits":{"api_keys":true}}"#.into(),
            bad,
            "limits.api_keys",
        ),
        (
            r#"{"name":"x","limits":{"webhooks":1e3}}"#.into(),
            bad,
            "limits.webhooks",
        ),
        (
            r#"{"name":"x","limits":{"leads_per_month":1000000001}}"#.into(),
            rule,
            "limits.leads_per_month",
        ),
        (
            r#"{"name":"x","limits":{"leads_per_month":-5}}"#.into(),
            bad,
            "limits.leads_per_month",
        ),
        (
            r#"{"name":"x","limits":{"retention_days":0}}"#.into(),
            rule,
            "limits.retention_days",
        ),
        (
            r#"{"name":"x","limits":{"retention_days":36501}}"#.into(),
            rule,
            "limits.retention_days",
        ),
        (
            r#"{"name":"x","limits":{"retention_days":4294967296}}"#.into(),
            bad,
            "limits.retention_days",
        ),
    ];
    for (body, status, field) in &cases {
        let got = s.post("/api/v1/platform/plans", body).await;
        let shown: String = body.chars().take(80).collect();
        assert_refused(&got, *status, field, &shown);
    }
    // Not an object at all: 400 with a JSON error.
    for body in ["[]", "\"Pro\"", "{", "null", "{\"name\":\"x\",}"] {
        let (st, v) = s.post("/api/v1/platform/plans", body).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body}: {v}");
        assert!(v["error"]["code"].is_string(), "{body}: {v}");
    }
    let (_, list) = s.get("/api/v1/platform/plans").await;
    assert_eq!(list["data"], json!([]), "nothing was created");

    // The largest values allowed are stored as given.
    let (st, p) = s
        .post(
            "/api/v1/platform/plans",
            &json!({"name": "Max", "price_cents": 1_000_000_000u64, "limits": {
                "leads_per_month": 1_000_000_000u64, "users": 0, "retention_days": 36500}})
            .to_string(),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{p}");
    assert_eq!(p["limits"]["leads_per_month"], 1_000_000_000u64);
    assert_eq!(p["limits"]["users"], 0);
    assert_eq!(p["limits"]["api_keys"], Value::Null);
    let id = p["id"].as_str().unwrap().to_string();

    // PATCH: the same rules, `null` only where it means "no limit"; a refused PATCH changes
    // nothing, not even the fields of it that were right.
    let path = format!("/api/v1/platform/plans/{id}");
    let patches: Vec<(&str, StatusCode, &str)> = vec![
        (r#"{"name":null}"#, bad, "name"),
        (r#"{"price_cents":null}"#, bad, "price_cents"),
        (r#"{"currency":null}"#, bad, "currency"),
        (r#"{"limits":null}"#, bad, "limits"),
        (r#"{"name":""}"#, rule, "name"),
        (r#"{"price_cents":-5}"#, bad, "price_cents"),
        (r#"{"price_cents":2.5}"#, bad, "price_cents"),
        (r#"{"limits":{"users":-1}}"#, bad, "limits.users"),
        (r#"{"limits":{"seats":1}}"#, bad, "limits.seats"),
        (r#"{"id":"x"}"#, bad, "id"),
        (
            r#"{"name":"Renamed","limits":{"retention_days":0}}"#,
            rule,
            "limits.retention_days",
        ),
        (
            r#"{"name":"Renamed","limits":{"webhooks":"1"}}"#,
            bad,
            "limits.webhooks",
        ),
    ];
    for (body, status, field) in &patches {
        assert_refused(&s.patch(&path, body).await, *status, field, body);
    }
    let (_, after) = s.get("/api/v1/platform/plans").await;
    assert_eq!(after["data"][0], p, "refused PATCHes changed nothing");

    // Ids that name no plan: 404 with a JSON error, whatever the method.
    let gone = uuid::Uuid::now_v7();
    for (st, v) in [
        s.patch("/api/v1/platform/plans/not-a-uuid", r#"{"name":"x"}"#)
            .await,
        s.patch(&format!("/api/v1/platform/plans/{gone}"), r#"{"name":"x"}"#)
            .await,
        s.delete("/api/v1/platform/plans/not-a-uuid").await,
        s.delete("/api/v1/platform/plans/%00%27").await,
        s.delete(&format!("/api/v1/platform/plans/{gone}")).await,
    ] {
        assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
        assert_eq!(v["error"]["code"], "not_found", "{v}");
    }
    // Deleting twice: the second finds nothing.
    assert_eq!(s.delete(&path).await.0, StatusCode::NO_CONTENT);
    let (st, v) = s.delete(&path).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
    let (st, v) = s.patch(&path, r#"{"name":"Back"}"#).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odd_billing_fields_on_a_tenant_are_4xx_naming_the_field_and_change_nothing() {
    let s = TestServer::start().await;
    s.tenant(r#"{"name":"Open Arms"}"#).await;
    let p = plan(&s, json!({"name": "Pro"})).await;
    let deleted = plan(&s, json!({"name": "Gone"})).await;
    assert_eq!(
        s.delete(&format!("/api/v1/platform/plans/{deleted}"))
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    let bad = StatusCode::BAD_REQUEST;
    let rule = StatusCode::UNPROCESSABLE_ENTITY;
    let long = format!("cus_{}", "a".repeat(300));
    let cases: Vec<(Value, StatusCode, &str)> = vec![
        (json!({"plan_id": "abc"}), bad, "plan_id"),
        (json!({"plan_id": ""}), bad, "plan_id"),
        (json!({"plan_id": 5}), bad, "plan_id"),
        (json!({"plan_id": {}}), bad, "plan_id"),
        (json!({"plan_id": [p]}), bad, "plan_id"),
        (json!({"plan_id": uuid::Uuid::now_v7()}), rule, "plan_id"),
        (json!({"plan_id": uuid::Uuid::nil()}), rule, "plan_id"),
        (json!({"plan_id": deleted}), rule, "plan_id"),
        (
            json!({"stripe_customer_id": ""}),
            rule,
            "stripe_customer_id",
        ),
        (
            json!({"stripe_customer_id": "cus_"}),
            rule,
            "stripe_customer_id",
        ),
        (
            json!({"stripe_customer_id": "CUS_abc"}),
            rule,
            "stripe_customer_id",
        ),
        (
            json!({"stripe_customer_id": "cus_ab cd"}),
            rule,
            "stripe_customer_id",
        ),
        (
            json!({"stripe_customer_id": "cus_ab\u{0}"}),
            rule,
            "stripe_customer_id",
        ),
        (
            json!({"stripe_customer_id": "cus_é"}),
            rule,
            "stripe_customer_id",
        ),
        (
            json!({"stripe_customer_id": "cus_a'--"}),
            rule,
            "stripe_customer_id",
        ),
        (
            json!({"stripe_customer_id": "cus_a\u{202e}"}),
            rule,
            "stripe_customer_id",
        ),
        (
            json!({"stripe_customer_id": "sk_live_abc"}),
            rule,
            "stripe_customer_id",
        ),
        (
            json!({"stripe_customer_id": long}),
            rule,
            "stripe_customer_id",
        ),
        (json!({"stripe_customer_id": 42}), bad, "stripe_customer_id"),
        (
            json!({"stripe_customer_id": ["cus_a"]}),
            bad,
            "stripe_customer_id",
        ),
        // A right field beside a wrong one: neither is applied.
        (
            json!({"name": "Renamed", "plan_id": uuid::Uuid::now_v7()}),
            rule,
            "plan_id",
        ),
        (
            json!({"plan_id": p, "stripe_customer_id": "bob"}),
            rule,
            "stripe_customer_id",
        ),
    ];
    let (_, before) = s.get("/api/v1/tenants/open-arms").await;
    for (body, status, field) in &cases {
        let got = s
            .patch("/api/v1/tenants/open-arms", &body.to_string())
            .await;
        assert_refused(&got, *status, field, &body.to_string());
    }
    let (_, after) = s.get("/api/v1/tenants/open-arms").await;
    assert_eq!(after, before, "refused PATCHes changed nothing");
    assert_eq!(after["plan_id"], Value::Null);

    // A plan and a customer on a tenant that does not exist: 404.
    let (st, v) = s
        .patch(
            "/api/v1/tenants/no-such-tenant",
            &json!({"plan_id": p}).to_string(),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");

    // Surrounding blanks are trimmed; null takes each off again.
    let (st, t) = s
        .patch(
            "/api/v1/tenants/open-arms",
            r#"{"plan_id":null,"stripe_customer_id":"  cus_Abc123  "}"#,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{t}");
    assert_eq!(t["stripe_customer_id"], "cus_Abc123");
    let (st, t) = s
        .patch(
            "/api/v1/tenants/open-arms",
            r#"{"stripe_customer_id":null}"#,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{t}");
    assert_eq!(t["stripe_customer_id"], Value::Null);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_of_zero_and_limits_changed_below_the_use() {
    let s = TestServer::start_with(|a| {
        a.outbound.outbound_allow_cidr = vec!["127.0.0.0/8".parse().unwrap()];
    })
    .await;
    let (_, key) = s.tenant_with_key(r#"{"name":"Open Arms"}"#).await;
    let p = plan(
        &s,
        json!({"name": "Nothing", "limits": {"users": 0, "api_keys": 0, "webhooks": 0}}),
    )
    .await;
    on_plan(&s, "open-arms", Some(&p)).await;
    let user = |n: usize| {
        json!({"email": format!("u{n}@openarms.example"), "name": "U", "role": "agent"}).to_string()
    };
    let hook = json!({"url": "http://127.0.0.1:9/hook", "events": ["lead.created"]}).to_string();
    assert_limit(
        &s.post("/api/v1/tenants/open-arms/users", &user(0)).await,
        "users",
        0,
        0,
    );
    assert_limit(
        &s.post("/api/v1/tenants/open-arms/webhooks", &hook).await,
        "webhooks",
        0,
        0,
    );
    // The key made before the plan counts: 1 of 0.
    assert_limit(
        &s.post("/api/v1/tenants/open-arms/keys", "{}").await,
        "api_keys",
        0,
        1,
    );
    // ...and keeps working: limits refuse creates, never what exists.
    let (st, r) = s
        .submit(&key, Some("application/json"), lead(1).as_bytes())
        .await;
    assert_eq!(st, StatusCode::OK, "{r}");

    // Raised: exactly that many more.
    set_limits(&s, &p, json!({"users": 2, "api_keys": 3, "webhooks": 2})).await;
    for i in 0..2 {
        let (st, v) = s.post("/api/v1/tenants/open-arms/users", &user(i)).await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        let (st, v) = s.post("/api/v1/tenants/open-arms/keys", "{}").await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        let (st, v) = s.post("/api/v1/tenants/open-arms/webhooks", &hook).await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
    }
    assert_limit(
        &s.post("/api/v1/tenants/open-arms/keys", "{}").await,
        "api_keys",
        3,
        3,
    );
    // A deactivated user still counts (it can be reactivated without a check); a deleted
    // one does not.
    let (_, users) = s.get("/api/v1/tenants/open-arms/users").await;
    let first = users["data"][0]["id"].as_str().unwrap().to_string();
    let (st, v) = s
        .patch(
            &format!("/api/v1/tenants/open-arms/users/{first}"),
            r#"{"active":false}"#,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_limit(
        &s.post("/api/v1/tenants/open-arms/users", &user(5)).await,
        "users",
        2,
        2,
    );
    let (st, v) = s
        .delete(&format!("/api/v1/tenants/open-arms/users/{first}"))
        .await;
    assert!(st.is_success(), "{st} {v}");
    let (st, v) = s.post("/api/v1/tenants/open-arms/users", &user(5)).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");

    // Lowered below the use: the next create is refused with the use as it is.
    set_limits(&s, &p, json!({"webhooks": 1})).await;
    assert_limit(
        &s.post("/api/v1/tenants/open-arms/webhooks", &hook).await,
        "webhooks",
        1,
        2,
    );
    // A deleted webhook frees its place only once the use is under the limit.
    let (_, hooks) = s.get("/api/v1/tenants/open-arms/webhooks").await;
    let w = hooks["data"][0]["id"].as_str().unwrap().to_string();
    let (st, _) = s
        .delete(&format!("/api/v1/tenants/open-arms/webhooks/{w}"))
        .await;
    assert!(st.is_success());
    assert_limit(
        &s.post("/api/v1/tenants/open-arms/webhooks", &hook).await,
        "webhooks",
        1,
        1,
    );

    // The usage answer shows the same use and limits.
    let (_, u) = s.get("/api/v1/tenants/open-arms/usage").await;
    assert_eq!(
        u["plan"]["used"],
        json!({"leads_this_month": 1, "users": 2, "api_keys": 3, "webhooks": 1}),
        "{u}"
    );
    assert_eq!(u["plan"]["limits"]["webhooks"], 1);

    // Off the plan: no limits at all.
    on_plan(&s, "open-arms", None).await;
    let (st, v) = s.post("/api/v1/tenants/open-arms/webhooks", &hook).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let (st, v) = s.post("/api/v1/tenants/open-arms/keys", "{}").await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let (_, u) = s.get("/api/v1/tenants/open-arms/usage").await;
    assert_eq!(u["plan"], Value::Null);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_keys_old_half_in_its_grace_takes_no_place() {
    let s = TestServer::start().await;
    let (_, old_secret) = s.tenant_with_key(r#"{"name":"Open Arms"}"#).await;
    let p = plan(&s, json!({"name": "Two keys", "limits": {"api_keys": 2}})).await;
    on_plan(&s, "open-arms", Some(&p)).await;
    let (_, keys) = s.get("/api/v1/tenants/open-arms/keys").await;
    let first = keys["data"][0]["id"].as_str().unwrap().to_string();
    let (st, r) = s
        .post(
            &format!("/api/v1/tenants/open-arms/keys/{first}/rotate"),
            r#"{"grace_hours":24}"#,
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{r}");
    // The old key still works for its grace...
    let (st, _) = s
        .submit(&old_secret, Some("application/json"), lead(1).as_bytes())
        .await;
    assert_eq!(st, StatusCode::OK);
    // ...but it is the same place as its successor: one key in use, a second may be made.
    let (_, u) = s.get("/api/v1/tenants/open-arms/usage").await;
    assert_eq!(u["plan"]["used"]["api_keys"], 1, "{u}");
    let (st, second) = s.post("/api/v1/tenants/open-arms/keys", "{}").await;
    assert_eq!(st, StatusCode::CREATED, "{second}");
    assert_limit(
        &s.post("/api/v1/tenants/open-arms/keys", "{}").await,
        "api_keys",
        2,
        2,
    );
    // At the limit a rotation is still allowed: it is not a create.
    let id = second["id"].as_str().unwrap();
    let (st, r) = s
        .post(
            &format!("/api/v1/tenants/open-arms/keys/{id}/rotate"),
            r#"{"grace_hours":1}"#,
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{r}");
    assert_limit(
        &s.post("/api/v1/tenants/open-arms/keys", "{}").await,
        "api_keys",
        2,
        2,
    );
    // A successor revoked during the grace leaves the old key as that place's live key.
    let new_id = r["new_key"]["id"].as_str().unwrap();
    let (st, _) = s
        .delete(&format!("/api/v1/tenants/open-arms/keys/{new_id}"))
        .await;
    assert!(st.is_success());
    let (_, u) = s.get("/api/v1/tenants/open-arms/usage").await;
    assert_eq!(u["plan"]["used"]["api_keys"], 2, "{u}");
    // Once the old key's grace is over it is gone: a place is free.
    s.clock.advance(TimeDelta::hours(2));
    let (st, v) = s.post("/api/v1/tenants/open-arms/keys", "{}").await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    s.stop().await;
}

const GOOGLE_KEY: &str = "gk-open-arms-7f3a9c1e";

fn google_lead(n: usize) -> Value {
    json!({
        "lead_id": format!("L-{n}"), "api_version": "1.0", "form_id": 40000000001u64,
        "campaign_id": 20000000002u64, "google_key": GOOGLE_KEY, "is_test": false,
        "lead_submit_time": "2026-05-28T20:00:00Z",
        "user_column_data": [
            {"column_name": "Full Name", "string_value": format!("Ad Lead {n}"), "column_id": "FULL_NAME"},
            {"column_name": "User Email", "string_value": format!("ad{n}@example.com"), "column_id": "EMAIL"}
        ]
    })
}

/// Posts raw bytes to an ingest path; the answer's lead id.
async fn ingest(
    s: &TestServer,
    method: reqwest::Method,
    path: &str,
    content_type: Option<&str>,
    body: &str,
) -> String {
    let mut req = s.client.request(method, s.url(path)).body(body.to_string());
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    let resp = req.send().await.unwrap();
    let st = resp.status();
    let v: Value = resp.json().await.unwrap();
    assert_eq!(st, StatusCode::OK, "{path}: leads are never refused: {v}");
    assert_eq!(v["status"], "created", "{path}: {v}");
    v["id"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leads_past_the_limit_are_flagged_on_every_ingest_path() {
    use reqwest::Method;
    let s = TestServer::start().await;
    let t = s
        .tenant(
            &json!({"name": "Open Arms", "settings": {"google_ads": {
                "customer_id": "123-456-7890", "conversion_action": "lead", "webhook_key": GOOGLE_KEY}}})
            .to_string(),
        )
        .await;
    let (st, k) = s.post("/api/v1/tenants/open-arms/keys", "{}").await;
    assert_eq!(st, StatusCode::CREATED, "{k}");
    let key = k["secret"].as_str().unwrap().to_string();
    let p = plan(
        &s,
        json!({"name": "Three", "limits": {"leads_per_month": 3}}),
    )
    .await;
    on_plan(&s, "open-arms", Some(&p)).await;
    let form = Some("application/x-www-form-urlencoded");
    let json_ct = Some("application/json");
    let by_key = format!("/api/v1/ingest/{key}");
    let q = |n: usize| format!("{by_key}?name=Jane+{n}&email=jane{n}%40example.com");
    let cf7 = |n: usize| {
        json!({"your-name": format!("Cf Seven {n}"), "your-email": format!("cf{n}@example.com"),
               "your-message": "Hello", "_wpcf7": "42"})
        .to_string()
    };
    let hook = format!("/api/v1/hooks/google/{}", t["slug"].as_str().unwrap());
    let mut ids = Vec::new();
    // The first three, each on another path: inside the plan.
    ids.push(
        ingest(
            &s,
            Method::POST,
            &format!("/api/v1/leads?api_key={key}"),
            json_ct,
            &lead(1),
        )
        .await,
    );
    ids.push(
        ingest(
            &s,
            Method::POST,
            &by_key,
            form,
            "name=Form+Two&email=two%40example.com",
        )
        .await,
    );
    ids.push(ingest(&s, Method::GET, &q(3), None, "").await);
    // Past it, on every path: stored, answered 200, flagged.
    ids.push(
        ingest(
            &s,
            Method::POST,
            &hook,
            json_ct,
            &google_lead(4).to_string(),
        )
        .await,
    );
    ids.push(ingest(&s, Method::POST, &by_key, json_ct, &cf7(5)).await);
    ids.push(
        ingest(
            &s,
            Method::POST,
            &by_key,
            form,
            "Name=Elementor+Six&Email=six%40example.com&form_name=Contact",
        )
        .await,
    );
    ids.push(ingest(&s, Method::GET, &q(7), None, "").await);
    ids.push(
        ingest(
            &s,
            Method::POST,
            &format!("/api/v1/leads?api_key={key}"),
            form,
            "json=%7B%22name%22%3A%22Eight%22%2C%22email%22%3A%22eight%40example.com%22%7D",
        )
        .await,
    );
    let by_query = format!("/api/v1/leads?api_key={key}");
    ids.push(ingest(&s, Method::POST, &by_query, json_ct, &lead(9)).await);
    let mut flags = Vec::new();
    for id in &ids {
        let (st, l) = s.get(&format!("/api/v1/leads/{id}")).await;
        assert_eq!(st, StatusCode::OK, "{l}");
        flags.push(l["over_plan"].as_bool().expect("over_plan"));
    }
    assert_eq!(
        flags,
        [false, false, false, true, true, true, true, true, true]
    );
    // A repeat of an ad lead is that lead again, not another one over the plan.
    ingest_repeat(&s, &hook, &google_lead(4), &ids[3]).await;
    let (_, u) = s.get("/api/v1/tenants/open-arms/usage").await;
    assert_eq!(u["plan"]["used"]["leads_this_month"], 9, "{u}");
    assert_eq!(u["accepted"], 9);
    s.stop().await;
}

async fn ingest_repeat(s: &TestServer, path: &str, body: &Value, id: &str) {
    let resp = s
        .client
        .post(s.url(path))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["id"], id, "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_concurrent_burst_across_both_thresholds_is_told_once_each() {
    let smtp = SmtpSink::start().await;
    let s = notice_server(&smtp).await;
    let (_, key) = s.tenant_with_key(r#"{"name":"Open Arms"}"#).await;
    let (st, k2) = s.post("/api/v1/tenants/open-arms/keys", "{}").await;
    assert_eq!(st, StatusCode::CREATED);
    let key2 = k2["secret"].as_str().unwrap().to_string();
    let p = plan(
        &s,
        json!({"name": "Five", "limits": {"leads_per_month": 5}}),
    )
    .await;
    on_plan(&s, "open-arms", Some(&p)).await;
    let tenant = tenant_id(&s, "open-arms").await;

    let calls: Vec<_> = (0..40)
        .map(|i| {
            let req = s
                .client
                .post(s.url("/api/v1/leads"))
                .header("x-api-key", if i % 2 == 0 { &key } else { &key2 })
                .header("content-type", "application/json")
                .body(lead(i));
            tokio::spawn(async move {
                let r = req.send().await.unwrap();
                (r.status(), r.json::<Value>().await.unwrap())
            })
        })
        .collect();
    let mut over = 0;
    for c in calls {
        let (st, r) = c.await.unwrap();
        assert_eq!(st, StatusCode::OK, "{r}");
        if s.lead(&r).await.over_plan {
            over += 1;
        }
    }
    assert_eq!(over, 35, "exactly the five first are inside the plan");
    let month = Month::of(s.clock.now());
    assert_eq!(
        s.state.store.plan_notices(tenant, month).await.unwrap(),
        [Threshold::Eighty, Threshold::Hundred]
    );
    let mails = settled_notices(&smtp, 2).await;
    assert_eq!(mails.len(), 2, "{mails:?}");
    let texts: Vec<String> = mails.iter().map(|m| m.decoded()).collect();
    assert_eq!(
        texts.iter().filter(|t| t.contains("80 %")).count(),
        1,
        "{texts:?}"
    );
    assert_eq!(
        texts.iter().filter(|t| t.contains("limit reached")).count(),
        1,
        "{texts:?}"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_limit_lowered_below_this_months_use_is_told_at_the_next_lead() {
    let smtp = SmtpSink::start().await;
    let s = notice_server(&smtp).await;
    let (_, key) = s.tenant_with_key(r#"{"name":"Open Arms"}"#).await;
    let (_, late_key) = s.tenant_with_key(r#"{"name":"Late Comer"}"#).await;
    let p = plan(
        &s,
        json!({"name": "Hundred", "limits": {"leads_per_month": 100}}),
    )
    .await;
    on_plan(&s, "open-arms", Some(&p)).await;
    let month = Month::of(s.clock.now());
    for i in 0..10 {
        s.submit(&key, Some("application/json"), lead(i).as_bytes())
            .await;
        s.submit(&late_key, Some("application/json"), lead(i).as_bytes())
            .await;
    }
    let open_arms = tenant_id(&s, "open-arms").await;
    assert_eq!(
        s.state.store.plan_notices(open_arms, month).await.unwrap(),
        []
    );
    // 10 used, the limit now 5: the next lead is over, and both notices go (once).
    set_limits(&s, &p, json!({"leads_per_month": 5})).await;
    for i in 10..13 {
        let (_, r) = s
            .submit(&key, Some("application/json"), lead(i).as_bytes())
            .await;
        assert!(s.lead(&r).await.over_plan);
    }
    assert_eq!(
        s.state.store.plan_notices(open_arms, month).await.unwrap(),
        [Threshold::Eighty, Threshold::Hundred]
    );
    // A tenant put on a plan it is already past this month: the same.
    let small = plan(
        &s,
        json!({"name": "Eight", "limits": {"leads_per_month": 8}}),
    )
    .await;
    on_plan(&s, "late-comer", Some(&small)).await;
    let (_, r) = s
        .submit(&late_key, Some("application/json"), lead(50).as_bytes())
        .await;
    assert!(s.lead(&r).await.over_plan);
    let late = tenant_id(&s, "late-comer").await;
    assert_eq!(
        s.state.store.plan_notices(late, month).await.unwrap(),
        [Threshold::Eighty, Threshold::Hundred]
    );
    let mails = settled_notices(&smtp, 4).await;
    assert_eq!(mails.len(), 4, "two notices for each tenant: {mails:?}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_month_turns_at_utc_midnight() {
    let s = TestServer::start().await;
    let (_, key) = s.tenant_with_key(r#"{"name":"Open Arms"}"#).await;
    let p = plan(&s, json!({"name": "Two", "limits": {"leads_per_month": 2}})).await;
    on_plan(&s, "open-arms", Some(&p)).await;
    let tenant = tenant_id(&s, "open-arms").await;
    let last_ms =
        Utc.with_ymd_and_hms(2026, 5, 31, 23, 59, 59).unwrap() + TimeDelta::milliseconds(999);
    s.clock.set(last_ms);
    let mut flags = Vec::new();
    for i in 0..3 {
        let (_, r) = s
            .submit(&key, Some("application/json"), lead(i).as_bytes())
            .await;
        flags.push(s.lead(&r).await.over_plan);
    }
    assert_eq!(flags, [false, false, true]);
    s.clock.advance(TimeDelta::milliseconds(1));
    let (_, r) = s
        .submit(&key, Some("application/json"), lead(10).as_bytes())
        .await;
    assert!(!s.lead(&r).await.over_plan, "June starts from zero");
    let may = Month::parse("2026-05").unwrap();
    let june = Month::parse("2026-06").unwrap();
    assert_eq!(
        s.state.store.plan_notices(tenant, may).await.unwrap(),
        [Threshold::Eighty, Threshold::Hundred]
    );
    assert_eq!(s.state.store.plan_notices(tenant, june).await.unwrap(), []);
    let (_, u) = s.get("/api/v1/tenants/open-arms/usage?month=2026-05").await;
    assert_eq!(u["accepted"], 3, "{u}");
    let (_, u) = s.get("/api/v1/tenants/open-arms/usage").await;
    assert_eq!(u["month"], "2026-06");
    assert_eq!(u["plan"]["used"]["leads_this_month"], 1, "{u}");
    s.stop().await;
}

async fn manual(s: &TestServer, tenant: &str, at: DateTime<Utc>, n: &str) -> String {
    let (st, v) = s
        .post(
            &format!("/api/v1/tenants/{tenant}/leads"),
            &json!({"name": n, "email": format!("{n}@example.com"),
                    "created_at": at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)})
            .to_string(),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    v["id"].as_str().unwrap().to_string()
}

async fn exists(s: &TestServer, id: &str) -> bool {
    let (st, v) = s.get(&format!("/api/v1/leads/{id}")).await;
    assert!(
        st == StatusCode::OK || st == StatusCode::NOT_FOUND,
        "{st} {v}"
    );
    st == StatusCode::OK
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_keeps_the_exact_edge_and_follows_a_lowered_window() {
    let s = TestServer::start().await;
    let (_, key) = s.tenant_with_key(r#"{"name":"Open Arms"}"#).await;
    s.tenant(r#"{"name":"Keeps All"}"#).await;
    s.tenant(r#"{"name":"No Window"}"#).await;
    let p = plan(
        &s,
        json!({"name": "Sixty", "limits": {"retention_days": 60}}),
    )
    .await;
    let no_window = plan(&s, json!({"name": "Forever", "limits": {"users": 50}})).await;
    on_plan(&s, "open-arms", Some(&p)).await;
    on_plan(&s, "no-window", Some(&no_window)).await;
    // A clock with milliseconds, so the edge is not a whole second.
    s.clock
        .advance(TimeDelta::days(200) + TimeDelta::milliseconds(437));
    let now = s.clock.now();
    let edge = now - TimeDelta::days(60);
    let at_edge = manual(&s, "open-arms", edge, "edge").await;
    let just_past = manual(&s, "open-arms", edge - TimeDelta::milliseconds(1), "past").await;
    let thirty = manual(&s, "open-arms", now - TimeDelta::days(30), "thirty").await;
    let five = manual(&s, "open-arms", now - TimeDelta::days(5), "five").await;
    let ancient = manual(&s, "open-arms", now - TimeDelta::days(3000), "ancient").await;
    let mut others = Vec::new();
    for t in ["keeps-all", "no-window"] {
        others.push(manual(&s, t, now - TimeDelta::days(3000), &format!("{t}-old")).await);
    }
    let (_, fresh) = s
        .submit(&key, Some("application/json"), lead(1).as_bytes())
        .await;
    let fresh = fresh["id"].as_str().unwrap().to_string();
    let usage_before = s.get("/api/v1/tenants/open-arms/usage").await.1;

    assert_eq!(echo5d::plan_jobs::retention_pass(&s.state).await, 2);
    assert!(
        exists(&s, &at_edge).await,
        "exactly retention_days old stays"
    );
    assert!(!exists(&s, &just_past).await, "a millisecond older goes");
    assert!(!exists(&s, &ancient).await);
    for id in [&thirty, &five, &fresh] {
        assert!(exists(&s, id).await);
    }
    for id in &others {
        assert!(exists(&s, id).await, "tenants without a window keep all");
    }
    counts_match_rows(&s.dir.path().join("echo5.db"));

    // The window lowered to 10 days: the next pass takes the edge lead and the 30-day one.
    set_limits(&s, &p, json!({"retention_days": 10})).await;
    assert_eq!(echo5d::plan_jobs::retention_pass(&s.state).await, 2);
    assert!(!exists(&s, &at_edge).await);
    assert!(!exists(&s, &thirty).await);
    assert!(exists(&s, &five).await && exists(&s, &fresh).await);
    counts_match_rows(&s.dir.path().join("echo5.db"));
    let usage_after = s.get("/api/v1/tenants/open-arms/usage").await.1;
    assert_eq!(usage_after["accepted"], usage_before["accepted"]);
    let (_, stages) = s.get("/api/v1/tenants/open-arms/stages").await;
    let total: u64 = stages["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|st| st["lead_count"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(total, 2, "{stages}");
    let (_, audit) = s.get("/api/v1/audit?action=leads.retention_erased").await;
    let erased: Vec<(u64, u64)> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["details"]["erased"].as_u64().unwrap(),
                r["details"]["retention_days"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(erased.len(), 2, "{audit}");
    assert!(
        erased.contains(&(2, 60)) && erased.contains(&(2, 10)),
        "{erased:?}"
    );
    // Nothing more to do: no audit row for a pass that erased nothing.
    assert_eq!(echo5d::plan_jobs::retention_pass(&s.state).await, 0);
    let (_, audit) = s.get("/api/v1/audit?action=leads.retention_erased").await;
    assert_eq!(audit["data"].as_array().unwrap().len(), 2);
    s.stop().await;
}

/// The reports a Stripe stand-in received: identifier → (customer, value); a retry of one
/// report carries the same customer and value.
async fn stripe_server(stripe: &Receiver) -> TestServer {
    let url = stripe.base.clone();
    TestServer::start_with(|a| stripe_args(a, url.clone())).await
}

async fn stripe_settings(s: &TestServer, key: &str) {
    let (st, v) = s
        .patch(
            "/api/v1/platform/settings",
            &json!({"stripe_secret_key": key, "stripe_meter_event_name": "echo5_leads"})
                .to_string(),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
}

async fn customer(s: &TestServer, slug: &str, cus: &str) {
    let (st, v) = s
        .patch(
            &format!("/api/v1/tenants/{slug}"),
            &json!({ "stripe_customer_id": cus }).to_string(),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_billing_syncs_never_report_a_lead_twice() {
    let stripe = Receiver::start().await;
    let s = stripe_server(&stripe).await;
    stripe_settings(&s, "sk_test_concurrent").await;
    let (_, a) = s.tenant_with_key(r#"{"name":"Alpha Care"}"#).await;
    let (_, b) = s.tenant_with_key(r#"{"name":"Beta Care"}"#).await;
    let (_, none) = s.tenant_with_key(r#"{"name":"No Customer"}"#).await;
    customer(&s, "alpha-care", "cus_Alpha1").await;
    customer(&s, "beta-care", "cus_Beta2").await;
    let mut totals: BTreeMap<String, u64> = BTreeMap::new();
    let mut identifiers = HashSet::new();
    let mut n = 0;
    for round in 0..4 {
        for _ in 0..(3 + round) {
            for k in [&a, &b, &none] {
                s.submit(k, Some("application/json"), lead(n).as_bytes())
                    .await;
                n += 1;
            }
        }
        // Eight syncs at once, leads arriving between them.
        let syncs: Vec<_> = (0..8)
            .map(|_| {
                let req = s
                    .client
                    .post(s.url("/api/v1/platform/billing/sync"))
                    .bearer_auth(&s.token);
                tokio::spawn(async move {
                    let r = req.send().await.unwrap();
                    (r.status(), r.json::<Value>().await.unwrap())
                })
            })
            .collect();
        s.submit(&a, Some("application/json"), lead(n).as_bytes())
            .await;
        n += 1;
        let mut reporting = 0;
        for sync in syncs {
            let (st, v) = sync.await.unwrap();
            assert_eq!(st, StatusCode::OK, "{v}");
            for r in v["reports"].as_array().unwrap() {
                reporting += 1;
                assert!(
                    identifiers.insert(r["identifier"].as_str().unwrap().to_string()),
                    "{v}"
                );
                *totals
                    .entry(r["stripe_customer_id"].as_str().unwrap().to_string())
                    .or_default() += r["value"].as_u64().unwrap();
                assert!(r["value"].as_u64().unwrap() > 0, "{v}");
            }
            assert!(!v.to_string().contains("sk_test_"), "{v}");
        }
        assert!(reporting >= 2, "round {round}: both customers reported");
    }
    // What the last lead brought is reported by the next sync.
    let (_, last) = s.post("/api/v1/platform/billing/sync", "{}").await;
    for r in last["reports"].as_array().unwrap() {
        identifiers.insert(r["identifier"].as_str().unwrap().to_string());
        *totals
            .entry(r["stripe_customer_id"].as_str().unwrap().to_string())
            .or_default() += r["value"].as_u64().unwrap();
    }
    let accepted = |slug: &'static str| {
        let s = &s;
        async move {
            s.get(&format!("/api/v1/tenants/{slug}/usage")).await.1["accepted"]
                .as_u64()
                .unwrap()
        }
    };
    let want: BTreeMap<String, u64> = [
        ("cus_Alpha1".to_string(), accepted("alpha-care").await),
        ("cus_Beta2".to_string(), accepted("beta-care").await),
    ]
    .into();
    assert_eq!(totals, want, "no report for the tenant without a customer");
    until_reported(&s, &stripe, want.values().sum()).await;
    let mut sent: BTreeMap<String, u64> = BTreeMap::new();
    for (cus, v) in meter_events(&stripe).values() {
        *sent.entry(cus.clone()).or_default() += v;
    }
    assert_eq!(sent, want);
    // Stripe got exactly the reports the answers named, by the same identifiers.
    let got: HashSet<String> = meter_events(&stripe).into_keys().collect();
    assert_eq!(got, identifiers);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_stripe_key_holds_the_reports_and_never_shows() {
    let stripe = Receiver::start().await;
    // Stripe's own 401 names the key it refused; this one repeats all of it.
    stripe.always("/v1/billing/meter_events", Reply::EchoAuthorization(401));
    let s = stripe_server(&stripe).await;
    let old = "sk_test_old_7Hq2mZ9xLw4vRk";
    let new = "sk_test_new_3Bn8pT6yUe1sJd";
    stripe_settings(&s, old).await;
    let (_, key) = s.tenant_with_key(r#"{"name":"Open Arms"}"#).await;
    customer(&s, "open-arms", "cus_OpenArms1").await;
    for i in 0..4 {
        s.submit(&key, Some("application/json"), lead(i).as_bytes())
            .await;
    }
    let (st, sync) = s.post("/api/v1/platform/billing/sync", "{}").await;
    assert_eq!(st, StatusCode::OK, "{sync}");
    assert_eq!(sync["reports"][0]["value"], 4, "{sync}");
    stripe
        .wait_for("/v1/billing/meter_events", 1, Duration::from_secs(10))
        .await;
    // Parked: no retries on the schedule while the key is refused.
    let parked = async {
        for _ in 0..50 {
            let t = s.state.store.tasks(Default::default(), 100).await.unwrap();
            if t.iter().any(|t| {
                t.kind == "stripe_meter_event"
                    && t.status == echo5_core::outbox_tasks::TaskStatus::Parked
            }) {
                return t;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the report was not parked");
    }
    .await;
    for _ in 0..5 {
        s.clock.advance(TimeDelta::seconds(5));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(stripe.received("/v1/billing/meter_events").len(), 1);
    // More leads while parked: queued behind it, parked too.
    for i in 10..13 {
        s.submit(&key, Some("application/json"), lead(i).as_bytes())
            .await;
    }
    let (_, sync) = s.post("/api/v1/platform/billing/sync", "{}").await;
    assert_eq!(sync["reports"][0]["value"], 3, "{sync}");

    // The key shows nowhere: not in the settings, the tasks' errors, the audit, the logs.
    let (_, settings) = s.get("/api/v1/platform/settings").await;
    let (_, audit) = s.get("/api/v1/audit").await;
    let tasks = format!(
        "{:?}",
        s.state.store.tasks(Default::default(), 100).await.unwrap()
    );
    assert!(
        parked
            .iter()
            .any(|t| t.last_error.as_deref().is_some_and(|e| e.contains("401"))),
        "{parked:?}"
    );
    for (what, text) in [
        ("settings", settings.to_string()),
        ("audit", audit.to_string()),
        ("tasks", tasks),
        ("logs", common::captured_logs()),
    ] {
        assert!(!text.contains("7Hq2mZ9xLw4vRk"), "the key in the {what}");
    }

    // A new key releases them: each report once, adding up to the accepted leads.
    stripe.always("/v1/billing/meter_events", Reply::Status(200));
    stripe_settings(&s, new).await;
    until_reported(&s, &stripe, 7).await;
    let delivered: Vec<_> = stripe
        .received("/v1/billing/meter_events")
        .into_iter()
        .skip(1)
        .collect();
    assert!(
        delivered
            .iter()
            .all(|r| r.header("authorization") == format!("Bearer {new}"))
    );
    let events = meter_events(&stripe);
    assert_eq!(events.len(), 2, "{events:?}");
    let (_, u) = s.get("/api/v1/tenants/open-arms/usage").await;
    assert_eq!(
        events.values().map(|(_, v)| v).sum::<u64>(),
        u["accepted"].as_u64().unwrap()
    );
    assert!(!common::captured_logs().contains("3Bn8pT6yUe1sJd"));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_meter_event_name_queues_nothing_and_loses_nothing() {
    let stripe = Receiver::start().await;
    let s = stripe_server(&stripe).await;
    let (_, key) = s.tenant_with_key(r#"{"name":"Open Arms"}"#).await;
    customer(&s, "open-arms", "cus_OpenArms1").await;
    for i in 0..3 {
        s.submit(&key, Some("application/json"), lead(i).as_bytes())
            .await;
    }
    let (_, sync) = s.post("/api/v1/platform/billing/sync", "{}").await;
    assert_eq!(sync["reports"], json!([]), "no event name yet");
    stripe_settings(&s, "sk_test_later").await;
    let (_, sync) = s.post("/api/v1/platform/billing/sync", "{}").await;
    assert_eq!(sync["reports"][0]["value"], 3, "{sync}");
    // The Stripe customer changed: what follows goes to the new one.
    customer(&s, "open-arms", "cus_Moved2").await;
    s.submit(&key, Some("application/json"), lead(9).as_bytes())
        .await;
    let (_, sync) = s.post("/api/v1/platform/billing/sync", "{}").await;
    assert_eq!(sync["reports"][0]["value"], 1, "{sync}");
    assert_eq!(sync["reports"][0]["stripe_customer_id"], "cus_Moved2");
    until_reported(&s, &stripe, 4).await;
    let by: BTreeMap<String, u64> =
        meter_events(&stripe)
            .values()
            .fold(BTreeMap::new(), |mut m, (c, v)| {
                *m.entry(c.clone()).or_default() += v;
                m
            });
    assert_eq!(
        by,
        BTreeMap::from([
            ("cus_Moved2".to_string(), 1),
            ("cus_OpenArms1".to_string(), 3)
        ])
    );
    s.stop().await;
}

const PASSWORD: &str = "violet-Harbor-93-quietly-Lantern";

/// A tenant admin, invited by the platform, with a session token.
async fn tenant_admin(s: &TestServer, slug: &str, email: &str) -> String {
    let (st, u) = s
        .post(
            &format!("/api/v1/tenants/{slug}/users"),
            &json!({"email": email, "name": "Admin", "role": "admin"}).to_string(),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{u}");
    let token = u["invite_url"]
        .as_str()
        .unwrap()
        .split("#token=")
        .nth(1)
        .unwrap()
        .to_string();
    let resp = s
        .client
        .post(s.url("/api/v1/auth/accept-invite"))
        .json(&json!({"token": token, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.text().await.unwrap());
    let resp = s
        .client
        .post(s.url("/api/v1/auth/login"))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let v: Value = resp.json().await.unwrap();
    v["token"].as_str().unwrap().to_string()
}

async fn as_user(
    s: &TestServer,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = s.client.request(method, s.url(path)).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let st = resp.status();
    let text = resp.text().await.unwrap();
    (st, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_admin_sets_no_plan_and_sees_no_other_plans_or_revenue() {
    use reqwest::Method;
    let s = TestServer::start().await;
    s.tenant(r#"{"name":"Open Arms"}"#).await;
    s.tenant(r#"{"name":"Rival Care"}"#).await;
    let cheap = plan(&s, json!({"name": "Cheap", "price_cents": 900})).await;
    let dear = plan(
        &s,
        json!({"name": "Dear", "price_cents": 99_900, "currency": "usd"}),
    )
    .await;
    on_plan(&s, "open-arms", Some(&cheap)).await;
    on_plan(&s, "rival-care", Some(&dear)).await;
    let token = tenant_admin(&s, "open-arms", "boss@openarms.example").await;

    for body in [
        json!({"plan_id": dear}),
        json!({"plan_id": null}),
        json!({"stripe_customer_id": "cus_Mine1"}),
        json!({"name": "Renamed", "plan_id": dear}),
    ] {
        let (st, v) = as_user(
            &s,
            &token,
            Method::PATCH,
            "/api/v1/tenants/open-arms",
            Some(body.clone()),
        )
        .await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{body}: {v}");
        assert!(v["error"]["code"].is_string(), "{v}");
    }
    for (method, path) in [
        (Method::GET, "/api/v1/platform/plans"),
        (Method::POST, "/api/v1/platform/billing/sync"),
        (Method::GET, "/api/v1/usage"),
    ] {
        let (st, v) = as_user(&s, &token, method, path, Some(json!({}))).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{path}: {v}");
    }
    let (st, v) = as_user(
        &s,
        &token,
        Method::PATCH,
        &format!("/api/v1/platform/plans/{cheap}"),
        Some(json!({"price_cents": 0})),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    // Its own usage shows its own plan, and nothing of anyone else's.
    let (st, own) = as_user(
        &s,
        &token,
        Method::GET,
        "/api/v1/tenants/open-arms/usage",
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{own}");
    assert_eq!(own["plan"]["plan_name"], "Cheap");
    let text = own.to_string();
    assert!(
        !text.contains("revenue") && !text.contains("Dear") && !text.contains("99900"),
        "{text}"
    );
    let (st, v) = as_user(
        &s,
        &token,
        Method::GET,
        "/api/v1/tenants/rival-care/usage",
        None,
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
    // Nothing changed.
    let (_, t) = s.get("/api/v1/tenants/open-arms").await;
    assert_eq!(t["plan_id"], cheap);
    assert_eq!(t["stripe_customer_id"], Value::Null);
    assert_eq!(t["name"], "Open Arms");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revenue_follows_prices_and_tenants_and_a_plan_frees_with_its_last_tenant() {
    let s = TestServer::start().await;
    let (_, key) = s.tenant_with_key(r#"{"name":"Open Arms"}"#).await;
    s.tenant(r#"{"name":"Beta Care"}"#).await;
    s.tenant(r#"{"name":"Gamma Care"}"#).await;
    let eur = plan(
        &s,
        json!({"name": "Euro", "price_cents": 4900, "limits": {"leads_per_month": 3}}),
    )
    .await;
    let usd = plan(
        &s,
        json!({"name": "Dollar", "price_cents": 2500, "currency": "USD"}),
    )
    .await;
    on_plan(&s, "open-arms", Some(&eur)).await;
    on_plan(&s, "beta-care", Some(&eur)).await;
    on_plan(&s, "gamma-care", Some(&usd)).await;
    assert_eq!(
        revenue(&s).await,
        json!([{"currency": "EUR", "cents": 9800}, {"currency": "USD", "cents": 2500}])
    );
    let (st, _) = s
        .patch(
            &format!("/api/v1/platform/plans/{eur}"),
            r#"{"price_cents":5000}"#,
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    on_plan(&s, "beta-care", None).await;
    assert_eq!(
        revenue(&s).await,
        json!([{"currency": "EUR", "cents": 5000}, {"currency": "USD", "cents": 2500}])
    );
    let (_, plans) = s.get("/api/v1/platform/plans").await;
    let counts: Vec<(String, u64)> = plans["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().into(),
                p["tenants"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        counts,
        [("Dollar".into(), 1), ("Euro".into(), 1)],
        "cheapest first"
    );

    // Over the limit, then the limit raised: the next lead is inside again.
    for i in 0..4 {
        s.submit(&key, Some("application/json"), lead(i).as_bytes())
            .await;
    }
    set_limits(&s, &eur, json!({"leads_per_month": 10})).await;
    let (_, r) = s
        .submit(&key, Some("application/json"), lead(10).as_bytes())
        .await;
    assert!(!s.lead(&r).await.over_plan, "5 of 10");
    set_limits(&s, &eur, json!({"leads_per_month": null})).await;
    for i in 20..30 {
        let (_, r) = s
            .submit(&key, Some("application/json"), lead(i).as_bytes())
            .await;
        assert!(!s.lead(&r).await.over_plan, "no limit");
    }

    // A deleted tenant leaves its plan: the plan can go.
    let (st, _) = s.delete("/api/v1/tenants/gamma-care").await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    assert_eq!(
        revenue(&s).await,
        json!([{"currency": "EUR", "cents": 5000}])
    );
    let (st, v) = s.delete(&format!("/api/v1/platform/plans/{usd}")).await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{v}");
    assert_error(
        &s.delete(&format!("/api/v1/platform/plans/{eur}")).await,
        StatusCode::CONFLICT,
        "plan_in_use",
        None,
    );
    s.stop().await;
}

async fn revenue(s: &TestServer) -> Value {
    s.get("/api/v1/usage").await.1["revenue"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_queued_before_the_key_is_set_goes_once_the_key_is() {
    let stripe = Receiver::start().await;
    let s = stripe_server(&stripe).await;
    let (st, v) = s
        .patch(
            "/api/v1/platform/settings",
            r#"{"stripe_meter_event_name":"echo5_leads"}"#,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (_, key) = s.tenant_with_key(r#"{"name":"Open Arms"}"#).await;
    customer(&s, "open-arms", "cus_OpenArms1").await;
    for i in 0..5 {
        s.submit(&key, Some("application/json"), lead(i).as_bytes())
            .await;
    }
    let (_, sync) = s.post("/api/v1/platform/billing/sync", "{}").await;
    assert_eq!(sync["reports"][0]["value"], 5, "{sync}");
    // Without a key nothing is sent: the report waits, parked.
    let mut parked = false;
    for _ in 0..50 {
        s.clock.advance(TimeDelta::seconds(2));
        tokio::time::sleep(Duration::from_millis(50)).await;
        parked = s
            .state
            .store
            .tasks(Default::default(), 100)
            .await
            .unwrap()
            .iter()
            .any(|t| {
                t.kind == "stripe_meter_event"
                    && t.status == echo5_core::outbox_tasks::TaskStatus::Parked
            });
        if parked {
            break;
        }
    }
    assert!(parked, "the report is held until there is a key");
    assert!(stripe.received("/v1/billing/meter_events").is_empty());
    // Held for 40 days: Stripe takes no timestamp older than 35, so the report goes with
    // the oldest it takes rather than be refused for its age.
    s.clock.advance(TimeDelta::days(40));
    let released = s.clock.now();
    stripe_settings(&s, "sk_test_arrived").await;
    until_reported(&s, &stripe, 5).await;
    assert_eq!(meter_events(&stripe).len(), 1);
    let sent = &stripe.received("/v1/billing/meter_events")[0];
    let form: std::collections::HashMap<String, String> =
        serde_urlencoded::from_bytes(&sent.body).unwrap();
    let ts: i64 = form["timestamp"].parse().unwrap();
    assert!(
        ts >= (released - TimeDelta::days(35)).timestamp() && ts <= released.timestamp(),
        "{ts} is inside Stripe's 35 days before {released}"
    );
    s.stop().await;
}
