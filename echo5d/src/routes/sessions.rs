//! Logging in and out: `POST /api/v1/auth/login`, `POST /api/v1/auth/logout`.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use echo5_core::ErrorBody;
use echo5_core::authorization::{Actor, ActorKind};
use echo5_core::passwords;
use echo5_core::sessions::{Login, LoginAnswer, LoginGate, ThrottlePolicy};
use echo5_core::tokens::{self, TokenKind};
use echo5_data::sessions::{NewSession, ThrottleKey};
use std::net::IpAddr;
use tokio::time::Instant;

use crate::access::Authorized;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::password_work;
use crate::server::ClientAddr;
use crate::state::AppState;
use crate::throttle::client_key;

/// The address a request came from (`None` for a request driven in-process).
pub(crate) fn client_ip(ext: &axum::http::Extensions) -> Option<IpAddr> {
    ext.get::<ClientAddr>().map(|c| client_key(c.0.ip()))
}

/// The login gate for an e-mail address and a client address: the stricter of the two.
pub(crate) async fn login_gate(
    state: &AppState,
    email: &str,
    ip: Option<IpAddr>,
) -> ApiResult<LoginGate> {
    let policy = state.login_throttle;
    let now = state.store.now();
    let since = now - policy.window;
    let by_email = state
        .store
        .login_failures(ThrottleKey::Email(email.to_string()), since)
        .await?;
    let mut gate = policy.gate(&by_email, now);
    if let Some(ip) = ip {
        let by_ip = state
            .store
            .login_failures(ThrottleKey::Ip(ip), since)
            .await?;
        gate = gate.stricter(policy.gate(&by_ip, now));
    }
    Ok(gate)
}

/// Records a failed login for the address and the client; returns the gate the failures
/// now give (the answer to this very attempt is delayed or refused by it).
pub(crate) async fn record_failure(
    state: &AppState,
    email: &str,
    ip: Option<IpAddr>,
) -> ApiResult<LoginGate> {
    let policy: ThrottlePolicy = state.login_throttle;
    let now = state.store.now();
    let by_email = state
        .store
        .record_login_failure(ThrottleKey::Email(email.to_string()), policy)
        .await?;
    let mut gate = policy.gate(&by_email, now);
    if let Some(ip) = ip {
        let by_ip = state
            .store
            .record_login_failure(ThrottleKey::Ip(ip), policy)
            .await?;
        gate = gate.stricter(policy.gate(&by_ip, now));
    }
    Ok(gate)
}

/// Holds an answer back until `delay` after `started` (a slowed-down login).
async fn hold(gate: LoginGate, started: Instant) -> ApiResult<()> {
    match gate {
        LoginGate::Open => Ok(()),
        LoginGate::SlowDown { delay } => {
            tokio::time::sleep_until(started + delay.to_std().unwrap_or_default()).await;
            Ok(())
        }
        LoginGate::Locked { retry_after_secs } => Err(ApiError::LoginLocked { retry_after_secs }),
    }
}

/// Logs a user in: the session token (shown once), when it expires if left idle, and the
/// user. A wrong password, an unknown address, a user who has not accepted their
/// invitation and a deactivated user all answer the same 401 `invalid_credentials`, after
/// the same work. From the 5th failure within 15 minutes (per address, and per client)
/// answers are delayed (1, 2, 4, 8 s); the 10th locks the address: 429 with `Retry-After`.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = Login,
    responses(
        (status = 200, description = "Logged in", body = LoginAnswer),
        (status = 400, description = "Unreadable body or unknown field", body = ErrorBody),
        (status = 401, description = "Wrong e-mail address or password (`invalid_credentials`)", body = ErrorBody),
        (status = 429, description = "Too many failed logins (`too_many_login_attempts`); see Retry-After",
            headers(("Retry-After" = u64, description = "Seconds to wait")), body = ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    ext: axum::http::Extensions,
    ApiJson(input): ApiJson<Login>,
) -> ApiResult<Json<LoginAnswer>> {
    let started = Instant::now();
    let email = input.email.trim().to_lowercase();
    let ip = client_ip(&ext);
    let gate = login_gate(&state, &email, ip).await?;
    if let LoginGate::Locked { retry_after_secs } = gate {
        return Err(ApiError::LoginLocked { retry_after_secs });
    }
    let found = state.store.find_user_by_email(email.clone()).await?;
    let stored = found
        .as_ref()
        .filter(|c| c.user.active)
        .and_then(|c| c.password_hash.clone());
    let password = input.password;
    // The same work whether or not the address has a usable account. A hash made with
    // older parameters is redone while the password is at hand (only after a match, so an
    // unknown address still costs exactly one verification).
    let (verified, rehashed) = password_work::run(&state, move || match stored {
        Some(h) => {
            let ok = passwords::verify(&password, &h);
            let fresh = (ok && passwords::needs_rehash(&h))
                .then(|| passwords::hash(&password).ok())
                .flatten();
            (ok, fresh.map(|f| (h, f)))
        }
        None => (passwords::verify_unknown_user(&password), None),
    })
    .await?;
    if let (Some((stale, fresh)), Some(c)) = (rehashed, &found)
        && state.store.rehash_password(c.user.id, stale, fresh).await?
    {
        tracing::info!(user = %c.user.id, "password hash redone with today's parameters");
    }
    let user = match found {
        Some(c) if verified => c.user,
        _ => {
            let after = record_failure(&state, &email, ip).await?;
            hold(gate.stricter(after), started).await?;
            return Err(ApiError::InvalidCredentials);
        }
    };
    hold(gate, started).await?;
    let token = tokens::generate(TokenKind::Session)
        .map_err(|e| ApiError::Store(echo5_data::StoreError::Internal(e.to_string())))?;
    let actor = Actor {
        kind: ActorKind::User,
        id: user.id.to_string(),
        email: Some(user.email.clone()),
    };
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(200).collect());
    let user = state
        .store
        .create_session(
            actor.to_audit(),
            NewSession {
                user_id: user.id,
                token_hash: tokens::hash(token.expose()),
                ip: ip.map(|i| i.to_string()),
                user_agent,
            },
        )
        .await?;
    let now = state.store.now();
    tracing::info!(user = %user.id, "user logged in");
    Ok(Json(LoginAnswer {
        token: token.expose().clone(),
        expires_at: state.sessions.expires_at(now, now),
        user,
    }))
}

/// Ends the caller's login session at once.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth",
    security(("admin_token" = [])),
    responses(
        (status = 204, description = "Logged out"),
        (status = 401, description = "Missing or invalid credential", body = ErrorBody),
        (status = 403, description = "Not a session (a personal token or the admin token)", body = ErrorBody)))]
pub async fn logout(State(state): State<AppState>, auth: Authorized) -> ApiResult<StatusCode> {
    state
        .store
        .end_session(auth.actor(), auth.credential.hash())
        .await?;
    state.credentials_ended();
    Ok(StatusCode::NO_CONTENT)
}
