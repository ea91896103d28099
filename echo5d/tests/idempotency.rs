//! `Idempotency-Key` on the real `echo5d` binary: a retry (same key, same body) gets the first
//! answer; the same key with another body is refused with 422 `idempotency_key_reused` and
//! stores nothing, also after a restart.

mod common;

use common::daemon::Launch;
use common::real_api::RealApi;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A JSON lead with the key in `X-API-Key` and `idem` as its `Idempotency-Key`.
async fn post(api: &RealApi, key: &str, idem: &str, body: &str) -> (StatusCode, Value) {
    api.send(
        api.client
            .post(api.d.url("/api/v1/leads"))
            .header("x-api-key", key)
            .header("idempotency-key", idem)
            .header("content-type", "application/json")
            .body(body.to_string()),
    )
    .await
}

/// The GET ingest route with `query` and `idem` as its `Idempotency-Key`.
async fn get(api: &RealApi, key: &str, idem: &str, query: &str) -> (StatusCode, Value) {
    api.send(
        api.client
            .get(api.d.url(&format!("/api/v1/ingest/{key}?{query}")))
            .header("idempotency-key", idem),
    )
    .await
}

/// The stored leads' e-mail addresses.
async fn emails(api: &RealApi) -> Vec<String> {
    let mut out: Vec<String> = api
        .leads("open-arms")
        .await
        .iter()
        .map(|l| l["email"].as_str().unwrap_or("").to_string())
        .collect();
    out.sort();
    out
}

#[track_caller]
fn assert_reused(got: &(StatusCode, Value)) {
    assert_eq!(got.0, StatusCode::UNPROCESSABLE_ENTITY, "{}", got.1);
    assert_eq!(
        got.1["error"]["code"], "idempotency_key_reused",
        "{}",
        got.1
    );
    assert_eq!(got.1["error"]["field"], "Idempotency-Key", "{}", got.1);
    let message = got.1["error"]["message"].as_str().unwrap_or("");
    assert!(
        message.contains("Idempotency-Key") && message.contains("different"),
        "the client is told plainly: {message}"
    );
}

fn form(email: &str, message: &str) -> String {
    json!({ "name": "Ada Lovelace", "email": email, "message": message }).to_string()
}

#[tokio::test]
async fn same_key_with_another_body_is_refused_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (mut api, key) = RealApi::start_with_key(&dir.path().join("data"), Launch::new()).await;
    let first_body = form("ada@example.com", "Please call me back");
    let first = post(&api, &key, "order-1", &first_body).await;
    assert_eq!(first.0, StatusCode::OK, "{}", first.1);
    let first_id = first.1["id"].as_str().unwrap().to_string();

    // Another lead under the same key: refused, nothing stored, not answered with the
    // first lead's id.
    let other_body = form("grace@example.com", "A different enquiry");
    let reused = post(&api, &key, "order-1", &other_body).await;
    assert_reused(&reused);
    assert!(reused.1.get("id").is_none());
    // One byte off is another body too.
    assert_reused(&post(&api, &key, "order-1", &format!("{first_body} ")).await);
    assert_eq!(emails(&api).await, vec!["ada@example.com"]);

    // The retry itself still gets the first answer.
    let retry = post(&api, &key, "order-1", &first_body).await;
    assert_eq!(retry.0, StatusCode::OK, "{}", retry.1);
    assert_eq!(retry.1["id"], first_id.as_str());

    // Another key for the other body: a lead of its own.
    let second = post(&api, &key, "order-2", &other_body).await;
    assert_eq!(second.0, StatusCode::OK, "{}", second.1);
    let second_id = second.1["id"].as_str().unwrap().to_string();
    assert_ne!(second_id, first_id);
    assert_eq!(
        emails(&api).await,
        vec!["ada@example.com", "grace@example.com"]
    );

    // The query-string route: the stored form of the query is what is compared.
    let got = get(&api, &key, "get-1", "name=Ada&email=ada.get%40example.com").await;
    assert_eq!(got.0, StatusCode::OK, "{}", got.1);
    let get_id = got.1["id"].clone();
    assert_reused(&get(&api, &key, "get-1", "name=Eve&email=eve%40example.com").await);
    let again = get(&api, &key, "get-1", "name=Ada&email=ada.get%40example.com").await;
    assert_eq!(again.1["id"], get_id);

    // The records live in the database: a restart changes none of the answers.
    api.d.stop();
    api.d.restart().await;
    assert_reused(&post(&api, &key, "order-1", &other_body).await);
    assert_reused(&post(&api, &key, "order-2", &first_body).await);
    let retry = post(&api, &key, "order-1", &first_body).await;
    assert_eq!(retry.0, StatusCode::OK, "{}", retry.1);
    assert_eq!(retry.1["id"], first_id.as_str());
    let retry = post(&api, &key, "order-2", &other_body).await;
    assert_eq!(retry.1["id"], second_id.as_str());
    assert_eq!(
        emails(&api).await,
        vec![
            "ada.get@example.com",
            "ada@example.com",
            "grace@example.com"
        ]
    );
}
