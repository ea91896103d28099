use axum::Json;
use axum::extract::State;
use serde::Serialize;

use crate::error::ApiResult;
use crate::state::AppState;

#[derive(Serialize, utoipa::ToSchema)]
pub struct Status {
    pub status: &'static str,
}

/// Liveness: the process is up and serving HTTP.
#[utoipa::path(get, path = "/healthz", tag = "health",
    responses((status = 200, description = "Alive", body = Status)))]
pub async fn healthz() -> Json<Status> {
    Json(Status { status: "ok" })
}

/// Readiness: the database takes a durable write right now.
#[utoipa::path(get, path = "/readyz", tag = "health",
    responses(
        (status = 200, description = "Ready", body = Status),
        (status = 503, description = "Storage unavailable", body = echo5_core::ErrorBody)))]
pub async fn readyz(State(state): State<AppState>) -> ApiResult<Json<Status>> {
    state.store.probe_write().await?;
    Ok(Json(Status { status: "ready" }))
}
