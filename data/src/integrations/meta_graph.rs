//! What the Meta lead fetches keep: the lead forms a tenant's notifications named (a
//! backfill reads them), the tenant's access token in clear for one fetch, and the broken
//! state a refused token sets and a new token clears.

use chrono::{DateTime, Utc};
use echo5_core::integrations::IntegrationSource;
use echo5_core::integrations::meta::Leadgen;
use echo5_core::integrations::meta_graph::{self, FormSync, LeadFetch};
use echo5_core::outbox_tasks::{MailTask, NewTask, TaskKind};
use echo5_core::secret::Secret;
use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

use crate::Store;
use crate::error::StoreError;
use crate::outbox_tasks::enqueue;
use crate::settings::aad;

/// Records a form a tenant's notification named (once; the first sighting is kept).
pub(crate) fn note_form(
    conn: &Connection,
    tenant: Uuid,
    form_id: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO meta_forms(tenant_id, form_id, first_seen_at) VALUES (?1, ?2, ?3)
         ON CONFLICT(tenant_id, form_id) DO NOTHING",
    )?
    .execute(params![tenant.to_string(), form_id, now.timestamp_millis()])?;
    Ok(())
}

/// What marking a tenant's Meta integration broken did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Breakage {
    /// Which breakage this is (1 for the first ever): the manager is alerted once per number.
    pub number: i64,
    pub tenant_name: String,
    pub manager_email: Option<String>,
}

/// Marks the tenant's Meta integration broken with `error`, unless it already is. Returns
/// the new breakage, or `None` when it was already broken (nobody is told twice).
pub(crate) fn mark_broken(
    conn: &Connection,
    tenant: Uuid,
    error: &str,
    now: DateTime<Utc>,
) -> Result<Option<Breakage>, StoreError> {
    let id = tenant.to_string();
    let at = now.timestamp_millis();
    let source = IntegrationSource::Meta.as_str();
    let already: Option<Option<i64>> = conn
        .prepare_cached("SELECT broken_at FROM integrations WHERE tenant_id = ?1 AND source = ?2")?
        .query_row(params![id, source], |r| r.get(0))
        .optional()?;
    if matches!(already, Some(Some(_))) {
        conn.prepare_cached(
            "UPDATE integrations SET last_error = ?3, last_error_at = ?4
             WHERE tenant_id = ?1 AND source = ?2",
        )?
        .execute(params![id, source, error, at])?;
        return Ok(None);
    }
    let number: i64 = conn
        .prepare_cached(
            "INSERT INTO integrations(tenant_id, source, last_error, last_error_at, broken_at,
                                      breakages)
             VALUES (?1, ?2, ?3, ?4, ?4, 1)
             ON CONFLICT(tenant_id, source) DO UPDATE SET
                 last_error = excluded.last_error, last_error_at = excluded.last_error_at,
                 broken_at = excluded.broken_at, breakages = breakages + 1
             RETURNING breakages",
        )?
        .query_row(params![id, source, error, at], |r| r.get(0))?;
    let (tenant_name, manager_email): (String, Option<String>) = conn
        .prepare_cached("SELECT name, manager_email FROM tenants WHERE id = ?1")?
        .query_row([&id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(Some(Breakage {
        number,
        tenant_name,
        manager_email,
    }))
}

impl Store {
    /// The tenant's Meta access token in clear, for one Graph request; `None` when unset.
    /// Read and opened per fetch, so a replaced token is used from the next fetch on.
    pub async fn meta_access_token(
        &self,
        tenant: Uuid,
    ) -> Result<Option<Secret<String>>, StoreError> {
        let key = self.key();
        self.read(move |c| {
            let sealed: Option<Vec<u8>> = c
                .prepare_cached("SELECT meta_token_enc FROM tenants WHERE id = ?1")?
                .query_row([tenant.to_string()], |r| r.get(0))
                .optional()?
                .flatten();
            let Some(sealed) = sealed else {
                return Ok(None);
            };
            let plain = key.open(&aad(tenant, "meta_access_token"), &sealed)?;
            let text = String::from_utf8(plain.expose().clone())
                .map_err(|e| StoreError::Internal(format!("meta token is not text: {e}")))?;
            Ok(Some(Secret::new(text)))
        })
        .await
    }

    /// Meta refused the tenant's token: marks the integration broken and, the first time
    /// for this breakage, queues the alert to the tenant's manager, in one transaction.
    /// Returns the breakage when it is a new one.
    pub async fn meta_token_refused(
        &self,
        tenant: Uuid,
        error: String,
        link: String,
    ) -> Result<Option<Breakage>, StoreError> {
        let now = self.now();
        let broke = self
            .write(move |c| {
                let Some(b) = mark_broken(c, tenant, &error, now)? else {
                    return Ok(None);
                };
                if let Some(to) = b.manager_email.clone() {
                    let (subject, text) = meta_graph::broken_notice(&b.tenant_name, &error, &link);
                    let mail = NewTask::mail(&MailTask { to, subject, text }, now)
                        .tenant(tenant)
                        .dedup(format!("meta-broken:{tenant}:{}", b.number));
                    enqueue(c, &mail, now)?;
                }
                Ok(Some(b))
            })
            .await?;
        if broke.is_some() {
            self.wake_outbox();
        }
        Ok(broke)
    }

    /// Records a Meta notification's leads routed to their tenants, in one transaction: the
    /// forms they name (a backfill reads those) and one fetch task per (tenant, leadgen id)
    /// — a repeat of a notification queues nothing. Returns how many fetches were queued.
    pub async fn record_meta_notification(
        &self,
        routed: Vec<(Uuid, Leadgen)>,
    ) -> Result<usize, StoreError> {
        if routed.is_empty() {
            return Ok(0);
        }
        let now = self.now();
        let queued = self
            .write(move |c| {
                let mut queued = 0;
                for (tenant, lg) in &routed {
                    if let Some(form) = lg.form_id.as_deref() {
                        note_form(c, *tenant, form, now)?;
                    }
                    let job = LeadFetch::of(lg);
                    let task =
                        NewTask::new(TaskKind::MetaLeadFetch, serde_json::to_value(&job)?, now)
                            .tenant(*tenant)
                            .group(meta_graph::task_group(*tenant))
                            .dedup(job.dedup_key(*tenant));
                    if enqueue(c, &task, now)?.is_some() {
                        queued += 1;
                    }
                }
                Ok(queued)
            })
            .await?;
        if queued > 0 {
            self.wake_outbox();
        }
        Ok(queued)
    }

    /// Queues a backfill: one task per form the tenant's notifications have named, each
    /// reading the form's leads created after `since` page by page. Returns how many forms.
    pub async fn queue_meta_sync(
        &self,
        tenant: Uuid,
        since: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let now = self.now();
        let request = Uuid::new_v4().to_string();
        let forms = self
            .write(move |c| {
                let forms: Vec<String> = c
                    .prepare_cached(
                        "SELECT form_id FROM meta_forms WHERE tenant_id = ?1
                         ORDER BY first_seen_at, form_id",
                    )?
                    .query_map([tenant.to_string()], |r| r.get::<_, String>(0))?
                    .collect::<Result<_, _>>()?;
                for form_id in &forms {
                    let job = FormSync {
                        form_id: form_id.clone(),
                        since: since.timestamp(),
                        after: None,
                        request: request.clone(),
                    };
                    let task =
                        NewTask::new(TaskKind::MetaFormSync, serde_json::to_value(&job)?, now)
                            .tenant(tenant)
                            .group(meta_graph::task_group(tenant))
                            .dedup(job.dedup_key(tenant));
                    enqueue(c, &task, now)?;
                }
                Ok(forms.len())
            })
            .await?;
        if forms > 0 {
            self.wake_outbox();
        }
        Ok(forms)
    }

    /// The lead forms the tenant's notifications have named, oldest sighting first.
    pub async fn meta_forms(&self, tenant: Uuid) -> Result<Vec<String>, StoreError> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT form_id FROM meta_forms WHERE tenant_id = ?1
                 ORDER BY first_seen_at, form_id",
            )?;
            let rows = stmt.query_map([tenant.to_string()], |r| r.get::<_, String>(0))?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }
}
