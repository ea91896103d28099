//! Request extractors whose failures are our JSON errors, never axum's plain-text rejections.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::state::AppState;
use echo5_core::ingest::body::KEY_PARAMS;
use echo5_data::keys::{KeyIdentity, KeyRejection};

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
        } else if let Some(t) = crate::server::body_timeout_in(&rej) {
            ApiError::BodyTimeout {
                secs: t.as_secs().max(1),
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
    // serde's derived structs also read a JSON array, by position: `{"settings": [4]}` would
    // set the first settings field. Every object of this API is an object on the wire, so read
    // the body once more through `strict::Objects`, which refuses an array where an object
    // belongs. (The first read is kept: it refuses duplicate keys, which a tree would hide.)
    let tree: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad_request("invalid_json", format!("the body is not valid JSON: {e}"))
    })?;
    serde_path_to_error::deserialize::<_, T>(strict::Objects(&tree)).map_err(json_error)?;
    Ok(value)
}

/// A deserializer over a JSON tree that, unlike serde_json's, refuses a sequence for a struct.
mod strict {
    use serde::de::value::BorrowedStrDeserializer;
    use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Unexpected, Visitor};
    use serde_json::{Error, Value};

    pub struct Objects<'a>(pub &'a Value);

    fn unexpected(v: &Value) -> Unexpected<'_> {
        match v {
            Value::Null => Unexpected::Unit,
            Value::Bool(b) => Unexpected::Bool(*b),
            Value::Number(_) => Unexpected::Other("number"),
            Value::String(s) => Unexpected::Str(s),
            Value::Array(_) => Unexpected::Seq,
            Value::Object(_) => Unexpected::Map,
        }
    }

    impl<'de> de::Deserializer<'de> for Objects<'de> {
        type Error = Error;

        fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
            match self.0 {
                Value::Array(a) => v.visit_seq(Seq(a.iter())),
                Value::Object(o) => v.visit_map(Map {
                    iter: o.iter(),
                    value: None,
                }),
                other => other.deserialize_any(v),
            }
        }

        fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
            match self.0 {
                Value::Null => v.visit_none(),
                _ => v.visit_some(self),
            }
        }

        fn deserialize_newtype_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            v: V,
        ) -> Result<V::Value, Error> {
            v.visit_newtype_struct(self)
        }

        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            _fields: &'static [&'static str],
            v: V,
        ) -> Result<V::Value, Error> {
            match self.0 {
                Value::Object(_) => self.deserialize_any(v),
                other => Err(de::Error::invalid_type(unexpected(other), &v)),
            }
        }

        fn deserialize_enum<V: Visitor<'de>>(
            self,
            name: &'static str,
            variants: &'static [&'static str],
            v: V,
        ) -> Result<V::Value, Error> {
            self.0.deserialize_enum(name, variants, v)
        }

        fn deserialize_ignored_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
            v.visit_unit()
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf unit unit_struct seq tuple tuple_struct map identifier
        }
    }

    struct Seq<'a>(std::slice::Iter<'a, Value>);

    impl<'de> SeqAccess<'de> for Seq<'de> {
        type Error = Error;

        fn next_element_seed<T: DeserializeSeed<'de>>(
            &mut self,
            seed: T,
        ) -> Result<Option<T::Value>, Error> {
            self.0
                .next()
                .map(|v| seed.deserialize(Objects(v)))
                .transpose()
        }

        fn size_hint(&self) -> Option<usize> {
            Some(self.0.len())
        }
    }

    struct Map<'a> {
        iter: serde_json::map::Iter<'a>,
        value: Option<&'a Value>,
    }

    impl<'de> MapAccess<'de> for Map<'de> {
        type Error = Error;

        fn next_key_seed<K: DeserializeSeed<'de>>(
            &mut self,
            seed: K,
        ) -> Result<Option<K::Value>, Error> {
            let Some((k, v)) = self.iter.next() else {
                return Ok(None);
            };
            self.value = Some(v);
            seed.deserialize(BorrowedStrDeserializer::<Error>::new(k))
                .map(Some)
        }

        fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
            let v = self
                .value
                .take()
                .ok_or_else(|| de::Error::custom("a map value without its key"))?;
            seed.deserialize(Objects(v))
        }
    }
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

/// An id from the path (a lead's, a stage's, a key's). Anything that is not an id names
/// nothing: 404 for `what`, like an id that does not exist.
pub fn path_id(s: &str, what: &'static str) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::try_parse(s)
        .map_err(|_| ApiError::Domain(echo5_core::DomainError::NotFound { what }))
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
    query_pairs(query)
        .into_iter()
        .find(|(k, _)| KEY_PARAMS.contains(&k.as_str()))
        .map(|(_, v)| v)
}

/// The name/value pairs of a query string, percent-decoded, in order; unreadable input reads
/// as no pairs.
pub fn query_pairs(query: &str) -> Vec<(String, String)> {
    Query::<Vec<(String, String)>>::try_from_uri(&format!("/?{query}").parse().unwrap_or_default())
        .map(|Query(v)| v)
        .unwrap_or_default()
}

/// The tenant a presented key acts for. No key (or an empty one) is 401 `missing_api_key`;
/// a refused key answers as [`key_error`] says.
pub fn authenticate(state: &AppState, presented: Option<String>) -> Result<KeyIdentity, ApiError> {
    let key = presented
        .filter(|k| !k.is_empty())
        .ok_or(ApiError::Unauthorized {
            code: "missing_api_key",
            message:
                "send the API key as X-API-Key, Authorization: Bearer <key>, or ?api_key=<key>"
                    .into(),
        })?;
    state.store.authenticate_key(&key).map_err(key_error)
}

/// Maps a refused key to its answer: 403 `tenant_inactive` when the key is good but its
/// tenant is inactive, else 401. Revoked and expired keys answer exactly like unknown ones,
/// so the public cannot tell a key that once worked from a guess; the reason goes to the
/// debug log (never the key) and the key's status is in the admin API.
fn key_error(r: KeyRejection) -> ApiError {
    if let KeyRejection::TenantInactive = r {
        return ApiError::Forbidden {
            code: "tenant_inactive",
            message: r.to_string(),
        };
    }
    tracing::debug!(reason = %r, "API key refused");
    ApiError::Unauthorized {
        code: "invalid_api_key",
        message: "the API key is not valid".into(),
    }
}

impl FromRequestParts<AppState> for IngestKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        authenticate(state, presented_key(parts)).map(IngestKey)
    }
}
