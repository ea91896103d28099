//! Business hours: a tenant's weekly opening hours in its own time zone, less its holidays,
//! and the business-time arithmetic the SLA clock counts in when a tenant has them.
//!
//! Business time is real elapsed time inside the opening hours: an hour on the day the
//! clocks change is still an hour. An opening or closing time the clocks skip (spring
//! forward) falls at the change; a time that happens twice (fall back) opens at its first
//! occurrence and closes at its last. Holidays are whole local days closed.
//!
//! The arithmetic walks day by day, and jumps a whole week at a time (taking off the week's
//! nominal open time) whenever the coming week holds no holiday and no clock change — so a
//! 720-hour SLA over 10 open hours a day costs about a dozen jumps, not ninety days.

use chrono::{
    DateTime, Datelike, LocalResult, NaiveDate, NaiveTime, Offset, TimeDelta, TimeZone, Utc,
};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::str::FromStr;

use crate::error::DomainError;

/// The most holidays a tenant lists.
pub const HOLIDAYS_MAX: usize = 500;

const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 86_400_000;
const WEEK_MS: i64 = 7 * DAY_MS;

/// The `business_hours` tenant setting, as a request gives it and an answer shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BusinessHours {
    /// IANA time zone name, e.g. `Europe/London`, `America/New_York`.
    pub timezone: String,
    /// Opening hours per weekday in local time; a day left out (or `null`) is closed.
    pub week: Week,
    /// Whole days closed (`YYYY-MM-DD`, local dates); kept sorted, each once.
    #[serde(default)]
    pub holidays: Vec<String>,
}

/// `["HH:MM", "HH:MM"]` per open weekday: opening and closing time, the closing one after
/// the opening one (`"24:00"` closes at midnight).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Week {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mon: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tue: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wed: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thu: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fri: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sat: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sun: Option<Vec<String>>,
}

impl Week {
    /// Monday first.
    fn days(&self) -> [&Option<Vec<String>>; 7] {
        [
            &self.mon, &self.tue, &self.wed, &self.thu, &self.fri, &self.sat, &self.sun,
        ]
    }
}

/// `HH:MM` as minutes after midnight; `24:00` only where `end` allows it.
fn minutes(field: &str, v: &str, end: bool) -> Result<u32, DomainError> {
    let bad = || {
        DomainError::invalid(
            field,
            "invalid_time",
            format!(
                "{field} must be a time of day as HH:MM (00:00 to 23:59{}), not {v:?}",
                if end { ", or 24:00" } else { "" }
            ),
        )
    };
    let b = v.as_bytes();
    if b.len() != 5 || b[2] != b':' || ![0, 1, 3, 4].iter().all(|&i| b[i].is_ascii_digit()) {
        return Err(bad());
    }
    let h = u32::from(b[0] - b'0') * 10 + u32::from(b[1] - b'0');
    let m = u32::from(b[3] - b'0') * 10 + u32::from(b[4] - b'0');
    if m > 59 || h > 24 || (h == 24 && (m != 0 || !end)) {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

/// Business hours checked and compiled for arithmetic.
#[derive(Debug, Clone, PartialEq)]
pub struct Calendar {
    tz: Tz,
    /// Monday first: (open, close) in minutes after local midnight.
    days: [Option<(u32, u32)>; 7],
    /// Sorted, each once.
    holidays: Vec<NaiveDate>,
    /// Open time of a week without holidays or clock changes.
    week_ms: i64,
}

/// `business_hours` checked: a known IANA zone, HH:MM pairs with the end after the start,
/// at least one open day, real dates. Returns it normalised (holidays sorted, each once).
/// `field` prefixes the field each error names (`business_hours.week.mon`).
pub fn validate(field: &str, bh: &BusinessHours) -> Result<BusinessHours, DomainError> {
    let cal = Calendar::compile(field, bh)?;
    Ok(BusinessHours {
        timezone: bh.timezone.clone(),
        week: bh.week.clone(),
        holidays: cal
            .holidays
            .iter()
            .map(|d| d.format("%Y-%m-%d").to_string())
            .collect(),
    })
}

impl Calendar {
    /// Compiles business hours that [`validate`] accepts.
    pub fn new(bh: &BusinessHours) -> Result<Calendar, DomainError> {
        Calendar::compile("business_hours", bh)
    }

    fn compile(field: &str, bh: &BusinessHours) -> Result<Calendar, DomainError> {
        let tz = Tz::from_str(bh.timezone.trim()).map_err(|_| {
            DomainError::invalid(
                format!("{field}.timezone"),
                "unknown_time_zone",
                format!(
                    "{field}.timezone must be an IANA time zone name such as Europe/London or \
                     America/New_York, not {:?}",
                    bh.timezone
                ),
            )
        })?;
        let mut days = [None; 7];
        for (i, day) in bh.week.days().into_iter().enumerate() {
            let Some(pair) = day else { continue };
            let f = format!("{field}.week.{}", DAY_NAMES[i]);
            let [open, close] = pair.as_slice() else {
                return Err(DomainError::invalid(
                    &f,
                    "invalid_hours",
                    format!("{f} must be [\"HH:MM\", \"HH:MM\"]: opening and closing time"),
                ));
            };
            let o = minutes(&format!("{f}[0]"), open, false)?;
            let c = minutes(&format!("{f}[1]"), close, true)?;
            if c <= o {
                return Err(DomainError::invalid(
                    &f,
                    "end_before_start",
                    format!("{f} closes at {close}, not after it opens at {open}"),
                ));
            }
            days[i] = Some((o, c));
        }
        let week_ms: i64 = days
            .iter()
            .flatten()
            .map(|(o, c)| i64::from(c - o) * MINUTE_MS)
            .sum();
        if week_ms == 0 {
            return Err(DomainError::invalid(
                format!("{field}.week"),
                "no_open_hours",
                format!(
                    "{field}.week must open on at least one day; clear business_hours (null) \
                     for an SLA that counts every hour"
                ),
            ));
        }
        if bh.holidays.len() > HOLIDAYS_MAX {
            return Err(DomainError::invalid(
                format!("{field}.holidays"),
                "too_many",
                format!("{field}.holidays holds at most {HOLIDAYS_MAX} dates"),
            ));
        }
        let mut holidays = Vec::with_capacity(bh.holidays.len());
        for (i, h) in bh.holidays.iter().enumerate() {
            let d = (h.len() == 10)
                .then(|| NaiveDate::parse_from_str(h, "%Y-%m-%d").ok())
                .flatten()
                .ok_or_else(|| {
                    DomainError::invalid(
                        format!("{field}.holidays[{i}]"),
                        "invalid_date",
                        format!("{field}.holidays[{i}] must be a date as YYYY-MM-DD, not {h:?}"),
                    )
                })?;
            holidays.push(d);
        }
        holidays.sort_unstable();
        holidays.dedup();
        Ok(Calendar {
            tz,
            days,
            holidays,
            week_ms,
        })
    }

    /// When `business` of business time after `start` has passed: the earliest instant by
    /// which it has (a deadline that uses up a day's hours exactly is that day's closing).
    pub fn deadline(&self, start: DateTime<Utc>, business: TimeDelta) -> DateTime<Utc> {
        from_ms(self.add_ms(start.timestamp_millis(), business.num_milliseconds()))
    }

    /// Business time between `from` and `to` (zero when `to` is not after `from`).
    pub fn elapsed(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> TimeDelta {
        TimeDelta::milliseconds(self.elapsed_ms(from.timestamp_millis(), to.timestamp_millis()))
    }

    /// The earliest instant `c` whose deadline (`business` after it) is not before `now`:
    /// `deadline(c, business) < now` exactly when `c < breach_cutoff(now, business)`, to the
    /// millisecond. Deadlines never go down as `c` goes up, so the leads in breach are a
    /// prefix of the leads by arrival, and one cutoff per tenant finds them in an index.
    pub fn breach_cutoff(&self, now: DateTime<Utc>, business: TimeDelta) -> DateTime<Utc> {
        let now = now.timestamp_millis();
        let dur = business.num_milliseconds();
        if dur <= 0 {
            return from_ms(now);
        }
        let (first, last) = self.back_ms(now, dur);
        // Business time running up to `now`: the deadline must fall before it, so the lead's
        // clock must have started strictly before `first`. Closed just before `now`: a
        // deadline reached at the last closing counts as passed, so `last` is in breach too.
        from_ms(if self.open_just_before(now) {
            first
        } else {
            last + 1
        })
    }

    fn local_date(&self, ms: i64) -> NaiveDate {
        self.tz
            .from_utc_datetime(&from_ms(ms).naive_utc())
            .date_naive()
    }

    fn offset_ms(&self, ms: i64) -> i64 {
        i64::from(
            self.tz
                .offset_from_utc_datetime(&from_ms(ms).naive_utc())
                .fix()
                .local_minus_utc(),
        ) * 1000
    }

    /// The instant local `date` at `minute` after midnight (1440 is the next midnight):
    /// the earliest of a time that happens twice unless `latest`; a skipped time falls at
    /// the change.
    fn instant(&self, date: NaiveDate, minute: u32, latest: bool) -> i64 {
        let (date, minute) = if minute >= 1440 {
            (date.succ_opt().unwrap_or(date), minute - 1440)
        } else {
            (date, minute)
        };
        let time = NaiveTime::from_hms_opt(minute / 60, minute % 60, 0).unwrap_or(NaiveTime::MIN);
        let naive = date.and_time(time);
        match self.tz.from_local_datetime(&naive) {
            LocalResult::Single(t) => t.timestamp_millis(),
            LocalResult::Ambiguous(a, b) => {
                let (a, b) = (a.timestamp_millis(), b.timestamp_millis());
                if latest { a.max(b) } else { a.min(b) }
            }
            LocalResult::None => self.gap_end(naive.and_utc().timestamp_millis()),
        }
    }

    /// The first instant whose local time is at or after `wall` (a local time the clocks
    /// skipped, as if it were UTC): the moment of the change.
    fn gap_end(&self, wall: i64) -> i64 {
        let before = self.offset_ms(wall - DAY_MS);
        let after = self.offset_ms(wall + DAY_MS);
        let (mut lo, mut hi) = (wall - before.max(after), wall - before.min(after));
        let reached = |t: i64| t + self.offset_ms(t) >= wall;
        if !reached(hi) {
            return hi;
        }
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if reached(mid) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        hi
    }

    fn is_holiday(&self, d: NaiveDate) -> bool {
        self.holidays.binary_search(&d).is_ok()
    }

    /// Whether a holiday falls in `[from, to)`.
    fn holiday_in(&self, from: NaiveDate, to: NaiveDate) -> bool {
        let i = self.holidays.partition_point(|h| *h < from);
        self.holidays.get(i).is_some_and(|h| *h < to)
    }

    /// Local date `d`'s open interval as instants, if it opens.
    fn open_on(&self, d: NaiveDate) -> Option<(i64, i64)> {
        let (o, c) = self.days[d.weekday().num_days_from_monday() as usize]?;
        if self.is_holiday(d) {
            return None;
        }
        // A closing time the clocks pass twice closes the first time round: once the clock
        // reads it, the day is over. Only a closing at 24:00 is the later midnight: where
        // the clocks go back at midnight, the hour they repeat still reads as this day.
        let (o, c) = (self.instant(d, o, false), self.instant(d, c, c >= 1440));
        (o < c).then_some((o, c))
    }

    /// The local midnight starting `d`, if the seven days from it are a plain week: no
    /// holiday, no clock change (exactly seven days long, the same offset at both ends).
    fn plain_week(&self, d: NaiveDate, midnight: i64) -> Option<(NaiveDate, i64)> {
        let next = d.checked_add_days(chrono::Days::new(7))?;
        if self.holiday_in(d, next) {
            return None;
        }
        let end = self.instant(next, 0, false);
        (end - midnight == WEEK_MS && self.offset_ms(end) == self.offset_ms(midnight))
            .then_some((next, end))
    }

    fn add_ms(&self, start: i64, dur: i64) -> i64 {
        if dur <= 0 {
            return start;
        }
        let (mut rem, mut cur) = (dur, start);
        let start_day = self.local_date(start);
        // From the day before: on a day the clocks go back at midnight, its closing can fall
        // after the next local midnight.
        let mut d = start_day.pred_opt().unwrap_or(start_day);
        loop {
            if rem > self.week_ms && d > start_day {
                let mut midnight = self.instant(d, 0, false);
                if cur <= midnight {
                    while rem > self.week_ms {
                        let Some((next, end)) = self.plain_week(d, midnight) else {
                            break;
                        };
                        rem -= self.week_ms;
                        (d, midnight, cur) = (next, end, end);
                    }
                }
            }
            if let Some((o, c)) = self.open_on(d) {
                let s = o.max(cur);
                if s < c {
                    if rem <= c - s {
                        return s + rem;
                    }
                    rem -= c - s;
                    cur = c;
                }
            }
            let Some(n) = d.succ_opt() else { return cur };
            d = n;
        }
    }

    fn elapsed_ms(&self, from: i64, to: i64) -> i64 {
        if to <= from {
            return 0;
        }
        let (mut total, mut cur) = (0, from);
        let (first_day, last_day) = (self.local_date(from), self.local_date(to));
        let mut d = first_day.pred_opt().unwrap_or(first_day);
        let last = last_day.succ_opt().unwrap_or(last_day);
        while d <= last {
            if d > first_day {
                let mut midnight = self.instant(d, 0, false);
                if cur <= midnight {
                    while let Some((next, end)) = self.plain_week(d, midnight) {
                        if end > to {
                            break;
                        }
                        total += self.week_ms;
                        (d, midnight, cur) = (next, end, end);
                    }
                }
            }
            if let Some((o, c)) = self.open_on(d) {
                let (s, e) = (o.max(cur), c.min(to));
                if s < e {
                    total += e - s;
                    cur = e;
                }
            }
            let Some(n) = d.succ_opt() else { break };
            d = n;
        }
        total
    }

    /// Walks `dur` of business time back from `now`: the instants where the business clock
    /// reads `dur` less than at `now`, earliest and latest (they differ when that reading
    /// is held over a closed stretch: then the latest is an opening, the earliest the
    /// closing before it).
    fn back_ms(&self, now: i64, dur: i64) -> (i64, i64) {
        let (mut rem, mut cur) = (dur, now);
        let now_day = self.local_date(now);
        let mut d = now_day.succ_opt().unwrap_or(now_day);
        loop {
            if rem > self.week_ms && d < now_day {
                // At the end of day `d` (nothing of it used yet): jump back over the plain
                // weeks that end there.
                while rem > self.week_ms {
                    let Some(start) = d.checked_sub_days(chrono::Days::new(6)) else {
                        break;
                    };
                    let midnight = self.instant(start, 0, false);
                    let Some((_, end)) = self.plain_week(start, midnight) else {
                        break;
                    };
                    if end > cur {
                        break;
                    }
                    rem -= self.week_ms;
                    cur = midnight;
                    let Some(p) = start.pred_opt() else { break };
                    d = p;
                }
            }
            if let Some((o, c)) = self.open_on(d) {
                let e = c.min(cur);
                if o < e {
                    if rem < e - o {
                        let x = e - rem;
                        return (x, x);
                    }
                    if rem == e - o {
                        return (self.closing_before(d, o), o);
                    }
                    rem -= e - o;
                    cur = o;
                }
            }
            let Some(p) = d.pred_opt() else {
                return (cur, cur);
            };
            d = p;
        }
    }

    /// The end of the business time before the opening `o` of day `d`: the closing that
    /// starts the closed stretch ending at `o` (`o` itself when there is none between).
    fn closing_before(&self, d: NaiveDate, o: i64) -> i64 {
        let mut day = d;
        for _ in 0..(HOLIDAYS_MAX + 14) {
            let Some(p) = day.pred_opt() else { break };
            day = p;
            if let Some((o2, c2)) = self.open_on(day)
                && o2 < o
            {
                return c2.min(o);
            }
        }
        o
    }

    /// Whether business time runs right up to `now`: some open interval has
    /// `open < now <= close`.
    fn open_just_before(&self, now: i64) -> bool {
        let d = self.local_date(now);
        [d.pred_opt(), Some(d), d.succ_opt()]
            .into_iter()
            .flatten()
            .any(|d| self.open_on(d).is_some_and(|(o, c)| o < now && now <= c))
    }
}

fn from_ms(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hours(tz: &str, week: &[(&str, &str, &str)], holidays: &[&str]) -> BusinessHours {
        let mut w = Week::default();
        for (day, o, c) in week {
            let v = Some(vec![o.to_string(), c.to_string()]);
            match *day {
                "mon" => w.mon = v,
                "tue" => w.tue = v,
                "wed" => w.wed = v,
                "thu" => w.thu = v,
                "fri" => w.fri = v,
                "sat" => w.sat = v,
                _ => w.sun = v,
            }
        }
        BusinessHours {
            timezone: tz.into(),
            week: w,
            holidays: holidays.iter().map(|h| h.to_string()).collect(),
        }
    }

    const WEEKDAYS: [&str; 5] = ["mon", "tue", "wed", "thu", "fri"];
    const ALL_DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

    fn weekdays(tz: &str, o: &'static str, c: &'static str, holidays: &[&str]) -> Calendar {
        let week: Vec<_> = WEEKDAYS.iter().map(|d| (*d, o, c)).collect();
        Calendar::new(&hours(tz, &week, holidays)).unwrap()
    }

    fn every_day(tz: &str, o: &'static str, c: &'static str) -> Calendar {
        let week: Vec<_> = ALL_DAYS.iter().map(|d| (*d, o, c)).collect();
        Calendar::new(&hours(tz, &week, &[])).unwrap()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    /// The business clock by brute force: every minute whose local time is inside its
    /// day's hours (holidays closed) counts.
    fn open_minute(cal: &Calendar, m: i64) -> bool {
        let local = cal
            .tz
            .from_utc_datetime(&from_ms(m).naive_utc())
            .naive_local();
        let d = local.date();
        let Some((o, c)) = cal.days[d.weekday().num_days_from_monday() as usize] else {
            return false;
        };
        let minute = local
            .time()
            .signed_duration_since(NaiveTime::MIN)
            .num_minutes() as u32;
        !cal.is_holiday(d) && o <= minute && minute < c
    }

    fn brute_deadline(cal: &Calendar, start: i64, dur_min: i64) -> i64 {
        let (mut m, mut left) = (start, dur_min);
        loop {
            if open_minute(cal, m) {
                left -= 1;
                if left == 0 {
                    return m + MINUTE_MS;
                }
            }
            m += MINUTE_MS;
        }
    }

    /// Deadline, elapsed and cutoff agree with each other on one case.
    fn check_agreement(cal: &Calendar, start: DateTime<Utc>, business: TimeDelta) {
        let d = cal.deadline(start, business);
        assert_eq!(cal.elapsed(start, d), business, "elapsed to the deadline");
        for now in [
            d - TimeDelta::minutes(1),
            d,
            d + TimeDelta::milliseconds(1),
            d + TimeDelta::hours(30),
        ] {
            let cut = cal.breach_cutoff(now, business);
            let one = TimeDelta::milliseconds(1);
            assert!(
                cal.deadline(cut - one, business) < now,
                "just before the cutoff {cut} is in breach at {now}"
            );
            assert!(
                cal.deadline(cut, business) >= now,
                "the cutoff {cut} itself is not in breach at {now}"
            );
            assert_eq!(cal.deadline(start, business) < now, start < cut);
        }
    }

    #[test]
    fn deadlines_count_business_time_only() {
        let ny = weekdays("America/New_York", "08:00", "18:00", &["2026-07-03"]);
        let h = TimeDelta::hours;
        // (case, start, SLA, deadline)
        let table = [
            // The contract's example: Friday 17:30, 4 h, breaches Monday 11:30 (EST, -5).
            (
                "friday evening",
                "2026-02-13T17:30:00-05:00",
                h(4),
                "2026-02-16T11:30:00-05:00",
            ),
            (
                "overnight",
                "2026-02-10T20:00:00-05:00",
                h(4),
                "2026-02-11T12:00:00-05:00",
            ),
            (
                "before opening",
                "2026-02-10T06:15:00-05:00",
                h(4),
                "2026-02-10T12:00:00-05:00",
            ),
            (
                "saturday",
                "2026-02-14T10:00:00-05:00",
                h(4),
                "2026-02-16T12:00:00-05:00",
            ),
            (
                "used up at closing",
                "2026-02-10T14:00:00-05:00",
                h(4),
                "2026-02-10T18:00:00-05:00",
            ),
            // Friday 3 July is a holiday: Thursday 17:00 + 4 h is Monday 11:00.
            (
                "holiday",
                "2026-07-02T17:00:00-04:00",
                h(4),
                "2026-07-06T11:00:00-04:00",
            ),
            // Over the spring change (Sunday 8 March): Friday in EST, Monday in EDT.
            (
                "spring forward",
                "2026-03-06T17:30:00-05:00",
                h(4),
                "2026-03-09T11:30:00-04:00",
            ),
            // Over the autumn change (Sunday 1 November).
            (
                "fall back",
                "2026-10-30T17:30:00-04:00",
                h(4),
                "2026-11-02T11:30:00-05:00",
            ),
            // 720 h = 14 weeks of 50 h + 20 h, over the March change.
            (
                "720 h",
                "2026-01-05T08:00:00-05:00",
                h(720),
                "2026-04-14T18:00:00-04:00",
            ),
        ];
        for (case, start, sla, want) in table {
            let got = ny.deadline(utc(start), sla);
            assert_eq!(got, utc(want), "{case}");
            check_agreement(&ny, utc(start), sla);
        }
        assert_eq!(
            ny.elapsed(
                utc("2026-02-13T17:30:00-05:00"),
                utc("2026-02-16T11:30:00-05:00")
            ),
            h(4)
        );
    }

    #[test]
    fn clock_changes_in_both_directions_count_real_hours() {
        let ny = every_day("America/New_York", "00:00", "24:00");
        let h = TimeDelta::hours;
        // Sunday 8 March has 23 hours: 24 h after Saturday noon is Sunday 13:00.
        assert_eq!(
            ny.deadline(utc("2026-03-07T12:00:00-05:00"), h(24)),
            utc("2026-03-08T13:00:00-04:00")
        );
        // Sunday 1 November has 25 hours: 24 h after Saturday noon is Sunday 11:00.
        assert_eq!(
            ny.deadline(utc("2026-10-31T12:00:00-04:00"), h(24)),
            utc("2026-11-01T11:00:00-05:00")
        );
        assert_eq!(
            ny.elapsed(
                utc("2026-10-31T00:00:00-04:00"),
                utc("2026-11-02T00:00:00-05:00")
            ),
            h(49)
        );
        for start in ["2026-03-07T12:00:00-05:00", "2026-10-31T12:00:00-04:00"] {
            check_agreement(&ny, utc(start), h(24));
            check_agreement(&ny, utc(start), h(200));
        }
        // An opening time the clocks skip opens at the change; one they repeat opens the
        // first time round.
        let gap = Calendar::new(&hours(
            "America/New_York",
            &[("sun", "02:30", "04:00")],
            &[],
        ))
        .unwrap();
        assert_eq!(
            gap.elapsed(
                utc("2026-03-08T00:00:00-05:00"),
                utc("2026-03-09T00:00:00-04:00")
            ),
            h(1)
        );
        let twice = Calendar::new(&hours(
            "America/New_York",
            &[("sun", "01:30", "03:00")],
            &[],
        ))
        .unwrap();
        assert_eq!(
            twice.elapsed(
                utc("2026-11-01T00:00:00-04:00"),
                utc("2026-11-02T00:00:00-05:00")
            ),
            TimeDelta::minutes(150)
        );
    }

    #[test]
    fn breach_cutoff_matches_the_deadline_at_the_boundaries() {
        let ny = weekdays("America/New_York", "08:00", "18:00", &["2026-07-03"]);
        let h = TimeDelta::hours;
        // Saturday morning: a lead whose 4 h ran out at Friday's closing is in breach; one
        // that arrived a millisecond later (its 4 h end on Monday) is not.
        let now = utc("2026-02-14T10:00:00-05:00");
        let cut = ny.breach_cutoff(now, h(4));
        assert_eq!(cut, utc("2026-02-13T14:00:00.001-05:00"));
        // At Monday 09:00 with Friday's closing still behind: 1 h on Monday, 3 h on Friday.
        let now = utc("2026-02-16T09:00:00-05:00");
        assert_eq!(
            ny.breach_cutoff(now, h(4)),
            utc("2026-02-13T15:00:00-05:00")
        );
        // Monday 08:00 exactly, 10 h: the reading held over the weekend ends at Friday's
        // opening, and the clock has been stopped since Friday 18:00.
        let now = utc("2026-02-16T08:00:00-05:00");
        assert_eq!(
            ny.breach_cutoff(now, h(10)),
            utc("2026-02-13T08:00:00.001-05:00")
        );
        for now in [
            "2026-02-14T10:00:00-05:00",
            "2026-02-16T08:00:00-05:00",
            "2026-02-16T08:00:00.001-05:00",
            "2026-02-13T18:00:00-05:00",
            "2026-07-06T09:00:00-04:00",
            "2026-04-20T12:00:00-04:00",
        ] {
            for sla in [1, 4, 10, 50, 720] {
                let cut = ny.breach_cutoff(utc(now), h(sla));
                let one = TimeDelta::milliseconds(1);
                assert!(ny.deadline(cut - one, h(sla)) < utc(now), "{now} {sla}");
                assert!(ny.deadline(cut, h(sla)) >= utc(now), "{now} {sla}");
            }
        }
    }

    #[test]
    fn the_720_hour_sla_matches_minute_by_minute_counting() {
        let ny = weekdays(
            "America/New_York",
            "08:00",
            "18:00",
            &["2026-02-16", "2026-05-25"],
        );
        let start = utc("2026-01-09T13:17:00-05:00");
        let want = brute_deadline(&ny, start.timestamp_millis(), 720 * 60);
        assert_eq!(
            ny.deadline(start, TimeDelta::hours(720)).timestamp_millis(),
            want
        );
        check_agreement(&ny, start, TimeDelta::hours(720));
    }

    #[test]
    fn validation_names_the_field_at_fault() {
        let ok = hours(
            "Europe/London",
            &[("mon", "08:00", "18:00")],
            &["2026-12-25", "2026-01-01", "2026-12-25"],
        );
        let v = validate("business_hours", &ok).unwrap();
        assert_eq!(
            v.holidays,
            ["2026-01-01", "2026-12-25"],
            "sorted, each once"
        );
        let midnight = hours("UTC", &[("sat", "00:00", "24:00")], &[]);
        assert!(validate("business_hours", &midnight).is_ok());
        let cases = [
            (
                hours("Mars/Olympus", &[("mon", "08:00", "18:00")], &[]),
                "business_hours.timezone",
                "unknown_time_zone",
            ),
            (
                hours("UTC", &[("mon", "08:00", "25:00")], &[]),
                "business_hours.week.mon[1]",
                "invalid_time",
            ),
            (
                hours("UTC", &[("tue", "24:00", "24:00")], &[]),
                "business_hours.week.tue[0]",
                "invalid_time",
            ),
            (
                hours("UTC", &[("wed", "8:00", "18:00")], &[]),
                "business_hours.week.wed[0]",
                "invalid_time",
            ),
            (
                hours("UTC", &[("thu", "08:00", "24:30")], &[]),
                "business_hours.week.thu[1]",
                "invalid_time",
            ),
            (
                hours("UTC", &[("fri", "18:00", "08:00")], &[]),
                "business_hours.week.fri",
                "end_before_start",
            ),
            (
                hours("UTC", &[("sat", "09:00", "09:00")], &[]),
                "business_hours.week.sat",
                "end_before_start",
            ),
            (
                hours("UTC", &[], &[]),
                "business_hours.week",
                "no_open_hours",
            ),
            (
                hours("UTC", &[("mon", "08:00", "18:00")], &["2026-02-30"]),
                "business_hours.holidays[0]",
                "invalid_date",
            ),
            (
                hours(
                    "UTC",
                    &[("mon", "08:00", "18:00")],
                    &["2026-01-01", "26-1-1"],
                ),
                "business_hours.holidays[1]",
                "invalid_date",
            ),
        ];
        for (bh, field, code) in cases {
            match validate("business_hours", &bh) {
                Err(DomainError::Invalid {
                    field: f, code: c, ..
                }) => {
                    assert_eq!((f.as_str(), c), (field, code), "{bh:?}")
                }
                other => panic!("{bh:?}: {other:?}"),
            }
        }
        let mut one = hours("UTC", &[], &[]);
        one.week.sun = Some(vec!["08:00".into()]);
        assert!(matches!(
            validate("business_hours", &one),
            Err(DomainError::Invalid {
                code: "invalid_hours",
                ..
            })
        ));
        let mut many = hours("UTC", &[("mon", "08:00", "18:00")], &[]);
        many.holidays = vec!["2026-01-01".into(); HOLIDAYS_MAX + 1];
        assert!(validate("business_hours", &many).is_err());
        let unknown: Result<BusinessHours, _> =
            serde_json::from_str(r#"{"timezone":"UTC","week":{"monday":["08:00","18:00"]}}"#);
        assert!(unknown.is_err(), "an unknown day name is refused");
    }

    /// Santiago goes back from 24:00 to 23:00: a Saturday closing at 23:00 closes the
    /// first time the clock reads it (found by the property test below).
    #[test]
    fn a_closing_time_the_clocks_pass_twice_closes_the_first_time() {
        let bh = BusinessHours {
            timezone: "America/Santiago".into(),
            week: Week {
                sat: Some(vec!["17:30".into(), "23:00".into()]),
                ..Default::default()
            },
            holidays: vec![],
        };
        let cal = Calendar::new(&bh).unwrap();
        let start = utc("2026-01-01T00:00:00Z");
        for h in [70, 78, 90] {
            let want = brute_deadline(&cal, start.timestamp_millis(), h * 60);
            assert_eq!(
                cal.deadline(start, TimeDelta::hours(h)).timestamp_millis(),
                want,
                "{h} h"
            );
            check_agreement(&cal, start, TimeDelta::hours(h));
        }
    }

    const ZONES: [&str; 5] = [
        "America/New_York",
        "Europe/London",
        "Australia/Lord_Howe",
        "Asia/Kolkata",
        "America/Santiago",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        /// Random zones, hours and holidays: the deadline is the minute-by-minute one, and
        /// elapsed time and the breach cutoff agree with it.
        #[test]
        fn arithmetic_matches_brute_force(
            zone in 0usize..ZONES.len(),
            open in proptest::collection::vec(proptest::option::of((12u32..40, 1u32..30)), 7),
            holidays in proptest::collection::vec(0u32..400, 0..12),
            start_min in 0i64..(400 * 24 * 60),
            sla_h in 1i64..200,
        ) {
            let mut week = Week::default();
            let mut any = false;
            let slots: [&mut Option<Vec<String>>; 7] = [
                &mut week.mon, &mut week.tue, &mut week.wed, &mut week.thu,
                &mut week.fri, &mut week.sat, &mut week.sun,
            ];
            for (slot, day) in slots.into_iter().zip(&open) {
                if let Some((o, len)) = day {
                    // Half hours from 06:00; closing at most 24:00, and never strictly
                    // inside 23:00-24:00: where the clocks go back at midnight (Santiago)
                    // that hour happens twice, and a closing inside it opens the day twice
                    // (a second span the one-interval-per-day model does not keep).
                    let c = (o * 30 + len * 30).min(1440);
                    let c = if c > 1380 && c < 1440 { 1380 } else { c };
                    let o = o * 30;
                    let f = |m: u32| format!("{:02}:{:02}", m / 60, m % 60);
                    *slot = Some(vec![f(o), f(c)]);
                    any = true;
                }
            }
            prop_assume!(any);
            let base = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
            let bh = BusinessHours {
                timezone: ZONES[zone].into(),
                week,
                holidays: holidays
                    .iter()
                    .map(|d| (base + chrono::Days::new(u64::from(*d))).format("%Y-%m-%d").to_string())
                    .collect(),
            };
            let cal = Calendar::new(&bh).unwrap();
            let start = utc("2026-01-01T00:00:00Z") + TimeDelta::minutes(start_min);
            let sla = TimeDelta::hours(sla_h);
            let want = brute_deadline(&cal, start.timestamp_millis(), sla_h * 60);
            prop_assert_eq!(cal.deadline(start, sla).timestamp_millis(), want);
            check_agreement(&cal, start, sla);
        }
    }
}
