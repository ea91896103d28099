//! SLA breaches: the lists (computed from the leads, so a lead shows the moment it is
//! overdue), the monitor's once-per-lead record, and the alert queue it feeds.

use chrono::{DateTime, TimeDelta, Utc};
use echo5_core::authorization::Reach;
use echo5_core::clock::from_millis;
use echo5_core::events::{Change, Changed};
use echo5_core::page::{self, Cursor, Page};
use echo5_core::sla::{self, Breach, SlaRule};
use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

use crate::Store;
use crate::error::StoreError;
use crate::tenants::{self, TenantKey, TenantRow};
use echo5_core::webhooks::EventType;

/// Records a breach of lead ?1 if it is still waiting in its tenant's intake stage.
const RECORD_BREACH_SQL: &str = concat!(
    "INSERT INTO sla_breaches(lead_id, tenant_id, breached_at, recorded_at)
     SELECT l.id, l.tenant_id, ?2, ?3 FROM leads l
     WHERE l.id = ?1 AND l.created_at < ?4 AND l.is_spam = 0 AND l.duplicate_of IS NULL
       AND l.stage_id = (",
    crate::stages::intake_sql!("l.tenant_id"),
    ")
     ON CONFLICT(lead_id) DO NOTHING"
);

const BREACH_KEYS_SQL: &str = "SELECT created_at, id FROM leads INDEXED BY leads_tenant_stage
     WHERE tenant_id = ?1 AND stage_id = ?2 AND is_spam = 0 AND duplicate_of IS NULL
       AND created_at < ?3 AND (created_at, id) > (?4, ?5)
     ORDER BY created_at, id LIMIT ?6";

/// [`BREACH_KEYS_SQL`] for one assignee's leads: along `leads_tenant_assignee` (their
/// leads by age), the stage and duplicate link checked on each row.
const ASSIGNED_BREACH_KEYS_SQL: &str =
    "SELECT created_at, id FROM leads INDEXED BY leads_tenant_assignee
     WHERE tenant_id = ?1 AND assigned_to = ?7 AND is_spam = 0 AND stage_id = ?2
       AND duplicate_of IS NULL AND created_at < ?3 AND (created_at, id) > (?4, ?5)
     ORDER BY created_at, id LIMIT ?6";

/// (deadline ms, lead id) of one tenant's breached leads (given as tenant id and intake
/// stage id) that `reach` covers, after the page cursor `after` (deadline ms, id), smallest
/// first: at least `limit` of them when there are, read from the `leads_tenant_stage` index
/// alone, no table rows.
///
/// The index is in arrival order and deadlines never go down with arrival, so the leads
/// whose deadline is not before the cursor's start at one arrival instant (the rule's
/// cutoff at the cursor's deadline). Under business hours many arrivals share a deadline
/// (every lead of one weekend), in an id order that is not the arrival order: those before
/// the cursor are skipped, and the last deadline read is read to its end, so the smallest
/// keys are all here.
fn breach_keys(
    conn: &Connection,
    (tenant, intake): (Uuid, Uuid),
    rule: &SlaRule,
    now: DateTime<Utc>,
    after: Option<&Cursor>,
    limit: usize,
    reach: Reach,
) -> Result<Vec<(i64, String)>, StoreError> {
    let cutoff = rule.breach_cutoff(now).timestamp_millis();
    let from = after.map_or(i64::MIN, |cur| {
        rule.breach_cutoff(from_millis(cur.ts)).timestamp_millis()
    });
    let mut args: Vec<rusqlite::types::Value> = vec![
        tenant.to_string().into(),
        intake.to_string().into(),
        cutoff.into(),
        from.into(),
        String::new().into(),
        i64::MAX.into(),
    ];
    let sql = match reach {
        Reach::All => BREACH_KEYS_SQL,
        Reach::AssignedTo(user) => {
            args.push(user.to_string().into());
            ASSIGNED_BREACH_KEYS_SQL
        }
    };
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
    let mut out: Vec<(i64, String)> = Vec::with_capacity(limit);
    while let Some(r) = rows.next()? {
        let (created, id): (i64, String) = (r.get(0)?, r.get(1)?);
        let deadline = rule.deadline(from_millis(created)).timestamp_millis();
        if out.len() >= limit && out.last().is_some_and(|l| l.0 < deadline) {
            break;
        }
        if after.is_some_and(|cur| (deadline, id.as_str()) <= (cur.ts, cur.id.as_str())) {
            continue;
        }
        out.push((deadline, id));
    }
    out.sort();
    Ok(out)
}

/// One tenant's breached leads in arrival order after `after` (created_at ms, id), at most
/// `limit`. Reads only the `leads_tenant_stage` index and the rows it returns.
fn tenant_breaches(
    conn: &Connection,
    t: &TenantRow,
    rule: &SlaRule,
    now: DateTime<Utc>,
    after: Option<(i64, String)>,
    limit: usize,
) -> Result<Vec<Breach>, StoreError> {
    let intake = crate::stages::intake(conn, t.id)?;
    let cutoff = rule.breach_cutoff(now).timestamp_millis();
    let (after_ts, after_id) = after.unwrap_or((i64::MIN, String::new()));
    let mut stmt = conn.prepare_cached(
        "SELECT id, name, email, phone, created_at, assigned_to FROM leads INDEXED BY leads_tenant_stage
         WHERE tenant_id = ?1 AND stage_id = ?2 AND is_spam = 0 AND duplicate_of IS NULL
           AND created_at < ?3 AND (created_at, id) > (?4, ?5)
         ORDER BY created_at, id LIMIT ?6",
    )?;
    let rows = stmt
        .query_map(
            params![
                t.id.to_string(),
                intake.to_string(),
                cutoff,
                after_ts,
                after_id,
                limit as i64
            ],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, Option<String>>(5)?,
                ))
            },
        )?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter()
        .map(|(id, name, email, phone, created, assigned_to)| {
            let created_at = from_millis(created);
            let deadline = rule.deadline(created_at);
            Ok(Breach {
                lead_id: Uuid::parse_str(&id)?,
                tenant: t.tref(),
                name,
                email,
                phone,
                created_at,
                deadline,
                overdue_minutes: (now - deadline).num_minutes(),
                assigned_to: assigned_to.and_then(|a| Uuid::parse_str(&a).ok()),
            })
        })
        .collect()
}

/// A breach recorded by the monitor, to announce and mail.
#[derive(Debug, Clone)]
pub struct NewBreach {
    pub breach: Breach,
    pub alert_id: i64,
}

/// An alert due for sending.
#[derive(Debug, Clone)]
pub struct DueAlert {
    pub id: i64,
    pub lead_id: Uuid,
    pub recipient: Option<String>,
    pub subject: String,
    pub body: String,
    pub attempts: u32,
}

/// How an alert attempt ended.
#[derive(Debug, Clone)]
pub enum AlertOutcome {
    Sent,
    /// No SMTP configured: the alert went to the log instead.
    Logged,
    /// The tenant has no manager e-mail.
    Skipped,
    /// Try again at `retry_at`.
    Failed {
        error: String,
        retry_at: DateTime<Utc>,
    },
}

/// Backoff between attempts: 5 s, 10 s, 20 s ... capped at 10 minutes.
pub fn alert_backoff(attempts: u32) -> TimeDelta {
    let secs = 5i64.saturating_mul(1i64 << attempts.min(10));
    TimeDelta::seconds(secs.min(600))
}

impl Store {
    /// Leads in breach that `reach` covers, most overdue (earliest deadline) first; all
    /// tenants or one. Each tenant's list comes from its index in deadline order and the
    /// lists are merged, so a page costs `tenants × limit` index steps, not a sort of every
    /// breach.
    pub async fn breaches(
        &self,
        tenant: Option<TenantKey>,
        reach: Reach,
        limit: u32,
        cursor: Option<Cursor>,
    ) -> Result<Page<Breach>, StoreError> {
        let now = self.now();
        self.read(move |c| {
            let tenants = tenants::one_or_all(c, tenant.as_ref())?;
            let intakes = crate::stages::intake_stages(c)?;
            // Phase 1: each tenant's next keys from its index, merged by deadline.
            let mut keys: Vec<(i64, String, usize)> = Vec::new();
            for (i, t) in tenants.iter().enumerate() {
                let Some(&intake) = intakes.get(&t.id) else {
                    continue;
                };
                let rule = SlaRule::of(&t.fields.settings);
                for (deadline, id) in breach_keys(
                    c,
                    (t.id, intake),
                    &rule,
                    now,
                    cursor.as_ref(),
                    limit as usize + 1,
                    reach,
                )? {
                    keys.push((deadline, id, i));
                }
            }
            keys.sort();
            keys.truncate(limit as usize + 1);
            // Phase 2: the rows of the page only.
            let mut out = Vec::with_capacity(keys.len());
            let mut stmt = c.prepare_cached(
                "SELECT name, email, phone, created_at, assigned_to FROM leads WHERE id = ?1",
            )?;
            for (deadline_ms, id, i) in keys {
                let (name, email, phone, created, assigned_to): (
                    Option<String>,
                    Option<String>,
                    Option<String>,
                    i64,
                    Option<String>,
                ) = stmt.query_row([&id], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })?;
                let deadline = from_millis(deadline_ms);
                out.push(Breach {
                    lead_id: Uuid::parse_str(&id)?,
                    tenant: tenants[i].tref(),
                    name,
                    email,
                    phone,
                    created_at: from_millis(created),
                    deadline,
                    overdue_minutes: (now - deadline).num_minutes(),
                    assigned_to: assigned_to.and_then(|a| Uuid::parse_str(&a).ok()),
                });
            }
            Ok(page::paginate(out, limit, |b| Cursor {
                ts: b.deadline.timestamp_millis(),
                id: b.lead_id.to_string(),
            }))
        })
        .await
    }

    /// Records every breach not recorded yet and queues its alert, once per lead, in one
    /// transaction. `link` makes the lead's URL for the mail. Each new breach is a change to
    /// announce.
    pub async fn record_new_breaches(
        &self,
        link: impl Fn(Uuid) -> String + Send + 'static,
    ) -> Result<Changed<Vec<NewBreach>>, StoreError> {
        let now = self.now();
        // Candidates come from a reader so a large first pass never holds the writer.
        let candidates: Vec<(Breach, u32, i64, Option<String>)> = self
            .read(move |c| {
                let mut out = Vec::new();
                for t in tenants::all(c)? {
                    let rule = SlaRule::of(&t.fields.settings);
                    let cutoff = rule.breach_cutoff(now).timestamp_millis();
                    let mut after = None;
                    loop {
                        let page = tenant_breaches(c, &t, &rule, now, after.clone(), 500)?;
                        let last = page
                            .last()
                            .map(|b| (b.created_at.timestamp_millis(), b.lead_id.to_string()));
                        let n = page.len();
                        for b in page {
                            let recorded: Option<i64> = c
                                .prepare_cached("SELECT 1 FROM sla_breaches WHERE lead_id = ?1")?
                                .query_row([b.lead_id.to_string()], |r| r.get(0))
                                .optional()?;
                            if recorded.is_none() {
                                out.push((
                                    b,
                                    rule.hours(),
                                    cutoff,
                                    t.fields.settings.manager_email.clone(),
                                ));
                            }
                        }
                        if n < 500 {
                            break;
                        }
                        after = last;
                    }
                }
                Ok(out)
            })
            .await?;
        if candidates.is_empty() {
            return Ok(Changed::none(Vec::new()));
        }
        let subs = self.subscriptions();
        let written = self.write(move |c| {
            let mut recorded = Vec::new();
            let mut changes = Vec::new();
            // Each tenant's notification settings, read once per pass.
            let mut notify_docs = std::collections::HashMap::new();
            for (b, sla_hours, cutoff, recipient) in candidates {
                // Still waiting in intake? It may have moved since the read.
                let inserted = c
                    .prepare_cached(RECORD_BREACH_SQL)?
                    .execute(params![
                        b.lead_id.to_string(),
                        b.deadline.timestamp_millis(),
                        now.timestamp_millis(),
                        cutoff
                    ])?;
                if inserted == 0 {
                    continue;
                }
                let (subject, body) = sla::alert_message(
                    &b.tenant.name,
                    b.name.as_deref(),
                    b.created_at,
                    sla_hours,
                    &link(b.lead_id),
                );
                // A tenant with notification settings is told through its channels, in
                // this transaction; the plain alert is kept as skipped (one row per breach).
                let notified = crate::notifications::on_breach(
                    c,
                    &mut notify_docs,
                    &b,
                    sla_hours,
                    &link(b.lead_id),
                    now,
                )?;
                let recipient = if notified { None } else { recipient };
                let status = if recipient.is_some() { "pending" } else { "skipped" };
                c.prepare_cached(
                    "INSERT INTO alerts(lead_id, tenant_id, recipient, subject, body, status, next_attempt_at, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
                )?
                .execute(params![
                    b.lead_id.to_string(),
                    b.tenant.id.to_string(),
                    recipient,
                    subject,
                    body,
                    status,
                    now.timestamp_millis()
                ])?;
                let alert_id = c.last_insert_rowid();
                // Read again: the lead may have been reassigned since the candidates' read.
                let assigned_to: Option<String> = c
                    .prepare_cached("SELECT assigned_to FROM leads WHERE id = ?1")?
                    .query_row([b.lead_id.to_string()], |r| r.get(0))?;
                if subs.wants(b.tenant.id, EventType::SlaBreached) {
                    let id = b.lead_id;
                    let lead = crate::leads::get(c, id)?;
                    let data = serde_json::json!({
                        "lead": lead,
                        "deadline": b.deadline,
                        "overdue_minutes": b.overdue_minutes,
                    });
                    crate::outbox::record(c, &subs, b.tenant.id, EventType::SlaBreached, Some(id), Some(&data), now)?;
                }
                changes.push(Change::SlaBreached {
                    tenant: b.tenant.clone(),
                    lead_id: b.lead_id,
                    deadline: b.deadline,
                    overdue_minutes: b.overdue_minutes,
                    assigned_to: assigned_to.and_then(|a| Uuid::parse_str(&a).ok()),
                });
                recorded.push(NewBreach { alert_id, breach: b });
            }
            Ok(Changed {
                value: recorded,
                changes,
            })
        })
        .await;
        self.wake_outbox();
        written
    }

    /// Alerts whose next attempt is due, oldest first.
    pub async fn due_alerts(&self, limit: u32) -> Result<Vec<DueAlert>, StoreError> {
        let now = self.now().timestamp_millis();
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, lead_id, recipient, subject, body, attempts FROM alerts
                 WHERE status = 'pending' AND next_attempt_at <= ?1 ORDER BY next_attempt_at, id LIMIT ?2",
            )?;
            let rows = stmt
                .query_map(params![now, limit as i64], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, Option<String>>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, i64>(5)?,
                    ))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            rows.into_iter()
                .map(|(id, lead, recipient, subject, body, attempts)| {
                    Ok(DueAlert {
                        id,
                        lead_id: Uuid::parse_str(&lead)?,
                        recipient,
                        subject,
                        body,
                        attempts: attempts as u32,
                    })
                })
                .collect()
        })
        .await
    }

    pub async fn finish_alert(&self, id: i64, outcome: AlertOutcome) -> Result<(), StoreError> {
        let now = self.now().timestamp_millis();
        self.write(move |c| {
            match outcome {
                AlertOutcome::Sent | AlertOutcome::Logged | AlertOutcome::Skipped => {
                    let status = match outcome {
                        AlertOutcome::Sent => "sent",
                        AlertOutcome::Logged => "logged",
                        _ => "skipped",
                    };
                    c.execute(
                        "UPDATE alerts SET status = ?2, sent_at = ?3, attempts = attempts + 1, last_error = NULL
                         WHERE id = ?1 AND status = 'pending'",
                        params![id, status, now],
                    )?;
                }
                AlertOutcome::Failed { error, retry_at } => {
                    c.execute(
                        "UPDATE alerts SET attempts = attempts + 1, last_error = ?2, next_attempt_at = ?3
                         WHERE id = ?1 AND status = 'pending'",
                        params![id, error, retry_at.timestamp_millis()],
                    )?;
                }
            }
            Ok(())
        })
        .await
    }

    /// (status, attempts) of a lead's alert, if it has one.
    pub async fn alert_state(&self, lead: Uuid) -> Result<Option<(String, u32)>, StoreError> {
        self.read(move |c| {
            Ok(
                c.prepare_cached("SELECT status, attempts FROM alerts WHERE lead_id = ?1")?
                    .query_row([lead.to_string()], |r| {
                        Ok((r.get(0)?, r.get::<_, i64>(1)? as u32))
                    })
                    .optional()?,
            )
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The breach keys come from the stage index alone (its `duplicate_of` column included,
    /// migration 0011), in deadline order: no table rows, no sort.
    #[test]
    fn breach_keys_read_only_the_stage_index() {
        let plan = crate::db::fresh_query_plan(BREACH_KEYS_SQL, params!["t", "s", 0, 0, "", 50]);
        assert!(
            plan.contains("USING COVERING INDEX leads_tenant_stage"),
            "{plan}"
        );
        assert!(!plan.contains("TEMP B-TREE"), "{plan}");
    }

    /// The breach record looks the lead up by id and its intake stage up with one seek.
    #[test]
    fn recording_a_breach_seeks_the_lead_and_its_intake_stage() {
        let plan = crate::db::fresh_query_plan(RECORD_BREACH_SQL, params!["l", 0, 0, 0]);
        assert!(plan.contains("stages_tenant_order"), "{plan}");
        assert!(!plan.contains("TEMP B-TREE"), "{plan}");
        assert!(!plan.contains("SCAN"), "{plan}");
    }

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(alert_backoff(0), TimeDelta::seconds(5));
        assert_eq!(alert_backoff(1), TimeDelta::seconds(10));
        assert_eq!(alert_backoff(3), TimeDelta::seconds(40));
        assert_eq!(alert_backoff(9), TimeDelta::seconds(600));
        assert_eq!(alert_backoff(40), TimeDelta::seconds(600));
    }
}
