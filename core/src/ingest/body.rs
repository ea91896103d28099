//! Reading a submission body into a nested JSON object.

use serde_json::{Map, Value};

/// A submission as a nested JSON object, whatever format it arrived in, plus the names of
/// uploaded files (multipart) which are never stored themselves.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Payload {
    pub fields: Map<String, Value>,
    pub files: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    /// A content type that cannot be read as any supported format (HTTP 415).
    #[error("{0}")]
    Unsupported(String),
    /// The body claims a format but is not valid in it (HTTP 400).
    #[error("{0}")]
    Malformed(String),
}

/// Decodes `body` by its content type (sniffing when it is missing or `text/plain`).
/// Multipart is parsed by the daemon, which hands the fields to [`payload_from_pairs`].
pub fn parse_body(_content_type: Option<&str>, _body: &[u8]) -> Result<Payload, BodyError> {
    Err(BodyError::Unsupported("not implemented yet".into()))
}

/// Builds the nested object from flat `(name, value)` pairs with PHP bracket nesting
/// (`fields[email][value]`, `checkbox[]`, `names[first_name]`).
pub fn payload_from_pairs(_pairs: &[(String, String)]) -> Payload {
    Payload::default()
}
