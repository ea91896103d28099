//! Outgoing webhooks: the endpoint resource, its event types and the delivery log, as the
//! API and the console show them.
//!
//! The wire format is Standard Webhooks: `webhook-id`, `webhook-timestamp` and
//! `webhook-signature: v1,<base64 HMAC-SHA256(secret, "{id}.{timestamp}.{body}")>`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Characters of a description.
pub const DESCRIPTION_MAX_CHARS: usize = 200;
/// Characters of an endpoint URL.
pub const URL_MAX_CHARS: usize = 2048;
/// Bytes of a receiver's answer kept with each attempt.
pub const RESPONSE_KEPT_BYTES: usize = 1024;

/// What happened, as a message's `type` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum EventType {
    #[serde(rename = "lead.created")]
    LeadCreated,
    #[serde(rename = "lead.updated")]
    LeadUpdated,
    #[serde(rename = "lead.stage_changed")]
    LeadStageChanged,
    #[serde(rename = "lead.assigned")]
    LeadAssigned,
    #[serde(rename = "lead.deleted")]
    LeadDeleted,
    #[serde(rename = "sla.breached")]
    SlaBreached,
    #[serde(rename = "webhook.test")]
    WebhookTest,
}

impl EventType {
    pub const ALL: [EventType; 7] = [
        EventType::LeadCreated,
        EventType::LeadUpdated,
        EventType::LeadStageChanged,
        EventType::LeadAssigned,
        EventType::LeadDeleted,
        EventType::SlaBreached,
        EventType::WebhookTest,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::LeadCreated => "lead.created",
            EventType::LeadUpdated => "lead.updated",
            EventType::LeadStageChanged => "lead.stage_changed",
            EventType::LeadAssigned => "lead.assigned",
            EventType::LeadDeleted => "lead.deleted",
            EventType::SlaBreached => "sla.breached",
            EventType::WebhookTest => "webhook.test",
        }
    }

    pub fn parse(s: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// An endpoint as every answer shows it: never its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Webhook {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub url: String,
    /// The event types sent, or `["*"]` for all of them.
    pub events: Vec<String>,
    pub description: String,
    /// False when paused by a user or disabled by the daemon (see `disabled_reason`).
    pub active: bool,
    /// Why the daemon disabled it (`gone`: the receiver answered 410; `failing`: every
    /// attempt failed for 5 days); `null` when active or paused by a user.
    pub disabled_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Until when the previous secret still signs too, after a rotation.
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
}

/// `POST /api/v1/tenants/{t}/webhooks`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    pub url: String,
    /// Event type names, or `["*"]`.
    pub events: Vec<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// Default true.
    #[serde(default)]
    pub active: Option<bool>,
}

/// `PATCH /api/v1/tenants/{t}/webhooks/{id}`: absent fields stay.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WebhookPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// True re-enables an endpoint the daemon disabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
}

/// The answer to a create or a secret rotation: the only time the secret is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookWithSecret {
    #[serde(flatten)]
    pub webhook: Webhook,
    /// `whsec_` + base64 of 24 random bytes.
    pub secret: String,
}

/// Where a message stands for one endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    /// Not yet delivered; `next_attempt_at` says when it is tried next.
    Pending,
    Succeeded,
    /// Every attempt of the schedule failed, or the endpoint was disabled.
    Failed,
}

/// One try at sending a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Attempt {
    pub at: DateTime<Utc>,
    /// The receiver's HTTP status; `null` when no answer came (timeout, refused, forbidden
    /// address).
    pub status_code: Option<u16>,
    pub duration_ms: u64,
    /// The first 1 KiB of the receiver's answer, as text (invalid UTF-8 replaced).
    pub response: String,
    /// Why it failed without an answer (`timeout`, `connection refused`, `url_forbidden` …).
    pub error: Option<String>,
}

/// A message to one endpoint with its attempts: `GET …/webhooks/{id}/deliveries`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Delivery {
    /// The `webhook-id` the receiver sees, the same on every retry.
    pub message_id: String,
    #[serde(rename = "type")]
    pub event_type: EventType,
    pub status: DeliveryStatus,
    pub created_at: DateTime<Utc>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub attempts: Vec<Attempt>,
}

/// `POST …/webhooks/{id}/recover`: send again every message since `since` that failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Recover {
    pub since: DateTime<Utc>,
}

/// The answer to a recover: how many messages are queued again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Recovered {
    pub queued: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_type_round_trips_through_its_name() {
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(t));
            let json = serde_json::to_string(&t).expect("serialise");
            assert_eq!(json, format!("\"{}\"", t.as_str()));
        }
        assert_eq!(EventType::parse("lead.*"), None);
    }
}
