//! The audit log: one row per admin mutation or key reveal, written in the same transaction
//! as the change it describes, so the log never disagrees with the data.

use chrono::{DateTime, Utc};
use echo5_core::audit::{AuditEntry, AuditRecord};
use echo5_core::clock::from_millis;
use echo5_core::page::{self, Cursor, Page};
use echo5_core::tenants::TenantRef;
use rusqlite::{Connection, params};
use uuid::Uuid;

use crate::Store;
use crate::error::StoreError;

pub(crate) fn record(
    conn: &Connection,
    at: DateTime<Utc>,
    rec: &AuditRecord,
) -> Result<(), StoreError> {
    let (tid, slug, name) = match &rec.tenant {
        Some(t) => (
            Some(t.id.to_string()),
            Some(t.slug.as_str()),
            Some(t.name.as_str()),
        ),
        None => (None, None, None),
    };
    conn.prepare_cached(
        "INSERT INTO audit_log(at, actor, action, tenant_id, tenant_slug, tenant_name, target, details)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        at.timestamp_millis(),
        rec.actor,
        rec.action.as_str(),
        tid,
        slug,
        name,
        rec.target,
        rec.details.to_string()
    ])?;
    Ok(())
}

#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub tenant_id: Option<Uuid>,
    pub action: Option<String>,
    pub limit: u32,
    pub cursor: Option<Cursor>,
}

impl Store {
    /// Newest first.
    pub async fn list_audit(&self, q: AuditQuery) -> Result<Page<AuditEntry>, StoreError> {
        self.read(move |c| {
            let before = match &q.cursor {
                Some(cur) => cur.id.parse::<i64>().map_err(|_| {
                    echo5_core::DomainError::invalid(
                        "cursor",
                        "invalid_cursor",
                        "cursor is not one this API returned",
                    )
                })?,
                None => i64::MAX,
            };
            let mut stmt = c.prepare_cached(
                "SELECT id, at, actor, action, tenant_id, tenant_slug, tenant_name, target, details
                 FROM audit_log
                 WHERE id < ?1 AND (?2 IS NULL OR tenant_id = ?2) AND (?3 IS NULL OR action = ?3)
                 ORDER BY id DESC LIMIT ?4",
            )?;
            let rows = stmt
                .query_map(
                    params![
                        before,
                        q.tenant_id.map(|t| t.to_string()),
                        q.action,
                        q.limit as i64 + 1
                    ],
                    |r| {
                        Ok((
                            r.get::<_, i64>(0)?,
                            r.get::<_, i64>(1)?,
                            r.get::<_, String>(2)?,
                            r.get::<_, String>(3)?,
                            r.get::<_, Option<String>>(4)?,
                            r.get::<_, Option<String>>(5)?,
                            r.get::<_, Option<String>>(6)?,
                            r.get::<_, Option<String>>(7)?,
                            r.get::<_, String>(8)?,
                        ))
                    },
                )?
                .collect::<Result<Vec<_>, _>>()?;
            let mut out = Vec::with_capacity(rows.len());
            for (id, at, actor, action, tid, slug, name, target, details) in rows {
                let tenant = match (tid, slug, name) {
                    (Some(tid), Some(slug), Some(name)) => {
                        Some(TenantRef::new(Uuid::parse_str(&tid)?, slug, name))
                    }
                    _ => None,
                };
                out.push(AuditEntry {
                    id,
                    at: from_millis(at),
                    by: echo5_core::authorization::Actor::from_audit(&actor),
                    actor,
                    action,
                    tenant,
                    target,
                    details: serde_json::from_str(&details)?,
                });
            }
            Ok(page::paginate(out, q.limit, |e| Cursor {
                ts: e.at.timestamp_millis(),
                id: e.id.to_string(),
            }))
        })
        .await
    }
}
