//! The real `echo5d` binary behind a small JSON client: its admin token, a tenant with an API
//! key, and requests answered as (status, JSON body).

use super::daemon::{Launch, RealDaemon};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};
use std::path::Path;

pub struct RealApi {
    pub d: RealDaemon,
    pub token: String,
    pub client: reqwest::Client,
}

impl RealApi {
    /// Starts the daemon on `data` (see `RealDaemon::start`) and reads its admin token.
    pub async fn start(data: &Path, launch: Launch) -> RealApi {
        let d = RealDaemon::start(data, launch).await;
        let token = d.token();
        RealApi {
            d,
            token,
            client: reqwest::Client::new(),
        }
    }

    /// `start`, then tenant "Open Arms" with an API key: (api, key secret).
    pub async fn start_with_key(data: &Path, launch: Launch) -> (RealApi, String) {
        let api = RealApi::start(data, launch).await;
        let (_, key) = api.d.tenant_and_key(&api.token).await;
        (api, key)
    }

    /// Sends `req`; the answer must be JSON.
    pub async fn send(&self, req: RequestBuilder) -> (StatusCode, Value) {
        let r = req.send().await.unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        let body = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("non-JSON answer ({status}): {e}: {text}"));
        (status, body)
    }

    /// An admin request with the token and, unless `body` is null, a JSON body.
    pub async fn admin(&self, method: Method, path: &str, body: Value) -> (StatusCode, Value) {
        let mut req = self
            .client
            .request(method, self.d.url(path))
            .bearer_auth(&self.token);
        if !body.is_null() {
            req = req.json(&body);
        }
        self.send(req).await
    }

    /// A lead posted as JSON with the key in `X-API-Key`.
    pub async fn ingest(&self, key: &str, body: Value) -> (StatusCode, Value) {
        self.send(
            self.client
                .post(self.d.url("/api/v1/leads"))
                .header("x-api-key", key)
                .json(&body),
        )
        .await
    }

    /// A new API key for tenant `slug`; returns its secret.
    pub async fn new_key(&self, slug: &str) -> String {
        let (status, k) = self
            .admin(
                Method::POST,
                &format!("/api/v1/tenants/{slug}/keys"),
                json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{k}");
        k["secret"].as_str().unwrap().to_string()
    }

    /// Up to 200 of tenant `slug`'s leads, spam included.
    pub async fn leads(&self, slug: &str) -> Vec<Value> {
        let (status, page) = self
            .admin(
                Method::GET,
                &format!("/api/v1/tenants/{slug}/leads?spam=all&limit=200"),
                Value::Null,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        page["data"].as_array().unwrap().clone()
    }
}

/// GET `url` with `token` as the bearer, read as JSON (whatever the status).
pub async fn get_json(client: &reqwest::Client, url: &str, token: &str) -> Value {
    client
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}
