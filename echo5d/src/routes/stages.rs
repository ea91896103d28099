use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use echo5_core::stages::{NewStage, Stage, StageDeleted, StageOrder, StagePatch, StageSummary};
use echo5_core::{DomainError, ErrorBody};
use echo5_data::TenantKey;
use serde::Deserialize;
use uuid::Uuid;

use super::List;
use crate::access::Authorized;
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiQuery, path_id};
use crate::state::AppState;

/// The pipeline, in order; the first stage is the intake stage.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/stages", tag = "stages",
    params(("tenant" = String, Path, description = "Tenant id or slug")),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The stages with their lead counts", body = List<StageSummary>),
        (status = 401, description = "Missing or invalid admin token", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody)))]
pub async fn list_stages(
    State(state): State<AppState>,
    _auth: Authorized,
    Path(tenant): Path<String>,
) -> ApiResult<Json<List<StageSummary>>> {
    let data = state.store.list_stages(TenantKey::parse(&tenant)).await?;
    Ok(Json(List { data }))
}

/// Appends a stage to the pipeline.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/stages", tag = "stages", request_body = NewStage,
    params(("tenant" = String, Path, description = "Tenant id or slug")),
    security(("admin_token" = [])),
    responses(
        (status = 201, description = "Created", body = Stage),
        (status = 400, description = "Unreadable body or unknown field", body = ErrorBody),
        (status = 401, description = "Missing or invalid admin token", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
        (status = 409, description = "Name taken or too many stages", body = ErrorBody),
        (status = 422, description = "Bad name", body = ErrorBody)))]
pub async fn add_stage(
    State(state): State<AppState>,
    auth: Authorized,
    Path(tenant): Path<String>,
    ApiJson(new): ApiJson<NewStage>,
) -> ApiResult<(StatusCode, Json<Stage>)> {
    let s = state
        .store
        .add_stage(auth.actor(), TenantKey::parse(&tenant), new)
        .await?;
    let s = state.events.publish_all(s);
    Ok((StatusCode::CREATED, Json(s)))
}

/// Reorders the pipeline: `order` lists every stage id exactly once.
#[utoipa::path(put, path = "/api/v1/tenants/{tenant}/stages", tag = "stages", request_body = StageOrder,
    params(("tenant" = String, Path, description = "Tenant id or slug")),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The pipeline in its new order", body = List<Stage>),
        (status = 400, description = "Unreadable body or unknown field", body = ErrorBody),
        (status = 401, description = "Missing or invalid admin token", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
        (status = 409, description = "The first stage would not be open", body = ErrorBody),
        (status = 422, description = "Not a permutation of the pipeline", body = ErrorBody)))]
pub async fn reorder_stages(
    State(state): State<AppState>,
    auth: Authorized,
    Path(tenant): Path<String>,
    ApiJson(order): ApiJson<StageOrder>,
) -> ApiResult<Json<List<Stage>>> {
    let data = state
        .store
        .reorder_stages(auth.actor(), TenantKey::parse(&tenant), order.order)
        .await?;
    let data = state.events.publish_all(data);
    Ok(Json(List { data }))
}

/// Renames a stage or changes its kind; leads keep pointing at it.
#[utoipa::path(patch, path = "/api/v1/tenants/{tenant}/stages/{stage_id}", tag = "stages",
    request_body = StagePatch,
    params(("tenant" = String, Path, description = "Tenant id or slug"),
           ("stage_id" = String, Path, description = "Stage id")),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The stage after the change", body = Stage),
        (status = 400, description = "Unreadable body or unknown field", body = ErrorBody),
        (status = 401, description = "Missing or invalid admin token", body = ErrorBody),
        (status = 404, description = "No such tenant or stage", body = ErrorBody),
        (status = 409, description = "Name taken, or no open stage would remain", body = ErrorBody),
        (status = 422, description = "Bad name", body = ErrorBody)))]
pub async fn patch_stage(
    State(state): State<AppState>,
    auth: Authorized,
    Path((tenant, stage)): Path<(String, String)>,
    ApiJson(patch): ApiJson<StagePatch>,
) -> ApiResult<Json<Stage>> {
    let s = state
        .store
        .patch_stage(
            auth.actor(),
            TenantKey::parse(&tenant),
            path_id(&stage, "stage")?,
            patch,
        )
        .await?;
    let s = state.events.publish_all(s);
    Ok(Json(s))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeleteStageParams {
    /// Stage to move this stage's leads to; required when it holds leads.
    pub move_to: Option<String>,
}

/// Deletes a stage. A stage holding leads needs `?move_to=<stage id>` (else 409).
#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/stages/{stage_id}", tag = "stages",
    params(("tenant" = String, Path, description = "Tenant id or slug"),
           ("stage_id" = String, Path, description = "Stage id"), DeleteStageParams),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "Deleted; says where its leads went", body = StageDeleted),
        (status = 400, description = "Unreadable query or unknown parameter", body = ErrorBody),
        (status = 401, description = "Missing or invalid admin token", body = ErrorBody),
        (status = 404, description = "No such tenant or stage", body = ErrorBody),
        (status = 409, description = "Holds leads and no move_to, or last open stage", body = ErrorBody),
        (status = 422, description = "Bad move_to", body = ErrorBody)))]
pub async fn delete_stage(
    State(state): State<AppState>,
    auth: Authorized,
    Path((tenant, stage)): Path<(String, String)>,
    ApiQuery(params): ApiQuery<DeleteStageParams>,
) -> ApiResult<Json<StageDeleted>> {
    let id = path_id(&stage, "stage")?;
    let move_to = params
        .move_to
        .as_deref()
        .map(|m| {
            Uuid::try_parse(m).map_err(|_| {
                DomainError::invalid("move_to", "unknown_stage", "move_to must be a stage id")
            })
        })
        .transpose()?;
    let done = state
        .store
        .delete_stage(auth.actor(), TenantKey::parse(&tenant), id, move_to)
        .await?;
    let done = state.events.publish_all(done);
    Ok(Json(StageDeleted {
        deleted: id,
        moved_leads: done.moved_leads,
        moved_to: done.moved_to,
    }))
}
