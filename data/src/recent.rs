//! The store's copy of the recent-leads windows ([`echo5_core::dedup`]): loaded from the
//! database at start, changed by write jobs on the writer thread, and kept in step with the
//! transaction by the writer (a rolled-back job or commit takes its entries back).

use chrono::{DateTime, Utc};
use echo5_core::dedup::{self, Answer, ContactHasher, Contacts, RecentLeads};
use echo5_core::leads::Lead;
use rusqlite::{Connection, params};
use std::sync::{Mutex, MutexGuard};
use uuid::Uuid;

use crate::error::StoreError;
use crate::writer::WriteObserver;

#[derive(Debug)]
pub(crate) struct Recent {
    windows: Mutex<RecentLeads>,
    /// The windows' own hasher, outside the lock: callers compute a lead's contact keys
    /// before they take it (on their own thread, not the writer's).
    hasher: ContactHasher,
}

impl Default for Recent {
    fn default() -> Self {
        Recent::new(RecentLeads::default())
    }
}

impl Recent {
    /// Reads the windows back from the leads themselves: the originals of the last 30 days
    /// and the keyed submissions of the last 10 minutes, one index range per tenant.
    pub(crate) fn load(conn: &Connection, now: DateTime<Utc>) -> Result<Recent, StoreError> {
        let mut r = RecentLeads::default();
        let tenants: Vec<String> = conn
            .prepare("SELECT id FROM tenants")?
            .query_map([], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        let dup_since = (now - dedup::DUPLICATE_WINDOW).timestamp_millis();
        let submit_since = (now - dedup::DOUBLE_SUBMIT_WINDOW).timestamp_millis();
        let mut originals = conn.prepare(
            "SELECT id, email, phone, created_at FROM leads INDEXED BY leads_tenant_created
             WHERE tenant_id = ?1 AND is_spam = 0 AND created_at >= ?2
               AND duplicate_of IS NULL AND (email IS NOT NULL OR phone IS NOT NULL)",
        )?;
        let mut submits = conn.prepare(
            "SELECT id, api_key_id, body_hash, created_at, is_spam, duplicate_of IS NOT NULL
             FROM leads INDEXED BY leads_tenant_created
             WHERE tenant_id = ?1 AND is_spam IN (0, 1) AND created_at > ?2
               AND body_hash IS NOT NULL AND api_key_id IS NOT NULL
             ORDER BY created_at",
        )?;
        for tid in &tenants {
            let tenant = Uuid::parse_str(tid)?;
            let mut rows = originals.query(params![tid, dup_since])?;
            while let Some(row) = rows.next()? {
                let id = Uuid::parse_str(&row.get::<_, String>(0)?)?;
                let email: Option<String> = row.get(1)?;
                let phone: Option<String> = row.get(2)?;
                let at = echo5_core::clock::from_millis(row.get(3)?);
                r.add_original(tenant, email.as_deref(), phone.as_deref(), at, id, now);
            }
            let mut rows = submits.query(params![tid, submit_since])?;
            while let Some(row) = rows.next()? {
                let hash: Vec<u8> = row.get(2)?;
                let Ok(hash) = <[u8; 16]>::try_from(hash.as_slice()) else {
                    continue;
                };
                let answer = Answer {
                    lead: Uuid::parse_str(&row.get::<_, String>(0)?)?,
                    spam: row.get(4)?,
                    duplicate: row.get(5)?,
                };
                let key = Uuid::parse_str(&row.get::<_, String>(1)?)?;
                let at = echo5_core::clock::from_millis(row.get(3)?);
                r.add_submit(key, hash, at, answer);
            }
        }
        // What was read is durable already.
        r.batch_done(true);
        Ok(Recent::new(r))
    }

    fn new(windows: RecentLeads) -> Recent {
        Recent {
            hasher: windows.hasher(),
            windows: Mutex::new(windows),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, RecentLeads> {
        // A job that panicked while holding it left whole entries behind (each change is
        // one insert), and the writer undoes that job's changes: the data stays usable.
        self.windows.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The keys of a lead's contacts within `tenant`, for the lookups and records of
    /// [`RecentLeads`].
    pub(crate) fn contacts(&self, tenant: Uuid, lead: &Lead) -> Contacts {
        self.hasher
            .contacts(tenant, lead.email.as_deref(), lead.phone.as_deref())
    }

    /// Records a lead just written, if it is one later leads can duplicate.
    pub(crate) fn remember(&self, lead: &Lead, now: DateTime<Utc>) {
        let contacts = self.contacts(lead.tenant_id, lead);
        self.lock().add_lead(lead, &contacts, now);
    }
}

impl WriteObserver for Recent {
    fn job_done(&self, ok: bool) {
        self.lock().job_done(ok);
    }

    fn before_commit(&self, _conn: &Connection) -> Result<(), StoreError> {
        Ok(())
    }

    fn batch_done(&self, ok: bool) {
        self.lock().batch_done(ok);
    }
}
