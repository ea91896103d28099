//! Tenants and settings over a real loopback socket.

mod common;

use common::{TestServer, assert_error, captured_logs};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn health_ready_and_openapi_need_no_token() {
    let s = TestServer::start().await;
    for (path, want) in [("/healthz", "ok"), ("/readyz", "ready")] {
        let resp = s.client.get(s.url(path)).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let v: Value = resp.json().await.unwrap();
        assert_eq!(v["status"], want);
    }
    let doc: Value = s
        .client
        .get(s.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    s.stop().await;
}

#[tokio::test]
async fn admin_token_is_required_and_checked() {
    let s = TestServer::start().await;
    let none = s.client.get(s.url("/api/v1/tenants")).send().await.unwrap();
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(none.headers()["www-authenticate"], "Bearer");
    let body: Value = none.json().await.unwrap();
    assert_eq!(body["error"]["code"], "missing_token");
    for bad in [
        "Bearer e5a_wrong".to_string(),
        format!("Bearer {}x", s.token),
        format!("Basic {}", s.token),
    ] {
        let resp = s
            .client
            .get(s.url("/api/v1/tenants"))
            .header("authorization", bad)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["code"], "invalid_token");
    }
    let (status, _) = s.get("/api/v1/tenants").await;
    assert_eq!(status, StatusCode::OK);
    s.stop().await;
}

#[tokio::test]
async fn tenant_crud_by_id_and_slug() {
    let s = TestServer::start().await;
    let t = s
        .tenant(r#"{"name":"Open Arms","settings":{"sla_hours":8,"manager_email":"Boss@OpenArms.example"}}"#)
        .await;
    assert_eq!(t["slug"], "open-arms");
    assert_eq!(t["active"], true);
    assert_eq!(t["settings"]["sla_hours"], 8);
    assert_eq!(t["settings"]["manager_email"], "boss@openarms.example");
    assert_eq!(t["settings"]["spam_keywords"], json!([]));
    assert_eq!(
        t["settings"]["meta_access_token"],
        json!({"set": false, "last4": null})
    );
    assert_eq!(t["created_at"], "2026-05-28T20:26:40Z");
    let id = t["id"].as_str().unwrap();

    let (status, by_id) = s.get(&format!("/api/v1/tenants/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(by_id, t);
    let (_, by_slug) = s.get("/api/v1/tenants/open-arms").await;
    assert_eq!(by_slug, t);

    let (status, patched) = s
        .patch(
            "/api/v1/tenants/open-arms",
            r#"{"name":"Open Arms Home Care","settings":{"sla_hours":4}}"#,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["name"], "Open Arms Home Care");
    assert_eq!(patched["settings"]["sla_hours"], 4);
    assert_eq!(
        patched["settings"]["manager_email"], "boss@openarms.example",
        "untouched"
    );

    let (status, replaced) = s
        .put(
            &format!("/api/v1/tenants/{id}"),
            r#"{"name":"OA","slug":"oa","active":false}"#,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{replaced}");
    assert_eq!(replaced["slug"], "oa");
    assert_eq!(replaced["active"], false);
    assert_eq!(
        replaced["settings"]["sla_hours"], 24,
        "PUT resets left-out settings"
    );
    assert_eq!(replaced["settings"]["manager_email"], Value::Null);
    assert_error(
        &s.get("/api/v1/tenants/open-arms").await,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    );

    let (status, body) = s.delete("/api/v1/tenants/oa").await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_error(
        &s.get(&format!("/api/v1/tenants/{id}")).await,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    );
    assert_error(
        &s.delete("/api/v1/tenants/oa").await,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    );
    s.stop().await;
}

#[tokio::test]
async fn duplicate_slugs_conflict() {
    let s = TestServer::start().await;
    s.tenant(r#"{"name":"Open Arms"}"#).await;
    s.tenant(r#"{"name":"Caring Hearts"}"#).await;
    assert_error(
        &s.post("/api/v1/tenants", r#"{"name":"Open Arms"}"#).await,
        StatusCode::CONFLICT,
        "slug_taken",
        Some("slug"),
    );
    assert_error(
        &s.patch("/api/v1/tenants/caring-hearts", r#"{"slug":"open-arms"}"#)
            .await,
        StatusCode::CONFLICT,
        "slug_taken",
        Some("slug"),
    );
    // Re-saving its own slug is no conflict.
    let (status, _) = s
        .patch("/api/v1/tenants/open-arms", r#"{"slug":"open-arms"}"#)
        .await;
    assert_eq!(status, StatusCode::OK);
    s.stop().await;
}

#[tokio::test]
async fn tenants_list_pages_newest_first() {
    let s = TestServer::start().await;
    for i in 0..5 {
        s.clock.advance(chrono::TimeDelta::seconds(1));
        s.tenant(&format!(r#"{{"name":"Client {i}"}}"#)).await;
    }
    let (status, p1) = s.get("/api/v1/tenants?limit=2").await;
    assert_eq!(status, StatusCode::OK);
    let slugs = |p: &Value| -> Vec<String> {
        p["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["slug"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(slugs(&p1), ["client-4", "client-3"]);
    let c1 = p1["next_cursor"].as_str().unwrap();
    let (_, p2) = s.get(&format!("/api/v1/tenants?limit=2&cursor={c1}")).await;
    assert_eq!(slugs(&p2), ["client-2", "client-1"]);
    let c2 = p2["next_cursor"].as_str().unwrap();
    let (_, p3) = s.get(&format!("/api/v1/tenants?limit=2&cursor={c2}")).await;
    assert_eq!(slugs(&p3), ["client-0"]);
    assert_eq!(p3["next_cursor"], Value::Null);
    s.stop().await;
}

#[tokio::test]
async fn settings_validation_errors_name_their_field() {
    let s = TestServer::start().await;
    s.tenant(r#"{"name":"Open Arms"}"#).await;
    let p = "/api/v1/tenants/open-arms";
    let sp = "/api/v1/tenants/open-arms/settings";
    let many: Vec<String> = (0..501).map(|i| format!("kw{i}")).collect();
    let cases: Vec<(&str, String, &str, &str)> = vec![
        (p, r#"{"settings":{"sla_hours":0}}"#.into(), "out_of_range", "settings.sla_hours"),
        (p, r#"{"settings":{"sla_hours":721}}"#.into(), "out_of_range", "settings.sla_hours"),
        (sp, r#"{"sla_hours":721}"#.into(), "out_of_range", "sla_hours"),
        (p, r#"{"settings":{"manager_email":"not-an-email"}}"#.into(), "invalid_email", "settings.manager_email"),
        (sp, r#"{"manager_email":"a@b"}"#.into(), "invalid_email", "manager_email"),
        (sp, json!({"spam_keywords": many}).to_string(), "too_many", "spam_keywords"),
        (sp, json!({"spam_keywords": ["ok", "x".repeat(101)]}).to_string(), "too_long", "spam_keywords[1]"),
        (sp, r#"{"spam_keywords":["bad\u0007word"]}"#.into(), "control_character", "spam_keywords[0]"),
        (p, r#"{"name":"Open\nArms"}"#.into(), "control_character", "name"),
        (p, r#"{"name":"   "}"#.into(), "blank", "name"),
        (p, json!({"name": "x".repeat(121)}).to_string(), "too_long", "name"),
        (p, r#"{"slug":"Open Arms"}"#.into(), "invalid_slug", "slug"),
        (sp, r#"{"meta_access_token":"tok\u0000en"}"#.into(), "control_character", "meta_access_token"),
        (
            sp,
            r#"{"google_ads":{"customer_id":"12-34","conversion_action":"Lead","webhook_key":"k"}}"#.into(),
            "invalid_customer_id",
            "google_ads.customer_id",
        ),
    ];
    for (path, body, code, field) in cases {
        let got = s.patch(path, &body).await;
        assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, code, Some(field));
    }
    // Nothing of the refused requests was applied.
    let (_, t) = s.get(p).await;
    assert_eq!(t["name"], "Open Arms");
    assert_eq!(t["settings"]["sla_hours"], 24);
    // Each bound itself is accepted.
    for h in [1, 720] {
        let (status, v) = s.patch(sp, &format!(r#"{{"sla_hours":{h}}}"#)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(v["sla_hours"], h);
    }
    let exactly: Vec<String> = (0..500).map(|i| format!("kw{i}")).collect();
    let (status, v) = s
        .patch(sp, &json!({"spam_keywords": exactly}).to_string())
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["spam_keywords"].as_array().unwrap().len(), 500);
    s.stop().await;
}

#[tokio::test]
async fn settings_round_trip_and_secrets_stay_secret() {
    let s = TestServer::start().await;
    let meta = "EAAGm0PZBZCsecretTOKEN4242";
    let webhook = "whk_live_SECRETwebhook77";
    s.tenant(r#"{"name":"Caring Hearts"}"#).await;
    let sp = "/api/v1/tenants/caring-hearts/settings";

    let (status, v) = s
        .put(
            sp,
            &json!({
                "sla_hours": 6,
                "spam_keywords": ["Casino", "crypto loan"],
                "manager_email": "director@caringhearts.example",
                "meta_access_token": meta,
                "google_ads": {"customer_id": "123-456-7890", "conversion_action": "Lead form", "webhook_key": webhook}
            })
            .to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(
        v,
        json!({
            "sla_hours": 6,
            "spam_keywords": ["casino", "crypto loan"],
            "manager_email": "director@caringhearts.example",
            "default_country": "US",
            "auto_assign": "none",
            "meta_page_ids": [],
            "business_hours": null,
            "meta_access_token": {"set": true, "last4": "4242"},
            "google_ads": {"set": true, "last4": "7890"}
        })
    );
    let (_, got) = s.get(sp).await;
    assert_eq!(got, v);

    // GET the tenant, PUT it back unchanged: the masked secrets mean "keep".
    let (_, t) = s.get("/api/v1/tenants/caring-hearts").await;
    let (status, back) = s.put("/api/v1/tenants/caring-hearts", &t.to_string()).await;
    assert_eq!(status, StatusCode::OK, "{back}");
    assert_eq!(back, t);

    // PATCH without secrets keeps them; null clears one.
    let (_, v) = s.patch(sp, r#"{"sla_hours":12}"#).await;
    assert_eq!(v["meta_access_token"]["set"], true);
    let (_, v) = s.patch(sp, r#"{"meta_access_token":null}"#).await;
    assert_eq!(v["meta_access_token"], json!({"set": false, "last4": null}));
    assert_eq!(v["google_ads"]["set"], true);
    let (_, v) = s.patch(sp, r#"{"manager_email":null}"#).await;
    assert_eq!(v["manager_email"], Value::Null);

    // A rejected secret is not echoed back in the error.
    let got = s
        .patch(
            sp,
            &format!(r#"{{"meta_access_token":{{"value":"{meta}"}}}}"#),
        )
        .await;
    assert_eq!(got.0, StatusCode::BAD_REQUEST);
    assert!(!got.1.to_string().contains(meta));

    // No response, audit row or log line ever carried a secret in clear.
    let (_, audit) = s.get("/api/v1/audit?tenant=caring-hearts").await;
    let (_, all) = s.get("/api/v1/tenants").await;
    for text in [audit.to_string(), all.to_string(), captured_logs()] {
        assert!(!text.contains(meta), "meta token leaked");
        assert!(!text.contains(webhook), "webhook key leaked");
    }
    assert!(
        audit.to_string().contains("settings.meta_access_token"),
        "{audit}"
    );
    s.stop().await;
}

#[tokio::test]
async fn deleting_a_tenant_with_leads_needs_purge() {
    let s = TestServer::start().await;
    let t = s.tenant(r#"{"name":"Family First"}"#).await;
    let tid: uuid::Uuid = t["id"].as_str().unwrap().parse().unwrap();
    let (status, lead) = s
        .post(
            "/api/v1/tenants/family-first/leads",
            r#"{"name":"Jane Doe"}"#,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{lead}");
    assert_error(
        &s.delete("/api/v1/tenants/family-first").await,
        StatusCode::CONFLICT,
        "tenant_not_empty",
        None,
    );
    assert_eq!(s.state.store.count_leads(tid).await.unwrap(), 1);
    let (status, _) = s.delete("/api/v1/tenants/family-first?purge=true").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(s.state.store.count_leads(tid).await.unwrap(), 0);
    s.stop().await;
}

#[tokio::test]
async fn audit_log_records_every_mutation_with_tenant_and_actor() {
    let s = TestServer::start().await;
    s.tenant(r#"{"name":"Open Arms"}"#).await;
    s.tenant(r#"{"name":"Caring Hearts"}"#).await;
    s.patch("/api/v1/tenants/open-arms/settings", r#"{"sla_hours":3}"#)
        .await;
    s.post("/api/v1/tenants/open-arms/stages", r#"{"name":"Nurture"}"#)
        .await;
    // Refused changes write nothing.
    s.patch("/api/v1/tenants/open-arms/settings", r#"{"sla_hours":0}"#)
        .await;

    let (status, all) = s.get("/api/v1/audit").await;
    assert_eq!(status, StatusCode::OK);
    let actions: Vec<&str> = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "stage.created",
            "settings.updated",
            "tenant.created",
            "tenant.created",
            "admin_token.created"
        ]
    );
    let row = &all["data"][1];
    assert_eq!(row["tenant"]["slug"], "open-arms");
    assert_eq!(row["tenant"]["name"], "Open Arms");
    assert!(row["tenant"]["id"].as_str().is_some());
    assert!(row["actor"].as_str().unwrap().starts_with("admin:"));
    assert_eq!(row["details"]["changed"], json!(["settings.sla_hours"]));

    let (_, only) = s.get("/api/v1/audit?tenant=open-arms&limit=2").await;
    let rows = only["data"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r["tenant"]["slug"] == "open-arms"));
    let cursor = only["next_cursor"].as_str().unwrap();
    let (_, rest) = s
        .get(&format!("/api/v1/audit?tenant=open-arms&cursor={cursor}"))
        .await;
    assert_eq!(rest["data"].as_array().unwrap().len(), 1);
    assert_eq!(rest["data"][0]["action"], "tenant.created");
    let (_, by_action) = s.get("/api/v1/audit?action=tenant.created").await;
    assert_eq!(by_action["data"].as_array().unwrap().len(), 2);
    s.stop().await;
}
