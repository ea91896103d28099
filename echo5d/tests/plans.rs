//! Plans and their limits on a real daemon over a real SQLite file: the hard limits exactly
//! at the boundary (also under concurrent creates), leads past the monthly limit stored
//! and flagged, the 80 %/100 % notices once per month through a real SMTP sink, retention
//! erasing exactly the leads past the window with every counter still right, and the usage
//! answers showing plans, use and revenue.

mod common;

use chrono::TimeDelta;
use common::plans::{
    assert_limit, counts_match_rows, lead, notice_server, notices, on_plan, plan, wait_for_notices,
};
use common::smtp::SmtpSink;
use common::stripe::{meter_events, stripe_args, until_reported};
use common::{TestServer, assert_error};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hard_limits_allow_the_nth_and_refuse_the_next_with_402() {
    let s = TestServer::start_with(|a| {
        a.outbound.outbound_allow_cidr = vec!["127.0.0.0/8".parse().unwrap()];
    })
    .await;
    s.tenant(r#"{"name":"Open Arms"}"#).await;
    let p = plan(
        &s,
        json!({"name": "Small", "price_cents": 1900,
        "limits": {"users": 2, "api_keys": 2, "webhooks": 1}}),
    )
    .await;
    on_plan(&s, "open-arms", Some(&p)).await;

    for i in 0..2 {
        let (st, k) = s.post("/api/v1/tenants/open-arms/keys", "{}").await;
        assert_eq!(st, StatusCode::CREATED, "key {i}: {k}");
    }
    let third = s.post("/api/v1/tenants/open-arms/keys", "{}").await;
    assert_limit(&third, "api_keys", 2, 2);

    // A revoked key frees its place.
    let (_, keys) = s.get("/api/v1/tenants/open-arms/keys").await;
    let first = keys["data"][0]["id"].as_str().unwrap().to_string();
    let (st, _) = s
        .delete(&format!("/api/v1/tenants/open-arms/keys/{first}"))
        .await;
    assert!(st.is_success(), "{st}");
    let (st, k) = s.post("/api/v1/tenants/open-arms/keys", "{}").await;
    assert_eq!(st, StatusCode::CREATED, "{k}");

    for i in 0..2 {
        let (st, u) = s
            .post(
                "/api/v1/tenants/open-arms/users",
                &json!({"email": format!("u{i}@openarms.example"), "name": "U", "role": "agent"})
                    .to_string(),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "user {i}: {u}");
    }
    let third = s
        .post(
            "/api/v1/tenants/open-arms/users",
            r#"{"email":"u2@openarms.example","name":"U","role":"agent"}"#,
        )
        .await;
    assert_limit(&third, "users", 2, 2);

    let hook = json!({"url": "http://127.0.0.1:9/hook", "events": ["lead.created"]}).to_string();
    let (st, w) = s.post("/api/v1/tenants/open-arms/webhooks", &hook).await;
    assert_eq!(st, StatusCode::CREATED, "{w}");
    let second = s.post("/api/v1/tenants/open-arms/webhooks", &hook).await;
    assert_limit(&second, "webhooks", 1, 1);

    // Raising the limit lets the next one through; null removes it.
    let (st, _) = s
        .patch(
            &format!("/api/v1/platform/plans/{p}"),
            r#"{"limits":{"webhooks":null}}"#,
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, w) = s.post("/api/v1/tenants/open-arms/webhooks", &hook).await;
    assert_eq!(st, StatusCode::CREATED, "{w}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_creates_cannot_pass_the_limit_together() {
    let s = TestServer::start().await;
    s.tenant(r#"{"name":"Busy"}"#).await;
    let p = plan(&s, json!({"name": "Three keys", "limits": {"api_keys": 3}})).await;
    on_plan(&s, "busy", Some(&p)).await;
    let calls = (0..12).map(|_| {
        s.client
            .post(s.url("/api/v1/tenants/busy/keys"))
            .bearer_auth(&s.token)
            .json(&json!({}))
            .send()
    });
    let answers = futures_join(calls).await;
    let created = answers
        .iter()
        .filter(|st| **st == StatusCode::CREATED)
        .count();
    let refused = answers
        .iter()
        .filter(|st| **st == StatusCode::PAYMENT_REQUIRED)
        .count();
    assert_eq!((created, refused), (3, 9), "{answers:?}");
    let (_, keys) = s.get("/api/v1/tenants/busy/keys").await;
    assert_eq!(keys["data"].as_array().unwrap().len(), 3);
    s.stop().await;
}

async fn futures_join<F>(calls: impl Iterator<Item = F>) -> Vec<StatusCode>
where
    F: std::future::Future<Output = reqwest::Result<reqwest::Response>> + Send + 'static,
{
    let handles: Vec<_> = calls.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap().unwrap().status());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leads_past_the_monthly_limit_are_stored_and_flagged() {
    let s = TestServer::start().await;
    let (_, key) = s.tenant_with_key(r#"{"name":"Open Arms"}"#).await;
    let p = plan(
        &s,
        json!({"name": "Three leads", "limits": {"leads_per_month": 3}}),
    )
    .await;
    on_plan(&s, "open-arms", Some(&p)).await;
    let mut flags = Vec::new();
    for i in 0..5 {
        let (st, r) = s
            .submit(&key, Some("application/json"), lead(i).as_bytes())
            .await;
        assert_eq!(st, StatusCode::OK, "leads are never refused: {r}");
        let (st, l) = s
            .get(&format!("/api/v1/leads/{}", r["id"].as_str().unwrap()))
            .await;
        assert_eq!(st, StatusCode::OK, "{l}");
        flags.push(
            l["over_plan"]
                .as_bool()
                .expect("over_plan in the lead's JSON"),
        );
    }
    assert_eq!(flags, [false, false, false, true, true]);
    // A retry of a stored lead is a replay, not another lead.
    let (_, again) = s
        .submit(&key, Some("application/json"), lead(0).as_bytes())
        .await;
    assert_eq!(again["status"], "created");

    // A new month starts from zero.
    s.clock.advance(TimeDelta::days(31));
    let (_, r) = s
        .submit(&key, Some("application/json"), lead(9).as_bytes())
        .await;
    assert!(!s.lead(&r).await.over_plan);

    // Without a plan nothing is over.
    let (st, _) = s
        .patch("/api/v1/tenants/open-arms", r#"{"plan_id":null}"#)
        .await;
    assert_eq!(st, StatusCode::OK);
    for i in 10..15 {
        let (_, r) = s
            .submit(&key, Some("application/json"), lead(i).as_bytes())
            .await;
        assert!(!s.lead(&r).await.over_plan);
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_80_and_100_percent_notices_go_once_a_month_to_the_owner_and_the_admins() {
    let smtp = SmtpSink::start().await;
    let s = notice_server(&smtp).await;
    let (_, key) = s.tenant_with_key(r#"{"name":"Open Arms"}"#).await;
    let (st, _) = s
        .post(
            "/api/v1/tenants/open-arms/users",
            r#"{"email":"boss@openarms.example","name":"Boss","role":"admin"}"#,
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    // An agent is not told.
    s.post(
        "/api/v1/tenants/open-arms/users",
        r#"{"email":"agent@openarms.example","name":"Agent","role":"agent"}"#,
    )
    .await;
    let p = plan(
        &s,
        json!({"name": "Five", "limits": {"leads_per_month": 5}}),
    )
    .await;
    on_plan(&s, "open-arms", Some(&p)).await;
    let month = echo5_core::usage::Month::of(echo5_core::clock::Clock::now(&*s.clock));
    let tenant: uuid::Uuid = s.get("/api/v1/tenants/open-arms").await.1["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();

    for i in 0..3 {
        s.submit(&key, Some("application/json"), lead(i).as_bytes())
            .await;
    }
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(notices(&smtp).is_empty(), "nothing below 80 %");
    s.submit(&key, Some("application/json"), lead(3).as_bytes())
        .await; // 4 of 5: 80 %
    let mails = wait_for_notices(&smtp, 2).await;
    assert_eq!(mails.len(), 2, "{mails:?}");
    let mut to: Vec<String> = mails.iter().flat_map(|m| m.to.clone()).collect();
    to.sort();
    assert_eq!(to, ["boss@openarms.example", "ops@agency.example"]);
    assert!(
        mails[0].decoded().contains("80 %"),
        "{}",
        mails[0].decoded()
    );

    for i in 4..12 {
        s.submit(&key, Some("application/json"), lead(i).as_bytes())
            .await;
    }
    let mails = wait_for_notices(&smtp, 4).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let mails_after = notices(&smtp);
    assert_eq!(mails.len(), 4, "{mails:?}");
    assert_eq!(
        mails_after.len(),
        4,
        "one 100 % notice, not one per lead past it"
    );
    assert!(
        mails_after[3].decoded().contains("limit reached"),
        "{}",
        mails_after[3].decoded()
    );
    assert_eq!(
        s.state.store.plan_notices(tenant, month).await.unwrap(),
        [
            echo5_core::plans::Threshold::Eighty,
            echo5_core::plans::Threshold::Hundred
        ]
    );

    // Next month: told again, once each.
    s.clock.advance(TimeDelta::days(32));
    for i in 20..30 {
        s.submit(&key, Some("application/json"), lead(i).as_bytes())
            .await;
    }
    let mails = wait_for_notices(&smtp, 8).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(mails.len(), 8);
    assert_eq!(notices(&smtp).len(), 8);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_erases_exactly_the_leads_past_the_window_and_keeps_the_counters_right() {
    let s = TestServer::start().await;
    let (t, key) = s.tenant_with_key(r#"{"name":"Open Arms"}"#).await;
    let (_, other_key) = s.tenant_with_key(r#"{"name":"No Plan"}"#).await;
    let p = plan(
        &s,
        json!({"name": "Thirty days", "limits": {"retention_days": 30}}),
    )
    .await;
    on_plan(&s, "open-arms", Some(&p)).await;
    let (_, stages) = s.get("/api/v1/tenants/open-arms/stages").await;
    let second_stage = stages["data"][1]["id"].as_str().unwrap().to_string();

    // Ingested now, then 30 days pass: these are past the window by the time the job runs.
    let mut old = Vec::new();
    for i in 0..450 {
        let (_, r) = s
            .submit(&key, Some("application/json"), lead(i).as_bytes())
            .await;
        old.push(r["id"].as_str().unwrap().to_string());
    }
    // A duplicate and a spam lead among the old ones, and one moved along the pipeline.
    let dup = json!({"name": "Again", "email": "lead0@example.com", "message": "me again"});
    let (_, d) = s
        .submit(&key, Some("application/json"), dup.to_string().as_bytes())
        .await;
    assert_eq!(d["status"], "duplicate", "{d}");
    let (st, _) = s
        .patch(
            &format!("/api/v1/leads/{}", old[1]),
            &json!({"stage_id": second_stage}).to_string(),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    for i in 0..10 {
        s.submit(&other_key, Some("application/json"), lead(i).as_bytes())
            .await;
    }
    s.clock.advance(TimeDelta::days(30) + TimeDelta::seconds(2));
    let now = echo5_core::clock::Clock::now(&*s.clock);
    let edge = now - TimeDelta::days(30);
    let backdated = |at: chrono::DateTime<chrono::Utc>, n: &str| {
        json!({"name": n, "email": format!("{n}@example.com"), "created_at": at.to_rfc3339()})
            .to_string()
    };
    let (st, inside) = s
        .post(
            "/api/v1/tenants/open-arms/leads",
            &backdated(edge + TimeDelta::seconds(1), "inside"),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{inside}");
    let (_, outside) = s
        .post(
            "/api/v1/tenants/open-arms/leads",
            &backdated(edge - TimeDelta::seconds(1), "outside"),
        )
        .await;
    let (_, fresh) = s
        .submit(&key, Some("application/json"), lead(1000).as_bytes())
        .await;
    let usage_before = s.get("/api/v1/tenants/open-arms/usage").await.1;

    let erased = echo5d::plan_jobs::retention_pass(&s.state).await;
    assert_eq!(
        erased, 452,
        "450 + the duplicate + the backdated one outside"
    );
    for id in [&old[0], &old[1], &old[449], outside["id"].as_str().unwrap()] {
        let (st, _) = s.get(&format!("/api/v1/leads/{id}")).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{id} is past the window");
    }
    for id in [
        inside["id"].as_str().unwrap(),
        fresh["id"].as_str().unwrap(),
    ] {
        let (st, _) = s.get(&format!("/api/v1/leads/{id}")).await;
        assert_eq!(st, StatusCode::OK, "{id} is inside the window");
    }
    // The tenant without a plan keeps everything.
    let (_, other) = s.get("/api/v1/tenants/no-plan/leads?limit=50").await;
    assert_eq!(other["data"].as_array().unwrap().len(), 10);

    counts_match_rows(&s.dir.path().join("echo5.db"));
    let (_, stages) = s.get("/api/v1/tenants/open-arms/stages").await;
    let total: u64 = stages["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|st| st["lead_count"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(total, 2, "per-stage counts: {stages}");
    // What was accepted this month stays accepted (metering counts arrivals, not what is kept).
    let usage_after = s.get("/api/v1/tenants/open-arms/usage").await.1;
    assert_eq!(usage_after["accepted"], usage_before["accepted"]);

    let (_, audit) = s.get("/api/v1/audit?action=leads.retention_erased").await;
    let row = &audit["data"][0];
    assert_eq!(row["action"], "leads.retention_erased", "{audit}");
    assert_eq!(row["details"]["erased"], 452);
    assert_eq!(row["tenant"]["id"], t["id"]);

    // A second run finds nothing more.
    assert_eq!(echo5d::plan_jobs::retention_pass(&s.state).await, 0);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plans_crud_the_tenant_fields_and_the_usage_answers() {
    let s = TestServer::start().await;
    let (_, key) = s.tenant_with_key(r#"{"name":"Open Arms"}"#).await;
    s.tenant(r#"{"name":"Free Rider"}"#).await;
    let pro = plan(
        &s,
        json!({"name": "Pro", "price_cents": 4900, "currency": "eur",
        "limits": {"leads_per_month": 1000, "api_keys": 5}}),
    )
    .await;
    let (st, list) = s.get("/api/v1/platform/plans").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(list["data"][0]["currency"], "EUR");
    assert_eq!(list["data"][0]["limits"]["users"], Value::Null);

    assert_error(
        &s.post(
            "/api/v1/platform/plans",
            r#"{"name":"Bad","limits":{"retention_days":0}}"#,
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_limit",
        Some("limits.retention_days"),
    );
    assert_error(
        &s.patch(
            "/api/v1/tenants/open-arms",
            &json!({"plan_id": uuid::Uuid::now_v7()}).to_string(),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_plan",
        Some("plan_id"),
    );
    assert_error(
        &s.patch(
            "/api/v1/tenants/open-arms",
            r#"{"stripe_customer_id":"bob"}"#,
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_stripe_customer",
        Some("stripe_customer_id"),
    );
    on_plan(&s, "open-arms", Some(&pro)).await;
    let (st, t) = s
        .patch(
            "/api/v1/tenants/open-arms",
            r#"{"stripe_customer_id":"cus_NffrFeUfNV2Hib"}"#,
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(t["stripe_customer_id"], "cus_NffrFeUfNV2Hib");
    assert_eq!(t["plan_id"], pro, "a PATCH without plan_id keeps it");

    assert_error(
        &s.delete(&format!("/api/v1/platform/plans/{pro}")).await,
        StatusCode::CONFLICT,
        "plan_in_use",
        None,
    );
    for i in 0..3 {
        s.submit(&key, Some("application/json"), lead(i).as_bytes())
            .await;
    }
    let (st, u) = s.get("/api/v1/usage").await;
    assert_eq!(st, StatusCode::OK, "{u}");
    let oa = u["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["tenant"]["slug"] == "open-arms")
        .unwrap();
    assert_eq!(oa["plan"]["plan_name"], "Pro");
    assert_eq!(oa["plan"]["limits"]["leads_per_month"], 1000);
    assert_eq!(oa["plan"]["used"]["leads_this_month"], 3);
    assert_eq!(oa["plan"]["used"]["api_keys"], 1);
    let free = u["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["tenant"]["slug"] == "free-rider")
        .unwrap();
    assert_eq!(free["plan"], Value::Null);
    assert_eq!(u["revenue"], json!([{"currency": "EUR", "cents": 4900}]));
    let (_, one) = s.get("/api/v1/tenants/open-arms/usage").await;
    assert_eq!(one["plan"]["price_cents"], 4900);

    let (st, _) = s
        .patch("/api/v1/tenants/open-arms", r#"{"plan_id":null}"#)
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) = s.delete(&format!("/api/v1/platform/plans/{pro}")).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (_, audit) = s.get("/api/v1/audit?action=plan.deleted").await;
    assert_eq!(audit["data"][0]["target"], pro);
    s.stop().await;
}

async fn accepted(s: &TestServer, tenant: &str) -> u64 {
    // Every month the test has run through.
    let mut total = 0;
    for m in ["2026-05", "2026-06", "2026-07", "2026-08"] {
        let (_, u) = s
            .get(&format!("/api/v1/tenants/{tenant}/usage?month={m}"))
            .await;
        total += u["accepted"].as_u64().unwrap_or(0);
    }
    total
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn meter_events_reach_stripe_once_per_report_and_add_up_to_the_accepted_leads() {
    use common::receiver::{Receiver, Reply};
    let stripe = Receiver::start().await;
    // The first attempts fail: retried with the same identifier.
    stripe.plan(
        "/v1/billing/meter_events",
        vec![Reply::Status(500), Reply::Status(503), Reply::Status(429)],
    );
    let adjust = stripe_args;
    let url = stripe.base.clone();
    let s = TestServer::start_with(|a| adjust(a, url.clone())).await;
    let (st, _) = s
        .patch(
            "/api/v1/platform/settings",
            r#"{"stripe_secret_key":"sk_test_standin","stripe_meter_event_name":"echo5_leads"}"#,
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let (_, settings) = s.get("/api/v1/platform/settings").await;
    assert_eq!(settings["stripe_secret_key"]["set"], true, "{settings}");
    assert!(
        !settings.to_string().contains("sk_test_standin"),
        "the key is write-only"
    );

    let (_, key) = s.tenant_with_key(r#"{"name":"Open Arms"}"#).await;
    let (_, unbilled) = s.tenant_with_key(r#"{"name":"No Customer"}"#).await;
    let (st, _) = s
        .patch(
            "/api/v1/tenants/open-arms",
            r#"{"stripe_customer_id":"cus_OpenArms1"}"#,
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    for i in 0..7 {
        s.submit(&key, Some("application/json"), lead(i).as_bytes())
            .await;
        s.submit(&unbilled, Some("application/json"), lead(i).as_bytes())
            .await;
    }
    let (st, sync) = s.post("/api/v1/platform/billing/sync", "{}").await;
    assert_eq!(st, StatusCode::OK, "{sync}");
    assert_eq!(sync["reports"].as_array().unwrap().len(), 1, "{sync}");
    assert_eq!(sync["reports"][0]["value"], 7);
    // Nothing new: nothing queued.
    let (_, again) = s.post("/api/v1/platform/billing/sync", "{}").await;
    assert_eq!(again["reports"], json!([]));
    until_reported(&s, &stripe, 7).await;
    assert!(
        stripe.received("/v1/billing/meter_events").len() >= 4,
        "three failures, then the report"
    );
    assert_eq!(meter_events(&stripe).len(), 1);

    // More leads, a report queued, and the daemon stopped before it is sent (its Stripe
    // answers fail); after the restart the same report goes out, once.
    stripe.plan("/v1/billing/meter_events", vec![Reply::Status(500); 2]);
    for i in 10..15 {
        s.submit(&key, Some("application/json"), lead(i).as_bytes())
            .await;
    }
    let (_, sync) = s.post("/api/v1/platform/billing/sync", "{}").await;
    assert_eq!(sync["reports"][0]["value"], 5);
    let clock = s.clock.clone();
    let dir = s.stop().await;
    let url = stripe.base.clone();
    let s = TestServer::start_in(dir, clock, |a| adjust(a, url.clone())).await;
    for i in 20..23 {
        s.submit(&key, Some("application/json"), lead(i).as_bytes())
            .await;
    }
    echo5d::plan_jobs::billing_sync(&s.state).await;
    until_reported(&s, &stripe, 15).await;
    let events = meter_events(&stripe);
    assert_eq!(events.len(), 3, "{events:?}");
    // Every attempt, retries included, with the secret key as bearer and the meter's name.
    for req in stripe.received("/v1/billing/meter_events") {
        assert_eq!(req.header("authorization"), "Bearer sk_test_standin");
        let form: std::collections::HashMap<String, String> =
            serde_urlencoded::from_bytes(&req.body).expect("a form body");
        assert_eq!(form["event_name"], "echo5_leads");
    }
    assert!(events.values().all(|(c, _)| c == "cus_OpenArms1"));
    let sum: u64 = events.values().map(|(_, v)| v).sum();
    assert_eq!(sum, accepted(&s, "open-arms").await);
    assert_eq!(sum, 15);
    s.stop().await;
}
