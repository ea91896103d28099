//! The platform-administration shapes as the console uses them. The wire types
//! are `echo5_core::platform`'s, the same ones the daemon serialises, re-exported here; what
//! stays in this module is client-side only: how the console reads a log line's level, steps
//! the usage month and prints numbers.

pub use {
    echo5_core::leads::LeadWithTenant,
    echo5_core::logs::{LogLevel, LogLine, LogPage},
    echo5_core::platform_settings::{PlatformSettings, PlatformSettingsPatch, StageTemplate},
    echo5_core::usage::{KeyUsage, Month, TenantUsage, UsageReport, UsageTotals},
};

/// A line's level for colouring and the client-side filter; a level the console does not
/// know reads as `Info` (the line is still shown). Core keeps `level` a string on the wire.
pub fn line_level(line: &LogLine) -> LogLevel {
    LogLevel::parse(&line.level).unwrap_or(LogLevel::Info)
}

/// The `?level=` value: core's parser takes any case, the console has always sent lower case.
pub fn level_param(level: LogLevel) -> String {
    level.as_str().to_ascii_lowercase()
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

/// The usage screen's month picker on core's [`Month`] (whose `Display` is the `2026-11`
/// query value): stepping across years and the heading's name.
pub trait MonthNav {
    fn prev(self) -> Month;
    fn next(self) -> Month;
    /// `November 2026`.
    fn label(self) -> String;
}

impl MonthNav for Month {
    fn prev(self) -> Month {
        if self.month <= 1 {
            Month {
                year: self.year - 1,
                month: 12,
            }
        } else {
            Month {
                year: self.year,
                month: self.month - 1,
            }
        }
    }

    fn next(self) -> Month {
        if self.month >= 12 {
            Month {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Month {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    fn label(self) -> String {
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
        let jan = Month {
            year: 2026,
            month: 1,
        };
        assert_eq!(
            jan.prev(),
            Month {
                year: 2025,
                month: 12
            }
        );
        assert_eq!(jan.prev().next(), jan);
        assert_eq!(jan.prev().to_string(), "2025-12");
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
        let u: UsageReport = serde_json::from_value(usage).expect("usage parses");
        assert_eq!(u.tenants[0].storage_bytes, 4096);
        assert_eq!(u.tenants[0].keys[0].rejected, 2);
        let line: LogLine = serde_json::from_value(json!({
            "seq": 7, "time": "2026-03-02T09:30:00Z", "level": "WARN", "target": "echo5d::monitor", "message": "smtp down"
        }))
        .expect("log line parses");
        assert_eq!(line_level(&line), LogLevel::Warn);
        assert_eq!(level_param(line_level(&line)), "warn");
        let odd = LogLine {
            level: "NOTICE".into(),
            ..line
        };
        assert_eq!(line_level(&odd), LogLevel::Info);
        let p = PlatformSettingsPatch {
            operator_name: Some(None),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(p).ok(),
            Some(json!({"operator_name": null}))
        );
    }
}
