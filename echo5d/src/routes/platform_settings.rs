//! The platform settings: defaults for new tenants, the honeypot names, who runs the
//! platform.

use axum::Json;
use axum::extract::State;
use echo5_core::ErrorBody;
use echo5_core::audit::AuditAction;
use echo5_core::events::{Change, Changed};
use echo5_core::platform_settings::{self, PlatformSettings, PlatformSettingsPatch};
use echo5_core::secret::SecretUpdate;
use echo5_data::platform_settings::PlatformSecrets;

use crate::access::Authorized;
use crate::error::ApiResult;
use crate::extract::ApiJson;
use crate::state::AppState;

/// The names of the fields a platform settings write changed, for the log line.
fn changed_fields(changed: &Changed<PlatformSettings>) -> Vec<&'static str> {
    changed
        .changes
        .iter()
        .flat_map(Change::fields)
        .copied()
        .collect()
}

/// The platform settings: defaults for tenants created from now on, the honeypot names
/// every tenant's ingest checks, the rotation grace default, who runs the platform.
#[utoipa::path(get, path = "/api/v1/platform/settings", tag = "platform",
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The settings (the built-in defaults until first set)", body = PlatformSettings),
        (status = 401, description = "Missing or invalid admin token", body = ErrorBody)))]
pub async fn get_platform_settings(
    State(state): State<AppState>,
    _auth: Authorized,
) -> ApiResult<Json<PlatformSettings>> {
    Ok(Json((*state.store.platform_settings().await?).clone()))
}

/// Replaces the platform settings; every field is required (`null` for an unset operator
/// name or e-mail). Existing tenants are not changed.
#[utoipa::path(put, path = "/api/v1/platform/settings", tag = "platform",
    request_body = PlatformSettings,
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The settings after the change", body = PlatformSettings),
        (status = 400, description = "Unreadable body, missing or unknown field", body = ErrorBody),
        (status = 401, description = "Missing or invalid admin token", body = ErrorBody),
        (status = 422, description = "A value breaks a rule", body = ErrorBody)))]
pub async fn put_platform_settings(
    State(state): State<AppState>,
    auth: Authorized,
    ApiJson(input): ApiJson<PlatformSettings>,
) -> ApiResult<Json<PlatformSettings>> {
    let new = platform_settings::validate_settings(&input)?;
    let changed = state
        .store
        .update_platform_settings(
            auth.actor(),
            AuditAction::PlatformSettingsReplaced,
            // Write-only: a PUT keeps it; PATCH sets or clears it.
            SecretUpdate::Keep,
            move |_| Ok(new),
        )
        .await?;
    tracing::info!(changed = ?changed_fields(&changed), "platform settings replaced");
    Ok(Json(state.events.publish_all(changed)))
}

/// Changes any subset of the platform settings; `null` clears the operator name or e-mail,
/// the Meta verify token or the Meta app secret (write-only, shown masked).
#[utoipa::path(patch, path = "/api/v1/platform/settings", tag = "platform",
    request_body = PlatformSettingsPatch,
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The settings after the change", body = PlatformSettings),
        (status = 400, description = "Unreadable body or unknown field", body = ErrorBody),
        (status = 401, description = "Missing or invalid admin token", body = ErrorBody),
        (status = 422, description = "A value breaks a rule", body = ErrorBody)))]
pub async fn patch_platform_settings(
    State(state): State<AppState>,
    auth: Authorized,
    ApiJson(mut patch): ApiJson<PlatformSettingsPatch>,
) -> ApiResult<Json<PlatformSettings>> {
    platform_settings::check_meta_app_secret(&patch.meta_app_secret)?;
    platform_settings::check_stripe_secret_key(&patch.stripe_secret_key)?;
    let secrets = PlatformSecrets {
        meta_app_secret: std::mem::take(&mut patch.meta_app_secret),
        stripe_secret_key: std::mem::take(&mut patch.stripe_secret_key),
    };
    let new_stripe_key = matches!(secrets.stripe_secret_key, SecretUpdate::Set(_));
    let changed = state
        .store
        .update_platform_settings_with(
            auth.actor(),
            AuditAction::PlatformSettingsUpdated,
            secrets,
            move |cur| platform_settings::apply_patch(cur, &patch),
        )
        .await?;
    // Reports parked on a refused key go out with the new one.
    if new_stripe_key {
        state
            .store
            .release_group(echo5_core::plans::STRIPE_GROUP.to_string())
            .await?;
    }
    tracing::info!(changed = ?changed_fields(&changed), "platform settings updated");
    Ok(Json(state.events.publish_all(changed)))
}
