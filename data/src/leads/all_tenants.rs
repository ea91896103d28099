//! Every tenant's leads in one list (the platform view), newest first.

use chrono::{DateTime, Utc};
// Every tenant's leads is a platform view: its principals reach every lead.
use echo5_core::authorization::Reach;
use echo5_core::leads::LeadWithTenant;
use echo5_core::leads::{LeadQuery, SpamFilter};
use echo5_core::page::{self, Cursor, Page};
use rusqlite::types::Value as Sql;
use rusqlite::{Connection, OptionalExtension, params_from_iter};
use std::collections::{BinaryHeap, VecDeque};
use uuid::Uuid;

use crate::Store;
use crate::error::StoreError;
use crate::leads;
use crate::leads::listing::listing_sql_with;
use crate::stages;
use crate::tenants::{self, TenantKey, TenantRow};

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
        let (sql, args) = listing_sql_with("created_at, id", t, self.intake, &q, Reach::All, now);
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
    leads::notes::attach(c, rows.iter_mut().map(|r| &mut r.lead))?;
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

impl Store {
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

    /// The query plans of an all-leads page's phase-1 reads (for tests guarding the indexes).
    pub async fn explain_all_leads(&self, q: LeadQuery) -> Result<String, StoreError> {
        let now = self.now();
        self.read(move |c| {
            let t = tenants::all(c)?
                .into_iter()
                .next()
                .ok_or_else(|| StoreError::Internal("no tenants".into()))?;
            let intake = stages::intake(c, t.id)?;
            let (sql, args): (String, Vec<Sql>) =
                listing_sql_with("created_at, id", &t, intake, &q, Reach::All, now);
            let mut stmt = c.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
            let rows = stmt
                .query_map(params_from_iter(args), |r| r.get::<_, String>(3))?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows.join("\n"))
        })
        .await
    }
}
