//! Leads assigned to users, round-robin assignment across a restart, and erasing a lead,
//! through the routes of a daemon on loopback.
//!
//! Users are created through the store: their routes are not part of this daemon's surface
//! yet.

mod common;

use chrono::TimeDelta;
use common::{TestServer, assert_error};
use echo5_core::users::{self, NewUser, Realm, Role};
use echo5_data::TenantKey;
use echo5_data::users::UserScope;
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

async fn user(s: &TestServer, tenant: Option<&str>, email: &str, role: Role) -> Uuid {
    let (scope, realm) = match tenant {
        Some(t) => (UserScope::Tenant(TenantKey::parse(t)), Realm::Tenant),
        None => (UserScope::Platform, Realm::Platform),
    };
    let fields = users::validate_new(
        &NewUser {
            email: email.into(),
            name: format!("User {email}"),
            role: Some(role),
            permissions: None,
        },
        realm,
    )
    .unwrap();
    s.state
        .store
        .create_user("admin:test".into(), scope, fields)
        .await
        .unwrap()
        .id
}

async fn submit(s: &TestServer, key: &str, n: usize) -> Value {
    let body =
        json!({"your-name": format!("Visitor {n}"), "your-email": format!("v{n}@example.com")});
    let (status, r) = s
        .submit(key, Some("application/json"), body.to_string().as_bytes())
        .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    let id = r["id"].as_str().unwrap();
    let (status, l) = s.get(&format!("/api/v1/leads/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{l}");
    l
}

fn assignee(l: &Value) -> Option<Uuid> {
    l["assigned_to"].as_str().map(|s| s.parse().unwrap())
}

#[tokio::test]
async fn assigned_to_must_be_an_active_user_of_the_leads_tenant() {
    let s = TestServer::start().await;
    let (_, key) = s.tenant_with_key(r#"{"name":"Open Arms"}"#).await;
    s.tenant(r#"{"name":"Bright Path"}"#).await;
    let dana = user(
        &s,
        Some("open-arms"),
        "dana@openarms.example",
        Role::Manager,
    )
    .await;
    let gone = user(
        &s,
        Some("open-arms"),
        "gone@openarms.example",
        Role::Manager,
    )
    .await;
    let bo = user(
        &s,
        Some("bright-path"),
        "bo@brightpath.example",
        Role::Manager,
    )
    .await;
    let owner = user(&s, None, "owner@echo5.example", Role::Owner).await;
    s.state
        .store
        .patch_user(
            "admin:test".into(),
            UserScope::Tenant(TenantKey::parse("open-arms")),
            gone,
            users::UserPatch {
                active: Some(false),
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap();
    let lead = submit(&s, &key, 1).await;
    let path = format!("/api/v1/leads/{}", lead["id"].as_str().unwrap());
    for (who, code) in [
        (bo, "unknown_user"),
        (owner, "unknown_user"),
        (Uuid::now_v7(), "unknown_user"),
        (gone, "inactive_user"),
    ] {
        let got = s
            .patch(&path, &json!({ "assigned_to": who }).to_string())
            .await;
        assert_error(
            &got,
            StatusCode::UNPROCESSABLE_ENTITY,
            code,
            Some("assigned_to"),
        );
    }
    // Not a user id at all: unreadable, 400 naming the field.
    let got = s.patch(&path, r#"{"assigned_to":"Maria"}"#).await;
    assert_eq!(got.0, StatusCode::BAD_REQUEST, "{}", got.1);
    assert_eq!(got.1["error"]["field"], "assigned_to");
    let (_, l) = s.get(&path).await;
    assert_eq!(l["assigned_to"], Value::Null, "nothing changed");

    let (status, l) = s
        .patch(&path, &json!({ "assigned_to": dana }).to_string())
        .await;
    assert_eq!(status, StatusCode::OK, "{l}");
    assert_eq!(assignee(&l), Some(dana));
    assert_eq!(l["assignee"]["email"], "dana@openarms.example");
    // Manual entry with another tenant's user: 422 as well.
    let got = s
        .post(
            "/api/v1/tenants/open-arms/leads",
            &json!({"name": "Walk In", "assigned_to": bo}).to_string(),
        )
        .await;
    assert_error(
        &got,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_user",
        Some("assigned_to"),
    );
}

#[tokio::test]
async fn round_robin_gives_each_manager_a_lead_in_turn_and_survives_a_restart() {
    let s = TestServer::start().await;
    let (_, key) = s.tenant_with_key(r#"{"name":"Open Arms"}"#).await;
    let got = s
        .patch(
            "/api/v1/tenants/open-arms/settings",
            r#"{"auto_assign":"round-robin"}"#,
        )
        .await;
    assert_error(
        &got,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_value",
        Some("auto_assign"),
    );
    let (status, settings) = s
        .patch(
            "/api/v1/tenants/open-arms/settings",
            r#"{"auto_assign":"round_robin"}"#,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{settings}");
    assert_eq!(settings["auto_assign"], "round_robin");
    // No manager yet: unassigned.
    assert_eq!(assignee(&submit(&s, &key, 0).await), None);
    let mut m = Vec::new();
    for i in 0..3 {
        m.push(
            user(
                &s,
                Some("open-arms"),
                &format!("m{i}@openarms.example"),
                Role::Manager,
            )
            .await,
        );
    }
    user(&s, Some("open-arms"), "agent@openarms.example", Role::Agent).await;
    m.sort();
    let mut got = Vec::new();
    for n in 1..=6 {
        got.push(assignee(&submit(&s, &key, n).await).unwrap());
    }
    assert_eq!(got, [m[0], m[1], m[2], m[0], m[1], m[2]]);

    // m[1] deactivated: skipped.
    s.state
        .store
        .patch_user(
            "admin:test".into(),
            UserScope::Tenant(TenantKey::parse("open-arms")),
            m[1],
            users::UserPatch {
                active: Some(false),
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap();
    assert_eq!(assignee(&submit(&s, &key, 7).await), Some(m[0]));
    assert_eq!(assignee(&submit(&s, &key, 8).await), Some(m[2]));

    // A restart continues after m[2].
    let clock = s.clock.clone();
    let dir = s.stop().await;
    let s = TestServer::start_in(dir, clock, |_| {}).await;
    assert_eq!(assignee(&submit(&s, &key, 9).await), Some(m[0]));
    assert_eq!(assignee(&submit(&s, &key, 10).await), Some(m[2]));
}

#[tokio::test]
async fn delete_erases_the_lead_and_keeps_the_counts_right() {
    let s = TestServer::start().await;
    let (_, key) = s
        .tenant_with_key(r#"{"name":"Open Arms","settings":{"sla_hours":1}}"#)
        .await;
    let (_, stages) = s.get("/api/v1/tenants/open-arms/stages").await;
    let stage = |i: usize| stages["data"][i]["id"].as_str().unwrap().to_string();
    let keep = submit(&s, &key, 1).await;
    let gone = submit(&s, &key, 2).await;
    let id = gone["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/leads/{id}");
    for st in [stage(1), stage(0)] {
        let (status, _) = s.patch(&path, &json!({ "stage_id": st }).to_string()).await;
        assert_eq!(status, StatusCode::OK);
    }
    let (status, _) = s
        .post(
            &format!("{path}/notes"),
            r#"{"text":"Jane prefers evenings"}"#,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    s.clock.advance(TimeDelta::hours(2));
    s.state
        .store
        .record_new_breaches(|id| format!("/l/{id}"))
        .await
        .unwrap();

    let resp = s
        .client
        .delete(s.url(&path))
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert!(resp.text().await.unwrap().is_empty());
    let (status, _) = s.get(&path).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let again = s.delete(&path).await;
    assert_error(&again, StatusCode::NOT_FOUND, "not_found", None);
    let unknown = s.delete(&format!("/api/v1/leads/{}", Uuid::now_v7())).await;
    assert_error(&unknown, StatusCode::NOT_FOUND, "not_found", None);
    let (status, _) = s
        .get(&format!("/api/v1/leads/{}", keep["id"].as_str().unwrap()))
        .await;
    assert_eq!(status, StatusCode::OK);

    // Nothing of it is left in the database, and the counters equal a count of the leads.
    let db = rusqlite::Connection::open(s.dir.path().join("echo5.db")).unwrap();
    for table in [
        "leads WHERE id",
        "stage_history WHERE lead_id",
        "lead_notes WHERE lead_id",
        "sla_breaches WHERE lead_id",
        "alerts WHERE lead_id",
    ] {
        let n: i64 = db
            .query_row(&format!("SELECT count(*) FROM {table} = ?1"), [&id], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(n, 0, "{table}");
    }
    let kept: Vec<(String, String, i64, i64)> = db
        .prepare("SELECT tenant_id, stage_id, is_spam, leads FROM lead_counts WHERE leads <> 0 ORDER BY 1, 2, 3")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let truth: Vec<(String, String, i64, i64)> = db
        .prepare("SELECT tenant_id, stage_id, is_spam, count(*) FROM leads GROUP BY 1, 2, 3 ORDER BY 1, 2, 3")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(kept, truth);
    assert_eq!(truth.iter().map(|r| r.3).sum::<i64>(), 1);
    let (_, stages) = s.get("/api/v1/tenants/open-arms/stages").await;
    assert_eq!(stages["data"][0]["lead_count"], 1);

    // The audit row keeps the id, nothing of the lead.
    let (_, audit) = s.get("/api/v1/audit?action=lead.deleted").await;
    let rows = audit["data"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["target"], id.as_str());
    let text = rows[0].to_string();
    for personal in ["Visitor 2", "v2@example.com", "evenings"] {
        assert!(!text.contains(personal), "{text}");
    }
}

/// Every `$ref` under `v`.
fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("$ref") {
                out.push(r.clone());
            }
            m.values().for_each(|x| refs(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

#[tokio::test]
async fn the_openapi_document_describes_assignment_and_erasure() {
    let s = TestServer::start().await;
    let (status, doc) = s.get("/api/v1/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    let del = &doc["paths"]["/api/v1/leads/{lead_id}"]["delete"];
    for code in ["204", "401", "404"] {
        assert!(del["responses"].get(code).is_some(), "{code}: {del}");
    }
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["AutoAssign"]["enum"],
        json!(["none", "round_robin"])
    );
    assert!(schemas["Assignee"].is_object());
    assert!(
        schemas["LeadPatch"]["properties"]["assigned_to"]
            .to_string()
            .contains("uuid"),
        "{}",
        schemas["LeadPatch"]
    );
    // Every reference resolves, the new ones included.
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(all.iter().any(|r| r.ends_with("/AutoAssign")));
    for r in all {
        let name = r.trim_start_matches("#/components/schemas/");
        assert!(schemas.get(name).is_some(), "unresolved {r}");
    }
}
