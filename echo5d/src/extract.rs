//! Request extractors whose failures are our JSON errors, never axum's plain-text rejections.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::state::AppState;
use echo5_core::crypto;
use echo5_data::api_keys::{KeyIdentity, KeyRejection};

/// Largest admin-API JSON body.
pub const JSON_BODY_LIMIT: usize = 1024 * 1024;

/// A JSON body. Unknown fields, wrong types and missing fields are 400s naming the field
/// by its path (`settings.sla_hours`); a non-JSON content type is 415.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = json_body(req, state).await?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Like [`ApiJson`], but an empty body means "all defaults" (e.g. rotate with no options).
pub struct ApiJsonOrDefault<T>(pub T);

impl<T: DeserializeOwned + Default, S: Send + Sync> FromRequest<S> for ApiJsonOrDefault<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = json_body(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(ApiJsonOrDefault(T::default()));
        }
        parse_json(&bytes).map(ApiJsonOrDefault)
    }
}

/// The raw body of a JSON request, within the size limit.
async fn json_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    // Lenient like GitHub's API: the body must be JSON, but a missing or generic content
    // type (curl -d sends form-urlencoded) is accepted when the body is a JSON document.
    let mime = req.headers().get(header::CONTENT_TYPE).map(|ct| {
        let ct = ct.to_str().unwrap_or("").to_ascii_lowercase();
        ct.split(';').next().unwrap_or("").trim().to_string()
    });
    let declared_json = match mime.as_deref() {
        None => true,
        Some(m) => m == "application/json" || m.ends_with("+json"),
    };
    let bytes = Bytes::from_request(req, state).await.map_err(|rej| {
        if rej.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge {
                limit: JSON_BODY_LIMIT,
            }
        } else {
            ApiError::bad_request("unreadable_body", rej.body_text())
        }
    })?;
    if !declared_json && !bytes.is_empty() && !looks_like_json(&bytes) {
        return Err(ApiError::UnsupportedMediaType(format!(
            "send a JSON body with Content-Type: application/json (got \"{}\")",
            mime.unwrap_or_default()
        )));
    }
    Ok(bytes)
}

fn looks_like_json(bytes: &[u8]) -> bool {
    matches!(
        bytes.iter().find(|b| !b.is_ascii_whitespace()),
        Some(b'{') | Some(b'[')
    )
}

/// Deserializes a JSON document, naming the offending field on failure.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "empty_body",
            "the request body is empty; send a JSON object",
        ));
    }
    // serde would read a struct from a JSON array too (by position); every body of this API
    // is an object, so say that plainly instead of complaining about field `[0]`.
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') && serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok() {
        return Err(ApiError::bad_request(
            "invalid_type",
            "the body must be a JSON object",
        ));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(json_error)?;
    de.end().map_err(|e| {
        ApiError::bad_request("invalid_json", format!("the body is not valid JSON: {e}"))
    })?;
    Ok(value)
}

fn json_error(e: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = e.path().to_string();
    let inner = e.into_inner();
    let msg = inner.to_string();
    if inner.is_syntax() || inner.is_eof() {
        return ApiError::bad_request("invalid_json", format!("the body is not valid JSON: {msg}"));
    }
    let join = |name: &str| {
        if path == "." || path.is_empty() {
            name.to_string()
        } else {
            format!("{path}.{name}")
        }
    };
    let quoted = |m: &str| m.split('`').nth(1).map(str::to_string);
    // serde_path_to_error's path already ends at an unknown field, but stops at the parent
    // of a missing one.
    let (code, field) = if msg.starts_with("unknown field") {
        ("unknown_field", (path != ".").then_some(path.clone()))
    } else if msg.starts_with("missing field") {
        ("missing_field", quoted(&msg).map(|n| join(&n)))
    } else {
        ("invalid_type", (path != ".").then_some(path))
    };
    ApiError::BadRequest {
        code,
        message: msg,
        field,
    }
}

/// A query string. Unknown parameters are rejected (400) like unknown body fields.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| ApiQuery(v))
            .map_err(|rej| ApiError::bad_request("invalid_query", rej.body_text()))
    }
}

/// The platform admin, authenticated by `Authorization: Bearer <admin token>`.
#[derive(Debug, Clone, Copy)]
pub struct Admin {
    pub token_id: uuid::Uuid,
}

impl Admin {
    /// How audit rows name this caller.
    pub fn actor(&self) -> String {
        format!("admin:{}", self.token_id)
    }
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or(ApiError::Unauthorized {
                code: "missing_token",
                message: "send the admin token as Authorization: Bearer <token>".into(),
            })?;
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .unwrap_or(header)
            .trim();
        let presented = crypto::sha256(token.as_bytes());
        state
            .admin_token(&presented)
            .map(|token_id| Admin { token_id })
            .ok_or(ApiError::Unauthorized {
                code: "invalid_token",
                message: "the admin token is not valid".into(),
            })
    }
}

/// The tenant an ingest request acts for, from its API key — the only source of a tenant id
/// on the ingest path. The key may come as `X-API-Key`, `Authorization: Bearer …`, a bare
/// `Authorization: …` (some WordPress plugins cannot add "Bearer"), or `?api_key=` / `?key=`
/// (Elementor and Ninja Forms cannot set headers at all).
#[derive(Debug, Clone, Copy)]
pub struct IngestKey(pub KeyIdentity);

/// Finds the presented key in headers or query string, in that order of preference.
pub fn presented_key(parts: &Parts) -> Option<String> {
    let header_value = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    if let Some(k) = header_value("x-api-key") {
        return Some(k.to_string());
    }
    if let Some(auth) = header_value("authorization") {
        let k = auth
            .strip_prefix("Bearer ")
            .or_else(|| auth.strip_prefix("bearer "))
            .unwrap_or(auth);
        return Some(k.trim().to_string());
    }
    let query = parts.uri.query()?;
    url_params(query)
        .into_iter()
        .find(|(k, _)| k == "api_key" || k == "key")
        .map(|(_, v)| v)
}

fn url_params(query: &str) -> Vec<(String, String)> {
    Query::<Vec<(String, String)>>::try_from_uri(&format!("/?{query}").parse().unwrap_or_default())
        .map(|Query(v)| v)
        .unwrap_or_default()
}

/// Maps a refused key to its 401.
pub fn key_error(r: KeyRejection) -> ApiError {
    let code = match r {
        KeyRejection::Unknown => "invalid_api_key",
        KeyRejection::Revoked => "revoked_api_key",
        KeyRejection::Expired => "expired_api_key",
    };
    ApiError::Unauthorized {
        code,
        message: r.to_string(),
    }
}

impl FromRequestParts<AppState> for IngestKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let key = presented_key(parts).ok_or(ApiError::Unauthorized {
            code: "missing_api_key",
            message:
                "send the API key as X-API-Key, Authorization: Bearer <key>, or ?api_key=<key>"
                    .into(),
        })?;
        state
            .store
            .authenticate_key(&key)
            .map(IngestKey)
            .map_err(key_error)
    }
}
