use axum::Json;
use axum::extract::{Path, State};
use chrono::TimeDelta;
use echo5_core::analytics::Analytics;
use echo5_core::dashboard::Dashboard;
use echo5_core::{DomainError, ErrorBody};
use echo5_data::TenantKey;
use serde::Deserialize;

use crate::error::ApiResult;
use crate::extract::{Admin, ApiQuery};
use crate::state::AppState;

/// Per-tenant lead counts and SLA state, with platform totals.
#[utoipa::path(get, path = "/api/v1/dashboard", tag = "analytics",
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The dashboard", body = Dashboard),
        (status = 401, description = "Missing or invalid admin token", body = ErrorBody)))]
pub async fn dashboard(State(state): State<AppState>, _admin: Admin) -> ApiResult<Json<Dashboard>> {
    Ok(Json(state.store.dashboard().await?))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RangeParams {
    /// Start (RFC 3339 or YYYY-MM-DD), default 30 days before `to`.
    pub from: Option<String>,
    /// End, exclusive (RFC 3339 or YYYY-MM-DD), default now.
    pub to: Option<String>,
}

const MAX_RANGE_DAYS: i64 = 3650;

/// Counts by stage, conversion, won rate, sources and UTM, leads per day, time to first
/// contact — over the leads created in `[from, to)`.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/analytics", tag = "analytics",
    params(("tenant" = String, Path, description = "Tenant id or slug"), RangeParams),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The analytics", body = Analytics),
        (status = 400, description = "Unknown query parameter", body = ErrorBody),
        (status = 401, description = "Missing or invalid admin token", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
        (status = 422, description = "A bad or too long range", body = ErrorBody)))]
pub async fn analytics(
    State(state): State<AppState>,
    _admin: Admin,
    Path(tenant): Path<String>,
    ApiQuery(p): ApiQuery<RangeParams>,
) -> ApiResult<Json<Analytics>> {
    let to = match &p.to {
        Some(t) => echo5_core::leads::parse_time("to", t)?,
        None => state.store.now(),
    };
    let from = match &p.from {
        Some(f) => echo5_core::leads::parse_time("from", f)?,
        None => to - TimeDelta::days(30),
    };
    if from >= to {
        return Err(DomainError::invalid("from", "invalid_range", "from must be before to").into());
    }
    if to - from > TimeDelta::days(MAX_RANGE_DAYS) {
        return Err(DomainError::invalid(
            "from",
            "invalid_range",
            "the range may span at most ten years",
        )
        .into());
    }
    Ok(Json(
        state
            .store
            .analytics(TenantKey::parse(&tenant), from, to)
            .await?,
    ))
}
