//! The caller's personal tokens for scripts: `GET/POST /api/v1/me/tokens`,
//! `DELETE /api/v1/me/tokens/{token_id}`. Only a session manages them: no token mints or
//! deletes tokens.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use echo5_core::ErrorBody;
use echo5_core::page::List;
use echo5_core::personal_tokens::{self, NewPersonalToken, PersonalToken, PersonalTokenWithSecret};
use echo5_core::tokens::{self, TokenKind};
use echo5_core::users::UserId;

use crate::access::Authorized;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, path_id};
use crate::state::AppState;

fn user_of(auth: &Authorized) -> ApiResult<UserId> {
    auth.user_id().ok_or(ApiError::Forbidden {
        code: "forbidden",
        message: "the admin token has no account and no personal tokens".into(),
    })
}

/// The caller's personal tokens, oldest first; never the tokens themselves.
#[utoipa::path(get, path = "/api/v1/me/tokens", tag = "users",
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The caller's tokens", body = List<PersonalToken>),
        (status = 401, description = "Missing or invalid credential", body = ErrorBody),
        (status = 403, description = "The admin token (which has no account)", body = ErrorBody)))]
pub async fn list_tokens(
    State(state): State<AppState>,
    auth: Authorized,
) -> ApiResult<Json<List<PersonalToken>>> {
    let user = user_of(&auth)?;
    Ok(Json(List {
        data: state.store.list_personal_tokens(user).await?,
    }))
}

/// Creates a personal token (`e5p_…`) acting as the caller within its scope (`read`:
/// reads only; `write`: whatever the caller may do), for 1–365 days (default 30). The
/// answer carries the token once.
#[utoipa::path(post, path = "/api/v1/me/tokens", tag = "users", request_body = NewPersonalToken,
    security(("admin_token" = [])),
    responses(
        (status = 201, description = "Created; `secret` is shown once", body = PersonalTokenWithSecret),
        (status = 400, description = "Unreadable body or unknown field", body = ErrorBody),
        (status = 401, description = "Missing or invalid credential", body = ErrorBody),
        (status = 403, description = "Not a session (a personal token or the admin token)", body = ErrorBody),
        (status = 422, description = "A bad label or expiry", body = ErrorBody)))]
pub async fn create_token(
    State(state): State<AppState>,
    auth: Authorized,
    ApiJson(input): ApiJson<NewPersonalToken>,
) -> ApiResult<(StatusCode, Json<PersonalTokenWithSecret>)> {
    let user = user_of(&auth)?;
    let fields = personal_tokens::validate_new(&input, state.store.now())?;
    let secret = tokens::generate(TokenKind::Personal)
        .map_err(|e| ApiError::Store(echo5_data::StoreError::Internal(e.to_string())))?;
    let token = state
        .store
        .create_personal_token(
            auth.actor(),
            user,
            fields,
            tokens::hash(secret.expose()),
            tokens::display_prefix(secret.expose()),
        )
        .await?;
    tracing::info!(user = %user, token = %token.id, "personal token created");
    Ok((
        StatusCode::CREATED,
        Json(PersonalTokenWithSecret {
            token,
            secret: secret.expose().clone(),
        }),
    ))
}

/// Deletes one of the caller's personal tokens; it stops working at once.
#[utoipa::path(delete, path = "/api/v1/me/tokens/{token_id}", tag = "users",
    params(("token_id" = String, Path, description = "Token id")),
    security(("admin_token" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Missing or invalid credential", body = ErrorBody),
        (status = 403, description = "Not a session (a personal token or the admin token)", body = ErrorBody),
        (status = 404, description = "No such token of the caller", body = ErrorBody)))]
pub async fn delete_token(
    State(state): State<AppState>,
    auth: Authorized,
    Path(token_id): Path<String>,
) -> ApiResult<StatusCode> {
    let user = user_of(&auth)?;
    let id = path_id(&token_id, "personal token")?;
    state
        .store
        .delete_personal_token(auth.actor(), user, id)
        .await?;
    state.credentials_ended();
    Ok(StatusCode::NO_CONTENT)
}
