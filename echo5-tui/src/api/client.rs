//! One method per admin API call, returning core's wire types.

use echo5_core::page::{List, Page};
use echo5_core::secret::Secret;
use echo5_core::stage::{Stage, StageSummary};
use echo5_core::tenant::Tenant;
use echo5_core::{ErrorBody, ErrorDetail};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::time::Duration;
use uuid::Uuid;

use super::ApiError;
use crate::app::{Call, Reply, SettingsChange};

/// A dead daemon must not hold a request (and its "loading" marker) for long.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// The API's largest page.
const PAGE_LIMIT: u32 = 200;
/// Guards against a daemon that keeps returning a cursor.
const MAX_PAGES: usize = 100;

#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    token: Option<Secret<String>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("base", &self.base).finish()
    }
}

impl Client {
    pub fn new(base: &str, token: Option<Secret<String>>) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!("echo5-tui/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Client {
            http,
            base: base.trim_end_matches('/').to_string(),
            token,
        })
    }

    fn req(&self, method: Method, path: &str) -> RequestBuilder {
        let r = self.http.request(method, format!("{}{path}", self.base));
        match &self.token {
            Some(t) => r.bearer_auth(t.expose()),
            None => r,
        }
    }

    async fn send<T: DeserializeOwned>(&self, req: RequestBuilder) -> Result<T, ApiError> {
        let resp = req
            .send()
            .await
            .map_err(|e| ApiError::Unreachable(root_cause(&e)))?;
        let status = resp.status();
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| ApiError::Unreachable(root_cause(&e)))?;
        if !status.is_success() {
            return Err(ApiError::Http {
                status: status.as_u16(),
                detail: error_detail(status, &bytes),
            });
        }
        serde_json::from_slice(&bytes).map_err(|e| ApiError::Decode(e.to_string()))
    }

    pub async fn call(&self, call: &Call) -> Result<Reply, ApiError> {
        match call {
            Call::ListTenants => self.list_tenants().await.map(Reply::Tenants),
            Call::ListStages { tenant } => {
                let l: List<StageSummary> = self
                    .send(self.req(Method::GET, &stages_path(*tenant)))
                    .await?;
                Ok(Reply::Stages(l.data))
            }
            Call::GetSettings { tenant } => self
                .send(self.req(Method::GET, &settings_path(*tenant)))
                .await
                .map(Reply::Settings),
            Call::AddStage { tenant, name, kind } => {
                // Request bodies are built here because core's request types only
                // deserialize (see the report on API gaps); field names follow them.
                let body = json!({ "name": name, "kind": kind });
                self.send::<Stage>(self.req(Method::POST, &stages_path(*tenant)).json(&body))
                    .await
                    .map(Reply::StageAdded)
            }
            Call::RenameStage {
                tenant,
                stage,
                name,
            } => {
                let path = format!("{}/{stage}", stages_path(*tenant));
                self.send::<Stage>(
                    self.req(Method::PATCH, &path)
                        .json(&json!({ "name": name })),
                )
                .await
                .map(Reply::StageRenamed)
            }
            Call::ReorderStages { tenant, order } => {
                let l: List<Stage> = self
                    .send(
                        self.req(Method::PUT, &stages_path(*tenant))
                            .json(&json!({ "order": order })),
                    )
                    .await?;
                Ok(Reply::Reordered(l.data))
            }
            Call::DeleteStage {
                tenant,
                stage,
                move_to,
            } => {
                let mut r = self.req(Method::DELETE, &format!("{}/{stage}", stages_path(*tenant)));
                if let Some(m) = move_to {
                    r = r.query(&[("move_to", m.to_string())]);
                }
                // The delete answer type lives in the daemon, not in core; only the count
                // of moved leads is read.
                let v: Value = self.send(r).await?;
                let moved_leads = v.get("moved_leads").and_then(Value::as_u64).unwrap_or(0);
                Ok(Reply::StageDeleted { moved_leads })
            }
            Call::PatchSettings { tenant, change } => self
                .send(
                    self.req(Method::PATCH, &settings_path(*tenant))
                        .json(&settings_body(change)),
                )
                .await
                .map(Reply::SettingsSaved),
        }
    }

    async fn list_tenants(&self) -> Result<Vec<Tenant>, ApiError> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut r = self
                .req(Method::GET, "/api/v1/tenants")
                .query(&[("limit", PAGE_LIMIT.to_string())]);
            if let Some(c) = &cursor {
                r = r.query(&[("cursor", c)]);
            }
            let page: Page<Tenant> = self.send(r).await?;
            out.extend(page.data);
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        Ok(out)
    }
}

fn stages_path(tenant: Uuid) -> String {
    format!("/api/v1/tenants/{tenant}/stages")
}

fn settings_path(tenant: Uuid) -> String {
    format!("/api/v1/tenants/{tenant}/settings")
}

/// The PATCH body for one settings change; the only place a secret is exposed.
pub fn settings_body(change: &SettingsChange) -> Value {
    match change {
        SettingsChange::SlaHours(h) => json!({ "sla_hours": h }),
        SettingsChange::SpamKeywords(k) => json!({ "spam_keywords": k }),
        SettingsChange::ManagerEmail(e) => json!({ "manager_email": e }),
        SettingsChange::MetaAccessToken(t) => {
            json!({ "meta_access_token": t.as_ref().map(|s| s.expose()) })
        }
        SettingsChange::GoogleAds(g) => json!({ "google_ads": g.as_ref().map(|s| s.expose()) }),
    }
}

fn error_detail(status: StatusCode, body: &[u8]) -> ErrorDetail {
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(b) => b.error,
        // A proxy or an old daemon may answer with text; keep the status meaningful.
        Err(_) => ErrorDetail {
            code: format!("http_{}", status.as_u16()),
            message: status
                .canonical_reason()
                .unwrap_or("HTTP error")
                .to_lowercase(),
            field: None,
        },
    }
}

/// reqwest's top-level message names the URL but not the cause ("connection refused",
/// "timed out"), which is what the operator needs.
fn root_cause(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return "timed out".into();
    }
    let mut cur: &dyn std::error::Error = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use echo5_core::tenant::GoogleAdsConfig;

    #[test]
    fn settings_bodies_match_the_patch_shape() {
        assert_eq!(
            settings_body(&SettingsChange::SlaHours(4)),
            json!({"sla_hours": 4})
        );
        assert_eq!(
            settings_body(&SettingsChange::ManagerEmail(None)),
            json!({"manager_email": null})
        );
        let g = GoogleAdsConfig {
            customer_id: "123-456-7890".into(),
            conversion_action: "lead".into(),
            webhook_key: "k".repeat(16),
        };
        let body = settings_body(&SettingsChange::GoogleAds(Some(Secret::new(g))));
        assert_eq!(body["google_ads"]["customer_id"], "123-456-7890");
        assert_eq!(
            settings_body(&SettingsChange::MetaAccessToken(None)),
            json!({"meta_access_token": null})
        );
    }

    #[test]
    fn non_json_errors_keep_the_status() {
        let d = error_detail(StatusCode::BAD_GATEWAY, b"<html>");
        assert_eq!(d.code, "http_502");
        assert_eq!(d.message, "bad gateway");
    }
}
