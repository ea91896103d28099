//! A submission as the rest of ingest sees it, the limits a body must stay within, and the
//! errors reading one gives. Both readers (`body` for JSON and sniffing, `form` for
//! url-encoded pairs) produce and check these.

use serde_json::{Map, Value};

/// Deepest nesting accepted below a top-level field: brackets in a form name (`a[b][c]` is 2)
/// or containers in JSON (`{"a":{"b":{"c":1}}}` is 2). Real forms use 3 at most.
pub const MAX_DEPTH: usize = 32;
/// Most fields accepted in one body: form pairs, or JSON leaves (scalars and empty containers).
pub const MAX_FIELDS: usize = 1000;
/// Largest form index that may become an array position; bigger ones stay object keys.
pub const MAX_INDEX: u64 = 1000;
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
