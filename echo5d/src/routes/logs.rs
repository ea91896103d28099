//! The daemon's own recent log lines: `GET /api/v1/system/logs` and a live SSE tail.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, Sse};
use echo5_core::logs::{LOG_LIMIT_DEFAULT, LOG_LIMIT_MAX, LogLevel, LogLine, LogPage, LogSince};
use echo5_core::{DomainError, ErrorBody};
use futures_util::Stream;
use serde::Deserialize;
use std::convert::Infallible;

use crate::access::Authorized;
use crate::error::ApiResult;
use crate::extract::ApiQuery;
use crate::routes::events::{last_event_id, live_sse, stream_end};
use crate::state::AppState;

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LogParams {
    /// Minimum severity: `trace`, `debug`, `info`, `warn` or `error`. Default: all kept.
    pub level: Option<String>,
    /// Only lines after this line number (`seq`) or after this time (RFC 3339).
    pub since: Option<String>,
    /// 1..=1000, default 200.
    pub limit: Option<u32>,
}

fn level(s: Option<&str>) -> Result<LogLevel, DomainError> {
    match s {
        None => Ok(LogLevel::Trace),
        Some(l) => LogLevel::parse(l).ok_or_else(|| {
            DomainError::invalid(
                "level",
                "invalid_value",
                "level must be one of trace, debug, info, warn, error",
            )
        }),
    }
}

/// Recent daemon log lines (the last 5,000 kept in memory), oldest first. Without `since`,
/// the newest `limit` lines; with `since`, the first `limit` after it, so polling with the
/// last `seq` seen misses nothing. Keys and tokens never appear: lines are scrubbed.
#[utoipa::path(get, path = "/api/v1/system/logs", tag = "system", params(LogParams),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "Log lines, oldest first", body = LogPage),
        (status = 400, description = "Unknown parameter", body = ErrorBody),
        (status = 401, description = "Missing or invalid admin token", body = ErrorBody),
        (status = 422, description = "A bad level, since or limit", body = ErrorBody)))]
pub async fn logs(
    State(state): State<AppState>,
    _auth: Authorized,
    ApiQuery(p): ApiQuery<LogParams>,
) -> ApiResult<Json<LogPage>> {
    let min = level(p.level.as_deref())?;
    let since = p.since.as_deref().map(LogSince::parse).transpose()?;
    let limit = match p.limit {
        None => LOG_LIMIT_DEFAULT,
        Some(n) if (1..=LOG_LIMIT_MAX).contains(&n) => n,
        Some(_) => {
            return Err(DomainError::invalid(
                "limit",
                "out_of_range",
                format!("limit must be between 1 and {LOG_LIMIT_MAX}"),
            )
            .into());
        }
    };
    Ok(Json(state.logs.query(min, since, limit as usize)))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LogStreamParams {
    /// Minimum severity: `trace`, `debug`, `info`, `warn` or `error`. Default: all.
    pub level: Option<String>,
}

/// One frame of the log stream as SSE clients parse it (for the OpenAPI document).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct LogFrame {
    /// The line's `seq`, for `Last-Event-ID`.
    id: String,
    /// Always `log`.
    event: String,
    /// The `LogLine` as JSON.
    data: String,
}

fn frame(l: &LogLine) -> SseEvent {
    SseEvent::default()
        .id(l.seq.to_string())
        .event("log")
        .data(serde_json::to_string(l).unwrap_or_default())
}

/// A live tail of the daemon log as Server-Sent Events (`event: log`, `id`: the line's
/// `seq`). `Last-Event-ID` replays the kept lines after it first. Keep-alive comments every
/// 15 s; the stream ends when the daemon shuts down.
#[utoipa::path(get, path = "/api/v1/system/logs/stream", tag = "system",
    params(LogStreamParams,
        ("Last-Event-ID" = Option<String>, Header, description = "Resume after this line's seq")),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "A stream of Server-Sent Events; each frame's `data` is a `LogLine` as JSON",
            content_type = "text/event-stream", body = LogFrame),
        (status = 400, description = "Unknown parameter", body = ErrorBody),
        (status = 401, description = "Missing or invalid admin token", body = ErrorBody),
        (status = 422, description = "A bad level", body = ErrorBody)))]
pub async fn logs_stream(
    State(state): State<AppState>,
    auth: Authorized,
    ApiQuery(p): ApiQuery<LogStreamParams>,
    headers: HeaderMap,
) -> ApiResult<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>> {
    let min = level(p.level.as_deref())?;
    let last = last_event_id(&headers);
    let (replay, rx) = state.logs.subscribe(last);
    // The event bus closes at shutdown; the log tail ends with it so the server can drain.
    // A client that falls behind gets `lagged` with how many lines were skipped; it can fetch
    // them from /api/v1/system/logs?since=<last seq>.
    let admits = move |l: &LogLine| LogLevel::parse(&l.level).is_some_and(|lv| lv >= min);
    Ok(live_sse(
        last,
        replay,
        rx,
        stream_end(&state, &auth),
        |l| l.seq,
        move |l| admits(l).then(|| frame(l)),
    ))
}
