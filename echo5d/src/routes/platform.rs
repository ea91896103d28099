//! Platform administration: platform settings, every tenant's leads, usage.

use axum::Json;
use axum::extract::{Path, State};
use echo5_core::ErrorBody;
use echo5_core::leads::{AllLeadsParams, LeadWithTenant};
use echo5_core::page::Page;
use echo5_core::platform_settings::{self, PlatformSettings, PlatformSettingsPatch};
use echo5_core::usage::{Month, TenantUsageReport, UsageReport};
use echo5_data::TenantKey;
use echo5_data::platform::UnknownTenant;
use serde::Deserialize;

use crate::error::{ApiError, ApiResult};
use crate::extract::{Admin, ApiJson, ApiQuery};
use crate::state::AppState;

/// Announces a change of the platform settings on the event stream.
fn announce(state: &AppState, changed: &[&str]) {
    if !changed.is_empty() {
        state.events.publish(
            echo5_core::event::PLATFORM_UPDATED,
            None,
            serde_json::json!({ "changed": changed }),
        );
    }
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
    _admin: Admin,
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
    admin: Admin,
    ApiJson(input): ApiJson<PlatformSettings>,
) -> ApiResult<Json<PlatformSettings>> {
    let new = platform_settings::validate_settings(&input)?;
    let (after, changed) = state
        .store
        .update_platform_settings(admin.actor(), "platform.settings.replaced", move |_| {
            Ok(new)
        })
        .await?;
    tracing::info!(changed = ?changed, "platform settings replaced");
    announce(&state, &changed);
    Ok(Json(after))
}

/// Changes any subset of the platform settings; `null` clears the operator name or e-mail.
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
    admin: Admin,
    ApiJson(patch): ApiJson<PlatformSettingsPatch>,
) -> ApiResult<Json<PlatformSettings>> {
    let (after, changed) = state
        .store
        .update_platform_settings(admin.actor(), "platform.settings.updated", move |cur| {
            platform_settings::apply_patch(cur, &patch)
        })
        .await?;
    tracing::info!(changed = ?changed, "platform settings updated");
    announce(&state, &changed);
    Ok(Json(after))
}

/// Documents the query string of the all-leads view for OpenAPI.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct AllLeadsListParams {
    /// Only these tenants: comma-separated ids or slugs (at most 200). An unknown one is 404.
    tenant: Option<String>,
    /// Only leads in this stage (id).
    stage: Option<String>,
    /// website, meta, google, manual or api.
    source: Option<String>,
    /// Case-insensitive text in name, e-mail, phone or message.
    q: Option<String>,
    /// Created at or after (RFC 3339 or YYYY-MM-DD).
    from: Option<String>,
    /// Created before (RFC 3339 or YYYY-MM-DD).
    to: Option<String>,
    /// `false` (default: spam hidden), `true` (only spam) or `all`.
    spam: Option<String>,
    /// Only leads in breach (`true`) or not (`false`), each by its tenant's SLA.
    breached: Option<bool>,
    /// 1..=200, default 50.
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// Every tenant's leads (or those of `?tenant=a,b`), newest first over all tenants, each
/// row with its tenant's id, slug and name. Same filters and cursor paging as a tenant's
/// listing; paging stays stable while leads arrive.
#[utoipa::path(get, path = "/api/v1/leads", tag = "leads", params(AllLeadsListParams),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "A page of leads with their tenants", body = Page<LeadWithTenant>),
        (status = 400, description = "Unknown query parameter", body = ErrorBody),
        (status = 401, description = "Missing or invalid admin token", body = ErrorBody),
        (status = 404, description = "A tenant in `tenant` does not exist", body = ErrorBody),
        (status = 422, description = "A bad filter value, limit or cursor", body = ErrorBody)))]
pub async fn list_all_leads(
    State(state): State<AppState>,
    _admin: Admin,
    ApiQuery(params): ApiQuery<AllLeadsParams>,
) -> ApiResult<Json<Page<LeadWithTenant>>> {
    let (tenants, q) = params.validate()?;
    match state.store.all_leads(tenants, q).await? {
        Ok(page) => Ok(Json(page)),
        Err(UnknownTenant(name)) => Err(ApiError::NotFound {
            code: "not_found",
            message: format!("tenant \"{name}\" (in the tenant filter) not found"),
        }),
    }
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UsageParams {
    /// `YYYY-MM` (UTC); default the current month.
    pub month: Option<String>,
}

impl UsageParams {
    fn month(&self, state: &AppState) -> Result<Month, ApiError> {
        match self.month.as_deref() {
            None => Ok(Month::of(state.store.now())),
            Some(m) => Month::parse(m.trim()).ok_or_else(|| ApiError::BadRequest {
                code: "invalid_month",
                message: "month must be YYYY-MM, e.g. 2026-11".into(),
                field: Some("month".into()),
            }),
        }
    }
}

/// Usage in a month, per tenant and API key: leads accepted (spam and duplicates among
/// them), rejected requests, API calls; storage bytes now; active tenants (a non-spam lead
/// in the 30 days before the month's end, or before now for the current month).
#[utoipa::path(get, path = "/api/v1/usage", tag = "platform", params(UsageParams),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "Usage of every tenant", body = UsageReport),
        (status = 400, description = "Unknown parameter or a month that is not YYYY-MM", body = ErrorBody),
        (status = 401, description = "Missing or invalid admin token", body = ErrorBody)))]
pub async fn usage(
    State(state): State<AppState>,
    _admin: Admin,
    ApiQuery(params): ApiQuery<UsageParams>,
) -> ApiResult<Json<UsageReport>> {
    let month = params.month(&state)?;
    let tenants = state.store.usage_report(month, None).await?;
    Ok(Json(UsageReport::new(month, tenants)))
}

/// One tenant's usage in a month (the fields of one `tenants[]` row of `/api/v1/usage`).
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/usage", tag = "platform",
    params(("tenant" = String, Path, description = "Tenant id or slug"), UsageParams),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The tenant's usage", body = TenantUsageReport),
        (status = 400, description = "Unknown parameter or a month that is not YYYY-MM", body = ErrorBody),
        (status = 401, description = "Missing or invalid admin token", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody)))]
pub async fn tenant_usage(
    State(state): State<AppState>,
    _admin: Admin,
    Path(tenant): Path<String>,
    ApiQuery(params): ApiQuery<UsageParams>,
) -> ApiResult<Json<TenantUsageReport>> {
    let month = params.month(&state)?;
    let mut rows = state
        .store
        .usage_report(month, Some(TenantKey::parse(&tenant)))
        .await?;
    let usage = rows
        .pop()
        .ok_or(ApiError::Domain(echo5_core::DomainError::NotFound {
            what: "tenant",
        }))?;
    Ok(Json(TenantUsageReport {
        month: month.to_string(),
        usage,
    }))
}
