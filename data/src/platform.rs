//! Platform administration: the platform settings, every tenant's leads in one list, and
//! usage per month.

use chrono::{DateTime, Utc};
use echo5_core::DomainError;
use echo5_core::audit::AuditRecord;
use echo5_core::clock::from_millis;
use echo5_core::leads::LeadWithTenant;
use echo5_core::leads::{LeadQuery, SpamFilter};
use echo5_core::page::{self, Cursor, Page};
use echo5_core::platform_settings::{self, PlatformSettings};
use echo5_core::usage::{self, KeyUsage, Month, TenantUsage};
use rusqlite::types::Value as Sql;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};
use serde_json::json;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::sync::{Arc, RwLock};
use uuid::Uuid;

use crate::audit;
use crate::error::StoreError;
use crate::leads;
use crate::stages;
use crate::store::Store;
use crate::tenants::{self, TenantKey, TenantRow};
use crate::workflow::listing_sql_with;

/// The stored settings, or the built-in defaults when none were ever saved.
pub(crate) fn load(conn: &Connection) -> Result<PlatformSettings, StoreError> {
    let doc: Option<String> = conn
        .prepare_cached("SELECT settings FROM platform_settings WHERE id = 1")?
        .query_row([], |r| r.get(0))
        .optional()?;
    match doc {
        Some(d) => Ok(serde_json::from_str(&d)?),
        None => Ok(PlatformSettings::default()),
    }
}

/// The settings in memory: ingest reads the honeypot names on every submission.
pub(crate) struct PlatformCache(RwLock<Option<Arc<PlatformSettings>>>);

impl PlatformCache {
    /// Filled at open, so neither ingest nor tenant creation ever waits for a read (or
    /// competes for the bounded read queue) to learn the settings.
    pub(crate) fn loaded(conn: &Connection) -> Result<PlatformCache, StoreError> {
        Ok(PlatformCache(RwLock::new(Some(Arc::new(load(conn)?)))))
    }

    fn get(&self) -> Option<Arc<PlatformSettings>> {
        self.0.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn put(&self, s: PlatformSettings) -> Arc<PlatformSettings> {
        let s = Arc::new(s);
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = Some(s.clone());
        s
    }
}

/// A named tenant of a `?tenant=` filter that does not exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownTenant(pub String);

/// One tenant's (and one spam side's) newest-first keys, fetched a chunk at a time.
struct Run {
    tenant: usize,
    intake: Uuid,
    q: LeadQuery,
    buf: VecDeque<(i64, String)>,
    done: bool,
}

impl Run {
    /// The next `n` keys (created_at, id) of this run, from the index in listing order.
    fn fetch(
        &mut self,
        c: &Connection,
        t: &TenantRow,
        n: usize,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut q = self.q.clone();
        // listing_sql asks for `limit + 1` rows.
        q.limit = n.saturating_sub(1) as u32;
        let (sql, args) = listing_sql_with("created_at, id", t, self.intake, &q, now);
        let rows = c
            .prepare_cached(&sql)?
            .query_map(params_from_iter(args), |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        self.done = rows.len() < n;
        if let Some((ts, id)) = rows.last() {
            self.q.cursor = Some(Cursor {
                ts: *ts,
                id: id.clone(),
            });
        }
        self.buf.extend(rows);
        Ok(())
    }
}

/// Every tenant's leads (or the named tenants'), newest first: a k-way merge of each
/// tenant's own index range (`leads_tenant_created`, or what its filters pick), so no index
/// over all tenants is needed and ingest pays for none. Phase 1 reads only (created_at, id)
/// keys, a few per tenant at a time; phase 2 reads the page's rows.
fn all_leads(
    c: &Connection,
    tenants: Vec<TenantRow>,
    q: LeadQuery,
    now: DateTime<Utc>,
) -> Result<Page<LeadWithTenant>, StoreError> {
    let intakes = stages::intake_stages(c)?;
    // Spam and clean leads are two ranges of the index; merging them keeps both in order.
    let sides: Vec<SpamFilter> = match q.spam {
        SpamFilter::Include => vec![SpamFilter::Hide, SpamFilter::Only],
        s => vec![s],
    };
    let want = q.limit as usize + 1;
    let mut runs = Vec::with_capacity(tenants.len() * sides.len());
    for (i, t) in tenants.iter().enumerate() {
        let Some(&intake) = intakes.get(&t.id) else {
            continue;
        };
        for side in &sides {
            let mut rq = q.clone();
            rq.spam = *side;
            runs.push(Run {
                tenant: i,
                intake,
                q: rq,
                buf: VecDeque::new(),
                done: false,
            });
        }
    }
    // A first chunk that covers an even spread twice over; a run that turns out to hold
    // more of the page is read further as the merge consumes it.
    let first = (want * 2).div_ceil(runs.len().max(1)).clamp(2, want);
    let mut heap: BinaryHeap<(i64, String, usize)> = BinaryHeap::with_capacity(runs.len());
    for (r, run) in runs.iter_mut().enumerate() {
        run.fetch(c, &tenants[run.tenant], first, now)?;
        if let Some((ts, id)) = run.buf.pop_front() {
            heap.push((ts, id, r));
        }
    }
    let mut keys: Vec<(String, usize)> = Vec::with_capacity(want);
    while keys.len() < want {
        let Some((_, id, r)) = heap.pop() else { break };
        keys.push((id, runs[r].tenant));
        let run = &mut runs[r];
        if run.buf.is_empty() && !run.done {
            let more = (want - keys.len()).max(2);
            run.fetch(c, &tenants[run.tenant], more, now)?;
        }
        if let Some((ts, id)) = run.buf.pop_front() {
            heap.push((ts, id, r));
        }
    }
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {} FROM leads WHERE id = ?1",
        leads::COLUMNS
    ))?;
    let mut rows = Vec::with_capacity(keys.len());
    for (id, t) in keys {
        // A lead deleted between the phases (a purge) simply drops out of this page.
        if let Some(lead) = stmt.query_row([&id], leads::from_row).optional()? {
            rows.push(LeadWithTenant {
                lead,
                tenant: tenants[t].tref(),
            });
        }
    }
    Ok(page::paginate(rows, q.limit, |l| Cursor {
        ts: l.lead.created_at.timestamp_millis(),
        id: l.lead.id.to_string(),
    }))
}

/// The tenants a filter names, or every tenant.
fn scope(
    c: &Connection,
    names: &[String],
) -> Result<Result<Vec<TenantRow>, UnknownTenant>, StoreError> {
    if names.is_empty() {
        return Ok(Ok(tenants::all(c)?));
    }
    let mut out: Vec<TenantRow> = Vec::with_capacity(names.len());
    for n in names {
        match tenants::find(c, &TenantKey::parse(n))? {
            Some(t) if out.iter().any(|o| o.id == t.id) => {}
            Some(t) => out.push(t),
            None => return Ok(Err(UnknownTenant(n.clone()))),
        }
    }
    Ok(Ok(out))
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
        });
    }
    Ok(out)
}

impl Store {
    /// The platform settings, from memory after the first read.
    pub async fn platform_settings(&self) -> Result<Arc<PlatformSettings>, StoreError> {
        if let Some(s) = self.platform_cache().get() {
            return Ok(s);
        }
        let s = self.read(load).await?;
        Ok(self.platform_cache().put(s))
    }

    /// Read-modify-write of the platform settings in one transaction, audited. Returns the
    /// new settings and the names of the fields that changed.
    pub async fn update_platform_settings<F>(
        &self,
        actor: String,
        action: &'static str,
        change: F,
    ) -> Result<(PlatformSettings, Vec<&'static str>), StoreError>
    where
        F: FnOnce(&PlatformSettings) -> Result<PlatformSettings, DomainError> + Send + 'static,
    {
        let now = self.now();
        let (after, changed) = self
            .write(move |c| {
                let before = load(c)?;
                let after = change(&before)?;
                c.prepare_cached(
                    "INSERT INTO platform_settings(id, settings, updated_at) VALUES (1, ?1, ?2)
                     ON CONFLICT(id) DO UPDATE SET settings = excluded.settings,
                                                   updated_at = excluded.updated_at",
                )?
                .execute(params![
                    serde_json::to_string(&after)?,
                    now.timestamp_millis()
                ])?;
                let changed = platform_settings::changed_fields(&before, &after);
                audit::record(
                    c,
                    now,
                    &AuditRecord {
                        actor,
                        action,
                        tenant: None,
                        target: None,
                        details: json!({ "changed": changed }),
                    },
                )?;
                Ok((after, changed))
            })
            .await?;
        self.platform_cache().put(after.clone());
        Ok((after, changed))
    }

    /// One page of every tenant's leads (or the named tenants'), newest first, with the
    /// per-tenant listing's filters. `Ok(Err(_))` names a tenant that does not exist.
    pub async fn all_leads(
        &self,
        tenants: Vec<String>,
        q: LeadQuery,
    ) -> Result<Result<Page<LeadWithTenant>, UnknownTenant>, StoreError> {
        let now = self.now();
        self.read(move |c| match scope(c, &tenants)? {
            Ok(rows) => all_leads(c, rows, q, now).map(Ok),
            Err(unknown) => Ok(Err(unknown)),
        })
        .await
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
        self.read(move |c| {
            let mut rows = match &tenant {
                Some(k) => vec![tenants::get(c, k)?],
                None => tenants::all(c)?,
            };
            rows.sort_by(|a, b| a.fields.slug.cmp(&b.fields.slug));
            usage(c, &rows, month, now)
        })
        .await
    }

    /// The query plans of an all-leads page's phase-1 reads (for tests guarding the indexes).
    pub async fn explain_all_leads(&self, q: LeadQuery) -> Result<String, StoreError> {
        let now = self.now();
        self.read(move |c| {
            let t = tenants::all(c)?
                .into_iter()
                .next()
                .ok_or_else(|| StoreError::Internal("no tenants".into()))?;
            let intake = crate::workflow::intake_of(c, t.id)?;
            let (sql, args): (String, Vec<Sql>) =
                listing_sql_with("created_at, id", &t, intake.id, &q, now);
            let mut stmt = c.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
            let rows = stmt
                .query_map(params_from_iter(args), |r| r.get::<_, String>(3))?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows.join("\n"))
        })
        .await
    }
}
