//! Pipeline stages over a real loopback socket.

mod common;

use common::{TestServer, assert_error};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

fn ids(list: &Value) -> Vec<String> {
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect()
}

fn names(list: &Value) -> Vec<String> {
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect()
}

async fn lead_in(s: &TestServer, tenant: &Value, stage: &str) -> Uuid {
    let path = format!("/api/v1/tenants/{}/leads", tenant["slug"].as_str().unwrap());
    let body = json!({ "name": "Jane Doe", "stage_id": stage }).to_string();
    let (status, lead) = s.post(&path, &body).await;
    assert_eq!(status, StatusCode::CREATED, "{lead}");
    lead["id"].as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn list_add_rename_keeps_leads() {
    let s = TestServer::start().await;
    let t = s.tenant(r#"{"name":"Open Arms"}"#).await;
    let base = "/api/v1/tenants/open-arms/stages";
    let (status, list) = s.get(base).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        names(&list),
        [
            "New",
            "Contacted",
            "Qualified",
            "Tour Scheduled",
            "Won",
            "Lost"
        ]
    );
    assert_eq!(list["data"][4]["kind"], "won");
    assert_eq!(list["data"][5]["kind"], "lost");
    let qualified = ids(&list)[2].clone();
    let lead = lead_in(&s, &t, &qualified).await;
    let (_, list) = s.get(base).await;
    assert_eq!(list["data"][2]["lead_count"], 1);

    let (status, added) = s.post(base, r#"{"name":"Nurture","kind":"open"}"#).await;
    assert_eq!(status, StatusCode::CREATED, "{added}");
    assert_eq!(added["name"], "Nurture");
    let (status, lost2) = s.post(base, r#"{"name":"Not a fit","kind":"lost"}"#).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(lost2["kind"], "lost");
    assert_error(
        &s.post(base, r#"{"name":"nurture"}"#).await,
        StatusCode::CONFLICT,
        "stage_name_taken",
        Some("name"),
    );
    assert_error(
        &s.post(base, &json!({"name": "x".repeat(41)}).to_string())
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "too_long",
        Some("name"),
    );
    assert_error(
        &s.post(base, r#"{"name":"X","kind":"maybe"}"#).await,
        StatusCode::BAD_REQUEST,
        "invalid_type",
        Some("kind"),
    );

    let (status, renamed) = s
        .patch(
            &format!("{base}/{qualified}"),
            r#"{"name":"Assessment Booked"}"#,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{renamed}");
    assert_eq!(renamed["id"], qualified.as_str());
    let stored = s.state.store.get_lead(lead).await.unwrap();
    assert_eq!(
        stored.stage_id.to_string(),
        qualified,
        "the lead still points at the renamed stage"
    );
    let (_, list) = s.get(base).await;
    assert_eq!(list["data"][2]["name"], "Assessment Booked");
    assert_eq!(list["data"][2]["lead_count"], 1);
    assert_error(
        &s.patch(&format!("{base}/{qualified}"), r#"{"name":"Won"}"#)
            .await,
        StatusCode::CONFLICT,
        "stage_name_taken",
        Some("name"),
    );
    s.stop().await;
}

#[tokio::test]
async fn reorder_takes_a_full_permutation() {
    let s = TestServer::start().await;
    s.tenant(r#"{"name":"Open Arms"}"#).await;
    let base = "/api/v1/tenants/open-arms/stages";
    let (_, list) = s.get(base).await;
    let mut order = ids(&list);
    order.swap(1, 3);
    let (status, re) = s.put(base, &json!({"order": order}).to_string()).await;
    assert_eq!(status, StatusCode::OK, "{re}");
    assert_eq!(
        names(&re),
        [
            "New",
            "Tour Scheduled",
            "Qualified",
            "Contacted",
            "Won",
            "Lost"
        ]
    );
    let (_, list) = s.get(base).await;
    assert_eq!(ids(&list), order, "the new order is stored");

    assert_error(
        &s.put(base, &json!({"order": &order[..5]}).to_string())
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "incomplete_order",
        Some("order"),
    );
    let mut dup = order.clone();
    dup[5] = dup[0].clone();
    assert_error(
        &s.put(base, &json!({"order": dup}).to_string()).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "duplicate_stage",
        Some("order[5]"),
    );
    let mut foreign = order.clone();
    foreign[2] = Uuid::now_v7().to_string();
    assert_error(
        &s.put(base, &json!({"order": foreign}).to_string()).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_stage",
        Some("order[2]"),
    );
    let mut won_first = order.clone();
    won_first.swap(0, 4);
    assert_error(
        &s.put(base, &json!({"order": won_first}).to_string()).await,
        StatusCode::CONFLICT,
        "intake_stage_not_open",
        None,
    );
    assert_error(
        &s.put(base, r#"{"order":["nope"]}"#).await,
        StatusCode::BAD_REQUEST,
        "invalid_type",
        Some("order[0]"),
    );
    let (_, list) = s.get(base).await;
    assert_eq!(ids(&list), order, "refused reorders changed nothing");
    s.stop().await;
}

#[tokio::test]
async fn delete_needs_move_to_when_the_stage_holds_leads() {
    let s = TestServer::start().await;
    let t = s.tenant(r#"{"name":"Open Arms"}"#).await;
    let base = "/api/v1/tenants/open-arms/stages";
    let (_, list) = s.get(base).await;
    let all = ids(&list);
    let (new, contacted, qualified) = (&all[0], &all[1], &all[2]);
    let a = lead_in(&s, &t, qualified).await;
    let b = lead_in(&s, &t, qualified).await;

    assert_error(
        &s.delete(&format!("{base}/{qualified}")).await,
        StatusCode::CONFLICT,
        "stage_not_empty",
        Some("move_to"),
    );
    assert_error(
        &s.delete(&format!("{base}/{qualified}?move_to={qualified}"))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_move_target",
        Some("move_to"),
    );
    assert_error(
        &s.delete(&format!("{base}/{qualified}?move_to={}", Uuid::now_v7()))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_stage",
        Some("move_to"),
    );
    assert_error(
        &s.delete(&format!("{base}/{qualified}?move_to=junk")).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_stage",
        Some("move_to"),
    );
    assert_eq!(
        s.get(base).await.1["data"].as_array().unwrap().len(),
        6,
        "nothing deleted yet"
    );

    let (status, done) = s
        .delete(&format!("{base}/{qualified}?move_to={contacted}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(
        done,
        json!({"deleted": qualified, "moved_leads": 2, "moved_to": contacted})
    );
    for lead in [a, b] {
        assert_eq!(
            s.state
                .store
                .get_lead(lead)
                .await
                .unwrap()
                .stage_id
                .to_string(),
            *contacted
        );
        let history: Vec<_> = s
            .state
            .store
            .lead_detail(lead, echo5_core::authorization::Reach::All)
            .await
            .unwrap()
            .history
            .into_iter()
            .map(|m| (m.from_stage, m.to_stage, m.by))
            .collect();
        let last = history.last().unwrap();
        assert_eq!(last.0.unwrap().to_string(), *qualified);
        assert_eq!(last.1.to_string(), *contacted);
        assert!(last.2.starts_with("admin:"));
    }
    let (_, list) = s.get(base).await;
    assert_eq!(
        names(&list),
        ["New", "Contacted", "Tour Scheduled", "Won", "Lost"]
    );
    assert_eq!(list["data"][1]["lead_count"], 2);

    // Unknown stages are 404, whatever the id looks like.
    assert_error(
        &s.delete(&format!("{base}/{}", Uuid::now_v7())).await,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    );
    assert_error(
        &s.delete(&format!("{base}/not-a-uuid")).await,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    );
    assert_error(
        &s.patch(&format!("{base}/not-a-uuid"), r#"{"name":"x"}"#)
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    );
    assert_error(
        &s.get("/api/v1/tenants/nobody/stages").await,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    );
    let _ = new;
    s.stop().await;
}

#[tokio::test]
async fn the_last_open_stage_stays() {
    let s = TestServer::start().await;
    s.tenant(r#"{"name":"Open Arms"}"#).await;
    let base = "/api/v1/tenants/open-arms/stages";
    let (_, list) = s.get(base).await;
    let all = ids(&list);
    // Delete the open stages after intake: all empty, so no move_to needed.
    for id in &all[1..4] {
        let (status, body) = s.delete(&format!("{base}/{id}")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    assert_error(
        &s.delete(&format!("{base}/{}", all[0])).await,
        StatusCode::CONFLICT,
        "last_open_stage",
        None,
    );
    assert_error(
        &s.patch(&format!("{base}/{}", all[0]), r#"{"kind":"won"}"#)
            .await,
        StatusCode::CONFLICT,
        "last_open_stage",
        None,
    );
    assert_eq!(names(&s.get(base).await.1), ["New", "Won", "Lost"]);
    s.stop().await;
}
