//! A tenant's notifications: which events go to which channels (e-mail, Slack, SMS), the
//! escalation steps after an SLA breach, the branding and the templates the messages are
//! rendered from, and the daily digest's local time.
//!
//! Everything here is a plain function: validation of the document (each error names its
//! field), masking of its secrets, which escalation steps are due, when the digest is due,
//! who receives what, and template rendering. The daemon stores, seals and sends.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::error::DomainError;
use crate::leads::Lead;
use crate::secret::{MaskedSecret, Secret, SecretUpdate, Zeroize, last4};
use crate::validate;

/// The events a rule, a template or a test can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum NotifyEvent {
    #[serde(rename = "lead.created")]
    LeadCreated,
    #[serde(rename = "sla.breached")]
    SlaBreached,
    #[serde(rename = "sla.escalated")]
    SlaEscalated,
    #[serde(rename = "digest.daily")]
    DigestDaily,
}

impl NotifyEvent {
    pub const ALL: [NotifyEvent; 4] = [
        NotifyEvent::LeadCreated,
        NotifyEvent::SlaBreached,
        NotifyEvent::SlaEscalated,
        NotifyEvent::DigestDaily,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            NotifyEvent::LeadCreated => "lead.created",
            NotifyEvent::SlaBreached => "sla.breached",
            NotifyEvent::SlaEscalated => "sla.escalated",
            NotifyEvent::DigestDaily => "digest.daily",
        }
    }

    pub fn parse(s: &str) -> Option<NotifyEvent> {
        NotifyEvent::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

/// Where a message goes. E-mail goes through SendGrid when the tenant has set it up, and
/// through the daemon's SMTP server otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Email,
    Slack,
    Sms,
}

impl Channel {
    pub const ALL: [Channel; 3] = [Channel::Email, Channel::Slack, Channel::Sms];

    pub const fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Slack => "slack",
            Channel::Sms => "sms",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// Limits on the document, so one tenant's settings stay a small row and a send a small
/// batch.
pub const RECIPIENTS_MAX: usize = 20;
pub const ESCALATION_STEPS_MAX: usize = 10;
pub const TEMPLATE_MAX_CHARS: usize = 20_000;
pub const URL_MAX_CHARS: usize = 2048;
/// A step more than this late (the daemon was down, or the step was added after its time
/// had passed) is skipped rather than sent long after the moment it was meant for.
pub const ESCALATION_CATCH_UP: TimeDelta = TimeDelta::hours(24);
/// Template work allowed per render: ends a runaway loop in a tenant's template.
const TEMPLATE_FUEL: u64 = 50_000;
/// The accent colour when the tenant sets none.
pub const DEFAULT_ACCENT: &str = "#2563eb";

// ---------------------------------------------------------------------------------------
// The document as answered (secrets masked) and as stored (without the secrets).
// ---------------------------------------------------------------------------------------

/// A tenant's notification settings as the API answers them: secrets masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Notifications {
    pub channels: Channels,
    /// Per event, the channels it goes to.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub rules: BTreeMap<NotifyEvent, Vec<Channel>>,
    /// Further alerts after a breach while the lead still waits, each sent once.
    pub escalation: Vec<EscalationStep>,
    pub branding: Branding,
    /// Per event, the tenant's own template; an event without one uses the default
    /// (see [`default_template`]).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub templates: BTreeMap<NotifyEvent, TemplateSet>,
    /// When the daily digest goes out; `null`: never.
    pub digest: Option<Digest>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Channels {
    pub email: Option<EmailChannel>,
    pub slack: Option<SlackChannel>,
    pub sms: Option<SmsChannel>,
    pub sendgrid: Option<SendgridChannel>,
}

/// Recipients besides the tenant's `manager_email`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EmailChannel {
    #[serde(default)]
    pub to: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SlackChannel {
    /// The incoming-webhook URL: it is the credential, so it is masked.
    pub webhook_url: MaskedSecret,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SmsChannel {
    pub account_sid: String,
    pub auth_token: MaskedSecret,
    pub from: String,
    pub to: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SendgridChannel {
    pub api_key: MaskedSecret,
    pub from: String,
}

/// An escalation step: `after_hours` after the breach, to `to` (e-mail addresses, phone
/// numbers in E.164, or ids of the tenant's users) over `channels`. An empty `to` means the
/// channels' own recipients; empty `channels`, those of the `sla.escalated` rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EscalationStep {
    pub after_hours: u32,
    #[serde(default)]
    pub to: Vec<String>,
    #[serde(default)]
    pub channels: Vec<Channel>,
}

/// The tenant's white label on every message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Branding {
    /// Shown in messages; the tenant's name when unset.
    #[serde(default)]
    pub display_name: Option<String>,
    /// The sender name on e-mail.
    #[serde(default)]
    pub from_name: Option<String>,
    #[serde(default)]
    pub reply_to: Option<String>,
    /// `#rrggbb`.
    #[serde(default)]
    pub accent_color: Option<String>,
    /// An https URL of the logo shown in HTML mail.
    #[serde(default)]
    pub logo_url: Option<String>,
}

/// One event's template; a part left out uses the default part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TemplateSet {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The plain text: the e-mail's text part, the Slack message and the SMS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
}

/// The daily digest: at `time` (`HH:MM`) in `timezone` (IANA), every day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Digest {
    pub time: String,
    pub timezone: String,
}

// ---------------------------------------------------------------------------------------
// Requests: PUT takes the whole document; PATCH is a JSON merge patch (RFC 7396) of it.
// ---------------------------------------------------------------------------------------

/// The document in a PUT (and a PATCH once merged into the current one). Secret fields
/// take a value to set, or the masked object (or nothing) to keep what is stored.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NotificationsInput {
    #[serde(default)]
    pub channels: ChannelsInput,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub rules: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub escalation: Vec<EscalationStep>,
    #[serde(default)]
    pub branding: Branding,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub templates: BTreeMap<String, TemplateSet>,
    #[serde(default)]
    pub digest: Option<Digest>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChannelsInput {
    #[serde(default)]
    pub email: Option<EmailChannel>,
    #[serde(default)]
    pub slack: Option<SlackInput>,
    #[serde(default)]
    pub sms: Option<SmsInput>,
    #[serde(default)]
    pub sendgrid: Option<SendgridInput>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SlackInput {
    #[serde(default, skip_serializing_if = "SecretUpdate::is_keep")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub webhook_url: SecretUpdate<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SmsInput {
    pub account_sid: String,
    #[serde(default, skip_serializing_if = "SecretUpdate::is_keep")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub auth_token: SecretUpdate<String>,
    pub from: String,
    #[serde(default)]
    pub to: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SendgridInput {
    #[serde(default, skip_serializing_if = "SecretUpdate::is_keep")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub api_key: SecretUpdate<String>,
    pub from: String,
}

/// The channel secrets in clear, as sealed together under the master key.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ChannelSecrets {
    #[serde(default)]
    pub slack_webhook_url: Option<String>,
    #[serde(default)]
    pub sms_auth_token: Option<String>,
    #[serde(default)]
    pub sendgrid_api_key: Option<String>,
}

impl Zeroize for ChannelSecrets {
    fn zeroize(&mut self) {
        for s in [
            &mut self.slack_webhook_url,
            &mut self.sms_auth_token,
            &mut self.sendgrid_api_key,
        ] {
            if let Some(v) = s.as_mut() {
                v.zeroize();
            }
            *s = None;
        }
    }
}

impl std::fmt::Debug for ChannelSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChannelSecrets([redacted])")
    }
}

/// A validated document: what is answered and stored, and the secrets to seal.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub doc: Notifications,
    pub secrets: Secret<ChannelSecrets>,
    /// Names of the secrets this change set or cleared, for the audit row.
    pub secrets_changed: Vec<&'static str>,
}

/// The secret a field's update leaves: the new one, or the stored one kept.
fn next_secret(
    field: &str,
    update: &SecretUpdate<String>,
    current: Option<&String>,
    check: impl Fn(&str, &str) -> Result<String, DomainError>,
) -> Result<(Option<String>, bool), DomainError> {
    match update {
        SecretUpdate::Set(v) => Ok((Some(check(field, v.expose())?), true)),
        SecretUpdate::Keep => match current {
            Some(c) => Ok((Some(c.clone()), false)),
            None => Err(DomainError::invalid(
                field,
                "required",
                format!("{field} is required"),
            )),
        },
        SecretUpdate::Clear => Err(DomainError::invalid(
            field,
            "required",
            format!("{field} is required; remove the whole channel (null) to stop using it"),
        )),
    }
}

fn mask(secret: &str) -> MaskedSecret {
    let l = last4(secret);
    MaskedSecret {
        set: true,
        last4: (!l.is_empty()).then_some(l),
    }
}

fn secret_text(field: &str, v: &str) -> Result<String, DomainError> {
    validate::text(field, v, validate::SECRET_MAX_CHARS)
}

/// An http(s) URL with a host, at most [`URL_MAX_CHARS`]; `https_only` for links shown to
/// mail readers. Whether its host may be called is the daemon's check.
pub fn check_url(field: &str, v: &str, https_only: bool) -> Result<String, DomainError> {
    let v = validate::text(field, v, URL_MAX_CHARS)?;
    let bad = |why: &str| DomainError::invalid(field, "invalid_url", format!("{field} {why}"));
    let u = url::Url::parse(&v).map_err(|e| bad(&format!("is not a URL: {e}")))?;
    match u.scheme() {
        "https" => {}
        "http" if !https_only => {}
        _ if https_only => return Err(bad("must be an https URL")),
        _ => return Err(bad("must be an http or https URL")),
    }
    if u.host_str().is_none_or(str::is_empty) {
        return Err(bad("has no host"));
    }
    Ok(v)
}

/// A phone number in E.164: `+` and 8 to 15 digits.
pub fn check_e164(field: &str, v: &str) -> Result<String, DomainError> {
    let v = v.trim();
    let digits = v.strip_prefix('+').unwrap_or("");
    if !(8..=15).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DomainError::invalid(
            field,
            "invalid_phone",
            format!("{field} must be a phone number in E.164 form, like +14155550100"),
        ));
    }
    Ok(v.to_string())
}

fn check_list<T>(
    field: &str,
    items: &[String],
    check: impl Fn(&str, &str) -> Result<T, DomainError>,
) -> Result<Vec<T>, DomainError>
where
    T: PartialEq,
{
    if items.len() > RECIPIENTS_MAX {
        return Err(DomainError::invalid(
            field,
            "too_many",
            format!("{field} holds at most {RECIPIENTS_MAX} entries"),
        ));
    }
    let mut out = Vec::with_capacity(items.len());
    for (i, it) in items.iter().enumerate() {
        let v = check(&format!("{field}[{i}]"), it)?;
        if out.contains(&v) {
            return Err(DomainError::invalid(
                format!("{field}[{i}]"),
                "duplicate",
                format!("{field}[{i}] repeats an earlier entry"),
            ));
        }
        out.push(v);
    }
    Ok(out)
}

fn opt_text(field: &str, v: &Option<String>, max: usize) -> Result<Option<String>, DomainError> {
    match v {
        None => Ok(None),
        Some(s) if s.trim().is_empty() => Ok(None),
        Some(s) => validate::text(field, s, max).map(Some),
    }
}

fn check_branding(b: &Branding) -> Result<Branding, DomainError> {
    let accent = match &b.accent_color {
        None => None,
        Some(c) if c.trim().is_empty() => None,
        Some(c) => {
            let c = c.trim();
            let hex = c.strip_prefix('#').unwrap_or("");
            if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(DomainError::invalid(
                    "branding.accent_color",
                    "invalid_color",
                    "branding.accent_color must be a colour like #2563eb",
                ));
            }
            Some(c.to_ascii_lowercase())
        }
    };
    Ok(Branding {
        display_name: opt_text(
            "branding.display_name",
            &b.display_name,
            validate::NAME_MAX_CHARS,
        )?,
        from_name: opt_text("branding.from_name", &b.from_name, validate::NAME_MAX_CHARS)?,
        reply_to: match &b.reply_to {
            Some(r) if !r.trim().is_empty() => Some(validate::email("branding.reply_to", r)?),
            _ => None,
        },
        accent_color: accent,
        logo_url: match &b.logo_url {
            Some(u) if !u.trim().is_empty() => Some(check_url("branding.logo_url", u, true)?),
            _ => None,
        },
    })
}

/// An escalation recipient: an e-mail address, an E.164 number or a user id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipient {
    Email(String),
    Phone(String),
    User(Uuid),
}

pub fn parse_recipient(field: &str, v: &str) -> Result<Recipient, DomainError> {
    let v = v.trim();
    if let Ok(id) = Uuid::parse_str(v) {
        return Ok(Recipient::User(id));
    }
    if v.starts_with('+') {
        return check_e164(field, v).map(Recipient::Phone);
    }
    validate::email(field, v)
        .map(Recipient::Email)
        .map_err(|_| {
            DomainError::invalid(
                field,
                "invalid_recipient",
                format!(
                    "{field} must be an e-mail address, a phone number in E.164 form or a user id"
                ),
            )
        })
}

fn check_channels(field: &str, chans: &[Channel]) -> Result<(), DomainError> {
    for (i, c) in chans.iter().enumerate() {
        if chans[..i].contains(c) {
            return Err(DomainError::invalid(
                format!("{field}[{i}]"),
                "duplicate",
                format!("{field}[{i}] repeats channel {}", c.as_str()),
            ));
        }
    }
    Ok(())
}

/// `HH:MM` on a 24-hour clock.
pub fn parse_local_time(field: &str, v: &str) -> Result<NaiveTime, DomainError> {
    NaiveTime::parse_from_str(v.trim(), "%H:%M").map_err(|_| {
        DomainError::invalid(
            field,
            "invalid_time",
            format!("{field} must be a time of day like 08:00"),
        )
    })
}

pub fn parse_timezone(field: &str, v: &str) -> Result<chrono_tz::Tz, DomainError> {
    v.trim().parse::<chrono_tz::Tz>().map_err(|_| {
        DomainError::invalid(
            field,
            "unknown_timezone",
            format!("{field} must be an IANA time zone such as Europe/Berlin or America/New_York"),
        )
    })
}

/// Checks a PUT document (or a merged PATCH) against the stored secrets: every field valid,
/// every secret a channel needs set (given now or kept), every channel a rule or step names
/// configured. Templates are checked apart ([`check_templates`]), as their errors carry a
/// line.
pub fn resolve(
    input: &NotificationsInput,
    current: &ChannelSecrets,
) -> Result<Resolved, DomainError> {
    let mut secrets = ChannelSecrets::default();
    let mut changed = Vec::new();
    let c = &input.channels;
    let email = match &c.email {
        None => None,
        Some(e) => Some(EmailChannel {
            to: check_list("channels.email.to", &e.to, validate::email)?,
        }),
    };
    let slack = match &c.slack {
        None => None,
        Some(s) => {
            let (url, set) = next_secret(
                "channels.slack.webhook_url",
                &s.webhook_url,
                current.slack_webhook_url.as_ref(),
                |f, v| check_url(f, v, false),
            )?;
            if set {
                changed.push("channels.slack.webhook_url");
            }
            let url = url.unwrap_or_default();
            let masked = mask(&url);
            secrets.slack_webhook_url = Some(url);
            Some(SlackChannel {
                webhook_url: masked,
            })
        }
    };
    let sms = match &c.sms {
        None => None,
        Some(s) => {
            let sid = s.account_sid.trim();
            if !(sid.len() == 34
                && sid.starts_with("AC")
                && sid[2..].bytes().all(|b| b.is_ascii_hexdigit()))
            {
                return Err(DomainError::invalid(
                    "channels.sms.account_sid",
                    "invalid_account_sid",
                    "channels.sms.account_sid must be a Twilio account SID: AC and 32 hex digits",
                ));
            }
            let (token, set) = next_secret(
                "channels.sms.auth_token",
                &s.auth_token,
                current.sms_auth_token.as_ref(),
                secret_text,
            )?;
            if set {
                changed.push("channels.sms.auth_token");
            }
            let token = token.unwrap_or_default();
            let masked = mask(&token);
            secrets.sms_auth_token = Some(token);
            Some(SmsChannel {
                account_sid: sid.to_string(),
                auth_token: masked,
                from: check_e164("channels.sms.from", &s.from)?,
                to: check_list("channels.sms.to", &s.to, check_e164)?,
            })
        }
    };
    let sendgrid = match &c.sendgrid {
        None => None,
        Some(s) => {
            let (key, set) = next_secret(
                "channels.sendgrid.api_key",
                &s.api_key,
                current.sendgrid_api_key.as_ref(),
                secret_text,
            )?;
            if set {
                changed.push("channels.sendgrid.api_key");
            }
            let key = key.unwrap_or_default();
            let masked = mask(&key);
            secrets.sendgrid_api_key = Some(key);
            Some(SendgridChannel {
                api_key: masked,
                from: validate::email("channels.sendgrid.from", &s.from)?,
            })
        }
    };
    // A secret the new document no longer holds is a cleared one.
    for (had, has, name) in [
        (
            current.slack_webhook_url.is_some(),
            secrets.slack_webhook_url.is_some(),
            "channels.slack.webhook_url",
        ),
        (
            current.sms_auth_token.is_some(),
            secrets.sms_auth_token.is_some(),
            "channels.sms.auth_token",
        ),
        (
            current.sendgrid_api_key.is_some(),
            secrets.sendgrid_api_key.is_some(),
            "channels.sendgrid.api_key",
        ),
    ] {
        if had && !has {
            changed.push(name);
        }
    }
    let channels = Channels {
        email,
        slack,
        sms,
        sendgrid,
    };
    let configured = |ch: Channel| match ch {
        // E-mail can always go to the tenant's manager_email.
        Channel::Email => true,
        Channel::Slack => channels.slack.is_some(),
        Channel::Sms => channels.sms.is_some(),
    };
    let mut rules = BTreeMap::new();
    for (event, chans) in &input.rules {
        let field = format!("rules.{event}");
        let ev = NotifyEvent::parse(event).ok_or_else(|| {
            DomainError::invalid(
                &field,
                "unknown_event",
                format!("{field}: unknown event; the events are lead.created, sla.breached, sla.escalated and digest.daily"),
            )
        })?;
        let mut parsed = Vec::with_capacity(chans.len());
        for (i, c) in chans.iter().enumerate() {
            let f = format!("{field}[{i}]");
            let ch = Channel::parse(c).ok_or_else(|| {
                DomainError::invalid(
                    &f,
                    "unknown_channel",
                    format!("{f}: unknown channel {c:?}; the channels are email, slack and sms"),
                )
            })?;
            if !configured(ch) {
                return Err(DomainError::invalid(
                    &f,
                    "channel_not_configured",
                    format!("{f}: the {c} channel is not set up in channels.{c}"),
                ));
            }
            parsed.push(ch);
        }
        check_channels(&field, &parsed)?;
        rules.insert(ev, parsed);
    }
    if input.escalation.len() > ESCALATION_STEPS_MAX {
        return Err(DomainError::invalid(
            "escalation",
            "too_many",
            format!("escalation holds at most {ESCALATION_STEPS_MAX} steps"),
        ));
    }
    let mut escalation: Vec<EscalationStep> = Vec::with_capacity(input.escalation.len());
    for (i, step) in input.escalation.iter().enumerate() {
        let field = format!("escalation[{i}]");
        if !(1..=validate::SLA_HOURS_MAX).contains(&step.after_hours) {
            return Err(DomainError::invalid(
                format!("{field}.after_hours"),
                "out_of_range",
                format!(
                    "{field}.after_hours must be between 1 and {} hours after the breach",
                    validate::SLA_HOURS_MAX
                ),
            ));
        }
        if escalation.iter().any(|s| s.after_hours == step.after_hours) {
            return Err(DomainError::invalid(
                format!("{field}.after_hours"),
                "duplicate",
                format!("{field}.after_hours repeats an earlier step's offset"),
            ));
        }
        // A step without channels of its own uses the `sla.escalated` rule's.
        if step.channels.is_empty()
            && rules
                .get(&NotifyEvent::SlaEscalated)
                .is_none_or(|r: &Vec<Channel>| r.is_empty())
        {
            return Err(DomainError::invalid(
                format!("{field}.channels"),
                "blank",
                format!(
                    "{field}.channels must name at least one channel (or rules.sla.escalated must)"
                ),
            ));
        }
        check_channels(&format!("{field}.channels"), &step.channels)?;
        for (j, ch) in step.channels.iter().enumerate() {
            if !configured(*ch) {
                let f = format!("{field}.channels[{j}]");
                return Err(DomainError::invalid(
                    &f,
                    "channel_not_configured",
                    format!("{f}: the {} channel is not set up", ch.as_str()),
                ));
            }
        }
        let to = check_list(&format!("{field}.to"), &step.to, |f, v| {
            parse_recipient(f, v).map(|r| match r {
                Recipient::Email(e) | Recipient::Phone(e) => e,
                Recipient::User(u) => u.to_string(),
            })
        })?;
        escalation.push(EscalationStep {
            after_hours: step.after_hours,
            to,
            channels: step.channels.clone(),
        });
    }
    escalation.sort_by_key(|s| s.after_hours);
    let mut templates = BTreeMap::new();
    for (event, t) in &input.templates {
        let field = format!("templates.{event}");
        let ev = NotifyEvent::parse(event).ok_or_else(|| {
            DomainError::invalid(
                &field,
                "unknown_event",
                format!("{field}: unknown event; the events are lead.created, sla.breached, sla.escalated and digest.daily"),
            )
        })?;
        for (part, src) in [
            ("subject", &t.subject),
            ("text", &t.text),
            ("html", &t.html),
        ] {
            if let Some(s) = src
                && s.chars().count() > TEMPLATE_MAX_CHARS
            {
                return Err(DomainError::invalid(
                    format!("{field}.{part}"),
                    "too_long",
                    format!("{field}.{part} must be at most {TEMPLATE_MAX_CHARS} characters"),
                ));
            }
        }
        templates.insert(ev, t.clone());
    }
    let digest = match &input.digest {
        None => None,
        Some(d) => {
            let time = parse_local_time("digest.time", &d.time)?;
            let tz = parse_timezone("digest.timezone", &d.timezone)?;
            Some(Digest {
                time: time.format("%H:%M").to_string(),
                timezone: tz.name().to_string(),
            })
        }
    };
    Ok(Resolved {
        doc: Notifications {
            channels,
            rules,
            escalation,
            branding: check_branding(&input.branding)?,
            templates,
            digest,
        },
        secrets: Secret::new(secrets),
        secrets_changed: changed,
    })
}

/// RFC 7396: `patch` merged into `target` (objects merge key by key, `null` removes a key,
/// anything else replaces).
pub fn merge_patch(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = Value::Object(Default::default());
            }
            if let Value::Object(t) = target {
                for (k, v) in p {
                    if v.is_null() {
                        t.remove(k);
                    } else {
                        merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
                    }
                }
            }
        }
        other => *target = other.clone(),
    }
}

/// The input a PATCH makes: the current document (its masked secrets read as "keep") with
/// the patch merged in. The error names what the merged document got wrong.
pub fn patched_input(
    current: &Notifications,
    patch: &Value,
) -> Result<NotificationsInput, DomainError> {
    let mut doc = serde_json::to_value(current).unwrap_or(Value::Null);
    merge_patch(&mut doc, patch);
    // The answer carries `null` for absent parts; the input reads them as "none".
    serde_json::from_value(doc).map_err(|e| {
        DomainError::invalid(
            "notifications",
            "invalid_document",
            format!("the patched document is not valid: {e}"),
        )
    })
}

// ---------------------------------------------------------------------------------------
// Escalation and digest timing.
// ---------------------------------------------------------------------------------------

/// The steps (by `after_hours`) due at `now` for a breach at `breached_at`: offset passed,
/// not sent before, not more than [`ESCALATION_CATCH_UP`] late, and none at all once the
/// lead no longer waits (moved out of intake, marked spam or a duplicate).
pub fn due_steps(
    steps: &[EscalationStep],
    breached_at: DateTime<Utc>,
    now: DateTime<Utc>,
    sent: &[u32],
    still_waiting: bool,
) -> Vec<u32> {
    if !still_waiting {
        return Vec::new();
    }
    steps
        .iter()
        .filter(|s| !sent.contains(&s.after_hours))
        .filter(|s| {
            let at = breached_at + TimeDelta::hours(s.after_hours as i64);
            at <= now && now < at + ESCALATION_CATCH_UP
        })
        .map(|s| s.after_hours)
        .collect()
}

/// The breach times whose steps may be due at `now`: a step of `after_hours` is due for
/// breaches in `(now - after_hours - catch-up, now - after_hours]`. The widest such window
/// over all steps, for the store's index range.
pub fn escalation_window(
    steps: &[EscalationStep],
    now: DateTime<Utc>,
) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let min = steps.iter().map(|s| s.after_hours).min()?;
    let max = steps.iter().map(|s| s.after_hours).max()?;
    Some((
        now - TimeDelta::hours(max as i64) - ESCALATION_CATCH_UP,
        now - TimeDelta::hours(min as i64),
    ))
}

/// The local date whose digest is due at `now`: today (in the digest's zone) once its time
/// has come, unless today's was sent already (`last_sent`).
pub fn digest_due(
    digest: &Digest,
    now: DateTime<Utc>,
    last_sent: Option<NaiveDate>,
) -> Option<NaiveDate> {
    let tz = digest.timezone.parse::<chrono_tz::Tz>().ok()?;
    let time = NaiveTime::parse_from_str(&digest.time, "%H:%M").ok()?;
    let local = tz.from_utc_datetime(&now.naive_utc());
    let today = local.date_naive();
    if local.time() < time || last_sent.is_some_and(|d| d >= today) {
        return None;
    }
    Some(today)
}

// ---------------------------------------------------------------------------------------
// Who receives what.
// ---------------------------------------------------------------------------------------

/// One message to one recipient over one channel: one outbox task, so a retry never sends
/// to the others again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Send {
    pub channel: Channel,
    /// An e-mail address, a phone number, or `slack` for the tenant's Slack webhook.
    pub to: String,
}

/// The sends of `event` under the tenant's rules (or, for an escalation, `step`'s channels
/// and recipients). E-mail goes to the tenant's `manager_email` and `channels.email.to`;
/// users named in a step are their e-mail addresses (`user_email` looks them up; an unknown
/// user is left out). A step naming no recipient of a channel uses the channel's own.
pub fn sends(
    doc: &Notifications,
    event: NotifyEvent,
    manager_email: Option<&str>,
    step: Option<&EscalationStep>,
    user_email: &dyn Fn(Uuid) -> Option<String>,
) -> Vec<Send> {
    let chans: Vec<Channel> = match step {
        Some(s) if !s.channels.is_empty() => s.channels.clone(),
        _ => doc.rules.get(&event).cloned().unwrap_or_default(),
    };
    let default_emails = || {
        let mut v: Vec<String> = manager_email.map(str::to_string).into_iter().collect();
        if let Some(e) = &doc.channels.email {
            v.extend(e.to.iter().cloned());
        }
        v
    };
    let default_phones = || {
        doc.channels
            .sms
            .as_ref()
            .map(|s| s.to.clone())
            .unwrap_or_default()
    };
    let (mut step_emails, mut step_phones) = (Vec::new(), Vec::new());
    if let Some(s) = step {
        for r in &s.to {
            match parse_recipient("to", r) {
                Ok(Recipient::Email(e)) => step_emails.push(e),
                Ok(Recipient::Phone(p)) => step_phones.push(p),
                Ok(Recipient::User(u)) => step_emails.extend(user_email(u)),
                Err(_) => {}
            }
        }
    }
    let mut out: Vec<Send> = Vec::new();
    let mut push = |channel: Channel, to: String| {
        let to = if channel == Channel::Email {
            to.to_lowercase()
        } else {
            to
        };
        let s = Send { channel, to };
        if !out.contains(&s) {
            out.push(s);
        }
    };
    for ch in chans {
        match ch {
            Channel::Email => {
                let list = if step_emails.is_empty() {
                    default_emails()
                } else {
                    step_emails.clone()
                };
                list.into_iter().for_each(|e| push(Channel::Email, e));
            }
            Channel::Sms if doc.channels.sms.is_some() => {
                let list = if step_phones.is_empty() {
                    default_phones()
                } else {
                    step_phones.clone()
                };
                list.into_iter().for_each(|p| push(Channel::Sms, p));
            }
            Channel::Slack if doc.channels.slack.is_some() => push(Channel::Slack, "slack".into()),
            _ => {}
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Templates.
// ---------------------------------------------------------------------------------------

/// A message as rendered from a template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// A template that does not compile or render; `field` is `templates.<event>.<part>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}{}: {message}", line.map(|l| format!(" line {l}")).unwrap_or_default())]
pub struct TemplateError {
    pub field: String,
    pub line: Option<usize>,
    pub message: String,
}

const DEFAULT_SUBJECTS: [(NotifyEvent, &str); 4] = [
    (
        NotifyEvent::LeadCreated,
        "[{{ branding.display_name }}] New lead: {{ lead.name or \"someone\" }}",
    ),
    (
        NotifyEvent::SlaBreached,
        "[{{ branding.display_name }}] SLA breach: {{ lead.name or \"a lead\" }} has waited over {{ breach.sla_hours }} h",
    ),
    (
        NotifyEvent::SlaEscalated,
        "[{{ branding.display_name }}] Still waiting {{ escalation.after_hours }} h after the breach: {{ lead.name or \"a lead\" }}",
    ),
    (
        NotifyEvent::DigestDaily,
        "[{{ branding.display_name }}] Daily digest for {{ digest.date }}",
    ),
];

const DEFAULT_TEXTS: [(NotifyEvent, &str); 4] = [
    (
        NotifyEvent::LeadCreated,
        "New lead for {{ tenant.name }}: {{ lead.name or \"(no name)\" }}{% if lead.email %} <{{ lead.email }}>{% endif %}{% if lead.phone %} {{ lead.phone }}{% endif %}, from {{ lead.source }}.\nOpen it: {{ link }}\n",
    ),
    (
        NotifyEvent::SlaBreached,
        "{{ lead.name or \"A new lead\" }} contacted {{ tenant.name }} at {{ lead.created_at }} and has not been contacted within the {{ breach.sla_hours }}-hour SLA (deadline {{ breach.deadline }}).\nOpen the lead: {{ link }}\n",
    ),
    (
        NotifyEvent::SlaEscalated,
        "{{ lead.name or \"A lead\" }} of {{ tenant.name }} is still waiting {{ escalation.after_hours }} h after its SLA deadline ({{ breach.deadline }}).\nOpen the lead: {{ link }}\n",
    ),
    (
        NotifyEvent::DigestDaily,
        "{{ tenant.name }} on {{ digest.date }}: {{ digest.new_leads }} new leads and {{ digest.breaches }} SLA breaches in the last 24 h; {{ digest.waiting }} leads waiting in intake.\n{{ link }}\n",
    ),
];

const HTML_FRAME_START: &str = "<div style=\"font-family:sans-serif\"><div style=\"border-top:4px solid {{ branding.accent_color }};padding-top:8px\">{% if branding.logo_url %}<img src=\"{{ branding.logo_url }}\" alt=\"{{ branding.display_name }}\" height=\"32\">{% endif %}<h2 style=\"color:{{ branding.accent_color }}\">";

const DEFAULT_HTML_BODIES: [(NotifyEvent, &str); 4] = [
    (
        NotifyEvent::LeadCreated,
        "New lead</h2><p><b>{{ lead.name or \"(no name)\" }}</b>{% if lead.email %} &lt;{{ lead.email }}&gt;{% endif %}{% if lead.phone %} {{ lead.phone }}{% endif %}, from {{ lead.source }}.</p>{% if lead.message %}<blockquote>{{ lead.message }}</blockquote>{% endif %}<p><a href=\"{{ link }}\">Open the lead</a></p>",
    ),
    (
        NotifyEvent::SlaBreached,
        "SLA breach</h2><p><b>{{ lead.name or \"A new lead\" }}</b> contacted {{ tenant.name }} at {{ lead.created_at }} and has not been contacted within the {{ breach.sla_hours }}-hour SLA (deadline {{ breach.deadline }}).</p><p><a href=\"{{ link }}\">Open the lead</a></p>",
    ),
    (
        NotifyEvent::SlaEscalated,
        "Still waiting</h2><p><b>{{ lead.name or \"A lead\" }}</b> is still waiting {{ escalation.after_hours }} h after its SLA deadline ({{ breach.deadline }}).</p><p><a href=\"{{ link }}\">Open the lead</a></p>",
    ),
    (
        NotifyEvent::DigestDaily,
        "Daily digest, {{ digest.date }}</h2><ul><li>{{ digest.new_leads }} new leads</li><li>{{ digest.breaches }} SLA breaches</li><li>{{ digest.waiting }} leads waiting in intake</li></ul><p><a href=\"{{ link }}\">Open Echo5</a></p>",
    ),
];

const HTML_FRAME_END: &str =
    "<p style=\"color:#666;font-size:12px\">{{ branding.display_name }}</p></div></div>";

fn lookup(table: &[(NotifyEvent, &'static str)], e: NotifyEvent) -> &'static str {
    table.iter().find(|(k, _)| *k == e).map_or("", |(_, v)| *v)
}

/// The default template of an event.
pub fn default_template(event: NotifyEvent) -> Rendered {
    Rendered {
        subject: lookup(&DEFAULT_SUBJECTS, event).into(),
        text: lookup(&DEFAULT_TEXTS, event).into(),
        html: format!(
            "{HTML_FRAME_START}{}{HTML_FRAME_END}",
            lookup(&DEFAULT_HTML_BODIES, event)
        ),
    }
}

/// The template an event is rendered from: the tenant's parts over the default.
pub fn template_for(doc: &Notifications, event: NotifyEvent) -> Rendered {
    let mut t = default_template(event);
    if let Some(own) = doc.templates.get(&event) {
        if let Some(s) = &own.subject {
            t.subject = s.clone();
        }
        if let Some(s) = &own.text {
            t.text = s.clone();
        }
        if let Some(s) = &own.html {
            t.html = s.clone();
        }
    }
    t
}

fn env() -> minijinja::Environment<'static> {
    let mut env = minijinja::Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.set_fuel(Some(TEMPLATE_FUEL));
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".html") {
            minijinja::AutoEscape::Html
        } else {
            minijinja::AutoEscape::None
        }
    });
    env
}

fn render_part(
    env: &minijinja::Environment<'static>,
    field: &str,
    src: &str,
    ctx: &Value,
) -> Result<String, TemplateError> {
    // The name picks the escaping: `…html` parts are HTML-escaped.
    env.render_named_str(
        field,
        src,
        minijinja::Value::from(minijinja::value::Serde(ctx)),
    )
    .map_err(|e| TemplateError {
        field: field.to_string(),
        line: e.line(),
        message: match e.detail() {
            Some(d) => format!("{}: {d}", e.kind()),
            None => e.kind().to_string(),
        },
    })
}

/// Renders `event`'s template (the tenant's parts over the defaults) with `ctx`.
pub fn render(
    doc: &Notifications,
    event: NotifyEvent,
    ctx: &Value,
) -> Result<Rendered, TemplateError> {
    let t = template_for(doc, event);
    let env = env();
    let base = format!("templates.{}", event.as_str());
    let subject = render_part(&env, &format!("{base}.subject"), &t.subject, ctx)?;
    Ok(Rendered {
        // A subject is one line: a template's newline would start a header.
        subject: subject.lines().map(str::trim).collect::<Vec<_>>().join(" "),
        text: render_part(&env, &format!("{base}.text"), &t.text, ctx)?,
        html: render_part(&env, &format!("{base}.html"), &t.html, ctx)?,
    })
}

/// Every template part a request holds, compiled and rendered with its event's sample
/// context, so a syntax error or a misspelt variable is refused at save with its line.
pub fn check_templates(templates: &BTreeMap<String, TemplateSet>) -> Result<(), TemplateError> {
    let env = env();
    for (event, t) in templates {
        let base = format!("templates.{event}");
        let Some(ev) = NotifyEvent::parse(event) else {
            // Named by `resolve` as an unknown event.
            continue;
        };
        let ctx = sample_context(ev, &SampleTenant::default());
        for (part, src) in [
            ("subject", &t.subject),
            ("text", &t.text),
            ("html", &t.html),
        ] {
            if let Some(src) = src {
                render_part(&env, &format!("{base}.{part}"), src, &ctx)?;
            }
        }
    }
    Ok(())
}

/// The tenant as templates see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleTenant {
    pub name: String,
    pub slug: String,
}

impl Default for SampleTenant {
    fn default() -> Self {
        SampleTenant {
            name: "Open Arms Home Care".into(),
            slug: "open-arms".into(),
        }
    }
}

/// The `branding` variable: the tenant's branding with defaults filled in (the tenant's
/// name, the default accent), so templates need no checks.
pub fn branding_vars(b: &Branding, tenant_name: &str) -> Value {
    json!({
        "display_name": b.display_name.clone().unwrap_or_else(|| tenant_name.to_string()),
        "from_name": b.from_name.clone().or_else(|| b.display_name.clone()).unwrap_or_else(|| tenant_name.to_string()),
        "reply_to": b.reply_to,
        "accent_color": b.accent_color.clone().unwrap_or_else(|| DEFAULT_ACCENT.to_string()),
        "logo_url": b.logo_url,
    })
}

/// The `lead` variable: the lead's contact fields (no raw payload, no IP).
pub fn lead_vars(l: &Lead) -> Value {
    json!({
        "id": l.id,
        "name": l.name,
        "first_name": l.first_name,
        "last_name": l.last_name,
        "email": l.email,
        "phone": l.phone,
        "company": l.company,
        "message": l.message,
        "source": l.source.as_str(),
        "form_name": l.form_name,
        "page_url": l.page_url,
        "utm_source": l.utm_source,
        "utm_campaign": l.utm_campaign,
        "created_at": fmt_time(l.created_at),
    })
}

/// Times in templates: `YYYY-MM-DD HH:MM UTC`.
pub fn fmt_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// What a template of any event sees. Variables that do not apply to the event are `null`
/// (`lead` in a digest, `digest` in a breach), so a template can test them.
#[derive(Debug, Clone)]
pub struct ContextParts {
    pub event: NotifyEvent,
    pub tenant_name: String,
    pub tenant_slug: String,
    pub branding: Value,
    pub lead: Value,
    pub breach: Value,
    pub escalation: Value,
    pub digest: Value,
    pub link: String,
}

pub fn context(p: &ContextParts) -> Value {
    json!({
        "event": p.event.as_str(),
        "tenant": {"name": p.tenant_name, "slug": p.tenant_slug},
        "branding": p.branding,
        "lead": p.lead,
        "breach": p.breach,
        "escalation": p.escalation,
        "digest": p.digest,
        "link": p.link,
    })
}

/// The `breach` variable.
pub fn breach_vars(breached_at: DateTime<Utc>, deadline: DateTime<Utc>, sla_hours: u32) -> Value {
    json!({
        "breached_at": fmt_time(breached_at),
        "deadline": fmt_time(deadline),
        "sla_hours": sla_hours,
    })
}

/// The `digest` variable.
pub fn digest_vars(date: NaiveDate, new_leads: u64, breaches: u64, waiting: u64) -> Value {
    json!({
        "date": date.format("%Y-%m-%d").to_string(),
        "new_leads": new_leads,
        "breaches": breaches,
        "waiting": waiting,
    })
}

/// The context a preview (and the check at save) renders with: a sample lead that needs
/// escaping in HTML.
pub fn sample_context(event: NotifyEvent, tenant: &SampleTenant) -> Value {
    sample_context_branded(
        event,
        tenant,
        &Branding::default(),
        "https://echo5.example/leads/0190c0de-0000-7000-8000-00000000a11e",
    )
}

pub fn sample_context_branded(
    event: NotifyEvent,
    tenant: &SampleTenant,
    branding: &Branding,
    link: &str,
) -> Value {
    let created = Utc
        .with_ymd_and_hms(2026, 3, 6, 17, 30, 0)
        .single()
        .unwrap_or_default();
    let deadline = created + TimeDelta::hours(4);
    let lead = json!({
        "id": "0190c0de-0000-7000-8000-00000000a11e",
        "name": "Jane <Sample> Doe",
        "first_name": "Jane",
        "last_name": "Doe",
        "email": "jane@example.com",
        "phone": "+14155550100",
        "company": null,
        "message": "Care for my mother, 3 days a week & weekends?",
        "source": "website",
        "form_name": "Contact",
        "page_url": "https://example.com/contact",
        "utm_source": null,
        "utm_campaign": null,
        "created_at": fmt_time(created),
    });
    let has_lead = event != NotifyEvent::DigestDaily;
    let has_breach = matches!(event, NotifyEvent::SlaBreached | NotifyEvent::SlaEscalated);
    context(&ContextParts {
        event,
        tenant_name: tenant.name.clone(),
        tenant_slug: tenant.slug.clone(),
        branding: branding_vars(branding, &tenant.name),
        lead: if has_lead { lead } else { Value::Null },
        breach: if has_breach {
            breach_vars(deadline, deadline, 4)
        } else {
            Value::Null
        },
        escalation: if event == NotifyEvent::SlaEscalated {
            json!({"after_hours": 2})
        } else {
            Value::Null
        },
        digest: if event == NotifyEvent::DigestDaily {
            digest_vars(created.date_naive(), 12, 2, 5)
        } else {
            Value::Null
        },
        link: link.to_string(),
    })
}

/// One message to one recipient over one channel, rendered: the payload of one outbox task.
/// Secrets (the Slack URL, the Twilio token, the SendGrid key) are not in it; the sender
/// opens them when it sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub tenant_id: Uuid,
    /// The lead it is about, so erasing the lead scrubs the notice too.
    #[serde(default)]
    pub lead_id: Option<Uuid>,
    /// The event (`sla.breached`, …), or `test`.
    pub event: String,
    pub channel: Channel,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    #[serde(default)]
    pub from_name: Option<String>,
    #[serde(default)]
    pub reply_to: Option<String>,
}

/// The notices of one event: its template rendered once with `ctx`, one notice per send.
/// A template that fails on real data (it passed its check at save) falls back to the
/// default, so the alert still goes out; the error is returned for the log.
pub fn notices(
    doc: &Notifications,
    tenant_id: Uuid,
    tenant_name: &str,
    event: NotifyEvent,
    ctx: &Value,
    sends: &[Send],
) -> (Vec<Notice>, Option<TemplateError>) {
    if sends.is_empty() {
        return (Vec::new(), None);
    }
    let (rendered, err) = match render(doc, event, ctx) {
        Ok(r) => (r, None),
        Err(e) => {
            let fallback = render(&Notifications::default(), event, ctx).unwrap_or(Rendered {
                subject: format!("[Echo5] {}", event.as_str()),
                text: event.as_str().to_string(),
                html: String::new(),
            });
            (fallback, Some(e))
        }
    };
    let branding = branding_vars(&doc.branding, tenant_name);
    let from_name = branding["from_name"]
        .as_str()
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    let lead_id = ctx["lead"]["id"]
        .as_str()
        .and_then(|s| Uuid::parse_str(s).ok());
    let out = sends
        .iter()
        .map(|s| Notice {
            tenant_id,
            lead_id,
            event: event.as_str().to_string(),
            channel: s.channel,
            to: s.to.clone(),
            subject: rendered.subject.clone(),
            text: rendered.text.clone(),
            html: rendered.html.clone(),
            from_name: from_name.clone(),
            reply_to: doc.branding.reply_to.clone(),
        })
        .collect();
    (out, err)
}

/// The key that makes a notice one task ever: the event, what it is about (a lead, a lead
/// and a step, a tenant's day), the channel and the recipient.
pub fn dedup_key(event: &str, about: &str, n: &Notice) -> String {
    format!("notify:{event}:{about}:{}:{}", n.channel.as_str(), n.to)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn input(v: Value) -> NotificationsInput {
        serde_json::from_value(v).unwrap()
    }

    const SID: &str = "AC0123456789abcdef0123456789abcdef";

    fn full() -> Value {
        json!({
            "channels": {
                "email": {"to": ["Ops@Example.com"]},
                "slack": {"webhook_url": "https://hooks.slack.com/services/T0/B0/secretsecret"},
                "sms": {"account_sid": SID, "auth_token": "tok-0123456789abcd", "from": "+14155550100", "to": ["+14155550101"]},
                "sendgrid": {"api_key": "SG.key-0123456789wxyz", "from": "alerts@example.com"}
            },
            "rules": {"sla.breached": ["email", "slack", "sms"], "lead.created": ["slack"]},
            "escalation": [{"after_hours": 4, "to": ["boss@example.com", "+14155550199"], "channels": ["email", "sms"]},
                           {"after_hours": 1, "channels": ["slack"]}],
            "branding": {"display_name": "Open Arms", "accent_color": "#AA0000"},
            "templates": {"sla.breached": {"subject": "Breach {{ lead.name }}"}},
            "digest": {"time": "8:05", "timezone": "Europe/Berlin"}
        })
    }

    #[test]
    fn a_full_document_resolves_masks_and_normalises() {
        let r = resolve(&input(full()), &ChannelSecrets::default()).unwrap();
        let d = &r.doc;
        assert_eq!(d.channels.email.as_ref().unwrap().to, ["ops@example.com"]);
        let slack = serde_json::to_value(&d.channels.slack).unwrap();
        assert_eq!(
            slack,
            json!({"webhook_url": {"set": true, "last4": "cret"}})
        );
        assert_eq!(
            d.channels.sms.as_ref().unwrap().auth_token.last4.as_deref(),
            Some("abcd")
        );
        assert_eq!(d.escalation[0].after_hours, 1, "steps in offset order");
        assert_eq!(d.branding.accent_color.as_deref(), Some("#aa0000"));
        assert_eq!(d.digest.as_ref().unwrap().time, "08:05");
        let s = r.secrets.expose();
        assert_eq!(s.sms_auth_token.as_deref(), Some("tok-0123456789abcd"));
        assert_eq!(r.secrets_changed.len(), 3);
        // Secrets never show in the answer.
        let shown = serde_json::to_string(d).unwrap();
        assert!(
            !shown.contains("secretsecret") && !shown.contains("tok-") && !shown.contains("SG.")
        );
    }

    #[test]
    fn bad_fields_are_named() {
        let cases: &[(&str, Value, &str)] = &[
            (
                "/channels/email/to/0",
                json!("nope"),
                "channels.email.to[0]",
            ),
            (
                "/channels/slack/webhook_url",
                json!("ftp://x"),
                "channels.slack.webhook_url",
            ),
            (
                "/channels/sms/account_sid",
                json!("AB12"),
                "channels.sms.account_sid",
            ),
            ("/channels/sms/from", json!("0800"), "channels.sms.from"),
            ("/channels/sms/to/0", json!("+1"), "channels.sms.to[0]"),
            (
                "/channels/sendgrid/from",
                json!("x"),
                "channels.sendgrid.from",
            ),
            (
                "/rules/sla.exploded",
                json!(["email"]),
                "rules.sla.exploded",
            ),
            (
                "/rules/lead.created",
                json!(["pigeon"]),
                "rules.lead.created[0]",
            ),
            (
                "/rules/lead.created",
                json!(["email", "email"]),
                "rules.lead.created[1]",
            ),
            (
                "/escalation/0/after_hours",
                json!(0),
                "escalation[0].after_hours",
            ),
            (
                "/escalation/1/after_hours",
                json!(4),
                "escalation[1].after_hours",
            ),
            (
                "/escalation/0/to/0",
                json!("somebody"),
                "escalation[0].to[0]",
            ),
            (
                "/escalation/0/channels",
                json!([]),
                "escalation[0].channels",
            ),
            (
                "/branding/accent_color",
                json!("red"),
                "branding.accent_color",
            ),
            (
                "/branding/logo_url",
                json!("http://x.example/l.png"),
                "branding.logo_url",
            ),
            ("/branding/reply_to", json!("x@"), "branding.reply_to"),
            ("/templates/nope", json!({}), "templates.nope"),
            ("/digest/time", json!("25:00"), "digest.time"),
            ("/digest/timezone", json!("Mars/Base"), "digest.timezone"),
        ];
        for (ptr, v, field) in cases {
            let mut doc = full();
            let (parent, key) = ptr.rsplit_once('/').unwrap();
            let p = doc.pointer_mut(parent).unwrap();
            match p {
                Value::Object(m) => {
                    m.insert(key.to_string(), v.clone());
                }
                Value::Array(a) => a[key.parse::<usize>().unwrap()] = v.clone(),
                _ => unreachable!(),
            }
            let err = resolve(&input(doc), &ChannelSecrets::default()).unwrap_err();
            match err {
                DomainError::Invalid { field: f, .. } => assert_eq!(&f, field, "{ptr}"),
                other => panic!("{ptr}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_rule_needs_its_channel_and_a_channel_its_secret() {
        let no_slack = input(json!({"rules": {"sla.breached": ["slack"]}}));
        let e = resolve(&no_slack, &ChannelSecrets::default()).unwrap_err();
        assert!(matches!(
            e,
            DomainError::Invalid {
                code: "channel_not_configured",
                ..
            }
        ));
        // E-mail needs no channel: the manager's address is enough.
        assert!(
            resolve(
                &input(json!({"rules": {"sla.breached": ["email"]}})),
                &ChannelSecrets::default()
            )
            .is_ok()
        );
        let keep = input(json!({"channels": {"slack": {}}}));
        let e = resolve(&keep, &ChannelSecrets::default()).unwrap_err();
        assert!(
            matches!(e, DomainError::Invalid { ref field, .. } if field == "channels.slack.webhook_url")
        );
        // The masked object keeps the stored one.
        let stored = ChannelSecrets {
            slack_webhook_url: Some("https://hooks.slack.com/services/kept-one".into()),
            ..Default::default()
        };
        let masked =
            input(json!({"channels": {"slack": {"webhook_url": {"set": true, "last4": "-one"}}}}));
        let r = resolve(&masked, &stored).unwrap();
        assert_eq!(
            r.secrets.expose().slack_webhook_url,
            stored.slack_webhook_url
        );
        assert!(r.secrets_changed.is_empty());
        // Dropping the channel clears its secret, and says so.
        let r = resolve(&input(json!({})), &stored).unwrap();
        assert_eq!(r.secrets.expose().slack_webhook_url, None);
        assert_eq!(r.secrets_changed, ["channels.slack.webhook_url"]);
    }

    #[test]
    fn patch_merges_into_the_current_document() {
        let cur = resolve(&input(full()), &ChannelSecrets::default()).unwrap();
        let secrets = cur.secrets.expose().clone();
        let p = json!({"rules": {"lead.created": null, "sla.breached": ["email", "slack"]},
                       "channels": {"sms": null},
                       "escalation": [{"after_hours": 2, "channels": ["email"]}]});
        let r = resolve(&patched_input(&cur.doc, &p).unwrap(), &secrets).unwrap();
        assert!(!r.doc.rules.contains_key(&NotifyEvent::LeadCreated));
        assert!(r.doc.channels.sms.is_none());
        assert_eq!(r.doc.escalation.len(), 1);
        assert_eq!(
            r.secrets.expose().slack_webhook_url,
            secrets.slack_webhook_url,
            "kept"
        );
        assert_eq!(r.secrets_changed, ["channels.sms.auth_token"]);
    }

    #[test]
    fn patch_that_drops_a_channel_a_rule_uses_is_refused() {
        let cur = resolve(&input(full()), &ChannelSecrets::default()).unwrap();
        let secrets = cur.secrets.expose().clone();
        let p = json!({"channels": {"slack": null}});
        let e = resolve(&patched_input(&cur.doc, &p).unwrap(), &secrets).unwrap_err();
        assert!(matches!(
            e,
            DomainError::Invalid {
                code: "channel_not_configured",
                ..
            }
        ));
    }

    fn steps() -> Vec<EscalationStep> {
        vec![
            EscalationStep {
                after_hours: 1,
                to: vec![],
                channels: vec![Channel::Slack],
            },
            EscalationStep {
                after_hours: 4,
                to: vec![],
                channels: vec![Channel::Email],
            },
        ]
    }

    #[test]
    fn escalation_steps_fall_due_once_and_stop_when_the_lead_moves() {
        let b = t("2026-03-06T12:00:00Z");
        let cases: &[(&str, &[u32], bool, &[u32])] = &[
            ("2026-03-06T12:59:59Z", &[], true, &[]),
            ("2026-03-06T13:00:00Z", &[], true, &[1]),
            ("2026-03-06T13:00:00Z", &[1], true, &[]),
            ("2026-03-06T16:30:00Z", &[], true, &[1, 4]),
            ("2026-03-06T16:30:00Z", &[1], true, &[4]),
            ("2026-03-06T16:30:00Z", &[1, 4], true, &[]),
            ("2026-03-06T16:30:00Z", &[], false, &[]),
            // More than a day late: skipped, not sent.
            ("2026-03-07T13:00:00Z", &[], true, &[4]),
            ("2026-03-07T16:00:00Z", &[], true, &[]),
        ];
        for (now, sent, waiting, want) in cases {
            assert_eq!(
                due_steps(&steps(), b, t(now), sent, *waiting),
                *want,
                "{now} {sent:?}"
            );
        }
        let (lo, hi) = escalation_window(&steps(), t("2026-03-06T16:30:00Z")).unwrap();
        assert!(lo < b && b <= hi);
    }

    #[test]
    fn the_digest_is_due_once_a_day_at_local_time() {
        let d = Digest {
            time: "08:00".into(),
            timezone: "Europe/Berlin".into(),
        };
        let day = NaiveDate::from_ymd_opt(2026, 3, 6).unwrap();
        // 08:00 in Berlin is 07:00 UTC in winter, 06:00 UTC in summer.
        assert_eq!(digest_due(&d, t("2026-03-06T06:59:00Z"), None), None);
        assert_eq!(digest_due(&d, t("2026-03-06T07:00:00Z"), None), Some(day));
        assert_eq!(digest_due(&d, t("2026-03-06T20:00:00Z"), Some(day)), None);
        assert_eq!(
            digest_due(&d, t("2026-07-01T06:00:00Z"), Some(day)),
            NaiveDate::from_ymd_opt(2026, 7, 1)
        );
        // Late evening UTC is already tomorrow in Tokyo.
        let tokyo = Digest {
            time: "07:30".into(),
            timezone: "Asia/Tokyo".into(),
        };
        assert_eq!(
            digest_due(&tokyo, t("2026-03-06T22:45:00Z"), Some(day)),
            NaiveDate::from_ymd_opt(2026, 3, 7)
        );
    }

    #[test]
    fn sends_follow_rules_and_steps() {
        let mut r = resolve(&input(full()), &ChannelSecrets::default())
            .unwrap()
            .doc;
        r.channels
            .email
            .as_mut()
            .unwrap()
            .to
            .push("manager@example.com".into());
        let user = Uuid::from_u128(7);
        let lookup = |u: Uuid| (u == user).then(|| "Agent@Example.com".to_string());
        let breach = sends(
            &r,
            NotifyEvent::SlaBreached,
            Some("manager@example.com"),
            None,
            &lookup,
        );
        let got: Vec<(Channel, &str)> = breach.iter().map(|s| (s.channel, s.to.as_str())).collect();
        assert_eq!(
            got,
            [
                (Channel::Email, "manager@example.com"),
                (Channel::Email, "ops@example.com"),
                (Channel::Slack, "slack"),
                (Channel::Sms, "+14155550101"),
            ]
        );
        assert!(
            sends(
                &r,
                NotifyEvent::DigestDaily,
                Some("m@example.com"),
                None,
                &lookup
            )
            .is_empty()
        );
        let step = EscalationStep {
            after_hours: 2,
            to: vec![
                "boss@example.com".into(),
                user.to_string(),
                Uuid::from_u128(8).to_string(),
            ],
            channels: vec![Channel::Email, Channel::Sms],
        };
        let esc = sends(&r, NotifyEvent::SlaEscalated, None, Some(&step), &lookup);
        let got: Vec<&str> = esc.iter().map(|s| s.to.as_str()).collect();
        assert_eq!(
            got,
            ["boss@example.com", "agent@example.com", "+14155550101"]
        );
        // A step without channels takes the sla.escalated rule's.
        r.rules
            .insert(NotifyEvent::SlaEscalated, vec![Channel::Slack]);
        let bare = EscalationStep {
            after_hours: 3,
            to: vec![],
            channels: vec![],
        };
        let esc = sends(&r, NotifyEvent::SlaEscalated, None, Some(&bare), &lookup);
        assert_eq!(
            esc,
            [Send {
                channel: Channel::Slack,
                to: "slack".into()
            }]
        );
    }

    #[test]
    fn templates_render_escape_and_report_lines() {
        let mut doc = Notifications::default();
        let ctx = sample_context(NotifyEvent::SlaBreached, &SampleTenant::default());
        let r = render(&doc, NotifyEvent::SlaBreached, &ctx).unwrap();
        assert!(r.subject.contains("Jane <Sample> Doe"), "{}", r.subject);
        assert!(r.text.contains("4-hour SLA"), "{}", r.text);
        assert!(r.html.contains("Jane &lt;Sample&gt; Doe"), "{}", r.html);
        assert!(!r.html.contains("<Sample>"));
        assert!(r.html.contains(DEFAULT_ACCENT));
        // Every default renders with its sample.
        for e in NotifyEvent::ALL {
            render(&doc, e, &sample_context(e, &SampleTenant::default())).unwrap();
        }
        doc.templates.insert(
            NotifyEvent::SlaBreached,
            TemplateSet {
                subject: Some("{{ lead.email }}\nBcc: x".into()),
                ..Default::default()
            },
        );
        let r = render(&doc, NotifyEvent::SlaBreached, &ctx).unwrap();
        assert_eq!(r.subject, "jane@example.com Bcc: x", "one line");

        let bad: &[(&str, &str, Option<usize>)] = &[
            ("html", "<p>\n{{ lead.name }\n</p>", Some(2)),
            ("text", "line one\nline two\n{{ lead.nmae }}", Some(3)),
            ("subject", "{% for x in %}", Some(1)),
            ("text", "{{ digest.date }}", Some(1)),
        ];
        for (part, src, line) in bad {
            let mut set = BTreeMap::new();
            let mut t = TemplateSet::default();
            match *part {
                "html" => t.html = Some(src.to_string()),
                "text" => t.text = Some(src.to_string()),
                _ => t.subject = Some(src.to_string()),
            }
            set.insert("sla.breached".to_string(), t);
            let e = check_templates(&set).unwrap_err();
            assert_eq!(e.field, format!("templates.sla.breached.{part}"));
            assert_eq!(e.line, *line, "{src}: {e}");
        }
        // A runaway loop runs out of fuel instead of holding the worker.
        let mut set = BTreeMap::new();
        set.insert("digest.daily".to_string(), TemplateSet {
            text: Some("{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}".into()),
            ..Default::default()
        });
        assert!(check_templates(&set).is_err());
    }
}
