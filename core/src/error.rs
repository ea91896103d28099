//! The error vocabulary of the domain, and the JSON error body every API error uses.

use serde::{Deserialize, Serialize};

/// `{"error": {"code", "message", "field"?}}` — the body of every 4xx/5xx the daemon sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    /// Stable snake_case code that clients match on.
    pub code: String,
    /// Human-readable explanation; wording may change.
    pub message: String,
    /// The request field at fault, as a dotted path (`settings.sla_hours`), when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// A broken domain rule. The daemon maps each variant to one HTTP status in one place.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// A well-formed request with a value the rules do not allow (HTTP 422).
    #[error("{message}")]
    Invalid {
        field: String,
        code: &'static str,
        message: String,
    },
    /// The named resource does not exist, or is not visible to the caller (HTTP 404).
    #[error("{what} not found")]
    NotFound { what: &'static str },
    /// The request conflicts with the current state (HTTP 409).
    #[error("{message}")]
    Conflict {
        code: &'static str,
        message: String,
        field: Option<String>,
    },
    /// Creating one more user, API key or webhook would pass the tenant's plan (HTTP 402
    /// `plan_limit_reached`, naming the limit, its value and the use).
    #[error(
        "the tenant's plan allows {value} {limit}, and {used} exist; raise the plan's limit or remove one first"
    )]
    PlanLimit {
        limit: &'static str,
        value: u64,
        used: u64,
    },
}

impl DomainError {
    pub fn invalid(
        field: impl Into<String>,
        code: &'static str,
        message: impl Into<String>,
    ) -> Self {
        DomainError::Invalid {
            field: field.into(),
            code,
            message: message.into(),
        }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        DomainError::Conflict {
            code,
            message: message.into(),
            field: None,
        }
    }

    pub fn conflict_on(
        field: impl Into<String>,
        code: &'static str,
        message: impl Into<String>,
    ) -> Self {
        DomainError::Conflict {
            code,
            message: message.into(),
            field: Some(field.into()),
        }
    }

    /// Prefixes the field path, so a rule checked on `sla_hours` reports `settings.sla_hours`.
    pub fn under(self, parent: &str) -> Self {
        match self {
            DomainError::Invalid {
                field,
                code,
                message,
            } => DomainError::Invalid {
                field: format!("{parent}.{field}"),
                code,
                message,
            },
            other => other,
        }
    }
}
