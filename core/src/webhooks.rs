//! Outgoing webhooks: the endpoint resource, its event types and the delivery log, as the
//! API and the console show them.
//!
//! The wire format is Standard Webhooks: `webhook-id`, `webhook-timestamp` and
//! `webhook-signature: v1,<base64 HMAC-SHA256(secret, "{id}.{timestamp}.{body}")>`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::crypto::{self, CryptoError};
use crate::error::DomainError;
use crate::secret::Secret;

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
    #[serde(
        default,
        deserialize_with = "crate::patch::not_null",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub url: Option<String>,
    #[serde(
        default,
        deserialize_with = "crate::patch::not_null",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub events: Option<Vec<String>>,
    #[serde(
        default,
        deserialize_with = "crate::patch::not_null",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub description: Option<String>,
    /// True re-enables an endpoint the daemon disabled.
    #[serde(
        default,
        deserialize_with = "crate::patch::not_null",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
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

/// `whsec_` before the base64 of an endpoint's secret bytes.
pub const SECRET_PREFIX: &str = "whsec_";
/// Random bytes in a new secret.
pub const SECRET_BYTES: usize = 24;
/// How long the previous secret keeps signing after a rotation.
pub const PREVIOUS_SECRET_HOURS: i64 = 24;

/// The mail telling a tenant's manager that the daemon disabled one of its endpoints
/// (`reason`: `gone` after a 410, `failing` after five days of failed attempts).
pub fn disabled_notice(
    to: &str,
    tenant_name: &str,
    url: &str,
    endpoint: Uuid,
    reason: &str,
) -> crate::outbox_tasks::MailTask {
    let why = match reason {
        "gone" => "the receiver answered 410 Gone",
        _ => "every delivery attempt has failed for 5 days",
    };
    crate::outbox_tasks::MailTask {
        to: to.to_string(),
        subject: "Echo5: a webhook endpoint was disabled".to_string(),
        text: format!(
            "The webhook endpoint {url} of {tenant_name} was disabled: {why}.\n\n\
             Nothing more is sent to it until it is enabled again (PATCH it with \"active\": true); \
             messages it missed can then be sent with a recover.\n\nEndpoint id: {endpoint}\n"
        ),
    }
}

/// A new endpoint secret: `whsec_` + base64 of 24 bytes from the OS RNG.
pub fn generate_secret() -> Result<Secret<String>, CryptoError> {
    use base64::Engine;
    let mut bytes = zeroize::Zeroizing::new([0u8; SECRET_BYTES]);
    crypto::fill_random(bytes.as_mut())?;
    Ok(Secret::new(format!(
        "{SECRET_PREFIX}{}",
        base64::engine::general_purpose::STANDARD.encode(bytes.as_ref())
    )))
}

/// The key bytes of a `whsec_` secret (what the HMAC is keyed with); `None` for text that
/// is not one.
pub fn secret_key(secret: &str) -> Option<zeroize::Zeroizing<Vec<u8>>> {
    use base64::Engine;
    let b64 = secret.strip_prefix(SECRET_PREFIX)?;
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .ok()
        .filter(|k| !k.is_empty())
        .map(zeroize::Zeroizing::new)
}

/// What a sealed endpoint secret is bound to (AES-GCM associated data): its tenant and
/// endpoint, so a sealed secret copied to another row does not open there.
pub fn secret_aad(tenant: Uuid, endpoint: Uuid) -> Vec<u8> {
    format!("webhook|{tenant}|{endpoint}").into_bytes()
}

/// One Standard Webhooks signature: `v1,` + base64 of HMAC-SHA256(key, "{id}.{ts}.{body}").
pub fn sign(key: &[u8], msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    use base64::Engine;
    use hmac::Mac;
    let mut mac = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(key)
        .expect("HMAC takes a key of any length");
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    )
}

/// The `webhook-signature` header: one signature per key, space-separated (the current
/// secret first, then the previous one while it still signs after a rotation).
pub fn signature_header(keys: &[&[u8]], msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    keys.iter()
        .map(|k| sign(k, msg_id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A new message id (`webhook-id`): `msg_` + a time-ordered UUID in hex, so ids of later
/// messages sort later (the outbox's unique index only ever appends).
pub fn new_message_id() -> String {
    format!("msg_{}", Uuid::now_v7().simple())
}

/// The message body every receiver gets: `{"type", "timestamp", "data"}`.
pub fn message_body(
    event: EventType,
    at: DateTime<Utc>,
    data: &serde_json::Value,
) -> serde_json::Value {
    serde_json::json!({
        "type": event.as_str(),
        "timestamp": at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "data": data,
    })
}

/// Which event types an endpoint takes, as a bit set (bit `i` is `EventType::ALL[i]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EventMask(pub u8);

impl EventMask {
    pub const ALL: EventMask = EventMask(0x7f);

    pub fn of(event: EventType) -> EventMask {
        let i = EventType::ALL.iter().position(|e| *e == event).unwrap_or(0);
        EventMask(1 << i)
    }

    /// The mask of validated event names (`["*"]` is every type).
    pub fn from_names(names: &[String]) -> EventMask {
        if names.iter().any(|n| n == "*") {
            return EventMask::ALL;
        }
        EventMask(
            names
                .iter()
                .filter_map(|n| EventType::parse(n))
                .fold(0, |m, e| m | EventMask::of(e).0),
        )
    }

    pub fn wants(self, event: EventType) -> bool {
        self.0 & EventMask::of(event).0 != 0
    }

    pub fn union(self, other: EventMask) -> EventMask {
        EventMask(self.0 | other.0)
    }
}

/// Most event names in one endpoint's list.
pub const EVENTS_MAX: usize = 16;

fn check_url(url: &str) -> Result<(), DomainError> {
    let bad = |m: String| DomainError::invalid("url", "invalid_url", m);
    if url.chars().count() > URL_MAX_CHARS {
        return Err(bad(format!(
            "url is longer than {URL_MAX_CHARS} characters"
        )));
    }
    let parsed = url::Url::parse(url).map_err(|e| bad(format!("url is not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(bad("url must be http:// or https://".into()));
    }
    if parsed.host().is_none() {
        return Err(bad("url has no host".into()));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(bad(
            "url must not carry a user or password; the signature authenticates each message"
                .into(),
        ));
    }
    Ok(())
}

/// Where an endpoint sends, for the audit log: scheme, host and port, without the path and
/// query (hook URLs such as Zapier's carry a capability there).
pub fn url_origin(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => u.origin().ascii_serialization(),
        Err(_) => "(unreadable)".to_string(),
    }
}

fn check_events(events: &[String]) -> Result<(), DomainError> {
    let bad = |m: String| DomainError::invalid("events", "invalid_events", m);
    if events.is_empty() {
        return Err(bad(
            "events must name at least one event type, or be [\"*\"] for all".into(),
        ));
    }
    if events.len() > EVENTS_MAX {
        return Err(bad(format!("events has more than {EVENTS_MAX} entries")));
    }
    for e in events {
        if e == "*" {
            if events.len() > 1 {
                return Err(bad("\"*\" takes every event type and stands alone".into()));
            }
        } else if EventType::parse(e).is_none() {
            let known: Vec<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
            return Err(bad(format!(
                "unknown event type {:?}; known: {}, or \"*\"",
                e.chars().take(64).collect::<String>(),
                known.join(", ")
            )));
        }
    }
    Ok(())
}

fn check_description(d: &str) -> Result<(), DomainError> {
    if d.chars().count() > DESCRIPTION_MAX_CHARS {
        return Err(DomainError::invalid(
            "description",
            "invalid_description",
            format!("description is longer than {DESCRIPTION_MAX_CHARS} characters"),
        ));
    }
    if d.chars().any(char::is_control) {
        return Err(DomainError::invalid(
            "description",
            "invalid_description",
            "description must not contain control characters",
        ));
    }
    Ok(())
}

impl NewWebhook {
    /// The rules of a new endpoint (the address rule is checked where names resolve).
    pub fn validate(&self) -> Result<(), DomainError> {
        check_url(&self.url)?;
        check_events(&self.events)?;
        if let Some(d) = &self.description {
            check_description(d)?;
        }
        Ok(())
    }
}

impl WebhookPatch {
    pub fn validate(&self) -> Result<(), DomainError> {
        if let Some(u) = &self.url {
            check_url(u)?;
        }
        if let Some(e) = &self.events {
            check_events(e)?;
        }
        if let Some(d) = &self.description {
            check_description(d)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_audited_origin_leaves_out_the_path_and_query() {
        assert_eq!(
            url_origin("https://hooks.zapier.com/hooks/catch/123/abc?token=s3cret"),
            "https://hooks.zapier.com"
        );
        assert_eq!(
            url_origin("http://127.0.0.1:8080/x#frag"),
            "http://127.0.0.1:8080"
        );
        assert_eq!(url_origin("not a url"), "(unreadable)");
    }

    #[test]
    fn secrets_have_the_documented_shape() {
        let s = generate_secret().unwrap();
        let s = s.expose();
        assert!(s.starts_with("whsec_"));
        assert_eq!(secret_key(s).unwrap().len(), 24);
        assert_ne!(generate_secret().unwrap().expose(), s);
        assert!(secret_key("whsec_").is_none());
        assert!(secret_key("nope").is_none());
    }

    #[test]
    fn signature_matches_the_standard_webhooks_example() {
        // The example of the Standard Webhooks specification.
        let key = secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            sign(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        let two = signature_header(&[&key, b"other"], "msg_1", 1, b"x");
        let parts: Vec<&str> = two.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0], sign(&key, "msg_1", 1, b"x"));
        assert_ne!(parts[0], parts[1]);
    }

    #[test]
    fn new_webhooks_are_checked() {
        let ok = NewWebhook {
            url: "https://hooks.example.com/in".into(),
            events: vec!["lead.created".into(), "sla.breached".into()],
            description: Some("CRM".into()),
            active: None,
        };
        assert!(ok.validate().is_ok());
        let field = |w: &NewWebhook| match w.validate() {
            Err(DomainError::Invalid { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        for url in [
            "ftp://x.example/",
            "file:///etc/passwd",
            "not a url",
            "https://user:pw@x.example/",
            &format!("https://x.example/{}", "a".repeat(URL_MAX_CHARS)),
        ] {
            let w = NewWebhook {
                url: url.into(),
                ..ok.clone()
            };
            assert_eq!(field(&w), "url", "{url}");
        }
        for events in [
            vec![],
            vec!["lead.*".to_string()],
            vec!["*".into(), "lead.created".into()],
        ] {
            let w = NewWebhook {
                events,
                ..ok.clone()
            };
            assert_eq!(field(&w), "events");
        }
        let w = NewWebhook {
            description: Some("d".repeat(201)),
            ..ok.clone()
        };
        assert_eq!(field(&w), "description");
        let w = NewWebhook {
            events: vec!["*".into()],
            ..ok.clone()
        };
        assert!(w.validate().is_ok());
        let p = WebhookPatch {
            url: Some("gopher://x".into()),
            ..Default::default()
        };
        assert!(p.validate().is_err());
        assert!(WebhookPatch::default().validate().is_ok());
    }

    #[test]
    fn masks_follow_the_names() {
        let m = EventMask::from_names(&["lead.created".into(), "sla.breached".into()]);
        assert!(m.wants(EventType::LeadCreated));
        assert!(m.wants(EventType::SlaBreached));
        assert!(!m.wants(EventType::LeadDeleted));
        let all = EventMask::from_names(&["*".into()]);
        assert!(EventType::ALL.iter().all(|e| all.wants(*e)));
    }

    #[test]
    fn bodies_carry_type_timestamp_and_data() {
        let at = DateTime::from_timestamp(1_780_000_000, 0).unwrap();
        let b = message_body(EventType::LeadCreated, at, &serde_json::json!({"id": 1}));
        assert_eq!(b["type"], "lead.created");
        assert_eq!(b["timestamp"], "2026-05-28T20:26:40.000Z");
        assert_eq!(b["data"]["id"], 1);
        assert!(new_message_id().starts_with("msg_"));
    }

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
