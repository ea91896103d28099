//! Live events (`GET /api/v1/events`, Server-Sent Events): what changed, for the console.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::tenants::TenantRef;

pub const LEAD_CREATED: &str = "lead.created";
pub const LEAD_UPDATED: &str = "lead.updated";
pub const SLA_BREACHED: &str = "sla.breached";
pub const TENANT_UPDATED: &str = "tenant.updated";
pub const KEY_CREATED: &str = "key.created";
pub const KEY_ROTATED: &str = "key.rotated";
pub const KEY_REVOKED: &str = "key.revoked";
/// The platform settings changed (`data.changed` names the fields).
pub const PLATFORM_UPDATED: &str = "platform.updated";

/// One event. `id` increases by one per event; a client resumes with `Last-Event-ID`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Event {
    pub id: u64,
    /// `lead.created`, `lead.updated`, `sla.breached`, `tenant.updated`, `key.created`,
    /// `key.rotated`, `key.revoked`.
    pub kind: String,
    pub at: DateTime<Utc>,
    pub tenant: Option<TenantRef>,
    /// The object concerned (a lead id, a key's prefix...). Never personal data or secrets.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub data: serde_json::Value,
}
