//! Leads: one contact-form submission in a tenant's pipeline.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

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
    pub notes: Option<String>,
    pub assigned_to: Option<String>,
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
            notes: None,
            assigned_to: None,
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
