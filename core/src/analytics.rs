//! Per-tenant analytics over a date range, computed from plain rows.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

use crate::error::DomainError;
use crate::leads::{LeadSource, TENANT_FILTER_MAX};
use crate::stages::{Stage, StageKind};
use crate::tenants::TenantRef;

/// What analytics needs of one lead (spam already excluded).
#[derive(Debug, Clone)]
pub struct LeadFacts {
    pub created_at: DateTime<Utc>,
    pub stage_id: Uuid,
    pub first_contacted_at: Option<DateTime<Utc>>,
    pub source: LeadSource,
    pub utm_source: Option<String>,
    pub utm_campaign: Option<String>,
    /// Every stage the lead has been moved to (from the stage history).
    pub visited: Vec<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Count {
    pub key: String,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StageCount {
    pub stage_id: Uuid,
    pub name: String,
    pub kind: StageKind,
    /// Leads there now.
    pub count: u64,
    /// Leads that reached this stage or a later open/won one.
    pub reached: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Conversion {
    pub from_stage: Uuid,
    pub to_stage: Uuid,
    /// reached(to) / reached(from), 0..=1; null when nobody reached `from`.
    pub rate: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DayCount {
    pub day: NaiveDate,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FirstContact {
    /// Leads in the range that were contacted.
    pub contacted: u64,
    pub median_minutes: Option<f64>,
    pub p90_minutes: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Analytics {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Leads created in the range, spam excluded.
    pub total: u64,
    pub by_stage: Vec<StageCount>,
    /// Between consecutive open/won stages of the pipeline.
    pub conversion: Vec<Conversion>,
    /// Leads now in a won stage / all leads of the range; null when there are none.
    pub won_rate: Option<f64>,
    pub by_source: Vec<Count>,
    pub by_utm_source: Vec<Count>,
    pub by_utm_campaign: Vec<Count>,
    /// Every day of the range, zeros included.
    pub per_day: Vec<DayCount>,
    pub first_contact: FirstContact,
}

/// Nearest-rank percentile of a sorted slice (`p` in 0..=100).
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// The median: the mean of the two middle values for an even count.
pub fn median(sorted: &[f64]) -> Option<f64> {
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

fn ranked(map: HashMap<String, u64>) -> Vec<Count> {
    let mut v: Vec<Count> = map
        .into_iter()
        .map(|(key, count)| Count { key, count })
        .collect();
    v.sort_by(|a, b| b.count.cmp(&a.count).then(a.key.cmp(&b.key)));
    v
}

/// Every day of `[from, to)` with its count, zeros included.
fn every_day(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    per_day: &BTreeMap<NaiveDate, u64>,
) -> Vec<DayCount> {
    let mut days = Vec::new();
    let mut d = from.date_naive();
    let last = (to - chrono::TimeDelta::milliseconds(1)).date_naive();
    // Bounded so an absurd range cannot allocate without end (ten years of days).
    while d <= last && days.len() < 3660 {
        days.push(DayCount {
            day: d,
            count: per_day.get(&d).copied().unwrap_or(0),
        });
        match d.succ_opt() {
            Some(next) => d = next,
            None => break,
        }
    }
    days
}

/// Computes the analytics of `leads` (created in `[from, to)`) over `pipeline`: the leads
/// are counted as [`KeptCounts`] and read by [`from_counts`] (one rule for both), and the
/// median and p90 minutes to first contact, which need every lead's time, are added.
pub fn compute(
    pipeline: &[Stage],
    leads: &[LeadFacts],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Analytics {
    compute_on(pipeline, leads, from, to, |a, b| b - a)
}

/// [`compute`] with the minutes to first contact measured by `clock(created, contacted)`:
/// the tenant's SLA clock ([`crate::sla::SlaRule::elapsed`]), business time where it has
/// business hours.
pub fn compute_on(
    pipeline: &[Stage],
    leads: &[LeadFacts],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    clock: impl Fn(DateTime<Utc>, DateTime<Utc>) -> chrono::TimeDelta,
) -> Analytics {
    let funnel: Vec<&Stage> = pipeline
        .iter()
        .filter(|s| s.kind != StageKind::Lost)
        .collect();
    let funnel_pos: HashMap<Uuid, usize> =
        funnel.iter().enumerate().map(|(i, s)| (s.id, i)).collect();
    let mut counts = KeptCounts::default();
    let mut contact_minutes: Vec<f64> = Vec::new();
    for l in leads {
        *counts.now_in.entry(l.stage_id).or_default() += 1;
        // Furthest point of the funnel (lost stages are not part of it) the lead got to.
        let furthest = std::iter::once(l.stage_id)
            .chain(l.visited.iter().copied())
            .filter_map(|s| funnel_pos.get(&s).copied())
            .max()
            .map(|f| funnel[f].id);
        *counts.furthest.entry(furthest).or_default() += 1;
        *counts
            .by_source
            .entry(l.source.as_str().to_string())
            .or_default() += 1;
        if let Some(u) = &l.utm_source {
            *counts.by_utm_source.entry(u.clone()).or_default() += 1;
        }
        if let Some(c) = &l.utm_campaign {
            *counts.by_utm_campaign.entry(c.clone()).or_default() += 1;
        }
        *counts.per_day.entry(l.created_at.date_naive()).or_default() += 1;
        if let Some(fc) = l.first_contacted_at {
            counts.contacted += 1;
            contact_minutes.push(clock(l.created_at, fc).num_seconds() as f64 / 60.0);
        }
    }
    contact_minutes.sort_by(|a, b| a.total_cmp(b));
    let mut out = from_counts(pipeline, &counts, from, to);
    out.first_contact.median_minutes = median(&contact_minutes);
    out.first_contact.p90_minutes = percentile(&contact_minutes, 90.0);
    out
}

/// A tenant's analytics as counts kept per bucket (summed over a range of whole days),
/// instead of one fact per lead: what `GET /api/v1/analytics` reads.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KeptCounts {
    /// Leads now in each stage.
    pub now_in: HashMap<Uuid, u64>,
    /// Leads by the furthest stage of the funnel they reached (their stage and every stage
    /// they were moved to, lost stages left out, by the pipeline's order); `None` for leads
    /// only ever in lost stages.
    pub furthest: HashMap<Option<Uuid>, u64>,
    pub by_source: HashMap<String, u64>,
    pub by_utm_source: HashMap<String, u64>,
    pub by_utm_campaign: HashMap<String, u64>,
    pub per_day: BTreeMap<NaiveDate, u64>,
    /// Leads contacted (with a first contact time).
    pub contacted: u64,
}

/// The same analytics as [`compute`] gives for the leads that `counts` counts, except the
/// median and p90 minutes to first contact, which are null: they need every lead's contact
/// time, which counts do not hold.
pub fn from_counts(
    pipeline: &[Stage],
    counts: &KeptCounts,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Analytics {
    let funnel: Vec<&Stage> = pipeline
        .iter()
        .filter(|s| s.kind != StageKind::Lost)
        .collect();
    let funnel_pos: HashMap<Uuid, usize> =
        funnel.iter().enumerate().map(|(i, s)| (s.id, i)).collect();
    let mut reached = vec![0u64; funnel.len()];
    for (stage, n) in &counts.furthest {
        match stage.and_then(|s| funnel_pos.get(&s).copied()) {
            Some(f) => reached.iter_mut().take(f + 1).for_each(|r| *r += n),
            // Only ever in lost stages: it still entered the pipeline's first stage.
            None => {
                if let Some(r) = reached.first_mut() {
                    *r += n;
                }
            }
        }
    }
    let total: u64 = counts.now_in.values().sum();
    let won: u64 = pipeline
        .iter()
        .filter(|s| s.kind == StageKind::Won)
        .map(|s| counts.now_in.get(&s.id).copied().unwrap_or(0))
        .sum();
    let nonzero = |m: &HashMap<String, u64>| {
        ranked(
            m.iter()
                .filter(|(_, n)| **n > 0)
                .map(|(k, n)| (k.clone(), *n))
                .collect(),
        )
    };
    Analytics {
        from,
        to,
        total,
        by_stage: pipeline
            .iter()
            .map(|s| StageCount {
                stage_id: s.id,
                name: s.name.clone(),
                kind: s.kind,
                count: counts.now_in.get(&s.id).copied().unwrap_or(0),
                reached: funnel_pos.get(&s.id).map(|&i| reached[i]).unwrap_or(0),
            })
            .collect(),
        conversion: funnel
            .windows(2)
            .enumerate()
            .map(|(i, w)| Conversion {
                from_stage: w[0].id,
                to_stage: w[1].id,
                rate: (reached[i] > 0).then(|| reached[i + 1] as f64 / reached[i] as f64),
            })
            .collect(),
        won_rate: (total > 0).then(|| won as f64 / total as f64),
        by_source: nonzero(&counts.by_source),
        by_utm_source: nonzero(&counts.by_utm_source),
        by_utm_campaign: nonzero(&counts.by_utm_campaign),
        per_day: every_day(from, to, &counts.per_day),
        first_contact: FirstContact {
            contacted: counts.contacted,
            median_minutes: None,
            p90_minutes: None,
        },
    }
}

/// Days `GET /api/v1/analytics` covers when `days` is left out.
pub const GLOBAL_DAYS_DEFAULT: u32 = 30;
/// The most days it covers: the per-tenant endpoint's longest range (ten years).
pub const GLOBAL_DAYS_MAX: u32 = 3650;

/// The window `GET /api/v1/analytics?days=N` covers: whole UTC days, today and the N-1
/// days before it (`[midnight N-1 days ago, next midnight)`), so that counts kept per day
/// answer it exactly.
pub fn global_window(now: DateTime<Utc>, days: u32) -> (DateTime<Utc>, DateTime<Utc>) {
    let today = now.date_naive().and_time(chrono::NaiveTime::MIN).and_utc();
    let to = today + chrono::TimeDelta::days(1);
    (to - chrono::TimeDelta::days(i64::from(days.max(1))), to)
}

/// The query of `GET /api/v1/analytics`. `days` is read as text so that any bad value
/// (`0`, `-1`, `abc`, too many) is one 422 naming `days`, as a bad range is on the
/// per-tenant endpoint.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GlobalParams {
    /// Comma-separated tenant ids or slugs; every tenant when left out.
    pub tenant: Option<String>,
    pub days: Option<String>,
}

impl GlobalParams {
    /// The tenants named (deduplicated, in the order given; empty = all) and the days.
    pub fn validate(&self) -> Result<(Vec<String>, u32), DomainError> {
        let mut tenants: Vec<String> = Vec::new();
        for t in self.tenant.as_deref().unwrap_or("").split(',') {
            let t = t.trim();
            if !t.is_empty() && !tenants.iter().any(|x| x == t) {
                tenants.push(t.to_string());
            }
        }
        if tenants.len() > TENANT_FILTER_MAX {
            return Err(DomainError::invalid(
                "tenant",
                "too_many",
                format!("tenant names at most {TENANT_FILTER_MAX} tenants"),
            ));
        }
        let days = match self.days.as_deref().map(str::trim) {
            None | Some("") => GLOBAL_DAYS_DEFAULT,
            Some(d) => d
                .parse::<u32>()
                .ok()
                .filter(|d| (1..=GLOBAL_DAYS_MAX).contains(d))
                .ok_or_else(|| {
                    DomainError::invalid(
                        "days",
                        "invalid_range",
                        format!("days must be a whole number from 1 to {GLOBAL_DAYS_MAX}"),
                    )
                })?,
        };
        Ok((tenants, days))
    }
}

/// One tenant's analytics, as its own endpoint answers them, with the tenant they are of.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TenantAnalytics {
    pub tenant: TenantRef,
    pub analytics: Analytics,
}

/// Leads now in stages of one kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KindCount {
    pub kind: StageKind,
    pub count: u64,
}

/// One stage name across tenants (pipelines made from the same defaults share names).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StageTotal {
    /// As the first tenant having it spells it; matched case-insensitively.
    pub name: String,
    pub kind: StageKind,
    /// Leads there now, summed.
    pub count: u64,
    /// Leads that reached it or a later open/won stage of their own pipeline, summed.
    pub reached: u64,
    /// Tenants whose pipeline has a stage of this name and kind.
    pub tenants: u64,
}

/// The per-tenant figures added up. Median and p90 time to first contact are not sums of
/// their parts and are left out (null): see `sum`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AnalyticsTotals {
    pub total: u64,
    /// Open, won and lost, always all three.
    pub by_kind: Vec<KindCount>,
    pub by_stage: Vec<StageTotal>,
    /// Leads now in a won stage / all leads; null when there are none.
    pub won_rate: Option<f64>,
    pub by_source: Vec<Count>,
    pub by_utm_source: Vec<Count>,
    pub by_utm_campaign: Vec<Count>,
    pub per_day: Vec<DayCount>,
    /// `contacted` summed; `median_minutes` and `p90_minutes` null (see each tenant's).
    pub first_contact: FirstContact,
}

/// `GET /api/v1/analytics`: the chosen tenants' analytics over the same whole UTC days,
/// summed, and each tenant's own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GlobalAnalytics {
    /// The midnight (UTC) that starts the first day: `days - 1` days before today's.
    pub from: DateTime<Utc>,
    /// The midnight (UTC) that ends today (exclusive).
    pub to: DateTime<Utc>,
    pub days: u32,
    pub totals: AnalyticsTotals,
    /// Each tenant's analytics as its own endpoint gives them for `from`/`to`, read from
    /// the counts kept per day: the median and p90 minutes to first contact are null.
    pub by_tenant: Vec<TenantAnalytics>,
}

fn merge_counts(parts: &[TenantAnalytics], pick: fn(&Analytics) -> &[Count]) -> Vec<Count> {
    let mut map: HashMap<String, u64> = HashMap::new();
    for p in parts {
        for c in pick(&p.analytics) {
            *map.entry(c.key.clone()).or_default() += c.count;
        }
    }
    ranked(map)
}

/// Adds up per-tenant analytics of one range. Every count is the sum of the tenants'
/// counts; rates are recomputed from the summed counts (not averaged); stages are matched
/// by name and kind. Median and p90 minutes to first contact are left out: the median of
/// a union is not a function of the parts' medians (a weighted mean of them can land
/// where no lead is), and recomputing it needs every lead's contact time, which kept
/// counts do not hold. Each tenant's own median stays in its `by_tenant` entry.
pub fn sum(parts: &[TenantAnalytics]) -> AnalyticsTotals {
    let mut total = 0u64;
    let mut contacted = 0u64;
    let mut kinds = [0u64; 3];
    let mut stages: Vec<StageTotal> = Vec::new();
    let mut per_day: BTreeMap<NaiveDate, u64> = BTreeMap::new();
    for p in parts {
        let a = &p.analytics;
        total += a.total;
        contacted += a.first_contact.contacted;
        for s in &a.by_stage {
            let k = match s.kind {
                StageKind::Open => 0,
                StageKind::Won => 1,
                StageKind::Lost => 2,
            };
            kinds[k] += s.count;
            let name = s.name.to_lowercase();
            match stages
                .iter_mut()
                .find(|t| t.kind == s.kind && t.name.to_lowercase() == name)
            {
                Some(t) => {
                    t.count += s.count;
                    t.reached += s.reached;
                    t.tenants += 1;
                }
                None => stages.push(StageTotal {
                    name: s.name.clone(),
                    kind: s.kind,
                    count: s.count,
                    reached: s.reached,
                    tenants: 1,
                }),
            }
        }
        for d in &a.per_day {
            *per_day.entry(d.day).or_default() += d.count;
        }
    }
    AnalyticsTotals {
        total,
        by_kind: [StageKind::Open, StageKind::Won, StageKind::Lost]
            .into_iter()
            .zip(kinds)
            .map(|(kind, count)| KindCount { kind, count })
            .collect(),
        by_stage: stages,
        won_rate: (total > 0).then(|| kinds[1] as f64 / total as f64),
        by_source: merge_counts(parts, |a| &a.by_source),
        by_utm_source: merge_counts(parts, |a| &a.by_utm_source),
        by_utm_campaign: merge_counts(parts, |a| &a.by_utm_campaign),
        per_day: per_day
            .into_iter()
            .map(|(day, count)| DayCount { day, count })
            .collect(),
        first_contact: FirstContact {
            contacted,
            median_minutes: None,
            p90_minutes: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;

    fn stage(i: u128, name: &str, kind: StageKind) -> Stage {
        Stage {
            id: Uuid::from_u128(i),
            name: name.into(),
            kind,
        }
    }

    fn midnight() -> DateTime<Utc> {
        NaiveDate::from_ymd_opt(2026, 5, 28)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|d| d.and_utc())
            .unwrap()
    }

    #[test]
    fn percentiles() {
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(median(&v), Some(5.5));
        assert_eq!(percentile(&v, 90.0), Some(9.0));
        assert_eq!(median(&[3.0]), Some(3.0));
        assert_eq!(median(&[]), None);
        assert_eq!(percentile(&[], 90.0), None);
    }

    #[test]
    fn a_hand_built_pipeline() {
        let new = stage(1, "New", StageKind::Open);
        let contacted = stage(2, "Contacted", StageKind::Open);
        let won = stage(3, "Won", StageKind::Won);
        let lost = stage(4, "Lost", StageKind::Lost);
        let pipeline = vec![new.clone(), contacted.clone(), won.clone(), lost.clone()];
        let from = midnight();
        let to = from + TimeDelta::days(3);
        let lead = |day: i64,
                    stage: &Stage,
                    visited: Vec<Uuid>,
                    contact_min: Option<i64>,
                    src: Option<&str>| {
            let created = from + TimeDelta::days(day) + TimeDelta::hours(1);
            LeadFacts {
                created_at: created,
                stage_id: stage.id,
                first_contacted_at: contact_min.map(|m| created + TimeDelta::minutes(m)),
                source: LeadSource::Website,
                utm_source: src.map(str::to_string),
                utm_campaign: None,
                visited,
            }
        };
        let leads = vec![
            lead(0, &new, vec![], None, Some("google")),
            lead(0, &contacted, vec![contacted.id], Some(10), Some("google")),
            lead(
                1,
                &won,
                vec![contacted.id, won.id],
                Some(30),
                Some("facebook"),
            ),
            lead(1, &lost, vec![contacted.id, lost.id], Some(60), None),
            lead(2, &lost, vec![lost.id], Some(120), None),
        ];
        let a = compute(&pipeline, &leads, from, to);
        assert_eq!(a.total, 5);
        let counts: Vec<u64> = a.by_stage.iter().map(|s| s.count).collect();
        assert_eq!(counts, [1, 1, 1, 2]);
        let reached: Vec<u64> = a.by_stage.iter().map(|s| s.reached).collect();
        assert_eq!(
            reached,
            [5, 3, 1, 0],
            "everyone entered New; 3 got contacted; 1 won"
        );
        assert_eq!(a.conversion.len(), 2);
        assert_eq!(a.conversion[0].rate, Some(3.0 / 5.0));
        assert_eq!(a.conversion[1].rate, Some(1.0 / 3.0));
        assert_eq!(a.won_rate, Some(0.2));
        assert_eq!(
            a.by_utm_source[0],
            Count {
                key: "google".into(),
                count: 2
            }
        );
        assert_eq!(a.by_source[0].count, 5);
        assert_eq!(a.per_day.len(), 3);
        assert_eq!(
            a.per_day.iter().map(|d| d.count).collect::<Vec<_>>(),
            [2, 2, 1]
        );
        assert_eq!(a.first_contact.contacted, 4);
        assert_eq!(a.first_contact.median_minutes, Some(45.0));
        assert_eq!(a.first_contact.p90_minutes, Some(120.0));
    }

    fn part(slug: &str, pipeline: &[Stage], leads: &[LeadFacts]) -> TenantAnalytics {
        let from = midnight();
        TenantAnalytics {
            tenant: TenantRef::new(Uuid::new_v4(), slug, slug),
            analytics: compute(pipeline, leads, from, from + TimeDelta::days(2)),
        }
    }

    fn fact(day: i64, stage: &Stage, utm: Option<&str>, contact_min: Option<i64>) -> LeadFacts {
        let created = midnight() + TimeDelta::days(day) + TimeDelta::hours(2);
        LeadFacts {
            created_at: created,
            stage_id: stage.id,
            first_contacted_at: contact_min.map(|m| created + TimeDelta::minutes(m)),
            source: LeadSource::Website,
            utm_source: utm.map(str::to_string),
            utm_campaign: None,
            visited: vec![stage.id],
        }
    }

    #[test]
    fn sums_add_counts_and_recompute_rates() {
        // Two pipelines made from the same defaults, spelled differently, plus a stage
        // only one tenant has.
        let (a_new, a_won, a_lost) = (
            stage(1, "New", StageKind::Open),
            stage(2, "Won", StageKind::Won),
            stage(3, "Lost", StageKind::Lost),
        );
        let (b_new, b_tour, b_won) = (
            stage(11, "new", StageKind::Open),
            stage(12, "Tour", StageKind::Open),
            stage(13, "WON", StageKind::Won),
        );
        let a = part(
            "a",
            &[a_new.clone(), a_won.clone(), a_lost.clone()],
            &[
                fact(0, &a_new, Some("google"), None),
                fact(0, &a_won, Some("google"), Some(10)),
                fact(1, &a_lost, None, Some(1000)),
            ],
        );
        let b = part(
            "b",
            &[b_new.clone(), b_tour.clone(), b_won.clone()],
            &[
                fact(1, &b_tour, Some("bing"), Some(20)),
                fact(1, &b_won, Some("google"), Some(30)),
            ],
        );
        let t = sum(&[a.clone(), b.clone()]);
        assert_eq!(t.total, 5);
        assert_eq!(
            t.by_kind.iter().map(|k| k.count).collect::<Vec<_>>(),
            [2, 2, 1],
            "open: a_new + b_tour; won: one each; lost: a's"
        );
        assert_eq!(t.won_rate, Some(2.0 / 5.0), "from summed counts");
        let stage_names: Vec<(&str, u64, u64)> = t
            .by_stage
            .iter()
            .map(|s| (s.name.as_str(), s.count, s.tenants))
            .collect();
        assert_eq!(
            stage_names,
            [("New", 1, 2), ("Won", 2, 2), ("Lost", 1, 1), ("Tour", 1, 1)]
        );
        let won = &t.by_stage[1];
        assert_eq!(
            won.reached,
            a.analytics.by_stage[1].reached + b.analytics.by_stage[2].reached
        );
        assert_eq!(
            t.by_utm_source,
            [
                Count {
                    key: "google".into(),
                    count: 3
                },
                Count {
                    key: "bing".into(),
                    count: 1
                }
            ]
        );
        assert_eq!(t.by_source[0].count, 5);
        assert_eq!(
            t.per_day.iter().map(|d| d.count).collect::<Vec<_>>(),
            [2, 3]
        );
        assert_eq!(t.first_contact.contacted, 4);
        assert_eq!(t.first_contact.median_minutes, None);
        assert_eq!(t.first_contact.p90_minutes, None);
        // The parts' medians (10..1000 → 505, and 25) say nothing exact about the whole
        // (10, 20, 30, 1000 → 25): that is why the sum leaves the median out.
        assert_eq!(a.analytics.first_contact.median_minutes, Some(505.0));
        assert_eq!(b.analytics.first_contact.median_minutes, Some(25.0));
    }

    #[test]
    fn the_sum_of_nothing_is_zero() {
        let t = sum(&[]);
        assert_eq!(t.total, 0);
        assert_eq!(t.won_rate, None);
        assert_eq!(t.by_kind.len(), 3);
        assert!(t.by_stage.is_empty() && t.per_day.is_empty());
    }

    #[test]
    fn global_params() {
        let p = |tenant: Option<&str>, days: Option<&str>| GlobalParams {
            tenant: tenant.map(str::to_string),
            days: days.map(str::to_string),
        };
        assert_eq!(p(None, None).validate().unwrap(), (vec![], 30));
        assert_eq!(
            p(Some(" a, b,a,,"), Some("7")).validate().unwrap(),
            (vec!["a".to_string(), "b".to_string()], 7)
        );
        assert_eq!(p(None, Some("3650")).validate().unwrap().1, 3650);
        for bad in ["0", "-1", "abc", "3651", "1.5"] {
            match p(None, Some(bad)).validate() {
                Err(DomainError::Invalid { field, .. }) => assert_eq!(field, "days", "{bad}"),
                other => panic!("{bad}: {other:?}"),
            }
        }
        let many = (0..=TENANT_FILTER_MAX)
            .map(|i| format!("t{i}"))
            .collect::<Vec<_>>();
        assert!(p(Some(&many.join(",")), None).validate().is_err());
    }

    /// What `lead_days` keeps for these leads, counted here from the facts.
    fn kept(pipeline: &[Stage], leads: &[LeadFacts]) -> KeptCounts {
        let funnel: Vec<&Stage> = pipeline
            .iter()
            .filter(|s| s.kind != StageKind::Lost)
            .collect();
        let mut k = KeptCounts::default();
        for l in leads {
            *k.now_in.entry(l.stage_id).or_default() += 1;
            let furthest = funnel
                .iter()
                .rev()
                .find(|s| s.id == l.stage_id || l.visited.contains(&s.id))
                .map(|s| s.id);
            *k.furthest.entry(furthest).or_default() += 1;
            *k.by_source.entry(l.source.as_str().into()).or_default() += 1;
            if let Some(u) = &l.utm_source {
                *k.by_utm_source.entry(u.clone()).or_default() += 1;
            }
            if let Some(u) = &l.utm_campaign {
                *k.by_utm_campaign.entry(u.clone()).or_default() += 1;
            }
            *k.per_day.entry(l.created_at.date_naive()).or_default() += 1;
            k.contacted += u64::from(l.first_contacted_at.is_some());
        }
        k
    }

    #[test]
    fn counts_give_what_the_facts_give_but_the_medians() {
        let new = stage(1, "New", StageKind::Open);
        let lost = stage(2, "Lost", StageKind::Lost);
        let tour = stage(3, "Tour", StageKind::Open);
        let won = stage(4, "Won", StageKind::Won);
        // A lost stage in the middle of the pipeline, as an owner may order it.
        let pipeline = vec![new.clone(), lost.clone(), tour.clone(), won.clone()];
        let from = midnight();
        let to = from + TimeDelta::days(3);
        let mut leads = vec![
            fact(0, &new, Some("google"), None),
            fact(0, &tour, Some("google"), Some(10)),
            fact(1, &won, None, Some(30)),
            fact(2, &lost, Some("bing"), Some(5)),
            // Won once, then lost: it reached Won.
            fact(2, &lost, None, Some(7)),
        ];
        leads[4].visited = vec![tour.id, won.id, lost.id];
        leads[1].utm_campaign = Some("spring".into());
        let scan = compute(&pipeline, &leads, from, to);
        let counted = from_counts(&pipeline, &kept(&pipeline, &leads), from, to);
        assert_eq!(
            counted
                .by_stage
                .iter()
                .map(|s| s.reached)
                .collect::<Vec<_>>(),
            [5, 0, 3, 2]
        );
        let without_medians = Analytics {
            first_contact: FirstContact {
                median_minutes: None,
                p90_minutes: None,
                ..scan.first_contact.clone()
            },
            ..scan
        };
        assert_eq!(counted, without_medians);
        // A bucket counted down to zero is no bucket.
        let mut k = kept(&pipeline, &leads);
        k.by_utm_source.insert("gone".into(), 0);
        let a = from_counts(&pipeline, &k, from, to);
        assert!(a.by_utm_source.iter().all(|c| c.key != "gone"));
    }

    #[test]
    fn the_global_window_is_whole_days_ending_tonight() {
        let now = midnight() + TimeDelta::hours(15);
        let (from, to) = global_window(now, 1);
        assert_eq!((from, to), (midnight(), midnight() + TimeDelta::days(1)));
        let (from, to) = global_window(now, 30);
        assert_eq!(from, midnight() - TimeDelta::days(29));
        assert_eq!(to - from, TimeDelta::days(30));
        assert_eq!(
            global_window(midnight(), 7).1,
            midnight() + TimeDelta::days(1)
        );
    }

    #[test]
    fn an_empty_range() {
        let from = midnight();
        let a = compute(&[], &[], from, from + TimeDelta::days(1));
        assert_eq!(a.total, 0);
        assert_eq!(a.won_rate, None);
        assert_eq!(a.first_contact.median_minutes, None);
        assert_eq!(a.per_day.len(), 1);
    }
}
