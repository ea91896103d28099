//! Live events (`GET /api/v1/events`, Server-Sent Events): what changed, for the console.
//!
//! A write returns what it changed as typed [`Change`]s next to its value ([`Changed`]); the
//! daemon publishes them in one place, and only there does a change become the wire
//! [`Event`] (`kind` string, `tenant`, `data` JSON).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::leads::LeadSource;
use crate::tenants::TenantRef;

/// What an event is about; its `kind` on the wire is [`EventKind::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    LeadCreated,
    LeadUpdated,
    SlaBreached,
    TenantUpdated,
    KeyCreated,
    KeyRotated,
    KeyRevoked,
    /// The platform settings changed (`data.changed` names the fields).
    PlatformUpdated,
}

impl EventKind {
    pub const ALL: [EventKind; 8] = [
        EventKind::LeadCreated,
        EventKind::LeadUpdated,
        EventKind::SlaBreached,
        EventKind::TenantUpdated,
        EventKind::KeyCreated,
        EventKind::KeyRotated,
        EventKind::KeyRevoked,
        EventKind::PlatformUpdated,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            EventKind::LeadCreated => "lead.created",
            EventKind::LeadUpdated => "lead.updated",
            EventKind::SlaBreached => "sla.breached",
            EventKind::TenantUpdated => "tenant.updated",
            EventKind::KeyCreated => "key.created",
            EventKind::KeyRotated => "key.rotated",
            EventKind::KeyRevoked => "key.revoked",
            EventKind::PlatformUpdated => "platform.updated",
        }
    }

    pub fn parse(s: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Which part of a tenant a `tenant.updated` event is about (`data.changed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TenantPart {
    /// The tenant is new.
    Created,
    /// Its own fields: slug, name, active, or any of them with its settings (PUT/PATCH).
    Tenant,
    Settings,
    /// Its pipeline.
    Stages,
}

impl TenantPart {
    pub const fn as_str(self) -> &'static str {
        match self {
            TenantPart::Created => "created",
            TenantPart::Tenant => "tenant",
            TenantPart::Settings => "settings",
            TenantPart::Stages => "stages",
        }
    }
}

/// One change a write made, as the event stream tells it. Carries ids, names of fields and
/// a key's display prefix only: never personal data or secrets.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    LeadCreated {
        tenant: TenantRef,
        lead_id: Uuid,
        source: LeadSource,
        /// Said by the ingest endpoint, which screens for spam; manual entries are not.
        spam: Option<bool>,
    },
    LeadUpdated {
        tenant: TenantRef,
        lead_id: Uuid,
        changed: Vec<&'static str>,
    },
    SlaBreached {
        tenant: TenantRef,
        lead_id: Uuid,
        deadline: DateTime<Utc>,
        overdue_minutes: i64,
    },
    TenantUpdated {
        tenant: TenantRef,
        part: TenantPart,
    },
    KeyCreated {
        tenant: TenantRef,
        prefix: String,
    },
    /// `prefix` is the old key's.
    KeyRotated {
        tenant: TenantRef,
        prefix: String,
    },
    KeyRevoked {
        tenant: TenantRef,
        prefix: String,
    },
    PlatformUpdated {
        changed: Vec<&'static str>,
    },
}

impl Change {
    pub fn kind(&self) -> EventKind {
        match self {
            Change::LeadCreated { .. } => EventKind::LeadCreated,
            Change::LeadUpdated { .. } => EventKind::LeadUpdated,
            Change::SlaBreached { .. } => EventKind::SlaBreached,
            Change::TenantUpdated { .. } => EventKind::TenantUpdated,
            Change::KeyCreated { .. } => EventKind::KeyCreated,
            Change::KeyRotated { .. } => EventKind::KeyRotated,
            Change::KeyRevoked { .. } => EventKind::KeyRevoked,
            Change::PlatformUpdated { .. } => EventKind::PlatformUpdated,
        }
    }

    /// The tenant concerned; `None` for platform-wide changes.
    pub fn tenant(&self) -> Option<&TenantRef> {
        match self {
            Change::LeadCreated { tenant, .. }
            | Change::LeadUpdated { tenant, .. }
            | Change::SlaBreached { tenant, .. }
            | Change::TenantUpdated { tenant, .. }
            | Change::KeyCreated { tenant, .. }
            | Change::KeyRotated { tenant, .. }
            | Change::KeyRevoked { tenant, .. } => Some(tenant),
            Change::PlatformUpdated { .. } => None,
        }
    }

    /// The event's `data`.
    pub fn data(&self) -> serde_json::Value {
        match self {
            Change::LeadCreated {
                lead_id,
                source,
                spam: Some(spam),
                ..
            } => json!({ "lead_id": lead_id, "source": source, "spam": spam }),
            Change::LeadCreated {
                lead_id,
                source,
                spam: None,
                ..
            } => json!({ "lead_id": lead_id, "source": source }),
            Change::LeadUpdated {
                lead_id, changed, ..
            } => json!({ "lead_id": lead_id, "changed": changed }),
            Change::SlaBreached {
                lead_id,
                deadline,
                overdue_minutes,
                ..
            } => json!({
                "lead_id": lead_id,
                "deadline": deadline,
                "overdue_minutes": overdue_minutes,
            }),
            Change::TenantUpdated { part, .. } => json!({ "changed": part.as_str() }),
            Change::KeyCreated { prefix, .. }
            | Change::KeyRotated { prefix, .. }
            | Change::KeyRevoked { prefix, .. } => json!({ "prefix": prefix }),
            Change::PlatformUpdated { changed } => json!({ "changed": changed }),
        }
    }

    /// The fields a `lead.updated` or `platform.updated` names; empty for other changes.
    pub fn fields(&self) -> &[&'static str] {
        match self {
            Change::LeadUpdated { changed, .. } | Change::PlatformUpdated { changed } => changed,
            _ => &[],
        }
    }

    /// The wire event for this change, numbered `id`, happened `at`.
    pub fn event(&self, id: u64, at: DateTime<Utc>) -> Event {
        Event {
            id,
            kind: self.kind().as_str().to_string(),
            at,
            tenant: self.tenant().cloned(),
            data: self.data(),
        }
    }
}

/// A write's result with what it changed, for the daemon to publish after the commit.
#[derive(Debug, Clone, PartialEq)]
pub struct Changed<T> {
    pub value: T,
    pub changes: Vec<Change>,
}

impl<T> Changed<T> {
    pub fn one(value: T, change: Change) -> Changed<T> {
        Changed {
            value,
            changes: vec![change],
        }
    }

    /// Nothing to announce (e.g. a write that turned out to change nothing).
    pub fn none(value: T) -> Changed<T> {
        Changed {
            value,
            changes: Vec::new(),
        }
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Changed<U> {
        Changed {
            value: f(self.value),
            changes: self.changes,
        }
    }
}

/// One event. `id` increases by one per event; a client resumes with `Last-Event-ID`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Event {
    pub id: u64,
    /// `lead.created`, `lead.updated`, `sla.breached`, `tenant.updated`, `key.created`,
    /// `key.rotated`, `key.revoked`, `platform.updated`.
    pub kind: String,
    pub at: DateTime<Utc>,
    pub tenant: Option<TenantRef>,
    /// The object concerned (a lead id, a key's prefix...). Never personal data or secrets.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub data: serde_json::Value,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn tref() -> TenantRef {
        TenantRef {
            id: Uuid::nil(),
            slug: "open-arms".into(),
            name: "Open Arms".into(),
        }
    }

    #[test]
    fn kinds_round_trip_and_keep_their_names() {
        for k in EventKind::ALL {
            assert_eq!(EventKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(EventKind::parse("lead.deleted"), None);
        assert_eq!(
            EventKind::ALL.map(EventKind::as_str),
            [
                "lead.created",
                "lead.updated",
                "sla.breached",
                "tenant.updated",
                "key.created",
                "key.rotated",
                "key.revoked",
                "platform.updated"
            ]
        );
    }

    #[test]
    fn each_change_says_what_its_event_says() {
        let lead = Uuid::from_u128(7);
        let deadline = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
        let key = |prefix: &str| prefix.to_string();
        let cases = [
            (
                Change::LeadCreated {
                    tenant: tref(),
                    lead_id: lead,
                    source: LeadSource::Website,
                    spam: Some(true),
                },
                "lead.created",
                json!({ "lead_id": lead, "source": "website", "spam": true }),
            ),
            (
                Change::LeadCreated {
                    tenant: tref(),
                    lead_id: lead,
                    source: LeadSource::Manual,
                    spam: None,
                },
                "lead.created",
                json!({ "lead_id": lead, "source": "manual" }),
            ),
            (
                Change::LeadUpdated {
                    tenant: tref(),
                    lead_id: lead,
                    changed: vec!["stage_id", "notes"],
                },
                "lead.updated",
                json!({ "lead_id": lead, "changed": ["stage_id", "notes"] }),
            ),
            (
                Change::SlaBreached {
                    tenant: tref(),
                    lead_id: lead,
                    deadline,
                    overdue_minutes: 120,
                },
                "sla.breached",
                json!({ "lead_id": lead, "deadline": "2026-03-01T12:00:00Z", "overdue_minutes": 120 }),
            ),
            (
                Change::TenantUpdated {
                    tenant: tref(),
                    part: TenantPart::Settings,
                },
                "tenant.updated",
                json!({ "changed": "settings" }),
            ),
            (
                Change::KeyCreated {
                    tenant: tref(),
                    prefix: key("e5_ab12"),
                },
                "key.created",
                json!({ "prefix": "e5_ab12" }),
            ),
            (
                Change::KeyRotated {
                    tenant: tref(),
                    prefix: key("e5_ab12"),
                },
                "key.rotated",
                json!({ "prefix": "e5_ab12" }),
            ),
            (
                Change::KeyRevoked {
                    tenant: tref(),
                    prefix: key("e5_ab12"),
                },
                "key.revoked",
                json!({ "prefix": "e5_ab12" }),
            ),
            (
                Change::PlatformUpdated {
                    changed: vec!["honeypot_fields"],
                },
                "platform.updated",
                json!({ "changed": ["honeypot_fields"] }),
            ),
        ];
        for (change, kind, data) in cases {
            let e = change.event(3, deadline);
            assert_eq!(e.kind, kind);
            assert_eq!(e.data, data, "{kind}");
            let expected_tenant = (kind != "platform.updated").then(tref);
            assert_eq!(e.tenant, expected_tenant, "{kind}");
            assert_eq!((e.id, e.at), (3, deadline));
        }
        for (part, s) in [
            (TenantPart::Created, "created"),
            (TenantPart::Tenant, "tenant"),
            (TenantPart::Settings, "settings"),
            (TenantPart::Stages, "stages"),
        ] {
            assert_eq!(part.as_str(), s);
        }
    }
}
