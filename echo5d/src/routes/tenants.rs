use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use echo5_core::ErrorBody;
use echo5_core::audit::AuditAction;
use echo5_core::page::Page;
use echo5_core::tenants::{self, NewTenant, Tenant, TenantPatch, TenantReplace};
use echo5_data::TenantKey;
use echo5_data::tenants::DeleteMode;
use serde::Deserialize;

use super::PageParams;
use crate::access::Authorized;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;

/// Tenants, newest first.
#[utoipa::path(get, path = "/api/v1/tenants", tag = "tenants", params(PageParams),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "A page of tenants", body = Page<Tenant>),
        (status = 400, description = "Unreadable query or unknown parameter", body = ErrorBody),
        (status = 401, description = "Missing or invalid admin token", body = ErrorBody),
        (status = 422, description = "Limit out of range or cursor not from this API", body = ErrorBody)))]
pub async fn list_tenants(
    State(state): State<AppState>,
    _auth: Authorized,
    ApiQuery(params): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<Tenant>>> {
    let (limit, cursor) = params.parse()?;
    Ok(Json(state.store.list_tenants(limit, cursor).await?))
}

/// Creates a tenant with the platform's default pipeline; settings left out take the
/// platform defaults.
#[utoipa::path(post, path = "/api/v1/tenants", tag = "tenants", request_body = NewTenant,
    security(("admin_token" = [])),
    responses(
        (status = 201, description = "Created", body = Tenant),
        (status = 400, description = "Unreadable body or unknown field", body = ErrorBody),
        (status = 401, description = "Missing or invalid admin token", body = ErrorBody),
        (status = 409, description = "Slug already taken", body = ErrorBody),
        (status = 422, description = "A value breaks a rule", body = ErrorBody)))]
pub async fn create_tenant(
    State(state): State<AppState>,
    auth: Authorized,
    ApiJson(input): ApiJson<NewTenant>,
) -> ApiResult<(StatusCode, Json<Tenant>)> {
    // Settings the request leaves out (and the pipeline) come from the platform settings.
    let platform = state.store.platform_settings().await?;
    let (fields, secrets) = tenants::validate_new_with(&input, &platform)?;
    let t = state
        .store
        .create_tenant(auth.actor(), fields, secrets)
        .await?;
    let t = state.events.publish_all(t);
    tracing::info!(tenant = %t.slug, "tenant created");
    Ok((StatusCode::CREATED, Json(t)))
}

/// One tenant, by id or slug.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}", tag = "tenants",
    params(("tenant" = String, Path, description = "Tenant id or slug")),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The tenant", body = Tenant),
        (status = 401, description = "Missing or invalid admin token", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody)))]
pub async fn get_tenant(
    State(state): State<AppState>,
    _auth: Authorized,
    Path(tenant): Path<String>,
) -> ApiResult<Json<Tenant>> {
    Ok(Json(
        state.store.get_tenant(TenantKey::parse(&tenant)).await?,
    ))
}

/// Replaces a tenant. Settings left out take their defaults; secrets left out are kept.
#[utoipa::path(put, path = "/api/v1/tenants/{tenant}", tag = "tenants", request_body = TenantReplace,
    params(("tenant" = String, Path, description = "Tenant id or slug")),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The tenant after the change", body = Tenant),
        (status = 400, description = "Unreadable body or unknown field", body = ErrorBody),
        (status = 401, description = "Missing or invalid admin token", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
        (status = 409, description = "Slug already taken", body = ErrorBody),
        (status = 422, description = "A value breaks a rule", body = ErrorBody)))]
pub async fn replace_tenant(
    State(state): State<AppState>,
    auth: Authorized,
    Path(tenant): Path<String>,
    ApiJson(input): ApiJson<TenantReplace>,
) -> ApiResult<Json<Tenant>> {
    let replacement = tenants::validate_replace(&input)?;
    let t = state
        .store
        .update_tenant(
            auth.actor(),
            TenantKey::parse(&tenant),
            AuditAction::TenantReplaced,
            move |_| Ok(replacement),
        )
        .await?;
    // The slug may have changed: paths naming the tenant are looked up again.
    state.tenants_changed();
    Ok(Json(state.events.publish_all(t)))
}

/// Changes any subset of a tenant, e.g. `{"settings": {"sla_hours": 4}}`. `plan_id` and
/// `stripe_customer_id` are the platform's alone (403 for a tenant's users).
#[utoipa::path(patch, path = "/api/v1/tenants/{tenant}", tag = "tenants", request_body = TenantPatch,
    params(("tenant" = String, Path, description = "Tenant id or slug")),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The tenant after the change", body = Tenant),
        (status = 400, description = "Unreadable body or unknown field", body = ErrorBody),
        (status = 401, description = "Missing or invalid admin token", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
        (status = 403, description = "A tenant user setting plan_id or stripe_customer_id", body = ErrorBody),
        (status = 409, description = "Slug already taken", body = ErrorBody),
        (status = 422, description = "A value breaks a rule (an unknown plan_id)", body = ErrorBody)))]
pub async fn patch_tenant(
    State(state): State<AppState>,
    auth: Authorized,
    Path(tenant): Path<String>,
    ApiJson(patch): ApiJson<TenantPatch>,
) -> ApiResult<Json<Tenant>> {
    let billing = patch.billing()?;
    // A tenant's plan and Stripe customer are the platform's to set, not its own admins'.
    if !billing.is_empty() && !auth.principal.is_platform() {
        return Err(ApiError::Forbidden {
            code: "forbidden",
            message: "only the platform owner sets a tenant's plan_id and stripe_customer_id"
                .into(),
        });
    }
    let t = state
        .store
        .update_tenant_billing(
            auth.actor(),
            TenantKey::parse(&tenant),
            AuditAction::TenantUpdated,
            move |cur| tenants::apply_patch(cur, &patch),
            billing,
        )
        .await?;
    // The slug may have changed: paths naming the tenant are looked up again.
    state.tenants_changed();
    Ok(Json(state.events.publish_all(t)))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeleteParams {
    /// Also delete every lead of the tenant. Without it a tenant holding leads is not
    /// deleted (409 `tenant_not_empty`).
    pub purge: Option<bool>,
}

/// Deletes a tenant. Refused while it holds leads unless `?purge=true`.
#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}", tag = "tenants",
    params(("tenant" = String, Path, description = "Tenant id or slug"), DeleteParams),
    security(("admin_token" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Unreadable query or unknown parameter", body = ErrorBody),
        (status = 401, description = "Missing or invalid admin token", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
        (status = 409, description = "The tenant holds leads", body = ErrorBody)))]
pub async fn delete_tenant(
    State(state): State<AppState>,
    auth: Authorized,
    Path(tenant): Path<String>,
    ApiQuery(params): ApiQuery<DeleteParams>,
) -> ApiResult<StatusCode> {
    let mode = if params.purge.unwrap_or(false) {
        DeleteMode::Purge
    } else {
        DeleteMode::KeepLeads
    };
    state
        .store
        .delete_tenant(auth.actor(), TenantKey::parse(&tenant), mode)
        .await?;
    // The tenant's users went with it: their open event streams end too.
    state.credentials_ended();
    Ok(StatusCode::NO_CONTENT)
}
