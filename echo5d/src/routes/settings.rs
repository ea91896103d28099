use axum::Json;
use axum::extract::{Path, State};
use echo5_core::ErrorBody;
use echo5_core::audit::AuditAction;
use echo5_core::settings::{SettingsInput, SettingsPatch, TenantSettings};
use echo5_core::tenants::TenantFields;
use echo5_data::TenantKey;

use crate::access::Authorized;
use crate::error::ApiResult;
use crate::extract::ApiJson;
use crate::state::AppState;

/// The tenant's fields with new settings; everything else as it was.
fn with_settings(cur: &TenantFields, settings: echo5_core::settings::Settings) -> TenantFields {
    TenantFields {
        settings,
        ..cur.clone()
    }
}

/// A tenant's settings; secrets masked.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/settings", tag = "settings",
    params(("tenant" = String, Path, description = "Tenant id or slug")),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The settings", body = TenantSettings),
        (status = 401, description = "Missing or invalid admin token", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody)))]
pub async fn get_settings(
    State(state): State<AppState>,
    _auth: Authorized,
    Path(tenant): Path<String>,
) -> ApiResult<Json<TenantSettings>> {
    Ok(Json(
        state
            .store
            .get_tenant(TenantKey::parse(&tenant))
            .await?
            .settings,
    ))
}

/// Replaces the settings: fields left out take their defaults, secrets left out are kept.
#[utoipa::path(put, path = "/api/v1/tenants/{tenant}/settings", tag = "settings",
    request_body = SettingsInput,
    params(("tenant" = String, Path, description = "Tenant id or slug")),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The settings after the change", body = TenantSettings),
        (status = 400, description = "Unreadable body or unknown field", body = ErrorBody),
        (status = 401, description = "Missing or invalid admin token", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
        (status = 422, description = "A value breaks a rule", body = ErrorBody)))]
pub async fn put_settings(
    State(state): State<AppState>,
    auth: Authorized,
    Path(tenant): Path<String>,
    ApiJson(input): ApiJson<SettingsInput>,
) -> ApiResult<Json<TenantSettings>> {
    let (settings, secrets) = echo5_core::settings::settings_from_input(&input)?;
    let t = state
        .store
        .update_tenant(
            auth.actor(),
            TenantKey::parse(&tenant),
            AuditAction::SettingsReplaced,
            move |cur: &TenantFields| Ok((with_settings(cur, settings), secrets)),
        )
        .await?;
    Ok(Json(state.events.publish_all(t).settings))
}

/// Changes any subset of the settings.
#[utoipa::path(patch, path = "/api/v1/tenants/{tenant}/settings", tag = "settings",
    request_body = SettingsPatch,
    params(("tenant" = String, Path, description = "Tenant id or slug")),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The settings after the change", body = TenantSettings),
        (status = 400, description = "Unreadable body or unknown field", body = ErrorBody),
        (status = 401, description = "Missing or invalid admin token", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
        (status = 422, description = "A value breaks a rule", body = ErrorBody)))]
pub async fn patch_settings(
    State(state): State<AppState>,
    auth: Authorized,
    Path(tenant): Path<String>,
    ApiJson(patch): ApiJson<SettingsPatch>,
) -> ApiResult<Json<TenantSettings>> {
    let t = state
        .store
        .update_tenant(
            auth.actor(),
            TenantKey::parse(&tenant),
            AuditAction::SettingsUpdated,
            move |cur: &TenantFields| {
                let (settings, secrets) =
                    echo5_core::settings::apply_settings_patch(&cur.settings, &patch)?;
                Ok((with_settings(cur, settings), secrets))
            },
        )
        .await?;
    Ok(Json(state.events.publish_all(t).settings))
}
