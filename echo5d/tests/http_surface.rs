//! Small things the public sees, against the real binary: HEAD on the GET ingest route stores
//! nothing, every answer says `nosniff` and every answer but the OpenAPI document says
//! `no-store`, and revoked or expired keys answer exactly like unknown ones.
//!
//! `ECHO5D_TEST_BIN=<older echo5d>` runs the same checks against another build.

mod common;

use common::daemon::{RealDaemon, sample_lead};
use common::real_api::get_json;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn lead_count(d: &RealDaemon, token: &str) -> usize {
    let r = reqwest::Client::new()
        .get(d.url("/api/v1/tenants/open-arms/leads"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json::<Value>().await.unwrap()["data"]
        .as_array()
        .unwrap()
        .len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn head_on_the_get_ingest_route_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (d, token, key) = RealDaemon::start_logged_with_key(dir.path(), |l| l).await;
    let c = reqwest::Client::new();
    let url = d.url(&format!(
        "/api/v1/ingest/{key}?name=Jane+Roe&email=jane%40example.com"
    ));
    let mut answers = Vec::new();
    for _ in 0..3 {
        let r = c.head(&url).send().await.unwrap();
        answers.push((r.status(), r.headers().get("allow").cloned()));
    }
    assert_eq!(lead_count(&d, &token).await, 0, "a HEAD stored a lead");
    for (status, allow) in answers {
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
        let allow = allow.expect("Allow on a 405");
        let allow = allow.to_str().unwrap();
        assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    }
    // The GET itself still stores one.
    let r = c.get(&url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(lead_count(&d, &token).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_is_nosniff_and_no_store_but_the_openapi_document() {
    let dir = tempfile::tempdir().unwrap();
    let (d, token, key) = RealDaemon::start_logged_with_key(dir.path(), |l| l).await;
    let c = reqwest::Client::new();
    let r = d.post_lead(&c, &key, &sample_lead()).await;
    assert_eq!(r.status(), StatusCode::OK);
    let lead = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let with_token = [
        (Method::GET, "/api/v1/tenants".to_string()),
        (Method::GET, "/api/v1/tenants/open-arms".into()),
        (Method::GET, "/api/v1/tenants/open-arms/settings".into()),
        (Method::GET, "/api/v1/tenants/open-arms/keys".into()),
        (Method::GET, "/api/v1/tenants/open-arms/leads".into()),
        (Method::GET, "/api/v1/tenants/open-arms/leads.csv".into()),
        (Method::GET, format!("/api/v1/leads/{lead}")),
        (Method::GET, "/api/v1/leads".into()),
        (Method::GET, "/api/v1/audit".into()),
        (Method::GET, "/api/v1/system/logs".into()),
        (Method::GET, "/api/v1/platform/settings".into()),
        (Method::GET, "/api/v1/usage".into()),
        (Method::GET, "/api/v1/dashboard".into()),
        (Method::GET, "/api/v1/sla/breaches".into()),
        (Method::GET, "/healthz".into()),
        (Method::GET, "/api/v1/no/such/route".into()),
        (Method::DELETE, "/api/v1/leads".into()),
        (Method::POST, "/api/v1/tenants".into()),
    ];
    let mut checked = 0;
    for (method, path) in with_token {
        let r = c
            .request(method.clone(), d.url(&path))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body("{")
            .send()
            .await
            .unwrap();
        let h = r.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{method} {path}");
        assert_eq!(h["cache-control"], "no-store", "{method} {path}");
        checked += 1;
    }
    // Without credentials, and on ingest.
    for (method, path, auth) in [
        (Method::GET, "/api/v1/tenants".to_string(), None),
        (Method::GET, "/api/v1/key".into(), Some(key.clone())),
        (Method::GET, "/api/v1/key".into(), Some("e5_nope".into())),
        (
            Method::GET,
            format!("/api/v1/ingest/{key}?name=Ann&email=ann%40example.com"),
            None,
        ),
    ] {
        let mut req = c.request(method.clone(), d.url(&path));
        if let Some(k) = auth {
            req = req.header("x-api-key", k);
        }
        let r = req.send().await.unwrap();
        let h = r.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{method} {path}");
        assert_eq!(h["cache-control"], "no-store", "{method} {path}");
        checked += 1;
    }
    assert_eq!(checked, 22);
    // The OpenAPI document carries no personal data and may be cached (revalidated).
    let r = c.get(d.url("/api/v1/openapi.json")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert_eq!(r.headers()["cache-control"], "no-cache");
}

/// Status, body and the headers a client could tell apart, for one request.
async fn answer(req: reqwest::RequestBuilder) -> (StatusCode, Value, Option<String>) {
    let r = req.send().await.unwrap();
    let status = r.status();
    let www = r
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string());
    (status, r.json().await.unwrap(), www)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_and_expired_keys_answer_like_unknown_ones() {
    let dir = tempfile::tempdir().unwrap();
    let (d, token, expired) = RealDaemon::start_logged_with_key(dir.path(), |l| l).await;
    let c = reqwest::Client::new();
    let keys: Value = get_json(&c, &d.url("/api/v1/tenants/open-arms/keys"), &token).await;
    let expired_id = keys["data"][0]["id"].as_str().unwrap().to_string();
    // Rotated with no grace: the old key has expired.
    let r = c
        .post(d.url(&format!(
            "/api/v1/tenants/open-arms/keys/{expired_id}/rotate"
        )))
        .bearer_auth(&token)
        .json(&json!({"grace_hours": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let rotated: Value = r.json().await.unwrap();
    let revoked = rotated["new_key"]["secret"].as_str().unwrap().to_string();
    let revoked_id = rotated["new_key"]["id"].as_str().unwrap().to_string();
    let r = c
        .delete(d.url(&format!("/api/v1/tenants/open-arms/keys/{revoked_id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // An unknown key of the same shape: the revoked one with its last character changed.
    let mut unknown = revoked.clone();
    let last = unknown.pop().unwrap();
    unknown.push(if last == 'a' { 'b' } else { 'a' });
    let keys_under_test = [
        ("unknown", unknown),
        ("expired", expired),
        ("revoked", revoked),
    ];

    let mut answers: Vec<Vec<(StatusCode, Value, Option<String>)>> = Vec::new();
    for (_, k) in &keys_under_test {
        answers.push(vec![
            answer(
                c.post(d.url("/api/v1/leads"))
                    .header("x-api-key", k)
                    .json(&json!({"name": "Jane", "email": "jane@example.com"})),
            )
            .await,
            answer(
                c.post(d.url(&format!("/api/v1/ingest/{k}")))
                    .form(&[("name", "Jane"), ("email", "jane@example.com")]),
            )
            .await,
            answer(c.get(d.url(&format!(
                "/api/v1/ingest/{k}?name=Jane&email=jane%40example.com"
            ))))
            .await,
            answer(c.get(d.url("/api/v1/key")).bearer_auth(k)).await,
        ]);
    }
    for a in &answers[0] {
        assert_eq!(a.0, StatusCode::UNAUTHORIZED);
        assert_eq!(a.1["error"]["code"], "invalid_api_key", "{}", a.1);
    }
    for (i, (name, _)) in keys_under_test.iter().enumerate().skip(1) {
        assert_eq!(
            answers[i], answers[0],
            "a {name} key answers differently from an unknown one"
        );
    }
    assert_eq!(lead_count(&d, &token).await, 0);
    // The admin API still tells them apart.
    let keys: Value = get_json(&c, &d.url("/api/v1/tenants/open-arms/keys"), &token).await;
    let statuses: Vec<&str> = keys["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["status"].as_str().unwrap())
        .collect();
    assert!(
        statuses.contains(&"expired") && statuses.contains(&"revoked"),
        "{statuses:?}"
    );
}

#[test]
fn the_openapi_document_lists_the_throttle_and_body_timeout_answers() {
    let doc = serde_json::to_value(echo5d::openapi()).unwrap();
    let paths = doc["paths"].as_object().unwrap();
    let mut with_401 = 0;
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            let Some(responses) = op.get("responses").and_then(Value::as_object) else {
                continue;
            };
            if responses.contains_key("401") {
                with_401 += 1;
                assert!(
                    responses.contains_key("429"),
                    "{method} {path} can refuse a credential but documents no 429"
                );
            }
            if op.get("requestBody").is_some() {
                assert!(
                    responses.contains_key("408"),
                    "{method} {path} reads a body but documents no 408"
                );
            }
        }
    }
    assert!(with_401 > 30, "{with_401}");
    let throttled = &paths["/api/v1/tenants"]["get"]["responses"]["429"];
    assert!(
        throttled["headers"].get("Retry-After").is_some(),
        "{throttled}"
    );
}
