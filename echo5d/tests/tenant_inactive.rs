//! A deactivated tenant's keys are refused on every API-key route, at once and across a
//! restart, and work again once the tenant is reactivated. On the real `echo5d` binary.

mod common;

use common::daemon::{Launch, RealDaemon};
use reqwest::StatusCode;
use serde_json::{Value, json};

struct Api {
    d: RealDaemon,
    token: String,
    client: reqwest::Client,
}

impl Api {
    async fn send(&self, req: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let r = req.send().await.unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        let body = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("non-JSON answer ({status}): {e}: {text}"));
        (status, body)
    }

    async fn admin(&self, method: reqwest::Method, path: &str, body: Value) -> (StatusCode, Value) {
        let mut req = self
            .client
            .request(method, self.d.url(path))
            .bearer_auth(&self.token);
        if !body.is_null() {
            req = req.json(&body);
        }
        self.send(req).await
    }

    async fn set_active(&self, slug: &str, active: bool) {
        let (status, t) = self
            .admin(
                reqwest::Method::PATCH,
                &format!("/api/v1/tenants/{slug}"),
                json!({ "active": active }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{t}");
        assert_eq!(t["active"], active);
    }

    async fn lead_count(&self, slug: &str) -> usize {
        let (status, page) = self
            .admin(
                reqwest::Method::GET,
                &format!("/api/v1/tenants/{slug}/leads?spam=all&limit=200"),
                Value::Null,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        page["data"].as_array().unwrap().len()
    }

    async fn new_key(&self, slug: &str) -> String {
        let (status, k) = self
            .admin(
                reqwest::Method::POST,
                &format!("/api/v1/tenants/{slug}/keys"),
                json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{k}");
        k["secret"].as_str().unwrap().to_string()
    }

    /// Every API-key route, and every place the key may travel: (what, status, body).
    async fn key_routes(&self, key: &str, n: usize) -> Vec<(String, StatusCode, Value)> {
        let email = |route: &str| format!("{route}{n}@example.com");
        let form = |route: &str| json!({ "name": "Ada Lovelace", "email": email(route), "message": "Call me" });
        let c = &self.client;
        let mut out = Vec::new();
        let reqs: Vec<(&str, reqwest::RequestBuilder)> = vec![
            (
                "POST /leads X-API-Key",
                c.post(self.d.url("/api/v1/leads"))
                    .header("x-api-key", key)
                    .json(&form("xkey")),
            ),
            (
                "POST /leads Bearer + Idempotency-Key",
                c.post(self.d.url("/api/v1/leads"))
                    .bearer_auth(key)
                    .header("idempotency-key", format!("retry-{n}"))
                    .json(&form("bearer")),
            ),
            (
                "POST /leads ?api_key= form-urlencoded",
                c.post(self.d.url(&format!("/api/v1/leads?api_key={key}")))
                    .form(&[("your-name", "Ada"), ("your-email", &email("query"))]),
            ),
            (
                "POST /ingest/{key}",
                c.post(self.d.url(&format!("/api/v1/ingest/{key}")))
                    .json(&form("path")),
            ),
            (
                "GET /ingest/{key}",
                c.get(self.d.url(&format!(
                    "/api/v1/ingest/{key}?name=Ada&email={}",
                    email("get")
                ))),
            ),
            (
                "GET /key",
                c.get(self.d.url("/api/v1/key")).header("x-api-key", key),
            ),
        ];
        for (what, req) in reqs {
            let (status, body) = self.send(req).await;
            out.push((what.to_string(), status, body));
        }
        out
    }
}

#[track_caller]
fn assert_inactive(answers: &[(String, StatusCode, Value)]) {
    for (what, status, body) in answers {
        assert_eq!(*status, StatusCode::FORBIDDEN, "{what}: {body}");
        assert_eq!(body["error"]["code"], "tenant_inactive", "{what}: {body}");
        let message = body["error"]["message"].as_str().unwrap_or("");
        assert!(message.contains("inactive"), "{what}: {body}");
    }
}

#[track_caller]
fn assert_accepted(answers: &[(String, StatusCode, Value)]) {
    for (what, status, body) in answers {
        assert_eq!(*status, StatusCode::OK, "{what}: {body}");
    }
}

#[tokio::test]
async fn deactivated_tenant_keys_are_refused_until_reactivated() {
    let dir = tempfile::tempdir().unwrap();
    let d = RealDaemon::start(&dir.path().join("data"), Launch::new()).await;
    let token = d.token();
    let (_, key) = d.tenant_and_key(&token).await;
    let mut api = Api {
        d,
        token,
        client: reqwest::Client::new(),
    };
    let (status, _) = api
        .admin(
            reqwest::Method::POST,
            "/api/v1/tenants",
            json!({"name": "Caring Hearts"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let other = api.new_key("caring-hearts").await;

    assert_accepted(&api.key_routes(&key, 1).await);
    let stored = api.lead_count("open-arms").await;
    assert_eq!(stored, 5);

    // Deactivated: refused at once, nothing stored; the other tenant is untouched.
    api.set_active("open-arms", false).await;
    assert_inactive(&api.key_routes(&key, 2).await);
    assert_eq!(api.lead_count("open-arms").await, stored);
    assert_accepted(&api.key_routes(&other, 2).await);
    // A key created while the tenant is inactive is refused too.
    let late = api.new_key("open-arms").await;
    assert_inactive(&api.key_routes(&late, 3).await);

    // Across a restart (the refusal comes from the stored state, not only from memory).
    api.d.stop();
    api.d.restart().await;
    assert_inactive(&api.key_routes(&key, 4).await);
    assert_eq!(api.lead_count("open-arms").await, stored);

    // Reactivated: both keys work again at once.
    api.set_active("open-arms", true).await;
    assert_accepted(&api.key_routes(&key, 5).await);
    assert_accepted(&api.key_routes(&late, 6).await);
    assert_eq!(api.lead_count("open-arms").await, stored + 10);

    // A PUT that replaces the tenant with `active: false` deactivates it the same way.
    let (status, t) = api
        .admin(
            reqwest::Method::GET,
            "/api/v1/tenants/open-arms",
            Value::Null,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let mut replaced = t.clone();
    replaced["active"] = json!(false);
    let (status, body) = api
        .admin(reqwest::Method::PUT, "/api/v1/tenants/open-arms", replaced)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_inactive(&api.key_routes(&key, 7).await);
}

#[tokio::test]
async fn tenant_created_inactive_takes_no_leads() {
    let dir = tempfile::tempdir().unwrap();
    let d = RealDaemon::start(&dir.path().join("data"), Launch::new()).await;
    let token = d.token();
    let api = Api {
        d,
        token,
        client: reqwest::Client::new(),
    };
    let (status, t) = api
        .admin(
            reqwest::Method::POST,
            "/api/v1/tenants",
            json!({"name": "Family First", "active": false}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{t}");
    let key = api.new_key("family-first").await;
    assert_inactive(&api.key_routes(&key, 1).await);
    assert_eq!(api.lead_count("family-first").await, 0);
    api.set_active("family-first", true).await;
    assert_accepted(&api.key_routes(&key, 2).await);
}
