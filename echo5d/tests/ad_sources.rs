//! Leads from ad platforms through the real router on loopback over a real database file:
//! Google Ads lead form webhooks (key, mapping, test leads, one lead per `lead_id`), Meta's
//! verification handshake and signed notifications, and the integrations answer.

mod common;

use chrono::TimeDelta;
use common::{TestServer, assert_error};
use echo5_core::integrations::meta::signature;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const GOOGLE_KEY: &str = "gk-open-arms-7f3a9c1e";

/// A tenant with a Google Ads config whose webhook key is `key`.
async fn google_tenant(s: &TestServer, slug: &str, key: &str, sla_hours: u32) -> String {
    let t = s
        .tenant(
            &json!({"name": format!("{slug} care"), "slug": slug, "settings": {
                "sla_hours": sla_hours,
                "google_ads": {"customer_id": "123-456-7890", "conversion_action": "lead", "webhook_key": key}}})
            .to_string(),
        )
        .await;
    t["id"].as_str().unwrap().to_string()
}

/// A WebhookLead as Google sends it, with every standard column the mapping knows.
fn webhook_lead(lead_id: &str, key: &str, email: &str, is_test: bool) -> Value {
    json!({
        "lead_id": lead_id,
        "api_version": "1.0",
        "form_id": 40000000001u64, "campaign_id": 20000000002u64, "adgroup_id": 130000000003u64,
        "creative_id": 650000000004u64,
        "gcl_id": "EAIaIQobChMI-test-gclid",
        "google_key": key,
        "is_test": is_test,
        "lead_submit_time": "2026-05-28T20:00:00Z",
        "user_column_data": [
            {"column_name": "Full Name", "string_value": "Maria  Lopez", "column_id": "FULL_NAME"},
            {"column_name": "First Name", "string_value": "Maria", "column_id": "FIRST_NAME"},
            {"column_name": "Last Name", "string_value": "Lopez", "column_id": "LAST_NAME"},
            {"column_name": "User Email", "string_value": email, "column_id": "EMAIL"},
            {"column_name": "User Phone", "string_value": "(650) 555-0123", "column_id": "PHONE_NUMBER"},
            {"column_name": "Postal Code", "string_value": "94043", "column_id": "POSTAL_CODE"},
            {"column_name": "City", "string_value": "Mountain View", "column_id": "CITY"},
            {"column_name": "Company", "string_value": "Lopez Family", "column_id": "COMPANY_NAME"},
            {"column_name": "Job title", "string_value": "Daughter", "column_id": "JOB_TITLE"},
            {"column_name": "How many hours of care a week?", "string_value": "20-30", "column_id": "hours_q"}
        ]
    })
}

async fn post_google(s: &TestServer, tenant: &str, body: &Value) -> (StatusCode, Value) {
    let resp = s
        .client
        .post(s.url(&format!("/api/v1/hooks/google/{tenant}")))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("{status}: {text}")),
    )
}

/// Every lead of the tenant, spam and tests included.
async fn all_leads(s: &TestServer, tenant: &str) -> Vec<Value> {
    let (st, v) = s
        .get(&format!(
            "/api/v1/tenants/{tenant}/leads?spam=all&limit=200"
        ))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v["data"].as_array().unwrap().clone()
}

async fn integration(s: &TestServer, tenant: &str, source: &str) -> Value {
    let (st, v) = s
        .get(&format!("/api/v1/tenants/{tenant}/integrations"))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["source"] == source)
        .cloned()
        .unwrap_or_else(|| panic!("no {source} in {v}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_google_lead_with_every_standard_column_becomes_a_mapped_lead() {
    let s = TestServer::start().await;
    google_tenant(&s, "open-arms", GOOGLE_KEY, 24).await;
    assert_eq!(
        integration(&s, "open-arms", "google").await["state"],
        "waiting"
    );

    let body = webhook_lead(
        "TeSt-lead-0001",
        GOOGLE_KEY,
        "Maria.Lopez@Example.com",
        false,
    );
    let (st, r) = post_google(&s, "open-arms", &body).await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(r["status"], "created");
    let lead = s.lead(&r).await;
    assert_eq!(lead.source.as_str(), "google");
    assert_eq!(lead.name.as_deref(), Some("Maria  Lopez"));
    assert_eq!(lead.first_name.as_deref(), Some("Maria"));
    assert_eq!(lead.last_name.as_deref(), Some("Lopez"));
    assert_eq!(lead.email.as_deref(), Some("maria.lopez@example.com"));
    assert_eq!(
        lead.phone.as_deref(),
        Some("+16505550123"),
        "E.164 in the tenant's country"
    );
    assert_eq!(lead.company.as_deref(), Some("Lopez Family"));
    assert_eq!(lead.gclid.as_deref(), Some("EAIaIQobChMI-test-gclid"));
    assert_eq!(lead.external_id.as_deref(), Some("TeSt-lead-0001"));
    assert!(!lead.is_test && !lead.is_spam);
    assert_eq!(lead.custom["city"], "Mountain View");
    assert_eq!(lead.custom["postal_code"], "94043");
    assert_eq!(lead.custom["job_title"], "Daughter");
    assert_eq!(lead.custom["How many hours of care a week?"], "20-30");
    let ids = &lead.custom["google_ads"];
    assert_eq!(ids["lead_id"], "TeSt-lead-0001");
    assert_eq!(ids["form_id"], "40000000001");
    assert_eq!(ids["campaign_id"], "20000000002");
    assert_eq!(ids["adgroup_id"], "130000000003");
    assert_eq!(ids["creative_id"], "650000000004");
    // Stored in the tenant's intake stage, like a website lead.
    let (_, stages) = s.get("/api/v1/tenants/open-arms/stages").await;
    assert_eq!(stages["data"][0]["id"], lead.stage_id.to_string());
    // The raw body is kept, but never the key.
    let (raw, ct) = s.state.store.lead_raw(lead.id).await.unwrap().unwrap();
    assert_eq!(ct, "application/json");
    let raw = String::from_utf8(raw).unwrap();
    assert!(
        raw.contains("TeSt-lead-0001") && !raw.contains(GOOGLE_KEY),
        "{raw}"
    );
    // The API shows the new fields.
    let (_, detail) = s.get(&format!("/api/v1/leads/{}", lead.id)).await;
    assert_eq!(detail["external_id"], "TeSt-lead-0001");
    assert_eq!(detail["is_test"], false);

    let g = integration(&s, "open-arms", "google").await;
    assert_eq!(g["state"], "ok", "{g}");
    assert_eq!(g["last_lead_at"], json!(s.state.store.now()));
    let m = integration(&s, "open-arms", "meta").await;
    assert_eq!(m["state"], "not_configured", "{m}");
    assert_eq!(
        m["missing"],
        json!([
            "settings.meta_page_ids",
            "settings.meta_access_token",
            "platform.meta_app_secret"
        ])
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_or_missing_google_key_is_401_and_stores_nothing() {
    let s = TestServer::start().await;
    google_tenant(&s, "open-arms", GOOGLE_KEY, 24).await;
    google_tenant(&s, "caring-hearts", "gk-caring-hearts-55aa", 24).await;
    s.tenant(r#"{"name":"No Google","slug":"no-google"}"#).await;
    let mut no_key = webhook_lead("L-nokey", GOOGLE_KEY, "a@example.com", false);
    no_key.as_object_mut().unwrap().remove("google_key");
    let cases = [
        (
            "open-arms",
            webhook_lead("L-wrong", "gk-open-arms-7f3a9c1f", "a@example.com", false),
        ),
        (
            "open-arms",
            webhook_lead("L-empty", "", "a@example.com", false),
        ),
        ("open-arms", no_key),
        // Another tenant's key, and a key sent to a tenant without a Google Ads config.
        (
            "open-arms",
            webhook_lead("L-other", "gk-caring-hearts-55aa", "a@example.com", false),
        ),
        (
            "no-google",
            webhook_lead("L-unset", GOOGLE_KEY, "a@example.com", false),
        ),
        // A tenant that does not exist, by slug or by id, answers like a wrong key.
        (
            "nobody-here",
            webhook_lead("L-nobody", GOOGLE_KEY, "a@example.com", false),
        ),
        (
            "0190c0de-0000-7000-8000-00000000dead",
            webhook_lead("L-noid", GOOGLE_KEY, "a@example.com", false),
        ),
    ];
    for (tenant, body) in &cases {
        let got = post_google(&s, tenant, body).await;
        assert_error(&got, StatusCode::UNAUTHORIZED, "invalid_google_key", None);
    }
    for t in ["open-arms", "caring-hearts", "no-google"] {
        assert!(all_leads(&s, t).await.is_empty(), "{t} stored something");
    }
    let g = integration(&s, "open-arms", "google").await;
    assert_eq!(g["state"], "failing", "{g}");
    assert!(
        g["last_error"].as_str().unwrap().contains("did not match"),
        "{g}"
    );
    assert_eq!(
        integration(&s, "no-google", "google").await["state"],
        "not_configured"
    );
    // Unreadable bodies are 400, with our JSON.
    let resp = s
        .client
        .post(s.url("/api/v1/hooks/google/open-arms"))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["error"]["code"], "invalid_body");
    // The right key then stores, and the integration is well again.
    let (st, r) = post_google(
        &s,
        "open-arms",
        &webhook_lead("L-right", GOOGLE_KEY, "a@example.com", false),
    )
    .await;
    assert_eq!(
        (st, r["status"].as_str()),
        (StatusCode::OK, Some("created")),
        "{r}"
    );
    assert_eq!(integration(&s, "open-arms", "google").await["state"], "ok");
    s.stop().await;
}

async fn sla_passes(s: &TestServer) -> u64 {
    let (_, ready) = s.get("/readyz").await;
    ready["sla_passes"].as_u64().expect("sla_passes")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_leads_are_flagged_and_outside_sla_dashboard_and_analytics() {
    let s = TestServer::start_with(|a| a.sla_interval = 1).await;
    google_tenant(&s, "open-arms", GOOGLE_KEY, 1).await;
    // Google's "send test data": its own documented shape, key included.
    let mut test = webhook_lead(
        "Cj0KCQjwit_8BRCoARIsAIx3Rj7g",
        GOOGLE_KEY,
        "test@example.com",
        true,
    );
    test["adgroup_id"] = json!(0);
    test["creative_id"] = json!(0);
    let (st, t) = post_google(&s, "open-arms", &test).await;
    assert_eq!(
        (st, t["status"].as_str()),
        (StatusCode::OK, Some("test")),
        "{t}"
    );
    let (st, real) = post_google(
        &s,
        "open-arms",
        &webhook_lead("L-real-1", GOOGLE_KEY, "real@example.com", false),
    )
    .await;
    assert_eq!(
        (st, real["status"].as_str()),
        (StatusCode::OK, Some("created")),
        "{real}"
    );
    let test_lead = s.lead(&t).await;
    assert!(test_lead.is_test && test_lead.is_spam, "{test_lead:?}");
    assert_eq!(test_lead.spam_reason.as_deref(), Some("test"));
    assert_eq!(test_lead.assigned_to, None);
    let real_id = real["id"].as_str().unwrap().to_string();

    // Listed with spam (flagged), not in the default list.
    let (_, list) = s.get("/api/v1/tenants/open-arms/leads").await;
    let ids: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [real_id.as_str()]);
    let all = all_leads(&s, "open-arms").await;
    assert!(
        all.iter()
            .any(|l| l["is_test"] == true && l["source"] == "google")
    );

    // Two hours later (SLA 1 h): only the real lead is in breach, and only it gets an alert.
    s.clock.advance(TimeDelta::hours(2));
    let from = sla_passes(&s).await + 1;
    let deadline = Instant::now() + Duration::from_secs(30);
    while sla_passes(&s).await < from + 2 {
        assert!(Instant::now() < deadline, "the monitor stopped passing");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (_, breaches) = s.get("/api/v1/tenants/open-arms/sla/breaches").await;
    let breached: Vec<&str> = breaches["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["lead_id"].as_str().unwrap())
        .collect();
    assert_eq!(breached, [real_id.as_str()], "{breaches}");
    assert!(
        s.state
            .store
            .alert_state(real_id.parse().unwrap())
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        s.state.store.alert_state(test_lead.id).await.unwrap(),
        None,
        "no alert for a test lead"
    );

    // Dashboard and analytics count the real lead only.
    let (_, dash) = s.get("/api/v1/dashboard").await;
    let row = dash["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["tenant"]["slug"] == "open-arms")
        .unwrap();
    assert_eq!(
        (
            row["last_7d"].as_u64(),
            row["open"].as_u64(),
            row["in_breach"].as_u64()
        ),
        (Some(1), Some(1), Some(1)),
        "{row}"
    );
    let (_, a) = s.get("/api/v1/tenants/open-arms/analytics").await;
    assert_eq!(a["total"], 1, "{a}");
    assert_eq!(
        a["by_source"],
        json!([{"key": "google", "count": 1}]),
        "{a}"
    );
    let (_, g) = s.get("/api/v1/analytics?days=7").await;
    assert_eq!(g["totals"]["total"], 1, "{g}");
    // The integration saw both.
    assert_eq!(integration(&s, "open-arms", "google").await["state"], "ok");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_lead_id_is_stored_once_even_when_sent_at_once() {
    let s = TestServer::start().await;
    google_tenant(&s, "open-arms", GOOGLE_KEY, 24).await;
    google_tenant(&s, "caring-hearts", "gk-caring-hearts-55aa", 24).await;
    let body = webhook_lead("L-repeat", GOOGLE_KEY, "once@example.com", false);
    let (_, first) = post_google(&s, "open-arms", &body).await;
    assert_eq!(first["status"], "created");
    for _ in 0..2 {
        let (st, again) = post_google(&s, "open-arms", &body).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(
            (&again["id"], again["status"].as_str()),
            (&first["id"], Some("already_stored"))
        );
    }
    // The same lead id at another tenant is that tenant's own lead.
    let mut other = body.clone();
    other["google_key"] = json!("gk-caring-hearts-55aa");
    let (_, theirs) = post_google(&s, "caring-hearts", &other).await;
    assert_eq!(theirs["status"], "created");
    assert_ne!(theirs["id"], first["id"]);

    // Eight identical deliveries at once: one lead, every answer naming it.
    let body = webhook_lead("L-burst", GOOGLE_KEY, "burst@example.com", false);
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (client, url, b) = (
            s.client.clone(),
            s.url("/api/v1/hooks/google/open-arms"),
            body.to_string(),
        );
        set.spawn(async move {
            let r = client
                .post(url)
                .header("content-type", "application/json")
                .body(b)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            r.json::<Value>().await.unwrap()
        });
    }
    let answers: Vec<Value> = set.join_all().await;
    // The first is stored (a `duplicate` of L-repeat: the same phone), the rest repeats.
    let stored = answers
        .iter()
        .filter(|a| a["status"] != "already_stored")
        .count();
    assert_eq!(stored, 1, "{answers:?}");
    assert!(
        answers.iter().any(|a| a["status"] == "duplicate"),
        "{answers:?}"
    );
    assert!(
        answers.iter().all(|a| a["id"] == answers[0]["id"]),
        "{answers:?}"
    );
    let leads = all_leads(&s, "open-arms").await;
    assert_eq!(
        leads
            .iter()
            .filter(|l| l["external_id"] == "L-burst")
            .count(),
        1
    );
    assert_eq!(
        leads
            .iter()
            .filter(|l| l["external_id"] == "L-repeat")
            .count(),
        1
    );
    assert_eq!(leads.len(), 2);
    s.stop().await;
}

const APP_SECRET: &str = "0123456789abcdef0123456789abcdef";

/// A Meta notification announcing one lead on `page`.
fn notification(page: &str, leadgen: &str) -> String {
    json!({"object": "page", "entry": [{"id": page, "time": 1780000000, "changes": [
        {"field": "leadgen", "value": {"leadgen_id": leadgen, "page_id": page, "form_id": "1200000000001",
         "adgroup_id": "1300000000001", "ad_id": "1400000000001", "created_time": 1780000000}}]}]})
    .to_string()
}

async fn post_meta(s: &TestServer, body: &str, sig: Option<&str>) -> (StatusCode, Value) {
    let mut req = s
        .client
        .post(s.url("/api/v1/hooks/meta"))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(sig) = sig {
        req = req.header("x-hub-signature-256", sig);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("{status}: {text}")),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn meta_handshake_signatures_and_page_routing() {
    let s = TestServer::start().await;
    let handshake = |q: &str| {
        let url = s.url(&format!("/api/v1/hooks/meta?{q}"));
        let client = s.client.clone();
        async move {
            let r = client.get(url).send().await.unwrap();
            let ct = r
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_string());
            (r.status(), ct, r.text().await.unwrap())
        }
    };
    // No verify token set: every handshake is refused.
    let (st, _, _) = handshake("hub.mode=subscribe&hub.verify_token=&hub.challenge=1").await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, p) = s
        .patch(
            "/api/v1/platform/settings",
            &json!({"meta_verify_token": "meatyhamhock", "meta_app_secret": APP_SECRET})
                .to_string(),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{p}");
    assert_eq!(
        p["meta_app_secret"],
        json!({"set": true, "last4": "cdef"}),
        "masked"
    );
    assert_eq!(p["meta_verify_token"], "meatyhamhock");
    let (st, g) = s.get("/api/v1/platform/settings").await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        !g.to_string().contains(APP_SECRET),
        "the secret never comes back"
    );
    // A PUT of what a GET returned keeps the secret.
    let (st, put) = s.put("/api/v1/platform/settings", &g.to_string()).await;
    assert_eq!(st, StatusCode::OK, "{put}");
    assert_eq!(put["meta_app_secret"]["set"], true);

    let (st, ct, text) =
        handshake("hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=meatyhamhock")
            .await;
    assert_eq!((st, text.as_str()), (StatusCode::OK, "1158201444"));
    assert!(ct.unwrap().starts_with("text/plain"));
    for bad in [
        "hub.mode=subscribe&hub.challenge=1&hub.verify_token=wrong",
        "hub.mode=unsubscribe&hub.challenge=1&hub.verify_token=meatyhamhock",
        "hub.mode=subscribe&hub.verify_token=meatyhamhock",
        "",
    ] {
        let (st, _, text) = handshake(bad).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{bad}");
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["error"]["code"], "forbidden");
    }

    // Open Arms holds page 111111111; Caring Hearts may not take it too.
    s.tenant(r#"{"name":"Open Arms","slug":"open-arms","settings":{"meta_page_ids":["111111111"],"meta_access_token":"EAAG-open-arms-token-0001"}}"#).await;
    s.tenant(r#"{"name":"Caring Hearts","slug":"caring-hearts"}"#)
        .await;
    let got = s
        .patch(
            "/api/v1/tenants/caring-hearts/settings",
            r#"{"meta_page_ids":["222222222","111111111"]}"#,
        )
        .await;
    assert_error(
        &got,
        StatusCode::CONFLICT,
        "meta_page_taken",
        Some("meta_page_ids[1]"),
    );
    assert!(
        !got.1.to_string().contains("open-arms"),
        "the holder is not named"
    );
    let got = s
        .patch(
            "/api/v1/tenants/caring-hearts/settings",
            r#"{"meta_page_ids":["12a"]}"#,
        )
        .await;
    assert_error(
        &got,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_page_id",
        Some("meta_page_ids[0]"),
    );
    let (st, ok) = s
        .patch(
            "/api/v1/tenants/caring-hearts/settings",
            r#"{"meta_page_ids":["222222222"]}"#,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{ok}");
    assert_eq!(ok["meta_page_ids"], json!(["222222222"]), "{ok}");

    // Signatures: over the raw body, with the app secret.
    let body = notification("111111111", "900000000000001");
    for sig in [
        None,
        Some("sha256=00".to_string()),
        Some(signature(b"another-secret", body.as_bytes())),
    ] {
        let got = post_meta(&s, &body, sig.as_deref()).await;
        assert_error(&got, StatusCode::UNAUTHORIZED, "invalid_signature", None);
    }
    let mut tampered = body.clone().into_bytes();
    let at = body.find("900000000000001").unwrap();
    tampered[at] = b'8';
    let got = post_meta(
        &s,
        std::str::from_utf8(&tampered).unwrap(),
        Some(&signature(APP_SECRET.as_bytes(), body.as_bytes())),
    )
    .await;
    assert_error(&got, StatusCode::UNAUTHORIZED, "invalid_signature", None);
    assert_eq!(
        integration(&s, "open-arms", "meta").await["last_error"],
        Value::Null,
        "refused: nothing recorded"
    );

    // A good signature on a page nobody holds: 200, nothing stored, nothing recorded.
    let unknown = notification("999999999", "900000000000002");
    let (st, r) = post_meta(
        &s,
        &unknown,
        Some(&signature(APP_SECRET.as_bytes(), unknown.as_bytes())),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(r, json!({"leads": 1, "routed": 0, "unknown_pages": 1}));
    for t in ["open-arms", "caring-hearts"] {
        assert!(all_leads(&s, t).await.is_empty());
        assert_eq!(integration(&s, t, "meta").await["last_error"], Value::Null);
    }
    // Open Arms' page: routed to Open Arms only, as one Graph fetch queued for Open Arms
    // (the fetch itself is tested in meta_graph.rs against a Graph API stand-in).
    let (st, r) = post_meta(
        &s,
        &body,
        Some(&signature(APP_SECRET.as_bytes(), body.as_bytes())),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(r, json!({"leads": 1, "routed": 1, "unknown_pages": 0}));
    let fetches = |slug: &'static str| {
        let s = &s;
        async move {
            let (_, t) = s.get(&format!("/api/v1/tenants/{slug}")).await;
            let id: uuid::Uuid = t["id"].as_str().unwrap().parse().unwrap();
            s.state
                .store
                .tasks(
                    echo5_data::outbox_tasks::TaskFilter {
                        kind: Some(echo5_core::outbox_tasks::TaskKind::MetaLeadFetch),
                        tenant_id: Some(id),
                        ..Default::default()
                    },
                    10,
                )
                .await
                .unwrap()
        }
    };
    let queued = fetches("open-arms").await;
    assert_eq!(queued.len(), 1, "{queued:?}");
    assert_eq!(queued[0].payload["leadgen_id"], "900000000000001");
    assert!(fetches("caring-hearts").await.is_empty());
    assert_eq!(
        integration(&s, "caring-hearts", "meta").await["last_error"],
        Value::Null
    );
    // The secret can be cleared: then nothing verifies.
    let (st, p) = s
        .patch("/api/v1/platform/settings", r#"{"meta_app_secret":null}"#)
        .await;
    assert_eq!(
        (st, &p["meta_app_secret"]["set"]),
        (StatusCode::OK, &json!(false))
    );
    let got = post_meta(
        &s,
        &body,
        Some(&signature(APP_SECRET.as_bytes(), body.as_bytes())),
    )
    .await;
    assert_error(&got, StatusCode::UNAUTHORIZED, "invalid_signature", None);
    s.stop().await;
}

/// A Google lead is announced like a website lead: its `lead.created` message is written
/// with it and reaches the tenant's endpoint; a test lead is nobody's news.
#[tokio::test]
async fn a_google_lead_reaches_the_tenants_webhook_and_a_test_lead_does_not() {
    use common::receiver::Receiver;
    let s = TestServer::start_with(|a| {
        a.outbound.outbound_allow_cidr = vec!["127.0.0.0/8".parse().unwrap()];
    })
    .await;
    let rx = Receiver::start().await;
    let tenant = google_tenant(&s, "open-arms", GOOGLE_KEY, 4).await;
    let (st, w) = s
        .post(
            "/api/v1/tenants/open-arms/webhooks",
            &json!({"url": rx.url("/crm"), "events": ["lead.created"]}).to_string(),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{w}");
    let (st, test) = post_google(
        &s,
        &tenant,
        &webhook_lead("TeSter-1", GOOGLE_KEY, "test@example.com", true),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{test}");
    let (st, real) = post_google(
        &s,
        &tenant,
        &webhook_lead("Cj0KCQ-real-1", GOOGLE_KEY, "maria@example.com", false),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{real}");
    let got = rx.wait_for("/crm", 1, Duration::from_secs(20)).await;
    let body = got[0].json();
    assert_eq!(body["type"], "lead.created");
    assert_eq!(body["data"]["id"], real["id"], "{body}");
    assert_eq!(body["data"]["source"], "google");
    assert_eq!(body["data"]["email"], "maria@example.com");
    // The test lead was stored before the real one and sent nothing.
    assert_eq!(
        rx.wait_for("/crm", 1, Duration::from_secs(1)).await.len(),
        1
    );
}
