//! Leads from ad platforms, and where each platform stands for a tenant.
//!
//! The hooks carry no Echo5 credential: Google proves a delivery with the form's key in the
//! body (`google_key`, compared with the tenant's `google_ads.webhook_key`), Meta with a
//! signature over the raw body under the platform's Meta app secret. A refused proof is 401
//! and stores nothing; both are counted by the refused-credential throttle like a bad API
//! key. Accepted leads go through the same group-commit writer as website leads and are
//! answered only once durable.

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use echo5_core::ErrorBody;
use echo5_core::integrations::google::{self, WebhookLead};
use echo5_core::integrations::meta::{self, Notification};
use echo5_core::integrations::meta_graph::{self, MetaSync, MetaSyncQueued};
use echo5_core::integrations::{self, IntegrationSource, Integrations};
use echo5_core::leads::{IngestReceipt, Lead, new_lead_id};
use echo5_data::TenantKey;
use echo5_data::ingest::IngestStatus;
use echo5_data::integrations::AdLeadRequest;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::access::Authorized;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, query_pairs};
use crate::routes::ingest::{INGEST_BODY_LIMIT, read_at_most};
use crate::state::AppState;

/// Meta batches up to 1,000 changes in one notification (~150 bytes each).
pub const META_BODY_LIMIT: usize = 512 * 1024;

fn wrong_google_key() -> ApiError {
    ApiError::Unauthorized {
        code: "invalid_google_key",
        message: "google_key does not match this tenant's Google Ads webhook key \
                  (settings.google_ads.webhook_key); nothing was stored"
            .into(),
    }
}

/// Takes a Google Ads lead form's `WebhookLead`. The key is checked before anything is
/// stored; a `lead_id` already stored for the tenant answers 200 and stores nothing.
#[utoipa::path(post, path = "/api/v1/hooks/google/{tenant}", tag = "hooks",
    params(("tenant" = String, Path, description = "Tenant id (or slug, which costs a lookup): the URL entered as the form's webhook URL")),
    request_body(content = WebhookLead, description = "Google's WebhookLead JSON; google_key must be the tenant's Google Ads webhook key"),
    responses(
        (status = 200, description = "Stored (`created`, `duplicate` of a recent lead, `test`) or stored before (`already_stored`)", body = IngestReceipt),
        (status = 400, description = "Not JSON, or no lead_id", body = ErrorBody),
        (status = 401, description = "google_key missing or not the tenant's (`invalid_google_key`); also for an unknown tenant", body = ErrorBody),
        (status = 403, description = "The tenant is inactive (`tenant_inactive`)", body = ErrorBody),
        (status = 413, description = "Body over 64 KiB", body = ErrorBody),
        (status = 503, description = "Storage busy or unavailable; see Retry-After", body = ErrorBody)))]
pub async fn google_hook(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    req: Request,
) -> Response {
    let (parts, body) = req.into_parts();
    match google_lead(&state, &tenant, &parts.headers, body).await {
        Ok(receipt) => (StatusCode::OK, Json(receipt)).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn google_lead(
    state: &AppState,
    tenant: &str,
    headers: &HeaderMap,
    body: Body,
) -> Result<IngestReceipt, ApiError> {
    let bytes = read_at_most(headers, body, INGEST_BODY_LIMIT).await?;
    let mut doc: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad_request("invalid_body", format!("the body is not JSON: {e}")))?;
    let webhook = WebhookLead::deserialize(&doc).map_err(|e| {
        ApiError::bad_request(
            "invalid_body",
            format!("the body is not a WebhookLead: {e}"),
        )
    })?;
    // An unknown tenant is answered like a wrong key: the hook does not tell which tenants
    // exist. A tenant named by id goes straight to its cached profile (no read); a slug is
    // looked up first.
    let not_found = |e: &echo5_data::StoreError| {
        matches!(
            e,
            echo5_data::StoreError::Domain(echo5_core::DomainError::NotFound { .. })
        )
    };
    let tenant_id = match TenantKey::parse(tenant) {
        TenantKey::Id(id) => id,
        slug => match state.store.tenant_id(slug).await {
            Ok(id) => id,
            Err(e) if not_found(&e) => return Err(wrong_google_key()),
            Err(e) => return Err(e.into()),
        },
    };
    let profile = match state.store.ingest_profile(tenant_id).await {
        Ok(p) => p,
        Err(e) if not_found(&e) => return Err(wrong_google_key()),
        Err(e) => return Err(e.into()),
    };
    let Some(expected) = profile.google_webhook_key.as_ref() else {
        note_error(
            state,
            tenant_id,
            IntegrationSource::Google,
            "a lead form delivery was refused: the tenant has no Google Ads webhook key \
             (settings.google_ads)",
        )
        .await;
        return Err(wrong_google_key());
    };
    if !google::key_matches(webhook.google_key.as_deref(), expected.expose()) {
        note_error(
            state,
            tenant_id,
            IntegrationSource::Google,
            "a lead form delivery was refused: its google_key did not match the webhook key",
        )
        .await;
        return Err(wrong_google_key());
    }
    if !profile.active {
        return Err(ApiError::Forbidden {
            code: "tenant_inactive",
            message: "this tenant is inactive and takes no leads".into(),
        });
    }
    let ad = google::map_lead(&webhook).map_err(|e| ApiError::BadRequest {
        code: "invalid_lead",
        message: e.to_string(),
        field: Some("lead_id".into()),
    })?;
    // The key is a secret: the body is kept without it (not byte for byte, unlike website
    // leads, whose keys never travel in the body).
    if let Some(o) = doc.as_object_mut() {
        o.remove("google_key");
    }
    let raw = serde_json::to_vec(&doc).unwrap_or_default();
    let now = state.store.now();
    let mut lead = Lead::blank(new_lead_id(now), tenant_id, Uuid::nil(), now);
    ad.fields.fill(&mut lead);
    lead.phone = lead
        .phone
        .map(|p| echo5_core::phone::to_e164(&p, profile.home_country));
    lead.external_id = Some(ad.external_id);
    lead.is_test = ad.is_test;
    let outcome = state
        .store
        .ingest_ad_lead(AdLeadRequest {
            tenant_id,
            source: IntegrationSource::Google,
            lead,
            raw,
            content_type: "application/json".into(),
        })
        .await?;
    tracing::debug!(lead = %outcome.id, tenant = %tenant_id, created = outcome.created, test = outcome.is_test, "google lead");
    if let Some(change) = outcome.change(&profile.tenant, IntegrationSource::Google) {
        state.events.publish(change);
    }
    let status = if !outcome.created {
        "already_stored"
    } else if outcome.is_test {
        "test"
    } else if outcome.status == IngestStatus::Duplicate {
        "duplicate"
    } else {
        "created"
    };
    Ok(IngestReceipt {
        id: outcome.id,
        status: status.into(),
    })
}

/// Records an integration's error for the operator; a failure to record is logged, never
/// the caller's problem.
async fn note_error(state: &AppState, tenant: Uuid, source: IntegrationSource, message: &str) {
    if let Err(e) = state
        .store
        .note_integration_error(tenant, source, message.to_string())
        .await
    {
        tracing::warn!(error = %e, tenant = %tenant, source = source.as_str(), "could not record an integration error");
    }
}

/// Meta's webhook verification: with `hub.mode=subscribe` and `hub.verify_token` equal to
/// the platform's `meta_verify_token`, the `hub.challenge` comes back as plain text.
#[utoipa::path(get, path = "/api/v1/hooks/meta", tag = "hooks",
    params(
        ("hub.mode" = Option<String>, Query, description = "`subscribe`"),
        ("hub.verify_token" = Option<String>, Query, description = "The platform's meta_verify_token"),
        ("hub.challenge" = Option<String>, Query, description = "Echoed back when the token matches")),
    responses(
        (status = 200, description = "The challenge, as text/plain", body = String, content_type = "text/plain"),
        (status = 403, description = "Wrong mode or token, or no meta_verify_token set (`forbidden`)", body = ErrorBody)))]
pub async fn meta_handshake(State(state): State<AppState>, req: Request) -> Response {
    let pairs = query_pairs(req.uri().query().unwrap_or(""));
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let expected = match state.store.platform_settings().await {
        Ok(s) => s.meta_verify_token.clone(),
        Err(e) => return ApiError::from(e).into_response(),
    };
    match meta::handshake(
        get("hub.mode"),
        get("hub.verify_token"),
        get("hub.challenge"),
        expected.as_deref(),
    ) {
        Some(challenge) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            challenge.to_string(),
        )
            .into_response(),
        None => {
            tracing::info!("meta webhook verification refused");
            ApiError::Forbidden {
                code: "forbidden",
                message: "verification refused: hub.mode must be subscribe and hub.verify_token \
                          the platform's meta_verify_token"
                    .into(),
            }
            .into_response()
        }
    }
}

/// What a Meta notification was turned into.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MetaReceipt {
    /// `leadgen` changes in the notification.
    pub leads: usize,
    /// Of those, on a page a tenant holds.
    pub routed: usize,
    /// Of those, on a page no tenant holds (logged, nothing stored).
    pub unknown_pages: usize,
}

fn bad_signature() -> ApiError {
    ApiError::Unauthorized {
        code: "invalid_signature",
        message: "X-Hub-Signature-256 is missing or is not the signature of this body under \
                  the platform's Meta app secret; nothing was stored"
            .into(),
    }
}

/// Meta's lead notifications (`page` object, `leadgen` field), signed with the app secret.
/// Each change is routed to the tenant holding its page; an unknown page is logged and
/// answered 200 like the rest, so Meta does not retry it for 36 hours.
#[utoipa::path(post, path = "/api/v1/hooks/meta", tag = "hooks",
    params(("X-Hub-Signature-256" = String, Header, description = "sha256=<hex HMAC-SHA256(app secret, raw body)>")),
    request_body(content = Notification, description = "Meta's page notification"),
    responses(
        (status = 200, description = "Accepted", body = MetaReceipt),
        (status = 400, description = "A correctly signed body that is not a notification", body = ErrorBody),
        (status = 401, description = "Missing or wrong signature, or no Meta app secret set (`invalid_signature`)", body = ErrorBody),
        (status = 413, description = "Body over 512 KiB", body = ErrorBody),
        (status = 503, description = "Storage busy or unavailable; see Retry-After", body = ErrorBody)))]
pub async fn meta_hook(State(state): State<AppState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    match meta_notification(&state, &parts.headers, body).await {
        Ok(r) => (StatusCode::OK, Json(r)).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn meta_notification(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<MetaReceipt, ApiError> {
    let bytes: Bytes = read_at_most(headers, body, META_BODY_LIMIT).await?;
    let signature = headers
        .get(meta::SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok());
    let Some(secret) = state.store.meta_app_secret().await? else {
        tracing::warn!("meta notification refused: no meta_app_secret is set");
        return Err(bad_signature());
    };
    // Over the bytes as received, before any parsing.
    if !meta::signature_valid(secret.expose().as_bytes(), &bytes, signature) {
        return Err(bad_signature());
    }
    let n: Notification = serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::bad_request(
            "invalid_body",
            format!("the body is not a notification: {e}"),
        )
    })?;
    let leads = meta::leadgens(&n);
    let mut receipt = MetaReceipt {
        leads: leads.len(),
        routed: 0,
        unknown_pages: 0,
    };
    let mut routed = Vec::new();
    for lg in leads {
        match state.store.tenant_of_meta_page(lg.page_id.clone()).await? {
            Some(tenant) => {
                receipt.routed += 1;
                routed.push((tenant, lg));
            }
            None => {
                receipt.unknown_pages += 1;
                // Ids only (digits and id characters: `leadgens` keeps nothing else), never
                // the body.
                tracing::info!(page = %lg.page_id, leadgen = %lg.leadgen_id, "meta lead for a page no tenant holds; nothing stored");
            }
        }
    }
    // One transaction for the notification: each lead's fetch is queued (once per tenant
    // and leadgen id, however often Meta repeats it) before Meta hears 200, and the outbox
    // worker fetches and stores it.
    let queued = state.store.record_meta_notification(routed).await?;
    tracing::debug!(
        leads = receipt.leads,
        routed = receipt.routed,
        queued,
        "meta notification"
    );
    Ok(receipt)
}

/// Per source (google, meta): its state, when its last lead was stored, its last error, and
/// the settings it still needs.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/integrations", tag = "settings",
    params(("tenant" = String, Path, description = "Tenant id or slug")),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "One entry per source", body = Integrations),
        (status = 401, description = "Missing or invalid credential", body = ErrorBody),
        (status = 403, description = "Not allowed to read the tenant's settings", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody)))]
pub async fn get_integrations(
    State(state): State<AppState>,
    _auth: Authorized,
    Path(tenant): Path<String>,
) -> ApiResult<Json<Integrations>> {
    let id = state.store.tenant_id(TenantKey::parse(&tenant)).await?;
    let data = state
        .store
        .integration_activity(id)
        .await?
        .into_iter()
        .map(|(source, activity, missing)| integrations::integration(source, missing, activity))
        .collect();
    Ok(Json(Integrations { data }))
}

/// Reads Meta leads again: every lead created after `since` on the forms the tenant's
/// notifications have named, page by page, through the outbox (retried on the schedule;
/// parked with the tenant's other fetches while Meta refuses its token). A lead already
/// stored (by the webhook or an earlier sync) is not stored again.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/integrations/meta/sync", tag = "settings",
    request_body = MetaSync,
    params(("tenant" = String, Path, description = "Tenant id or slug")),
    security(("admin_token" = [])),
    responses(
        (status = 202, description = "How many forms are read", body = MetaSyncQueued),
        (status = 400, description = "Unreadable body or unknown field", body = ErrorBody),
        (status = 401, description = "Missing or invalid credential", body = ErrorBody),
        (status = 403, description = "Not allowed to manage the tenant's settings", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
        (status = 409, description = "The tenant has no Meta access token (`meta_not_configured`)", body = ErrorBody),
        (status = 422, description = "since is in the future (`invalid_since`)", body = ErrorBody)))]
pub async fn sync_meta(
    State(state): State<AppState>,
    _auth: Authorized,
    Path(tenant): Path<String>,
    ApiJson(body): ApiJson<MetaSync>,
) -> ApiResult<(StatusCode, Json<MetaSyncQueued>)> {
    let id = state.store.tenant_id(TenantKey::parse(&tenant)).await?;
    meta_graph::check_since(body.since, state.store.now())?;
    if state.store.meta_access_token(id).await?.is_none() {
        return Err(echo5_core::DomainError::conflict_on(
            "settings.meta_access_token",
            "meta_not_configured",
            "the tenant has no Meta access token (settings.meta_access_token); set one first",
        )
        .into());
    }
    let forms = state.store.queue_meta_sync(id, body.since).await?;
    Ok((StatusCode::ACCEPTED, Json(MetaSyncQueued { forms })))
}
