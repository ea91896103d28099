//! Analytics counts kept per tenant and UTC day of creation (table `lead_days`, migration
//! 0018): what the global analytics reads instead of the leads. Every write that changes a
//! lead's counted facts keeps them in its own transaction:
//!
//! - ingest adds a group commit's new leads up and writes them before its COMMIT
//!   ([`BatchLeadDays`], like `lead_counts`);
//! - a change to one lead (move, spam flag, first contact) takes the lead out before it and
//!   puts it back after it ([`take_out`], [`put_in`]); erasing a lead is [`take_out`] before
//!   its row (and its stage history) is deleted; manual entry is [`put_in`];
//! - a pipeline edit that changes the funnel (its order, a stage's kind, a deleted stage)
//!   counts the tenant again ([`recount`]): which stage of the funnel is a lead's furthest
//!   depends on the order, and only its stage history can tell;
//! - a purged tenant's rows go with it ([`forget_tenant`]).
//!
//! Spam is never counted; a lead flagged spam is taken out, one unflagged put back in.

use chrono::{DateTime, NaiveDate, Utc};
use echo5_core::analytics::KeptCounts;
use echo5_core::leads::{Lead, LeadSource};
use echo5_core::stages::{Stage, StageKind};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::HashMap;
use uuid::Uuid;

use crate::error::StoreError;
use crate::tally::{BatchTally, Tally};

/// `dim` codes of `lead_days` (see the migration).
const STAGE: u8 = 0;
const FURTHEST: u8 = 1;
const SOURCE: u8 = 2;
const UTM_SOURCE: u8 = 3;
const UTM_CAMPAIGN: u8 = 4;
const CONTACTED: u8 = 5;

const DAY_MS: i64 = 86_400_000;

/// The UTC day (days since 1970-01-01) of a time in milliseconds.
pub(crate) fn day_of(ms: i64) -> i64 {
    ms.div_euclid(DAY_MS)
}

/// A `lead_days` row: tenant, day, dim, key.
pub(crate) type DayKey = (Uuid, i64, u8, String);

/// What an ingested lead is counted by, as a group commit adds them up: tenant, day, stage
/// (the intake stage, which is open, so also the furthest it reached), source, utm_source,
/// utm_campaign. One map entry per lead and no text made for the stage or the source: the
/// rows' keys are spelled out once per batch, when they are written.
pub(crate) type IngestKey = (Uuid, i64, Uuid, LeadSource, Option<String>, Option<String>);

#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct DayCount(i64);

impl Tally for DayCount {
    fn add(&mut self, o: &DayCount) {
        self.0 += o.0;
    }
}

/// The day counts of the leads stored by the running group commit (see [`crate::tally`]).
pub(crate) type BatchLeadDays = BatchTally<IngestKey, DayCount>;

pub(crate) fn batch_lead_days() -> BatchLeadDays {
    BatchTally::new(|conn, (tenant, day, stage, source, us, uc), n| {
        let stage = stage.to_string();
        let counted = Counted {
            tenant: *tenant,
            day: *day,
            stage: &stage,
            furthest: &stage,
            source: source.as_str(),
            utm_source: us.as_deref(),
            utm_campaign: uc.as_deref(),
            contacted: false,
        };
        for k in counted.keys() {
            add(conn, &k, n.0)?;
        }
        Ok(())
    })
}

/// The batch key of an ingested lead, `None` for spam (never counted). Ingest stores no
/// first contact.
pub(crate) fn ingested(l: &Lead) -> Option<(IngestKey, DayCount)> {
    (!l.is_spam).then(|| {
        (
            (
                l.tenant_id,
                day_of(l.created_at.timestamp_millis()),
                l.stage_id,
                l.source,
                l.utm_source.clone(),
                l.utm_campaign.clone(),
            ),
            DayCount(1),
        )
    })
}

/// What a stored lead is counted by. `furthest` is the furthest funnel stage it reached
/// (`""`: only lost stages).
struct Counted<'a> {
    tenant: Uuid,
    day: i64,
    stage: &'a str,
    furthest: &'a str,
    source: &'a str,
    utm_source: Option<&'a str>,
    utm_campaign: Option<&'a str>,
    contacted: bool,
}

impl Counted<'_> {
    /// The rows the lead counts in: per figure, its bucket on its day.
    fn keys(&self) -> Vec<DayKey> {
        let (t, d) = (self.tenant, self.day);
        let mut out = vec![
            (t, d, STAGE, self.stage.to_string()),
            (t, d, FURTHEST, self.furthest.to_string()),
            (t, d, SOURCE, self.source.to_string()),
        ];
        if let Some(u) = self.utm_source {
            out.push((t, d, UTM_SOURCE, u.to_string()));
        }
        if let Some(u) = self.utm_campaign {
            out.push((t, d, UTM_CAMPAIGN, u.to_string()));
        }
        if self.contacted {
            out.push((t, d, CONTACTED, String::new()));
        }
        out
    }
}

/// Adds `n` (negative to take away) to one row; a row counted down to 0 is deleted.
fn add(conn: &Connection, (tenant, day, dim, key): &DayKey, n: i64) -> Result<(), StoreError> {
    if n == 0 {
        return Ok(());
    }
    let tenant = tenant.to_string();
    conn.prepare_cached(
        "INSERT INTO lead_days (tenant_id, day, dim, key, leads) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (tenant_id, day, dim, key) DO UPDATE SET leads = leads + excluded.leads",
    )?
    .execute(params![tenant, day, dim, key, n])?;
    if n < 0 {
        conn.prepare_cached(
            "DELETE FROM lead_days
             WHERE tenant_id = ?1 AND day = ?2 AND dim = ?3 AND key = ?4 AND leads = 0",
        )?
        .execute(params![tenant, day, dim, key])?;
    }
    Ok(())
}

/// SQL: the furthest funnel stage (`''` if none) of the lead row `l`: the last, in the
/// pipeline's order, of the non-lost stages among its stage and its stage history's targets.
/// Those few stages are looked up by id (one or two per lead), rather than every stage of
/// the pipeline tested against the history: a recount of a 10 k-lead tenant took several
/// times longer that way.
macro_rules! furthest_sql {
    () => {
        concat!(
            "coalesce((SELECT s.id FROM stages s
               WHERE s.id IN (SELECT l.stage_id
                              UNION ALL SELECT h.to_stage FROM stage_history h
                                        WHERE h.lead_id = l.id)
                 AND s.tenant_id = l.tenant_id AND s.kind <> 'lost'
               ORDER BY s.position DESC, s.created_at DESC LIMIT 1), '')"
        )
    };
}

/// The rows a stored lead counts in now (none when it is spam or gone).
fn keys_of_stored(conn: &Connection, lead: Uuid) -> Result<Vec<DayKey>, StoreError> {
    type Facts = (
        String,
        i64,
        String,
        String,
        Option<String>,
        Option<String>,
        bool,
        bool,
        String,
    );
    let row: Option<Facts> = conn
        .prepare_cached(concat!(
            "SELECT l.tenant_id, l.created_at, l.stage_id, l.source, l.utm_source, l.utm_campaign,
                    l.first_contacted_at IS NOT NULL, l.is_spam, ",
            furthest_sql!(),
            " FROM leads l WHERE l.id = ?1"
        ))?
        .query_row([lead.to_string()], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
                r.get(8)?,
            ))
        })
        .optional()?;
    let Some((tenant, created, stage, source, us, uc, contacted, spam, furthest)) = row else {
        return Ok(Vec::new());
    };
    if spam {
        return Ok(Vec::new());
    }
    Ok(Counted {
        tenant: Uuid::parse_str(&tenant)?,
        day: day_of(created),
        stage: &stage,
        furthest: &furthest,
        source: &source,
        utm_source: us.as_deref(),
        utm_campaign: uc.as_deref(),
        contacted,
    }
    .keys())
}

/// Takes a stored lead's counts out: before a change to it (then [`put_in`] after), or
/// before it is erased — while its row and stage history are still there. The one call a
/// lead erase needs.
pub(crate) fn take_out(conn: &Connection, lead: Uuid) -> Result<(), StoreError> {
    for k in keys_of_stored(conn, lead)? {
        add(conn, &k, -1)?;
    }
    Ok(())
}

/// Counts a stored lead as it is now: after manual entry, or after a change that
/// [`take_out`] preceded.
pub(crate) fn put_in(conn: &Connection, lead: Uuid) -> Result<(), StoreError> {
    for k in keys_of_stored(conn, lead)? {
        add(conn, &k, 1)?;
    }
    Ok(())
}

/// Counts a tenant's leads again from the rows and their stage history.
pub(crate) fn recount(conn: &Connection, tenant: Uuid) -> Result<(), StoreError> {
    let tid = tenant.to_string();
    forget_tenant(conn, tenant)?;
    conn.prepare_cached(concat!(
        "WITH f AS MATERIALIZED (
            SELECT (l.created_at - ((l.created_at % 86400000) + 86400000) % 86400000) / 86400000
                       AS day,
                   l.stage_id, l.source, l.utm_source, l.utm_campaign,
                   l.first_contacted_at IS NOT NULL AS contacted, ",
        furthest_sql!(),
        " AS reach
            FROM leads l WHERE l.tenant_id = ?1 AND l.is_spam = 0
        )
        INSERT INTO lead_days (tenant_id, day, dim, key, leads)
            SELECT ?1, day, 0, stage_id, count(*) FROM f GROUP BY day, stage_id
            UNION ALL
            SELECT ?1, day, 1, reach, count(*) FROM f GROUP BY day, reach
            UNION ALL
            SELECT ?1, day, 2, source, count(*) FROM f GROUP BY day, source
            UNION ALL
            SELECT ?1, day, 3, utm_source, count(*) FROM f WHERE utm_source IS NOT NULL
                GROUP BY day, utm_source
            UNION ALL
            SELECT ?1, day, 4, utm_campaign, count(*) FROM f WHERE utm_campaign IS NOT NULL
                GROUP BY day, utm_campaign
            UNION ALL
            SELECT ?1, day, 5, '', count(*) FROM f WHERE contacted GROUP BY day"
    ))?
    .execute([tid])?;
    Ok(())
}

/// Deletes a tenant's counts (its purge).
pub(crate) fn forget_tenant(conn: &Connection, tenant: Uuid) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM lead_days WHERE tenant_id = ?1")?
        .execute([tenant.to_string()])?;
    Ok(())
}

/// The funnel of a pipeline: its stages other than lost ones, in order. A lead's furthest
/// funnel stage depends on it alone, so a pipeline edit that leaves it as it was leaves
/// the counts right.
pub(crate) fn funnel(pipeline: &[Stage]) -> Vec<Uuid> {
    pipeline
        .iter()
        .filter(|s| s.kind != StageKind::Lost)
        .map(|s| s.id)
        .collect()
}

fn date_of(day: i64) -> Result<NaiveDate, StoreError> {
    DateTime::<Utc>::from_timestamp(day.saturating_mul(86_400), 0)
        .map(|d| d.date_naive())
        .ok_or_else(|| StoreError::Internal(format!("day {day} out of range")))
}

/// A tenant's counts over the whole UTC days `[from_day, to_day)`: one pass over its rows
/// of those days, in key order, added up here (a `GROUP BY` sorted them in a temporary
/// B-tree and needed a second pass for the days; on the 1 M-lead benchmark this read
/// takes about half the time).
pub(crate) fn kept(
    conn: &Connection,
    tenant: Uuid,
    from_day: i64,
    to_day: i64,
) -> Result<KeptCounts, StoreError> {
    let mut by_dim: [HashMap<String, u64>; 6] = Default::default();
    let mut per_day: Vec<(i64, u64)> = Vec::new();
    let mut stmt = conn.prepare_cached(
        "SELECT day, dim, key, leads FROM lead_days
         WHERE tenant_id = ?1 AND day >= ?2 AND day < ?3",
    )?;
    let mut rows = stmt.query(params![
        &*tenant.hyphenated().encode_lower(&mut Uuid::encode_buffer()),
        from_day,
        to_day
    ])?;
    while let Some(r) = rows.next()? {
        let (day, dim, n): (i64, u8, i64) = (r.get(0)?, r.get(1)?, r.get(3)?);
        let dim = usize::from(dim);
        let n = u64::try_from(n).unwrap_or(0);
        let Some(map) = by_dim.get_mut(dim) else {
            continue;
        };
        let key = r.get_ref(2)?.as_str().map_err(rusqlite::Error::from)?;
        match map.get_mut(key) {
            Some(c) => *c += n,
            None => {
                map.insert(key.to_string(), n);
            }
        }
        if dim == usize::from(STAGE) {
            match per_day.last_mut() {
                Some((d, c)) if *d == day => *c += n,
                _ => per_day.push((day, n)),
            }
        }
    }
    let [stage, furthest, source, utm_source, utm_campaign, contacted] = by_dim;
    let mut k = KeptCounts {
        by_source: source,
        by_utm_source: utm_source,
        by_utm_campaign: utm_campaign,
        contacted: contacted.values().sum(),
        ..KeptCounts::default()
    };
    for (key, n) in stage {
        *k.now_in.entry(Uuid::parse_str(&key)?).or_default() += n;
    }
    for (key, n) in furthest {
        let stage = (!key.is_empty())
            .then(|| Uuid::parse_str(&key))
            .transpose()?;
        *k.furthest.entry(stage).or_default() += n;
    }
    for (day, n) in per_day {
        if n > 0 {
            *k.per_day.entry(date_of(day)?).or_default() += n;
        }
    }
    Ok(k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Store, StoreOptions};
    use echo5_core::authorization::Reach;
    use echo5_core::clock::ManualClock;
    use echo5_core::crypto::MasterKey;
    use echo5_core::leads::{LeadPatch, NewLead};
    use echo5_core::tenants::{self, NewTenant};
    use std::sync::Arc;

    /// A lead erase (the store's own, which takes the lead's counts out with [`take_out`]
    /// before the row and its stage history go): the kept answer still equals the scan.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_erased_lead_leaves_the_counts() {
        let dir = tempfile::tempdir().unwrap();
        let now = DateTime::from_timestamp(1_780_000_000, 0).unwrap();
        let s = Store::open(
            &dir.path().join("e.db"),
            MasterKey::from_bytes([1; 32], 1),
            Arc::new(ManualClock::new(now)),
            StoreOptions::default(),
        )
        .unwrap();
        let input: NewTenant = serde_json::from_str(r#"{"name":"Erase Co"}"#).unwrap();
        let (f, sec) = tenants::validate_new(&input).unwrap();
        let t = s.create_tenant("t".into(), f, sec).await.unwrap().value;
        let stages = s.list_stages(t.id.into()).await.unwrap();
        let mut ids = Vec::new();
        for i in 0..4 {
            let new = NewLead {
                name: Some(format!("L{i}")),
                utm_source: Some("google".into()),
                ..NewLead::default()
            };
            let l = s.create_lead("t".into(), t.id.into(), new).await.unwrap();
            ids.push(l.value.lead.id);
        }
        // The one erased went furthest: its history is what made it count there.
        let far = stages
            .iter()
            .rfind(|s| s.kind != StageKind::Lost)
            .unwrap()
            .id;
        for to in [far, stages[0].id] {
            let patch = LeadPatch {
                stage_id: Some(to),
                ..LeadPatch::default()
            };
            s.patch_lead("t".into(), ids[0], patch, Reach::All)
                .await
                .unwrap();
        }
        let erased = ids[0];
        s.erase_lead("t".into(), erased, Reach::All).await.unwrap();
        let (from, to) = echo5_core::analytics::global_window(now, 7);
        let kept = s.analytics_of(Vec::new(), from, to).await.unwrap().unwrap();
        let mut scan = s
            .analytics_of_scanned(Vec::new(), from, to)
            .await
            .unwrap()
            .unwrap();
        scan[0].analytics.first_contact.median_minutes = None;
        scan[0].analytics.first_contact.p90_minutes = None;
        assert_eq!(kept[0].analytics.total, 3);
        assert_eq!(kept, scan);
        // Nothing is left of it, not even rows counted down to zero.
        let rows: i64 = s
            .read(move |c| {
                Ok(c.query_row(
                    "SELECT count(*) FROM lead_days WHERE dim = 1 AND key = ?1",
                    [far.to_string()],
                    |r| r.get(0),
                )?)
            })
            .await
            .unwrap();
        assert_eq!(rows, 0);
        s.shutdown().await;
    }
}
