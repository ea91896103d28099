//! The platform dashboard: per-tenant lead counts and SLA state.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::tenants::TenantRef;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Counts {
    /// Since midnight UTC.
    pub today: u64,
    pub last_7d: u64,
    pub last_30d: u64,
    /// In an open stage (spam excluded).
    pub open: u64,
    pub in_breach: u64,
}

impl Counts {
    pub fn add(&mut self, o: &Counts) {
        self.today += o.today;
        self.last_7d += o.last_7d;
        self.last_30d += o.last_30d;
        self.open += o.open;
        self.in_breach += o.in_breach;
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TenantDashboard {
    pub tenant: TenantRef,
    pub active: bool,
    pub sla_hours: u32,
    #[serde(flatten)]
    pub counts: Counts,
    /// Arrival time of the oldest lead still waiting in intake (spam and duplicates aside).
    pub oldest_waiting: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Dashboard {
    pub generated_at: DateTime<Utc>,
    pub tenants: Vec<TenantDashboard>,
    pub totals: Counts,
}
