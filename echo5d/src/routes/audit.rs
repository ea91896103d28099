use axum::Json;
use axum::extract::State;
use echo5_core::ErrorBody;
use echo5_core::audit::AuditEntry;
use echo5_core::page::{self, Page};
use echo5_data::TenantKey;
use echo5_data::audit::AuditQuery;
use serde::Deserialize;

use crate::access::Authorized;
use crate::error::ApiResult;
use crate::extract::ApiQuery;
use crate::state::AppState;

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// Only rows about this tenant (id or slug; a deleted tenant by id).
    pub tenant: Option<String>,
    /// Only this action, e.g. `tenant.updated`.
    pub action: Option<String>,
    /// 1..=200, default 50.
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The audit log, newest first.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditParams),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "A page of audit rows", body = Page<AuditEntry>),
        (status = 400, description = "Bad query", body = ErrorBody),
        (status = 401, description = "Missing or invalid admin token", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
        (status = 422, description = "Bad limit or cursor", body = ErrorBody)))]
pub async fn list_audit(
    State(state): State<AppState>,
    _auth: Authorized,
    ApiQuery(p): ApiQuery<AuditParams>,
) -> ApiResult<Json<Page<AuditEntry>>> {
    let (limit, cursor) = page::parse(p.limit, p.cursor.as_deref())?;
    let tenant_id = match p.tenant.as_deref() {
        None => None,
        Some(t) => match TenantKey::parse(t) {
            TenantKey::Id(id) => Some(id),
            key => Some(state.store.get_tenant(key).await?.id),
        },
    };
    let q = AuditQuery {
        tenant_id,
        action: p.action,
        limit,
        cursor,
    };
    Ok(Json(state.store.list_audit(q).await?))
}
