use axum::Json;
use axum::extract::State;
use serde::Serialize;
use std::sync::atomic::Ordering;

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

#[derive(Serialize, utoipa::ToSchema)]
pub struct Ready {
    pub status: &'static str,
    /// SLA monitor passes completed since the daemon started: it keeps growing while the
    /// monitor runs.
    pub sla_passes: u64,
}

/// Readiness: the database takes a durable write right now.
#[utoipa::path(get, path = "/readyz", tag = "health",
    responses(
        (status = 200, description = "Ready", body = Ready),
        (status = 503, description = "Storage unavailable", body = echo5_core::ErrorBody)))]
pub async fn readyz(State(state): State<AppState>) -> ApiResult<Json<Ready>> {
    state.store.probe_write().await?;
    Ok(Json(Ready {
        status: "ready",
        sla_passes: state.sla_passes.load(Ordering::Relaxed),
    }))
}
