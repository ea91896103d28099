//! The leads workflow over loopback: filters, pagination while leads arrive, stage moves
//! and first contact, breach entry and exit, CSV, the dashboard and analytics.

mod common;

use chrono::TimeDelta;
use common::{TestServer, assert_error, t0};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn ids(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_string())
        .collect()
}

async fn manual(s: &TestServer, tenant: &str, body: Value) -> Value {
    let (status, l) = s
        .post(
            &format!("/api/v1/tenants/{tenant}/leads"),
            &body.to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{l}");
    l
}

async fn stage_ids(s: &TestServer, tenant: &str) -> Vec<String> {
    let (_, st) = s.get(&format!("/api/v1/tenants/{tenant}/stages")).await;
    st["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn each_filter_narrows_the_listing() {
    let s = TestServer::start().await;
    let (_, key) = s
        .tenant_with_key(
            r#"{"name":"Open Arms","settings":{"sla_hours":24,"spam_keywords":["casino"]}}"#,
        )
        .await;
    let stages = stage_ids(&s, "open-arms").await;
    let old = manual(&s, "open-arms", json!({"name":"Olga Old","email":"olga@example.com","created_at":"2026-05-20T10:00:00Z","source":"google"})).await;
    let mid = manual(&s, "open-arms", json!({"name":"Mia Mid","phone":"5550100001","message":"needs overnight care","created_at":"2026-05-27T10:00:00Z","stage_id":stages[1]})).await;
    let new = manual(
        &s,
        "open-arms",
        json!({"name":"Ned New","email":"ned@example.com","created_at":"2026-05-28T20:00:00Z"}),
    )
    .await;
    let (_, spam) = s
        .submit(
            &key,
            Some("application/json"),
            br#"{"name":"Bot","message":"casino"}"#,
        )
        .await;
    let base = "/api/v1/tenants/open-arms/leads";

    let (status, all) = s.get(base).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        ids(&all),
        [
            new["id"].as_str().unwrap(),
            mid["id"].as_str().unwrap(),
            old["id"].as_str().unwrap()
        ],
        "newest first, spam hidden"
    );
    let only = |v: &Value| ids(v);
    assert_eq!(
        only(&s.get(&format!("{base}?stage={}", stages[1])).await.1),
        [mid["id"].as_str().unwrap()]
    );
    assert_eq!(
        only(&s.get(&format!("{base}?source=google")).await.1),
        [old["id"].as_str().unwrap()]
    );
    assert_eq!(
        only(&s.get(&format!("{base}?q=OVERNIGHT")).await.1),
        [mid["id"].as_str().unwrap()]
    );
    assert_eq!(
        only(&s.get(&format!("{base}?q=ned%40example")).await.1),
        [new["id"].as_str().unwrap()]
    );
    assert_eq!(
        only(&s.get(&format!("{base}?q=5550100001")).await.1),
        [mid["id"].as_str().unwrap()]
    );
    assert_eq!(
        only(&s.get(&format!("{base}?q=%25")).await.1),
        Vec::<String>::new(),
        "% is literal"
    );
    assert_eq!(
        only(
            &s.get(&format!("{base}?from=2026-05-21&to=2026-05-28"))
                .await
                .1
        ),
        [mid["id"].as_str().unwrap()]
    );
    assert_eq!(
        only(&s.get(&format!("{base}?spam=true")).await.1),
        [spam["id"].as_str().unwrap()]
    );
    assert_eq!(only(&s.get(&format!("{base}?spam=all")).await.1).len(), 4);
    // t0 is 2026-05-28T20:26:40Z, SLA 24 h: only Olga (8 days, still in New) is in breach;
    // Mia is older than 24 h but was entered past intake.
    assert_eq!(
        only(&s.get(&format!("{base}?breached=true")).await.1),
        [old["id"].as_str().unwrap()]
    );
    assert_eq!(
        only(&s.get(&format!("{base}?breached=false")).await.1).len(),
        2
    );
    assert_error(
        &s.get(&format!("{base}?stage=nope")).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_id",
        Some("stage"),
    );
    assert_error(
        &s.get(&format!("{base}?source=fax")).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_value",
        Some("source"),
    );
    assert_error(
        &s.get(&format!("{base}?from=yesterday")).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_time",
        Some("from"),
    );
    assert_error(
        &s.get(&format!("{base}?limit=500")).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "out_of_range",
        Some("limit"),
    );
    assert_error(
        &s.get(&format!("{base}?colour=red")).await,
        StatusCode::BAD_REQUEST,
        "invalid_query",
        None,
    );
    s.stop().await;
}

#[tokio::test]
async fn pages_stay_stable_while_leads_arrive() {
    let s = TestServer::start().await;
    let (_, key) = s.tenant_with_key(r#"{"name":"Open Arms"}"#).await;
    let mut posted = Vec::new();
    for i in 0..7 {
        s.clock.advance(TimeDelta::seconds(1));
        let (_, r) = s
            .submit(
                &key,
                Some("application/json"),
                format!(r#"{{"name":"P{i}"}}"#).as_bytes(),
            )
            .await;
        posted.push(r["id"].as_str().unwrap().to_string());
    }
    let base = "/api/v1/tenants/open-arms/leads?limit=3";
    let (_, p1) = s.get(base).await;
    assert_eq!(
        ids(&p1),
        [posted[6].clone(), posted[5].clone(), posted[4].clone()]
    );
    // New leads arrive between pages; the next pages neither repeat nor skip anything.
    for i in 0..5 {
        s.clock.advance(TimeDelta::seconds(1));
        s.submit(
            &key,
            Some("application/json"),
            format!(r#"{{"name":"Late {i}"}}"#).as_bytes(),
        )
        .await;
    }
    let (_, p2) = s
        .get(&format!(
            "{base}&cursor={}",
            p1["next_cursor"].as_str().unwrap()
        ))
        .await;
    assert_eq!(
        ids(&p2),
        [posted[3].clone(), posted[2].clone(), posted[1].clone()]
    );
    let (_, p3) = s
        .get(&format!(
            "{base}&cursor={}",
            p2["next_cursor"].as_str().unwrap()
        ))
        .await;
    assert_eq!(ids(&p3), [posted[0].clone()]);
    assert_eq!(p3["next_cursor"], Value::Null);
    s.stop().await;
}

#[tokio::test]
async fn moving_a_lead_writes_history_and_first_contact_once() {
    let s = TestServer::start().await;
    let (_, key) = s.tenant_with_key(r#"{"name":"Open Arms"}"#).await;
    let stages = stage_ids(&s, "open-arms").await;
    let (_, r) = s
        .submit(
            &key,
            Some("application/json"),
            br#"{"name":"Jane","email":"jane@example.com"}"#,
        )
        .await;
    let id = r["id"].as_str().unwrap();
    let path = format!("/api/v1/leads/{id}");
    let (status, l) = s.get(&path).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(l["tenant"]["slug"], "open-arms");
    assert_eq!(l["stage_id"], stages[0].as_str());
    assert_eq!(l["first_contacted_at"], Value::Null);
    assert_eq!(l["history"], json!([]));

    // An assignee is a user of the lead's tenant.
    let maria = s
        .state
        .store
        .create_user(
            "admin:test".into(),
            echo5_data::users::UserScope::Tenant(echo5_data::TenantKey::parse("open-arms")),
            echo5_core::users::validate_new(
                &serde_json::from_value(
                    json!({"email": "maria@openarms.example", "name": "Maria", "role": "manager"}),
                )
                .unwrap(),
                echo5_core::users::Realm::Tenant,
            )
            .unwrap(),
        )
        .await
        .unwrap();
    s.clock.advance(TimeDelta::hours(2));
    let (status, l) = s
        .patch(
            &path,
            &json!({"stage_id": stages[1], "assigned_to": maria.id}).to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{l}");
    assert_eq!(l["stage_id"], stages[1].as_str());
    assert_eq!(l["first_contacted_at"], "2026-05-28T22:26:40Z");
    assert_eq!(l["notes"], json!([]));
    assert_eq!(l["assigned_to"], maria.id.to_string());
    assert_eq!(l["assignee"]["name"], "Maria");
    let h = l["history"].as_array().unwrap();
    assert_eq!(h.len(), 1);
    assert_eq!(h[0]["from_stage"], stages[0].as_str());
    assert_eq!(h[0]["to_stage"], stages[1].as_str());
    assert!(h[0]["by"].as_str().unwrap().starts_with("admin:"));

    s.clock.advance(TimeDelta::hours(1));
    s.patch(&path, &json!({"stage_id": stages[0]}).to_string())
        .await;
    s.clock.advance(TimeDelta::hours(1));
    let (_, l) = s
        .patch(
            &path,
            &json!({"stage_id": stages[2], "assigned_to": null}).to_string(),
        )
        .await;
    assert_eq!(l["first_contacted_at"], "2026-05-28T22:26:40Z", "set once");
    assert_eq!(l["history"].as_array().unwrap().len(), 3);
    assert_eq!(l["assigned_to"], Value::Null);

    assert_error(
        &s.patch(
            &path,
            &json!({"stage_id": uuid::Uuid::now_v7()}).to_string(),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_stage",
        Some("stage_id"),
    );
    assert_error(
        &s.patch(&path, r#"{"stage":"x"}"#).await,
        StatusCode::BAD_REQUEST,
        "unknown_field",
        Some("stage"),
    );
    assert_error(
        &s.get("/api/v1/leads/not-a-lead").await,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    );
    assert_error(
        &s.get(&format!("/api/v1/leads/{}", uuid::Uuid::now_v7()))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    );
    let (_, audit) = s.get("/api/v1/audit?action=lead.updated").await;
    assert_eq!(audit["data"].as_array().unwrap().len(), 3);
    s.stop().await;
}

/// Notes are a timeline: each POST appends one, with its author and time, oldest first;
/// nothing overwrites them (PATCH is refused), bad text is a 422 naming `text`.
#[tokio::test]
async fn notes_are_appended_never_overwritten() {
    let s = TestServer::start().await;
    s.tenant(r#"{"name":"Open Arms"}"#).await;
    let lead = manual(
        &s,
        "open-arms",
        json!({"name": "Jane", "notes": "Walked in, asked about day care"}),
    )
    .await;
    assert_eq!(lead["notes"].as_array().unwrap().len(), 1, "{lead}");
    assert_eq!(lead["notes"][0]["author"], "admin");
    let id = lead["id"].as_str().unwrap();
    let notes = format!("/api/v1/leads/{id}/notes");

    s.clock.advance(TimeDelta::minutes(10));
    let (status, first) = s
        .post(
            &notes,
            &json!({"text": "Called, left voicemail"}).to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(first["text"], "Called, left voicemail");
    assert_eq!(first["author"], "admin");
    assert_eq!(
        first["at"],
        (t0() + TimeDelta::minutes(10)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    s.clock.advance(TimeDelta::minutes(5));
    let (status, second) = s
        .post(
            &notes,
            &json!({"text": "Called back:\n\tbooked a tour"}).to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{second}");

    let (_, l) = s.get(&format!("/api/v1/leads/{id}")).await;
    let texts: Vec<&str> = l["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        [
            "Walked in, asked about day care",
            "Called, left voicemail",
            "Called back:\n\tbooked a tour"
        ]
    );
    assert_eq!(l["notes"][1]["id"], first["id"]);
    assert_eq!(l["notes"][2]["id"], second["id"]);
    assert!(
        l["notes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["author"] == "admin")
    );
    // The listing shows the same notes, each lead its own: a newer lead has none.
    s.clock.advance(TimeDelta::minutes(1));
    manual(&s, "open-arms", json!({"name": "No Notes"})).await;
    let (_, page) = s.get("/api/v1/tenants/open-arms/leads").await;
    assert_eq!(page["data"][0]["name"], "No Notes");
    assert_eq!(page["data"][0]["notes"], json!([]));
    assert_eq!(page["data"][1]["notes"], l["notes"]);
    let (_, all) = s.get("/api/v1/leads").await;
    assert_eq!(all["data"][1]["notes"], l["notes"]);

    for (body, code) in [
        (json!({"text": ""}), "empty"),
        (json!({"text": " \n\t "}), "empty"),
        (json!({"text": "x".repeat(10_001)}), "too_long"),
        (json!({"text": "ok\u{1b}[2J"}), "control_character"),
    ] {
        assert_error(
            &s.post(&notes, &body.to_string()).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            code,
            Some("text"),
        );
    }
    assert_error(
        &s.post(&notes, r#"{"note":"x"}"#).await,
        StatusCode::BAD_REQUEST,
        "unknown_field",
        Some("note"),
    );
    assert_error(
        &s.post(
            &format!("/api/v1/leads/{}/notes", uuid::Uuid::now_v7()),
            r#"{"text":"x"}"#,
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    );
    // PATCH never overwrites them: any `notes`, even null, is refused and names the way.
    for body in [r#"{"notes":"gone"}"#, r#"{"notes":null}"#] {
        let r = s.patch(&format!("/api/v1/leads/{id}"), body).await;
        assert_error(
            &r,
            StatusCode::UNPROCESSABLE_ENTITY,
            "notes_append_only",
            Some("notes"),
        );
        assert!(
            r.1["error"]["message"]
                .as_str()
                .unwrap()
                .contains("POST /api/v1/leads/")
        );
    }
    let (_, after) = s.get(&format!("/api/v1/leads/{id}")).await;
    assert_eq!(after["notes"], l["notes"]);

    // Each note is audited (its size, not its text).
    let (_, audit) = s.get("/api/v1/audit?action=lead.note_added").await;
    let rows = audit["data"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["target"], id);
    assert_eq!(rows[0]["details"]["note_id"], second["id"]);
    assert!(!audit.to_string().contains("voicemail"));
    s.stop().await;
}

/// A spam flag is cleared by PATCH `is_spam: false` (a false positive joins the listing and
/// its reason goes), audited; `true` flags a lead by hand.
#[tokio::test]
async fn spam_flag_is_cleared_and_set_by_patch() {
    let s = TestServer::start().await;
    let (_, key) = s
        .tenant_with_key(r#"{"name":"Open Arms","settings":{"spam_keywords":["casino"]}}"#)
        .await;
    let (_, r) = s
        .submit(
            &key,
            Some("application/json"),
            br#"{"name":"Jo","email":"jo@example.com","message":"my casino night"}"#,
        )
        .await;
    let id = r["id"].as_str().unwrap().to_string();
    let (_, page) = s.get("/api/v1/tenants/open-arms/leads").await;
    assert!(ids(&page).is_empty(), "spam is hidden");
    let (_, l) = s.get(&format!("/api/v1/leads/{id}")).await;
    assert_eq!(l["is_spam"], true);

    let (status, l) = s
        .patch(&format!("/api/v1/leads/{id}"), r#"{"is_spam":false}"#)
        .await;
    assert_eq!(status, StatusCode::OK, "{l}");
    assert_eq!(l["is_spam"], false);
    assert_eq!(l["spam_reason"], Value::Null);
    let (_, page) = s.get("/api/v1/tenants/open-arms/leads").await;
    assert_eq!(ids(&page), [id.as_str()]);
    let (_, audit) = s.get("/api/v1/audit?action=lead.updated").await;
    assert_eq!(audit["data"][0]["details"]["changed"], json!(["is_spam"]));
    assert_eq!(audit["data"][0]["details"]["is_spam"], false);

    let (_, l) = s
        .patch(&format!("/api/v1/leads/{id}"), r#"{"is_spam":true}"#)
        .await;
    assert_eq!(l["is_spam"], true);
    assert_eq!(l["spam_reason"], "manual");
    let (_, page) = s.get("/api/v1/tenants/open-arms/leads?spam=true").await;
    assert_eq!(ids(&page), [id]);
    s.stop().await;
}

#[tokio::test]
async fn breach_entry_and_exit() {
    let s = TestServer::start().await;
    s.tenant(r#"{"name":"Open Arms","settings":{"sla_hours":24}}"#)
        .await;
    s.tenant(r#"{"name":"Caring Hearts","settings":{"sla_hours":4}}"#)
        .await;
    let a = manual(
        &s,
        "open-arms",
        json!({"name":"Waiting 30h","created_at": (t0() - TimeDelta::hours(30)).to_rfc3339()}),
    )
    .await;
    let b = manual(
        &s,
        "caring-hearts",
        json!({"name":"Waiting 5h","created_at": (t0() - TimeDelta::hours(5)).to_rfc3339()}),
    )
    .await;
    manual(
        &s,
        "open-arms",
        json!({"name":"Fresh","created_at": (t0() - TimeDelta::minutes(90)).to_rfc3339()}),
    )
    .await;
    let (status, all) = s.get("/api/v1/sla/breaches").await;
    assert_eq!(status, StatusCode::OK);
    let lead_ids: Vec<&str> = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["lead_id"].as_str().unwrap())
        .collect();
    // Deadlines: A at t0-6h, B at t0-1h: A is the more overdue.
    assert_eq!(
        lead_ids,
        [a["id"].as_str().unwrap(), b["id"].as_str().unwrap()]
    );
    assert_eq!(all["data"][0]["overdue_minutes"], 360);
    assert_eq!(all["data"][0]["tenant"]["slug"], "open-arms");
    assert_eq!(all["data"][1]["tenant"]["name"], "Caring Hearts");
    let (_, one) = s.get("/api/v1/tenants/caring-hearts/sla/breaches").await;
    assert_eq!(one["data"].as_array().unwrap().len(), 1);
    let (_, paged) = s.get("/api/v1/sla/breaches?limit=1").await;
    assert_eq!(paged["data"][0]["lead_id"], a["id"]);
    let (_, p2) = s
        .get(&format!(
            "/api/v1/sla/breaches?limit=1&cursor={}",
            paged["next_cursor"].as_str().unwrap()
        ))
        .await;
    assert_eq!(p2["data"][0]["lead_id"], b["id"]);
    assert_eq!(p2["next_cursor"], Value::Null);
    let (_, detail) = s
        .get(&format!("/api/v1/leads/{}", a["id"].as_str().unwrap()))
        .await;
    assert_eq!(detail["in_breach"], true);

    // Exit by moving out of intake.
    let stages = stage_ids(&s, "caring-hearts").await;
    s.patch(
        &format!("/api/v1/leads/{}", b["id"].as_str().unwrap()),
        &json!({"stage_id": stages[1]}).to_string(),
    )
    .await;
    let (_, all) = s.get("/api/v1/sla/breaches").await;
    assert_eq!(all["data"].as_array().unwrap().len(), 1);
    // A longer SLA takes A out; a shorter one brings "Fresh" in.
    s.patch("/api/v1/tenants/open-arms/settings", r#"{"sla_hours":48}"#)
        .await;
    assert_eq!(
        s.get("/api/v1/sla/breaches").await.1["data"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    s.patch("/api/v1/tenants/open-arms/settings", r#"{"sla_hours":1}"#)
        .await;
    assert_eq!(
        s.get("/api/v1/tenants/open-arms/sla/breaches").await.1["data"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // And time passing brings leads in without anything else happening.
    s.patch("/api/v1/tenants/open-arms/settings", r#"{"sla_hours":48}"#)
        .await;
    s.clock.advance(TimeDelta::hours(19));
    assert_eq!(
        s.get("/api/v1/tenants/open-arms/sla/breaches").await.1["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    s.stop().await;
}

#[tokio::test]
async fn csv_export_streams_every_matching_lead() {
    let s = TestServer::start().await;
    s.tenant(r#"{"name":"Open Arms"}"#).await;
    for i in 0..450 {
        manual(&s, "open-arms", json!({"name": format!("Lead {i}"), "email": format!("l{i}@example.com"), "message": "line one\nline \"two\", with comma", "created_at": (t0() - TimeDelta::minutes(i)).to_rfc3339()})).await;
    }
    let resp = s
        .client
        .get(s.url("/api/v1/tenants/open-arms/leads.csv"))
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(
        resp.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("open-arms-leads.csv")
    );
    let body = resp.text().await.unwrap();
    let mut rdr = csv::Reader::from_reader(body.as_bytes());
    let headers = rdr.headers().unwrap().clone();
    assert_eq!(&headers[0], "id");
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 450, "every lead, across pages");
    assert_eq!(&rows[0][4], "Lead 0", "newest first");
    assert_eq!(&rows[449][4], "Lead 449");
    assert_eq!(
        &rows[10][10], "line one\nline \"two\", with comma",
        "quoting round-trips"
    );
    let filtered = s
        .client
        .get(s.url("/api/v1/tenants/open-arms/leads.csv?q=lead%2042"))
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let matched = csv::Reader::from_reader(filtered.as_bytes())
        .records()
        .count();
    assert_eq!(matched, 11, "Lead 42 and Lead 420..429");
    s.stop().await;
}

#[tokio::test]
async fn listing_queries_use_indexes() {
    let s = TestServer::start().await;
    let t = s.tenant(r#"{"name":"Open Arms"}"#).await;
    let tid: uuid::Uuid = t["id"].as_str().unwrap().parse().unwrap();
    let stages = stage_ids(&s, "open-arms").await;
    let plan = |params: echo5_core::leads::LeadQueryParams| {
        let store = s.state.store.clone();
        async move {
            store
                .explain_listing(
                    tid.into(),
                    params.validate().unwrap(),
                    echo5_core::authorization::Reach::All,
                )
                .await
                .unwrap()
        }
    };
    let default = plan(Default::default()).await;
    assert!(
        default.contains("USING INDEX leads_tenant_created"),
        "{default}"
    );
    assert!(!default.contains("TEMP B-TREE"), "no sort step: {default}");
    let with_cursor = plan(echo5_core::leads::LeadQueryParams {
        cursor: Some(
            echo5_core::page::Cursor {
                ts: 1,
                id: "x".into(),
            }
            .encode(),
        ),
        ..Default::default()
    })
    .await;
    assert!(
        with_cursor.contains("USING INDEX leads_tenant_created"),
        "{with_cursor}"
    );
    let by_stage = plan(echo5_core::leads::LeadQueryParams {
        stage: Some(stages[1].clone()),
        ..Default::default()
    })
    .await;
    assert!(
        by_stage.contains("USING INDEX leads_tenant_stage"),
        "{by_stage}"
    );
    assert!(!by_stage.contains("TEMP B-TREE"), "{by_stage}");
    let by_range = plan(echo5_core::leads::LeadQueryParams {
        from: Some("2026-01-01".into()),
        ..Default::default()
    })
    .await;
    assert!(
        by_range.contains("USING INDEX leads_tenant_created"),
        "{by_range}"
    );
    for p in [&default, &by_stage, &by_range] {
        assert!(
            !p.contains("SCAN leads\n") && !p.ends_with("SCAN leads"),
            "a full scan: {p}"
        );
    }
    s.stop().await;
}

#[tokio::test]
async fn dashboard_and_analytics_on_a_hand_built_dataset() {
    let s = TestServer::start().await;
    s.tenant(r#"{"name":"Open Arms","settings":{"sla_hours":24}}"#)
        .await;
    s.tenant(r#"{"name":"Caring Hearts"}"#).await;
    let st = stage_ids(&s, "open-arms").await;
    let at = |h: i64| (t0() - TimeDelta::hours(h)).to_rfc3339();
    // Open Arms: 5 leads over 3 days.
    let l1 = manual(
        &s,
        "open-arms",
        json!({"name":"A","created_at":at(1),"utm_source":"google","utm_campaign":"care"}),
    )
    .await;
    let l2 = manual(
        &s,
        "open-arms",
        json!({"name":"B","created_at":at(30),"utm_source":"google"}),
    )
    .await;
    let l3 = manual(
        &s,
        "open-arms",
        json!({"name":"C","created_at":at(50),"source":"meta","utm_source":"facebook"}),
    )
    .await;
    manual(&s, "open-arms", json!({"name":"D","created_at":at(60)})).await;
    manual(&s, "open-arms", json!({"name":"E","created_at":at(24*40)})).await;
    // Moves: B contacted after 30 min and won; C contacted after 2 h and lost.
    let mv = |id: &Value, stage: &str| {
        (
            format!("/api/v1/leads/{}", id["id"].as_str().unwrap()),
            json!({"stage_id": stage}).to_string(),
        )
    };
    s.clock
        .set(t0() - TimeDelta::hours(30) + TimeDelta::minutes(30));
    let (p, b) = mv(&l2, &st[1]);
    s.patch(&p, &b).await;
    s.clock.set(t0() - TimeDelta::hours(10));
    let (p, b) = mv(&l2, &st[4]);
    s.patch(&p, &b).await;
    s.clock.set(t0() - TimeDelta::hours(48));
    let (p, b) = mv(&l3, &st[1]);
    s.patch(&p, &b).await;
    let (p, b) = mv(&l3, &st[5]);
    s.patch(&p, &b).await;
    s.clock.set(t0());
    let _ = l1;

    let (status, d) = s.get("/api/v1/dashboard").await;
    assert_eq!(status, StatusCode::OK);
    let oa = d["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["tenant"]["slug"] == "open-arms")
        .unwrap()
        .clone();
    assert_eq!(oa["today"], 1, "t0 is 20:26 UTC; A arrived 19:26");
    assert_eq!(oa["last_7d"], 4);
    assert_eq!(oa["last_30d"], 4);
    assert_eq!(oa["open"], 3, "A, D, E are in New; B won, C lost");
    assert_eq!(oa["in_breach"], 2, "D (60 h) and E (40 d)");
    assert_eq!(oa["oldest_waiting"], at(24 * 40).replace("+00:00", "Z"));
    assert_eq!(d["totals"]["last_30d"], 4);

    let (status, a) = s
        .get(&format!(
            "/api/v1/tenants/open-arms/analytics?from={}&to={}",
            (t0() - TimeDelta::days(7)).format("%Y-%m-%d"),
            (t0() + TimeDelta::days(1)).format("%Y-%m-%d")
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{a}");
    assert_eq!(a["total"], 4);
    let by_stage: Vec<u64> = a["by_stage"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["count"].as_u64().unwrap())
        .collect();
    assert_eq!(by_stage, [2, 0, 0, 0, 1, 1]);
    assert_eq!(a["won_rate"], 0.25);
    assert_eq!(a["conversion"][0]["rate"], 0.5, "2 of 4 got past New");
    assert_eq!(a["by_utm_source"][0], json!({"key": "google", "count": 2}));
    assert_eq!(a["by_utm_campaign"][0], json!({"key": "care", "count": 1}));
    let sources: Vec<&str> = a["by_source"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["key"].as_str().unwrap())
        .collect();
    assert_eq!(sources, ["manual", "meta"]);
    assert_eq!(a["first_contact"]["contacted"], 2);
    assert_eq!(
        a["first_contact"]["median_minutes"], 75.0,
        "30 and 120 minutes"
    );
    assert_eq!(a["first_contact"]["p90_minutes"], 120.0);
    assert_eq!(
        a["per_day"].as_array().unwrap().len(),
        8,
        "2026-05-21 .. 2026-05-28"
    );
    assert_error(
        &s.get("/api/v1/tenants/open-arms/analytics?from=2026-06-01&to=2026-05-01")
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_range",
        Some("from"),
    );
    s.stop().await;
}
