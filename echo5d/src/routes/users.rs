//! Users: the caller's own account (`/me`), platform users (`owner`s) and a tenant's users.
//! Creating a user sends the invitation (see `routes/invites.rs`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use echo5_core::ErrorBody;
use echo5_core::authorization::Principal;
use echo5_core::page::List;
use echo5_core::passwords;
use echo5_core::sessions::{LoginGate, Me};
use echo5_core::users::{self, MePatch, NewUser, Realm, User, UserCreated, UserPatch};
use echo5_data::TenantKey;
use echo5_data::users::UserScope;

use crate::access::Authorized;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, path_id};
use crate::password_work;
use crate::routes::invites;
use crate::routes::sessions::{client_ip, login_gate, record_failure};
use crate::state::AppState;

/// Who the credential is: its kind, its user (`null` for the admin token) and a personal
/// token's scope.
#[utoipa::path(get, path = "/api/v1/me", tag = "users",
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The caller", body = Me),
        (status = 401, description = "Missing or invalid credential", body = ErrorBody)))]
pub async fn get_me(State(state): State<AppState>, auth: Authorized) -> ApiResult<Json<Me>> {
    let user = match auth.user_id() {
        Some(id) => Some(state.store.get_user(UserScope::Any, id).await?),
        None => None,
    };
    let scope = match &auth.principal {
        Principal::PersonalToken { scope, .. } => Some(*scope),
        _ => None,
    };
    Ok(Json(Me {
        credential: auth.principal.actor().kind,
        user,
        scope,
    }))
}

fn wrong_current_password() -> ApiError {
    ApiError::Domain(echo5_core::DomainError::invalid(
        "current_password",
        "wrong_password",
        "the current password is wrong",
    ))
}

/// Changes the caller's name and/or password. A new password needs the current one, must
/// meet the policy (12..=128 characters, not easily guessed) and ends the user's other
/// sessions. Only with a session: no personal token changes its account.
#[utoipa::path(patch, path = "/api/v1/me", tag = "users", request_body = MePatch,
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The user after the change", body = User),
        (status = 400, description = "Unreadable body or unknown field", body = ErrorBody),
        (status = 401, description = "Missing or invalid credential", body = ErrorBody),
        (status = 403, description = "Not a session (a personal token or the admin token)", body = ErrorBody),
        (status = 422, description = "A bad name, a wrong current password, or a weak new one", body = ErrorBody),
        (status = 429, description = "Too many wrong current passwords; see Retry-After", body = ErrorBody)))]
pub async fn patch_me(
    State(state): State<AppState>,
    auth: Authorized,
    ext: axum::http::Extensions,
    ApiJson(patch): ApiJson<MePatch>,
) -> ApiResult<Json<User>> {
    let id = auth.user_id().ok_or(ApiError::Forbidden {
        code: "forbidden",
        message: "the admin token has no account to change".into(),
    })?;
    let change = users::validate_me_patch(&patch)?;
    if let Some((new, current)) = change.password {
        let creds = state.store.user_credentials(id).await?;
        let email = creds.user.email.clone();
        // A stolen session guessing the password is throttled like a login.
        let ip = client_ip(&ext);
        if let LoginGate::Locked { retry_after_secs } = login_gate(&state, &email, ip).await? {
            return Err(ApiError::LoginLocked { retry_after_secs });
        }
        let stored = creds.password_hash;
        let current = current.clone();
        let ok = password_work::run(&state, move || match &stored {
            Some(h) => passwords::verify(&current, h),
            None => passwords::verify_unknown_user(&current),
        })
        .await?;
        if !ok {
            if let LoginGate::Locked { retry_after_secs } =
                record_failure(&state, &email, ip).await?
            {
                return Err(ApiError::LoginLocked { retry_after_secs });
            }
            return Err(wrong_current_password());
        }
        let name = change.name.clone().unwrap_or(creds.user.name);
        let hash = invites::checked_hash(&state, new.clone(), email, name).await?;
        state
            .store
            .set_password(auth.actor(), id, hash, Some(auth.credential.hash()))
            .await?;
        state.credentials_ended();
    }
    if let Some(name) = change.name {
        state
            .store
            .patch_user(
                auth.actor(),
                UserScope::Any,
                id,
                UserPatch {
                    name: Some(name),
                    ..Default::default()
                },
                Some(id),
            )
            .await?;
    }
    Ok(Json(state.store.get_user(UserScope::Any, id).await?))
}

fn tenant_scope(tenant: &str) -> UserScope {
    UserScope::Tenant(TenantKey::parse(tenant))
}

async fn create(
    state: &AppState,
    auth: &Authorized,
    scope: UserScope,
    realm: Realm,
    input: NewUser,
) -> ApiResult<(StatusCode, Json<UserCreated>)> {
    let fields = users::validate_new(&input, realm)?;
    let user = state.store.create_user(auth.actor(), scope, fields).await?;
    let invite_url = invites::invite(state, auth.actor(), &user).await?;
    tracing::info!(user = %user.id, "user created");
    Ok((StatusCode::CREATED, Json(UserCreated { user, invite_url })))
}

async fn patch(
    state: &AppState,
    auth: &Authorized,
    scope: UserScope,
    id: &str,
    patch: UserPatch,
) -> ApiResult<Json<User>> {
    let id = path_id(id, "user")?;
    let user = state
        .store
        .patch_user(auth.actor(), scope, id, patch, auth.user_id())
        .await?;
    // Deactivation ends the user's credentials; a role or permission change changes what
    // they may do. Either way cached principals are read again.
    state.credentials_ended();
    Ok(Json(user))
}

async fn delete(
    state: &AppState,
    auth: &Authorized,
    scope: UserScope,
    id: &str,
) -> ApiResult<StatusCode> {
    let id = path_id(id, "user")?;
    state
        .store
        .delete_user(auth.actor(), scope, id, auth.user_id())
        .await?;
    state.credentials_ended();
    Ok(StatusCode::NO_CONTENT)
}

/// The platform's users (`owner`s), oldest first.
#[utoipa::path(get, path = "/api/v1/platform/users", tag = "users",
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "Every platform user", body = List<User>),
        (status = 401, description = "Missing or invalid credential", body = ErrorBody),
        (status = 403, description = "Not a platform principal", body = ErrorBody)))]
pub async fn list_platform_users(
    State(state): State<AppState>,
    _auth: Authorized,
) -> ApiResult<Json<List<User>>> {
    Ok(Json(List {
        data: state.store.list_users(UserScope::Platform).await?,
    }))
}

/// Adds a platform user (role `owner`) and sends the invitation: the answer carries
/// `invite_url` once (single use, valid 72 h), the e-mail carries it too.
#[utoipa::path(post, path = "/api/v1/platform/users", tag = "users", request_body = NewUser,
    security(("admin_token" = [])),
    responses(
        (status = 201, description = "Created, with the invitation link", body = UserCreated),
        (status = 400, description = "Unreadable body or unknown field", body = ErrorBody),
        (status = 401, description = "Missing or invalid credential", body = ErrorBody),
        (status = 403, description = "Not a platform principal", body = ErrorBody),
        (status = 409, description = "The e-mail address is taken (`email_taken`)", body = ErrorBody),
        (status = 422, description = "A bad e-mail, name or role", body = ErrorBody)))]
pub async fn create_platform_user(
    State(state): State<AppState>,
    auth: Authorized,
    ApiJson(input): ApiJson<NewUser>,
) -> ApiResult<(StatusCode, Json<UserCreated>)> {
    create(&state, &auth, UserScope::Platform, Realm::Platform, input).await
}

/// Changes a platform user; `active: false` ends their sessions and tokens at once.
/// Nobody deactivates themselves (409 `cannot_change_self`).
#[utoipa::path(patch, path = "/api/v1/platform/users/{user_id}", tag = "users", request_body = UserPatch,
    params(("user_id" = String, Path, description = "User id")),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The user after the change", body = User),
        (status = 400, description = "Unreadable body or unknown field", body = ErrorBody),
        (status = 401, description = "Missing or invalid credential", body = ErrorBody),
        (status = 403, description = "Not a platform principal", body = ErrorBody),
        (status = 404, description = "No such platform user", body = ErrorBody),
        (status = 409, description = "A change to oneself that would lock one out", body = ErrorBody),
        (status = 422, description = "A bad name or role", body = ErrorBody)))]
pub async fn patch_platform_user(
    State(state): State<AppState>,
    auth: Authorized,
    Path(user_id): Path<String>,
    ApiJson(input): ApiJson<UserPatch>,
) -> ApiResult<Json<User>> {
    patch(&state, &auth, UserScope::Platform, &user_id, input).await
}

/// Deletes a platform user; their sessions and tokens end with them.
#[utoipa::path(delete, path = "/api/v1/platform/users/{user_id}", tag = "users",
    params(("user_id" = String, Path, description = "User id")),
    security(("admin_token" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Missing or invalid credential", body = ErrorBody),
        (status = 403, description = "Not a platform principal", body = ErrorBody),
        (status = 404, description = "No such platform user", body = ErrorBody),
        (status = 409, description = "Deleting oneself (`cannot_change_self`)", body = ErrorBody)))]
pub async fn delete_platform_user(
    State(state): State<AppState>,
    auth: Authorized,
    Path(user_id): Path<String>,
) -> ApiResult<StatusCode> {
    delete(&state, &auth, UserScope::Platform, &user_id).await
}

/// A tenant's users, oldest first.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/users", tag = "users",
    params(("tenant" = String, Path, description = "Tenant id or slug")),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The tenant's users", body = List<User>),
        (status = 401, description = "Missing or invalid credential", body = ErrorBody),
        (status = 403, description = "Not the tenant's admin", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody)))]
pub async fn list_tenant_users(
    State(state): State<AppState>,
    _auth: Authorized,
    Path(tenant): Path<String>,
) -> ApiResult<Json<List<User>>> {
    Ok(Json(List {
        data: state.store.list_users(tenant_scope(&tenant)).await?,
    }))
}

/// Adds a user to a tenant (`admin`, `manager` or `agent`; default `agent`) and sends the
/// invitation: the answer carries `invite_url` once.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/users", tag = "users", request_body = NewUser,
    params(("tenant" = String, Path, description = "Tenant id or slug")),
    security(("admin_token" = [])),
    responses(
        (status = 402, description = "The tenant's plan allows no more (`plan_limit_reached`, naming the limit, its value and the use)", body = ErrorBody),
        (status = 201, description = "Created, with the invitation link", body = UserCreated),
        (status = 400, description = "Unreadable body or unknown field", body = ErrorBody),
        (status = 401, description = "Missing or invalid credential", body = ErrorBody),
        (status = 403, description = "Not the tenant's admin", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
        (status = 409, description = "The e-mail address is taken (`email_taken`)", body = ErrorBody),
        (status = 422, description = "A bad e-mail, name, role or permissions", body = ErrorBody)))]
pub async fn create_tenant_user(
    State(state): State<AppState>,
    auth: Authorized,
    Path(tenant): Path<String>,
    ApiJson(input): ApiJson<NewUser>,
) -> ApiResult<(StatusCode, Json<UserCreated>)> {
    create(&state, &auth, tenant_scope(&tenant), Realm::Tenant, input).await
}

/// One user of a tenant.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/users/{user_id}", tag = "users",
    params(("tenant" = String, Path, description = "Tenant id or slug"),
           ("user_id" = String, Path, description = "User id")),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The user", body = User),
        (status = 401, description = "Missing or invalid credential", body = ErrorBody),
        (status = 403, description = "Not the tenant's admin", body = ErrorBody),
        (status = 404, description = "No such tenant or user", body = ErrorBody)))]
pub async fn get_tenant_user(
    State(state): State<AppState>,
    _auth: Authorized,
    Path((tenant, user_id)): Path<(String, String)>,
) -> ApiResult<Json<User>> {
    let id = path_id(&user_id, "user")?;
    Ok(Json(state.store.get_user(tenant_scope(&tenant), id).await?))
}

/// Changes a tenant's user: name, role, permission overrides (`null` returns one to the
/// role's default), `active` (`false` ends their sessions and tokens at once). Nobody
/// deactivates, demotes or restricts themselves (409 `cannot_change_self`).
#[utoipa::path(patch, path = "/api/v1/tenants/{tenant}/users/{user_id}", tag = "users", request_body = UserPatch,
    params(("tenant" = String, Path, description = "Tenant id or slug"),
           ("user_id" = String, Path, description = "User id")),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The user after the change", body = User),
        (status = 400, description = "Unreadable body or unknown field", body = ErrorBody),
        (status = 401, description = "Missing or invalid credential", body = ErrorBody),
        (status = 403, description = "Not the tenant's admin", body = ErrorBody),
        (status = 404, description = "No such tenant or user", body = ErrorBody),
        (status = 409, description = "A change to oneself that would lock one out", body = ErrorBody),
        (status = 422, description = "A bad name, role or permissions", body = ErrorBody)))]
pub async fn patch_tenant_user(
    State(state): State<AppState>,
    auth: Authorized,
    Path((tenant, user_id)): Path<(String, String)>,
    ApiJson(input): ApiJson<UserPatch>,
) -> ApiResult<Json<User>> {
    patch(&state, &auth, tenant_scope(&tenant), &user_id, input).await
}

/// Deletes a tenant's user; their sessions and tokens end with them.
#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/users/{user_id}", tag = "users",
    params(("tenant" = String, Path, description = "Tenant id or slug"),
           ("user_id" = String, Path, description = "User id")),
    security(("admin_token" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Missing or invalid credential", body = ErrorBody),
        (status = 403, description = "Not the tenant's admin", body = ErrorBody),
        (status = 404, description = "No such tenant or user", body = ErrorBody),
        (status = 409, description = "Deleting oneself (`cannot_change_self`)", body = ErrorBody)))]
pub async fn delete_tenant_user(
    State(state): State<AppState>,
    auth: Authorized,
    Path((tenant, user_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    delete(&state, &auth, tenant_scope(&tenant), &user_id).await
}
