//! One method per admin API call, returning core's wire types. Sessions and users have
//! their own files below (`client/sessions.rs`, `client/users.rs`).

mod integrations;
mod notifications;
mod plans;
mod sessions;
mod users;
mod webhooks;

use echo5_core::analytics::{Analytics, GlobalAnalytics};
use echo5_core::keys::{ApiKey, ApiKeyWithSecret, NewApiKey, RotateApiKey, RotatedApiKey};
use echo5_core::leads::{LeadDetail, LeadPatch, NewNote, Note};
use echo5_core::page::{List, Page};
use echo5_core::secret::{Secret, SecretUpdate};
use echo5_core::settings::SettingsPatch;
use echo5_core::stages::{NewStage, Stage, StageDeleted, StageOrder, StagePatch, StageSummary};
use echo5_core::tenants::{NewTenant, Tenant, TenantPatch};
use echo5_core::{ErrorBody, ErrorDetail};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use uuid::Uuid;

use super::export;
use crate::app::effect::LeadFilters;
use crate::app::{ApiError, Call, LeadChange, Reply, SecretOrigin, SettingsChange, TenantChange};
use echo5_core::logs::{LogLevel, LogPage};
use echo5_core::platform_settings::PlatformSettings;
use echo5_core::usage::UsageReport;

/// A dead daemon must not hold a request (and its "loading" marker) for long.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// The API's largest page.
const PAGE_LIMIT: u32 = 200;
/// Leads per page: a screenful or two; more load as the cursor passes the end.
const LEADS_PAGE: u32 = 50;
/// Audit rows per page; more load as the cursor passes the end.
const AUDIT_PAGE: u32 = 100;
/// Log lines read when the Logs screen opens; the live tail brings the rest.
const LOG_HISTORY: u32 = 500;
/// Leads a client's overview shows.
const RECENT_LEADS: u32 = 8;
/// Guards against a daemon that keeps returning a cursor.
const MAX_PAGES: usize = 100;

#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    /// For the event stream: no overall timeout (it never ends by design); idleness is
    /// watched by the reader instead.
    stream_http: reqwest::Client,
    base: String,
    /// Shared by every clone (the worker's, the streams'), so a token read again after a
    /// reset is used by the next request of each.
    token: Arc<RwLock<Option<Secret<String>>>>,
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
        let stream_http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(concat!("echo5-tui/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Client {
            http,
            stream_http,
            base: base.trim_end_matches('/').to_string(),
            token: Arc::new(RwLock::new(token)),
        })
    }

    /// Forgets the token (a logout): requests go without one until the next login.
    pub fn clear_token(&self) {
        let mut cur = self.token.write().unwrap_or_else(|p| p.into_inner());
        *cur = None;
    }

    /// Uses `token` from now on; true when it differs from the one in use.
    pub fn set_token(&self, token: Secret<String>) -> bool {
        let mut cur = self.token.write().unwrap_or_else(|p| p.into_inner());
        let changed = cur.as_ref() != Some(&token);
        *cur = Some(token);
        changed
    }

    fn req(&self, method: Method, path: &str) -> RequestBuilder {
        self.auth(self.http.request(method, format!("{}{path}", self.base)))
    }

    fn auth(&self, r: RequestBuilder) -> RequestBuilder {
        let token = self.token.read().unwrap_or_else(|p| p.into_inner());
        match token.as_ref() {
            Some(t) => r.bearer_auth(t.expose()),
            None => r,
        }
    }

    /// Opens `GET /api/v1/events`, resuming after `last_event_id`. The response is the
    /// stream; read it with [`reqwest::Response::chunk`].
    pub async fn open_events(
        &self,
        last_event_id: Option<u64>,
    ) -> Result<reqwest::Response, ApiError> {
        self.open_sse("/api/v1/events", last_event_id).await
    }

    /// Opens the daemon's live log tail, `GET /api/v1/system/logs/stream`, resuming after
    /// the line `last_seq`.
    pub async fn open_log_stream(
        &self,
        last_seq: Option<u64>,
    ) -> Result<reqwest::Response, ApiError> {
        self.open_sse("/api/v1/system/logs/stream", last_seq).await
    }

    async fn open_sse(
        &self,
        path: &str,
        last_event_id: Option<u64>,
    ) -> Result<reqwest::Response, ApiError> {
        let mut r = self
            .auth(self.stream_http.get(format!("{}{path}", self.base)))
            .header(reqwest::header::ACCEPT, "text/event-stream");
        if let Some(id) = last_event_id {
            r = r.header("Last-Event-ID", id.to_string());
        }
        // The stream has no overall timeout, but its head must come as fast as any answer:
        // a daemon that accepted the connection and never answers (stopping, or stopped)
        // would otherwise hold the attempt, and the stream, off for good.
        let resp = tokio::time::timeout(REQUEST_TIMEOUT, r.send())
            .await
            .map_err(|_| ApiError::Unreachable("no answer to the stream request".into()))?
            .map_err(|e| ApiError::Unreachable(root_cause(&e)))?;
        let status = resp.status();
        if !status.is_success() {
            let bytes = resp.bytes().await.unwrap_or_default();
            return Err(ApiError::Http {
                status: status.as_u16(),
                detail: error_detail(status, &bytes),
            });
        }
        Ok(resp)
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
            Call::ListStages { tenant } | Call::ListBreachStages { tenant } => {
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
                let body = NewStage {
                    name: name.clone(),
                    kind: *kind,
                };
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
                let body = StagePatch {
                    name: Some(name.clone()),
                    kind: None,
                };
                self.send::<Stage>(self.req(Method::PATCH, &path).json(&body))
                    .await
                    .map(Reply::StageRenamed)
            }
            Call::ReorderStages { tenant, order } => {
                let body = StageOrder {
                    order: order.clone(),
                };
                let l: List<Stage> = self
                    .send(self.req(Method::PUT, &stages_path(*tenant)).json(&body))
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
                let done: StageDeleted = self.send(r).await?;
                Ok(Reply::StageDeleted {
                    moved_leads: done.moved_leads,
                })
            }
            Call::PatchSettings { tenant, change } => self
                .send(
                    self.req(Method::PATCH, &settings_path(*tenant))
                        .json(&settings_body(change)),
                )
                .await
                .map(Reply::SettingsSaved),
            Call::ListKeys { tenant } => {
                let l: List<ApiKey> = self
                    .send(self.req(Method::GET, &keys_path(*tenant)))
                    .await?;
                Ok(Reply::Keys(l.data))
            }
            Call::CreateKey { tenant, label } => {
                let body = NewApiKey {
                    label: label.clone(),
                };
                let w: ApiKeyWithSecret = self
                    .send(self.req(Method::POST, &keys_path(*tenant)).json(&body))
                    .await?;
                Ok(with_secret(w, SecretOrigin::Created))
            }
            Call::RotateKey {
                tenant,
                key,
                grace_hours,
            } => {
                let body = RotateApiKey {
                    grace_hours: Some(*grace_hours),
                    label: None,
                };
                let path = format!("{}/{key}/rotate", keys_path(*tenant));
                let r: RotatedApiKey = self.send(self.req(Method::POST, &path).json(&body)).await?;
                Ok(with_secret(
                    r.new_key,
                    SecretOrigin::Rotated { old_key: r.old_key },
                ))
            }
            Call::RevealKey { tenant, key } => {
                let path = format!("{}/{key}/reveal", keys_path(*tenant));
                let w: ApiKeyWithSecret = self.send(self.req(Method::POST, &path)).await?;
                Ok(with_secret(w, SecretOrigin::Revealed))
            }
            Call::Dashboard => self
                .send(self.req(Method::GET, "/api/v1/dashboard"))
                .await
                .map(Reply::Dashboard),
            Call::ListLeads {
                tenant,
                q,
                filters,
                cursor,
            } => {
                let mut query = vec![("limit", LEADS_PAGE.to_string())];
                query.extend(leads_query(q, filters));
                if let Some(c) = cursor {
                    query.push(("cursor", c.clone()));
                }
                let path = format!("/api/v1/tenants/{tenant}/leads");
                self.send(self.req(Method::GET, &path).query(&query))
                    .await
                    .map(Reply::Leads)
            }
            Call::CreateLead { tenant, lead } => self
                .send::<LeadDetail>(
                    self.req(Method::POST, &format!("/api/v1/tenants/{tenant}/leads"))
                        .json(lead),
                )
                .await
                .map(|d| Reply::LeadAdded(Box::new(d))),
            Call::AddNote { lead, text } => self
                .send::<Note>(
                    self.req(Method::POST, &format!("/api/v1/leads/{lead}/notes"))
                        .json(&NewNote { text: text.clone() }),
                )
                .await
                .map(|note| Reply::NoteAdded { lead: *lead, note }),
            Call::ExportCsv {
                tenant,
                q,
                filters,
                path,
                overwrite,
            } => self.export_csv(*tenant, q, filters, path, *overwrite).await,
            Call::ListAudit {
                tenant,
                action,
                cursor,
            } => {
                let mut query = vec![("limit", AUDIT_PAGE.to_string())];
                if let Some(t) = tenant {
                    query.push(("tenant", t.to_string()));
                }
                if let Some(a) = action {
                    query.push(("action", a.as_str().to_string()));
                }
                if let Some(c) = cursor {
                    query.push(("cursor", c.clone()));
                }
                self.send(self.req(Method::GET, "/api/v1/audit").query(&query))
                    .await
                    .map(Reply::Audit)
            }
            Call::GetLead { lead } | Call::GetBreachLead { lead } => self
                .send::<LeadDetail>(self.req(Method::GET, &format!("/api/v1/leads/{lead}")))
                .await
                .map(|d| Reply::Lead(Box::new(d))),
            Call::DeleteLead { lead } => self
                .send_empty(self.req(Method::DELETE, &format!("/api/v1/leads/{lead}")))
                .await
                .map(|()| Reply::LeadErased { lead: *lead }),
            Call::PatchLead { lead, change } => {
                let body = lead_patch(change);
                self.send::<LeadDetail>(
                    self.req(Method::PATCH, &format!("/api/v1/leads/{lead}"))
                        .json(&body),
                )
                .await
                .map(|d| Reply::LeadSaved(Box::new(d)))
            }
            Call::ListBreaches { tenant } => {
                let path = match tenant {
                    Some(t) => format!("/api/v1/tenants/{t}/sla/breaches"),
                    None => "/api/v1/sla/breaches".to_string(),
                };
                self.send(
                    self.req(Method::GET, &path)
                        .query(&[("limit", PAGE_LIMIT.to_string())]),
                )
                .await
                .map(Reply::Breaches)
            }
            Call::GetAnalytics { tenant, from, .. } => {
                let path = format!("/api/v1/tenants/{tenant}/analytics");
                let from = from.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                self.send::<Analytics>(self.req(Method::GET, &path).query(&[("from", from)]))
                    .await
                    .map(|a| Reply::Analytics(Box::new(a)))
            }
            Call::GetPlatform => self
                .send::<PlatformSettings>(self.req(Method::GET, PLATFORM_PATH))
                .await
                .map(|p| Reply::Platform(Box::new(p))),
            Call::PatchPlatform { change } => self
                .send::<PlatformSettings>(
                    self.req(Method::PATCH, PLATFORM_PATH).json(&change.body()),
                )
                .await
                .map(|p| Reply::PlatformSaved(Box::new(p))),
            Call::ListAllLeads { tenants, q, cursor } => self
                .send(
                    self.req(Method::GET, "/api/v1/leads")
                        .query(&all_leads_query(tenants, q, cursor.as_deref())),
                )
                .await
                .map(Reply::AllLeads),
            Call::GetUsage { month } => self
                .send::<UsageReport>(
                    self.req(Method::GET, "/api/v1/usage")
                        .query(&[("month", month.to_string())]),
                )
                .await
                .map(|u| Reply::Usage(Box::new(u))),
            Call::GetLogs { level } => {
                let mut query = vec![("limit", LOG_HISTORY.to_string())];
                if let Some(l) = level {
                    query.push(("level", level_param(*l)));
                }
                self.send::<LogPage>(self.req(Method::GET, "/api/v1/system/logs").query(&query))
                    .await
                    .map(|p| Reply::Logs(p.data))
            }
            Call::CreateTenant { name, slug } => {
                let body = NewTenant {
                    name: name.clone(),
                    slug: slug.clone(),
                    active: None,
                    settings: None,
                };
                self.send::<Tenant>(self.req(Method::POST, "/api/v1/tenants").json(&body))
                    .await
                    .map(|t| Reply::TenantCreated(Box::new(t)))
            }
            Call::PatchTenant { tenant, change } => self
                .send::<Tenant>(
                    self.req(Method::PATCH, &format!("/api/v1/tenants/{tenant}"))
                        .json(&tenant_patch(change)),
                )
                .await
                .map(|t| Reply::TenantSaved(Box::new(t))),
            Call::DeleteTenant { tenant, purge } => {
                let mut r = self.req(Method::DELETE, &format!("/api/v1/tenants/{tenant}"));
                if *purge {
                    r = r.query(&[("purge", "true")]);
                }
                self.send_empty(r).await.map(|()| Reply::TenantDeleted)
            }
            Call::SetStageKind {
                tenant,
                stage,
                kind,
            } => {
                let path = format!("{}/{stage}", stages_path(*tenant));
                let body = StagePatch {
                    name: None,
                    kind: Some(*kind),
                };
                self.send::<Stage>(self.req(Method::PATCH, &path).json(&body))
                    .await
                    .map(Reply::StageKindSet)
            }
            Call::RecentLeads { tenant } => {
                let path = format!("/api/v1/tenants/{tenant}/leads");
                self.send(
                    self.req(Method::GET, &path)
                        .query(&[("limit", RECENT_LEADS.to_string())]),
                )
                .await
                .map(Reply::Leads)
            }
            Call::GetGlobalAnalytics { tenants, days } => self
                .send::<GlobalAnalytics>(
                    self.req(Method::GET, "/api/v1/analytics")
                        .query(&global_analytics_query(tenants, *days)),
                )
                .await
                .map(|a| Reply::GlobalAnalytics(Box::new(a))),
            Call::GetTenant { tenant } => self
                .send::<Tenant>(self.req(Method::GET, &format!("/api/v1/tenants/{tenant}")))
                .await
                .map(|t| Reply::Tenants(vec![t])),
            Call::Login { email, password } => self.login(email, password).await,
            Call::Logout => self.logout().await,
            Call::Me => self.me().await,
            Call::ListUsers { realm } => self.list_users(*realm).await,
            Call::ListAssignees { tenant } => {
                self.list_users(crate::app::effect::UserRealm::Tenant(*tenant))
                    .await
            }
            Call::CreateUser { realm, invite } => self.create_user(*realm, invite).await,
            Call::PatchUser {
                realm,
                user,
                change,
            } => self.patch_user(*realm, *user, change).await,
            Call::DeleteUser { realm, user } => self.delete_user(*realm, *user).await,
            Call::ListWebhooks { tenant } => self.list_webhooks(*tenant).await,
            Call::CreateWebhook { tenant, new } => self.create_webhook(*tenant, new).await,
            Call::PatchWebhook {
                tenant,
                webhook,
                patch,
            } => self.patch_webhook(*tenant, *webhook, patch).await,
            Call::DeleteWebhook { tenant, webhook } => self.delete_webhook(*tenant, *webhook).await,
            Call::RotateWebhookSecret { tenant, webhook } => {
                self.rotate_webhook_secret(*tenant, *webhook).await
            }
            Call::TestWebhook { tenant, webhook } => self.test_webhook(*tenant, *webhook).await,
            Call::GetNotifications { tenant } => self.get_notifications(*tenant).await,
            Call::TestNotification { tenant, channel } => {
                self.test_notification(*tenant, *channel).await
            }
            Call::PreviewNotification { tenant, event } => {
                self.preview_notification(*tenant, *event).await
            }
            Call::ListDeliveries {
                tenant,
                webhook,
                status,
                cursor,
            } => {
                self.list_deliveries(*tenant, *webhook, *status, cursor.as_deref())
                    .await
            }
            Call::RetryDelivery {
                tenant,
                webhook,
                message_id,
            } => self.retry_delivery(*tenant, *webhook, message_id).await,
            Call::RecoverWebhook {
                tenant,
                webhook,
                since,
            } => self.recover_webhook(*tenant, *webhook, *since).await,
            Call::ListIntegrations { tenant } => self.list_integrations(*tenant).await,
            Call::SyncMeta { tenant, since } => self.sync_meta(*tenant, *since).await,
            Call::ListPlans => self.list_plans().await,
            Call::CreatePlan { new } => self.create_plan(new).await,
            Call::PatchPlan { plan, patch } => self.patch_plan(*plan, patch).await,
            Call::DeletePlan { plan } => self.delete_plan(*plan).await,
            Call::RevokeKey { tenant, key } => {
                let path = format!("{}/{key}", keys_path(*tenant));
                self.send::<ApiKey>(self.req(Method::DELETE, &path))
                    .await
                    .map(Reply::KeyRevoked)
            }
        }
    }

    /// A call answered with no body (204).
    async fn send_empty(&self, req: RequestBuilder) -> Result<(), ApiError> {
        let resp = req
            .send()
            .await
            .map_err(|e| ApiError::Unreachable(root_cause(&e)))?;
        let status = resp.status();
        if status.is_success() {
            return Ok(());
        }
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| ApiError::Unreachable(root_cause(&e)))?;
        Err(ApiError::Http {
            status: status.as_u16(),
            detail: error_detail(status, &bytes),
        })
    }

    /// `GET .../leads.csv` into `path`: refused before any request when the file exists
    /// and `overwrite` is not set; the daemon's refusal before any file is made.
    async fn export_csv(
        &self,
        tenant: Uuid,
        q: &str,
        filters: &LeadFilters,
        path: &std::path::Path,
        overwrite: bool,
    ) -> Result<Reply, ApiError> {
        let path = export::expand_home(path);
        if !overwrite && export::exists(&path).await {
            return Ok(Reply::CsvExists { path });
        }
        // The event stream's client: an export of many leads may take longer than one
        // request's timeout.
        let url = format!("{}/api/v1/tenants/{tenant}/leads.csv", self.base);
        let mut resp = self
            .auth(self.stream_http.get(url))
            .query(&leads_query(q, filters))
            .send()
            .await
            .map_err(|e| ApiError::Unreachable(root_cause(&e)))?;
        let status = resp.status();
        if !status.is_success() {
            let bytes = resp.bytes().await.unwrap_or_default();
            return Err(ApiError::Http {
                status: status.as_u16(),
                detail: error_detail(status, &bytes),
            });
        }
        let mut file = export::CsvFile::create(&path)
            .await
            .map_err(ApiError::File)?;
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| ApiError::Unreachable(root_cause(&e)))?
        {
            file.write(&chunk).await.map_err(ApiError::File)?;
        }
        let bytes = file.finish().await.map_err(ApiError::File)?;
        Ok(Reply::CsvExported { path, bytes })
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

const PLATFORM_PATH: &str = "/api/v1/platform/settings";

/// The query of `GET /api/v1/leads`: `tenant` as one comma-separated list of slugs, left
/// out for every tenant.
pub fn all_leads_query(
    tenants: &[String],
    q: &str,
    cursor: Option<&str>,
) -> Vec<(&'static str, String)> {
    let mut query = vec![("limit", LEADS_PAGE.to_string())];
    if !tenants.is_empty() {
        query.push(("tenant", tenants.join(",")));
    }
    if !q.is_empty() {
        query.push(("q", q.to_string()));
    }
    if let Some(c) = cursor {
        query.push(("cursor", c.to_string()));
    }
    query
}

/// The query of `GET /api/v1/analytics`: `tenant` as one comma-separated list of slugs,
/// left out for every tenant.
pub fn global_analytics_query(tenants: &[String], days: u32) -> Vec<(&'static str, String)> {
    let mut query = vec![("days", days.to_string())];
    if !tenants.is_empty() {
        query.push(("tenant", tenants.join(",")));
    }
    query
}

/// The PATCH body for one change to a client: only that field is sent.
pub fn tenant_patch(change: &TenantChange) -> TenantPatch {
    let mut p = TenantPatch::default();
    match change {
        TenantChange::Name(n) => p.name = Some(n.clone()),
        TenantChange::Active(a) => p.active = Some(*a),
        TenantChange::Plan(plan) => p.plan_id = Some(*plan),
        TenantChange::StripeCustomer(c) => p.stripe_customer_id = Some(c.clone()),
    }
    p
}

fn stages_path(tenant: Uuid) -> String {
    format!("/api/v1/tenants/{tenant}/stages")
}

fn settings_path(tenant: Uuid) -> String {
    format!("/api/v1/tenants/{tenant}/settings")
}

fn keys_path(tenant: Uuid) -> String {
    format!("/api/v1/tenants/{tenant}/keys")
}

/// The wire type carries the key as a plain string; it is wrapped before it goes anywhere
/// a `Debug` could print it.
fn with_secret(w: ApiKeyWithSecret, origin: SecretOrigin) -> Reply {
    Reply::KeySecret {
        key: w.key,
        secret: Secret::new(w.secret),
        origin,
    }
}

fn secret_update<T: Clone + echo5_core::secret::Zeroize>(v: &Option<Secret<T>>) -> SecretUpdate<T> {
    match v {
        Some(s) => SecretUpdate::Set(s.clone()),
        None => SecretUpdate::Clear,
    }
}

/// The PATCH body for one lead change: only that field is sent.
pub fn lead_patch(change: &LeadChange) -> LeadPatch {
    let mut p = LeadPatch::default();
    match change {
        LeadChange::Stage(s) => p.stage_id = Some(*s),
        LeadChange::Assignee(a) => p.assigned_to = Some(*a),
        LeadChange::Spam(s) => p.is_spam = Some(*s),
    }
    p
}

/// The search and filters of a tenant's listing or export.
pub fn leads_query(q: &str, filters: &LeadFilters) -> Vec<(&'static str, String)> {
    let mut query = filters.query();
    if !q.is_empty() {
        query.push(("q", q.to_string()));
    }
    query
}

/// The PATCH body for one settings change: only that field is sent.
pub fn settings_body(change: &SettingsChange) -> SettingsPatch {
    let mut p = SettingsPatch::default();
    match change {
        SettingsChange::SlaHours(h) => p.sla_hours = Some(*h),
        SettingsChange::BusinessHours(b) => p.business_hours = Some(b.as_deref().cloned()),
        SettingsChange::SpamKeywords(k) => p.spam_keywords = Some(k.clone()),
        SettingsChange::ManagerEmail(e) => p.manager_email = Some(e.clone()),
        SettingsChange::DefaultCountry(c) => p.default_country = Some(c.clone()),
        SettingsChange::AutoAssign(a) => p.auto_assign = Some(a.as_str().to_string()),
        SettingsChange::MetaAccessToken(t) => p.meta_access_token = secret_update(t),
        SettingsChange::GoogleAds(g) => p.google_ads = secret_update(g),
    }
    p
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

/// The `?level=` value: core's parser takes any case, the console has always sent lower case.
fn level_param(level: LogLevel) -> String {
    level.as_str().to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use echo5_core::settings::GoogleAdsConfig;
    use serde_json::{Value, json};

    fn body(change: SettingsChange) -> Value {
        match serde_json::to_value(settings_body(&change)) {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn settings_bodies_match_the_patch_shape() {
        assert_eq!(body(SettingsChange::SlaHours(4)), json!({"sla_hours": 4}));
        assert_eq!(
            body(SettingsChange::BusinessHours(None)),
            json!({"business_hours": null}),
            "null clears business hours"
        );
        assert_eq!(
            body(SettingsChange::AutoAssign(
                echo5_core::assignment::AutoAssign::RoundRobin
            )),
            json!({"auto_assign": "round_robin"})
        );
        assert_eq!(
            body(SettingsChange::ManagerEmail(None)),
            json!({"manager_email": null})
        );
        assert_eq!(
            body(SettingsChange::SpamKeywords(vec!["casino".into()])),
            json!({"spam_keywords": ["casino"]})
        );
        let g = GoogleAdsConfig {
            customer_id: "123-456-7890".into(),
            conversion_action: "lead".into(),
            webhook_key: "k".repeat(16),
        };
        let b = body(SettingsChange::GoogleAds(Some(Secret::new(g))));
        assert_eq!(b["google_ads"]["customer_id"], "123-456-7890");
        assert_eq!(b.as_object().map(|o| o.len()), Some(1));
        assert_eq!(
            body(SettingsChange::MetaAccessToken(None)),
            json!({"meta_access_token": null})
        );
        let set = settings_body(&SettingsChange::MetaAccessToken(Some(Secret::new(
            "EAAGhidden".into(),
        ))));
        assert!(!format!("{set:?}").contains("hidden"));
    }

    #[test]
    fn key_requests_use_core_types() {
        let v = serde_json::to_value(RotateApiKey {
            grace_hours: Some(0),
            label: None,
        });
        assert_eq!(v.ok(), Some(json!({"grace_hours": 0})));
        let v = serde_json::to_value(NewApiKey { label: None });
        assert_eq!(v.ok(), Some(json!({})));
    }

    #[test]
    fn all_leads_query_joins_tenants_and_leaves_out_empties() {
        let q = all_leads_query(&["open-arms".into(), "caring-hearts".into()], "maria", None);
        assert_eq!(
            q,
            vec![
                ("limit", "50".to_string()),
                ("tenant", "open-arms,caring-hearts".to_string()),
                ("q", "maria".to_string()),
            ]
        );
        let q = all_leads_query(&[], "", Some("c1"));
        assert_eq!(
            q,
            vec![("limit", "50".to_string()), ("cursor", "c1".to_string())]
        );
    }

    #[test]
    fn client_bodies_and_the_global_analytics_query() {
        let v = serde_json::to_value(tenant_patch(&TenantChange::Active(false)));
        assert_eq!(v.ok(), Some(json!({"active": false})));
        let v = serde_json::to_value(tenant_patch(&TenantChange::Name("Open Arms".into())));
        assert_eq!(v.ok(), Some(json!({"name": "Open Arms"})));
        let plan = Uuid::from_u128(7);
        let v = serde_json::to_value(tenant_patch(&TenantChange::Plan(Some(plan))));
        assert_eq!(v.ok(), Some(json!({"plan_id": plan})));
        let v = serde_json::to_value(tenant_patch(&TenantChange::Plan(None)));
        assert_eq!(
            v.ok(),
            Some(json!({"plan_id": null})),
            "null takes the plan off"
        );
        let v = serde_json::to_value(tenant_patch(&TenantChange::StripeCustomer(None)));
        assert_eq!(v.ok(), Some(json!({"stripe_customer_id": null})));
        assert_eq!(
            global_analytics_query(&["a".into(), "b".into()], 7),
            vec![("days", "7".to_string()), ("tenant", "a,b".to_string())]
        );
        assert_eq!(
            global_analytics_query(&[], 30),
            vec![("days", "30".to_string())]
        );
    }

    #[test]
    fn a_lead_change_sends_only_its_field() {
        // The daemon refuses `null` for `stage_id` and `is_spam`: a body must not carry
        // the fields a change leaves alone.
        let body = |c: LeadChange| serde_json::to_value(lead_patch(&c)).ok();
        assert_eq!(
            body(LeadChange::Assignee(None)),
            Some(json!({"assigned_to": null}))
        );
        assert_eq!(
            body(LeadChange::Spam(false)),
            Some(json!({"is_spam": false}))
        );
        let stage = Uuid::from_u128(9);
        assert_eq!(
            body(LeadChange::Stage(stage)),
            Some(json!({"stage_id": stage}))
        );
    }

    #[test]
    fn log_levels_are_sent_in_lower_case() {
        assert_eq!(level_param(LogLevel::Warn), "warn");
    }

    #[test]
    fn non_json_errors_keep_the_status() {
        let d = error_detail(StatusCode::BAD_GATEWAY, b"<html>");
        assert_eq!(d.code, "http_502");
        assert_eq!(d.message, "bad gateway");
    }
}
