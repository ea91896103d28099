//! Platform administration (not per client): the platform settings new tenants start from,
//! the all-leads view across tenants, usage metering and the daemon's recent log lines.
//! Wire types and rules only; storage is in `echo5-data`, HTTP in `echo5d`.

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use uuid::Uuid;

use crate::apikey::{GRACE_HOURS_DEFAULT, GRACE_HOURS_MAX};
use crate::error::DomainError;
use crate::lead::{Lead, LeadQuery, LeadQueryParams};
use crate::stage::{self, StageKind};
use crate::tenant::{Settings, SettingsInput, TenantRef, double_option};
use crate::validate;

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
            default_stages: stage::default_pipeline()
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
        }
    }
}

/// `PATCH /api/v1/platform/settings`: any subset; `null` clears the operator fields.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PlatformSettingsPatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_stages: Option<Vec<StageTemplate>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_sla_hours: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_spam_keywords: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub honeypot_fields: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
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
    if stages.len() > stage::STAGES_MAX {
        return Err(DomainError::invalid(
            field,
            "too_many_stages",
            format!("default_stages holds at most {} stages", stage::STAGES_MAX),
        ));
    }
    let mut out: Vec<StageTemplate> = Vec::with_capacity(stages.len());
    for (i, s) in stages.iter().enumerate() {
        let name = stage::validate_name(&s.name).map_err(|e| e.under(&format!("{field}[{i}]")))?;
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

    /// The non-secret settings a tenant created with no settings at all gets.
    pub fn tenant_defaults(&self) -> Settings {
        Settings {
            sla_hours: self.default_sla_hours,
            spam_keywords: self.default_spam_keywords.clone(),
            manager_email: None,
        }
    }
}

// ---------------------------------------------------------------------------------------
// All leads

/// Most tenants one `?tenant=` filter may name.
pub const TENANT_FILTER_MAX: usize = 200;

/// A row of `GET /api/v1/leads`: the lead with its tenant's id, slug and name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LeadWithTenant {
    #[serde(flatten)]
    pub lead: Lead,
    pub tenant: TenantRef,
}

/// The query string of `GET /api/v1/leads`: the per-tenant listing's filters plus `tenant`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllLeadsParams {
    /// Comma-separated tenant ids or slugs; all tenants when left out.
    pub tenant: Option<String>,
    pub stage: Option<String>,
    pub source: Option<String>,
    pub q: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub spam: Option<String>,
    pub breached: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

impl AllLeadsParams {
    /// The tenants named (deduplicated, in the order given; empty = all) and the filters.
    pub fn validate(&self) -> Result<(Vec<String>, LeadQuery), DomainError> {
        let mut tenants: Vec<String> = Vec::new();
        for t in self.tenant.as_deref().unwrap_or("").split(',') {
            let t = t.trim();
            if !t.is_empty() && !tenants.iter().any(|x| x == t) {
                tenants.push(t.to_string());
            }
        }
        if tenants.len() > TENANT_FILTER_MAX {
            return Err(DomainError::invalid(
                "tenant",
                "too_many",
                format!("tenant names at most {TENANT_FILTER_MAX} tenants"),
            ));
        }
        let q = LeadQueryParams {
            stage: self.stage.clone(),
            source: self.source.clone(),
            q: self.q.clone(),
            from: self.from.clone(),
            to: self.to.clone(),
            spam: self.spam.clone(),
            breached: self.breached.clone(),
            limit: self.limit,
            cursor: self.cursor.clone(),
        }
        .validate()?;
        Ok((tenants, q))
    }
}

// ---------------------------------------------------------------------------------------
// Usage

/// A metering month, `YYYY-MM` (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Month {
    pub year: i32,
    pub month: u32,
}

impl Month {
    /// `YYYY-MM` with a 4-digit year from 1970 and a month 01..=12; `None` otherwise.
    pub fn parse(s: &str) -> Option<Month> {
        let b = s.as_bytes();
        if b.len() != 7
            || b[4] != b'-'
            || !s
                .bytes()
                .enumerate()
                .all(|(i, c)| i == 4 || c.is_ascii_digit())
        {
            return None;
        }
        let year: i32 = s[..4].parse().ok()?;
        let month: u32 = s[5..].parse().ok()?;
        ((1970..=9999).contains(&year) && (1..=12).contains(&month))
            .then_some(Month { year, month })
    }

    pub fn of(t: DateTime<Utc>) -> Month {
        Month {
            year: t.year(),
            month: t.month(),
        }
    }

    pub fn start(self) -> DateTime<Utc> {
        NaiveDate::from_ymd_opt(self.year, self.month, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|d| d.and_utc())
            .unwrap_or_default()
    }

    /// The first instant of the next month.
    pub fn end(self) -> DateTime<Utc> {
        let (y, m) = if self.month == 12 {
            (self.year + 1, 1)
        } else {
            (self.year, self.month + 1)
        };
        Month { year: y, month: m }.start()
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// A tenant counts as active with a non-spam lead in this window.
pub const ACTIVE_WINDOW: TimeDelta = TimeDelta::days(30);

/// The instant "active" and `last_lead_at` are judged at for a month: its end, or now for
/// the month in progress (and later ones).
pub fn usage_reference(month: Month, now: DateTime<Utc>) -> DateTime<Utc> {
    month.end().min(now)
}

/// Whether a tenant whose newest non-spam lead (as of `reference`) is `last_lead` is active.
pub fn is_active(last_lead: Option<DateTime<Utc>>, reference: DateTime<Utc>) -> bool {
    last_lead.is_some_and(|t| t > reference - ACTIVE_WINDOW)
}

/// Counts of one API key in a month. `key_id` is `null` for activity without a key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KeyUsage {
    pub key_id: Option<Uuid>,
    /// The key's display prefix; `null` for a key since deleted or for keyless activity.
    pub prefix: Option<String>,
    /// The key's label.
    pub name: Option<String>,
    pub accepted: u64,
    pub spam: u64,
    pub duplicates: u64,
    pub rejected: u64,
    pub api_calls: u64,
}

/// One tenant's usage in a month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TenantUsage {
    pub tenant: TenantRef,
    /// Leads stored (spam and duplicates included).
    pub accepted: u64,
    /// Of `accepted`, flagged as spam.
    pub spam: u64,
    /// Of `accepted`, duplicates of an earlier lead.
    pub duplicates: u64,
    /// Ingest requests with a valid key that were refused (bad body, rate limit...).
    pub rejected: u64,
    /// Ingest requests with a valid key.
    pub api_calls: u64,
    /// Bytes the tenant's leads occupy now (text columns and raw bodies), whatever the month.
    pub storage_bytes: u64,
    /// The newest non-spam lead, as of the month's end (now for the current month).
    pub last_lead_at: Option<DateTime<Utc>>,
    /// A non-spam lead in the 30 days before the month's end (before now for the current
    /// month).
    pub active: bool,
    /// Per key, keys with activity in the month only, by key id.
    pub keys: Vec<KeyUsage>,
}

/// The totals over every tenant.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UsageTotals {
    pub accepted: u64,
    pub spam: u64,
    pub duplicates: u64,
    pub rejected: u64,
    pub api_calls: u64,
    pub storage_bytes: u64,
}

/// `GET /api/v1/usage`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UsageReport {
    /// `YYYY-MM`
    pub month: String,
    pub active_tenants: u64,
    pub totals: UsageTotals,
    /// Every tenant, in slug order.
    pub tenants: Vec<TenantUsage>,
}

impl UsageReport {
    pub fn new(month: Month, tenants: Vec<TenantUsage>) -> UsageReport {
        let mut totals = UsageTotals::default();
        for t in &tenants {
            totals.accepted += t.accepted;
            totals.spam += t.spam;
            totals.duplicates += t.duplicates;
            totals.rejected += t.rejected;
            totals.api_calls += t.api_calls;
            totals.storage_bytes += t.storage_bytes;
        }
        UsageReport {
            month: month.to_string(),
            active_tenants: tenants.iter().filter(|t| t.active).count() as u64,
            totals,
            tenants,
        }
    }
}

/// `GET /api/v1/tenants/{id}/usage`: the month and one tenant's usage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TenantUsageReport {
    /// `YYYY-MM`
    pub month: String,
    #[serde(flatten)]
    pub usage: TenantUsage,
}

// ---------------------------------------------------------------------------------------
// System log

/// One line of the daemon's log as `GET /api/v1/system/logs` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LogLine {
    /// Increases by one per line captured since the daemon started.
    pub seq: u64,
    pub time: DateTime<Utc>,
    /// `ERROR`, `WARN`, `INFO`, `DEBUG` or `TRACE`.
    pub level: String,
    /// The module that wrote it, e.g. `echo5d::app`.
    pub target: String,
    /// The message with its fields (and its request's route) as `key=value`; anything that
    /// looks like a key or token is replaced by `[redacted]`.
    pub message: String,
}

/// `GET /api/v1/system/logs`: matching lines, oldest first (newest last, like `tail`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LogPage {
    pub data: Vec<LogLine>,
    /// The newest line's `seq` (0 when none): pass it as `since` to poll for what follows.
    pub latest_seq: u64,
}

/// Severity, least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

impl LogLevel {
    /// `trace`..`error`, any case (`warning` too).
    pub fn parse(s: &str) -> Option<LogLevel> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "trace" => LogLevel::Trace,
            "debug" => LogLevel::Debug,
            "info" => LogLevel::Info,
            "warn" | "warning" => LogLevel::Warn,
            "error" => LogLevel::Error,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Trace => "TRACE",
            LogLevel::Debug => "DEBUG",
            LogLevel::Info => "INFO",
            LogLevel::Warn => "WARN",
            LogLevel::Error => "ERROR",
        }
    }
}

/// Where a log listing starts: after a line number, or after a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogSince {
    Seq(u64),
    Time(DateTime<Utc>),
}

impl LogSince {
    /// A line number (digits) or an RFC 3339 time / `YYYY-MM-DD` date.
    pub fn parse(s: &str) -> Result<LogSince, DomainError> {
        let s = s.trim();
        if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
            return s.parse().map(LogSince::Seq).map_err(|_| {
                DomainError::invalid("since", "invalid_value", "since is too large a line number")
            });
        }
        crate::lead::parse_time("since", s).map(LogSince::Time)
    }

    pub fn admits(self, line: &LogLine) -> bool {
        match self {
            LogSince::Seq(n) => line.seq > n,
            LogSince::Time(t) => line.time > t,
        }
    }
}

pub const LOG_LIMIT_DEFAULT: u32 = 200;
pub const LOG_LIMIT_MAX: u32 = 1000;

/// Replaces anything in a log line that looks like a secret: API keys (`e5_` + base62),
/// admin tokens (`e5a_` + base62), the token after `Bearer`, and any run of 32 or more
/// letters and digits (a key without its prefix, a hex master key). Display prefixes
/// (`e5_` + 5 characters) and UUIDs stay readable.
pub fn scrub_secrets(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    // Whether the previous character continues a word (letters, digits, `_`).
    let mut in_word = false;
    let word_byte = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    while let Some(c) = rest.chars().next() {
        if !in_word {
            let b = rest.as_bytes();
            if b.len() > 7 && b[..7].eq_ignore_ascii_case(b"bearer ") {
                let token = rest[7..]
                    .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | ','))
                    .unwrap_or(rest.len() - 7);
                if token > 0 {
                    out.push_str(&rest[..7]);
                    out.push_str(REDACTED);
                    rest = &rest[7 + token..];
                    continue;
                }
            }
            if word_byte(b[0]) {
                let len = b.iter().take_while(|b| word_byte(**b)).count();
                out.push_str(&scrub_word(&rest[..len]));
                rest = &rest[len..];
                in_word = true;
                continue;
            }
        }
        out.push(c);
        in_word = c.is_ascii() && word_byte(c as u8);
        rest = &rest[c.len_utf8()..];
    }
    out
}

const REDACTED: &str = "[redacted]";

fn scrub_word(w: &str) -> std::borrow::Cow<'_, str> {
    for prefix in ["e5a_", "e5_"] {
        if let Some(body) = w.strip_prefix(prefix)
            && body.len() >= 12
        {
            return format!("{prefix}{REDACTED}").into();
        }
    }
    let mut run = 0;
    for b in w.bytes() {
        run = if b.is_ascii_alphanumeric() {
            run + 1
        } else {
            0
        };
        if run >= 32 {
            return REDACTED.into();
        }
    }
    w.into()
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
        assert_eq!(d.default_stages.len(), stage::default_pipeline().len());
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

    #[test]
    fn all_leads_params() {
        let p = AllLeadsParams {
            tenant: Some(" open-arms,,caring-hearts,open-arms ".into()),
            spam: Some("all".into()),
            ..Default::default()
        };
        let (t, q) = p.validate().unwrap();
        assert_eq!(t, vec!["open-arms", "caring-hearts"]);
        assert_eq!(q.limit, 50);
        let bad = AllLeadsParams {
            limit: Some(201),
            ..Default::default()
        };
        assert_eq!(field_of(bad.validate()), "limit");
        let many = AllLeadsParams {
            tenant: Some(
                (0..201)
                    .map(|i| format!("t{i}"))
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            ..Default::default()
        };
        assert_eq!(field_of(many.validate()), "tenant");
    }

    #[test]
    fn months() {
        let m = Month::parse("2026-11").unwrap();
        assert_eq!(m.to_string(), "2026-11");
        assert_eq!(m.start().to_rfc3339(), "2026-11-01T00:00:00+00:00");
        assert_eq!(
            Month::parse("2026-12").unwrap().end().to_rfc3339(),
            "2027-01-01T00:00:00+00:00"
        );
        for bad in [
            "", "2026-13", "2026-00", "2026-1", "26-11", "2026/11", "+026-11", "2026-1a", "1969-12",
        ] {
            assert!(Month::parse(bad).is_none(), "{bad}");
        }
        let now = DateTime::parse_from_rfc3339("2026-11-15T00:00:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(usage_reference(m, now), now);
        let oct = Month::parse("2026-10").unwrap();
        assert_eq!(usage_reference(oct, now), oct.end());
        assert!(is_active(Some(now - TimeDelta::days(29)), now));
        assert!(!is_active(Some(now - TimeDelta::days(31)), now));
        assert!(!is_active(None, now));
    }

    #[test]
    fn log_filters() {
        assert!(LogLevel::parse("WARN").unwrap() > LogLevel::Info);
        assert_eq!(LogLevel::parse("loud"), None);
        assert_eq!(LogSince::parse("42").unwrap(), LogSince::Seq(42));
        assert!(matches!(
            LogSince::parse("2026-11-01T00:00:00Z").unwrap(),
            LogSince::Time(_)
        ));
        assert!(LogSince::parse("yesterday").is_err());
        assert!(LogSince::parse("99999999999999999999999").is_err());
    }

    #[test]
    fn scrubbing_hides_keys_and_tokens_but_keeps_prefixes() {
        let key = "e5_Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z";
        let admin = "e5a_0123456789abcdefghijABCDEFGHIJ0123456789";
        let line = format!(
            "refused key={key} auth=\"Bearer sometoken.with-dots\" admin {admin} raw 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 prefix e5_Ab3dE lead 0195f3a4-1111-7000-8000-000000000000"
        );
        let s = scrub_secrets(&line);
        assert!(!s.contains(&key[3..]), "{s}");
        assert!(!s.contains(&admin[4..]), "{s}");
        assert!(!s.contains("sometoken"), "{s}");
        assert!(!s.contains("9f86d081884c7d65"), "{s}");
        assert!(s.contains("key=e5_[redacted]"), "{s}");
        assert!(s.contains("Bearer [redacted]"), "{s}");
        assert!(s.contains("prefix e5_Ab3dE "), "{s}");
        assert!(s.contains("0195f3a4-1111-7000-8000-000000000000"), "{s}");
        assert_eq!(scrub_secrets("plain ünïcode line"), "plain ünïcode line");
        // A key glued to other text is still found.
        assert!(!scrub_secrets(&format!("/api/v1/ingest/{key}")).contains(&key[3..]));
    }
}
