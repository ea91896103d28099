//! The daemon's own recent log lines as the API shows them, and the scrubbing that keeps
//! secrets out of them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::DomainError;

/// One line of the daemon's log as `GET /api/v1/system/logs` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LogLine {
    /// Increases by one per line captured since the daemon started.
    pub seq: u64,
    pub time: DateTime<Utc>,
    /// `ERROR`, `WARN`, `INFO`, `DEBUG` or `TRACE`.
    pub level: String,
    /// The module that wrote it, e.g. `echo5d::app`.
    pub target: String,
    /// The message with its fields (and its request's route) as `key=value`; anything that
    /// looks like a key or token is replaced by `[redacted]`.
    pub message: String,
}

/// `GET /api/v1/system/logs`: matching lines, oldest first (newest last, like `tail`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LogPage {
    pub data: Vec<LogLine>,
    /// The newest line's `seq` (0 when none): pass it as `since` to poll for what follows.
    pub latest_seq: u64,
}

/// Severity, least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

impl LogLevel {
    /// `trace`..`error`, any case (`warning` too).
    pub fn parse(s: &str) -> Option<LogLevel> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "trace" => LogLevel::Trace,
            "debug" => LogLevel::Debug,
            "info" => LogLevel::Info,
            "warn" | "warning" => LogLevel::Warn,
            "error" => LogLevel::Error,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Trace => "TRACE",
            LogLevel::Debug => "DEBUG",
            LogLevel::Info => "INFO",
            LogLevel::Warn => "WARN",
            LogLevel::Error => "ERROR",
        }
    }
}

/// Where a log listing starts: after a line number, or after a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogSince {
    Seq(u64),
    Time(DateTime<Utc>),
}

impl LogSince {
    /// A line number (digits) or an RFC 3339 time / `YYYY-MM-DD` date.
    pub fn parse(s: &str) -> Result<LogSince, DomainError> {
        let s = s.trim();
        if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
            return s.parse().map(LogSince::Seq).map_err(|_| {
                DomainError::invalid("since", "invalid_value", "since is too large a line number")
            });
        }
        crate::leads::parse_time("since", s).map(LogSince::Time)
    }

    pub fn admits(self, line: &LogLine) -> bool {
        match self {
            LogSince::Seq(n) => line.seq > n,
            LogSince::Time(t) => line.time > t,
        }
    }
}

pub const LOG_LIMIT_DEFAULT: u32 = 200;
pub const LOG_LIMIT_MAX: u32 = 1000;

/// Replaces anything in a log line that looks like a secret: API keys (`e5_` + base62),
/// admin tokens (`e5a_` + base62), the token after `Bearer`, and any run of 32 or more
/// letters and digits (a key without its prefix, a hex master key). Display prefixes
/// (`e5_` + 5 characters) and UUIDs stay readable.
pub fn scrub_secrets(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    // Whether the previous character continues a word (letters, digits, `_`).
    let mut in_word = false;
    let word_byte = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    while let Some(c) = rest.chars().next() {
        if !in_word {
            let b = rest.as_bytes();
            if b.len() > 7 && b[..7].eq_ignore_ascii_case(b"bearer ") {
                let token = rest[7..]
                    .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | ','))
                    .unwrap_or(rest.len() - 7);
                if token > 0 {
                    out.push_str(&rest[..7]);
                    out.push_str(REDACTED);
                    rest = &rest[7 + token..];
                    continue;
                }
            }
            if word_byte(b[0]) {
                let len = b.iter().take_while(|b| word_byte(**b)).count();
                out.push_str(&scrub_word(&rest[..len]));
                rest = &rest[len..];
                in_word = true;
                continue;
            }
        }
        out.push(c);
        in_word = c.is_ascii() && word_byte(c as u8);
        rest = &rest[c.len_utf8()..];
    }
    out
}

const REDACTED: &str = "[redacted]";

fn scrub_word(w: &str) -> std::borrow::Cow<'_, str> {
    for prefix in ["e5a_", "e5_"] {
        if let Some(body) = w.strip_prefix(prefix)
            && body.len() >= 12
        {
            return format!("{prefix}{REDACTED}").into();
        }
    }
    let mut run = 0;
    for b in w.bytes() {
        run = if b.is_ascii_alphanumeric() {
            run + 1
        } else {
            0
        };
        if run >= 32 {
            return REDACTED.into();
        }
    }
    w.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_filters() {
        assert!(LogLevel::parse("WARN").unwrap() > LogLevel::Info);
        assert_eq!(LogLevel::parse("loud"), None);
        assert_eq!(LogSince::parse("42").unwrap(), LogSince::Seq(42));
        assert!(matches!(
            LogSince::parse("2026-11-01T00:00:00Z").unwrap(),
            LogSince::Time(_)
        ));
        assert!(LogSince::parse("yesterday").is_err());
        assert!(LogSince::parse("99999999999999999999999").is_err());
    }

    #[test]
    fn scrubbing_hides_keys_and_tokens_but_keeps_prefixes() {
        let key = "e5_Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z";
        let admin = "e5a_0123456789abcdefghijABCDEFGHIJ0123456789";
        let line = format!(
            "refused key={key} auth=\"Bearer sometoken.with-dots\" admin {admin} raw 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 prefix e5_Ab3dE lead 0195f3a4-1111-7000-8000-000000000000"
        );
        let s = scrub_secrets(&line);
        assert!(!s.contains(&key[3..]), "{s}");
        assert!(!s.contains(&admin[4..]), "{s}");
        assert!(!s.contains("sometoken"), "{s}");
        assert!(!s.contains("9f86d081884c7d65"), "{s}");
        assert!(s.contains("key=e5_[redacted]"), "{s}");
        assert!(s.contains("Bearer [redacted]"), "{s}");
        assert!(s.contains("prefix e5_Ab3dE "), "{s}");
        assert!(s.contains("0195f3a4-1111-7000-8000-000000000000"), "{s}");
        assert_eq!(scrub_secrets("plain ünïcode line"), "plain ünïcode line");
        // A key glued to other text is still found.
        assert!(!scrub_secrets(&format!("/api/v1/ingest/{key}")).contains(&key[3..]));
    }
}
