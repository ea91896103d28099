//! The platform dashboard and analytics: per tenant read from indexes, across tenants from
//! the counts kept per day.

use chrono::{DateTime, NaiveTime, TimeDelta, Utc};
use echo5_core::analytics::{self, Analytics, LeadFacts, TenantAnalytics};
use echo5_core::authorization::Reach;
use echo5_core::clock::from_millis;
use echo5_core::dashboard::{Counts, Dashboard, TenantDashboard};
use echo5_core::leads::LeadSource;
use echo5_core::sla::SlaRule;
use rusqlite::{Connection, params};
use std::collections::HashMap;
use uuid::Uuid;

use crate::Store;
use crate::error::StoreError;
use crate::lead_days;
use crate::leads::all_tenants::UnknownTenant;
use crate::stages;
use crate::tenants::{self, TenantKey, TenantRow};

fn midnight(now: DateTime<Utc>) -> DateTime<Utc> {
    now.date_naive().and_time(NaiveTime::MIN).and_utc()
}

fn tenant_counts(
    conn: &Connection,
    t: &TenantRow,
    now: DateTime<Utc>,
) -> Result<TenantDashboard, StoreError> {
    let tid = t.id.to_string();
    let (today, week, month): (i64, i64, i64) = conn
        .prepare_cached(
            "SELECT coalesce(sum(created_at >= ?2), 0), coalesce(sum(created_at >= ?3), 0), count(*)
             FROM leads INDEXED BY leads_tenant_created
             WHERE tenant_id = ?1 AND is_spam = 0 AND created_at >= ?4",
        )?
        .query_row(
            params![
                tid,
                midnight(now).timestamp_millis(),
                (now - TimeDelta::days(7)).timestamp_millis(),
                (now - TimeDelta::days(30)).timestamp_millis()
            ],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
    let pipeline = stages::load(conn, t.id)?;
    // Open and in-breach counts come from `lead_counts` (kept by the insert path and triggers): counting index
    // entries instead meant stepping through most of a million leads on every request.
    let open: i64 = conn
        .prepare_cached(
            "SELECT coalesce(sum(c.leads), 0) FROM lead_counts c JOIN stages s ON s.id = c.stage_id
             WHERE c.tenant_id = ?1 AND c.is_spam = 0 AND s.kind = 'open'",
        )?
        .query_row(params![tid], |r| r.get(0))?;
    let (in_breach, oldest) = match stages::intake_of(&pipeline) {
        Some(intake) => {
            let sid = intake.id.to_string();
            let cutoff = SlaRule::of(&t.fields.settings)
                .breach_cutoff(now)
                .timestamp_millis();
            // Leads carrying an SLA in the intake stage, minus those still inside it (the
            // arrivals since the rule's cutoff), leaves those in breach.
            let carrying: i64 = conn
                .prepare_cached(
                    "SELECT coalesce(sum(leads - duplicates), 0) FROM lead_counts
                     WHERE tenant_id = ?1 AND stage_id = ?2 AND is_spam = 0",
                )?
                .query_row(params![tid, sid], |r| r.get(0))?;
            let (waiting, oldest): (i64, Option<i64>) = conn
                .prepare_cached(
                    "SELECT count(*), (SELECT min(created_at) FROM leads INDEXED BY leads_tenant_stage
                         WHERE tenant_id = ?1 AND stage_id = ?2 AND is_spam = 0
                           AND duplicate_of IS NULL)
                     FROM leads INDEXED BY leads_tenant_stage
                     WHERE tenant_id = ?1 AND stage_id = ?2 AND is_spam = 0
                       AND duplicate_of IS NULL AND created_at >= ?3",
                )?
                .query_row(params![tid, sid, cutoff], |r| Ok((r.get(0)?, r.get(1)?)))?;
            ((carrying - waiting).max(0), oldest)
        }
        None => (0, None),
    };
    Ok(TenantDashboard {
        tenant: t.tref(),
        active: t.fields.active,
        sla_hours: t.fields.settings.sla_hours,
        counts: Counts {
            today: today as u64,
            last_7d: week as u64,
            last_30d: month as u64,
            open: open as u64,
            in_breach: in_breach as u64,
        },
        oldest_waiting: oldest.map(from_millis),
    })
}

/// Analytics of the leads `t` received in `[from, to)` (spam excluded) that `reach`
/// covers, read along the tenant's creation-time index.
fn tenant_analytics(
    c: &Connection,
    t: &TenantRow,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    reach: Reach,
) -> Result<Analytics, StoreError> {
    let pipeline = stages::load(c, t.id)?;
    let tid = t.id.to_string();
    let (f, tt) = (from.timestamp_millis(), to.timestamp_millis());
    // Every lead along the tenant's creation-time index, or one assignee's along theirs:
    // the same range either way, so a manager's analytics read only their own rows.
    let (index, only, assignee) = match reach {
        Reach::All => ("leads_tenant_created", "", None),
        Reach::AssignedTo(user) => (
            "leads_tenant_assignee",
            " AND l.assigned_to = ?4",
            Some(user.to_string()),
        ),
    };
    let args = |tid: &str| {
        let mut a: Vec<rusqlite::types::Value> = vec![tid.to_string().into(), f.into(), tt.into()];
        if let Some(u) = &assignee {
            a.push(u.clone().into());
        }
        rusqlite::params_from_iter(a)
    };
    let mut visited: HashMap<String, Vec<Uuid>> = HashMap::new();
    {
        let mut stmt = c.prepare_cached(&format!(
            "SELECT h.lead_id, h.to_stage FROM leads l INDEXED BY {index}
             JOIN stage_history h ON h.lead_id = l.id
             WHERE l.tenant_id = ?1 AND l.is_spam = 0 AND l.created_at >= ?2
               AND l.created_at < ?3{only}"
        ))?;
        let rows = stmt.query_map(args(&tid), |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        for row in rows {
            let (lead, to_stage) = row?;
            if let Ok(s) = Uuid::parse_str(&to_stage) {
                visited.entry(lead).or_default().push(s);
            }
        }
    }
    let mut stmt = c.prepare_cached(&format!(
        "SELECT id, created_at, stage_id, first_contacted_at, source, utm_source, utm_campaign
         FROM leads l INDEXED BY {index}
         WHERE l.tenant_id = ?1 AND l.is_spam = 0 AND l.created_at >= ?2 AND l.created_at < ?3{only}"
    ))?;
    let facts = stmt
        .query_map(args(&tid), |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<i64>>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, Option<String>>(6)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .map(|(id, created, stage, first, source, us, uc)| {
            Ok(LeadFacts {
                created_at: from_millis(created),
                stage_id: Uuid::parse_str(&stage)?,
                first_contacted_at: first.map(from_millis),
                source: LeadSource::parse(&source).unwrap_or(LeadSource::Api),
                utm_source: us,
                utm_campaign: uc,
                visited: visited.remove(&id).unwrap_or_default(),
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    // Minutes to first contact on the SLA clock: business minutes where the tenant has
    // business hours.
    let rule = SlaRule::of(&t.fields.settings);
    Ok(analytics::compute_on(
        &pipeline,
        &facts,
        from,
        to,
        |a, b| rule.elapsed(a, b),
    ))
}

impl Store {
    pub async fn dashboard(&self) -> Result<Dashboard, StoreError> {
        let now = self.now();
        self.read(move |c| {
            let mut all = tenants::all(c)?;
            all.sort_by(|a, b| {
                (a.fields.name.to_lowercase(), a.id).cmp(&(b.fields.name.to_lowercase(), b.id))
            });
            let mut rows = Vec::with_capacity(all.len());
            let mut totals = Counts::default();
            for t in all {
                let row = tenant_counts(c, &t, now)?;
                totals.add(&row.counts);
                rows.push(row);
            }
            Ok(Dashboard {
                generated_at: now,
                tenants: rows,
                totals,
            })
        })
        .await
    }

    /// Analytics of the leads a tenant received in `[from, to)` (spam excluded) that
    /// `reach` covers.
    pub async fn analytics(
        &self,
        tenant: TenantKey,
        reach: Reach,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Analytics, StoreError> {
        self.read(move |c| {
            let t = tenants::get(c, &tenant)?;
            tenant_analytics(c, &t, from, to, reach)
        })
        .await
    }

    /// Each named tenant's analytics over the whole UTC days `[from, to)` (every tenant's
    /// when `names` is empty), ordered by name, read from the counts kept per day (see
    /// `lead_days`) in one job so the parts share one snapshot. Each bound is taken at the
    /// midnight that starts its day. The median and p90 minutes to first contact are null:
    /// counts do not hold each lead's contact time. `Ok(Err(_))` names a tenant that does
    /// not exist.
    pub async fn analytics_of(
        &self,
        names: Vec<String>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Result<Vec<TenantAnalytics>, UnknownTenant>, StoreError> {
        let (from, to) = (midnight(from), midnight(to));
        let days = (
            lead_days::day_of(from.timestamp_millis()),
            lead_days::day_of(to.timestamp_millis()),
        );
        self.read(move |c| {
            each_tenant(c, &names, |c, t| {
                let counts = lead_days::kept(c, t.id, days.0, days.1)?;
                Ok(analytics::from_counts(
                    &stages::load(c, t.id)?,
                    &counts,
                    from,
                    to,
                ))
            })
        })
        .await
    }

    /// [`Store::analytics_of`] computed from the leads themselves, as the per-tenant
    /// endpoint computes them (with the medians): what the kept counts are checked against,
    /// and measured beside.
    pub async fn analytics_of_scanned(
        &self,
        names: Vec<String>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Result<Vec<TenantAnalytics>, UnknownTenant>, StoreError> {
        self.read(move |c| {
            each_tenant(c, &names, |c, t| {
                tenant_analytics(c, t, from, to, Reach::All)
            })
        })
        .await
    }
}

/// The analytics of each named tenant (every tenant's when `names` is empty), ordered by
/// name; `Ok(Err(_))` names a tenant that does not exist.
fn each_tenant(
    c: &Connection,
    names: &[String],
    mut of: impl FnMut(&Connection, &TenantRow) -> Result<Analytics, StoreError>,
) -> Result<Result<Vec<TenantAnalytics>, UnknownTenant>, StoreError> {
    let mut rows: Vec<TenantRow> = Vec::new();
    if names.is_empty() {
        rows = tenants::all(c)?;
    }
    for n in names {
        match tenants::find(c, &TenantKey::parse(n))? {
            Some(t) if rows.iter().any(|o| o.id == t.id) => {}
            Some(t) => rows.push(t),
            None => return Ok(Err(UnknownTenant(n.clone()))),
        }
    }
    rows.sort_by(|a, b| {
        (a.fields.name.to_lowercase(), a.id).cmp(&(b.fields.name.to_lowercase(), b.id))
    });
    let mut out = Vec::with_capacity(rows.len());
    for t in &rows {
        out.push(TenantAnalytics {
            tenant: t.tref(),
            analytics: of(c, t)?,
        });
    }
    Ok(Ok(out))
}
