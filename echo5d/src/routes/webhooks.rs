//! Outgoing webhook endpoints of a tenant and their delivery log. The secret appears only
//! in the create and rotate answers, which are marked `Cache-Control: no-store`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use echo5_core::ErrorBody;
use echo5_core::page::{List, Page};
use echo5_core::webhooks::{
    Delivery, DeliveryStatus, NewWebhook, Recover, Recovered, Webhook, WebhookPatch,
    WebhookWithSecret,
};
use echo5_data::TenantKey;
use serde::Deserialize;

use crate::access::Authorized;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiQuery, path_id};
use crate::outbound::UrlRefused;
use crate::state::AppState;

fn no_store(status: StatusCode, body: impl serde::Serialize) -> Response {
    let mut resp = (status, Json(body)).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// The address rule, before anything is stored: 400 `url_forbidden` naming the address
/// refused, or `url_unresolvable`.
async fn check_url(state: &AppState, url: &str) -> Result<(), ApiError> {
    state
        .outbound
        .check_url(url)
        .await
        .map_err(|e| ApiError::BadRequest {
            code: match e {
                UrlRefused::Forbidden { .. } => "url_forbidden",
                UrlRefused::Unresolvable { .. } => "url_unresolvable",
                UrlRefused::Invalid(_) => "invalid_url",
            },
            message: e.to_string(),
            field: Some("url".into()),
        })
}

/// A tenant's endpoints, newest first; never their secrets.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/webhooks", tag = "webhooks",
    params(("tenant" = String, Path, description = "Tenant id or slug")),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The endpoints", body = List<Webhook>),
        (status = 401, description = "Missing or invalid credential", body = ErrorBody),
        (status = 403, description = "Not allowed to manage this tenant's webhooks", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody)))]
pub async fn list_webhooks(
    State(state): State<AppState>,
    _auth: Authorized,
    Path(tenant): Path<String>,
) -> ApiResult<Json<List<Webhook>>> {
    Ok(Json(
        state.store.list_webhooks(TenantKey::parse(&tenant)).await?,
    ))
}

/// Adds an endpoint. The answer carries its signing secret, shown this once.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/webhooks", tag = "webhooks",
    request_body = NewWebhook,
    params(("tenant" = String, Path, description = "Tenant id or slug")),
    security(("admin_token" = [])),
    responses(
        (status = 201, description = "Created; `secret` signs every message", body = WebhookWithSecret),
        (status = 400, description = "Unreadable body, or a URL whose host is refused (`url_forbidden`) or does not resolve", body = ErrorBody),
        (status = 401, description = "Missing or invalid credential", body = ErrorBody),
        (status = 403, description = "Not allowed to manage this tenant's webhooks", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
        (status = 422, description = "Bad URL, event type or description", body = ErrorBody)))]
pub async fn create_webhook(
    State(state): State<AppState>,
    auth: Authorized,
    Path(tenant): Path<String>,
    ApiJson(new): ApiJson<NewWebhook>,
) -> ApiResult<Response> {
    new.validate()?;
    let tenant = TenantKey::parse(&tenant);
    // An unknown tenant is 404 before any name is looked up.
    state.store.tenant_id(tenant.clone()).await?;
    check_url(&state, &new.url).await?;
    let created = state
        .store
        .create_webhook(auth.actor(), tenant, new)
        .await?;
    tracing::info!(webhook = %created.webhook.id, tenant = %created.webhook.tenant_id, "webhook endpoint created");
    Ok(no_store(StatusCode::CREATED, created))
}

/// One endpoint.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/webhooks/{webhook_id}", tag = "webhooks",
    params(("tenant" = String, Path, description = "Tenant id or slug"),
           ("webhook_id" = String, Path, description = "Endpoint id")),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The endpoint", body = Webhook),
        (status = 401, description = "Missing or invalid credential", body = ErrorBody),
        (status = 403, description = "Not allowed to manage this tenant's webhooks", body = ErrorBody),
        (status = 404, description = "No such tenant or endpoint", body = ErrorBody)))]
pub async fn get_webhook(
    State(state): State<AppState>,
    _auth: Authorized,
    Path((tenant, id)): Path<(String, String)>,
) -> ApiResult<Json<Webhook>> {
    let id = path_id(&id, "webhook")?;
    Ok(Json(
        state
            .store
            .get_webhook(TenantKey::parse(&tenant), id)
            .await?,
    ))
}

/// Changes an endpoint: its URL (checked like a new one), events, description, or
/// `active` (false pauses; true resumes, also after the daemon disabled it).
#[utoipa::path(patch, path = "/api/v1/tenants/{tenant}/webhooks/{webhook_id}", tag = "webhooks",
    request_body = WebhookPatch,
    params(("tenant" = String, Path, description = "Tenant id or slug"),
           ("webhook_id" = String, Path, description = "Endpoint id")),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The endpoint as changed", body = Webhook),
        (status = 400, description = "Unreadable body, or a URL whose host is refused (`url_forbidden`) or does not resolve", body = ErrorBody),
        (status = 401, description = "Missing or invalid credential", body = ErrorBody),
        (status = 403, description = "Not allowed to manage this tenant's webhooks", body = ErrorBody),
        (status = 404, description = "No such tenant or endpoint", body = ErrorBody),
        (status = 422, description = "Bad URL, event type or description", body = ErrorBody)))]
pub async fn patch_webhook(
    State(state): State<AppState>,
    auth: Authorized,
    Path((tenant, id)): Path<(String, String)>,
    ApiJson(patch): ApiJson<WebhookPatch>,
) -> ApiResult<Json<Webhook>> {
    let id = path_id(&id, "webhook")?;
    patch.validate()?;
    let tenant = TenantKey::parse(&tenant);
    state.store.get_webhook(tenant.clone(), id).await?;
    if let Some(url) = &patch.url {
        check_url(&state, url).await?;
    }
    Ok(Json(
        state
            .store
            .patch_webhook(auth.actor(), tenant, id, patch)
            .await?,
    ))
}

/// Deletes an endpoint with its delivery log.
#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/webhooks/{webhook_id}", tag = "webhooks",
    params(("tenant" = String, Path, description = "Tenant id or slug"),
           ("webhook_id" = String, Path, description = "Endpoint id")),
    security(("admin_token" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Missing or invalid credential", body = ErrorBody),
        (status = 403, description = "Not allowed to manage this tenant's webhooks", body = ErrorBody),
        (status = 404, description = "No such tenant or endpoint", body = ErrorBody)))]
pub async fn delete_webhook(
    State(state): State<AppState>,
    auth: Authorized,
    Path((tenant, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let id = path_id(&id, "webhook")?;
    state
        .store
        .delete_webhook(auth.actor(), TenantKey::parse(&tenant), id)
        .await?;
    tracing::info!(webhook = %id, "webhook endpoint deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// A new signing secret, shown this once; the previous one keeps signing beside it for 24 h
/// (two signatures in `webhook-signature`), so the receiver can be updated in between.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/webhooks/{webhook_id}/rotate-secret", tag = "webhooks",
    params(("tenant" = String, Path, description = "Tenant id or slug"),
           ("webhook_id" = String, Path, description = "Endpoint id")),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The endpoint with its new `secret`", body = WebhookWithSecret),
        (status = 401, description = "Missing or invalid credential", body = ErrorBody),
        (status = 403, description = "Not allowed to manage this tenant's webhooks", body = ErrorBody),
        (status = 404, description = "No such tenant or endpoint", body = ErrorBody)))]
pub async fn rotate_secret(
    State(state): State<AppState>,
    auth: Authorized,
    Path((tenant, id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let id = path_id(&id, "webhook")?;
    let rotated = state
        .store
        .rotate_webhook_secret(auth.actor(), TenantKey::parse(&tenant), id)
        .await?;
    tracing::info!(webhook = %id, "webhook secret rotated");
    Ok(no_store(StatusCode::OK, rotated))
}

/// Queues a `webhook.test` message to this endpoint alone.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/webhooks/{webhook_id}/test", tag = "webhooks",
    params(("tenant" = String, Path, description = "Tenant id or slug"),
           ("webhook_id" = String, Path, description = "Endpoint id")),
    security(("admin_token" = [])),
    responses(
        (status = 202, description = "Queued; its delivery, pending", body = Delivery),
        (status = 401, description = "Missing or invalid credential", body = ErrorBody),
        (status = 403, description = "Not allowed to manage this tenant's webhooks", body = ErrorBody),
        (status = 404, description = "No such tenant or endpoint", body = ErrorBody)))]
pub async fn test_webhook(
    State(state): State<AppState>,
    _auth: Authorized,
    Path((tenant, id)): Path<(String, String)>,
) -> ApiResult<(StatusCode, Json<Delivery>)> {
    let id = path_id(&id, "webhook")?;
    let d = state
        .store
        .test_webhook(TenantKey::parse(&tenant), id)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(d)))
}

/// `?status=&limit=&cursor=` of the delivery log.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeliveryParams {
    /// Only deliveries in this state.
    pub status: Option<DeliveryStatus>,
    /// 1..=200, default 50.
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The messages sent (or to be sent) to this endpoint, newest first, each with its
/// attempts.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/webhooks/{webhook_id}/deliveries", tag = "webhooks",
    params(("tenant" = String, Path, description = "Tenant id or slug"),
           ("webhook_id" = String, Path, description = "Endpoint id"), DeliveryParams),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "A page of deliveries", body = Page<Delivery>),
        (status = 400, description = "Unknown query parameter or status", body = ErrorBody),
        (status = 401, description = "Missing or invalid credential", body = ErrorBody),
        (status = 403, description = "Not allowed to manage this tenant's webhooks", body = ErrorBody),
        (status = 404, description = "No such tenant or endpoint", body = ErrorBody),
        (status = 422, description = "Bad limit or cursor", body = ErrorBody)))]
pub async fn list_deliveries(
    State(state): State<AppState>,
    _auth: Authorized,
    Path((tenant, id)): Path<(String, String)>,
    ApiQuery(p): ApiQuery<DeliveryParams>,
) -> ApiResult<Json<Page<Delivery>>> {
    let id = path_id(&id, "webhook")?;
    Ok(Json(
        state
            .store
            .list_deliveries(TenantKey::parse(&tenant), id, p.status, p.limit, p.cursor)
            .await?,
    ))
}

/// Sends one message to this endpoint again, now.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/webhooks/{webhook_id}/deliveries/{message_id}/retry", tag = "webhooks",
    params(("tenant" = String, Path, description = "Tenant id or slug"),
           ("webhook_id" = String, Path, description = "Endpoint id"),
           ("message_id" = String, Path, description = "The message's `webhook-id`")),
    security(("admin_token" = [])),
    responses(
        (status = 202, description = "Queued; the delivery, pending", body = Delivery),
        (status = 401, description = "Missing or invalid credential", body = ErrorBody),
        (status = 403, description = "Not allowed to manage this tenant's webhooks", body = ErrorBody),
        (status = 404, description = "No such tenant, endpoint or delivery", body = ErrorBody)))]
pub async fn retry_delivery(
    State(state): State<AppState>,
    _auth: Authorized,
    Path((tenant, id, message)): Path<(String, String, String)>,
) -> ApiResult<(StatusCode, Json<Delivery>)> {
    let id = path_id(&id, "webhook")?;
    let d = state
        .store
        .retry_delivery(TenantKey::parse(&tenant), id, message)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(d)))
}

/// Sends again every failed message since `since` to this endpoint.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/webhooks/{webhook_id}/recover", tag = "webhooks",
    request_body = Recover,
    params(("tenant" = String, Path, description = "Tenant id or slug"),
           ("webhook_id" = String, Path, description = "Endpoint id")),
    security(("admin_token" = [])),
    responses(
        (status = 202, description = "How many deliveries were queued again", body = Recovered),
        (status = 400, description = "Unreadable body or unknown field", body = ErrorBody),
        (status = 401, description = "Missing or invalid credential", body = ErrorBody),
        (status = 403, description = "Not allowed to manage this tenant's webhooks", body = ErrorBody),
        (status = 404, description = "No such tenant or endpoint", body = ErrorBody)))]
pub async fn recover(
    State(state): State<AppState>,
    _auth: Authorized,
    Path((tenant, id)): Path<(String, String)>,
    ApiJson(body): ApiJson<Recover>,
) -> ApiResult<(StatusCode, Json<Recovered>)> {
    let id = path_id(&id, "webhook")?;
    let r = state
        .store
        .recover_deliveries(TenantKey::parse(&tenant), id, body.since)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(r)))
}
