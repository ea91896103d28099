//! Live events (`GET /api/v1/events`, Server-Sent Events): what changed, for the console.
//!
//! A write returns what it changed as typed [`Change`]s next to its value ([`Changed`]); the
//! daemon publishes them in one place, and only there does a change become the wire
//! [`Event`] (`kind` string, `tenant`, `data` JSON).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::authorization::Reach;
use crate::leads::LeadSource;
use crate::tenants::TenantRef;

/// What an event is about; its `kind` on the wire is [`EventKind::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    LeadCreated,
    LeadUpdated,
    /// A lead was erased (`DELETE /api/v1/leads/{id}`).
    LeadDeleted,
    SlaBreached,
    TenantUpdated,
    KeyCreated,
    KeyRotated,
    KeyRevoked,
    /// The platform settings changed (`data.changed` names the fields).
    PlatformUpdated,
}

impl EventKind {
    pub const ALL: [EventKind; 9] = [
        EventKind::LeadCreated,
        EventKind::LeadUpdated,
        EventKind::LeadDeleted,
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
            EventKind::LeadDeleted => "lead.deleted",
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
        /// Who the lead is assigned to (not on the wire: what [`Change::visible_to`] reads).
        assigned_to: Option<Uuid>,
    },
    LeadUpdated {
        tenant: TenantRef,
        lead_id: Uuid,
        changed: Vec<&'static str>,
        /// Who the lead is assigned to after the change.
        assigned_to: Option<Uuid>,
        /// Who it was assigned to before (the same unless `assigned_to` changed): a manager
        /// who just lost a lead hears of it too.
        was_assigned_to: Option<Uuid>,
    },
    LeadDeleted {
        tenant: TenantRef,
        lead_id: Uuid,
        /// Who the lead was assigned to.
        assigned_to: Option<Uuid>,
    },
    SlaBreached {
        tenant: TenantRef,
        lead_id: Uuid,
        deadline: DateTime<Utc>,
        overdue_minutes: i64,
        assigned_to: Option<Uuid>,
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
            Change::LeadDeleted { .. } => EventKind::LeadDeleted,
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
            | Change::LeadDeleted { tenant, .. }
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
            Change::LeadDeleted { lead_id, .. } => json!({ "lead_id": lead_id }),
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

    /// Whether a principal who reaches `reach` of their tenant's leads sees this change: a
    /// lead's change when the lead is within reach (for an update, also when it was until
    /// this change, so a manager hears that a lead left them). Changes that are not about a
    /// lead (tenant, keys, platform) are not narrowed by reach; which tenant's changes a
    /// principal sees at all is the authorization rule's.
    pub fn visible_to(&self, reach: Reach) -> bool {
        match self {
            Change::LeadCreated { assigned_to, .. }
            | Change::LeadDeleted { assigned_to, .. }
            | Change::SlaBreached { assigned_to, .. } => reach.covers(*assigned_to),
            Change::LeadUpdated {
                assigned_to,
                was_assigned_to,
                ..
            } => reach.covers(*assigned_to) || reach.covers(*was_assigned_to),
            Change::TenantUpdated { .. }
            | Change::KeyCreated { .. }
            | Change::KeyRotated { .. }
            | Change::KeyRevoked { .. }
            | Change::PlatformUpdated { .. } => true,
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
    /// `lead.created`, `lead.updated`, `lead.deleted`, `sla.breached`, `tenant.updated`, `key.created`,
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
        assert_eq!(EventKind::parse("lead.erased"), None);
        assert_eq!(
            EventKind::ALL.map(EventKind::as_str),
            [
                "lead.created",
                "lead.updated",
                "lead.deleted",
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
                    assigned_to: Some(Uuid::from_u128(9)),
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
                    assigned_to: None,
                },
                "lead.created",
                json!({ "lead_id": lead, "source": "manual" }),
            ),
            (
                Change::LeadUpdated {
                    tenant: tref(),
                    lead_id: lead,
                    changed: vec!["stage_id", "notes"],
                    assigned_to: None,
                    was_assigned_to: None,
                },
                "lead.updated",
                json!({ "lead_id": lead, "changed": ["stage_id", "notes"] }),
            ),
            (
                Change::LeadDeleted {
                    tenant: tref(),
                    lead_id: lead,
                    assigned_to: Some(Uuid::from_u128(9)),
                },
                "lead.deleted",
                json!({ "lead_id": lead }),
            ),
            (
                Change::SlaBreached {
                    tenant: tref(),
                    lead_id: lead,
                    deadline,
                    overdue_minutes: 120,
                    assigned_to: None,
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

    #[test]
    fn a_reach_sees_the_lead_changes_of_its_leads_only() {
        let me = Uuid::from_u128(1);
        let other = Uuid::from_u128(2);
        let lead = Uuid::from_u128(7);
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
        let created = |a| Change::LeadCreated {
            tenant: tref(),
            lead_id: lead,
            source: LeadSource::Website,
            spam: Some(false),
            assigned_to: a,
        };
        let updated = |a, was| Change::LeadUpdated {
            tenant: tref(),
            lead_id: lead,
            changed: vec!["assigned_to"],
            assigned_to: a,
            was_assigned_to: was,
        };
        let deleted = |a| Change::LeadDeleted {
            tenant: tref(),
            lead_id: lead,
            assigned_to: a,
        };
        let breached = |a| Change::SlaBreached {
            tenant: tref(),
            lead_id: lead,
            deadline: at,
            overdue_minutes: 5,
            assigned_to: a,
        };
        let not_lead = [
            Change::TenantUpdated {
                tenant: tref(),
                part: TenantPart::Settings,
            },
            Change::KeyCreated {
                tenant: tref(),
                prefix: "e5_ab12".into(),
            },
            Change::KeyRotated {
                tenant: tref(),
                prefix: "e5_ab12".into(),
            },
            Change::KeyRevoked {
                tenant: tref(),
                prefix: "e5_ab12".into(),
            },
            Change::PlatformUpdated { changed: vec![] },
        ];
        let mine = Reach::AssignedTo(me);
        // (change, visible to the manager `me`, visible to Reach::All)
        let mut cases = vec![
            (created(Some(me)), true),
            (created(Some(other)), false),
            (created(None), false),
            (updated(Some(me), Some(me)), true),
            (updated(Some(other), Some(other)), false),
            (updated(None, None), false),
            // Given to me, or taken from me: both concern me.
            (updated(Some(me), Some(other)), true),
            (updated(Some(other), Some(me)), true),
            (updated(None, Some(me)), true),
            (updated(Some(me), None), true),
            (deleted(Some(me)), true),
            (deleted(Some(other)), false),
            (deleted(None), false),
            (breached(Some(me)), true),
            (breached(Some(other)), false),
            (breached(None), false),
        ];
        cases.extend(not_lead.into_iter().map(|c| (c, true)));
        for (change, for_me) in cases {
            assert_eq!(change.visible_to(mine), for_me, "{change:?}");
            assert!(change.visible_to(Reach::All), "{change:?}");
        }
    }
}
