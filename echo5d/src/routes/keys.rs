//! Per-tenant API keys: the full key appears only in the create, rotate and reveal answers,
//! which are marked `Cache-Control: no-store`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use echo5_core::ErrorBody;
use echo5_core::keys::{ApiKey, ApiKeyWithSecret, KeyInfo, NewApiKey, RotateApiKey, RotatedApiKey};
use echo5_core::page::List;
use echo5_core::tenants::TenantRef;
use echo5_data::TenantKey;

use crate::access::Authorized;
use crate::error::ApiResult;
use crate::extract::{ApiJsonOrDefault, IngestKey, path_id};
use crate::state::AppState;

/// A response holding a secret: never cached by a proxy or browser.
fn no_store(status: StatusCode, body: impl serde::Serialize) -> Response {
    let mut resp = (status, Json(body)).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// A tenant's keys, newest first; never the keys themselves.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/keys", tag = "keys",
    params(("tenant" = String, Path, description = "Tenant id or slug")),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The keys", body = List<ApiKey>),
        (status = 401, description = "Missing or invalid admin token", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody)))]
pub async fn list_keys(
    State(state): State<AppState>,
    _auth: Authorized,
    Path(tenant): Path<String>,
) -> ApiResult<Json<List<ApiKey>>> {
    let data = state.store.list_keys(TenantKey::parse(&tenant)).await?;
    Ok(Json(List { data }))
}

/// Creates a key. The answer is the only time the full key is shown (besides reveal).
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/keys", tag = "keys",
    request_body(content = Option<NewApiKey>, description = "Optional: no body means the defaults"),
    params(("tenant" = String, Path, description = "Tenant id or slug")),
    security(("admin_token" = [])),
    responses(
        (status = 402, description = "The tenant's plan allows no more (`plan_limit_reached`, naming the limit, its value and the use)", body = ErrorBody),
        (status = 201, description = "Created; `secret` is the key", body = ApiKeyWithSecret),
        (status = 400, description = "Unreadable body or unknown field", body = ErrorBody),
        (status = 401, description = "Missing or invalid admin token", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
        (status = 422, description = "Bad label", body = ErrorBody)))]
pub async fn create_key(
    State(state): State<AppState>,
    auth: Authorized,
    Path(tenant): Path<String>,
    ApiJsonOrDefault(new): ApiJsonOrDefault<NewApiKey>,
) -> ApiResult<Response> {
    let created = state
        .store
        .create_key(auth.actor(), TenantKey::parse(&tenant), new.label)
        .await?;
    let created = state.events.publish_all(created);
    tracing::info!(key = %created.key.prefix, "api key created");
    Ok(no_store(StatusCode::CREATED, created))
}

/// Issues a new key now; the old one keeps working for `grace_hours` (default: the platform's
/// `default_grace_hours`, 24 unless changed; 0 = stops at once) so the site can be updated.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/keys/{key_id}/rotate", tag = "keys",
    request_body(content = Option<RotateApiKey>, description = "Optional: no body means the defaults"),
    params(("tenant" = String, Path, description = "Tenant id or slug"),
           ("key_id" = String, Path, description = "Key id")),
    security(("admin_token" = [])),
    responses(
        (status = 201, description = "The new key (shown once) and the old one with its expiry", body = RotatedApiKey),
        (status = 400, description = "Unreadable body or unknown field", body = ErrorBody),
        (status = 401, description = "Missing or invalid admin token", body = ErrorBody),
        (status = 404, description = "No such tenant or key", body = ErrorBody),
        (status = 409, description = "The key is revoked or expired", body = ErrorBody),
        (status = 422, description = "grace_hours out of range", body = ErrorBody)))]
pub async fn rotate_key(
    State(state): State<AppState>,
    auth: Authorized,
    Path((tenant, key)): Path<(String, String)>,
    ApiJsonOrDefault(opts): ApiJsonOrDefault<RotateApiKey>,
) -> ApiResult<Response> {
    let rotated = state
        .store
        .rotate_key(
            auth.actor(),
            TenantKey::parse(&tenant),
            path_id(&key, "key")?,
            match opts.grace_hours {
                Some(h) => h,
                // Left out: the platform's default grace.
                None => state.store.platform_settings().await?.default_grace_hours,
            },
            opts.label,
        )
        .await?;
    let rotated = state.events.publish_all(rotated);
    tracing::info!(old = %rotated.old_key.prefix, new = %rotated.new_key.key.prefix, "api key rotated");
    Ok(no_store(StatusCode::CREATED, rotated))
}

/// Shows a key again (for an operator who lost it). Audited.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/keys/{key_id}/reveal", tag = "keys",
    params(("tenant" = String, Path, description = "Tenant id or slug"),
           ("key_id" = String, Path, description = "Key id")),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The key with its `secret`", body = ApiKeyWithSecret),
        (status = 401, description = "Missing or invalid admin token", body = ErrorBody),
        (status = 404, description = "No such tenant or key", body = ErrorBody),
        (status = 409, description = "The key is revoked or expired", body = ErrorBody)))]
pub async fn reveal_key(
    State(state): State<AppState>,
    auth: Authorized,
    Path((tenant, key)): Path<(String, String)>,
) -> ApiResult<Response> {
    let revealed = state
        .store
        .reveal_key(
            auth.actor(),
            TenantKey::parse(&tenant),
            path_id(&key, "key")?,
        )
        .await?;
    tracing::info!(key = %revealed.key.prefix, "api key revealed");
    Ok(no_store(StatusCode::OK, revealed))
}

/// Revokes a key: it stops working at once. Revoking again changes nothing.
#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/keys/{key_id}", tag = "keys",
    params(("tenant" = String, Path, description = "Tenant id or slug"),
           ("key_id" = String, Path, description = "Key id")),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The revoked key", body = ApiKey),
        (status = 401, description = "Missing or invalid admin token", body = ErrorBody),
        (status = 404, description = "No such tenant or key", body = ErrorBody)))]
pub async fn revoke_key(
    State(state): State<AppState>,
    auth: Authorized,
    Path((tenant, key)): Path<(String, String)>,
) -> ApiResult<Json<ApiKey>> {
    let revoked = state
        .store
        .revoke_key(
            auth.actor(),
            TenantKey::parse(&tenant),
            path_id(&key, "key")?,
        )
        .await?;
    let revoked = state.events.publish_all(revoked);
    tracing::info!(key = %revoked.prefix, "api key revoked");
    Ok(Json(revoked))
}

/// Which tenant the presented API key belongs to: a site's "test connection".
#[utoipa::path(get, path = "/api/v1/key", tag = "keys",
    params(("api_key" = Option<String>, Query, description = "The key, when it cannot go in a header")),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "The key's tenant", body = KeyInfo),
        (status = 401, description = "Missing, unknown, revoked or expired key", body = ErrorBody),
        (status = 403, description = "The key's tenant is inactive (`tenant_inactive`)", body = ErrorBody)))]
pub async fn whoami(
    State(state): State<AppState>,
    IngestKey(id): IngestKey,
) -> ApiResult<Json<KeyInfo>> {
    let t = state.store.get_tenant(TenantKey::Id(id.tenant_id)).await?;
    Ok(Json(KeyInfo {
        key_id: id.key_id,
        tenant: TenantRef::from(&t),
    }))
}
