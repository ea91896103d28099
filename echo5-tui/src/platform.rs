//! Wire types of the platform-administration endpoints (issue 8) as the console reads them:
//! platform settings, every tenant's leads, usage per month, and the daemon's log lines.
//!
//! They follow the agreed JSON contract. They live here rather than in `echo5-core` while
//! the daemon side is being written beside them; once core carries the same types, these
//! become re-exports (see docs/decisions.md, "Console"). Reading is lenient where a newer
//! daemon may add to a shape (unknown fields are ignored), strict where the console relies
//! on a value.

use chrono::{DateTime, Datelike, Utc};
use echo5_core::lead::Lead;
use echo5_core::stage::StageKind;
use echo5_core::tenant::TenantRef;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One stage of the pipeline new tenants start with (no id: it is a template).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DefaultStage {
    pub name: String,
    pub kind: StageKind,
}

/// `GET /api/v1/platform/settings`: defaults applied to tenants created afterwards, and
/// who runs the platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlatformSettings {
    pub default_stages: Vec<DefaultStage>,
    pub default_sla_hours: u32,
    pub default_spam_keywords: Vec<String>,
    pub honeypot_fields: Vec<String>,
    pub default_grace_hours: u32,
    #[serde(default)]
    pub operator_name: Option<String>,
    #[serde(default)]
    pub operator_email: Option<String>,
}

/// The body of `PATCH /api/v1/platform/settings`: only the field that changed is present;
/// `operator_name`/`operator_email` as `null` clear them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PlatformPatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_stages: Option<Vec<DefaultStage>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_sla_hours: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_spam_keywords: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub honeypot_fields: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_grace_hours: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operator_name: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operator_email: Option<Option<String>>,
}

/// A row of `GET /api/v1/leads`: the same lead row as a tenant's listing, plus its tenant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TenantLead {
    #[serde(flatten)]
    pub lead: Lead,
    pub tenant: TenantRef,
}

/// Counters shared by the totals, a tenant's row and a key's row.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageCounts {
    #[serde(default)]
    pub accepted: u64,
    #[serde(default)]
    pub spam: u64,
    #[serde(default)]
    pub duplicates: u64,
    #[serde(default)]
    pub rejected: u64,
    #[serde(default)]
    pub api_calls: u64,
    #[serde(default)]
    pub storage_bytes: u64,
}

/// One API key's share of a tenant's month. Keys deleted since (or requests with no valid
/// key) come with `key_id: null`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyUsage {
    #[serde(default)]
    pub key_id: Option<Uuid>,
    #[serde(default)]
    pub prefix: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub accepted: u64,
    #[serde(default)]
    pub spam: u64,
    #[serde(default)]
    pub duplicates: u64,
    #[serde(default)]
    pub rejected: u64,
    #[serde(default)]
    pub api_calls: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantUsage {
    pub tenant: TenantRef,
    #[serde(flatten)]
    pub counts: UsageCounts,
    #[serde(default)]
    pub last_lead_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub active: bool,
    #[serde(default)]
    pub keys: Vec<KeyUsage>,
}

/// `GET /api/v1/usage?month=YYYY-MM`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub month: String,
    pub active_tenants: u64,
    pub totals: UsageCounts,
    pub tenants: Vec<TenantUsage>,
}

/// One daemon log line, from `GET /api/v1/system/logs` or the live stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    pub seq: u64,
    pub time: DateTime<Utc>,
    pub level: String,
    #[serde(default)]
    pub target: String,
    pub message: String,
}

impl LogLine {
    pub fn level(&self) -> LogLevel {
        LogLevel::parse(&self.level).unwrap_or(LogLevel::Info)
    }
}

/// `{"data": [...]}` of the log history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogPage {
    pub data: Vec<LogLine>,
}

/// tracing's levels, least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

impl LogLevel {
    pub fn parse(s: &str) -> Option<LogLevel> {
        Some(match s.trim().to_ascii_uppercase().as_str() {
            "TRACE" => LogLevel::Trace,
            "DEBUG" => LogLevel::Debug,
            "INFO" => LogLevel::Info,
            "WARN" | "WARNING" => LogLevel::Warn,
            "ERROR" => LogLevel::Error,
            _ => return None,
        })
    }

    /// The query value (`?level=warn`): the least severe level wanted.
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Trace => "trace",
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        }
    }
}

/// A calendar month, as the usage endpoint names it (`2026-11`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct YearMonth {
    pub year: i32,
    /// 1..=12
    pub month: u32,
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

impl YearMonth {
    pub fn of(t: DateTime<Utc>) -> YearMonth {
        YearMonth {
            year: t.year(),
            month: t.month(),
        }
    }

    pub fn prev(self) -> YearMonth {
        if self.month <= 1 {
            YearMonth {
                year: self.year - 1,
                month: 12,
            }
        } else {
            YearMonth {
                year: self.year,
                month: self.month - 1,
            }
        }
    }

    pub fn next(self) -> YearMonth {
        if self.month >= 12 {
            YearMonth {
                year: self.year + 1,
                month: 1,
            }
        } else {
            YearMonth {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    /// `2026-11`, the query value.
    pub fn param(self) -> String {
        format!("{:04}-{:02}", self.year, self.month)
    }

    /// `November 2026`.
    pub fn label(self) -> String {
        let name = MONTHS
            .get(self.month.saturating_sub(1) as usize)
            .copied()
            .unwrap_or("?");
        format!("{name} {}", self.year)
    }
}

/// `12.3 MiB`: binary units, one decimal from KiB up.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = UNITS[0];
    for u in &UNITS[1..] {
        if v < 1024.0 {
            break;
        }
        v /= 1024.0;
        unit = u;
    }
    format!("{v:.1} {unit}")
}

/// `12,345`: thousands separated, for counters an operator compares at a glance.
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn months_wrap_over_years() {
        let jan = YearMonth {
            year: 2026,
            month: 1,
        };
        assert_eq!(
            jan.prev(),
            YearMonth {
                year: 2025,
                month: 12
            }
        );
        assert_eq!(jan.prev().next(), jan);
        assert_eq!(jan.prev().param(), "2025-12");
        assert_eq!(jan.label(), "January 2026");
    }

    #[test]
    fn bytes_and_counts_read_well() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(5 * 1024 * 1024 * 1024), "5.0 GiB");
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1234567), "1,234,567");
    }

    #[test]
    fn contract_shapes_parse() {
        let usage = json!({
            "month": "2026-11", "active_tenants": 1,
            "totals": {"accepted": 3, "spam": 1, "duplicates": 0, "rejected": 2, "api_calls": 9, "storage_bytes": 4096},
            "tenants": [{
                "tenant": {"id": "00000000-0000-0000-0000-000000001001", "slug": "open-arms", "name": "Open Arms"},
                "accepted": 3, "spam": 1, "duplicates": 0, "rejected": 2, "api_calls": 9, "storage_bytes": 4096,
                "last_lead_at": null, "active": true,
                "keys": [{"key_id": null, "prefix": null, "name": null, "accepted": 0, "spam": 0, "duplicates": 0, "rejected": 2, "api_calls": 2}]
            }]
        });
        let u: Usage = serde_json::from_value(usage).expect("usage parses");
        assert_eq!(u.tenants[0].counts.storage_bytes, 4096);
        assert_eq!(u.tenants[0].keys[0].rejected, 2);
        let line: LogLine = serde_json::from_value(json!({
            "seq": 7, "time": "2026-03-02T09:30:00Z", "level": "WARN", "target": "echo5d::monitor", "message": "smtp down"
        }))
        .expect("log line parses");
        assert_eq!(line.level(), LogLevel::Warn);
        let p = PlatformPatch {
            operator_name: Some(None),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(p).ok(),
            Some(json!({"operator_name": null}))
        );
    }
}
