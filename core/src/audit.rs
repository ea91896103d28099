//! The audit log: who changed what, for which tenant, when.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::tenants::TenantRef;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// `admin:<token id>` for the admin API, `system` for the daemon itself.
    pub actor: String,
    /// Dotted verb, e.g. `tenant.created`, `stage.deleted`, `settings.updated`.
    pub action: String,
    /// The tenant as it was named when the action happened (kept after a tenant is deleted).
    pub tenant: Option<TenantRef>,
    /// The id of the object acted on, when it is not the tenant itself.
    pub target: Option<String>,
    /// What changed. Never holds a secret value: secrets appear as `"[changed]"`/`"[cleared]"`.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub details: serde_json::Value,
}

/// An audit row about to be written.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    pub actor: String,
    pub action: &'static str,
    pub tenant: Option<TenantRef>,
    pub target: Option<String>,
    pub details: serde_json::Value,
}
