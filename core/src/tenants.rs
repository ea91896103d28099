//! Tenants (the agency's clients) and their settings: wire types and the rules that turn a
//! request into a valid change.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::DomainError;
use crate::settings::{
    SecretChanges, Settings, SettingsInput, SettingsPatch, TenantSettings, apply_settings_patch,
    settings_from_input,
};
use crate::validate;

/// A tenant as every API response shows it. Secrets are masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Tenant {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub settings: TenantSettings,
    /// The tenant's plan (`null`: none, no limits); set by the platform.
    #[serde(default)]
    pub plan_id: Option<Uuid>,
    /// The tenant's Stripe customer (`cus_…`), which usage is reported for.
    #[serde(default)]
    pub stripe_customer_id: Option<String>,
}

/// A tenant as named inside other resources (audit rows, dashboard, breaches, all-leads).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TenantRef {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
}

impl TenantRef {
    pub fn new(id: Uuid, slug: impl Into<String>, name: impl Into<String>) -> TenantRef {
        TenantRef {
            id,
            slug: slug.into(),
            name: name.into(),
        }
    }
}

impl From<&Tenant> for TenantRef {
    fn from(t: &Tenant) -> TenantRef {
        TenantRef::new(t.id, &t.slug, &t.name)
    }
}

/// The tenant's own fields after validation, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantFields {
    pub slug: String,
    pub name: String,
    pub active: bool,
    pub settings: Settings,
}

/// `POST /tenants`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewTenant {
    pub name: String,
    /// Derived from `name` when left out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slug: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub settings: Option<SettingsInput>,
}

/// `PUT /tenants/{id}`: replaces every field; left-out settings take their defaults,
/// left-out secrets are kept (secrets are write-only, see [`crate::secret::SecretUpdate`]).
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TenantReplace {
    pub name: String,
    pub slug: String,
    #[serde(default = "yes")]
    pub active: bool,
    #[serde(default)]
    pub settings: Option<SettingsInput>,
    /// Accepted and ignored so a GET body can be PUT back unchanged.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub id: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub created_at: Option<serde::de::IgnoredAny>,
    /// Accepted and ignored (a PUT keeps them; PATCH sets them).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub plan_id: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub stripe_customer_id: Option<serde::de::IgnoredAny>,
}

fn yes() -> bool {
    true
}

/// `PATCH /tenants/{id}`: any subset.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TenantPatch {
    #[serde(
        default,
        deserialize_with = "crate::patch::not_null",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub name: Option<String>,
    #[serde(
        default,
        deserialize_with = "crate::patch::not_null",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub slug: Option<String>,
    #[serde(
        default,
        deserialize_with = "crate::patch::not_null",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub active: Option<bool>,
    #[serde(
        default,
        deserialize_with = "crate::patch::not_null",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub settings: Option<SettingsPatch>,
    /// The platform's alone to set: a plan id, or `null` for none.
    #[serde(
        default,
        deserialize_with = "crate::patch::double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Uuid>, nullable = true))]
    pub plan_id: Option<Option<Uuid>>,
    /// The platform's alone to set: `cus_…`, or `null` for none.
    #[serde(
        default,
        deserialize_with = "crate::patch::double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, nullable = true))]
    pub stripe_customer_id: Option<Option<String>>,
}

/// The billing part of a tenant PATCH: the platform's alone to change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BillingPatch {
    pub plan_id: Option<Option<Uuid>>,
    pub stripe_customer_id: Option<Option<String>>,
}

impl BillingPatch {
    pub fn is_empty(&self) -> bool {
        self.plan_id.is_none() && self.stripe_customer_id.is_none()
    }
}

impl TenantPatch {
    /// The billing fields, validated (a Stripe customer id is `cus_` and letters/digits).
    pub fn billing(&self) -> Result<BillingPatch, DomainError> {
        let stripe = match &self.stripe_customer_id {
            Some(Some(c)) => {
                let c = c.trim();
                let ok = c.len() <= 255
                    && c.strip_prefix("cus_").is_some_and(|r| {
                        !r.is_empty() && r.bytes().all(|b| b.is_ascii_alphanumeric())
                    });
                if !ok {
                    return Err(DomainError::invalid(
                        "stripe_customer_id",
                        "invalid_stripe_customer",
                        "a Stripe customer id looks like cus_NffrFeUfNV2Hib",
                    ));
                }
                Some(Some(c.to_string()))
            }
            other => other.clone(),
        };
        Ok(BillingPatch {
            plan_id: self.plan_id,
            stripe_customer_id: stripe,
        })
    }
}

fn name(v: &str) -> Result<String, DomainError> {
    validate::text("name", v, validate::NAME_MAX_CHARS)
}

/// A new tenant's fields with the built-in defaults; see [`validate_new_with`].
pub fn validate_new(input: &NewTenant) -> Result<(TenantFields, SecretChanges), DomainError> {
    validate_new_with(
        input,
        &crate::platform_settings::PlatformSettings::default(),
    )
}

/// A new tenant's fields; the slug comes from the name when not given, and settings the
/// request leaves out come from the platform settings.
pub fn validate_new_with(
    input: &NewTenant,
    platform: &crate::platform_settings::PlatformSettings,
) -> Result<(TenantFields, SecretChanges), DomainError> {
    let name = name(&input.name)?;
    let slug = match &input.slug {
        Some(s) => validate::slug("slug", s)?,
        None => {
            let derived = validate::slugify(&name);
            validate::slug("slug", &derived).map_err(|_| {
                DomainError::invalid(
                    "slug",
                    "invalid_slug",
                    "no slug could be derived from this name; pass one explicitly",
                )
            })?
        }
    };
    let (settings, secrets) =
        settings_from_input(&platform.tenant_settings_input(input.settings.as_ref()))
            .map_err(|e| e.under("settings"))?;
    Ok((
        TenantFields {
            slug,
            name,
            active: input.active.unwrap_or(true),
            settings,
        },
        secrets,
    ))
}

pub fn validate_replace(
    input: &TenantReplace,
) -> Result<(TenantFields, SecretChanges), DomainError> {
    let (settings, secrets) = match &input.settings {
        Some(si) => settings_from_input(si).map_err(|e| e.under("settings"))?,
        None => (Settings::default(), SecretChanges::default()),
    };
    Ok((
        TenantFields {
            slug: validate::slug("slug", &input.slug)?,
            name: name(&input.name)?,
            active: input.active,
            settings,
        },
        secrets,
    ))
}

pub fn apply_patch(
    current: &TenantFields,
    patch: &TenantPatch,
) -> Result<(TenantFields, SecretChanges), DomainError> {
    let mut t = current.clone();
    if let Some(n) = &patch.name {
        t.name = name(n)?;
    }
    if let Some(s) = &patch.slug {
        t.slug = validate::slug("slug", s)?;
    }
    if let Some(a) = patch.active {
        t.active = a;
    }
    let mut secrets = SecretChanges::default();
    if let Some(sp) = &patch.settings {
        let (s, sec) = apply_settings_patch(&t.settings, sp).map_err(|e| e.under("settings"))?;
        t.settings = s;
        secrets = sec;
    }
    Ok((t, secrets))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::{Secret, SecretUpdate};
    use crate::settings::*;

    fn field_of(e: DomainError) -> String {
        match e {
            DomainError::Invalid { field, .. } => field,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn new_tenant_derives_slug_and_defaults() {
        let input: NewTenant = serde_json::from_str(r#"{"name":"Open Arms Home Care"}"#).unwrap();
        let (t, secrets) = validate_new(&input).unwrap();
        assert_eq!(t.slug, "open-arms-home-care");
        assert!(t.active);
        assert_eq!(t.settings, Settings::default());
        assert_eq!(secrets.meta_access_token, SecretUpdate::Keep);
        let bad: NewTenant = serde_json::from_str(r#"{"name":"!!!"}"#).unwrap();
        assert_eq!(field_of(validate_new(&bad).unwrap_err()), "slug");
    }

    #[test]
    fn errors_name_nested_fields() {
        let input: NewTenant =
            serde_json::from_str(r#"{"name":"X Co","settings":{"sla_hours":0}}"#).unwrap();
        assert_eq!(
            field_of(validate_new(&input).unwrap_err()),
            "settings.sla_hours"
        );
        let input: NewTenant = serde_json::from_str(
            r#"{"name":"X Co","settings":{"google_ads":{"customer_id":"12","conversion_action":"a","webhook_key":"k"}}}"#,
        )
        .unwrap();
        assert_eq!(
            field_of(validate_new(&input).unwrap_err()),
            "settings.google_ads.customer_id"
        );
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let err = serde_json::from_str::<TenantPatch>(r#"{"nmae":"x"}"#).unwrap_err();
        assert!(err.to_string().contains("nmae"));
        let err =
            serde_json::from_str::<TenantPatch>(r#"{"settings":{"sla_hour":3}}"#).unwrap_err();
        assert!(err.to_string().contains("sla_hour"));
    }

    #[test]
    fn patch_changes_only_what_is_given() {
        let current = TenantFields {
            slug: "open-arms".into(),
            name: "Open Arms".into(),
            active: true,
            settings: Settings {
                sla_hours: 24,
                spam_keywords: vec!["casino".into()],
                manager_email: Some("boss@openarms.example".into()),
                default_country: "US".into(),
                auto_assign: crate::assignment::AutoAssign::None,
                meta_page_ids: Vec::new(),
                business_hours: None,
            },
        };
        let p: TenantPatch = serde_json::from_str(r#"{"settings":{"sla_hours":4}}"#).unwrap();
        let (t, _) = apply_patch(&current, &p).unwrap();
        assert_eq!(t.settings.sla_hours, 4);
        assert_eq!(t.settings.spam_keywords, vec!["casino"]);
        assert_eq!(t.name, "Open Arms");
        let p: TenantPatch =
            serde_json::from_str(r#"{"settings":{"manager_email":null}}"#).unwrap();
        let (t, _) = apply_patch(&current, &p).unwrap();
        assert_eq!(t.settings.manager_email, None);
        let p: TenantPatch =
            serde_json::from_str(r#"{"settings":{"manager_email":"nope"}}"#).unwrap();
        assert_eq!(
            field_of(apply_patch(&current, &p).unwrap_err()),
            "settings.manager_email"
        );
    }

    #[test]
    fn secrets_validate_and_normalise() {
        let p: SettingsPatch = serde_json::from_str(
            r#"{"google_ads":{"customer_id":"123-456-7890","conversion_action":"Lead","webhook_key":"wk_123456789012"}}"#,
        )
        .unwrap();
        let (_, secrets) = apply_settings_patch(&Settings::default(), &p).unwrap();
        match secrets.google_ads {
            SecretUpdate::Set(g) => {
                assert_eq!(g.expose().customer_id, "1234567890");
                assert_eq!(google_ads_last4(g.expose()), "7890");
            }
            other => panic!("{other:?}"),
        }
        let p: SettingsPatch =
            serde_json::from_str(r#"{"meta_access_token":"bad\u0000token"}"#).unwrap();
        assert_eq!(
            field_of(apply_settings_patch(&Settings::default(), &p).unwrap_err()),
            "meta_access_token"
        );
    }

    #[test]
    fn replace_accepts_a_get_body() {
        let body = r#"{"id":"0195f3a4-1111-7000-8000-000000000000","slug":"open-arms","name":"Open Arms","active":false,"created_at":"2026-01-01T00:00:00Z","settings":{"sla_hours":8,"spam_keywords":[],"manager_email":null,"meta_access_token":{"set":true,"last4":"abcd"},"google_ads":{"set":false,"last4":null}}}"#;
        let r: TenantReplace = serde_json::from_str(body).unwrap();
        let (t, secrets) = validate_replace(&r).unwrap();
        assert!(!t.active);
        assert_eq!(t.settings.sla_hours, 8);
        assert_eq!(secrets.meta_access_token, SecretUpdate::Keep);
        assert_eq!(secrets.google_ads, SecretUpdate::Keep);
    }

    #[test]
    fn patch_bodies_serialize_to_what_the_daemon_reads() {
        let p = SettingsPatch {
            sla_hours: Some(4),
            manager_email: Some(None),
            meta_access_token: SecretUpdate::Set(Secret::new("EAAGtoken".into())),
            ..Default::default()
        };
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"sla_hours": 4, "manager_email": null, "meta_access_token": "EAAGtoken"})
        );
        let back: SettingsPatch = serde_json::from_value(v).unwrap();
        assert_eq!(back.manager_email, Some(None));
        assert_eq!(back.google_ads, SecretUpdate::Keep);
        assert!(!format!("{p:?}").contains("EAAGtoken"));
        let empty = serde_json::to_value(SettingsPatch::default()).unwrap();
        assert_eq!(empty, serde_json::json!({}));
        let t = TenantPatch {
            settings: Some(SettingsPatch {
                sla_hours: Some(8),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&t).unwrap(),
            serde_json::json!({"settings": {"sla_hours": 8}})
        );
    }
}
