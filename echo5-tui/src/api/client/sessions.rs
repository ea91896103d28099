//! Sessions on the wire: `POST /api/v1/auth/login`, `POST /api/v1/auth/logout`,
//! `GET /api/v1/me`. The session token stays here, in the client shared by the worker and
//! the streams; the console's state only learns who logged in and until when.

use chrono::{DateTime, Utc};
use echo5_core::secret::Secret;
use echo5_core::sessions::Me;
use echo5_core::users::User;
use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::{Client, error_detail, root_cause};
use crate::app::{ApiError, Reply};

const LOGIN_PATH: &str = "/api/v1/auth/login";
const LOGOUT_PATH: &str = "/api/v1/auth/logout";
const ME_PATH: &str = "/api/v1/me";

#[derive(Serialize)]
struct LoginBody<'a> {
    email: &'a str,
    password: &'a str,
}

/// `{token, expires_at, user}`; the token is wrapped at once so no `Debug` can show it.
#[derive(Deserialize)]
struct LoginAnswer {
    token: Secret<String>,
    expires_at: DateTime<Utc>,
    user: User,
}

impl Client {
    /// Logs in. A refusal the operator can act on (wrong password, throttled, a bad
    /// address) is an answer, not an error: the login dialog shows it. Only a daemon that
    /// cannot be reached or fails (5xx) is an error.
    pub(super) async fn login(
        &self,
        email: &str,
        password: &Secret<String>,
    ) -> Result<Reply, ApiError> {
        let body = LoginBody {
            email,
            password: password.expose(),
        };
        // No bearer: an ended session's token has nothing to say about a new login.
        let resp = self
            .http
            .request(Method::POST, format!("{}{LOGIN_PATH}", self.base))
            .json(&body)
            .send()
            .await
            .map_err(|e| ApiError::Unreachable(root_cause(&e)))?;
        let status = resp.status();
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let bytes = Secret::new(
            resp.bytes()
                .await
                .map_err(|e| ApiError::Unreachable(root_cause(&e)))?
                .to_vec(),
        );
        if status.is_server_error() {
            return Err(ApiError::Http {
                status: status.as_u16(),
                detail: error_detail(status, bytes.expose()),
            });
        }
        if !status.is_success() {
            let detail = error_detail(status, bytes.expose());
            return Ok(Reply::LoginRefused {
                status: status.as_u16(),
                message: detail.message,
                retry_after,
            });
        }
        let answer: LoginAnswer = serde_json::from_slice(bytes.expose())
            .map_err(|e| ApiError::Decode(format!("login answer: {e}")))?;
        self.set_token(answer.token);
        Ok(Reply::LoggedIn {
            expires_at: answer.expires_at,
            user: Box::new(answer.user),
        })
    }

    /// Ends the session on the daemon and forgets its token, whatever the daemon says: a
    /// logout must never leave the console holding a session.
    pub(super) async fn logout(&self) -> Result<Reply, ApiError> {
        let sent = self.send_empty(self.req(Method::POST, LOGOUT_PATH)).await;
        self.clear_token();
        match sent {
            // Already ended (expired, or the user was deactivated): logged out all the same.
            Ok(()) | Err(ApiError::Http { status: 401, .. }) => Ok(Reply::LoggedOut),
            Err(e) => Err(e),
        }
    }

    /// `{credential, user, scope}`; a session always has a user (only the admin token,
    /// which the console never logs in with, has none).
    pub(super) async fn me(&self) -> Result<Reply, ApiError> {
        let me = self.send::<Me>(self.req(Method::GET, ME_PATH)).await?;
        me.user
            .map(|u| Reply::Me(Box::new(u)))
            .ok_or_else(|| ApiError::Decode("GET /api/v1/me named no user for the login".into()))
    }
}
