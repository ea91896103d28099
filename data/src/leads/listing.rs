//! One tenant's leads listed: filters and keyset pagination, newest first.

use chrono::{DateTime, Utc};
use echo5_core::authorization::Reach;
use echo5_core::leads::{Lead, LeadQuery, SpamFilter};
use echo5_core::page::{self, Cursor, Page};
use echo5_core::sla::SlaRule;
use rusqlite::params_from_iter;
use rusqlite::types::Value as Sql;
use uuid::Uuid;

use crate::Store;
use crate::error::StoreError;
use crate::leads::{self, COLUMNS};
use crate::stages;
use crate::tenants::{self, TenantKey, TenantRow};

/// Builds the WHERE clause of a listing of the leads `reach` covers. Returns the SQL and
/// its parameters.
pub(crate) fn listing_sql(
    tenant: &TenantRow,
    intake: Uuid,
    q: &LeadQuery,
    reach: Reach,
    now: DateTime<Utc>,
) -> (String, Vec<Sql>) {
    listing_sql_with(COLUMNS, tenant, intake, q, reach, now)
}

/// [`listing_sql`] selecting `columns` (the all-leads merge reads only keys first).
pub(crate) fn listing_sql_with(
    columns: &str,
    tenant: &TenantRow,
    intake: Uuid,
    q: &LeadQuery,
    reach: Reach,
    now: DateTime<Utc>,
) -> (String, Vec<Sql>) {
    let mut sql = format!("SELECT {columns} FROM leads WHERE tenant_id = ?");
    let mut args: Vec<Sql> = vec![Sql::Text(tenant.id.to_string())];
    if let Reach::AssignedTo(user) = reach {
        // Read along `leads_tenant_assignee` (tenant, assignee, spam, time).
        sql.push_str(" AND assigned_to = ?");
        args.push(Sql::Text(user.to_string()));
    }
    match q.spam {
        SpamFilter::Hide => sql.push_str(" AND is_spam = 0"),
        SpamFilter::Only => sql.push_str(" AND is_spam = 1"),
        SpamFilter::Include => {}
    }
    if let Some(stage) = q.stage {
        sql.push_str(" AND stage_id = ?");
        args.push(Sql::Text(stage.to_string()));
    }
    if let Some(source) = q.source {
        sql.push_str(" AND source = ?");
        args.push(Sql::Text(source.as_str().into()));
    }
    if let Some(from) = q.from {
        sql.push_str(" AND created_at >= ?");
        args.push(Sql::Integer(from.timestamp_millis()));
    }
    if let Some(to) = q.to {
        sql.push_str(" AND created_at < ?");
        args.push(Sql::Integer(to.timestamp_millis()));
    }
    if let Some(text) = &q.q {
        // A substring scan in newest-first order; fine for the console's filter box. A
        // full-text index is the step after this.
        let like = format!(
            "%{}%",
            text.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        sql.push_str(
            " AND (lower(name) LIKE ? ESCAPE '\\' OR email LIKE ? ESCAPE '\\' OR phone LIKE ? ESCAPE '\\' \
             OR lower(message) LIKE ? ESCAPE '\\')",
        );
        for _ in 0..4 {
            args.push(Sql::Text(like.clone()));
        }
    }
    if let Some(b) = q.breached {
        let cutoff = SlaRule::of(&tenant.fields.settings)
            .breach_cutoff(now)
            .timestamp_millis();
        let cond = "(stage_id = ? AND is_spam = 0 AND duplicate_of IS NULL AND created_at < ?)";
        if b {
            sql.push_str(&format!(" AND {cond}"));
        } else {
            sql.push_str(&format!(" AND NOT {cond}"));
        }
        args.push(Sql::Text(intake.to_string()));
        args.push(Sql::Integer(cutoff));
    }
    if let Some(c) = &q.cursor {
        sql.push_str(" AND (created_at, id) < (?, ?)");
        args.push(Sql::Integer(c.ts));
        args.push(Sql::Text(c.id.clone()));
    }
    sql.push_str(" ORDER BY created_at DESC, id DESC LIMIT ?");
    args.push(Sql::Integer(q.limit as i64 + 1));
    (sql, args)
}

impl Store {
    /// One page of a tenant's leads that `reach` covers, newest first.
    pub async fn list_leads(
        &self,
        tenant: TenantKey,
        q: LeadQuery,
        reach: Reach,
    ) -> Result<Page<Lead>, StoreError> {
        let now = self.now();
        self.read(move |c| {
            let t = tenants::get(c, &tenant)?;
            let intake = stages::intake(c, t.id)?;
            let (sql, args) = listing_sql(&t, intake, &q, reach, now);
            let mut stmt = c.prepare_cached(&sql)?;
            let mut rows = stmt
                .query_map(params_from_iter(args), leads::from_row)?
                .collect::<Result<Vec<_>, _>>()?;
            leads::notes::attach(c, &mut rows)?;
            Ok(page::paginate(rows, q.limit, |l| Cursor {
                ts: l.created_at.timestamp_millis(),
                id: l.id.to_string(),
            }))
        })
        .await
    }

    /// The query plan SQLite picks for a listing (for tests that guard the indexes).
    pub async fn explain_listing(
        &self,
        tenant: TenantKey,
        q: LeadQuery,
        reach: Reach,
    ) -> Result<String, StoreError> {
        let now = self.now();
        self.read(move |c| {
            let t = tenants::get(c, &tenant)?;
            let intake = stages::intake(c, t.id)?;
            let (sql, args) = listing_sql(&t, intake, &q, reach, now);
            let mut stmt = c.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
            let rows = stmt
                .query_map(params_from_iter(args), |r| r.get::<_, String>(3))?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows.join("\n"))
        })
        .await
    }
}
