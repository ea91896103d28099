//! The router, the OpenAPI document, and serving on a listener until a shutdown signal.

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tower_http::cors::{Any, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::access::{self, At, Rule};
use crate::error::error_response;
use crate::extract::JSON_BODY_LIMIT;
use crate::routes::{
    audit, dashboard, events, health, ingest, integrations, invites, keys, leads, logs,
    notifications, personal_tokens, plans, platform_settings, sessions, settings, sla, stages,
    tenants, usage, users, webhooks,
};
use crate::server::{self, ServerLimits};
use crate::state::AppState;
use crate::throttle::{self, AuthThrottle};
use echo5_core::authorization::Subject;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Echo5 Leads API",
        description = "Multi-tenant lead intake. Admin endpoints take `Authorization: Bearer <credential>`: \
                       the admin token (`e5a_`), a user's session from `POST /api/v1/auth/login` (`e5s_`) \
                       or a personal token (`e5p_`). Each operation states what it needs in `x-permission` \
                       and its description. Errors are `{\"error\": {\"code\", \"message\", \"field\"?}}`."
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "health", description = "Liveness and readiness"),
        (name = "tenants", description = "The agency's clients"),
        (name = "settings", description = "Per-tenant settings; secrets are write-only and masked"),
        (name = "stages", description = "Per-tenant pipeline stages"),
        (name = "ingest", description = "What WordPress sites post leads to (API key auth)"),
        (name = "hooks", description = "What Google Ads lead forms and Meta Lead Ads post leads to (authenticated by the platform's key or signature)"),
        (name = "keys", description = "Per-tenant API keys for ingest"),
        (name = "leads", description = "The leads workflow: list, move, notes, manual entry, export"),
        (name = "sla", description = "Leads waiting past their tenant's SLA"),
        (name = "analytics", description = "Dashboard and per-tenant analytics"),
        (name = "events", description = "Live Server-Sent Events"),
        (name = "audit", description = "Who changed what, when"),
        (name = "platform", description = "Platform settings and usage (not per client)"),
        (name = "system", description = "The daemon's own recent log lines"),
        (name = "auth", description = "Login, logout, invitations and password resets"),
        (name = "users", description = "Users, the caller's own account and personal tokens"),
        (name = "webhooks", description = "Outgoing webhooks (Standard Webhooks) and their delivery log"),
        (name = "notifications", description = "Per-tenant notifications: e-mail, Slack and SMS channels, rules, escalation, branding and templates"),
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
    access::open(
        "the tenant's API key",
        OpenApiRouter::new()
            .routes(routes!(ingest::post_lead))
            .routes(routes!(ingest::post_ingest, ingest::get_ingest)),
    )
    // axum answers HEAD with the GET handler (body dropped), and this GET stores a lead:
    // a link checker or prefetcher probing the URL would create one.
    .route(
        "/api/v1/ingest/{key}",
        axum::routing::head(head_not_allowed),
    )
    .layer(cors)
}

async fn head_not_allowed() -> Response {
    let mut resp = error_response(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "HEAD is not allowed on this route; GET and POST store a lead".into(),
        None,
    );
    resp.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("GET,POST"));
    resp
}

/// The ad platforms' webhooks: no Echo5 credential, each proves itself (Google's
/// `google_key` in the body, Meta's signature over the body); on the public listener, since
/// the platforms must reach them.
fn hook_routes() -> OpenApiRouter<AppState> {
    access::open(
        "the tenant's Google Ads webhook key (google_key in the body)",
        OpenApiRouter::new().routes(routes!(integrations::google_hook)),
    )
    .merge(access::open(
        "the Meta app's signature (X-Hub-Signature-256) for POST; the platform's meta_verify_token for the GET handshake",
        OpenApiRouter::new().routes(routes!(
            integrations::meta_handshake,
            integrations::meta_hook
        )),
    ))
}

/// Health and the key check plugins use: no rule of their own (health needs no
/// credential, the key check reads the key itself).
fn open_routes() -> OpenApiRouter<AppState> {
    access::open(
        "none",
        OpenApiRouter::new()
            .routes(routes!(health::healthz))
            .routes(routes!(health::readyz)),
    )
    .merge(access::open(
        "the tenant's API key",
        OpenApiRouter::new().routes(routes!(keys::whoami)),
    ))
}

/// What the public listener serves when `--admin-listen` puts the admin API elsewhere:
/// ingest, the key check plugins use, and health.
fn public_api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(ingest_routes())
        .merge(hook_routes())
        .merge(open_routes())
}

/// Every route but ingest and health, each group behind the [`Rule`] it needs: the one
/// place that says who may call what (the action follows the method unless a rule says).
fn api() -> OpenApiRouter<AppState> {
    use Subject as S;
    let rule = Rule::new;
    let at = |r: Rule, routes: OpenApiRouter<AppState>| access::guarded(r, routes);
    let one = OpenApiRouter::new;
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        // GET /api/v1/leads (every tenant's) shares its path with the ingest POST. It goes in
        // first: merging two method routers keeps the later one's fallback, and the ingest
        // one's carries the CORS layer that answers preflights. The GET itself gets no CORS.
        .merge(at(
            rule(S::Leads, At::Platform),
            one().routes(routes!(leads::list_all_leads)),
        ))
        .merge(ingest_routes())
        .merge(hook_routes())
        .merge(open_routes())
        // Tenants: the list and creating one are the platform's; a tenant's users read
        // their own tenant.
        .merge(at(
            rule(S::Tenant, At::Platform),
            one().routes(routes!(tenants::list_tenants, tenants::create_tenant)),
        ))
        .merge(at(
            rule(S::Tenant, At::Tenant),
            one().routes(routes!(
                tenants::get_tenant,
                tenants::replace_tenant,
                tenants::patch_tenant,
                tenants::delete_tenant
            )),
        ))
        .merge(at(
            rule(S::Settings, At::Tenant),
            one()
                .routes(routes!(
                    settings::get_settings,
                    settings::put_settings,
                    settings::patch_settings
                ))
                .routes(routes!(integrations::get_integrations))
                .routes(routes!(integrations::sync_meta)),
        ))
        .merge(at(
            rule(S::Stages, At::Tenant),
            one()
                .routes(routes!(
                    stages::list_stages,
                    stages::add_stage,
                    stages::reorder_stages
                ))
                .routes(routes!(stages::patch_stage, stages::delete_stage)),
        ))
        .merge(at(
            rule(S::Keys, At::Tenant),
            one()
                .routes(routes!(keys::list_keys, keys::create_key))
                .routes(routes!(keys::rotate_key))
                .routes(routes!(keys::reveal_key))
                .routes(routes!(keys::revoke_key)),
        ))
        .merge(at(
            rule(S::Webhooks, At::Tenant),
            one()
                .routes(routes!(webhooks::list_webhooks, webhooks::create_webhook))
                .routes(routes!(
                    webhooks::get_webhook,
                    webhooks::patch_webhook,
                    webhooks::delete_webhook
                ))
                .routes(routes!(webhooks::rotate_secret))
                .routes(routes!(webhooks::test_webhook))
                .routes(routes!(webhooks::list_deliveries))
                .routes(routes!(webhooks::retry_delivery))
                .routes(routes!(webhooks::recover)),
        ))
        .merge(at(
            rule(S::Notifications, At::Tenant),
            one()
                .routes(routes!(
                    notifications::get_notifications,
                    notifications::put_notifications,
                    notifications::patch_notifications
                ))
                .routes(routes!(notifications::test_notification))
                .routes(routes!(notifications::preview_notification)),
        ))
        .merge(at(
            rule(S::Leads, At::Tenant),
            one()
                .routes(routes!(leads::list_leads, leads::create_lead))
                .routes(routes!(leads::export_csv))
                .routes(routes!(sla::tenant_breaches)),
        ))
        .merge(at(
            rule(S::Leads, At::Lead),
            one()
                .routes(routes!(
                    leads::get_lead,
                    leads::patch_lead,
                    leads::delete_lead
                ))
                .routes(routes!(leads::add_note)),
        ))
        .merge(at(
            rule(S::Leads, At::Platform),
            one().routes(routes!(sla::all_breaches)),
        ))
        .merge(at(
            rule(S::Analytics, At::Platform),
            one()
                .routes(routes!(dashboard::dashboard))
                .routes(routes!(dashboard::global_analytics)),
        ))
        .merge(at(
            rule(S::Analytics, At::Tenant),
            one().routes(routes!(dashboard::analytics)),
        ))
        .merge(at(
            rule(S::Events, At::OwnTenant),
            one().routes(routes!(events::events)),
        ))
        .merge(at(
            rule(S::Audit, At::Platform),
            one().routes(routes!(audit::list_audit)),
        ))
        .merge(at(
            rule(S::PlatformSettings, At::Platform),
            one().routes(routes!(
                platform_settings::get_platform_settings,
                platform_settings::put_platform_settings,
                platform_settings::patch_platform_settings
            )),
        ))
        .merge(at(
            rule(S::Plans, At::Platform),
            one()
                .routes(routes!(plans::list_plans, plans::create_plan))
                .routes(routes!(plans::patch_plan, plans::delete_plan))
                .routes(routes!(plans::billing_sync)),
        ))
        .merge(at(
            rule(S::Usage, At::Platform),
            one().routes(routes!(usage::usage)),
        ))
        .merge(at(
            rule(S::Usage, At::Tenant),
            one().routes(routes!(usage::tenant_usage)),
        ))
        // Users and their credentials. Login, invitations and resets need no credential.
        .merge(access::open(
            "none",
            one()
                .routes(routes!(sessions::login))
                .routes(routes!(invites::accept_invite))
                .routes(routes!(invites::password_reset))
                .routes(routes!(invites::password_reset_confirm)),
        ))
        .merge(at(
            rule(S::Account, At::Account),
            one()
                .routes(routes!(sessions::logout))
                .routes(routes!(users::get_me, users::patch_me))
                .routes(routes!(
                    personal_tokens::list_tokens,
                    personal_tokens::create_token
                ))
                .routes(routes!(personal_tokens::delete_token)),
        ))
        .merge(at(
            rule(S::PlatformUsers, At::Platform),
            one()
                .routes(routes!(
                    users::list_platform_users,
                    users::create_platform_user
                ))
                .routes(routes!(
                    users::patch_platform_user,
                    users::delete_platform_user
                )),
        ))
        .merge(at(
            rule(S::Users, At::Tenant),
            one()
                .routes(routes!(users::list_tenant_users, users::create_tenant_user))
                .routes(routes!(
                    users::get_tenant_user,
                    users::patch_tenant_user,
                    users::delete_tenant_user
                )),
        ))
        .merge(at(
            rule(S::SystemLogs, At::Platform),
            one()
                .routes(routes!(logs::logs))
                .routes(routes!(logs::logs_stream)),
        ))
}

/// The OpenAPI document of every route [`build_router`] serves.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = api().split_for_parts().1;
    common_responses(&mut doc);
    doc
}

/// Answers every route can give besides its own: 429 `too_many_auth_failures` wherever a
/// credential can be refused (401), and 408 `body_timeout` wherever a body is read.
fn common_responses(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{RefOr, schema::Type};
    let retry_after = utoipa::openapi::HeaderBuilder::new()
        .schema(utoipa::openapi::ObjectBuilder::new().schema_type(Type::Integer))
        .description(Some("Seconds to wait"))
        .build();
    for item in doc.paths.paths.values_mut() {
        let ops = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for op in ops.into_iter().flatten() {
            let responses = &mut op.responses.responses;
            if let Some(RefOr::T(unauthorized)) = responses.get("401").cloned()
                && !responses.contains_key("429")
            {
                let mut r = unauthorized;
                r.description =
                    "Too many refused credentials from this address; see Retry-After".into();
                r.headers.insert("Retry-After".into(), retry_after.clone());
                responses.insert("429".into(), RefOr::T(r));
            }
            let error_body = responses
                .get("401")
                .or_else(|| responses.get("400"))
                .cloned();
            if op.request_body.is_some()
                && !responses.contains_key("408")
                && let Some(RefOr::T(mut r)) = error_body
            {
                r.description = "The request body did not arrive in time".into();
                r.headers.clear();
                responses.insert("408".into(), RefOr::T(r));
            }
        }
    }
}

/// The whole HTTP application. Tests drive it in-process (`tower::ServiceExt::oneshot`) or
/// serve it on a loopback port with [`launch`].
pub fn build_router(state: AppState) -> Router {
    build_full(
        state,
        Arc::new(AuthThrottle::new(
            throttle::DEFAULT_LIMIT,
            throttle::DEFAULT_WINDOW,
        )),
    )
}

fn build_full(state: AppState, throttle: Arc<AuthThrottle>) -> Router {
    let (router, mut doc) = api().split_for_parts();
    common_responses(&mut doc);
    let doc = Arc::new(doc.to_pretty_json().unwrap_or_default());
    let router = router.route(
        "/api/v1/openapi.json",
        axum::routing::get(move || {
            let doc = doc.clone();
            async move {
                let mut resp = (
                    [
                        (header::CONTENT_TYPE, "application/json"),
                        // The one answer without personal data worth caching.
                        (header::CACHE_CONTROL, "no-cache"),
                    ],
                    (*doc).clone(),
                )
                    .into_response();
                resp.extensions_mut().insert(Cacheable);
                resp
            }
        }),
    );
    finish(router, state, throttle)
}

/// The public listener's router under `--admin-listen`: [`public_api`] only. Every other
/// path and method is 404, so the public side does not reveal which admin routes exist.
fn build_public(state: AppState, throttle: Arc<AuthThrottle>) -> Router {
    let (router, _) = public_api().split_for_parts();
    finish(
        router.method_not_allowed_fallback(not_found),
        state,
        throttle,
    )
}

/// Marks the one response that may be cached (see [`cache_control`]).
#[derive(Clone, Copy)]
struct Cacheable;

/// `Cache-Control: no-store` on every answer but the OpenAPI document: most carry personal
/// data (leads, lists, exports, audit, logs, keys, settings), and one rule for all cannot
/// miss a new route.
fn cache_control(resp: &Response) -> Option<HeaderValue> {
    if resp.extensions().get::<Cacheable>().is_some() {
        None
    } else {
        Some(HeaderValue::from_static("no-store"))
    }
}

fn finish(router: Router<AppState>, state: AppState, throttle: Arc<AuthThrottle>) -> Router {
    router
        .fallback(not_found)
        .layer(throttle::ThrottleLayer(throttle))
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
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            cache_control,
        ))
        // Every answer: browsers must not guess a type other than the declared one (a JSON
        // error echoing input must never be run as HTML).
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        // For the access guard (`access::guarded`), which the route table builds before
        // there is a state.
        .layer(axum::Extension(state.clone()))
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
/// finish and commits every pending write before returning. Default timeouts and caps.
pub async fn launch<F>(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: F,
) -> std::io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    launch_with(
        Listeners {
            main: listener,
            admin: None,
        },
        state,
        HttpOptions::default(),
        shutdown,
    )
    .await
}

/// Where the daemon listens.
pub struct Listeners {
    /// Everything, or with `admin` set, only ingest and health ([`public_api`]).
    pub main: tokio::net::TcpListener,
    /// The whole API (`--admin-listen`).
    pub admin: Option<tokio::net::TcpListener>,
}

/// The HTTP server's timeouts and caps and the refused-credential throttle (from the flags).
#[derive(Debug, Clone, Copy)]
pub struct HttpOptions {
    pub limits: ServerLimits,
    /// Wrong credentials per address per window before 429s; 0 disables.
    pub auth_failure_limit: u32,
    pub auth_failure_window: Duration,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            limits: ServerLimits::default(),
            auth_failure_limit: throttle::DEFAULT_LIMIT,
            auth_failure_window: throttle::DEFAULT_WINDOW,
        }
    }
}

/// Binds `--listen` (and `--admin-listen`), raises the open-file limit and turns the flags
/// into [`HttpOptions`].
pub async fn bind(
    args: &crate::config::ServeArgs,
) -> Result<(Listeners, HttpOptions), crate::run::StartError> {
    let bind = |addr: std::net::SocketAddr| async move {
        tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| crate::run::StartError::Listen { addr, source })
    };
    let main = bind(args.listen).await?;
    let admin = match args.http.admin_listen {
        Some(a) => Some(bind(a).await?),
        None => None,
    };
    let fd_limit = server::raise_open_file_limit();
    let opts = http_options(&args.http, fd_limit, 1 + usize::from(admin.is_some()));
    Ok((Listeners { main, admin }, opts))
}

/// The flags as [`HttpOptions`], with the connection cap fitted to `fd_limit` for
/// `listeners` listeners.
pub fn http_options(
    h: &crate::config::HttpArgs,
    fd_limit: Option<u64>,
    listeners: usize,
) -> HttpOptions {
    HttpOptions {
        limits: ServerLimits {
            header_read_timeout: h.header_read_timeout,
            body_timeout: h.body_timeout,
            idle_timeout: h.idle_timeout,
            send_timeout: h.send_timeout,
            max_header_bytes: h.max_header_bytes,
            max_connections: server::clamp_connections(h.max_connections, fd_limit, listeners),
        },
        auth_failure_limit: h.auth_failure_limit,
        auth_failure_window: h.auth_failure_window,
    }
}

/// [`launch`] with every listener and option.
pub async fn launch_with<F>(
    listeners: Listeners,
    state: AppState,
    opts: HttpOptions,
    shutdown: F,
) -> std::io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    let store = state.store.clone();
    let throttle = Arc::new(AuthThrottle::new(
        opts.auth_failure_limit,
        opts.auth_failure_window,
    ));
    let served_on = match listeners.admin {
        None => vec![(listeners.main, build_full(state.clone(), throttle.clone()))],
        Some(admin) => vec![
            (
                listeners.main,
                build_public(state.clone(), throttle.clone()),
            ),
            (admin, build_full(state.clone(), throttle.clone())),
        ],
    };
    let flusher = tokio::spawn(flush_coalesced_loop(store.clone()));
    let monitor = tokio::spawn(crate::monitor::run(
        state.clone(),
        state.mailer.clone(),
        state.sla_interval,
    ));
    let outbox = crate::outbox_worker::spawn(state.clone());
    let plan_jobs = tokio::spawn(crate::plan_jobs::run(state.clone()));
    let auth_log = tokio::spawn(throttle.clone().log_loop());
    let forget_idle_keys = state
        .rate_limit
        .clone()
        .map(|limit| tokio::spawn(limit.forget_idle_loop(crate::ratelimit::FORGET_IDLE_EVERY)));
    let events = state.events.clone();
    let served = server::serve(served_on, opts.limits, async move {
        shutdown.await;
        events.close();
    })
    .await;
    flusher.abort();
    monitor.abort();
    plan_jobs.abort();
    outbox.stop();
    auth_log.abort();
    if let Some(t) = forget_idle_keys {
        t.abort();
    }
    // What the last interval counted, so a flood just before the stop is not lost.
    throttle.flush_log();
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
