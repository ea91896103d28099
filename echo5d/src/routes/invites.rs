//! Invitations and password resets: single-use links mailed through the SMTP path
//! (`mailer.rs`). `POST /api/v1/auth/accept-invite`, `POST /api/v1/auth/password-reset`,
//! `POST /api/v1/auth/password-reset/confirm`.
//!
//! A link is `<--public-url>/accept-invite#token=e5i_…` (or `/reset-password#token=e5r_…`):
//! the token sits after `#`, which browsers and proxies never send to a server, so it stays
//! out of access logs; whatever opens the link posts it to the endpoint above.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use echo5_core::ErrorBody;
use echo5_core::authorization::{Actor, ActorKind};
use echo5_core::invites::{
    AcceptInvite, LinkPurpose, PasswordResetConfirm, PasswordResetRequest, RESETS_PER_ADDRESS,
    RESETS_PER_CLIENT,
};
use echo5_core::passwords::{self, Password, PasswordHash};
use echo5_core::secret::Secret;
use echo5_core::sessions::LoginGate;
use echo5_core::tokens;
use echo5_core::users::User;
use echo5_data::sessions::ThrottleKey;

use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::password_work;
use crate::routes::sessions::client_ip;
use crate::state::AppState;

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::Store(echo5_data::StoreError::Internal(e.to_string()))
}

fn invalid_link() -> ApiError {
    ApiError::Domain(echo5_core::DomainError::invalid(
        "token",
        "invalid_link",
        "the link is invalid or has expired",
    ))
}

/// Checks a new password against the policy (with the user's address and name as the
/// first guesses) and hashes it, off the async runtime.
pub(crate) async fn checked_hash(
    state: &AppState,
    password: Password,
    email: String,
    name: String,
) -> ApiResult<PasswordHash> {
    password_work::run(state, move || {
        passwords::check_policy(&password, &[&email, &name]).map_err(ApiError::Domain)?;
        passwords::hash(&password).map_err(internal)
    })
    .await?
}

fn link(state: &AppState, purpose: LinkPurpose, token: &str) -> String {
    let page = match purpose {
        LinkPurpose::Invite => "accept-invite",
        LinkPurpose::Reset => "reset-password",
    };
    format!("{}/{page}#token={token}", state.public_url)
}

/// A new link for `user`, stored (replacing their earlier unused one) and mailed in the
/// background. Returns the link.
async fn issue(
    state: &AppState,
    actor: String,
    user: &User,
    purpose: LinkPurpose,
) -> ApiResult<String> {
    let token = tokens::generate(purpose.token_kind()).map_err(internal)?;
    let expires_at = state
        .store
        .create_link(actor, user.id, purpose, tokens::hash(token.expose()))
        .await?;
    let url = link(state, purpose, token.expose());
    let (subject, body) = match purpose {
        LinkPurpose::Invite => (
            "You are invited to Echo5",
            format!(
                "Hello {name},\n\nyou have been given an Echo5 account ({email}). Set your \
                 password with this link, which works once, until {expires_at} UTC:\n\n{url}\n\n\
                 Or, with the console or curl: POST /api/v1/auth/accept-invite with the token \
                 after \"#token=\" and your new password.\n",
                name = user.name,
                email = user.email,
                expires_at = expires_at.format("%Y-%m-%d %H:%M"),
            ),
        ),
        LinkPurpose::Reset => (
            "Reset your Echo5 password",
            format!(
                "Hello {name},\n\nsomeone (hopefully you) asked to reset the password of the \
                 Echo5 account {email}. This link sets a new one; it works once, until \
                 {expires_at} UTC:\n\n{url}\n\nIf it was not you, ignore this message: your \
                 password stays as it is.\n",
                name = user.name,
                email = user.email,
                expires_at = expires_at.format("%Y-%m-%d %H:%M"),
            ),
        ),
    };
    let mailer = state.mailer.clone();
    let (to, id) = (user.email.clone(), user.id);
    let what = match purpose {
        LinkPurpose::Invite => "invitation",
        LinkPurpose::Reset => "password-reset link",
    };
    tokio::spawn(async move {
        match mailer.send_text(&to, subject, body).await {
            Ok(true) => tracing::info!(user = %id, "{what} mailed"),
            Ok(false) => tracing::info!(user = %id, "no SMTP server: {what} not mailed"),
            Err(error) => tracing::warn!(user = %id, %error, "{what} could not be mailed"),
        }
    });
    Ok(url)
}

/// Issues and mails a new user's invitation; returns its link for the create answer.
pub(crate) async fn invite(state: &AppState, actor: String, user: &User) -> ApiResult<String> {
    issue(state, actor, user, LinkPurpose::Invite).await
}

fn user_actor(user: &User) -> String {
    Actor {
        kind: ActorKind::User,
        id: user.id.to_string(),
        email: Some(user.email.clone()),
    }
    .to_audit()
}

/// Uses a link: checks the token, the new password against the policy, then sets it and
/// ends the user's sessions in the transaction that marks the link used.
async fn use_link(
    state: &AppState,
    purpose: LinkPurpose,
    token: Secret<String>,
    password: Password,
) -> ApiResult<User> {
    if !tokens::well_formed(purpose.token_kind(), token.expose()) {
        return Err(invalid_link());
    }
    let hash = tokens::hash(token.expose());
    let user = state
        .store
        .link_user(purpose, hash)
        .await?
        .ok_or_else(invalid_link)?;
    let phc = checked_hash(state, password, user.email.clone(), user.name.clone()).await?;
    let user = state
        .store
        .consume_link(user_actor(&user), purpose, hash, phc)
        .await?;
    state.credentials_ended();
    Ok(user)
}

/// Accepts an invitation: sets the new user's password. The link works once, for 72 hours;
/// used, expired and unknown links answer alike (422 `invalid_link`). Log in afterwards.
#[utoipa::path(post, path = "/api/v1/auth/accept-invite", tag = "auth", request_body = AcceptInvite,
    responses(
        (status = 200, description = "The password is set", body = User),
        (status = 400, description = "Unreadable body or unknown field", body = ErrorBody),
        (status = 422, description = "An invalid or expired link, or a weak password", body = ErrorBody)))]
pub async fn accept_invite(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<AcceptInvite>,
) -> ApiResult<Json<User>> {
    let user = use_link(&state, LinkPurpose::Invite, input.token, input.password).await?;
    tracing::info!(user = %user.id, "invitation accepted");
    Ok(Json(user))
}

/// Asks for a password-reset link by e-mail. Always 202, whether the address has an
/// account or not; the link (valid 1 hour, single use) goes only to the address itself.
/// At most 3 links per address are mailed within 15 minutes (further requests still answer
/// 202); a client asking more than 10 times within 15 minutes is answered 429.
#[utoipa::path(post, path = "/api/v1/auth/password-reset", tag = "auth", request_body = PasswordResetRequest,
    responses(
        (status = 202, description = "If the address has an account, a link is on its way"),
        (status = 400, description = "Unreadable body or unknown field", body = ErrorBody),
        (status = 429, description = "Too many reset requests from this client (`too_many_reset_requests`); see Retry-After",
            headers(("Retry-After" = u64, description = "Seconds to wait")), body = ErrorBody)))]
pub async fn password_reset(
    State(state): State<AppState>,
    ext: axum::http::Extensions,
    ApiJson(input): ApiJson<PasswordResetRequest>,
) -> ApiResult<StatusCode> {
    if let Some(ip) = client_ip(&ext) {
        let now = state.store.now();
        let key = ThrottleKey::ResetIp(ip);
        let since = now - RESETS_PER_CLIENT.window;
        let asked = state.store.login_failures(key.clone(), since).await?;
        if let LoginGate::Locked { retry_after_secs } = RESETS_PER_CLIENT.gate(&asked, now) {
            return Err(ApiError::ResetsLocked { retry_after_secs });
        }
        state
            .store
            .record_login_failure(key, RESETS_PER_CLIENT)
            .await?;
    }
    // Counted before the answer (for unknown addresses too, so the cap says nothing about
    // accounts); looked up and mailed after it, so its timing says nothing either.
    let email = input.email.trim().to_lowercase();
    let now = state.store.now();
    let key = ThrottleKey::ResetEmail(email.clone());
    let since = now - RESETS_PER_ADDRESS.window;
    let asked = state.store.login_failures(key.clone(), since).await?;
    if let LoginGate::Locked { .. } = RESETS_PER_ADDRESS.gate(&asked, now) {
        tracing::info!("password reset: this address had its links for now; none mailed");
        return Ok(StatusCode::ACCEPTED);
    }
    state
        .store
        .record_login_failure(key, RESETS_PER_ADDRESS)
        .await?;
    tokio::spawn(async move {
        if let Err(error) = mail_reset_link(&state, email).await {
            tracing::warn!(%error, "password reset: no link issued");
        }
    });
    Ok(StatusCode::ACCEPTED)
}

/// Mails a reset link to `email` when it names an active account.
async fn mail_reset_link(state: &AppState, email: String) -> ApiResult<()> {
    let found = state.store.find_user_by_email(email).await?;
    let Some(c) = found.filter(|c| c.user.active) else {
        return Ok(());
    };
    issue(state, "system".into(), &c.user, LinkPurpose::Reset).await?;
    Ok(())
}

/// Sets a new password with a reset link, and ends the user's sessions. The link works
/// once, for 1 hour; used, expired and unknown links answer alike (422 `invalid_link`).
#[utoipa::path(post, path = "/api/v1/auth/password-reset/confirm", tag = "auth", request_body = PasswordResetConfirm,
    responses(
        (status = 200, description = "The password is set", body = User),
        (status = 400, description = "Unreadable body or unknown field", body = ErrorBody),
        (status = 422, description = "An invalid or expired link, or a weak password", body = ErrorBody)))]
pub async fn password_reset_confirm(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<PasswordResetConfirm>,
) -> ApiResult<Json<User>> {
    let user = use_link(&state, LinkPurpose::Reset, input.token, input.password).await?;
    tracing::info!(user = %user.id, "password reset");
    Ok(Json(user))
}
