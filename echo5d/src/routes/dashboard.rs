use axum::Json;
use axum::extract::{Path, State};
use chrono::TimeDelta;
use echo5_core::analytics::{self, Analytics, GlobalAnalytics, GlobalParams};
use echo5_core::dashboard::Dashboard;
use echo5_core::{DomainError, ErrorBody};
use echo5_data::TenantKey;
use echo5_data::leads::all_tenants::UnknownTenant;
use serde::Deserialize;

use crate::access::Authorized;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiQuery;
use crate::state::AppState;

/// Per-tenant lead counts and SLA state, with platform totals.
#[utoipa::path(get, path = "/api/v1/dashboard", tag = "analytics",
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The dashboard", body = Dashboard),
        (status = 401, description = "Missing or invalid admin token", body = ErrorBody)))]
pub async fn dashboard(
    State(state): State<AppState>,
    _auth: Authorized,
) -> ApiResult<Json<Dashboard>> {
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
    auth: Authorized,
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
    let reach = auth.reach;
    Ok(Json(
        state
            .store
            .analytics(TenantKey::parse(&tenant), reach, from, to)
            .await?,
    ))
}

/// Documents the query string of the global analytics for OpenAPI.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct GlobalAnalyticsParams {
    /// Only these tenants: comma-separated ids or slugs (at most 200); all when left out.
    /// An unknown one is 404.
    tenant: Option<String>,
    /// Whole UTC days: today and the `days - 1` days before it (from the midnight that
    /// starts the first to the midnight that ends today), 1..=3650, default 30.
    days: Option<String>,
}

/// The analytics of every tenant (or those of `?tenant=a,b`) over whole UTC days — today
/// and the `days - 1` before — summed, with each tenant's own, as the per-tenant endpoint
/// gives them for the same range. Read from counts kept per tenant and day, not from the
/// leads. Rates are recomputed from the summed counts; the median and p90 time to first
/// contact are null, in `totals` and in `by_tenant` (the per-tenant endpoint has them).
#[utoipa::path(get, path = "/api/v1/analytics", tag = "analytics", params(GlobalAnalyticsParams),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The summed analytics and the per-tenant breakdown", body = GlobalAnalytics),
        (status = 400, description = "Unknown query parameter", body = ErrorBody),
        (status = 401, description = "Missing or invalid admin token", body = ErrorBody),
        (status = 404, description = "A tenant in `tenant` does not exist", body = ErrorBody),
        (status = 422, description = "A bad `days` or too many tenants", body = ErrorBody)))]
pub async fn global_analytics(
    State(state): State<AppState>,
    _auth: Authorized,
    ApiQuery(p): ApiQuery<GlobalParams>,
) -> ApiResult<Json<GlobalAnalytics>> {
    let (tenants, days) = p.validate()?;
    let (from, to) = analytics::global_window(state.store.now(), days);
    match state.store.analytics_of(tenants, from, to).await? {
        Ok(by_tenant) => Ok(Json(GlobalAnalytics {
            from,
            to,
            days,
            totals: analytics::sum(&by_tenant),
            by_tenant,
        })),
        Err(UnknownTenant(name)) => Err(ApiError::NotFound {
            code: "not_found",
            message: format!("tenant \"{name}\" (in the tenant filter) not found"),
        }),
    }
}
