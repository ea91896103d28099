//! Usage metering: leads, keys and storage per tenant per calendar month (UTC).

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::tenants::TenantRef;

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
    /// The tenant's plan, its limits and what it uses of each now (leads: this month's),
    /// and its price (the platform's monthly revenue from it); `null` without a plan.
    #[serde(default)]
    pub plan: Option<crate::plans::PlanUse>,
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
    /// The platform's monthly revenue: the plan prices of every tenant on a plan, per
    /// currency.
    #[serde(default)]
    pub revenue: Vec<crate::plans::Revenue>,
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
            revenue: crate::plans::revenue(tenants.iter().filter_map(|t| t.plan.as_ref())),
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
