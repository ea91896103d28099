//! The router, the OpenAPI document, and serving on a listener until a shutdown signal.

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{HeaderName, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tower_http::cors::{Any, CorsLayer};
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::error_response;
use crate::extract::JSON_BODY_LIMIT;
use crate::routes::{
    audit, dashboard, events, health, ingest, keys, leads, platform, settings, sla, stages, system,
    tenants,
};
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Echo5 Leads API",
        description = "Multi-tenant lead intake. Admin endpoints take `Authorization: Bearer <admin token>`. \
                       Errors are `{\"error\": {\"code\", \"message\", \"field\"?}}`."
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "health", description = "Liveness and readiness"),
        (name = "tenants", description = "The agency's clients"),
        (name = "settings", description = "Per-tenant settings; secrets are write-only and masked"),
        (name = "stages", description = "Per-tenant pipeline stages"),
        (name = "ingest", description = "What WordPress sites post leads to (API key auth)"),
        (name = "keys", description = "Per-tenant API keys for ingest"),
        (name = "leads", description = "The leads workflow: list, move, notes, manual entry, export"),
        (name = "sla", description = "Leads waiting past their tenant's SLA"),
        (name = "analytics", description = "Dashboard and per-tenant analytics"),
        (name = "events", description = "Live Server-Sent Events"),
        (name = "audit", description = "Who changed what, when"),
        (name = "platform", description = "Platform settings and usage (not per client)"),
        (name = "system", description = "The daemon's own recent log lines"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "admin_token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-API-Key"))),
        );
    }
}

/// Ingest answers CORS preflights, so a site may post from the visitor's browser if its
/// owner chooses; keys travel in headers or the URL, never in cookies.
fn ingest_routes() -> OpenApiRouter<AppState> {
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([
            header::CONTENT_TYPE,
            header::AUTHORIZATION,
            HeaderName::from_static("x-api-key"),
            HeaderName::from_static("idempotency-key"),
        ])
        .max_age(Duration::from_secs(86_400));
    OpenApiRouter::new()
        .routes(routes!(ingest::post_lead))
        .routes(routes!(ingest::post_ingest, ingest::get_ingest))
        .layer(cors)
}

fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        // GET /api/v1/leads (admin) shares its path with the ingest POST. It goes in first:
        // merging two method routers keeps the later one's fallback, and the ingest one's
        // carries the CORS layer that answers preflights. The GET itself gets no CORS.
        .routes(routes!(platform::list_all_leads))
        .merge(ingest_routes())
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(tenants::list_tenants, tenants::create_tenant))
        .routes(routes!(
            tenants::get_tenant,
            tenants::replace_tenant,
            tenants::patch_tenant,
            tenants::delete_tenant
        ))
        .routes(routes!(
            settings::get_settings,
            settings::put_settings,
            settings::patch_settings
        ))
        .routes(routes!(
            stages::list_stages,
            stages::add_stage,
            stages::reorder_stages
        ))
        .routes(routes!(stages::patch_stage, stages::delete_stage))
        .routes(routes!(keys::list_keys, keys::create_key))
        .routes(routes!(keys::rotate_key))
        .routes(routes!(keys::reveal_key))
        .routes(routes!(keys::revoke_key))
        .routes(routes!(keys::whoami))
        .routes(routes!(leads::list_leads, leads::create_lead))
        .routes(routes!(leads::export_csv))
        .routes(routes!(leads::get_lead, leads::patch_lead))
        .routes(routes!(sla::all_breaches))
        .routes(routes!(sla::tenant_breaches))
        .routes(routes!(dashboard::dashboard))
        .routes(routes!(dashboard::analytics))
        .routes(routes!(events::events))
        .routes(routes!(audit::list_audit))
        .routes(routes!(
            platform::get_platform_settings,
            platform::put_platform_settings,
            platform::patch_platform_settings
        ))
        .routes(routes!(platform::usage))
        .routes(routes!(platform::tenant_usage))
        .routes(routes!(system::logs))
        .routes(routes!(system::logs_stream))
}

/// The OpenAPI document of every route [`build_router`] serves.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api().split_for_parts().1
}

/// The whole HTTP application. Tests drive it in-process (`tower::ServiceExt::oneshot`) or
/// serve it on a loopback port with [`launch`].
pub fn build_router(state: AppState) -> Router {
    let (router, doc) = api().split_for_parts();
    let doc = Arc::new(doc.to_pretty_json().unwrap_or_default());
    router
        .route(
            "/api/v1/openapi.json",
            axum::routing::get(move || {
                let doc = doc.clone();
                async move { ([(header::CONTENT_TYPE, "application/json")], (*doc).clone()) }
            }),
        )
        .fallback(not_found)
        .layer(middleware::from_fn(json_errors))
        .layer(DefaultBodyLimit::max(JSON_BODY_LIMIT))
        .layer(
            // Spans name the route template, never the raw URI: query strings and paths may
            // carry keys, and templates keep log cardinality low.
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request| {
                    let route = req
                        .extensions()
                        .get::<MatchedPath>()
                        .map(|m| m.as_str().to_string())
                        .unwrap_or_else(|| "unmatched".into());
                    tracing::info_span!("http", method = %req.method(), route)
                })
                .on_request(())
                .on_response(
                    |resp: &Response, latency: Duration, _span: &tracing::Span| {
                        tracing::debug!(status = resp.status().as_u16(), ?latency, "response");
                    },
                ),
        )
        .with_state(state)
}

async fn not_found(req: Request) -> Response {
    error_response(
        StatusCode::NOT_FOUND,
        "route_not_found",
        format!("no route for {} {}", req.method(), req.uri().path()),
        None,
    )
}

/// Errors produced outside our handlers (405 from the method router, layer errors) come with
/// an empty or plain-text body; give them the same JSON shape as every other error.
async fn json_errors(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let resp = next.run(req).await;
    let status = resp.status();
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return resp;
    }
    let (code, message) = match status {
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            format!("{method} is not allowed on {path}"),
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (
            "payload_too_large",
            format!("request body is larger than {JSON_BODY_LIMIT} bytes"),
        ),
        other => (
            "http_error",
            other.canonical_reason().unwrap_or("error").to_string(),
        ),
    };
    let mut out = error_response(status, code, message, None);
    if let Some(allow) = resp.headers().get(header::ALLOW) {
        out.headers_mut().insert(header::ALLOW, allow.clone());
    }
    out
}

/// Serves `state` on `listener` until `shutdown` resolves, then lets in-flight requests
/// finish and commits every pending write before returning.
pub async fn launch<F>(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: F,
) -> std::io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    let store = state.store.clone();
    let app = build_router(state.clone());
    let flusher = tokio::spawn(flush_coalesced_loop(store.clone()));
    let monitor = tokio::spawn(crate::monitor::run(
        state.clone(),
        state.mailer.clone(),
        state.sla_interval,
    ));
    let events = state.events.clone();
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            events.close();
        })
        .await;
    flusher.abort();
    monitor.abort();
    store.shutdown().await;
    served
}

/// How often coalesced API-key `last_used_at` times are written.
const KEY_USAGE_FLUSH: Duration = Duration::from_secs(5);

async fn flush_coalesced_loop(store: echo5_data::Store) {
    let mut tick = tokio::time::interval(KEY_USAGE_FLUSH);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut ticks: u64 = 0;
    loop {
        tick.tick().await;
        ticks += 1;
        if let Err(e) = store.flush_coalesced().await {
            tracing::warn!(error = %e, "could not record API key usage; will retry");
        }
        // Every ten minutes: drop idempotency records past their window.
        if ticks.is_multiple_of(120)
            && let Err(e) = store.prune_idempotency().await
        {
            tracing::warn!(error = %e, "could not prune idempotency records");
        }
    }
}
