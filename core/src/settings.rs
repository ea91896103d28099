//! A tenant's settings: the SLA (and the business hours it counts in), spam keywords and
//! manager e-mail, and the secrets (Meta access token, Google Ads config) that are
//! write-only and shown masked.

use serde::{Deserialize, Serialize};

use crate::assignment::{AutoAssign, check_auto_assign};
use crate::business_hours::{self, BusinessHours};
use crate::error::DomainError;
use crate::patch::double_option;
use crate::phone;
use crate::secret::{MaskedSecret, Secret, SecretUpdate, Zeroize};
use crate::validate;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TenantSettings {
    pub sla_hours: u32,
    pub spam_keywords: Vec<String>,
    pub manager_email: Option<String>,
    /// ISO 3166 alpha-2 code of the country a phone number without a country code is read
    /// in (`US` unless set); phones are stored in E.164.
    #[serde(default = "default_country")]
    pub default_country: String,
    /// How new leads get an assignee: `none` (default) or `round_robin` among the tenant's
    /// active managers.
    #[serde(default)]
    pub auto_assign: AutoAssign,
    /// The Facebook pages whose Lead Ads leads are this tenant's; a page belongs to at most
    /// one tenant.
    #[serde(default)]
    pub meta_page_ids: Vec<String>,
    /// When set, the SLA clock counts only these opening hours; `null`: every hour.
    #[serde(default)]
    pub business_hours: Option<BusinessHours>,
    pub meta_access_token: MaskedSecret,
    pub google_ads: MaskedSecret,
}

/// Google Ads offline-conversion settings; stored sealed as one JSON document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct GoogleAdsConfig {
    pub customer_id: String,
    pub conversion_action: String,
    pub webhook_key: String,
}

/// Google Ads settings are kept as a secret (the webhook key); wiped like the others.
impl Zeroize for GoogleAdsConfig {
    fn zeroize(&mut self) {
        self.customer_id.zeroize();
        self.conversion_action.zeroize();
        self.webhook_key.zeroize();
    }
}

/// The non-secret settings, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub sla_hours: u32,
    pub spam_keywords: Vec<String>,
    pub manager_email: Option<String>,
    /// A code [`crate::phone::country`] knows, upper case.
    pub default_country: String,
    pub auto_assign: AutoAssign,
    /// Checked by [`validate_page_ids`].
    pub meta_page_ids: Vec<String>,
    /// Checked by [`business_hours::validate`]; `None`: the SLA counts every hour.
    pub business_hours: Option<BusinessHours>,
}

fn default_country() -> String {
    phone::DEFAULT_COUNTRY.to_string()
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            sla_hours: validate::SLA_HOURS_DEFAULT,
            spam_keywords: Vec::new(),
            manager_email: None,
            default_country: default_country(),
            auto_assign: AutoAssign::None,
            meta_page_ids: Vec::new(),
            business_hours: None,
        }
    }
}

impl Settings {
    /// The country phone numbers without a country code are read in.
    pub fn home_country(&self) -> phone::Country {
        phone::country(&self.default_country)
            .or_else(|| phone::country(phone::DEFAULT_COUNTRY))
            .unwrap_or(phone::Country {
                iso: "US",
                calling_code: "1",
                trunk: "1",
            })
    }
}

/// `default_country` checked: an ISO 3166 alpha-2 code whose numbers can be read.
pub fn check_country(field: &str, v: &str) -> Result<String, DomainError> {
    match phone::country(v) {
        Some(c) => Ok(c.iso.to_string()),
        None => {
            let known: Vec<&str> = phone::supported_countries().collect();
            Err(DomainError::invalid(
                field,
                "unknown_country",
                format!(
                    "{field} must be an ISO 3166 alpha-2 country code whose phone numbers \
                     can be read: {}",
                    known.join(", ")
                ),
            ))
        }
    }
}

/// The most page ids one tenant holds.
pub const PAGE_IDS_MAX: usize = 50;

/// A tenant's `meta_page_ids`: each a Facebook page id (1–32 digits), no repeats, at most
/// [`PAGE_IDS_MAX`]. Kept in the order given.
pub fn validate_page_ids(field: &str, ids: &[String]) -> Result<Vec<String>, DomainError> {
    if ids.len() > PAGE_IDS_MAX {
        return Err(DomainError::invalid(
            field,
            "too_many",
            format!("{field} holds at most {PAGE_IDS_MAX} page ids"),
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(ids.len());
    for (i, raw) in ids.iter().enumerate() {
        let id = raw.trim();
        if id.is_empty() || id.len() > 32 || !id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DomainError::invalid(
                format!("{field}[{i}]"),
                "invalid_page_id",
                format!("{field}[{i}] must be a Facebook page id: 1 to 32 digits"),
            ));
        }
        if out.iter().any(|o| o == id) {
            return Err(DomainError::invalid(
                format!("{field}[{i}]"),
                "duplicate_page_id",
                format!("{field}[{i}] repeats page id {id}"),
            ));
        }
        out.push(id.to_string());
    }
    Ok(out)
}

/// What to do with each stored secret; values already validated.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SecretChanges {
    pub meta_access_token: SecretUpdate<String>,
    pub google_ads: SecretUpdate<GoogleAdsConfig>,
}

/// Settings in a create or replace: every field optional, defaults filled in.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SettingsInput {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sla_hours: Option<u32>,
    /// Left out: empty (a new tenant: the platform's default keywords).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spam_keywords: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manager_email: Option<String>,
    /// ISO 3166 alpha-2; left out: `US`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_country: Option<String>,
    /// `none` or `round_robin`; left out: `none`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<AutoAssign>))]
    pub auto_assign: Option<String>,
    /// Facebook page ids (digits); left out: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta_page_ids: Option<Vec<String>>,
    /// Opening hours the SLA clock counts in; left out or `null`: every hour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_hours: Option<BusinessHours>,
    /// A string sets it, `null` clears it, left out (or the masked object) keeps it.
    #[serde(default, skip_serializing_if = "SecretUpdate::is_keep")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub meta_access_token: SecretUpdate<String>,
    #[serde(default, skip_serializing_if = "SecretUpdate::is_keep")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<GoogleAdsConfig>))]
    pub google_ads: SecretUpdate<GoogleAdsConfig>,
}

/// Settings in a PATCH: only what is present changes; `manager_email: null` clears it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SettingsPatch {
    #[serde(
        default,
        deserialize_with = "crate::patch::not_null",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub sla_hours: Option<u32>,
    #[serde(
        default,
        deserialize_with = "crate::patch::not_null",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub spam_keywords: Option<Vec<String>>,
    /// Left out: unchanged; `null` clears it.
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub manager_email: Option<Option<String>>,
    /// ISO 3166 alpha-2 code for phones without a country code; stored phones keep theirs.
    #[serde(
        default,
        deserialize_with = "crate::patch::not_null",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub default_country: Option<String>,
    /// `none` or `round_robin` (new leads go to the tenant's active managers in turn).
    #[cfg_attr(feature = "openapi", schema(nullable = false, value_type = Option<AutoAssign>))]
    #[serde(
        default,
        deserialize_with = "crate::patch::not_null",
        skip_serializing_if = "Option::is_none"
    )]
    pub auto_assign: Option<String>,
    /// Replaces the tenant's Facebook page ids (`[]` removes them all).
    #[serde(
        default,
        deserialize_with = "crate::patch::not_null",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub meta_page_ids: Option<Vec<String>>,
    /// Left out: unchanged; `null` clears it (the SLA counts every hour again).
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<BusinessHours>))]
    pub business_hours: Option<Option<BusinessHours>>,
    #[serde(default, skip_serializing_if = "SecretUpdate::is_keep")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub meta_access_token: SecretUpdate<String>,
    #[serde(default, skip_serializing_if = "SecretUpdate::is_keep")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<GoogleAdsConfig>))]
    pub google_ads: SecretUpdate<GoogleAdsConfig>,
}

fn email_opt(field: &str, v: Option<&str>) -> Result<Option<String>, DomainError> {
    match v {
        None => Ok(None),
        Some(s) if s.trim().is_empty() => Ok(None),
        Some(s) => validate::email(field, s).map(Some),
    }
}

fn check_secrets(
    meta: &SecretUpdate<String>,
    google: &SecretUpdate<GoogleAdsConfig>,
) -> Result<SecretChanges, DomainError> {
    let meta = match meta {
        SecretUpdate::Set(t) => SecretUpdate::Set(Secret::new(validate::text(
            "meta_access_token",
            t.expose(),
            validate::SECRET_MAX_CHARS,
        )?)),
        other => other.clone(),
    };
    let google = match google {
        SecretUpdate::Set(g) => {
            let g = g.expose();
            let customer_id = validate::text("google_ads.customer_id", &g.customer_id, 20)?;
            let digits: String = customer_id.chars().filter(|c| *c != '-').collect();
            if digits.len() != 10 || !digits.chars().all(|c| c.is_ascii_digit()) {
                return Err(DomainError::invalid(
                    "google_ads.customer_id",
                    "invalid_customer_id",
                    "google_ads.customer_id must be a 10-digit Google Ads customer id (123-456-7890)",
                ));
            }
            SecretUpdate::Set(Secret::new(GoogleAdsConfig {
                customer_id: digits,
                conversion_action: validate::text(
                    "google_ads.conversion_action",
                    &g.conversion_action,
                    200,
                )?,
                webhook_key: validate::text(
                    "google_ads.webhook_key",
                    &g.webhook_key,
                    validate::SECRET_MAX_CHARS,
                )?,
            }))
        }
        other => other.clone(),
    };
    Ok(SecretChanges {
        meta_access_token: meta,
        google_ads: google,
    })
}

/// Settings for a create or replace.
pub fn settings_from_input(
    input: &SettingsInput,
) -> Result<(Settings, SecretChanges), DomainError> {
    let settings = Settings {
        sla_hours: validate::sla_hours(
            "sla_hours",
            input.sla_hours.unwrap_or(validate::SLA_HOURS_DEFAULT),
        )?,
        spam_keywords: validate::spam_keywords(
            "spam_keywords",
            input.spam_keywords.as_deref().unwrap_or(&[]),
        )?,
        manager_email: email_opt("manager_email", input.manager_email.as_deref())?,
        default_country: match &input.default_country {
            Some(c) => check_country("default_country", c)?,
            None => default_country(),
        },
        auto_assign: match &input.auto_assign {
            Some(a) => check_auto_assign("auto_assign", a)?,
            None => AutoAssign::None,
        },
        meta_page_ids: match &input.meta_page_ids {
            Some(ids) => validate_page_ids("meta_page_ids", ids)?,
            None => Vec::new(),
        },
        business_hours: input
            .business_hours
            .as_ref()
            .map(|b| business_hours::validate("business_hours", b))
            .transpose()?,
    };
    let secrets = check_secrets(&input.meta_access_token, &input.google_ads)?;
    Ok((settings, secrets))
}

/// Settings after a PATCH over `current`.
pub fn apply_settings_patch(
    current: &Settings,
    patch: &SettingsPatch,
) -> Result<(Settings, SecretChanges), DomainError> {
    let mut s = current.clone();
    if let Some(h) = patch.sla_hours {
        s.sla_hours = validate::sla_hours("sla_hours", h)?;
    }
    if let Some(k) = &patch.spam_keywords {
        s.spam_keywords = validate::spam_keywords("spam_keywords", k)?;
    }
    if let Some(e) = &patch.manager_email {
        s.manager_email = email_opt("manager_email", e.as_deref())?;
    }
    if let Some(c) = &patch.default_country {
        s.default_country = check_country("default_country", c)?;
    }
    if let Some(a) = &patch.auto_assign {
        s.auto_assign = check_auto_assign("auto_assign", a)?;
    }
    if let Some(ids) = &patch.meta_page_ids {
        s.meta_page_ids = validate_page_ids("meta_page_ids", ids)?;
    }
    if let Some(b) = &patch.business_hours {
        s.business_hours = b
            .as_ref()
            .map(|b| business_hours::validate("business_hours", b))
            .transpose()?;
    }
    let secrets = check_secrets(&patch.meta_access_token, &patch.google_ads)?;
    Ok((s, secrets))
}

/// The last four characters shown for a Google Ads config: its customer id's, which is what
/// an operator recognises.
pub fn google_ads_last4(g: &GoogleAdsConfig) -> String {
    let id = &g.customer_id;
    id[id.len().saturating_sub(4)..].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn google_ads_settings_are_wiped() {
        let mut g = GoogleAdsConfig {
            customer_id: "123-456".into(),
            conversion_action: "lead".into(),
            webhook_key: "wh-secret".into(),
        };
        g.zeroize();
        assert!(g.webhook_key.is_empty() && g.customer_id.is_empty());
    }

    #[test]
    fn default_country_is_us_validated_and_upper_cased() {
        let (s, _) = settings_from_input(&SettingsInput::default()).unwrap();
        assert_eq!(s.default_country, "US");
        let patch: SettingsPatch = serde_json::from_str(r#"{"default_country":"gb"}"#).unwrap();
        let (p, _) = apply_settings_patch(&s, &patch).unwrap();
        assert_eq!(p.default_country, "GB");
        assert_eq!(p.home_country().calling_code, "44");
        for bad in ["", "XX", "USA", "u s"] {
            let patch = SettingsPatch {
                default_country: Some(bad.into()),
                ..Default::default()
            };
            match apply_settings_patch(&s, &patch) {
                Err(DomainError::Invalid { field, code, .. }) => {
                    assert_eq!(
                        (field.as_str(), code),
                        ("default_country", "unknown_country"),
                        "{bad:?}"
                    );
                }
                other => panic!("{bad:?}: {other:?}"),
            }
        }
        // An answer from an older daemon without the fields reads as US, no auto-assignment.
        let old = r#"{"sla_hours":8,"spam_keywords":[],"manager_email":null,"meta_access_token":{"set":false,"last4":null},"google_ads":{"set":false,"last4":null}}"#;
        let t: TenantSettings = serde_json::from_str(old).unwrap();
        assert_eq!(t.default_country, "US");
        assert_eq!(t.auto_assign, AutoAssign::None);
    }

    #[test]
    fn auto_assign_is_none_by_default_and_checked() {
        let (s, _) = settings_from_input(&SettingsInput::default()).unwrap();
        assert_eq!(s.auto_assign, AutoAssign::None);
        let patch: SettingsPatch =
            serde_json::from_str(r#"{"auto_assign":"round_robin"}"#).unwrap();
        let (p, _) = apply_settings_patch(&s, &patch).unwrap();
        assert_eq!(p.auto_assign, AutoAssign::RoundRobin);
        // Left out of a later PATCH: kept.
        let (kept, _) = apply_settings_patch(&p, &SettingsPatch::default()).unwrap();
        assert_eq!(kept.auto_assign, AutoAssign::RoundRobin);
        let bad: SettingsPatch = serde_json::from_str(r#"{"auto_assign":"random"}"#).unwrap();
        match apply_settings_patch(&s, &bad) {
            Err(DomainError::Invalid { field, code, .. }) => {
                assert_eq!((field.as_str(), code), ("auto_assign", "invalid_value"));
            }
            other => panic!("{other:?}"),
        }
        let input: SettingsInput = serde_json::from_str(r#"{"auto_assign":"nope"}"#).unwrap();
        assert!(settings_from_input(&input).is_err());
    }

    #[test]
    fn page_ids_are_validated() {
        let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            validate_page_ids("meta_page_ids", &ids(&[" 123 ", "456"])).unwrap(),
            ids(&["123", "456"])
        );
        for (bad, field) in [
            (ids(&["12a"]), "meta_page_ids[0]"),
            (ids(&["1", ""]), "meta_page_ids[1]"),
            (ids(&["1", "1"]), "meta_page_ids[1]"),
            (ids(&[&"9".repeat(33)]), "meta_page_ids[0]"),
            (vec!["1".to_string(); PAGE_IDS_MAX + 1], "meta_page_ids"),
        ] {
            match validate_page_ids("meta_page_ids", &bad) {
                Err(DomainError::Invalid { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }
}
