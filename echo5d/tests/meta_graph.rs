//! Meta leads end to end: a signed notification to the real daemon on loopback, the lead
//! fetched through the outbox from a Graph API stand-in started by the test
//! (`common::graph`), stored once per leadgen id and tenant. The manual clock drives the
//! retry schedule; a real SMTP sink takes the manager's alert.

mod common;

use chrono::TimeDelta;
use common::TestServer;
use common::graph::{Graph, Mode, graph_lead};
use common::smtp::SmtpSink;
use echo5_core::integrations::meta::signature;
use echo5_core::outbox_tasks::TaskKind;
use echo5_data::outbox_tasks::TaskFilter;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use uuid::Uuid;

const APP_SECRET: &str = "0123456789abcdef0123456789abcdef";
const TOKEN: &str = "EAAGopenarms-token-0001-secret";
const PAGE: &str = "111111111";
const FORM: &str = "1200000000001";

async fn server(graph: &Graph, smtp: Option<&SmtpSink>) -> TestServer {
    let url = graph.base.clone();
    let mail = smtp.map(|s| s.url());
    let s = TestServer::start_with(move |a| {
        a.outbound.meta_graph_url = url;
        a.smtp_url = mail.map(echo5_core::secret::Secret::new);
    })
    .await;
    let (st, p) = s
        .patch(
            "/api/v1/platform/settings",
            &json!({"meta_app_secret": APP_SECRET}).to_string(),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{p}");
    s
}

/// A tenant holding `page` with Meta token `token`; returns its id.
async fn meta_tenant(s: &TestServer, slug: &str, page: &str, token: &str) -> Uuid {
    let t = s
        .tenant(
            &json!({"name": format!("{slug} care"), "slug": slug, "settings": {
                "manager_email": format!("manager@{slug}.example"),
                "meta_page_ids": [page], "meta_access_token": token}})
            .to_string(),
        )
        .await;
    t["id"].as_str().unwrap().parse().unwrap()
}

/// A notification announcing `leadgens` on `page`.
fn notification(page: &str, leadgens: &[&str]) -> String {
    let changes: Vec<Value> = leadgens
        .iter()
        .map(|l| {
            json!({"field": "leadgen", "value": {"leadgen_id": l, "page_id": page,
                "form_id": FORM, "adgroup_id": "23850000000000002", "ad_id": "23850000000000001",
                "created_time": 1780000000}})
        })
        .collect();
    json!({"object": "page", "entry": [{"id": page, "time": 1780000000, "changes": changes}]})
        .to_string()
}

async fn post_signed(s: &TestServer, body: &str, secret: &str) -> (StatusCode, Value, Duration) {
    let started = Instant::now();
    let resp = s
        .client
        .post(s.url("/api/v1/hooks/meta"))
        .header("content-type", "application/json")
        .header(
            "x-hub-signature-256",
            signature(secret.as_bytes(), body.as_bytes()),
        )
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let v = resp.json().await.unwrap_or(Value::Null);
    (status, v, started.elapsed())
}

/// The tenant's leads with this external id (spam included).
async fn leads_with(s: &TestServer, tenant: Uuid, external: &str) -> Vec<Value> {
    let (st, v) = s
        .get(&format!(
            "/api/v1/tenants/{tenant}/leads?spam=all&limit=200"
        ))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["external_id"] == external)
        .cloned()
        .collect()
}

async fn wait_lead(s: &TestServer, tenant: Uuid, external: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let got = leads_with(s, tenant, external).await;
        if let Some(l) = got.first() {
            let (_, detail) = s
                .get(&format!("/api/v1/leads/{}", l["id"].as_str().unwrap()))
                .await;
            return detail;
        }
        assert!(Instant::now() < deadline, "lead {external} never arrived");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn meta_state(s: &TestServer, tenant: Uuid) -> Value {
    let (st, v) = s
        .get(&format!("/api/v1/tenants/{tenant}/integrations"))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["source"] == "meta")
        .cloned()
        .unwrap()
}

async fn fetch_tasks(s: &TestServer, tenant: Uuid) -> Vec<echo5_data::outbox_tasks::Task> {
    s.state
        .store
        .tasks(
            TaskFilter {
                kind: Some(TaskKind::MetaLeadFetch),
                tenant_id: Some(tenant),
                ..TaskFilter::default()
            },
            100,
        )
        .await
        .unwrap()
}

/// Waits until `cond` holds (the worker runs on its own thread).
async fn eventually<F, Fut>(what: &str, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond().await {
        assert!(Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_leadgen_notification_becomes_a_lead_with_mapped_fields_and_ad_ids() {
    let graph = Graph::start(TOKEN).await;
    graph.add_lead(graph_lead(
        "900000000000001",
        FORM,
        1_780_000_000,
        "Jane.Doe@Example.com",
    ));
    let s = server(&graph, None).await;
    let tenant = meta_tenant(&s, "open-arms", PAGE, TOKEN).await;

    let (st, r, took) =
        post_signed(&s, &notification(PAGE, &["900000000000001"]), APP_SECRET).await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(r, json!({"leads": 1, "routed": 1, "unknown_pages": 0}));
    assert!(took < Duration::from_secs(2), "answered in {took:?}");

    let lead = wait_lead(&s, tenant, "900000000000001").await;
    assert_eq!(lead["source"], "meta");
    assert_eq!(lead["name"], "Jane Doe");
    assert_eq!(lead["email"], "jane.doe@example.com");
    assert_eq!(lead["phone"], "+15125550123");
    assert_eq!(lead["custom"]["city"], "Austin");
    assert_eq!(lead["custom"]["zip_code"], "78701");
    assert_eq!(
        lead["custom"]["which_services?"],
        json!(["bathing", "meals"])
    );
    let ids = &lead["custom"]["meta_ads"];
    assert_eq!(ids["leadgen_id"], "900000000000001");
    assert_eq!(ids["form_id"], FORM);
    assert_eq!(ids["ad_id"], "23850000000000001");
    assert_eq!(ids["adset_id"], "23850000000000002");
    assert_eq!(ids["campaign_id"], "23850000000000003");
    assert_eq!(ids["campaign_name"], "Home care");
    assert_eq!(lead["is_test"], false);

    // The Graph API was asked for that lead, at the documented path, with the tenant's
    // token and the fields the mapping reads.
    let asked = graph.asked_for("/v21.0/900000000000001");
    assert_eq!(asked.len(), 1, "{asked:?}");
    assert!(asked[0].token_ok);
    assert!(
        asked[0].query["fields"].contains("field_data"),
        "{:?}",
        asked[0].query
    );
    let m = meta_state(&s, tenant).await;
    assert_eq!(m["state"], "ok", "{m}");
    // The token is never written to a log line nor kept with the task.
    assert!(!common::captured_logs().contains(TOKEN));
    let tasks = fetch_tasks(&s, tenant).await;
    assert_eq!(tasks.len(), 1);
    assert!(!tasks[0].payload.to_string().contains(TOKEN));
    assert_eq!(
        tasks[0].group.as_deref(),
        Some(format!("meta:{tenant}").as_str())
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_signature_is_401_and_stores_and_queues_nothing() {
    let graph = Graph::start(TOKEN).await;
    graph.add_lead(graph_lead(
        "900000000000002",
        FORM,
        1_780_000_000,
        "a@example.com",
    ));
    let s = server(&graph, None).await;
    let tenant = meta_tenant(&s, "open-arms", PAGE, TOKEN).await;
    let body = notification(PAGE, &["900000000000002"]);
    let (st, r, _) = post_signed(&s, &body, "not-the-app-secret-000000000000").await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "{r}");
    assert_eq!(r["error"]["code"], "invalid_signature", "{r}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(fetch_tasks(&s, tenant).await.is_empty());
    assert!(graph.asked().is_empty());
    assert!(leads_with(&s, tenant, "900000000000002").await.is_empty());
    assert_eq!(
        s.state.store.meta_forms(tenant).await.unwrap(),
        Vec::<String>::new()
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_leadgen_id_three_times_gives_one_fetch_and_one_lead() {
    let graph = Graph::start(TOKEN).await;
    graph.add_lead(graph_lead(
        "900000000000003",
        FORM,
        1_780_000_000,
        "b@example.com",
    ));
    let s = server(&graph, None).await;
    let tenant = meta_tenant(&s, "open-arms", PAGE, TOKEN).await;
    let body = notification(PAGE, &["900000000000003"]);
    // Twice at once, and once more after the lead is stored (Meta retries for 36 hours).
    let (a, b) = tokio::join!(
        post_signed(&s, &body, APP_SECRET),
        post_signed(&s, &body, APP_SECRET)
    );
    assert_eq!((a.0, b.0), (StatusCode::OK, StatusCode::OK));
    wait_lead(&s, tenant, "900000000000003").await;
    let (st, _, _) = post_signed(&s, &body, APP_SECRET).await;
    assert_eq!(st, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(leads_with(&s, tenant, "900000000000003").await.len(), 1);
    assert_eq!(fetch_tasks(&s, tenant).await.len(), 1);
    assert_eq!(graph.asked_for("/v21.0/900000000000003").len(), 1);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_graph_api_down_for_a_while_then_up_the_lead_arrives() {
    let graph = Graph::start(TOKEN).await;
    graph.add_lead(graph_lead(
        "900000000000004",
        FORM,
        1_780_000_000,
        "c@example.com",
    ));
    graph.set_mode(Mode::Status(503));
    let s = server(&graph, None).await;
    let tenant = meta_tenant(&s, "open-arms", PAGE, TOKEN).await;
    let (st, _, _) = post_signed(&s, &notification(PAGE, &["900000000000004"]), APP_SECRET).await;
    assert_eq!(st, StatusCode::OK);
    // The default schedule: at once, then 5 s, then 5 min after the attempt before.
    graph
        .wait_asked("/v21.0/900000000000004", 1, Duration::from_secs(10))
        .await;
    // The next attempt is counted from when this one is recorded.
    eventually("the first attempt is recorded", || async {
        fetch_tasks(&s, tenant).await[0].attempts == 1
    })
    .await;
    s.clock.advance(TimeDelta::seconds(5));
    graph
        .wait_asked("/v21.0/900000000000004", 2, Duration::from_secs(10))
        .await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        graph.asked_for("/v21.0/900000000000004").len(),
        2,
        "nothing before its time"
    );
    assert!(leads_with(&s, tenant, "900000000000004").await.is_empty());
    let t = &fetch_tasks(&s, tenant).await[0];
    assert_eq!(t.attempts, 2);
    assert!(
        t.last_error.as_deref().unwrap_or("").contains("HTTP 503"),
        "{t:?}"
    );
    assert!(!t.last_error.as_deref().unwrap_or("").contains(TOKEN));
    // The operator sees why meanwhile.
    let m = meta_state(&s, tenant).await;
    assert_eq!(m["state"], "failing", "{m}");
    assert!(
        m["last_error"].as_str().unwrap().contains("HTTP 503"),
        "{m}"
    );

    graph.set_mode(Mode::Up);
    s.clock.advance(TimeDelta::seconds(300));
    let lead = wait_lead(&s, tenant, "900000000000004").await;
    assert_eq!(lead["email"], "c@example.com");
    assert_eq!(graph.asked_for("/v21.0/900000000000004").len(), 3);
    assert_eq!(meta_state(&s, tenant).await["state"], "ok");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_breaks_the_integration_alerts_once_and_a_new_token_resumes() {
    let smtp = SmtpSink::start().await;
    let graph = Graph::start("EAAG-the-new-token-0002").await;
    for id in ["900000000000005", "900000000000006", "900000000000007"] {
        graph.add_lead(graph_lead(
            id,
            FORM,
            1_780_000_000,
            &format!("{id}@example.com"),
        ));
    }
    let s = server(&graph, Some(&smtp)).await;
    let tenant = meta_tenant(&s, "open-arms", PAGE, TOKEN).await;
    let (st, _, _) = post_signed(
        &s,
        &notification(PAGE, &["900000000000005", "900000000000006"]),
        APP_SECRET,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    eventually("the integration is broken", || async {
        meta_state(&s, tenant).await["state"] == "broken"
    })
    .await;
    let m = meta_state(&s, tenant).await;
    assert!(m["last_error"].as_str().unwrap().contains("190"), "{m}");
    assert!(m["broken_since"].is_string(), "{m}");
    eventually("the manager is mailed", || async {
        !smtp.mails().is_empty()
    })
    .await;
    // Every fetch of the tenant waits parked, a lead announced now too; time passing
    // changes nothing, and nobody is mailed twice.
    let (st, _, _) = post_signed(&s, &notification(PAGE, &["900000000000007"]), APP_SECRET).await;
    assert_eq!(st, StatusCode::OK);
    eventually("every fetch parked", || async {
        let t = fetch_tasks(&s, tenant).await;
        t.len() == 3
            && t.iter()
                .all(|t| t.status == echo5_core::outbox_tasks::TaskStatus::Parked)
    })
    .await;
    let asked = graph.asked().len();
    s.clock.advance(TimeDelta::hours(3));
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(graph.asked().len(), asked, "a parked fetch is not tried");
    let mails = smtp.mails();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails[0].to, vec!["manager@open-arms.example".to_string()]);
    let text = mails[0].decoded();
    assert!(text.contains("Meta") && text.contains("190"), "{text}");
    assert!(!text.contains(TOKEN));
    assert!(leads_with(&s, tenant, "900000000000005").await.is_empty());

    // The tenant's admin saves a new token: the fetches resume and the leads arrive.
    let (st, v) = s
        .patch(
            &format!("/api/v1/tenants/{tenant}/settings"),
            r#"{"meta_access_token":"EAAG-the-new-token-0002"}"#,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    for id in ["900000000000005", "900000000000006", "900000000000007"] {
        wait_lead(&s, tenant, id).await;
    }
    let m = meta_state(&s, tenant).await;
    assert_eq!(m["state"], "ok", "{m}");
    assert_eq!(m["broken_since"], Value::Null);
    assert_eq!(smtp.mails().len(), 1, "one alert per breakage");
    assert!(!common::captured_logs().contains("EAAG-the-new-token-0002"));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backfill_pulls_a_lead_the_webhook_missed_once() {
    let graph = Graph::start(TOKEN).await;
    let t0 = common::t0().timestamp();
    // Delivered by the webhook; missed by it; and one older than the sync's `since`.
    graph.add_lead(graph_lead(
        "900000000000010",
        FORM,
        t0 - 60,
        "seen@example.com",
    ));
    graph.add_lead(graph_lead(
        "900000000000011",
        FORM,
        t0 - 120,
        "missed@example.com",
    ));
    graph.add_lead(graph_lead(
        "900000000000012",
        FORM,
        t0 - 180,
        "missed2@example.com",
    ));
    graph.add_lead(graph_lead(
        "900000000000013",
        FORM,
        t0 - 86_400 * 3,
        "old@example.com",
    ));
    graph.set_page_size(1);
    let s = server(&graph, None).await;
    let tenant = meta_tenant(&s, "open-arms", PAGE, TOKEN).await;
    let (st, _, _) = post_signed(&s, &notification(PAGE, &["900000000000010"]), APP_SECRET).await;
    assert_eq!(st, StatusCode::OK);
    wait_lead(&s, tenant, "900000000000010").await;
    assert_eq!(
        s.state.store.meta_forms(tenant).await.unwrap(),
        vec![FORM.to_string()]
    );

    let since = (common::t0() - TimeDelta::days(1)).to_rfc3339();
    let sync = format!("/api/v1/tenants/{tenant}/integrations/meta/sync");
    for _ in 0..2 {
        let (st, r) = s.post(&sync, &json!({"since": since}).to_string()).await;
        assert_eq!(st, StatusCode::ACCEPTED, "{r}");
        assert_eq!(r["forms"], 1);
        wait_lead(&s, tenant, "900000000000011").await;
        wait_lead(&s, tenant, "900000000000012").await;
    }
    // Both syncs read every page (one lead each); the second stored nothing new.
    graph
        .wait_asked(&format!("/v21.0/{FORM}/leads"), 6, Duration::from_secs(10))
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    for id in ["900000000000010", "900000000000011", "900000000000012"] {
        assert_eq!(leads_with(&s, tenant, id).await.len(), 1, "{id}");
    }
    assert!(
        leads_with(&s, tenant, "900000000000013").await.is_empty(),
        "older than since"
    );
    let pages = graph.asked_for(&format!("/v21.0/{FORM}/leads"));
    assert!(pages.iter().all(|p| p.token_ok));
    assert!(
        pages[0].query["filtering"].contains("GREATER_THAN"),
        "{:?}",
        pages[0].query
    );
    assert_eq!(pages[0].query.get("after"), None);
    assert_eq!(
        pages[1].query.get("after").map(String::as_str),
        Some("cur-1")
    );

    // The rules of the request.
    let (st, r) = s
        .post(
            &sync,
            &json!({"since": (common::t0() + TimeDelta::days(1)).to_rfc3339()}).to_string(),
        )
        .await;
    assert_eq!(
        (st, r["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_since")),
        "{r}"
    );
    let (st, r) = s
        .post(&sync, r#"{"since":"2026-01-01T00:00:00Z","x":1}"#)
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{r}");
    s.tenant(r#"{"name":"No Meta","slug":"no-meta"}"#).await;
    let (st, r) = s
        .post(
            "/api/v1/tenants/no-meta/integrations/meta/sync",
            r#"{"since":"2026-01-01T00:00:00Z"}"#,
        )
        .await;
    assert_eq!(
        (st, r["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("meta_not_configured")),
        "{r}"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_tenants_page_never_lands_a_lead_in_another_tenant() {
    let graph = Graph::start(TOKEN).await;
    graph.add_lead(graph_lead(
        "900000000000020",
        FORM,
        1_780_000_000,
        "a@example.com",
    ));
    let s = server(&graph, None).await;
    let a = meta_tenant(&s, "open-arms", PAGE, TOKEN).await;
    let b = meta_tenant(
        &s,
        "caring-hearts",
        "222222222",
        "EAAG-caring-hearts-token-9",
    )
    .await;
    let (st, r, _) = post_signed(&s, &notification(PAGE, &["900000000000020"]), APP_SECRET).await;
    assert_eq!(st, StatusCode::OK, "{r}");
    wait_lead(&s, a, "900000000000020").await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(leads_with(&s, b, "900000000000020").await.is_empty());
    assert!(fetch_tasks(&s, b).await.is_empty());
    assert!(s.state.store.meta_forms(b).await.unwrap().is_empty());
    // B's backfill reads only B's forms (none), and B's token never asked for A's lead.
    let (st, r) = s
        .post(
            &format!("/api/v1/tenants/{b}/integrations/meta/sync"),
            r#"{"since":"2026-01-01T00:00:00Z"}"#,
        )
        .await;
    assert_eq!(
        (st, r["forms"].as_u64()),
        (StatusCode::ACCEPTED, Some(0)),
        "{r}"
    );
    assert!(graph.asked().iter().all(|q| q.token_ok));
    // The same leadgen id on B's page is B's own lead, fetched with B's token.
    graph.set_token("EAAG-caring-hearts-token-9");
    let (st, _, _) = post_signed(
        &s,
        &notification("222222222", &["900000000000020"]),
        APP_SECRET,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    wait_lead(&s, b, "900000000000020").await;
    assert_eq!(leads_with(&s, a, "900000000000020").await.len(), 1);
    s.stop().await;
}
