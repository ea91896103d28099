//! Password work (argon2id, zxcvbn) off the async runtime: on the blocking pool, at most
//! one job per core but one at a time (`AppState::password_work`), so a burst of logins queues
//! here instead of stalling requests or taking every blocking thread.

use crate::error::ApiError;
use crate::state::AppState;

/// Runs `f` on the blocking pool once a password-work permit is free.
pub async fn run<T, F>(state: &AppState, f: F) -> Result<T, ApiError>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let permit = state
        .password_work
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| internal("password work closed"))?;
    tokio::task::spawn_blocking(move || {
        let out = f();
        drop(permit);
        out
    })
    .await
    .map_err(|_| internal("password work failed"))
}

fn internal(what: &str) -> ApiError {
    ApiError::Store(echo5_data::StoreError::Internal(what.into()))
}
