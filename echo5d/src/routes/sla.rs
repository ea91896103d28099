use axum::Json;
use axum::extract::{Path, State};
use echo5_core::ErrorBody;
use echo5_core::authorization::Reach;
use echo5_core::page::Page;
use echo5_core::sla::Breach;
use echo5_data::TenantKey;

use super::PageParams;
use crate::access::Authorized;
use crate::error::ApiResult;
use crate::extract::ApiQuery;
use crate::state::AppState;

/// Leads in breach across every tenant, most overdue first.
#[utoipa::path(get, path = "/api/v1/sla/breaches", tag = "sla", params(PageParams),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "A page of breaches", body = Page<Breach>),
        (status = 400, description = "Unknown query parameter", body = ErrorBody),
        (status = 401, description = "Missing or invalid admin token", body = ErrorBody),
        (status = 422, description = "Bad limit or cursor", body = ErrorBody)))]
pub async fn all_breaches(
    State(state): State<AppState>,
    _auth: Authorized,
    ApiQuery(p): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<Breach>>> {
    let (limit, cursor) = p.parse()?;
    // Across tenants is a platform view: every lead.
    Ok(Json(
        state
            .store
            .breaches(None, Reach::All, limit, cursor)
            .await?,
    ))
}

/// One tenant's leads in breach, most overdue first.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/sla/breaches", tag = "sla",
    params(("tenant" = String, Path, description = "Tenant id or slug"), PageParams),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "A page of breaches", body = Page<Breach>),
        (status = 400, description = "Unknown query parameter", body = ErrorBody),
        (status = 401, description = "Missing or invalid admin token", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
        (status = 422, description = "Bad limit or cursor", body = ErrorBody)))]
pub async fn tenant_breaches(
    State(state): State<AppState>,
    auth: Authorized,
    Path(tenant): Path<String>,
    ApiQuery(p): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<Breach>>> {
    let (limit, cursor) = p.parse()?;
    let reach = auth.reach;
    Ok(Json(
        state
            .store
            .breaches(Some(TenantKey::parse(&tenant)), reach, limit, cursor)
            .await?,
    ))
}
