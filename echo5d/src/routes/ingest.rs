//! Ingest: what WordPress sites call. Every accepted submission is answered 200 (Elementor
//! treats anything else as a failure) and only after the transaction holding the lead is
//! durable. `docs/contract.md` (Ingest) lists what the plugins send.

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use echo5_core::ErrorBody;
use echo5_core::ingest::{self, BodyError, Normalized, Payload, SpamRules};
use echo5_core::leads::{IngestReceipt, Lead, LeadSource, new_lead_id};
use echo5_data::ingest::{IngestRequest, IngestStatus};
use echo5_data::keys::KeyIdentity;
use http_body_util::BodyExt;
use uuid::Uuid;

use crate::error::ApiError;
use crate::extract::{authenticate, presented_key, query_pairs};
use crate::state::AppState;

/// Largest submission body; a contact form is a few KiB.
pub const INGEST_BODY_LIMIT: usize = 64 * 1024;
/// More links than this in a submission's free text marks it as spam.
pub const MAX_LINKS: usize = 3;
const IDEMPOTENCY_KEY_MAX: usize = 255;
/// Bodies up to this size are normalised and spam-checked on the request's own task (a few
/// microseconds); larger ones on the blocking pool, so a 64 KiB body against a long keyword
/// list never holds up the other requests sharing the runtime's threads.
const SCREEN_INLINE_MAX: usize = 8 * 1024;

/// The query parameters that carry the key; never stored with the lead.
fn is_key_param(name: &str) -> bool {
    ingest::body::KEY_PARAMS.contains(&name)
}

/// Accepts a submission as JSON, form-urlencoded (PHP bracket nesting), multipart, a JSON
/// string in a `json` form field, or JSON sent as text/plain or without a content type.
#[utoipa::path(post, path = "/api/v1/leads", tag = "ingest",
    request_body(description = "The form's fields, in any format a WordPress form plugin sends",
        content((Object = "application/json"), (Object = "application/x-www-form-urlencoded"),
                (Object = "multipart/form-data"), (String = "text/plain"))),
    params(
        ("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key and the same body within 8 days get the first answer; the same key with another body is refused (422)"),
        ("api_key" = Option<String>, Query, description = "The API key, when it cannot go in a header")),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "Stored (or already stored)", body = IngestReceipt),
        (status = 400, description = "Unreadable body, or no name, e-mail or phone", body = ErrorBody),
        (status = 401, description = "Missing, unknown, revoked or expired key", body = ErrorBody),
        (status = 403, description = "The key's tenant is inactive (`tenant_inactive`)", body = ErrorBody),
        (status = 413, description = "Body over 64 KiB", body = ErrorBody),
        (status = 415, description = "Content type that cannot be read", body = ErrorBody),
        (status = 422, description = "The Idempotency-Key was used with a different body (`idempotency_key_reused`)", body = ErrorBody),
        (status = 429, description = "Over the key's rate limit; see Retry-After", body = ErrorBody),
        (status = 503, description = "Storage busy or unavailable; see Retry-After", body = ErrorBody)))]
pub async fn post_lead(State(state): State<AppState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let key = presented_key(&parts);
    respond(ingest_body(&state, key, parts, body).await)
}

/// The same, with the key in the path, for plugins that cannot set headers (Elementor,
/// Ninja Forms).
#[utoipa::path(post, path = "/api/v1/ingest/{key}", tag = "ingest",
    request_body(description = "The form's fields, in any format a WordPress form plugin sends",
        content((Object = "application/json"), (Object = "application/x-www-form-urlencoded"),
                (Object = "multipart/form-data"), (String = "text/plain"))),
    params(("key" = String, Path, description = "The API key")),
    responses(
        (status = 200, description = "Stored (or already stored)", body = IngestReceipt),
        (status = 400, description = "Unreadable body, or no name, e-mail or phone", body = ErrorBody),
        (status = 401, description = "Unknown, revoked or expired key", body = ErrorBody),
        (status = 403, description = "The key's tenant is inactive (`tenant_inactive`)", body = ErrorBody),
        (status = 413, description = "Body over 64 KiB", body = ErrorBody),
        (status = 415, description = "Content type that cannot be read", body = ErrorBody),
        (status = 422, description = "The Idempotency-Key was used with a different body (`idempotency_key_reused`)", body = ErrorBody),
        (status = 429, description = "Over the key's rate limit; see Retry-After", body = ErrorBody),
        (status = 503, description = "Storage busy or unavailable; see Retry-After", body = ErrorBody)))]
pub async fn post_ingest(
    State(state): State<AppState>,
    Path(key): Path<String>,
    req: Request,
) -> Response {
    let (parts, body) = req.into_parts();
    respond(ingest_body(&state, Some(key), parts, body).await)
}

/// Fields in the query string: Ninja Forms' default.
#[utoipa::path(get, path = "/api/v1/ingest/{key}", tag = "ingest",
    params(("key" = String, Path, description = "The API key")),
    responses(
        (status = 200, description = "Stored (or already stored)", body = IngestReceipt),
        (status = 400, description = "No name, e-mail or phone", body = ErrorBody),
        (status = 401, description = "Unknown, revoked or expired key", body = ErrorBody),
        (status = 403, description = "The key's tenant is inactive (`tenant_inactive`)", body = ErrorBody),
        (status = 422, description = "The Idempotency-Key was used with a different query (`idempotency_key_reused`)", body = ErrorBody),
        (status = 429, description = "Over the key's rate limit; see Retry-After", body = ErrorBody),
        (status = 503, description = "Storage busy or unavailable; see Retry-After", body = ErrorBody)))]
pub async fn get_ingest(
    State(state): State<AppState>,
    Path(key): Path<String>,
    req: Request,
) -> Response {
    let (parts, _) = req.into_parts();
    respond(ingest_query(&state, key, &parts).await)
}

fn respond(r: Result<IngestReceipt, ApiError>) -> Response {
    match r {
        Ok(receipt) => (StatusCode::OK, Json(receipt)).into_response(),
        Err(e) => e.into_response(),
    }
}

/// Authenticates and applies the rate limit. A refusal after the key is known counts as a
/// rejected request of that key.
fn admit(state: &AppState, key: Option<String>) -> Result<KeyIdentity, ApiError> {
    let id = authenticate(state, key)?;
    if let Some(limit) = &state.rate_limit
        && let Err(wait) = limit.check(id.key_id)
    {
        state.store.count_rejected(id.tenant_id, id.key_id);
        return Err(ApiError::RateLimited {
            retry_after_secs: wait.as_secs().max(1),
        });
    }
    Ok(id)
}

async fn ingest_body(
    state: &AppState,
    key: Option<String>,
    parts: Parts,
    body: Body,
) -> Result<IngestReceipt, ApiError> {
    let id = admit(state, key)?;
    let result = async {
        let bytes = read_limited(&parts.headers, body).await?;
        let content_type = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let payload = parse(content_type.as_deref(), &bytes).await?;
        let raw_ct = content_type.unwrap_or_default();
        store_lead(state, id, &parts.headers, payload, bytes.to_vec(), raw_ct).await
    }
    .await;
    count_refusal(state, id, &result);
    result
}

async fn ingest_query(
    state: &AppState,
    key: String,
    parts: &Parts,
) -> Result<IngestReceipt, ApiError> {
    let id = admit(state, Some(key))?;
    let query = parts.uri.query().unwrap_or("");
    // The stored raw form is the query string without any key parameter: the key is a
    // secret and never lands in the database in clear.
    let pairs: Vec<(String, String)> = query_pairs(query)
        .into_iter()
        .filter(|(k, _)| !is_key_param(k))
        .collect();
    let raw = serialize_pairs(&pairs);
    let result = match ingest::try_payload_from_pairs(&pairs) {
        Ok(payload) => {
            store_lead(
                state,
                id,
                &parts.headers,
                payload,
                raw.into_bytes(),
                "application/x-www-form-urlencoded".into(),
            )
            .await
        }
        Err(e) => Err(body_error(e)),
    };
    count_refusal(state, id, &result);
    result
}

fn count_refusal(state: &AppState, id: KeyIdentity, r: &Result<IngestReceipt, ApiError>) {
    if let Err(e) = r
        && e.status().is_client_error()
    {
        state.store.count_rejected(id.tenant_id, id.key_id);
        // Names the key by id only; the body and the key never go to the log.
        tracing::info!(
            tenant = %id.tenant_id,
            key_id = %id.key_id,
            status = e.status().as_u16(),
            "submission refused"
        );
    }
}

fn serialize_pairs(pairs: &[(String, String)]) -> String {
    serde_urlencoded::to_string(pairs).unwrap_or_default()
}

async fn read_limited(headers: &HeaderMap, body: Body) -> Result<Bytes, ApiError> {
    read_at_most(headers, body, INGEST_BODY_LIMIT).await
}

/// The body, refused (413) past `limit` bytes whether declared or sent.
pub(crate) async fn read_at_most(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<Bytes, ApiError> {
    let too_large = ApiError::PayloadTooLarge { limit };
    // Refuse a declared oversize body before reading a byte of it.
    if let Some(len) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        && len > limit as u64
    {
        return Err(too_large);
    }
    match http_body_util::Limited::new(body, limit).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(too_large),
        Err(e) => Err(ApiError::bad_request(
            "unreadable_body",
            format!("could not read the request body: {e}"),
        )),
    }
}

async fn parse(content_type: Option<&str>, bytes: &Bytes) -> Result<Payload, ApiError> {
    let is_multipart = content_type.is_some_and(|ct| {
        ct.trim_start()
            .to_ascii_lowercase()
            .starts_with("multipart/form-data")
    });
    if is_multipart {
        return parse_multipart(content_type.unwrap_or(""), bytes.clone()).await;
    }
    ingest::parse_body(content_type, bytes).map_err(body_error)
}

fn body_error(e: BodyError) -> ApiError {
    match e {
        BodyError::Unsupported(m) => ApiError::UnsupportedMediaType(m),
        BodyError::Malformed(m) => ApiError::bad_request("invalid_body", m),
    }
}

/// Multipart fields become pairs for the same bracket nesting as a form; uploaded files are
/// not kept, only their names.
async fn parse_multipart(content_type: &str, bytes: Bytes) -> Result<Payload, ApiError> {
    let bad = |m: String| ApiError::bad_request("invalid_body", m);
    let boundary = multer::parse_boundary(content_type)
        .map_err(|e| bad(format!("multipart body without a usable boundary: {e}")))?;
    let stream = futures_util::stream::once(async move { Ok::<Bytes, std::io::Error>(bytes) });
    let mut mp = multer::Multipart::new(stream, boundary);
    let mut pairs = Vec::new();
    let mut files = Vec::new();
    while let Some(field) = mp
        .next_field()
        .await
        .map_err(|e| bad(format!("malformed multipart body: {e}")))?
    {
        let name = field.name().unwrap_or("").to_string();
        if let Some(file) = field.file_name() {
            files.push(file.to_string());
            continue;
        }
        let text = field
            .text()
            .await
            .map_err(|e| bad(format!("malformed multipart field {name}: {e}")))?;
        pairs.push((name, text));
    }
    let mut payload = ingest::try_payload_from_pairs(&pairs).map_err(body_error)?;
    payload.files = files;
    Ok(payload)
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    match v.to_str() {
        Ok(s) if !s.trim().is_empty() && s.len() <= IDEMPOTENCY_KEY_MAX => {
            Ok(Some(s.trim().to_string()))
        }
        _ => Err(ApiError::BadRequest {
            code: "invalid_idempotency_key",
            message: format!(
                "Idempotency-Key must be 1-{IDEMPOTENCY_KEY_MAX} visible ASCII characters"
            ),
            field: Some("Idempotency-Key".into()),
        }),
    }
}

async fn store_lead(
    state: &AppState,
    id: KeyIdentity,
    headers: &HeaderMap,
    payload: Payload,
    raw: Vec<u8>,
    content_type: String,
) -> Result<IngestReceipt, ApiError> {
    let idem = idempotency_key(headers)?;
    let profile = state.store.ingest_profile(id.tenant_id).await?;
    // The platform's honeypot names (besides the built-in ones core always checks), from
    // memory: every tenant's forms come from the same agency's themes.
    let platform = state.store.platform_settings().await?;
    let screen = {
        let profile = profile.clone();
        move || {
            let n = ingest::normalize(&payload);
            if !n.has_contact() {
                return None;
            }
            let rules = SpamRules {
                keywords: &profile.spam_matcher,
                honeypot_fields: &platform.honeypot_fields,
                max_links: MAX_LINKS,
            };
            let spam = ingest::check_spam(&payload, &n, &rules);
            Some((n, spam))
        }
    };
    let screened: Option<(Normalized, Option<String>)> = if raw.len() <= SCREEN_INLINE_MAX {
        screen()
    } else {
        tokio::task::spawn_blocking(screen).await.map_err(|e| {
            ApiError::Store(echo5_data::StoreError::Internal(format!(
                "ingest screening task failed: {e}"
            )))
        })?
    };
    let Some((n, spam_reason)) = screened else {
        return Err(ApiError::BadRequest {
            code: "no_contact",
            message: "a lead needs at least a name, an e-mail address or a phone number".into(),
            field: None,
        });
    };
    let now = state.store.now();
    let mut lead = Lead::blank(new_lead_id(now), id.tenant_id, Uuid::nil(), now);
    lead.source = LeadSource::Website;
    n.fill(&mut lead);
    // Stored in E.164, read in the tenant's country when it has no country code: the same
    // number typed two ways is one number for duplicate detection and search.
    lead.phone = lead
        .phone
        .map(|p| echo5_core::phone::to_e164(&p, profile.home_country));
    let outcome = state
        .store
        .ingest(IngestRequest {
            key: id,
            lead,
            raw,
            content_type,
            idempotency_key: idem,
            spam_reason,
        })
        .await?;
    // Ids only: the lead's text is personal data and attacker-controlled.
    tracing::debug!(lead = %outcome.id, tenant = %id.tenant_id, status = ?outcome.status, replayed = outcome.replayed, "lead ingested");
    if let Some(change) = outcome.change(&profile.tenant) {
        state.events.publish(change);
    }
    Ok(IngestReceipt {
        id: outcome.id,
        status: match outcome.status {
            IngestStatus::Duplicate => "duplicate",
            // Spam is stored flagged but answered like a clean lead: bots learn nothing.
            IngestStatus::Created | IngestStatus::Spam => "created",
        }
        .into(),
    })
}
