//! Leads: one contact-form submission in a tenant's pipeline.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::DomainError;
use crate::page::Cursor;
use crate::validate;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum LeadSource {
    Website,
    Meta,
    Google,
    Manual,
    Api,
}

impl LeadSource {
    pub fn as_str(self) -> &'static str {
        match self {
            LeadSource::Website => "website",
            LeadSource::Meta => "meta",
            LeadSource::Google => "google",
            LeadSource::Manual => "manual",
            LeadSource::Api => "api",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "website" => LeadSource::Website,
            "meta" => LeadSource::Meta,
            "google" => LeadSource::Google,
            "manual" => LeadSource::Manual,
            "api" => LeadSource::Api,
            _ => return None,
        })
    }
}

/// A lead as stored and as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Lead {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub stage_id: Uuid,
    pub stage_changed_at: DateTime<Utc>,
    pub first_contacted_at: Option<DateTime<Utc>>,
    pub name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub message: Option<String>,
    pub company: Option<String>,
    pub source: LeadSource,
    pub form_name: Option<String>,
    pub page_url: Option<String>,
    pub referrer: Option<String>,
    pub utm_source: Option<String>,
    pub utm_medium: Option<String>,
    pub utm_campaign: Option<String>,
    pub utm_term: Option<String>,
    pub utm_content: Option<String>,
    pub gclid: Option<String>,
    pub fbclid: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub custom: serde_json::Value,
    pub is_spam: bool,
    pub spam_reason: Option<String>,
    pub duplicate_of: Option<Uuid>,
    /// The notes, oldest first. Appended with `POST /api/v1/leads/{id}/notes`, never
    /// edited or removed.
    #[serde(default)]
    pub notes: Vec<Note>,
    /// The id of the user of the lead's tenant the lead is assigned to, or `null`.
    pub assigned_to: Option<Uuid>,
    /// The ad platform's own id of the lead (Google's `lead_id`, Meta's leadgen id); one
    /// lead per id, source and tenant. `null` for website and manual leads.
    #[serde(default)]
    pub external_id: Option<String>,
    /// A test the platform sent (Google's "send test data"). Stored like spam — flagged
    /// `is_spam` with `spam_reason` `test` — so it is outside SLA, analytics, the dashboard
    /// and duplicate detection, and hidden from listings unless spam is asked for.
    #[serde(default)]
    pub is_test: bool,
    /// Stored past its tenant's monthly lead limit (`leads_per_month` of its plan): leads
    /// are never refused for a plan, they are marked.
    #[serde(default)]
    pub over_plan: bool,
}

/// One note on a lead: who wrote what, when. Notes are appended, never overwritten.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Note {
    pub id: Uuid,
    pub text: String,
    /// The writer's display name ([`crate::audit::actor_name`]): `admin` for the admin
    /// token, `migrated` for notes kept from before notes were a list.
    pub author: String,
    pub at: DateTime<Utc>,
}

/// `POST /api/v1/leads/{id}/notes`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewNote {
    /// 1..=10,000 characters; line breaks and tabs allowed, no other control characters.
    pub text: String,
}

impl NewNote {
    /// The text as stored, checked by [`note_text`].
    pub fn validate(&self) -> Result<String, DomainError> {
        note_text("text", &self.text)
    }
}

/// A note's text, or why it is refused: not blank, at most [`NOTES_MAX_CHARS`] characters,
/// no control characters but line breaks and tabs. Kept as written, leading blanks and line
/// breaks included (the console and the CSV export make it safe to show).
pub fn note_text(field: &str, text: &str) -> Result<String, DomainError> {
    if text.trim().is_empty() {
        return Err(DomainError::invalid(
            field,
            "empty",
            format!("{field} must not be empty"),
        ));
    }
    if text.chars().count() > NOTES_MAX_CHARS {
        return Err(DomainError::invalid(
            field,
            "too_long",
            format!("{field} must be at most {NOTES_MAX_CHARS} characters"),
        ));
    }
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
    {
        return Err(DomainError::invalid(
            field,
            "control_character",
            format!("{field} must not contain control characters other than line breaks and tabs"),
        ));
    }
    Ok(text.to_string())
}

impl Lead {
    /// An empty lead in `stage_id`, created at `at`; callers fill in the contact fields.
    pub fn blank(id: Uuid, tenant_id: Uuid, stage_id: Uuid, at: DateTime<Utc>) -> Lead {
        Lead {
            id,
            tenant_id,
            created_at: at,
            stage_id,
            stage_changed_at: at,
            first_contacted_at: None,
            name: None,
            first_name: None,
            last_name: None,
            email: None,
            phone: None,
            message: None,
            company: None,
            source: LeadSource::Website,
            form_name: None,
            page_url: None,
            referrer: None,
            utm_source: None,
            utm_medium: None,
            utm_campaign: None,
            utm_term: None,
            utm_content: None,
            gclid: None,
            fbclid: None,
            ip: None,
            user_agent: None,
            custom: serde_json::Value::Object(Default::default()),
            is_spam: false,
            spam_reason: None,
            duplicate_of: None,
            notes: Vec::new(),
            assigned_to: None,
            external_id: None,
            is_test: false,
            over_plan: false,
        }
    }
}

/// What ingest answers (always with HTTP 200): the lead's id and `created` or `duplicate`.
/// Spam is answered exactly like a clean lead (`created`) so bots learn nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IngestReceipt {
    pub id: Uuid,
    /// `created` or `duplicate`.
    pub status: String,
}

/// A lead's id: UUID v7 (time-ordered) from its creation time, so ids sort like leads arrive.
pub fn new_lead_id(at: DateTime<Utc>) -> Uuid {
    let ts = uuid::Timestamp::from_unix(
        uuid::NoContext,
        at.timestamp().max(0) as u64,
        at.timestamp_subsec_nanos(),
    );
    Uuid::new_v7(ts)
}

/// One move between stages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StageMove {
    pub from_stage: Option<Uuid>,
    pub to_stage: Uuid,
    pub at: DateTime<Utc>,
    pub by: String,
}

/// `GET /api/v1/leads/{id}`: the lead with its tenant, SLA state and stage history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LeadDetail {
    #[serde(flatten)]
    pub lead: Lead,
    pub tenant: crate::tenants::TenantRef,
    pub in_breach: bool,
    pub history: Vec<StageMove>,
    /// Who `assigned_to` is: the user's name and e-mail; `null` when unassigned.
    #[serde(default)]
    pub assignee: Option<Assignee>,
}

/// The user a lead is assigned to, as a lead's detail names them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Assignee {
    pub id: Uuid,
    pub name: String,
    pub email: String,
    /// `false`: deactivated since the lead was assigned to them.
    pub active: bool,
}

/// Which leads a listing shows with respect to spam.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SpamFilter {
    /// The default: spam is hidden.
    #[default]
    Hide,
    Only,
    Include,
}

/// A validated lead listing query.
#[derive(Debug, Clone, Default)]
pub struct LeadQuery {
    pub stage: Option<Uuid>,
    pub source: Option<LeadSource>,
    /// Case-insensitive substring of name, e-mail, phone or message.
    pub q: Option<String>,
    /// Created at or after.
    pub from: Option<DateTime<Utc>>,
    /// Created before.
    pub to: Option<DateTime<Utc>>,
    pub spam: SpamFilter,
    /// Only leads in breach (true) or not in breach (false).
    pub breached: Option<bool>,
    pub limit: u32,
    pub cursor: Option<Cursor>,
}

/// The query string of `GET .../leads`, before validation.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeadQueryParams {
    pub stage: Option<String>,
    pub source: Option<String>,
    pub q: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    /// `false` (default), `true` (only spam) or `all`.
    pub spam: Option<String>,
    pub breached: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// An RFC 3339 time or a `YYYY-MM-DD` date (midnight UTC), for query parameters.
pub fn parse_time(field: &str, s: &str) -> Result<DateTime<Utc>, DomainError> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc())
        .ok_or_else(|| {
            DomainError::invalid(
                field,
                "invalid_time",
                format!("{field} must be an RFC 3339 time or a YYYY-MM-DD date"),
            )
        })
}

fn parse_bool(field: &str, s: &str) -> Result<bool, DomainError> {
    match s {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(DomainError::invalid(
            field,
            "invalid_value",
            format!("{field} must be true or false"),
        )),
    }
}

impl LeadQueryParams {
    pub fn validate(&self) -> Result<LeadQuery, DomainError> {
        let q = match self.q.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(q) => Some(validate::text("q", q, 200)?.to_lowercase()),
        };
        let from = self
            .from
            .as_deref()
            .map(|s| parse_time("from", s))
            .transpose()?;
        let to = self
            .to
            .as_deref()
            .map(|s| parse_time("to", s))
            .transpose()?;
        if let (Some(f), Some(t)) = (from, to)
            && f > t
        {
            return Err(DomainError::invalid(
                "from",
                "invalid_range",
                "from must not be after to",
            ));
        }
        let stage = self
            .stage
            .as_deref()
            .map(|s| {
                Uuid::try_parse(s).map_err(|_| {
                    DomainError::invalid("stage", "invalid_id", "stage must be a stage id")
                })
            })
            .transpose()?;
        let source = self
            .source
            .as_deref()
            .map(|s| {
                LeadSource::parse(s).ok_or_else(|| {
                    DomainError::invalid(
                        "source",
                        "invalid_value",
                        "source must be one of website, meta, google, manual, api",
                    )
                })
            })
            .transpose()?;
        let spam = match self.spam.as_deref() {
            None | Some("false") | Some("0") => SpamFilter::Hide,
            Some("true") | Some("1") => SpamFilter::Only,
            Some("all") => SpamFilter::Include,
            Some(_) => {
                return Err(DomainError::invalid(
                    "spam",
                    "invalid_value",
                    "spam must be false, true or all",
                ));
            }
        };
        let breached = self
            .breached
            .as_deref()
            .map(|b| parse_bool("breached", b))
            .transpose()?;
        let (limit, cursor) = crate::page::parse(self.limit, self.cursor.as_deref())?;
        Ok(LeadQuery {
            stage,
            source,
            q,
            from,
            to,
            spam,
            breached,
            limit,
            cursor,
        })
    }
}

use crate::patch::double_option;
use crate::tenants::TenantRef;

/// `PATCH /api/v1/leads/{id}`: move stage, assignee, spam flag. `null` clears the assignee.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LeadPatch {
    #[serde(
        default,
        deserialize_with = "crate::patch::not_null",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub stage_id: Option<Uuid>,
    /// Refused (422 `notes_append_only`): notes are a list that is only appended to, with
    /// `POST /api/v1/leads/{id}/notes`.
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, deprecated))]
    pub notes: Option<Option<serde_json::Value>>,
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    /// A user id of the lead's tenant (an active user), or `null` to unassign.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Uuid>))]
    pub assigned_to: Option<Option<Uuid>>,
    /// `false` clears a spam flag (a false positive: the lead joins the listings, counts
    /// and SLA); `true` flags a lead as spam by hand (reason `manual`).
    #[serde(
        default,
        deserialize_with = "crate::patch::not_null",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub is_spam: Option<bool>,
}

pub const NOTES_MAX_CHARS: usize = 10_000;

impl LeadPatch {
    /// Checks the fields: notes are refused here (they are appended, never overwritten).
    pub fn validate(&self) -> Result<(), DomainError> {
        if self.notes.is_some() {
            return Err(DomainError::invalid(
                "notes",
                "notes_append_only",
                "notes are never overwritten: add one with POST /api/v1/leads/{id}/notes",
            ));
        }
        Ok(())
    }
}

/// `POST /api/v1/tenants/{id}/leads`: manual entry and imports.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewLead {
    pub name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub message: Option<String>,
    pub company: Option<String>,
    /// Default `manual`.
    pub source: Option<LeadSource>,
    /// When the lead really arrived (imports); default now. Not in the future.
    pub created_at: Option<DateTime<Utc>>,
    /// Default: the intake stage.
    pub stage_id: Option<Uuid>,
    pub page_url: Option<String>,
    pub utm_source: Option<String>,
    pub utm_medium: Option<String>,
    pub utm_campaign: Option<String>,
    /// The lead's first note, written by whoever enters the lead.
    pub notes: Option<String>,
    /// A user id of the tenant (an active user). Left out: as the tenant's `auto_assign`
    /// says (the next manager in turn, or nobody).
    pub assigned_to: Option<Uuid>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub custom: Option<serde_json::Map<String, serde_json::Value>>,
}

fn opt_text(field: &str, v: &Option<String>, max: usize) -> Result<Option<String>, DomainError> {
    match v.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => validate::text(field, s, max).map(Some),
    }
}

/// Clock skew allowed for a client-supplied `created_at`.
const FUTURE_SLACK: TimeDelta = TimeDelta::minutes(5);

impl NewLead {
    /// A lead in `stage_id` built from this entry; `now` bounds `created_at`.
    pub fn build(
        &self,
        tenant_id: Uuid,
        stage_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Lead, DomainError> {
        let created = self.created_at.unwrap_or(now);
        if created > now + FUTURE_SLACK {
            return Err(DomainError::invalid(
                "created_at",
                "in_future",
                "created_at must not be in the future",
            ));
        }
        let mut l = Lead::blank(new_lead_id(created), tenant_id, stage_id, created);
        l.source = self.source.unwrap_or(LeadSource::Manual);
        l.first_name = opt_text("first_name", &self.first_name, 100)?;
        l.last_name = opt_text("last_name", &self.last_name, 100)?;
        l.name =
            opt_text("name", &self.name, 200)?.or_else(|| match (&l.first_name, &l.last_name) {
                (Some(f), Some(la)) => Some(format!("{f} {la}")),
                (Some(f), None) => Some(f.clone()),
                (None, Some(la)) => Some(la.clone()),
                (None, None) => None,
            });
        l.email = match self.email.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(e) => Some(validate::email("email", e)?),
        };
        l.phone = match self.phone.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(p) => Some(crate::phone::normalize_phone(p).ok_or_else(|| {
                DomainError::invalid("phone", "invalid_phone", "phone must contain digits")
            })?),
        };
        if l.name.is_none() && l.email.is_none() && l.phone.is_none() {
            return Err(DomainError::invalid(
                "name",
                "no_contact",
                "a lead needs at least a name, an e-mail address or a phone number",
            ));
        }
        l.message = match &self.message {
            Some(m) if m.chars().count() > NOTES_MAX_CHARS => {
                return Err(DomainError::invalid(
                    "message",
                    "too_long",
                    "message is too long",
                ));
            }
            Some(m) if !m.trim().is_empty() => Some(m.trim().to_string()),
            _ => None,
        };
        l.company = opt_text("company", &self.company, 200)?;
        l.page_url = opt_text("page_url", &self.page_url, 2000)?;
        l.utm_source = opt_text("utm_source", &self.utm_source, 200)?;
        l.utm_medium = opt_text("utm_medium", &self.utm_medium, 200)?;
        l.utm_campaign = opt_text("utm_campaign", &self.utm_campaign, 200)?;
        // Checked against the tenant's users by the store (`assignment::check_assignee`).
        l.assigned_to = self.assigned_to;
        self.first_note()?;
        if let Some(c) = &self.custom {
            l.custom = serde_json::Value::Object(c.clone());
        }
        Ok(l)
    }
}

impl NewLead {
    /// The text of the lead's first note (`notes`), checked like any note; `None` when
    /// left out or blank.
    pub fn first_note(&self) -> Result<Option<String>, DomainError> {
        match self.notes.as_deref() {
            Some(n) if !n.trim().is_empty() => note_text("notes", n).map(Some),
            _ => Ok(None),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Every tenant's leads in one list

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
    fn query_params_validate() {
        let p = LeadQueryParams {
            stage: Some("nope".into()),
            ..Default::default()
        };
        assert!(
            matches!(p.validate(), Err(DomainError::Invalid { field, .. }) if field == "stage")
        );
        let p = LeadQueryParams {
            from: Some("2026-05-01".into()),
            to: Some("2026-05-31T00:00:00Z".into()),
            spam: Some("all".into()),
            q: Some(" Jane ".into()),
            ..Default::default()
        };
        let q = p.validate().unwrap();
        assert_eq!(q.spam, SpamFilter::Include);
        assert_eq!(q.q.as_deref(), Some("jane"));
        assert_eq!(q.limit, 50);
        let bad = LeadQueryParams {
            from: Some("2026-06-01".into()),
            to: Some("2026-05-01".into()),
            ..Default::default()
        };
        assert!(bad.validate().is_err());
        let bad = LeadQueryParams {
            breached: Some("maybe".into()),
            ..Default::default()
        };
        assert!(bad.validate().is_err());
    }

    #[test]
    fn manual_leads() {
        let now = DateTime::from_timestamp(1_780_000_000, 0).unwrap();
        let t = Uuid::from_u128(1);
        let s = Uuid::from_u128(2);
        let n: NewLead = serde_json::from_str(
            r#"{"first_name":"Jane","last_name":"Doe","email":"JANE@x.example","phone":"(555) 010-2000","created_at":"2026-05-01T10:00:00Z"}"#,
        )
        .unwrap();
        let l = n.build(t, s, now).unwrap();
        assert_eq!(l.name.as_deref(), Some("Jane Doe"));
        assert_eq!(l.email.as_deref(), Some("jane@x.example"));
        assert_eq!(l.phone.as_deref(), Some("5550102000"));
        assert_eq!(l.source, LeadSource::Manual);
        assert_eq!(l.created_at.to_rfc3339(), "2026-05-01T10:00:00+00:00");
        let future: NewLead =
            serde_json::from_str(r#"{"name":"X","created_at":"2027-01-01T00:00:00Z"}"#).unwrap();
        assert!(future.build(t, s, now).is_err());
        let empty: NewLead = serde_json::from_str(r#"{"message":"hi"}"#).unwrap();
        assert!(empty.build(t, s, now).is_err());
        let bad: NewLead = serde_json::from_str(r#"{"email":"nope"}"#).unwrap();
        assert!(
            matches!(bad.build(t, s, now), Err(DomainError::Invalid { field, .. }) if field == "email")
        );
    }

    #[test]
    fn note_text_rules() {
        assert_eq!(
            note_text("text", "  called back\r\nbooked\ta tour ").unwrap(),
            "  called back\r\nbooked\ta tour "
        );
        assert_eq!(field_of(note_text("text", " \n\t ")), "text");
        let Err(DomainError::Invalid { code, .. }) = note_text("text", "a\u{1b}[2Jb") else {
            panic!("escape accepted")
        };
        assert_eq!(code, "control_character");
        let long = "x".repeat(NOTES_MAX_CHARS + 1);
        let Err(DomainError::Invalid { code, .. }) = note_text("text", &long) else {
            panic!("long note accepted")
        };
        assert_eq!(code, "too_long");
        assert!(note_text("text", &"x".repeat(NOTES_MAX_CHARS)).is_ok());
    }

    #[test]
    fn patch_refuses_notes_and_reads_the_spam_flag() {
        for body in [r#"{"notes":"x"}"#, r#"{"notes":null}"#, r#"{"notes":[]}"#] {
            let p: LeadPatch = serde_json::from_str(body).unwrap();
            let Err(DomainError::Invalid { field, code, .. }) = p.validate() else {
                panic!("{body} accepted")
            };
            assert_eq!((field.as_str(), code), ("notes", "notes_append_only"));
        }
        let p: LeadPatch = serde_json::from_str(r#"{"is_spam":false}"#).unwrap();
        assert_eq!(p.is_spam, Some(false));
        assert!(p.validate().is_ok());
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
}
