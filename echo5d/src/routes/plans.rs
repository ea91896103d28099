//! Plans: what tenants pay and their limits (the platform owner's), and the Stripe usage
//! report on demand.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use echo5_core::ErrorBody;
use echo5_core::page::List;
use echo5_core::plans::{self, NewPlan, Plan, PlanPatch, SyncAnswer};

use crate::access::Authorized;
use crate::error::ApiResult;
use crate::extract::{ApiJson, path_id};
use crate::state::AppState;

/// Every plan, cheapest first, with how many tenants are on each.
#[utoipa::path(get, path = "/api/v1/platform/plans", tag = "platform",
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The plans", body = List<Plan>),
        (status = 401, description = "Missing or invalid admin token", body = ErrorBody)))]
pub async fn list_plans(
    State(state): State<AppState>,
    _auth: Authorized,
) -> ApiResult<Json<List<Plan>>> {
    Ok(Json(List {
        data: state.store.list_plans().await?,
    }))
}

/// Creates a plan: `{name, price_cents, currency, limits: {leads_per_month, users,
/// api_keys, webhooks, retention_days}}`; a limit left out or `null` is no limit.
#[utoipa::path(post, path = "/api/v1/platform/plans", tag = "platform", request_body = NewPlan,
    security(("admin_token" = [])),
    responses(
        (status = 201, description = "Created", body = Plan),
        (status = 400, description = "Unreadable body or unknown field", body = ErrorBody),
        (status = 401, description = "Missing or invalid admin token", body = ErrorBody),
        (status = 422, description = "A value breaks a rule", body = ErrorBody)))]
pub async fn create_plan(
    State(state): State<AppState>,
    auth: Authorized,
    ApiJson(input): ApiJson<NewPlan>,
) -> ApiResult<(StatusCode, Json<Plan>)> {
    let fields = plans::validate_new(&input)?;
    let p = state.store.create_plan(auth.actor(), fields).await?;
    tracing::info!(plan = %p.id, "plan created");
    Ok((StatusCode::CREATED, Json(p)))
}

/// Changes any subset of a plan; inside `limits`, `null` removes a limit and a limit left
/// out is kept. Tenants on the plan are held to the new limits from the next request on.
#[utoipa::path(patch, path = "/api/v1/platform/plans/{plan_id}", tag = "platform", request_body = PlanPatch,
    params(("plan_id" = String, Path, description = "Plan id")),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The plan after the change", body = Plan),
        (status = 400, description = "Unreadable body or unknown field", body = ErrorBody),
        (status = 401, description = "Missing or invalid admin token", body = ErrorBody),
        (status = 404, description = "No such plan", body = ErrorBody),
        (status = 422, description = "A value breaks a rule", body = ErrorBody)))]
pub async fn patch_plan(
    State(state): State<AppState>,
    auth: Authorized,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<PlanPatch>,
) -> ApiResult<Json<Plan>> {
    let id = path_id(&id, "plan")?;
    let p = state
        .store
        .update_plan(auth.actor(), id, move |cur| plans::apply_patch(cur, &patch))
        .await?;
    Ok(Json(p))
}

/// Deletes a plan no tenant is on.
#[utoipa::path(delete, path = "/api/v1/platform/plans/{plan_id}", tag = "platform",
    params(("plan_id" = String, Path, description = "Plan id")),
    security(("admin_token" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Missing or invalid admin token", body = ErrorBody),
        (status = 404, description = "No such plan", body = ErrorBody),
        (status = 409, description = "Tenants are on the plan", body = ErrorBody)))]
pub async fn delete_plan(
    State(state): State<AppState>,
    auth: Authorized,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = path_id(&id, "plan")?;
    state.store.delete_plan(auth.actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Reports usage to Stripe now (the hourly job does the same): per tenant with a
/// `stripe_customer_id`, the leads accepted since its previous report, queued as one meter
/// event through the outbox. Needs `stripe_meter_event_name` (else nothing is queued) and
/// `stripe_secret_key` in the platform settings.
#[utoipa::path(post, path = "/api/v1/platform/billing/sync", tag = "platform",
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The reports queued (each with its Stripe identifier)", body = SyncAnswer),
        (status = 401, description = "Missing or invalid admin token", body = ErrorBody)))]
pub async fn billing_sync(
    State(state): State<AppState>,
    _auth: Authorized,
) -> ApiResult<Json<SyncAnswer>> {
    let reports = state.store.billing_sync().await?;
    Ok(Json(SyncAnswer { reports }))
}
