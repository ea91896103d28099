//! Per-tenant analytics over a date range, computed from plain rows.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

use crate::leads::LeadSource;
use crate::stages::{Stage, StageKind};

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

/// Computes the analytics of `leads` (created in `[from, to)`) over `pipeline`.
pub fn compute(
    pipeline: &[Stage],
    leads: &[LeadFacts],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Analytics {
    let funnel: Vec<&Stage> = pipeline
        .iter()
        .filter(|s| s.kind != StageKind::Lost)
        .collect();
    let funnel_pos: HashMap<Uuid, usize> =
        funnel.iter().enumerate().map(|(i, s)| (s.id, i)).collect();
    let mut now_in: HashMap<Uuid, u64> = HashMap::new();
    let mut reached = vec![0u64; funnel.len()];
    let mut by_source: HashMap<String, u64> = HashMap::new();
    let mut by_utm_source: HashMap<String, u64> = HashMap::new();
    let mut by_utm_campaign: HashMap<String, u64> = HashMap::new();
    let mut per_day: BTreeMap<NaiveDate, u64> = BTreeMap::new();
    let mut contact_minutes: Vec<f64> = Vec::new();
    let mut won = 0u64;
    for l in leads {
        *now_in.entry(l.stage_id).or_default() += 1;
        // Furthest point of the funnel (lost stages are not part of it) the lead got to.
        let furthest = std::iter::once(l.stage_id)
            .chain(l.visited.iter().copied())
            .filter_map(|s| funnel_pos.get(&s).copied())
            .max();
        if let Some(f) = furthest {
            for r in reached.iter_mut().take(f + 1) {
                *r += 1;
            }
        } else if !funnel.is_empty() {
            // Only ever in lost stages: it still entered the pipeline's first stage.
            reached[0] += 1;
        }
        if pipeline
            .iter()
            .any(|s| s.id == l.stage_id && s.kind == StageKind::Won)
        {
            won += 1;
        }
        *by_source.entry(l.source.as_str().to_string()).or_default() += 1;
        if let Some(u) = &l.utm_source {
            *by_utm_source.entry(u.clone()).or_default() += 1;
        }
        if let Some(c) = &l.utm_campaign {
            *by_utm_campaign.entry(c.clone()).or_default() += 1;
        }
        *per_day.entry(l.created_at.date_naive()).or_default() += 1;
        if let Some(fc) = l.first_contacted_at {
            contact_minutes.push((fc - l.created_at).num_seconds() as f64 / 60.0);
        }
    }
    contact_minutes.sort_by(|a, b| a.total_cmp(b));
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
    let total = leads.len() as u64;
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
                count: now_in.get(&s.id).copied().unwrap_or(0),
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
        by_source: ranked(by_source),
        by_utm_source: ranked(by_utm_source),
        by_utm_campaign: ranked(by_utm_campaign),
        per_day: days,
        first_contact: FirstContact {
            contacted: contact_minutes.len() as u64,
            median_minutes: median(&contact_minutes),
            p90_minutes: percentile(&contact_minutes, 90.0),
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
