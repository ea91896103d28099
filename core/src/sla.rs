//! SLA rules: a lead is in breach while it sits in the intake stage longer than the
//! tenant's `sla_hours` after it arrived — counted in business time when the tenant has
//! business hours. Spam and duplicates carry no SLA: a duplicate does not restart the clock
//! of the lead it repeats.
//!
//! [`SlaRule`] is the one rule: the monitor, the breach lists, a lead's `in_breach`, the
//! `breached` filter, the dashboard, analytics and the console's leads table all ask it.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::business_hours::{BusinessHours, Calendar};
use crate::settings::Settings;
use crate::tenants::TenantRef;

/// When a lead created at `created_at` breaches an SLA of `sla_hours` counted in plain hours.
fn deadline(created_at: DateTime<Utc>, sla_hours: u32) -> DateTime<Utc> {
    created_at + TimeDelta::hours(sla_hours as i64)
}

/// Leads created before this instant and still waiting in intake are in breach at `now`
/// (plain hours).
fn breach_cutoff(now: DateTime<Utc>, sla_hours: u32) -> DateTime<Utc> {
    now - TimeDelta::hours(sla_hours as i64)
}

/// A tenant's SLA clock: `sla_hours` of every hour, or of business time when the tenant has
/// business hours.
#[derive(Debug, Clone, PartialEq)]
pub enum SlaRule {
    Hours(u32),
    Business { hours: u32, calendar: Calendar },
}

impl SlaRule {
    /// The rule a tenant's settings make. Stored business hours were validated when saved;
    /// ones that no longer compile (a time zone a later tz database dropped) count every hour.
    pub fn of(settings: &Settings) -> SlaRule {
        SlaRule::new(settings.sla_hours, settings.business_hours.as_ref())
    }

    /// The rule of `sla_hours` and optional business hours, as a tenant's settings hold
    /// them (the console builds it from the settings answer).
    pub fn new(hours: u32, business_hours: Option<&BusinessHours>) -> SlaRule {
        match business_hours.and_then(|b| Calendar::new(b).ok()) {
            Some(calendar) => SlaRule::Business { hours, calendar },
            None => SlaRule::Hours(hours),
        }
    }

    pub fn hours(&self) -> u32 {
        match self {
            SlaRule::Hours(h) | SlaRule::Business { hours: h, .. } => *h,
        }
    }

    /// When a lead created at `created_at` breaches: it is in breach once `now` is past it.
    pub fn deadline(&self, created_at: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            SlaRule::Hours(h) => deadline(created_at, *h),
            SlaRule::Business { hours, calendar } => {
                calendar.deadline(created_at, TimeDelta::hours(i64::from(*hours)))
            }
        }
    }

    /// Leads created before this instant and still waiting in intake are in breach at
    /// `now`: `created_at < breach_cutoff(now)` exactly when `deadline(created_at) < now`.
    pub fn breach_cutoff(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            SlaRule::Hours(h) => breach_cutoff(now, *h),
            SlaRule::Business { hours, calendar } => {
                calendar.breach_cutoff(now, TimeDelta::hours(i64::from(*hours)))
            }
        }
    }

    pub fn is_breached(&self, now: DateTime<Utc>, f: SlaFacts) -> bool {
        f.in_intake && !f.is_spam && !f.is_duplicate && self.deadline(f.created_at) < now
    }

    /// Time on the SLA clock between two instants (business time where the tenant has
    /// business hours): what minutes to first contact are measured in.
    pub fn elapsed(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> TimeDelta {
        match self {
            SlaRule::Hours(_) => to - from,
            SlaRule::Business { calendar, .. } => calendar.elapsed(from, to),
        }
    }
}

/// The facts about a lead that decide its SLA state.
#[derive(Debug, Clone, Copy)]
pub struct SlaFacts {
    pub created_at: DateTime<Utc>,
    pub in_intake: bool,
    pub is_spam: bool,
    pub is_duplicate: bool,
}

#[cfg(test)]
fn is_breached(now: DateTime<Utc>, sla_hours: u32, f: SlaFacts) -> bool {
    SlaRule::Hours(sla_hours).is_breached(now, f)
}

/// A lead in breach, as the breach lists show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Breach {
    pub lead_id: Uuid,
    pub tenant: TenantRef,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub created_at: DateTime<Utc>,
    /// When the lead breached: `created_at + sla_hours`, or `sla_hours` of business time
    /// after it where the tenant has business hours.
    pub deadline: DateTime<Utc>,
    /// Minutes past the deadline at the time of the answer.
    pub overdue_minutes: i64,
    /// The user the lead is assigned to, or `null`.
    #[serde(default)]
    pub assigned_to: Option<Uuid>,
}

/// The e-mail a tenant's manager gets when a lead breaches: (subject, body).
pub fn alert_message(
    tenant_name: &str,
    lead_name: Option<&str>,
    created_at: DateTime<Utc>,
    sla_hours: u32,
    link: &str,
) -> (String, String) {
    let who = lead_name.unwrap_or("A new lead");
    let subject =
        format!("[Echo5] SLA breach at {tenant_name}: {who} has waited over {sla_hours} h");
    let body = format!(
        "{who} contacted {tenant_name} at {} UTC and has not been contacted within the {sla_hours}-hour SLA.\n\n\
         Open the lead: {link}\n\n\
         Move the lead out of the intake stage once someone has reached out; this alert is sent once per lead.\n",
        created_at.format("%Y-%m-%d %H:%M")
    );
    (subject, body)
}

/// What a lead's first move out of intake sets: `first_contacted_at`, once.
pub fn first_contact_after_move(
    from_intake: bool,
    to_intake: bool,
    already: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    match already {
        Some(t) => Some(t),
        None if from_intake && !to_intake => Some(now),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_alert_names_the_tenant_the_lead_the_sla_and_the_link() {
        let created = DateTime::parse_from_rfc3339("2026-11-30T09:05:00Z")
            .unwrap()
            .to_utc();
        let link = "https://console.example/leads/0195";
        let (subject, body) = alert_message("Open Arms", Some("Jane Doe"), created, 8, link);
        assert_eq!(
            subject,
            "[Echo5] SLA breach at Open Arms: Jane Doe has waited over 8 h"
        );
        assert!(
            body.starts_with(
                "Jane Doe contacted Open Arms at 2026-11-30 09:05 UTC and has not been contacted within the 8-hour SLA."
            ),
            "{body}"
        );
        assert!(body.contains(&format!("Open the lead: {link}\n")), "{body}");
        assert!(body.contains("sent once per lead"), "{body}");
        let (subject, body) = alert_message("Open Arms", None, created, 24, link);
        assert!(
            subject.contains(": A new lead has waited over 24 h"),
            "{subject}"
        );
        assert!(body.starts_with("A new lead contacted Open Arms"), "{body}");
    }

    fn at(h: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_780_000_000 + h * 3600, 0).unwrap()
    }

    fn facts(created: i64) -> SlaFacts {
        SlaFacts {
            created_at: at(created),
            in_intake: true,
            is_spam: false,
            is_duplicate: false,
        }
    }

    #[test]
    fn breach_starts_after_the_deadline_and_ends_when_the_lead_moves() {
        assert!(
            !is_breached(at(24), 24, facts(0)),
            "exactly at the deadline: not yet"
        );
        assert!(is_breached(at(25), 24, facts(0)));
        assert!(
            !is_breached(at(25), 48, facts(0)),
            "a longer SLA re-evaluates"
        );
        let moved = SlaFacts {
            in_intake: false,
            ..facts(0)
        };
        assert!(!is_breached(at(100), 24, moved));
        let spam = SlaFacts {
            is_spam: true,
            ..facts(0)
        };
        assert!(!is_breached(at(100), 24, spam));
        let dup = SlaFacts {
            is_duplicate: true,
            ..facts(0)
        };
        assert!(!is_breached(at(100), 24, dup));
        assert_eq!(breach_cutoff(at(30), 24), at(6));
        assert_eq!(deadline(at(1), 4), at(5));
    }

    #[test]
    fn the_rule_counts_business_time_when_the_tenant_has_business_hours() {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().to_utc();
        let mut settings = Settings {
            sla_hours: 4,
            ..Settings::default()
        };
        let friday = t("2026-02-13T17:30:00-05:00");
        let plain = SlaRule::of(&settings);
        assert_eq!(plain, SlaRule::Hours(4));
        assert_eq!(plain.deadline(friday), t("2026-02-13T21:30:00-05:00"));
        settings.business_hours = Some(
            serde_json::from_str(
                r#"{"timezone":"America/New_York","week":{"mon":["08:00","18:00"],"tue":["08:00","18:00"],"wed":["08:00","18:00"],"thu":["08:00","18:00"],"fri":["08:00","18:00"]}}"#,
            )
            .unwrap(),
        );
        let rule = SlaRule::of(&settings);
        assert_eq!(rule.hours(), 4);
        // The contract's example: Friday 17:30 with 4 h breaches at 11:30 on Monday.
        let monday = t("2026-02-16T11:30:00-05:00");
        assert_eq!(rule.deadline(friday), monday);
        let facts = SlaFacts {
            created_at: friday,
            in_intake: true,
            is_spam: false,
            is_duplicate: false,
        };
        assert!(!rule.is_breached(monday, facts), "at the deadline: not yet");
        assert!(rule.is_breached(monday + TimeDelta::milliseconds(1), facts));
        assert!(friday < rule.breach_cutoff(monday + TimeDelta::milliseconds(1)));
        assert!(friday >= rule.breach_cutoff(monday));
        assert_eq!(rule.elapsed(friday, monday), TimeDelta::hours(4));
        assert_eq!(plain.elapsed(friday, monday), monday - friday);
    }

    #[test]
    fn first_contact_is_set_once_when_leaving_intake() {
        assert_eq!(
            first_contact_after_move(true, false, None, at(3)),
            Some(at(3))
        );
        assert_eq!(
            first_contact_after_move(true, false, Some(at(1)), at(3)),
            Some(at(1))
        );
        assert_eq!(first_contact_after_move(false, false, None, at(3)), None);
        assert_eq!(first_contact_after_move(true, true, None, at(3)), None);
        // Back to intake and out again: the first contact stays the first.
        assert_eq!(
            first_contact_after_move(true, false, Some(at(2)), at(9)),
            Some(at(2))
        );
    }
}
