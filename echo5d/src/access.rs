//! Who a request acts as, and whether it may do what it asks.
//!
//! - [`authenticate`] turns any credential (`Authorization: Bearer …`) into a
//!   [`Principal`]: the admin token (`e5a_`), a user's session (`e5s_`, within its idle and
//!   absolute timeouts), a personal token (`e5p_`, within its expiry) or an ingest key
//!   (`e5_`).
//! - Each route states what it needs in the route table (`app.rs`) as a [`Rule`]: a subject,
//!   where the resource lives (the platform, the `{tenant}` of the path, the lead of the path,
//!   the caller's own account), and the action (from the method unless the rule says).
//!   [`guarded`] puts the rule in front of the routes and into the OpenAPI document
//!   (`x-permission`), so what the document says is what runs.
//! - The decision is `core::authorization::authorize`: 401 for a dead credential, 404 for
//!   another tenant's resource, 403 `forbidden` within one's own.
//! - A handler reads the outcome as [`Authorized`]: the principal, the [`Reach`] (every lead
//!   in scope, or a manager's assigned ones) and the tenant the path named.

use axum::extract::{FromRequestParts, RawPathParams, Request};
use axum::http::request::Parts;
use axum::http::{Method, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use echo5_core::DomainError;
use echo5_core::authorization::{
    self, Action, Decision, LeadRef, Principal, Reach, Resource, Subject,
};
use echo5_core::personal_tokens;
use echo5_core::sessions::SessionState;
use echo5_core::tokens::{self, TokenKind};
use echo5_core::users::{TenantId, UserId};
use echo5_data::TenantKey;
use echo5_data::keys::KeyRejection;
use std::fmt;
use utoipa_axum::router::OpenApiRouter;

use crate::credential_cache::Cached;
use crate::error::ApiError;
use crate::state::AppState;

/// What a request presented, kept to check it again later (an open event stream checks
/// its credential whenever credentials end). `Debug` shows the kind, never the hash.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Credential {
    pub kind: TokenKind,
    hash: [u8; 32],
}

impl Credential {
    /// The stored hash of the presented token (what sessions and tokens are looked up by).
    pub fn hash(&self) -> [u8; 32] {
        self.hash
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Credential({:?})", self.kind)
    }
}

fn unauthorized(code: &'static str, message: &str) -> ApiError {
    ApiError::Unauthorized {
        code,
        message: message.into(),
    }
}

/// The bearer token of a request, if it sent one.
fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .unwrap_or(value)
        .trim();
    (!token.is_empty()).then_some(token)
}

/// The principal a request acts as, from its bearer token. 401 `missing_token` without
/// one; 401 `invalid_token` for a token that names nothing (or a deactivated user's);
/// 401 `session_expired` / `token_expired` for one past its time.
pub async fn authenticate(
    state: &AppState,
    parts: &Parts,
) -> Result<(Principal, Credential), ApiError> {
    let token = bearer(parts).ok_or_else(|| {
        unauthorized(
            "missing_token",
            "send a credential as Authorization: Bearer <token> (log in with POST /api/v1/auth/login)",
        )
    })?;
    let invalid = || unauthorized("invalid_token", "the credential is not valid");
    match tokens::kind_of(token) {
        Some(TokenKind::Session) => {
            let hash = tokens::hash(token);
            let credential = Credential {
                kind: TokenKind::Session,
                hash,
            };
            session_principal(state, hash)
                .await?
                .map(|p| (p, credential))
                .ok_or_else(invalid)
        }
        Some(TokenKind::Personal) => {
            let hash = tokens::hash(token);
            let credential = Credential {
                kind: TokenKind::Personal,
                hash,
            };
            personal_token_principal(state, hash)
                .await?
                .map(|p| (p, credential))
                .ok_or_else(invalid)
        }
        Some(TokenKind::ApiKey) => match state.store.authenticate_key(token) {
            Ok(k) => Ok((
                Principal::IngestKey {
                    key_id: k.key_id,
                    tenant: k.tenant_id,
                },
                Credential {
                    kind: TokenKind::ApiKey,
                    hash: tokens::hash(token),
                },
            )),
            Err(r) => {
                if !matches!(r, KeyRejection::TenantInactive) {
                    tracing::debug!(reason = %r, "API key refused");
                }
                Err(invalid())
            }
        },
        // Links are not credentials: their token only sets a password.
        Some(TokenKind::Invite | TokenKind::Reset) => Err(invalid()),
        // The admin token, and tokens issued before tokens had prefixes.
        Some(TokenKind::Admin) | None => {
            let hash = echo5_core::crypto::sha256(token.as_bytes());
            state
                .admin_token(&hash)
                .map(|token_id| {
                    (
                        Principal::AdminToken { token_id },
                        Credential {
                            kind: TokenKind::Admin,
                            hash,
                        },
                    )
                })
                .ok_or_else(invalid)
        }
    }
}

/// The credential cache's entry for `hash`, or what `read` finds in the database (then
/// kept). The revocation count is taken before the read: a change committing meanwhile
/// leaves an entry that is already stale.
async fn cached<Fut>(
    state: &AppState,
    hash: [u8; 32],
    read: impl FnOnce(u64) -> Fut,
) -> Result<Option<Cached>, ApiError>
where
    Fut: std::future::Future<Output = Result<Option<Cached>, ApiError>>,
{
    let epoch = state.revocation_count();
    if let Some(c) = state.credential_cache.get(&hash, epoch) {
        return Ok(Some(c));
    }
    let entry = read(epoch).await?;
    if let Some(e) = &entry {
        state.credential_cache.put(hash, e.clone());
    }
    Ok(entry)
}

/// The session's user, if the session is live: within its idle and absolute timeouts and
/// the user active (the lookup joins `users.active`). A live session is marked used at most
/// once a minute (`sessions::TOUCH_EVERY`), awaited so the next request sees it. What the
/// database said is kept in the credential cache until users or credentials change.
async fn session_principal(
    state: &AppState,
    hash: [u8; 32],
) -> Result<Option<Principal>, ApiError> {
    let cached = cached(state, hash, |epoch| async move {
        Ok(state.store.session(hash).await?.map(|s| Cached {
            epoch,
            principal: Principal::Session {
                account: (&s.user).into(),
            },
            created_at: Some(s.created_at),
            last_used_at: Some(s.last_seen_at),
            expires_at: None,
        }))
    })
    .await?;
    let Some(cached) = cached else {
        return Ok(None);
    };
    let now = state.store.now();
    let (Some(created_at), Some(last_seen_at)) = (cached.created_at, cached.last_used_at) else {
        state.credential_cache.forget(&hash);
        return Ok(None);
    };
    match state.sessions.state(created_at, last_seen_at, now) {
        SessionState::Live { .. } => {}
        SessionState::IdleExpired | SessionState::AbsoluteExpired => {
            return Err(unauthorized(
                "session_expired",
                "the session has expired; log in again",
            ));
        }
    }
    if echo5_data::sessions::needs_touch(last_seen_at, now) {
        state.store.touch_session(hash).await?;
        state.credential_cache.touched(&hash, now);
    }
    Ok(Some(cached.principal))
}

/// The personal token's user, if the token is within its expiry and the user active
/// (cached like a session).
async fn personal_token_principal(
    state: &AppState,
    hash: [u8; 32],
) -> Result<Option<Principal>, ApiError> {
    let cached = cached(state, hash, |epoch| async move {
        Ok(state.store.personal_token(hash).await?.map(|r| Cached {
            epoch,
            principal: Principal::PersonalToken {
                token_id: r.token.id,
                account: (&r.user).into(),
                scope: r.token.scope,
            },
            created_at: None,
            last_used_at: r.token.last_used_at,
            expires_at: Some(r.token.expires_at),
        }))
    })
    .await?;
    let Some(cached) = cached else {
        return Ok(None);
    };
    let now = state.store.now();
    if !cached
        .expires_at
        .is_some_and(|at| personal_tokens::usable(now, at, None))
    {
        return Err(unauthorized(
            "token_expired",
            "the personal token has expired; create a new one",
        ));
    }
    if let Principal::PersonalToken { token_id, .. } = &cached.principal
        && cached
            .last_used_at
            .is_none_or(|at| echo5_data::sessions::needs_touch(at, now))
    {
        state.store.touch_personal_token(*token_id).await?;
        state.credential_cache.touched(&hash, now);
    }
    Ok(Some(cached.principal))
}

/// Whether a credential still works now (an open event stream asks whenever credentials
/// end). The admin token and keys are checked on their own paths.
pub async fn still_valid(state: &AppState, credential: Credential) -> bool {
    let live = match credential.kind {
        TokenKind::Session => session_principal(state, credential.hash).await,
        TokenKind::Personal => personal_token_principal(state, credential.hash).await,
        _ => return true,
    };
    // A database that cannot answer keeps the stream: the next change asks again.
    !matches!(live, Ok(None) | Err(ApiError::Unauthorized { .. }))
}

/// Where a route's resource lives, which decides the scope authorization is asked about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum At {
    /// Across tenants, or the platform's own (tenant users: 403).
    Platform,
    /// The tenant named by the path's `{tenant}` (id or slug).
    Tenant,
    /// The tenant of the lead named by the path's `{lead_id}`.
    Lead,
    /// The principal's own tenant (the platform for platform principals): the event
    /// stream, which each principal sees filtered to what is theirs.
    OwnTenant,
    /// The caller's own account (`/me`).
    Account,
}

/// What a route needs: checked by [`guarded`] before the handler runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub subject: Subject,
    pub at: At,
    /// `None`: from the method (GET reads, DELETE deletes, the rest write).
    pub action: Option<Action>,
}

impl Rule {
    pub const fn new(subject: Subject, at: At) -> Rule {
        Rule {
            subject,
            at,
            action: None,
        }
    }

    pub fn action_for(&self, method: &Method) -> Action {
        self.action.unwrap_or(match *method {
            Method::GET | Method::HEAD => Action::Read,
            Method::DELETE => Action::Delete,
            _ => Action::Write,
        })
    }
}

/// The outcome of a route's [`Rule`], for its handler: who is asking, which leads they
/// reach, and the tenant the path named (resolved from id or slug) when it named one.
#[derive(Debug, Clone)]
pub struct Authorized {
    pub principal: Principal,
    /// `All`, or for a manager on leads, analytics and events `AssignedTo(their id)`:
    /// what listings, exports, analytics and the event stream filter by.
    pub reach: Reach,
    /// The `{tenant}` of the path (or the lead's tenant), when authorization resolved it.
    /// Platform principals skip the lookup, so it is `None` for them.
    pub tenant: Option<TenantId>,
    pub credential: Credential,
}

impl Authorized {
    /// How audit rows name this caller (`core::authorization::Actor::to_audit`).
    pub fn actor(&self) -> String {
        self.principal.actor().to_audit()
    }

    /// The user behind the credential (a session or personal token).
    pub fn user_id(&self) -> Option<UserId> {
        self.principal.account().map(|a| a.id)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Authorized {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        // Only [`guarded`] puts it there: a route without a rule cannot act for anyone.
        parts.extensions.get::<Authorized>().cloned().ok_or_else(|| {
            tracing::error!(path = %parts.uri.path(), "a route without an access rule was called");
            ApiError::Store(echo5_data::StoreError::Internal(
                "route without an access rule".into(),
            ))
        })
    }
}

/// `routes` behind `rule`: every request is authenticated and authorized before its handler
/// runs, and each operation of `routes` states the rule in the OpenAPI document.
pub fn guarded(rule: Rule, mut routes: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    document(&mut routes, Some(rule), None);
    routes.route_layer(middleware::from_fn(move |req: Request, next: Next| {
        check(rule, req, next)
    }))
}

/// Routes that authenticate on their own (ingest with a site's API key) or not at all
/// (health, login): `what` is stated in the OpenAPI document instead of a rule.
pub fn open(what: &'static str, mut routes: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    document(&mut routes, None, Some(what));
    routes
}

fn subject_name(s: Subject) -> String {
    let dbg = format!("{s:?}");
    let mut out = String::new();
    for (i, c) in dbg.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn action_name(a: Action) -> &'static str {
    match a {
        Action::Read => "read",
        Action::Write => "write",
        Action::Delete => "delete",
    }
}

/// Writes each operation's requirement into the document: an `x-permission` object
/// (`subject`, `action`, `tenant_users`: what a tenant user needs, `personal_token`: the
/// scope a token needs) and a sentence at the end of the description.
fn document(routes: &mut OpenApiRouter<AppState>, rule: Option<Rule>, open: Option<&str>) {
    use utoipa::openapi::extensions::ExtensionsBuilder;
    let doc = routes.get_openapi_mut();
    for item in doc.paths.paths.values_mut() {
        let ops = [
            (Method::GET, &mut item.get),
            (Method::PUT, &mut item.put),
            (Method::POST, &mut item.post),
            (Method::DELETE, &mut item.delete),
            (Method::PATCH, &mut item.patch),
        ];
        for (method, op) in ops {
            let Some(op) = op else { continue };
            let (value, sentence) = match (rule, open) {
                (Some(rule), _) => {
                    let action = rule.action_for(&method);
                    let tenant_users = match rule.at {
                        At::Platform => "none (platform only: admin token or owner)".to_string(),
                        At::Account => match action {
                            Action::Read => "any user".to_string(),
                            _ => "any user, with a session (not a personal token)".to_string(),
                        },
                        _ => authorization::tenant_need(rule.subject, action).describe(),
                    };
                    let token = if action == Action::Read {
                        "read"
                    } else {
                        "write"
                    };
                    (
                        serde_json::json!({
                            "subject": subject_name(rule.subject),
                            "action": action_name(action),
                            "tenant_users": tenant_users,
                            "personal_token_scope": token,
                        }),
                        format!(
                            "Permission: {} {} — tenant users: {tenant_users}; admin token and owners: yes.",
                            action_name(action),
                            subject_name(rule.subject)
                        ),
                    )
                }
                (None, what) => {
                    let what = what.unwrap_or("none");
                    (
                        serde_json::json!({ "credential": what }),
                        format!("Permission: {what}."),
                    )
                }
            };
            let ext = ExtensionsBuilder::new().add("x-permission", value).build();
            match &mut op.extensions {
                Some(e) => e.merge(ext),
                None => op.extensions = Some(ext),
            }
            op.description = Some(match op.description.take() {
                Some(d) if !d.is_empty() => format!("{d}\n\n{sentence}"),
                _ => sentence,
            });
        }
    }
}

/// The guard in front of a rule's routes.
async fn check(rule: Rule, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    let Some(state) = parts.extensions.get::<AppState>().cloned() else {
        return ApiError::Store(echo5_data::StoreError::Internal("no state".into()))
            .into_response();
    };
    match decide(&state, rule, &mut parts).await {
        Ok(auth) => {
            parts.extensions.insert(auth);
            next.run(Request::from_parts(parts, body)).await
        }
        Err(e) => e.into_response(),
    }
}

fn path_param(params: &RawPathParams, name: &str) -> Option<String> {
    params
        .iter()
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

async fn decide(state: &AppState, rule: Rule, parts: &mut Parts) -> Result<Authorized, ApiError> {
    let (principal, credential) = authenticate(state, parts).await?;
    let action = rule.action_for(&parts.method);
    let params = RawPathParams::from_request_parts(parts, state)
        .await
        .map_err(|_| not_found("route"))?;
    // Platform principals may do everything: no lookup is needed to decide, and the
    // handler answers 404 for what does not exist, as before users existed.
    let platform = principal.is_platform();
    let (decision, tenant) = match rule.at {
        At::Platform => (
            authorization::authorize(&principal, action, Resource::platform(rule.subject)),
            None,
        ),
        At::Account => (
            authorization::authorize(&principal, action, Resource::account()),
            None,
        ),
        At::OwnTenant => {
            let resource = match principal.tenant() {
                Some(t) => Resource::tenant(rule.subject, t),
                None => Resource::platform(rule.subject),
            };
            (
                authorization::authorize(&principal, action, resource),
                principal.tenant(),
            )
        }
        At::Tenant if platform => (
            authorization::authorize(&principal, action, Resource::platform(rule.subject)),
            None,
        ),
        At::Tenant => {
            let key = path_param(&params, "tenant").ok_or_else(|| not_found("tenant"))?;
            let id = tenant_id(state, &key).await?;
            (
                authorization::authorize(&principal, action, Resource::tenant(rule.subject, id)),
                Some(id),
            )
        }
        At::Lead if platform => (
            authorization::authorize(&principal, action, Resource::platform(rule.subject)),
            None,
        ),
        At::Lead => {
            let id = path_param(&params, "lead_id")
                .and_then(|s| uuid::Uuid::try_parse(&s).ok())
                .ok_or_else(|| not_found("lead"))?;
            let (tenant, assigned) = state.store.lead_owner(id).await?;
            let lead = LeadRef {
                tenant,
                assigned_to: assigned.and_then(|a| uuid::Uuid::try_parse(&a).ok()),
            };
            (
                authorization::authorize_lead(&principal, action, lead),
                Some(tenant),
            )
        }
    };
    let what = match rule.at {
        At::Lead => "lead",
        _ => "tenant",
    };
    let reach = match decision {
        Decision::Allow(reach) => reach,
        // An ingest key only sends leads: anywhere else it is refused as it was before
        // users existed (401), whichever tenant the route names.
        _ if matches!(principal, Principal::IngestKey { .. }) => {
            return Err(unauthorized(
                "invalid_token",
                "an API key only sends leads; this route takes a user's credential or the admin token",
            ));
        }
        Decision::Forbidden => {
            return Err(ApiError::Forbidden {
                code: "forbidden",
                message: "you are not allowed to do this".into(),
            });
        }
        Decision::NotFound => return Err(not_found(what)),
        Decision::Unauthenticated => {
            return Err(unauthorized("invalid_token", "the credential is not valid"));
        }
    };
    Ok(Authorized {
        principal,
        reach,
        tenant,
        credential,
    })
}

/// The tenant a path names (id or slug), remembered until tenants or credentials change.
async fn tenant_id(state: &AppState, key: &str) -> Result<TenantId, ApiError> {
    let epoch = state.revocation_count();
    if let Some(id) = state.credential_cache.tenant(key, epoch) {
        return Ok(id);
    }
    let id = state.store.tenant_id(TenantKey::parse(key)).await?;
    state.credential_cache.put_tenant(key, id, epoch);
    Ok(id)
}

fn not_found(what: &'static str) -> ApiError {
    ApiError::Domain(DomainError::NotFound { what })
}
