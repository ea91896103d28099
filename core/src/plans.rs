//! Plans: what a tenant pays and the limits that come with it, and the pure rules over a
//! tenant's use (is a lead over its plan, may one more user/key/webhook be created, which
//! notice thresholds a count crossed, where the retention window starts).
//!
//! A limit of `null` is no limit. Leads are never refused for a plan: past
//! `leads_per_month` they are stored flagged `over_plan`. Users, API keys and webhooks are
//! hard limits: the N+1th is refused with 402 `plan_limit_reached`.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::DomainError;
use crate::patch::{double_option, not_null};
use crate::validate;

/// The most a count limit may be (a guard against typos, not a business rule).
pub const LIMIT_MAX: u64 = 1_000_000_000;
/// The longest retention window: 100 years.
pub const RETENTION_DAYS_MAX: u32 = 36_500;
/// The highest monthly price, in cents (10 million in the plan's currency).
pub const PRICE_CENTS_MAX: u64 = 1_000_000_000;

/// A plan's limits; `None` (JSON `null` or left out) is no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PlanLimits {
    /// Leads a month (UTC) before leads are flagged `over_plan` (soft: never refused).
    #[serde(default)]
    pub leads_per_month: Option<u64>,
    /// Users of the tenant (hard).
    #[serde(default)]
    pub users: Option<u64>,
    /// Live API keys of the tenant (hard).
    #[serde(default)]
    pub api_keys: Option<u64>,
    /// Webhook endpoints of the tenant (hard).
    #[serde(default)]
    pub webhooks: Option<u64>,
    /// Leads older than this many days are erased by the nightly retention job.
    #[serde(default)]
    pub retention_days: Option<u32>,
}

/// A plan as every answer shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Plan {
    pub id: Uuid,
    pub name: String,
    /// The monthly price, in the currency's minor unit.
    pub price_cents: u64,
    /// ISO 4217 code, upper case (`EUR`).
    pub currency: String,
    pub limits: PlanLimits,
    pub created_at: DateTime<Utc>,
    /// Tenants on this plan.
    #[serde(default)]
    pub tenants: u64,
}

/// A plan's own fields after validation, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanFields {
    pub name: String,
    pub price_cents: u64,
    pub currency: String,
    pub limits: PlanLimits,
}

/// `POST /api/v1/platform/plans`
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewPlan {
    pub name: String,
    #[serde(default)]
    pub price_cents: u64,
    /// Default `EUR`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(default)]
    pub limits: PlanLimits,
}

/// `PATCH …/plans/{id}`: any subset; inside `limits`, a limit left out is kept and `null`
/// removes it. `null` for `name`, `price_cents`, `currency` or `limits` itself is refused
/// (400 naming the field): none of them can be cleared, and reading it as "left out" would
/// answer 200 for a change that was not made.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PlanPatch {
    #[serde(
        default,
        deserialize_with = "not_null",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub name: Option<String>,
    #[serde(
        default,
        deserialize_with = "not_null",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub price_cents: Option<u64>,
    #[serde(
        default,
        deserialize_with = "not_null",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub currency: Option<String>,
    #[serde(
        default,
        deserialize_with = "not_null",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub limits: Option<LimitsPatch>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LimitsPatch {
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<u64>, nullable = true))]
    pub leads_per_month: Option<Option<u64>>,
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<u64>, nullable = true))]
    pub users: Option<Option<u64>>,
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<u64>, nullable = true))]
    pub api_keys: Option<Option<u64>>,
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<u64>, nullable = true))]
    pub webhooks: Option<Option<u64>>,
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<u32>, nullable = true))]
    pub retention_days: Option<Option<u32>>,
}

fn count_limit(field: &str, v: Option<u64>) -> Result<Option<u64>, DomainError> {
    match v {
        Some(n) if n > LIMIT_MAX => Err(DomainError::invalid(
            format!("limits.{field}"),
            "invalid_limit",
            format!("{field} is at most {LIMIT_MAX}, or null for no limit"),
        )),
        v => Ok(v),
    }
}

fn retention(v: Option<u32>) -> Result<Option<u32>, DomainError> {
    match v {
        Some(d) if d == 0 || d > RETENTION_DAYS_MAX => Err(DomainError::invalid(
            "limits.retention_days",
            "invalid_limit",
            format!("retention_days is 1..={RETENTION_DAYS_MAX}, or null to keep leads forever"),
        )),
        v => Ok(v),
    }
}

/// The limits as stored: each in range.
pub fn validate_limits(l: &PlanLimits) -> Result<PlanLimits, DomainError> {
    Ok(PlanLimits {
        leads_per_month: count_limit("leads_per_month", l.leads_per_month)?,
        users: count_limit("users", l.users)?,
        api_keys: count_limit("api_keys", l.api_keys)?,
        webhooks: count_limit("webhooks", l.webhooks)?,
        retention_days: retention(l.retention_days)?,
    })
}

fn currency(v: &str) -> Result<String, DomainError> {
    let c = v.trim().to_ascii_uppercase();
    if c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(c)
    } else {
        Err(DomainError::invalid(
            "currency",
            "invalid_currency",
            "currency is a three-letter ISO 4217 code, e.g. EUR",
        ))
    }
}

fn price(v: u64) -> Result<u64, DomainError> {
    if v > PRICE_CENTS_MAX {
        return Err(DomainError::invalid(
            "price_cents",
            "invalid_price",
            format!("price_cents is 0..={PRICE_CENTS_MAX}"),
        ));
    }
    Ok(v)
}

pub fn validate_new(p: &NewPlan) -> Result<PlanFields, DomainError> {
    Ok(PlanFields {
        name: validate::text("name", &p.name, validate::NAME_MAX_CHARS)?,
        price_cents: price(p.price_cents)?,
        currency: currency(p.currency.as_deref().unwrap_or("EUR"))?,
        limits: validate_limits(&p.limits)?,
    })
}

pub fn apply_patch(cur: &PlanFields, p: &PlanPatch) -> Result<PlanFields, DomainError> {
    let mut out = cur.clone();
    if let Some(n) = &p.name {
        out.name = validate::text("name", n, validate::NAME_MAX_CHARS)?;
    }
    if let Some(v) = p.price_cents {
        out.price_cents = price(v)?;
    }
    if let Some(c) = &p.currency {
        out.currency = currency(c)?;
    }
    if let Some(l) = &p.limits {
        let set = |patch: Option<Option<u64>>, cur: Option<u64>| patch.unwrap_or(cur);
        let next = PlanLimits {
            leads_per_month: set(l.leads_per_month, out.limits.leads_per_month),
            users: set(l.users, out.limits.users),
            api_keys: set(l.api_keys, out.limits.api_keys),
            webhooks: set(l.webhooks, out.limits.webhooks),
            retention_days: l.retention_days.unwrap_or(out.limits.retention_days),
        };
        out.limits = validate_limits(&next)?;
    }
    Ok(out)
}

/// The hard limits: creating one more past the limit is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HardLimit {
    Users,
    ApiKeys,
    Webhooks,
}

impl HardLimit {
    /// The limit's name in `limits` and in the 402 body.
    pub fn as_str(self) -> &'static str {
        match self {
            HardLimit::Users => "users",
            HardLimit::ApiKeys => "api_keys",
            HardLimit::Webhooks => "webhooks",
        }
    }

    pub fn of(self, l: &PlanLimits) -> Option<u64> {
        match self {
            HardLimit::Users => l.users,
            HardLimit::ApiKeys => l.api_keys,
            HardLimit::Webhooks => l.webhooks,
        }
    }
}

/// Whether one more can be created when `used` exist and the plan allows `limit`: the Nth
/// is allowed, the N+1th is 402 `plan_limit_reached` naming the limit, its value and the use.
pub fn check_create(which: HardLimit, used: u64, limit: Option<u64>) -> Result<(), DomainError> {
    match limit {
        Some(max) if used >= max => Err(DomainError::PlanLimit {
            limit: which.as_str(),
            value: max,
            used,
        }),
        _ => Ok(()),
    }
}

/// Whether a lead is over its tenant's plan, given the leads already counted this month
/// (before it) and the plan's `leads_per_month`: the limit's Nth lead is inside, the
/// N+1th over.
pub fn lead_over_plan(month_count_before: u64, limit: Option<u64>) -> bool {
    limit.is_some_and(|l| month_count_before >= l)
}

/// The share of `leads_per_month` at which the owner and the tenant's admins are told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Threshold {
    Eighty,
    Hundred,
}

impl Threshold {
    pub const ALL: [Threshold; 2] = [Threshold::Eighty, Threshold::Hundred];

    pub fn percent(self) -> u32 {
        match self {
            Threshold::Eighty => 80,
            Threshold::Hundred => 100,
        }
    }

    pub fn from_percent(p: u32) -> Option<Threshold> {
        Threshold::ALL.into_iter().find(|t| t.percent() == p)
    }

    /// The count at which the threshold is reached: the smallest whole count at or above
    /// the share of `limit` (at least 1, so a limit of 0 is reached by the first lead).
    pub fn count(self, limit: u64) -> u64 {
        let share = (u128::from(limit) * u128::from(self.percent())).div_ceil(100);
        u64::try_from(share).unwrap_or(u64::MAX).max(1)
    }
}

/// The thresholds a count moving from `before` to `after` reached in passing (each at most
/// once for a month: the caller records which it has sent).
pub fn thresholds_crossed(before: u64, after: u64, limit: Option<u64>) -> Vec<Threshold> {
    let Some(limit) = limit else {
        return Vec::new();
    };
    Threshold::ALL
        .into_iter()
        .filter(|t| {
            let at = t.count(limit);
            before < at && at <= after
        })
        .collect()
}

/// The thresholds a count has reached (whether it just crossed them or was already past
/// them, as when the limit was lowered below the month's use or a plan came to a tenant
/// past it): what the month's notices should have said by now. The caller records each
/// once per month, so asking again is harmless.
pub fn thresholds_reached(count: u64, limit: Option<u64>) -> Vec<Threshold> {
    let Some(limit) = limit else {
        return Vec::new();
    };
    Threshold::ALL
        .into_iter()
        .filter(|t| t.count(limit) <= count)
        .collect()
}

/// The subject and text of a notice that `name` (`slug`) reached `threshold` of its
/// `limit` leads in `month` with `used`.
pub fn notice_mail(
    name: &str,
    slug: &str,
    month: &str,
    threshold: Threshold,
    used: u64,
    limit: u64,
) -> (String, String) {
    let subject = match threshold {
        Threshold::Eighty => format!("{name}: 80 % of this month's leads used"),
        Threshold::Hundred => format!("{name}: this month's lead limit reached"),
    };
    let text = format!(
        "Client {name} ({slug}) has received {used} leads in {month}; its plan includes \
         {limit} a month ({pct} % reached).\n\nLeads past the limit are still accepted and \
         marked over plan.\n",
        pct = threshold.percent(),
    );
    (subject, text)
}

/// The oldest creation time a lead may have to stay: leads created strictly before it are
/// past the retention window. `None`: no retention limit, nothing is erased.
pub fn retention_cutoff(now: DateTime<Utc>, retention_days: Option<u32>) -> Option<DateTime<Utc>> {
    retention_days.map(|d| now - TimeDelta::days(i64::from(d)))
}

/// Whether a lead created at `created_at` is past the window at `now`.
pub fn past_retention(
    created_at: DateTime<Utc>,
    now: DateTime<Utc>,
    retention_days: Option<u32>,
) -> bool {
    retention_cutoff(now, retention_days).is_some_and(|c| created_at < c)
}

/// The outbox group of the Stripe reports: a refused key parks them all until the key
/// changes.
pub const STRIPE_GROUP: &str = "stripe";

/// One usage report to Stripe, as its outbox task holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MeterEvent {
    pub tenant_id: Uuid,
    pub stripe_customer_id: String,
    pub event_name: String,
    /// Leads accepted since the tenant's previous report.
    pub value: u64,
    /// When the report was made (Stripe's `timestamp`), the same on every retry.
    pub timestamp: DateTime<Utc>,
}

/// The oldest `timestamp` Stripe takes for a meter event is 35 days back; a report sent
/// later than this after it was made (only a parked one can be: the retry schedule ends
/// within 28 hours) carries this age instead, a day inside Stripe's bound.
pub const METER_EVENT_MAX_AGE: TimeDelta = TimeDelta::days(34);

impl MeterEvent {
    /// The `timestamp` sent at `now`: the report's own, or, for a report held (parked)
    /// past [`METER_EVENT_MAX_AGE`], the oldest Stripe still takes, so a report held that
    /// long (a missing or refused key) is counted rather than refused for its age. A parked
    /// report never reached Stripe, and its idempotency key expired long before, so the
    /// changed field conflicts with nothing.
    pub fn timestamp_at(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        self.timestamp.max(now - METER_EVENT_MAX_AGE)
    }

    /// The form fields of `POST /v1/billing/meter_events` sent at `now`, with the report's
    /// `identifier`.
    pub fn form(&self, identifier: &str, now: DateTime<Utc>) -> Vec<(&'static str, String)> {
        vec![
            ("event_name", self.event_name.clone()),
            (
                "payload[stripe_customer_id]",
                self.stripe_customer_id.clone(),
            ),
            ("payload[value]", self.value.to_string()),
            ("identifier", identifier.to_string()),
            ("timestamp", self.timestamp_at(now).timestamp().to_string()),
        ]
    }
}

/// What a billing sync reported for one tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Report {
    pub tenant_id: Uuid,
    pub stripe_customer_id: String,
    pub value: u64,
    /// The report's Stripe `identifier` (its outbox task's id).
    pub identifier: Uuid,
}

/// `POST /api/v1/platform/billing/sync`: the reports queued now (tenants with nothing new
/// are left out).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SyncAnswer {
    pub reports: Vec<Report>,
}

/// A tenant's plan with its use, as the usage answers show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanUse {
    pub plan_id: Uuid,
    pub plan_name: String,
    pub price_cents: u64,
    pub currency: String,
    pub limits: PlanLimits,
    pub used: Use,
}

/// What a tenant uses of each limit now (leads: this month's accepted leads).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Use {
    pub leads_this_month: u64,
    pub users: u64,
    pub api_keys: u64,
    pub webhooks: u64,
}

/// Monthly revenue in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Revenue {
    pub currency: String,
    pub cents: u64,
}

/// The platform's monthly revenue: the sum of the tenants' plan prices, per currency (in
/// currency order).
pub fn revenue<'a>(plans: impl IntoIterator<Item = &'a PlanUse>) -> Vec<Revenue> {
    let mut by: std::collections::BTreeMap<&str, u64> = std::collections::BTreeMap::new();
    for p in plans {
        *by.entry(p.currency.as_str()).or_default() += p.price_cents;
    }
    by.into_iter()
        .map(|(c, cents)| Revenue {
            currency: c.to_string(),
            cents,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn hard_limits_allow_the_nth_and_refuse_the_next() {
        let cases: &[(u64, Option<u64>, bool)] = &[
            (0, None, true),
            (1_000, None, true),
            (0, Some(0), false),
            (0, Some(1), true),
            (1, Some(1), false),
            (2, Some(3), true),
            (3, Some(3), false),
            (4, Some(3), false),
        ];
        for &(used, limit, ok) in cases {
            let r = check_create(HardLimit::ApiKeys, used, limit);
            assert_eq!(r.is_ok(), ok, "used {used}, limit {limit:?}");
            if let Err(e) = r {
                assert_eq!(
                    e,
                    DomainError::PlanLimit {
                        limit: "api_keys",
                        value: limit.unwrap_or_default(),
                        used
                    }
                );
            }
        }
    }

    #[test]
    fn a_lead_is_over_plan_from_the_one_after_the_limit() {
        let cases: &[(u64, Option<u64>, bool)] = &[
            (0, None, false),
            (u64::MAX, None, false),
            (0, Some(0), true),
            (0, Some(1), false),
            (9, Some(10), false),
            (10, Some(10), true),
            (11, Some(10), true),
        ];
        for &(before, limit, over) in cases {
            assert_eq!(lead_over_plan(before, limit), over, "{before} {limit:?}");
        }
    }

    #[test]
    fn thresholds_are_crossed_once_by_the_count_that_reaches_them() {
        use Threshold::*;
        let cases: &[(u64, u64, Option<u64>, &[Threshold])] = &[
            (0, 1, None, &[]),
            (7, 8, Some(10), &[Eighty]),
            (8, 9, Some(10), &[]),
            (9, 10, Some(10), &[Hundred]),
            (10, 11, Some(10), &[]),
            (0, 10, Some(10), &[Eighty, Hundred]),
            // 80 % of 7 is 5.6: the sixth lead reaches it.
            (4, 5, Some(7), &[]),
            (5, 6, Some(7), &[Eighty]),
            // A limit of 0: the first lead is past both.
            (0, 1, Some(0), &[Eighty, Hundred]),
            (1, 2, Some(0), &[]),
            (0, 1, Some(1), &[Eighty, Hundred]),
        ];
        for &(before, after, limit, want) in cases {
            assert_eq!(
                thresholds_crossed(before, after, limit),
                want,
                "{before}->{after} of {limit:?}"
            );
        }
        assert_eq!(Threshold::from_percent(80), Some(Eighty));

        // Reached, crossed now or earlier (a limit lowered below the use).
        let reached: &[(u64, Option<u64>, &[Threshold])] = &[
            (1_000, None, &[]),
            (7, Some(10), &[]),
            (8, Some(10), &[Eighty]),
            (10, Some(10), &[Eighty, Hundred]),
            (50, Some(10), &[Eighty, Hundred]),
            (0, Some(0), &[]),
            (1, Some(0), &[Eighty, Hundred]),
            (6, Some(7), &[Eighty]),
        ];
        for &(count, limit, want) in reached {
            assert_eq!(
                thresholds_reached(count, limit),
                want,
                "{count} of {limit:?}"
            );
        }
        assert_eq!(Threshold::from_percent(50), None);
    }

    #[test]
    fn retention_keeps_a_lead_one_second_inside_the_window() {
        let now = Utc.with_ymd_and_hms(2026, 12, 6, 3, 0, 0).unwrap();
        let days = Some(30);
        let edge = now - TimeDelta::days(30);
        assert_eq!(retention_cutoff(now, days), Some(edge));
        assert_eq!(retention_cutoff(now, None), None);
        assert!(!past_retention(edge + TimeDelta::seconds(1), now, days));
        assert!(!past_retention(edge, now, days));
        assert!(past_retention(edge - TimeDelta::milliseconds(1), now, days));
        assert!(!past_retention(edge - TimeDelta::days(1000), now, None));
    }

    #[test]
    fn plans_are_validated_and_patched() {
        let p = validate_new(&NewPlan {
            name: " Pro ".into(),
            price_cents: 4900,
            currency: Some("eur".into()),
            limits: PlanLimits {
                api_keys: Some(3),
                ..PlanLimits::default()
            },
        })
        .unwrap();
        assert_eq!(p.name, "Pro");
        assert_eq!(p.currency, "EUR");
        let field = |e: DomainError| match e {
            DomainError::Invalid { field, .. } => field,
            other => panic!("{other:?}"),
        };
        let bad = |n: NewPlan| field(validate_new(&n).unwrap_err());
        let base = || NewPlan {
            name: "x".into(),
            ..NewPlan::default()
        };
        assert_eq!(
            bad(NewPlan {
                name: " ".into(),
                ..base()
            }),
            "name"
        );
        assert_eq!(
            bad(NewPlan {
                currency: Some("EURO".into()),
                ..base()
            }),
            "currency"
        );
        assert_eq!(
            bad(NewPlan {
                price_cents: PRICE_CENTS_MAX + 1,
                ..base()
            }),
            "price_cents"
        );
        let limits = |l: PlanLimits| NewPlan {
            limits: l,
            ..base()
        };
        assert_eq!(
            bad(limits(PlanLimits {
                retention_days: Some(0),
                ..PlanLimits::default()
            })),
            "limits.retention_days"
        );
        assert_eq!(
            bad(limits(PlanLimits {
                users: Some(LIMIT_MAX + 1),
                ..PlanLimits::default()
            })),
            "limits.users"
        );

        let patch: PlanPatch =
            serde_json::from_str(r#"{"limits":{"api_keys":null,"webhooks":2}}"#).unwrap();
        let q = apply_patch(&p, &patch).unwrap();
        assert_eq!(q.limits.api_keys, None, "null removes the limit");
        assert_eq!(q.limits.webhooks, Some(2));
        assert_eq!(q.name, "Pro", "left out: kept");
        assert!(serde_json::from_str::<PlanPatch>(r#"{"limits":{"seats":1}}"#).is_err());
        for null in ["name", "price_cents", "currency", "limits"] {
            let body = format!(r#"{{"{null}":null}}"#);
            assert!(
                serde_json::from_str::<PlanPatch>(&body).is_err(),
                "{body} clears nothing"
            );
        }
        assert_eq!(
            serde_json::from_str::<PlanPatch>("{}").unwrap(),
            PlanPatch::default()
        );
    }

    #[test]
    fn a_meter_event_keeps_its_timestamp_unless_held_past_stripes_window() {
        let made = Utc.with_ymd_and_hms(2026, 12, 1, 10, 0, 0).unwrap();
        let e = MeterEvent {
            tenant_id: Uuid::nil(),
            stripe_customer_id: "cus_A1".into(),
            event_name: "echo5_leads".into(),
            value: 7,
            timestamp: made,
        };
        let ts = |now| {
            e.form("id-1", now)
                .into_iter()
                .find(|(k, _)| *k == "timestamp")
                .unwrap()
                .1
        };
        assert_eq!(ts(made), made.timestamp().to_string());
        // Every retry on the schedule (within 28 h), and a report held a month: the same.
        assert_eq!(ts(made + TimeDelta::days(34)), made.timestamp().to_string());
        // Held past 34 days: the oldest Stripe takes, with a day to spare.
        let late = made + TimeDelta::days(40);
        assert_eq!(
            ts(late),
            (late - TimeDelta::days(34)).timestamp().to_string()
        );
        let form = e.form("id-1", late);
        assert!(form.contains(&("identifier", "id-1".to_string())));
        assert!(form.contains(&("payload[value]", "7".to_string())));
    }

    #[test]
    fn revenue_adds_up_per_currency() {
        let u = |price: u64, cur: &str| PlanUse {
            plan_id: Uuid::nil(),
            plan_name: "p".into(),
            price_cents: price,
            currency: cur.into(),
            limits: PlanLimits::default(),
            used: Use::default(),
        };
        let all = [u(100, "EUR"), u(250, "USD"), u(50, "EUR")];
        assert_eq!(
            revenue(&all),
            vec![
                Revenue {
                    currency: "EUR".into(),
                    cents: 150
                },
                Revenue {
                    currency: "USD".into(),
                    cents: 250
                }
            ]
        );
    }
}
