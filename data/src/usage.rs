//! Usage metering. Counts that come with a stored lead (accepted, spam, duplicates) are
//! written in the lead's own transaction; counts that come with every request (API calls,
//! rejections) are collected in memory and added in one batch by
//! [`Store::flush_coalesced`](crate::Store::flush_coalesced), so metering costs no write per
//! request. The usage report reads the counters back per tenant and month.

use chrono::{DateTime, Utc};
use echo5_core::clock::from_millis;
use echo5_core::usage::{self, KeyUsage, Month, TenantUsage};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Mutex;
use uuid::Uuid;

use crate::Store;
use crate::error::StoreError;
use crate::tally::{BatchTally, Tally};
use crate::tenants::{self, TenantKey, TenantRow};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub accepted: u64,
    pub spam: u64,
    pub duplicates: u64,
    pub rejected: u64,
    pub api_calls: u64,
}

impl Tally for Counts {
    fn add(&mut self, o: &Counts) {
        self.accepted += o.accepted;
        self.spam += o.spam;
        self.duplicates += o.duplicates;
        self.rejected += o.rejected;
        self.api_calls += o.api_calls;
    }
}

type Slot = (Uuid, Uuid, String);

#[derive(Default)]
pub(crate) struct UsageBuffer {
    pending: Mutex<HashMap<Slot, Counts>>,
}

impl UsageBuffer {
    pub(crate) fn add(&self, tenant: Uuid, key: Uuid, at: DateTime<Utc>, delta: Counts) {
        let mut p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        p.entry((tenant, key, Month::of(at).to_string()))
            .or_default()
            .add(&delta);
    }

    pub(crate) fn take(&self) -> HashMap<Slot, Counts> {
        std::mem::take(&mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()))
    }

    pub(crate) fn restore(&self, back: HashMap<Slot, Counts>) {
        let mut p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        for (slot, c) in back {
            p.entry(slot).or_default().add(&c);
        }
    }
}

/// The usage counts of the leads stored by the running group commit (accepted, spam,
/// duplicates), written once per slot before its COMMIT (see [`crate::tally`]).
/// Leads from an ad platform come without an API key (`None`, stored as `''`).
pub(crate) type BatchUsage = BatchTally<(Uuid, Option<Uuid>, String), Counts>;

impl BatchUsage {
    /// The leads of `tenant` in `month` the running batch has counted so far (its earlier
    /// jobs, and the running one), not yet in `usage_counters`.
    pub(crate) fn staged_accepted(&self, tenant: Uuid, month: &str) -> u64 {
        self.staged_sum(|(t, _, m), c| {
            if *t == tenant && m == month {
                c.accepted
            } else {
                0
            }
        })
    }
}

pub(crate) fn batch_usage() -> BatchUsage {
    BatchTally::new(|conn, (tenant, key, month), c| bump(conn, *tenant, *key, month, c))
}

/// Adds `delta` to a counter row inside the caller's transaction.
pub(crate) fn bump(
    conn: &Connection,
    tenant: Uuid,
    key: Option<Uuid>,
    month: &str,
    d: &Counts,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO usage_counters(tenant_id, api_key_id, month, accepted, spam, duplicates, rejected, api_calls)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT(tenant_id, api_key_id, month) DO UPDATE SET
           accepted = accepted + excluded.accepted, spam = spam + excluded.spam,
           duplicates = duplicates + excluded.duplicates, rejected = rejected + excluded.rejected,
           api_calls = api_calls + excluded.api_calls",
    )?
    .execute(params![
        tenant.to_string(),
        key.map(|k| k.to_string()).unwrap_or_default(),
        month,
        d.accepted as i64,
        d.spam as i64,
        d.duplicates as i64,
        d.rejected as i64,
        d.api_calls as i64
    ])?;
    Ok(())
}

fn counts_from(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<[u64; 5]> {
    let mut v = [0u64; 5];
    for (i, slot) in v.iter_mut().enumerate() {
        *slot = r.get::<_, i64>(at + i)?.max(0) as u64;
    }
    Ok(v)
}

/// Usage of `tenants` in `month`: counters (one indexed read), storage bytes from
/// `lead_counts`, and the newest non-spam lead per tenant (one index seek each).
fn usage(
    c: &Connection,
    tenants: &[TenantRow],
    month: Month,
    now: DateTime<Utc>,
) -> Result<Vec<TenantUsage>, StoreError> {
    let only = (tenants.len() == 1).then(|| tenants[0].id.to_string());
    let mut by_tenant: HashMap<String, Vec<KeyUsage>> = HashMap::new();
    {
        let mut stmt = c.prepare_cached(
            "SELECT u.tenant_id, u.api_key_id, k.prefix, k.label,
                    u.accepted, u.spam, u.duplicates, u.rejected, u.api_calls
             FROM usage_counters u LEFT JOIN api_keys k ON k.id = u.api_key_id
             WHERE u.month = ?1 AND (?2 IS NULL OR u.tenant_id = ?2)
             ORDER BY u.tenant_id, u.api_key_id",
        )?;
        let rows = stmt
            .query_map(params![month.to_string(), only], |r| {
                let key: String = r.get(1)?;
                let [accepted, spam, duplicates, rejected, api_calls] = counts_from(r, 4)?;
                Ok((
                    r.get::<_, String>(0)?,
                    KeyUsage {
                        key_id: Uuid::parse_str(&key).ok(),
                        prefix: r.get(2)?,
                        name: r.get(3)?,
                        accepted,
                        spam,
                        duplicates,
                        rejected,
                        api_calls,
                    },
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        for (t, k) in rows {
            by_tenant.entry(t).or_default().push(k);
        }
    }
    let storage: HashMap<String, i64> = c
        .prepare_cached(
            "SELECT tenant_id, coalesce(sum(bytes), 0) FROM lead_counts
             WHERE ?1 IS NULL OR tenant_id = ?1 GROUP BY tenant_id",
        )?
        .query_map(params![only], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let reference = usage::usage_reference(month, now);
    let mut last = c.prepare_cached(
        "SELECT created_at FROM leads INDEXED BY leads_tenant_created
         WHERE tenant_id = ?1 AND is_spam = 0 AND created_at <= ?2
         ORDER BY created_at DESC LIMIT 1",
    )?;
    let mut out = Vec::with_capacity(tenants.len());
    for t in tenants {
        let id = t.id.to_string();
        let keys = by_tenant.remove(&id).unwrap_or_default();
        let last_lead_at = last
            .query_row(params![id, reference.timestamp_millis()], |r| {
                r.get::<_, i64>(0)
            })
            .optional()?
            .map(from_millis);
        let sum = |f: fn(&KeyUsage) -> u64| keys.iter().map(f).sum::<u64>();
        out.push(TenantUsage {
            tenant: t.tref(),
            accepted: sum(|k| k.accepted),
            spam: sum(|k| k.spam),
            duplicates: sum(|k| k.duplicates),
            rejected: sum(|k| k.rejected),
            api_calls: sum(|k| k.api_calls),
            storage_bytes: storage.get(&id).copied().unwrap_or(0).max(0) as u64,
            active: usage::is_active(last_lead_at, reference),
            last_lead_at,
            keys,
            plan: None,
        });
    }
    Ok(out)
}

impl Store {
    /// Counts a refused request made with a valid key (bad body, over the rate limit...).
    pub fn count_rejected(&self, tenant: Uuid, key: Uuid) {
        self.usage().add(
            tenant,
            key,
            self.now(),
            Counts {
                rejected: 1,
                ..Counts::default()
            },
        );
    }

    /// Usage of every tenant (in slug order) or of one, in `month`. Counts still buffered
    /// in memory (API calls, rejections) are written first, so the answer is current.
    pub async fn usage_report(
        &self,
        month: Month,
        tenant: Option<TenantKey>,
    ) -> Result<Vec<TenantUsage>, StoreError> {
        if let Err(e) = self.flush_coalesced().await {
            // Still answer from what is stored; the buffered counts follow at the next flush.
            tracing::warn!(error = %e, "usage read without flushing buffered counts");
        }
        let now = self.now();
        let mut plans = self.plan_use(month).await?;
        let mut out = self
            .read(move |c| {
                let mut rows = tenants::one_or_all(c, tenant.as_ref())?;
                rows.sort_by(|a, b| a.fields.slug.cmp(&b.fields.slug));
                usage(c, &rows, month, now)
            })
            .await?;
        for t in &mut out {
            t.plan = plans.remove(&t.tenant.id);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::writer::WriteObserver;

    fn counters(conn: &Connection) -> Vec<(String, i64, i64, i64)> {
        conn.prepare("SELECT month, accepted, spam, duplicates FROM usage_counters ORDER BY month")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    /// Ends a group commit the way the writer does: counts written before COMMIT, then the
    /// batch told whether its transaction was kept (`commit`) or rolled back.
    fn end_batch(conn: &Connection, b: &BatchUsage, commit: bool) {
        conn.execute_batch("BEGIN").unwrap();
        b.before_commit(conn).unwrap();
        conn.execute_batch(if commit { "COMMIT" } else { "ROLLBACK" })
            .unwrap();
        b.batch_done(commit);
    }

    #[test]
    fn a_batch_writes_the_sum_of_its_successful_jobs_once() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::db::open_writer(&dir.path().join("t.db")).unwrap();
        // No foreign keys on the counters: any ids do.
        let (tenant, key) = (Uuid::from_u128(1), Some(Uuid::from_u128(2)));
        let one = |spam: u64| Counts {
            accepted: 1,
            spam,
            ..Counts::default()
        };
        let b = batch_usage();

        b.add((tenant, key, "2026-11".into()), one(0));
        b.job_done(true);
        b.add((tenant, key, "2026-11".into()), one(1));
        b.job_done(false); // this job failed: its count goes
        b.add((tenant, key, "2026-11".into()), one(1));
        b.add((tenant, key, "2026-12".into()), one(0));
        b.job_done(true);
        end_batch(&conn, &b, true);
        assert_eq!(
            counters(&conn),
            vec![("2026-11".into(), 2, 1, 0), ("2026-12".into(), 1, 0, 0)]
        );

        // A batch whose commit fails: its counts are rolled back with it and not carried
        // into the next batch.
        b.add((tenant, key, "2026-11".into()), one(0));
        b.job_done(true);
        end_batch(&conn, &b, false);
        b.add(
            (tenant, key, "2026-11".into()),
            Counts {
                duplicates: 1,
                accepted: 1,
                ..Counts::default()
            },
        );
        b.job_done(true);
        end_batch(&conn, &b, true);
        assert_eq!(
            counters(&conn),
            vec![("2026-11".into(), 3, 1, 1), ("2026-12".into(), 1, 0, 0)]
        );
    }
}
