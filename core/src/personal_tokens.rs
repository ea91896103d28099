//! Personal access tokens: a user's credential for scripts (`e5p_…`), acting as that user
//! but never beyond the token's scope, and never after its expiry.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::DomainError;
use crate::validate;

pub const LABEL_MAX_CHARS: usize = 80;
pub const EXPIRES_IN_DAYS_MIN: u32 = 1;
/// A year: a script that needs longer gets a new token, so a forgotten one dies.
pub const EXPIRES_IN_DAYS_MAX: u32 = 365;
pub const EXPIRES_IN_DAYS_DEFAULT: u32 = 30;

/// What a personal token may do on its user's behalf.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum TokenScope {
    /// Reads only.
    Read,
    /// Reads and changes (creates, updates, deletes), as far as the user may.
    Write,
}

/// `POST /api/v1/me/tokens`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewPersonalToken {
    pub label: String,
    pub scope: TokenScope,
    /// 1..=365, default 30.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_days: Option<u32>,
}

/// A new token's fields after validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonalTokenFields {
    pub label: String,
    pub scope: TokenScope,
    pub expires_at: DateTime<Utc>,
}

pub fn validate_new(
    input: &NewPersonalToken,
    now: DateTime<Utc>,
) -> Result<PersonalTokenFields, DomainError> {
    let label = validate::text("label", &input.label, LABEL_MAX_CHARS)?;
    let days = input.expires_in_days.unwrap_or(EXPIRES_IN_DAYS_DEFAULT);
    if !(EXPIRES_IN_DAYS_MIN..=EXPIRES_IN_DAYS_MAX).contains(&days) {
        return Err(DomainError::invalid(
            "expires_in_days",
            "out_of_range",
            format!(
                "expires_in_days must be between {EXPIRES_IN_DAYS_MIN} and {EXPIRES_IN_DAYS_MAX}"
            ),
        ));
    }
    Ok(PersonalTokenFields {
        label,
        scope: input.scope,
        expires_at: now + TimeDelta::days(days as i64),
    })
}

/// Whether a token works at `now`: not revoked, not expired (the expiry instant is out).
pub fn usable(
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
) -> bool {
    revoked_at.is_none_or(|r| r > now) && now < expires_at
}

/// A token as lists show it: never the token itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PersonalToken {
    pub id: Uuid,
    pub label: String,
    pub scope: TokenScope,
    /// `e5p_` and five more characters, to recognise a token.
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// The create answer: the one response that carries the token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PersonalTokenWithSecret {
    #[serde(flatten)]
    pub token: PersonalToken,
    /// The full token, shown once.
    pub secret: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(h: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_780_000_000 + h * 3600, 0).unwrap()
    }

    fn new(days: Option<u32>) -> NewPersonalToken {
        NewPersonalToken {
            label: " deploy script ".into(),
            scope: TokenScope::Read,
            expires_in_days: days,
        }
    }

    #[test]
    fn expiry_bounds_and_default() {
        let now = at(0);
        let f = validate_new(&new(None), now).unwrap();
        assert_eq!(f.label, "deploy script");
        assert_eq!(f.expires_at, at(30 * 24));
        assert_eq!(validate_new(&new(Some(1)), now).unwrap().expires_at, at(24));
        assert_eq!(
            validate_new(&new(Some(365)), now).unwrap().expires_at,
            at(365 * 24)
        );
        for bad in [0, 366] {
            match validate_new(&new(Some(bad)), now) {
                Err(DomainError::Invalid { field, code, .. }) => {
                    assert_eq!((field.as_str(), code), ("expires_in_days", "out_of_range"));
                }
                other => panic!("{bad}: {other:?}"),
            }
        }
        let mut blank = new(None);
        blank.label = " ".into();
        assert!(validate_new(&blank, now).is_err());
    }

    #[test]
    fn scopes_read_as_the_contract_writes_them() {
        let t: NewPersonalToken =
            serde_json::from_str(r#"{"label":"ci","scope":"write","expires_in_days":7}"#).unwrap();
        assert_eq!(t.scope, TokenScope::Write);
        assert!(
            serde_json::from_str::<NewPersonalToken>(r#"{"label":"ci","scope":"admin"}"#).is_err()
        );
    }

    #[test]
    fn usable_until_expiry_or_revocation() {
        assert!(usable(at(0), at(1), None));
        assert!(!usable(at(1), at(1), None), "the expiry instant is out");
        assert!(!usable(at(2), at(1), None));
        assert!(!usable(at(0), at(1), Some(at(0))));
        assert!(usable(at(0), at(1), Some(at(1))), "revoked later");
    }
}
