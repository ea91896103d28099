//! Every error the API can return, and the one place they become HTTP responses.
//!
//! Body: `{"error": {"code", "message", "field"?}}`. Codes are stable snake_case; clients
//! (the console included) match on them. 400 is a request that could not be read (bad JSON,
//! unknown field, wrong type); 422 is a readable request whose values break a rule.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use echo5_core::{DomainError, ErrorBody, ErrorDetail};
use echo5_data::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{message}")]
    BadRequest {
        code: &'static str,
        message: String,
        field: Option<String>,
    },
    #[error("{message}")]
    Unauthorized { code: &'static str, message: String },
    /// Authenticated, but not allowed (an inactive tenant's API key).
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },
    #[error("{message}")]
    NotFound { code: &'static str, message: String },
    #[error("request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("too many requests for this API key; retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error("too many refused credentials from your address; retry in {retry_after_secs} s")]
    AuthThrottled { retry_after_secs: u64 },
    #[error("the request body did not arrive within {secs} s")]
    BodyTimeout { secs: u64 },
    /// A login refused: wrong password, unknown e-mail, inactive user, all alike. Not a
    /// refused credential for the address throttle: logins have their own throttle.
    #[error("the e-mail address or the password is wrong")]
    InvalidCredentials,
    /// Too many failed logins for this e-mail address or from this client.
    #[error("too many failed logins; retry in {retry_after_secs} s")]
    LoginLocked { retry_after_secs: u64 },
    /// Too many password-reset requests from this client.
    #[error("too many password-reset requests from this address; retry in {retry_after_secs} s")]
    ResetsLocked { retry_after_secs: u64 },
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Domain(d) => ApiError::Domain(d),
            other => ApiError::Store(other),
        }
    }
}

impl ApiError {
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::BadRequest {
            code,
            message: message.into(),
            field: None,
        }
    }

    pub fn status(&self) -> StatusCode {
        self.parts().0
    }

    fn parts(&self) -> (StatusCode, &'static str, String, Option<String>) {
        match self {
            ApiError::BadRequest {
                code,
                message,
                field,
            } => (
                StatusCode::BAD_REQUEST,
                code,
                message.clone(),
                field.clone(),
            ),
            ApiError::Unauthorized { code, message } => {
                (StatusCode::UNAUTHORIZED, code, message.clone(), None)
            }
            ApiError::Forbidden { code, message } => {
                (StatusCode::FORBIDDEN, code, message.clone(), None)
            }
            ApiError::NotFound { code, message } => {
                (StatusCode::NOT_FOUND, code, message.clone(), None)
            }
            ApiError::PayloadTooLarge { .. } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                self.to_string(),
                None,
            ),
            ApiError::RateLimited { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                self.to_string(),
                None,
            ),
            ApiError::AuthThrottled { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_auth_failures",
                self.to_string(),
                None,
            ),
            ApiError::InvalidCredentials => (
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                self.to_string(),
                None,
            ),
            ApiError::LoginLocked { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_login_attempts",
                self.to_string(),
                None,
            ),
            ApiError::ResetsLocked { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_reset_requests",
                self.to_string(),
                None,
            ),
            ApiError::BodyTimeout { .. } => (
                StatusCode::REQUEST_TIMEOUT,
                "body_timeout",
                self.to_string(),
                None,
            ),
            ApiError::UnsupportedMediaType(m) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                m.clone(),
                None,
            ),
            ApiError::Domain(d) => match d {
                DomainError::Invalid {
                    field,
                    code,
                    message,
                } => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    code,
                    message.clone(),
                    Some(field.clone()),
                ),
                DomainError::NotFound { what } => (
                    StatusCode::NOT_FOUND,
                    "not_found",
                    format!("{what} not found"),
                    None,
                ),
                DomainError::Conflict {
                    code,
                    message,
                    field,
                } => (StatusCode::CONFLICT, code, message.clone(), field.clone()),
                DomainError::PlanLimit { limit, .. } => (
                    StatusCode::PAYMENT_REQUIRED,
                    "plan_limit_reached",
                    d.to_string(),
                    Some(format!("limits.{limit}")),
                ),
            },
            ApiError::Store(e) => match e {
                StoreError::QueueFull => (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "write_queue_full",
                    "the server is busy; retry after the Retry-After delay".into(),
                    None,
                ),
                // The operator's console and scripts can tell a full disk from a lock held
                // by another program; the SQLite detail goes to the log only.
                StoreError::Full(_) => (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "storage_full",
                    "the server's storage is full; retry after the Retry-After delay".into(),
                    None,
                ),
                StoreError::Busy(_) => (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "storage_busy",
                    "the database is locked by another process; retry after the Retry-After delay"
                        .into(),
                    None,
                ),
                StoreError::Unavailable(_) => (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "storage_unavailable",
                    "storage is temporarily unavailable; retry after the Retry-After delay".into(),
                    None,
                ),
                _ => (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error; the daemon log has the details".into(),
                    None,
                ),
            },
        }
    }
}

pub fn error_response(
    status: StatusCode,
    code: &str,
    message: String,
    field: Option<String>,
) -> Response {
    let body = ErrorBody {
        error: ErrorDetail {
            code: code.to_string(),
            message,
            field,
        },
    };
    let mut resp = (status, Json(body)).into_response();
    match status {
        StatusCode::UNAUTHORIZED => {
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        StatusCode::SERVICE_UNAVAILABLE | StatusCode::TOO_MANY_REQUESTS => {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        _ => {}
    }
    resp
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message, field) = self.parts();
        // Internal detail goes to the log, never to the client.
        if let ApiError::Store(e) = &self
            && status.is_server_error()
        {
            tracing::error!(error = %e, "request failed")
        }
        let mut resp = match &self {
            // The body also names the limit, its value and the use, for clients to show.
            ApiError::Domain(DomainError::PlanLimit { limit, value, used }) => (
                status,
                Json(serde_json::json!({ "error": {
                    "code": code, "message": message, "field": field,
                    "limit": limit, "value": value, "used": used,
                }})),
            )
                .into_response(),
            _ => error_response(status, code, message, field),
        };
        match self {
            ApiError::RateLimited { retry_after_secs }
            | ApiError::AuthThrottled { retry_after_secs }
            | ApiError::LoginLocked { retry_after_secs }
            | ApiError::ResetsLocked { retry_after_secs } => {
                resp.headers_mut()
                    .insert(header::RETRY_AFTER, retry_after(retry_after_secs));
            }
            // Refused credentials are logged by `throttle::ThrottleLayer`, per client address
            // and aggregated under a flood; the credential itself never is in a line.
            ApiError::Unauthorized { code, .. } => {
                resp.extensions_mut().insert(AuthFailure {
                    code,
                    presented: !code.starts_with("missing_"),
                });
            }
            _ => {}
        }
        resp
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// `Retry-After` for a 429, in whole seconds.
pub fn retry_after(secs: u64) -> HeaderValue {
    HeaderValue::from_str(&secs.to_string()).unwrap_or(HeaderValue::from_static("1"))
}

/// A 401 about a credential, attached to the response for `throttle::ThrottleLayer` by `ApiError`'s `into_response`.
#[derive(Debug, Clone, Copy)]
pub struct AuthFailure {
    pub code: &'static str,
    /// A credential was presented and refused (counts towards the throttle); `false` for a
    /// missing one.
    pub presented: bool,
}
