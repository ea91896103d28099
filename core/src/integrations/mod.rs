//! Integrations: leads from ad platforms (Google Ads lead forms, Meta Lead Ads) mapped onto
//! the lead the way website ingest maps a form, the checks that a delivery is authentic, and
//! the state of each source per tenant. Pure functions, no I/O: the daemon reads the body,
//! these decide what it says.

pub mod google;
pub mod meta;
pub mod meta_graph;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};

use crate::ingest::Normalized;

/// The ad platforms a tenant's leads can come from besides its websites.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum IntegrationSource {
    Google,
    Meta,
}

impl IntegrationSource {
    pub const ALL: [IntegrationSource; 2] = [IntegrationSource::Google, IntegrationSource::Meta];

    pub fn as_str(self) -> &'static str {
        match self {
            IntegrationSource::Google => "google",
            IntegrationSource::Meta => "meta",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "google" => Some(IntegrationSource::Google),
            "meta" => Some(IntegrationSource::Meta),
            _ => None,
        }
    }

    /// The lead source its leads are stored with.
    pub fn lead_source(self) -> crate::leads::LeadSource {
        match self {
            IntegrationSource::Google => crate::leads::LeadSource::Google,
            IntegrationSource::Meta => crate::leads::LeadSource::Meta,
        }
    }
}

/// Where a source stands for a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum IntegrationState {
    /// Something it needs is not set (see `missing`).
    NotConfigured,
    /// Set up; nothing has arrived yet.
    Waiting,
    /// The last thing that happened was a lead stored.
    Ok,
    /// The last thing that happened was an error (see `last_error`).
    Failing,
    /// The platform refused the tenant's credential (Meta's access token): fetches wait
    /// until it is replaced (see `last_error`).
    Broken,
}

/// `GET /api/v1/tenants/{t}/integrations`: one entry per source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Integration {
    pub source: IntegrationSource,
    pub state: IntegrationState,
    /// When the last lead from this source was stored (test leads included).
    pub last_lead_at: Option<DateTime<Utc>>,
    /// What went wrong last, in words for the operator (never a secret or lead text).
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
    /// Since when the platform refuses the tenant's credential; fetches are on hold until
    /// it is replaced.
    pub broken_since: Option<DateTime<Utc>>,
    /// The settings this source still needs, by name (`google_ads.webhook_key`,
    /// `meta_page_ids`, …); empty when configured.
    pub missing: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Integrations {
    pub data: Vec<Integration>,
}

/// What is stored about a source for a tenant (lead and error times, the last error).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Activity {
    pub last_lead_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
    pub broken_since: Option<DateTime<Utc>>,
}

/// A source's state: not configured while something is missing; broken while the platform
/// refuses the tenant's credential; otherwise whichever of the last lead and the last error
/// is the newer decides.
pub fn integration(source: IntegrationSource, missing: Vec<String>, a: Activity) -> Integration {
    let state = if !missing.is_empty() {
        IntegrationState::NotConfigured
    } else if a.broken_since.is_some() {
        IntegrationState::Broken
    } else {
        match (a.last_lead_at, a.last_error_at) {
            (None, None) => IntegrationState::Waiting,
            (Some(_), None) => IntegrationState::Ok,
            (None, Some(_)) => IntegrationState::Failing,
            (Some(l), Some(e)) if l >= e => IntegrationState::Ok,
            (Some(_), Some(_)) => IntegrationState::Failing,
        }
    };
    Integration {
        source,
        state,
        last_lead_at: a.last_lead_at,
        last_error: a.last_error,
        last_error_at: a.last_error_at,
        broken_since: a.broken_since,
        missing,
    }
}

/// A lead as an ad platform delivered it, mapped: the lead fields and `custom` (with the
/// platform's ids), the platform's lead id (stored once per tenant) and whether the platform
/// marked it as a test.
#[derive(Debug, Clone, PartialEq)]
pub struct AdLead {
    pub external_id: String,
    pub is_test: bool,
    pub fields: Normalized,
}

/// The longest external lead id kept (Google's are ~100 characters, Meta's ~20 digits).
pub const EXTERNAL_ID_MAX: usize = 256;

/// A platform id as text: ids come as JSON numbers or strings, and a number must never pass
/// through a float (an id above 2^53 would change).
pub(crate) fn id_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    use serde_json::Value;
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s)),
        // serde_json keeps integers exact (u64/i64); anything else is written as sent.
        Value::Number(n) => Ok(Some(n.to_string())),
        _ => Err(serde::de::Error::custom(
            "expected an id (a number or a string)",
        )),
    }
}

/// A platform id kept in `custom`: visible ASCII, at most [`EXTERNAL_ID_MAX`] characters.
pub(crate) fn clean_id(raw: &str) -> Option<String> {
    let t = raw.trim();
    (!t.is_empty() && t.len() <= EXTERNAL_ID_MAX && t.bytes().all(|b| b.is_ascii_graphic()))
        .then(|| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn state_follows_the_newer_of_lead_and_error() {
        let t = |s| Some(Utc.timestamp_opt(s, 0).unwrap());
        let st = |missing: &[&str], l, e: Option<DateTime<Utc>>| {
            integration(
                IntegrationSource::Google,
                missing.iter().map(|s| s.to_string()).collect(),
                Activity {
                    last_lead_at: l,
                    last_error: e.map(|_| "x".into()),
                    last_error_at: e,
                    broken_since: None,
                },
            )
            .state
        };
        assert_eq!(
            st(&["google_ads.webhook_key"], t(5), None),
            IntegrationState::NotConfigured
        );
        assert_eq!(st(&[], None, None), IntegrationState::Waiting);
        assert_eq!(st(&[], t(5), None), IntegrationState::Ok);
        assert_eq!(st(&[], None, t(5)), IntegrationState::Failing);
        assert_eq!(st(&[], t(6), t(5)), IntegrationState::Ok);
        assert_eq!(st(&[], t(5), t(6)), IntegrationState::Failing);
        let broken = |missing: Vec<String>| {
            integration(
                IntegrationSource::Meta,
                missing,
                Activity {
                    last_lead_at: t(9),
                    last_error: Some("190".into()),
                    last_error_at: t(5),
                    broken_since: t(5),
                },
            )
            .state
        };
        assert_eq!(
            broken(vec![]),
            IntegrationState::Broken,
            "a newer lead does not hide it"
        );
        assert_eq!(
            broken(vec!["settings.meta_access_token".into()]),
            IntegrationState::NotConfigured
        );
    }

    #[test]
    fn ids_never_pass_through_a_float() {
        #[derive(Deserialize)]
        struct X {
            #[serde(default, deserialize_with = "id_text")]
            id: Option<String>,
        }
        let x: X = serde_json::from_str(r#"{"id": 18446744073709551615}"#).unwrap();
        assert_eq!(x.id.as_deref(), Some("18446744073709551615"));
        let x: X = serde_json::from_str(r#"{"id": 9007199254740993}"#).unwrap();
        assert_eq!(x.id.as_deref(), Some("9007199254740993"));
        let x: X = serde_json::from_str(r#"{"id": "123123123123"}"#).unwrap();
        assert_eq!(x.id.as_deref(), Some("123123123123"));
        let x: X = serde_json::from_str(r#"{}"#).unwrap();
        assert_eq!(x.id, None);
        assert!(serde_json::from_str::<X>(r#"{"id": [1]}"#).is_err());
        assert_eq!(clean_id(" 42 ").as_deref(), Some("42"));
        assert_eq!(clean_id("a b"), None);
        assert_eq!(clean_id(""), None);
    }
}
