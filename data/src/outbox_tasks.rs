//! The outbox's task queue (see `echo5_core::outbox_tasks`): [`enqueue`] inside the write
//! job of the change that causes a task, the tasks due now for the worker, and what follows
//! a run (done, retried on the schedule, parked with its group, failed).

use chrono::{DateTime, Utc};
use echo5_core::clock::from_millis;
use echo5_core::outbox_tasks::{
    ERASED, ERROR_KEPT_CHARS, NewTask, TaskKind, TaskOutcome, TaskStatus,
};
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;
use uuid::Uuid;

use crate::Store;
use crate::error::StoreError;

/// A task as stored.
#[derive(Debug, Clone, Serialize)]
pub struct Task {
    pub id: Uuid,
    /// The kind's name (a kind this build does not know stays readable).
    pub kind: String,
    pub tenant_id: Option<Uuid>,
    pub group: Option<String>,
    pub dedup_key: Option<String>,
    pub payload: serde_json::Value,
    pub status: TaskStatus,
    pub attempts: u32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, kind, tenant_id, grp, dedup_key, payload, status, attempts, \
                       next_attempt_at, last_error, created_at, updated_at";

fn task_of(r: &Row) -> rusqlite::Result<Task> {
    let bad = |i: usize, what: String| {
        rusqlite::Error::FromSqlConversionFailure(
            i,
            rusqlite::types::Type::Text,
            Box::<dyn std::error::Error + Send + Sync>::from(what),
        )
    };
    let id: String = r.get(0)?;
    let tenant: Option<String> = r.get(2)?;
    let payload: String = r.get(5)?;
    let status: String = r.get(6)?;
    Ok(Task {
        id: Uuid::parse_str(&id).map_err(|e| bad(0, e.to_string()))?,
        kind: r.get(1)?,
        tenant_id: tenant
            .map(|t| Uuid::parse_str(&t).map_err(|e| bad(2, e.to_string())))
            .transpose()?,
        group: r.get(3)?,
        dedup_key: r.get(4)?,
        payload: serde_json::from_str(&payload).map_err(|e| bad(5, e.to_string()))?,
        status: TaskStatus::parse(&status).ok_or_else(|| bad(6, status.clone()))?,
        attempts: r.get::<_, i64>(7)?.max(0) as u32,
        next_attempt_at: r.get::<_, Option<i64>>(8)?.map(from_millis),
        last_error: r.get(9)?,
        created_at: from_millis(r.get(10)?),
        updated_at: from_millis(r.get(11)?),
    })
}

/// Whether `group` is parked (it has a parked task).
pub(crate) fn group_parked(conn: &Connection, group: &str) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM outbox_tasks WHERE grp = ?1 AND status = 'parked' LIMIT 1")?
        .query_row([group], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Queues a task in the caller's transaction. `None`: a task of its kind with its dedup
/// key was queued before (whatever became of it), and nothing is written. A task queued
/// into a parked group waits parked with it.
pub(crate) fn enqueue(
    conn: &Connection,
    t: &NewTask,
    now: DateTime<Utc>,
) -> Result<Option<Uuid>, StoreError> {
    let parked = match &t.group {
        Some(g) => group_parked(conn, g)?,
        None => false,
    };
    let (status, next) = if parked {
        (TaskStatus::Parked, None)
    } else {
        (TaskStatus::Pending, Some(t.due_at.timestamp_millis()))
    };
    let id = Uuid::new_v4();
    let n = conn
        .prepare_cached(
            "INSERT INTO outbox_tasks(id, kind, tenant_id, grp, dedup_key, payload, status,
                                      next_attempt_at, created_at, updated_at, lead_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10)
             ON CONFLICT DO NOTHING",
        )?
        .execute(params![
            id.to_string(),
            t.kind.as_str(),
            t.tenant_id.map(|u| u.to_string()),
            t.group,
            t.dedup_key,
            t.payload.to_string(),
            status.as_str(),
            next,
            now.timestamp_millis(),
            t.lead_id.map(|u| u.to_string()),
        ])?;
    Ok((n == 1).then_some(id))
}

/// Forgets what the outbox holds about an erased lead, in the erasure's transaction: the
/// bodies of messages already built about it keep their type and time and name the lead by
/// id only (a retry sends that), and its tasks lose their payload; those not yet sent end
/// failed with [`ERASED`].
pub(crate) fn scrub_lead(
    conn: &Connection,
    lead: Uuid,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let id = lead.to_string();
    conn.prepare_cached(
        "UPDATE outbox_messages
         SET payload = json_object('type', json_extract(payload, '$.type'),
                                   'timestamp', json_extract(payload, '$.timestamp'),
                                   'data', json_object('id', lead_id, 'tenant_id', tenant_id))
         WHERE lead_id = ?1 AND payload IS NOT NULL",
    )?
    .execute([&id])?;
    conn.prepare_cached(
        "UPDATE outbox_tasks
         SET payload = '{}', updated_at = ?2,
             status = CASE WHEN status IN ('pending', 'parked') THEN 'failed' ELSE status END,
             last_error = CASE WHEN status IN ('pending', 'parked') THEN ?3 ELSE last_error END,
             next_attempt_at = NULL
         WHERE lead_id = ?1",
    )?
    .execute(params![id, now.timestamp_millis(), ERASED])?;
    Ok(())
}

/// Up to `batch` finished tasks last changed before `cutoff`: removed, or, for a task with
/// a dedup key (which must keep refusing its key), emptied of its payload. Returns how
/// many it handled.
pub(crate) fn prune(
    conn: &Connection,
    cutoff: DateTime<Utc>,
    batch: usize,
) -> Result<usize, StoreError> {
    let at = cutoff.timestamp_millis();
    let removed = conn
        .prepare_cached(
            "DELETE FROM outbox_tasks WHERE rowid IN (
                 SELECT rowid FROM outbox_tasks
                 WHERE status IN ('succeeded', 'failed') AND updated_at < ?1 AND dedup_key IS NULL
                 LIMIT ?2)",
        )?
        .execute(params![at, batch as i64])?;
    let emptied = conn
        .prepare_cached(
            "UPDATE outbox_tasks SET payload = '{}' WHERE rowid IN (
                 SELECT rowid FROM outbox_tasks
                 WHERE status IN ('succeeded', 'failed') AND updated_at < ?1
                   AND dedup_key IS NOT NULL AND payload != '{}'
                 LIMIT ?2)",
        )?
        .execute(params![at, (batch - removed) as i64])?;
    Ok(removed + emptied)
}

/// Resumes a parked group in the caller's transaction: its tasks are due at `now`.
pub(crate) fn release_group_in(
    conn: &Connection,
    group: &str,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    Ok(conn
        .prepare_cached(
            "UPDATE outbox_tasks SET status = 'pending', next_attempt_at = ?2, updated_at = ?2
             WHERE grp = ?1 AND status = 'parked'",
        )?
        .execute(params![group, now.timestamp_millis()])?)
}

/// Which tasks [`Store::tasks`] lists; every field narrows.
#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    pub kind: Option<TaskKind>,
    pub tenant_id: Option<Uuid>,
    pub group: Option<String>,
    pub status: Option<TaskStatus>,
}

impl Store {
    /// Queues a task in a write job of its own and wakes the worker. See [`enqueue`].
    pub async fn enqueue_task(&self, t: NewTask) -> Result<Option<Uuid>, StoreError> {
        let now = self.now();
        let id = self.write(move |c| enqueue(c, &t, now)).await?;
        self.wake_outbox();
        Ok(id)
    }

    /// Up to `limit` tasks due now, oldest due first, leaving out those in `running`.
    pub async fn due_tasks(
        &self,
        limit: usize,
        running: Vec<Uuid>,
    ) -> Result<Vec<Task>, StoreError> {
        let now = self.now().timestamp_millis();
        self.read(move |c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM outbox_tasks
                 WHERE status = 'pending' AND next_attempt_at <= ?1
                 ORDER BY next_attempt_at LIMIT ?2"
            ))?;
            let rows = stmt.query_map(params![now, (limit + running.len()) as i64], task_of)?;
            let mut out = Vec::new();
            for r in rows {
                let t = r?;
                if !running.contains(&t.id) && out.len() < limit {
                    out.push(t);
                }
            }
            Ok(out)
        })
        .await
    }

    /// Records a run of a task and what follows. A parked task parks its whole group.
    pub async fn finish_task(&self, id: Uuid, outcome: TaskOutcome) -> Result<(), StoreError> {
        let now = self.now().timestamp_millis();
        self.write(move |c| {
            let (status, next, error) = match &outcome {
                TaskOutcome::Succeeded => (TaskStatus::Succeeded, None, None),
                TaskOutcome::Retry { at, error } => {
                    (TaskStatus::Pending, Some(at.timestamp_millis()), Some(error))
                }
                TaskOutcome::Parked { error } => (TaskStatus::Parked, None, Some(error)),
                TaskOutcome::Failed { error } => (TaskStatus::Failed, None, Some(error)),
            };
            let error = error.map(|e| e.chars().take(ERROR_KEPT_CHARS).collect::<String>());
            let group: Option<Option<String>> = c
                .prepare_cached(
                    "UPDATE outbox_tasks
                     SET status = ?2, attempts = attempts + 1, next_attempt_at = ?3,
                         last_error = COALESCE(?4, last_error), updated_at = ?5
                     WHERE id = ?1 AND status = 'pending'
                     RETURNING grp",
                )?
                .query_row(
                    params![id.to_string(), status.as_str(), next, error, now],
                    |r| r.get(0),
                )
                .optional()?;
            if let (TaskStatus::Parked, Some(Some(g))) = (status, group) {
                c.prepare_cached(
                    "UPDATE outbox_tasks SET status = 'parked', next_attempt_at = NULL, updated_at = ?2
                     WHERE grp = ?1 AND status = 'pending'",
                )?
                .execute(params![g, now])?;
            }
            Ok(())
        })
        .await
    }

    /// Resumes a parked group (its tasks are due now) and wakes the worker; returns how
    /// many tasks it resumed.
    pub async fn release_group(&self, group: String) -> Result<usize, StoreError> {
        let now = self.now();
        let n = self
            .write(move |c| release_group_in(c, &group, now))
            .await?;
        if n > 0 {
            self.wake_outbox();
        }
        Ok(n)
    }

    /// Tasks matching `filter`, oldest first, at most `limit`.
    pub async fn tasks(&self, filter: TaskFilter, limit: usize) -> Result<Vec<Task>, StoreError> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM outbox_tasks
                 WHERE (?1 IS NULL OR kind = ?1) AND (?2 IS NULL OR tenant_id = ?2)
                   AND (?3 IS NULL OR grp = ?3) AND (?4 IS NULL OR status = ?4)
                 ORDER BY created_at, rowid LIMIT ?5"
            ))?;
            let rows = stmt.query_map(
                params![
                    filter.kind.map(TaskKind::as_str),
                    filter.tenant_id.map(|u| u.to_string()),
                    filter.group,
                    filter.status.map(TaskStatus::as_str),
                    limit as i64
                ],
                task_of,
            )?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }
}
