//! The outbox's delivery rules: the retry schedule every outbox message follows, and how a
//! receiver's `Retry-After` moves the next attempt.

use chrono::{DateTime, TimeDelta, Utc};

/// The default schedule, in seconds after the previous attempt: immediately, 5 s, 5 min,
/// 30 min, 2 h, 5 h, 10 h, 10 h (Svix's).
pub const DEFAULT_SCHEDULE: &str = "0,5,300,1800,7200,18000,36000,36000";

/// Longest wait a schedule step may ask for.
pub const MAX_STEP_SECS: u64 = 7 * 86_400;

/// Longest `Retry-After` honoured: a receiver asking for more is tried again after a day
/// (a mistaken or hostile header must not park a message for months).
pub const MAX_RETRY_AFTER_SECS: i64 = 86_400;

/// Most attempts a schedule may have.
pub const MAX_ATTEMPTS: usize = 50;

/// Days the delivery log and finished tasks are kept by default (`--outbox-keep-days`):
/// a month of "what did we send them?" beside the 27.5 h a message's schedule lasts.
pub const DEFAULT_KEEP_DAYS: u32 = 30;

/// How long an endpoint may fail every attempt before it is disabled.
pub const FAILING_DISABLE_AFTER: TimeDelta = TimeDelta::days(5);

/// Waits before each attempt: entry `i` is the wait before attempt `i + 1`, counted from the
/// attempt before it (the first from the message). Its length is the number of attempts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule(Vec<u64>);

impl Default for RetrySchedule {
    fn default() -> Self {
        RetrySchedule::parse(DEFAULT_SCHEDULE).expect("the default schedule parses")
    }
}

impl RetrySchedule {
    /// `0,5,300,…`: seconds, comma-separated, at least one and at most [`MAX_ATTEMPTS`].
    pub fn parse(text: &str) -> Result<RetrySchedule, String> {
        let steps = text
            .split(',')
            .map(|s| {
                let s = s.trim();
                let n: u64 = s
                    .parse()
                    .map_err(|_| format!("{s:?} is not a whole number of seconds"))?;
                if n > MAX_STEP_SECS {
                    return Err(format!("{n} s is more than a week ({MAX_STEP_SECS} s)"));
                }
                Ok(n)
            })
            .collect::<Result<Vec<_>, _>>()?;
        if steps.len() > MAX_ATTEMPTS {
            return Err(format!("more than {MAX_ATTEMPTS} attempts"));
        }
        Ok(RetrySchedule(steps))
    }

    pub fn attempts(&self) -> usize {
        self.0.len()
    }

    /// When the attempt after `made` failed ones is due, the last of them at `last`; `None`
    /// when the schedule is spent. `retry_after` (from a 429 or 503) is a floor, capped at
    /// [`MAX_RETRY_AFTER_SECS`]; it never adds an attempt.
    pub fn next_attempt(
        &self,
        made: usize,
        last: DateTime<Utc>,
        retry_after: Option<TimeDelta>,
    ) -> Option<DateTime<Utc>> {
        let step = *self.0.get(made)?;
        let wait = TimeDelta::seconds(step as i64);
        let floor = retry_after
            .map(|r| r.clamp(TimeDelta::zero(), TimeDelta::seconds(MAX_RETRY_AFTER_SECS)))
            .unwrap_or_default();
        Some(last + wait.max(floor))
    }
}

/// A `Retry-After` header's wait: delay-seconds or an HTTP date (RFC 9110), judged at `now`.
/// A date in the past is no wait; anything unreadable is ignored.
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<TimeDelta> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(TimeDelta::seconds(secs.min(i64::MAX as u64 / 1000) as i64));
    }
    let at = DateTime::parse_from_rfc2822(v).ok()?.with_timezone(&Utc);
    Some((at - now).max(TimeDelta::zero()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_780_000_000 + s, 0).unwrap()
    }

    #[test]
    fn the_default_schedule_is_svix_s() {
        let s = RetrySchedule::default();
        assert_eq!(s.attempts(), 8);
        assert_eq!(s.next_attempt(0, t(0), None), Some(t(0)));
        assert_eq!(s.next_attempt(1, t(0), None), Some(t(5)));
        assert_eq!(s.next_attempt(2, t(5), None), Some(t(305)));
        assert_eq!(s.next_attempt(3, t(0), None), Some(t(1800)));
        assert_eq!(s.next_attempt(7, t(0), None), Some(t(36000)));
        assert_eq!(s.next_attempt(8, t(0), None), None);
    }

    #[test]
    fn bad_schedules_are_refused() {
        assert!(RetrySchedule::parse("0,5,x").is_err());
        assert!(RetrySchedule::parse("").is_err());
        assert!(RetrySchedule::parse("-1").is_err());
        assert!(RetrySchedule::parse("999999999").is_err());
        assert!(RetrySchedule::parse(&vec!["1"; 51].join(",")).is_err());
        assert_eq!(RetrySchedule::parse(" 0, 1 ").unwrap().attempts(), 2);
    }

    #[test]
    fn retry_after_is_a_capped_floor() {
        let s = RetrySchedule::default();
        // Longer than the step: it wins.
        assert_eq!(
            s.next_attempt(1, t(0), Some(TimeDelta::seconds(60))),
            Some(t(60))
        );
        // Shorter: the schedule wins.
        assert_eq!(
            s.next_attempt(2, t(0), Some(TimeDelta::seconds(60))),
            Some(t(300))
        );
        // Capped at a day.
        assert_eq!(
            s.next_attempt(1, t(0), Some(TimeDelta::days(400))),
            Some(t(86_400))
        );
        // Never past the schedule's end.
        assert_eq!(s.next_attempt(8, t(0), Some(TimeDelta::seconds(1))), None);
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = t(0);
        assert_eq!(parse_retry_after("120", now), Some(TimeDelta::seconds(120)));
        let date = (now + TimeDelta::seconds(90)).to_rfc2822();
        assert_eq!(parse_retry_after(&date, now), Some(TimeDelta::seconds(90)));
        let past = (now - TimeDelta::seconds(90)).to_rfc2822();
        assert_eq!(parse_retry_after(&past, now), Some(TimeDelta::zero()));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
    }
}
