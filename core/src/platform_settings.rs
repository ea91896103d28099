//! The platform settings: the defaults new tenants start from (SLA, grace hours, spam
//! keywords, honeypot fields, the default pipeline) and who operates the platform.
//! Wire types and rules only; storage is in `echo5-data`, HTTP in `echo5d`.

use serde::{Deserialize, Deserializer, Serialize};

use crate::error::DomainError;
use crate::patch::double_option;
use crate::secret::{MaskedSecret, SecretUpdate};
use crate::settings::SettingsInput;
use crate::stages::{self, StageKind};
use crate::validate;
use crate::validate::{GRACE_HOURS_DEFAULT, GRACE_HOURS_MAX};

/// A stage of the pipeline new tenants start with (no id: each tenant gets its own).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StageTemplate {
    pub name: String,
    pub kind: StageKind,
}

/// `GET /api/v1/platform/settings`, and the body of a `PUT` (every field required).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PlatformSettings {
    /// The pipeline a new tenant starts with; the first stage must be `open`.
    pub default_stages: Vec<StageTemplate>,
    /// A new tenant's `sla_hours` when its create request leaves it out (1..=720).
    pub default_sla_hours: u32,
    /// A new tenant's `spam_keywords` when its create request leaves them out.
    pub default_spam_keywords: Vec<String>,
    /// Extra honeypot field names, checked on every tenant's submissions (platform-wide,
    /// live), besides the names every form plugin uses, which are always checked.
    pub honeypot_fields: Vec<String>,
    /// The grace period of a key rotation that does not give `grace_hours` (0..=720).
    pub default_grace_hours: u32,
    /// Who runs this platform (shown by the console); `null` when unset.
    #[serde(deserialize_with = "required_nullable")]
    #[cfg_attr(feature = "openapi", schema(required = true, nullable = true, value_type = Option<String>))]
    pub operator_name: Option<String>,
    #[serde(deserialize_with = "required_nullable")]
    #[cfg_attr(feature = "openapi", schema(required = true, nullable = true, value_type = Option<String>))]
    pub operator_email: Option<String>,
    /// The token Meta's webhook verification must present (`hub.verify_token`); `null`
    /// (or left out of a PUT): every handshake is refused.
    #[serde(default)]
    pub meta_verify_token: Option<String>,
    /// The Meta app's secret, which signs its lead notifications: shown masked, set with
    /// PATCH (a string sets it, `null` clears it); a PUT keeps it (it may carry back the
    /// masked object a GET returned).
    #[serde(default)]
    pub meta_app_secret: MaskedSecret,
    /// The Stripe meter usage is reported to (its `event_name`); `null`: no reports.
    #[serde(default)]
    pub stripe_meter_event_name: Option<String>,
    /// The Stripe secret key the usage reports are sent with: shown masked, set with PATCH
    /// (a string sets it, `null` clears it); a PUT keeps it.
    #[serde(default)]
    pub stripe_secret_key: MaskedSecret,
}

/// An `Option` field that must be present (PUT replaces everything), `null` allowed.
fn required_nullable<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Option::<String>::deserialize(d)
}

impl Default for PlatformSettings {
    /// What the platform did before it had settings: the built-in pipeline, 24 h SLA, no
    /// keywords, only the built-in honeypot names, 24 h rotation grace.
    fn default() -> Self {
        PlatformSettings {
            default_stages: stages::default_pipeline()
                .into_iter()
                .map(|(name, kind)| StageTemplate {
                    name: name.to_string(),
                    kind,
                })
                .collect(),
            default_sla_hours: validate::SLA_HOURS_DEFAULT,
            default_spam_keywords: Vec::new(),
            honeypot_fields: Vec::new(),
            default_grace_hours: GRACE_HOURS_DEFAULT,
            operator_name: None,
            operator_email: None,
            meta_verify_token: None,
            meta_app_secret: MaskedSecret::unset(),
            stripe_meter_event_name: None,
            stripe_secret_key: MaskedSecret::unset(),
        }
    }
}

/// `PATCH /api/v1/platform/settings`: any subset; `null` clears the operator fields.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PlatformSettingsPatch {
    #[serde(
        default,
        deserialize_with = "crate::patch::not_null",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub default_stages: Option<Vec<StageTemplate>>,
    #[serde(
        default,
        deserialize_with = "crate::patch::not_null",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub default_sla_hours: Option<u32>,
    #[serde(
        default,
        deserialize_with = "crate::patch::not_null",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub default_spam_keywords: Option<Vec<String>>,
    #[serde(
        default,
        deserialize_with = "crate::patch::not_null",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub honeypot_fields: Option<Vec<String>>,
    #[serde(
        default,
        deserialize_with = "crate::patch::not_null",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub default_grace_hours: Option<u32>,
    /// Left out: unchanged; `null` clears it.
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub operator_name: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub operator_email: Option<Option<String>>,
    /// Left out: unchanged; `null` clears it (handshakes are then refused).
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub meta_verify_token: Option<Option<String>>,
    /// A string sets it, `null` clears it, left out (or the masked object) keeps it.
    #[serde(default, skip_serializing_if = "SecretUpdate::is_keep")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub meta_app_secret: SecretUpdate<String>,
    /// Left out: unchanged; `null` clears it (no usage reports).
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub stripe_meter_event_name: Option<Option<String>>,
    /// A string (`sk_…` or `rk_…`) sets it, `null` clears it, left out keeps it.
    #[serde(default, skip_serializing_if = "SecretUpdate::is_keep")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub stripe_secret_key: SecretUpdate<String>,
}

/// The pipeline template: 1..=50 stages, names valid and unique (case-insensitively), the
/// first (intake) stage `open` — the same rules a tenant's own pipeline keeps.
pub fn validate_stages(stages: &[StageTemplate]) -> Result<Vec<StageTemplate>, DomainError> {
    let field = "default_stages";
    if stages.is_empty() {
        return Err(DomainError::invalid(
            field,
            "no_stages",
            "default_stages needs at least one stage, and the first must be open",
        ));
    }
    if stages.len() > stages::STAGES_MAX {
        return Err(DomainError::invalid(
            field,
            "too_many_stages",
            format!("default_stages holds at most {} stages", stages::STAGES_MAX),
        ));
    }
    let mut out: Vec<StageTemplate> = Vec::with_capacity(stages.len());
    for (i, s) in stages.iter().enumerate() {
        let name = stages::validate_name(&s.name).map_err(|e| e.under(&format!("{field}[{i}]")))?;
        if out
            .iter()
            .any(|o| o.name.to_lowercase() == name.to_lowercase())
        {
            return Err(DomainError::invalid(
                format!("{field}[{i}].name"),
                "duplicate_name",
                format!("a stage named \"{name}\" is already in default_stages"),
            ));
        }
        out.push(StageTemplate { name, kind: s.kind });
    }
    if out[0].kind != StageKind::Open {
        return Err(DomainError::invalid(
            format!("{field}[0].kind"),
            "intake_stage_not_open",
            "the first stage is where new leads arrive, so it must be open",
        ));
    }
    Ok(out)
}

fn grace_hours(v: u32) -> Result<u32, DomainError> {
    if v > GRACE_HOURS_MAX {
        return Err(DomainError::invalid(
            "default_grace_hours",
            "out_of_range",
            format!("default_grace_hours must be between 0 and {GRACE_HOURS_MAX}"),
        ));
    }
    Ok(v)
}

fn operator_name(v: Option<&str>) -> Result<Option<String>, DomainError> {
    match v.map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => validate::text("operator_name", s, validate::NAME_MAX_CHARS).map(Some),
    }
}

fn meta_verify_token(v: Option<&str>) -> Result<Option<String>, DomainError> {
    match v.map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) if s.len() <= 200 && s.bytes().all(|b| b.is_ascii_graphic()) => {
            Ok(Some(s.to_string()))
        }
        Some(_) => Err(DomainError::invalid(
            "meta_verify_token",
            "invalid_token",
            "meta_verify_token must be 1 to 200 visible ASCII characters (no spaces)",
        )),
    }
}

/// The Meta app secret of a PATCH, checked: 1 to 200 visible ASCII characters (an app
/// secret is 32 hex digits).
pub fn check_meta_app_secret(u: &SecretUpdate<String>) -> Result<(), DomainError> {
    if let SecretUpdate::Set(s) = u {
        let s = s.expose();
        if s.is_empty() || s.len() > 200 || !s.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(DomainError::invalid(
                "meta_app_secret",
                "invalid_secret",
                "meta_app_secret must be 1 to 200 visible ASCII characters (no spaces)",
            ));
        }
    }
    Ok(())
}

/// The Stripe secret key of a PATCH, checked: `sk_…` or `rk_…`, visible ASCII, at most 255.
pub fn check_stripe_secret_key(u: &SecretUpdate<String>) -> Result<(), DomainError> {
    if let SecretUpdate::Set(s) = u {
        let s = s.expose();
        let ok = s.len() <= 255
            && (s.starts_with("sk_") || s.starts_with("rk_"))
            && s.len() > 3
            && s.bytes().all(|b| b.is_ascii_graphic());
        if !ok {
            return Err(DomainError::invalid(
                "stripe_secret_key",
                "invalid_secret",
                "stripe_secret_key is a Stripe secret or restricted key (sk_… or rk_…)",
            ));
        }
    }
    Ok(())
}

fn meter_event_name(v: Option<&str>) -> Result<Option<String>, DomainError> {
    match v.map(str::trim) {
        None | Some("") => Ok(None),
        Some(s)
            if s.len() <= 100
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.') =>
        {
            Ok(Some(s.to_string()))
        }
        Some(_) => Err(DomainError::invalid(
            "stripe_meter_event_name",
            "invalid_event_name",
            "stripe_meter_event_name is the meter's event name: up to 100 letters, digits, _ - .",
        )),
    }
}

fn operator_email(v: Option<&str>) -> Result<Option<String>, DomainError> {
    match v.map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => validate::email("operator_email", s).map(Some),
    }
}

/// Checks and normalises a whole settings document (a PUT).
pub fn validate_settings(input: &PlatformSettings) -> Result<PlatformSettings, DomainError> {
    Ok(PlatformSettings {
        default_stages: validate_stages(&input.default_stages)?,
        default_sla_hours: validate::sla_hours("default_sla_hours", input.default_sla_hours)?,
        default_spam_keywords: validate::spam_keywords(
            "default_spam_keywords",
            &input.default_spam_keywords,
        )?,
        // Same limits as keywords (≤500 × ≤100 chars, no control characters); lower-cased
        // because honeypot names are compared loosely (case and punctuation ignored).
        honeypot_fields: validate::spam_keywords("honeypot_fields", &input.honeypot_fields)?,
        default_grace_hours: grace_hours(input.default_grace_hours)?,
        operator_name: operator_name(input.operator_name.as_deref())?,
        operator_email: operator_email(input.operator_email.as_deref())?,
        meta_verify_token: meta_verify_token(input.meta_verify_token.as_deref())?,
        // Never part of the document: the store fills it in from the sealed column.
        meta_app_secret: input.meta_app_secret.clone(),
        stripe_meter_event_name: meter_event_name(input.stripe_meter_event_name.as_deref())?,
        stripe_secret_key: input.stripe_secret_key.clone(),
    })
}

/// The settings after a PATCH over `current`.
pub fn apply_patch(
    current: &PlatformSettings,
    p: &PlatformSettingsPatch,
) -> Result<PlatformSettings, DomainError> {
    let mut s = current.clone();
    if let Some(v) = &p.default_stages {
        s.default_stages = v.clone();
    }
    if let Some(v) = p.default_sla_hours {
        s.default_sla_hours = v;
    }
    if let Some(v) = &p.default_spam_keywords {
        s.default_spam_keywords = v.clone();
    }
    if let Some(v) = &p.honeypot_fields {
        s.honeypot_fields = v.clone();
    }
    if let Some(v) = p.default_grace_hours {
        s.default_grace_hours = v;
    }
    if let Some(v) = &p.operator_name {
        s.operator_name = v.clone();
    }
    if let Some(v) = &p.operator_email {
        s.operator_email = v.clone();
    }
    if let Some(v) = &p.meta_verify_token {
        s.meta_verify_token = v.clone();
    }
    if let Some(v) = &p.stripe_meter_event_name {
        s.stripe_meter_event_name = v.clone();
    }
    check_meta_app_secret(&p.meta_app_secret)?;
    check_stripe_secret_key(&p.stripe_secret_key)?;
    validate_settings(&s)
}

/// Names of the fields that differ, for the audit row and the event.
pub fn changed_fields(old: &PlatformSettings, new: &PlatformSettings) -> Vec<&'static str> {
    let mut out = Vec::new();
    if old.default_stages != new.default_stages {
        out.push("default_stages");
    }
    if old.default_sla_hours != new.default_sla_hours {
        out.push("default_sla_hours");
    }
    if old.default_spam_keywords != new.default_spam_keywords {
        out.push("default_spam_keywords");
    }
    if old.honeypot_fields != new.honeypot_fields {
        out.push("honeypot_fields");
    }
    if old.default_grace_hours != new.default_grace_hours {
        out.push("default_grace_hours");
    }
    if old.operator_name != new.operator_name {
        out.push("operator_name");
    }
    if old.operator_email != new.operator_email {
        out.push("operator_email");
    }
    if old.meta_verify_token != new.meta_verify_token {
        out.push("meta_verify_token");
    }
    if old.stripe_meter_event_name != new.stripe_meter_event_name {
        out.push("stripe_meter_event_name");
    }
    out
}

impl PlatformSettings {
    /// A new tenant's settings: what its create request gave, the platform defaults for
    /// what it left out.
    pub fn tenant_settings_input(&self, given: Option<&SettingsInput>) -> SettingsInput {
        let mut s = given.cloned().unwrap_or_default();
        if s.sla_hours.is_none() {
            s.sla_hours = Some(self.default_sla_hours);
        }
        if s.spam_keywords.is_none() {
            s.spam_keywords = Some(self.default_spam_keywords.clone());
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of<T: std::fmt::Debug>(r: Result<T, DomainError>) -> String {
        match r {
            Err(DomainError::Invalid { field, .. }) => field,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn defaults_are_todays_behaviour() {
        let d = PlatformSettings::default();
        assert_eq!(d.default_stages.len(), stages::default_pipeline().len());
        assert_eq!(d.default_stages[0].name, "New");
        assert_eq!(d.default_sla_hours, 24);
        assert_eq!(d.default_grace_hours, 24);
        assert!(d.honeypot_fields.is_empty() && d.default_spam_keywords.is_empty());
        assert_eq!(validate_settings(&d).unwrap(), d);
        let v = serde_json::to_value(&d).unwrap();
        assert_eq!(v["operator_name"], serde_json::Value::Null);
        assert_eq!(
            v["default_stages"][4],
            serde_json::json!({"name":"Won","kind":"won"})
        );
        // A GET body PUTs back unchanged.
        let back: PlatformSettings = serde_json::from_value(v).unwrap();
        assert_eq!(back, d);
    }

    #[test]
    fn put_needs_every_field() {
        let mut v = serde_json::to_value(PlatformSettings::default()).unwrap();
        v.as_object_mut().unwrap().remove("operator_email");
        let e = serde_json::from_value::<PlatformSettings>(v).unwrap_err();
        assert!(e.to_string().contains("operator_email"), "{e}");
        let e = serde_json::from_str::<PlatformSettingsPatch>(r#"{"default_sla":3}"#).unwrap_err();
        assert!(e.to_string().contains("default_sla"), "{e}");
    }

    #[test]
    fn rules_name_the_field() {
        let d = PlatformSettings::default();
        let patch = |j: &str| {
            let p: PlatformSettingsPatch = serde_json::from_str(j).unwrap();
            apply_patch(&d, &p)
        };
        assert_eq!(
            field_of(patch(r#"{"default_sla_hours":0}"#)),
            "default_sla_hours"
        );
        assert_eq!(
            field_of(patch(r#"{"default_grace_hours":721}"#)),
            "default_grace_hours"
        );
        assert_eq!(
            field_of(patch(r#"{"default_stages":[]}"#)),
            "default_stages"
        );
        assert_eq!(
            field_of(patch(r#"{"default_stages":[{"name":"Won","kind":"won"}]}"#)),
            "default_stages[0].kind"
        );
        assert_eq!(
            field_of(patch(
                r#"{"default_stages":[{"name":"New","kind":"open"},{"name":"new","kind":"lost"}]}"#
            )),
            "default_stages[1].name"
        );
        assert_eq!(
            field_of(patch(r#"{"default_stages":[{"name":"","kind":"open"}]}"#)),
            "default_stages[0].name"
        );
        assert_eq!(
            field_of(patch(r#"{"default_spam_keywords":["ok","bad\u0007"]}"#)),
            "default_spam_keywords[1]"
        );
        let long = format!(r#"{{"honeypot_fields":["{}"]}}"#, "x".repeat(101));
        assert_eq!(field_of(patch(&long)), "honeypot_fields[0]");
        assert_eq!(
            field_of(patch(r#"{"operator_email":"nope"}"#)),
            "operator_email"
        );
        assert_eq!(
            field_of(patch(r#"{"operator_name":"a\nb"}"#)),
            "operator_name"
        );
        let ok = patch(r#"{"operator_email":" Ops@Agency.Example ","honeypot_fields":["My_Trap"],"operator_name":null}"#)
            .unwrap();
        assert_eq!(ok.operator_email.as_deref(), Some("ops@agency.example"));
        assert_eq!(ok.honeypot_fields, vec!["my_trap"]);
        assert_eq!(
            changed_fields(&d, &ok),
            vec!["honeypot_fields", "operator_email"]
        );
    }

    #[test]
    fn new_tenants_take_defaults_for_what_they_leave_out() {
        let p = PlatformSettings {
            default_sla_hours: 8,
            default_spam_keywords: vec!["casino".into()],
            ..Default::default()
        };
        let s = p.tenant_settings_input(None);
        assert_eq!(
            (s.sla_hours, s.spam_keywords.as_deref()),
            (Some(8), Some(&["casino".to_string()][..]))
        );
        let given: SettingsInput =
            serde_json::from_str(r#"{"sla_hours":2,"spam_keywords":[]}"#).unwrap();
        let s = p.tenant_settings_input(Some(&given));
        assert_eq!(s.sla_hours, Some(2));
        assert_eq!(s.spam_keywords, Some(vec![]));
        let given: SettingsInput =
            serde_json::from_str(r#"{"manager_email":"a@b.example"}"#).unwrap();
        let s = p.tenant_settings_input(Some(&given));
        assert_eq!(s.sla_hours, Some(8));
    }
}
