//! Numbers as an operator reads them at a glance.

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

/// A price in its currency's minor unit, as `1,049.00 EUR`.
pub fn money(cents: u64, currency: &str) -> String {
    format!("{}.{:02} {currency}", grouped(cents / 100), cents % 100)
}

/// A limit as a count, `—` for none.
pub fn limit(l: Option<u64>) -> String {
    l.map_or_else(|| "—".into(), grouped)
}

/// A rate as a whole percentage, `—` when there is none.
pub fn percent(r: Option<f64>) -> String {
    r.map_or_else(|| "—".into(), |r| format!("{:.0}%", r * 100.0))
}

/// Minutes in the largest unit that reads well: `45m`, `3.5h`, `2.1d`; `—` for none.
pub fn minutes(m: Option<f64>) -> String {
    match m {
        None => "—".into(),
        Some(m) if m < 60.0 => format!("{m:.0}m"),
        Some(m) if m < 60.0 * 48.0 => format!("{:.1}h", m / 60.0),
        Some(m) => format!("{:.1}d", m / 1440.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_minutes_read_well() {
        assert_eq!(percent(Some(0.184)), "18%");
        assert_eq!(percent(None), "—");
        assert_eq!(minutes(Some(42.0)), "42m");
        assert_eq!(minutes(Some(84.0)), "1.4h");
        assert_eq!(minutes(Some(3024.0)), "2.1d");
        assert_eq!(minutes(None), "—");
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
        assert_eq!(money(104_905, "EUR"), "1,049.05 EUR");
        assert_eq!(money(7, "USD"), "0.07 USD");
        assert_eq!(limit(Some(2500)), "2,500");
        assert_eq!(limit(None), "—");
    }
}
