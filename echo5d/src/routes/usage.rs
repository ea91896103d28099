//! Usage per month: every tenant's, or one tenant's.

use axum::Json;
use axum::extract::{Path, State};
use echo5_core::ErrorBody;
use echo5_core::usage::{Month, TenantUsageReport, UsageReport};
use echo5_data::TenantKey;
use serde::Deserialize;

use crate::access::Authorized;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiQuery;
use crate::state::AppState;

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
    _auth: Authorized,
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
    _auth: Authorized,
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
