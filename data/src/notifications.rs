//! A tenant's notification settings as stored (the document, its channel secrets sealed),
//! and the notices the SLA monitor queues from them: breach alerts in the transaction that
//! records the breach, escalation steps once each, new-lead notices and the daily digest.
//! Every notice is one outbox task per channel and recipient.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use echo5_core::audit::{AuditAction, AuditRecord};
use echo5_core::clock::from_millis;
use echo5_core::crypto::MasterKey;
use echo5_core::notifications::{
    self as n, ChannelSecrets, ContextParts, Notice, Notifications, NotificationsInput,
    NotifyEvent, Resolved,
};
use echo5_core::outbox_tasks::{NewTask, TaskKind};
use echo5_core::secret::Secret;
use echo5_core::sla::Breach;
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::Store;
use crate::audit;
use crate::error::StoreError;
use crate::tenants::{self, TenantKey, TenantRow};

/// What the channel secrets are sealed to: the tenant and this document.
pub(crate) fn aad(tenant: impl std::fmt::Display) -> Vec<u8> {
    crate::settings::aad(tenant, "notifications")
}

/// New leads are read again this far back, so one committed a moment after a later one
/// is not missed; the outbox's dedup key keeps its notice to one.
const LEAD_OVERLAP: TimeDelta = TimeDelta::seconds(5);

/// At most this many new leads announced per tenant per pass.
const LEADS_PER_PASS: i64 = 200;

fn stored_doc(conn: &Connection, tenant: Uuid) -> Result<Option<Notifications>, StoreError> {
    let doc: Option<String> = conn
        .prepare_cached("SELECT doc FROM notification_settings WHERE tenant_id = ?1")?
        .query_row([tenant.to_string()], |r| r.get(0))
        .optional()?;
    Ok(match doc {
        Some(d) => Some(serde_json::from_str(&d)?),
        None => None,
    })
}

fn stored_secrets(
    conn: &Connection,
    key: &MasterKey,
    tenant: Uuid,
) -> Result<ChannelSecrets, StoreError> {
    let sealed: Option<Vec<u8>> = conn
        .prepare_cached("SELECT secrets FROM notification_settings WHERE tenant_id = ?1")?
        .query_row([tenant.to_string()], |r| r.get(0))
        .optional()?;
    match sealed {
        None => Ok(ChannelSecrets::default()),
        Some(s) => {
            let plain = key.open(&aad(tenant), &s)?;
            Ok(serde_json::from_slice(plain.expose())?)
        }
    }
}

/// Writes a validated document; the audit row names what changed (secrets by name only).
#[allow(clippy::too_many_arguments)]
fn save(
    conn: &Connection,
    key: &MasterKey,
    actor: String,
    action: AuditAction,
    t: &TenantRow,
    before: Option<&Notifications>,
    r: Resolved,
    now: DateTime<Utc>,
) -> Result<Notifications, StoreError> {
    let plain = zeroize::Zeroizing::new(serde_json::to_vec(r.secrets.expose())?);
    let sealed = key.seal(&aad(t.id), &plain)?;
    let announcing = |d: Option<&Notifications>| {
        d.and_then(|d| d.rules.get(&NotifyEvent::LeadCreated))
            .is_some_and(|c| !c.is_empty())
    };
    // lead.created announces leads from the moment it is switched on, not the backlog.
    let reset_watermark = !announcing(before) && announcing(Some(&r.doc));
    conn.prepare_cached(
        "INSERT INTO notification_settings(tenant_id, doc, secrets, lead_watermark, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?4)
         ON CONFLICT(tenant_id) DO UPDATE SET doc = excluded.doc, secrets = excluded.secrets,
           updated_at = excluded.updated_at,
           lead_watermark = CASE WHEN ?5 THEN excluded.lead_watermark ELSE lead_watermark END",
    )?
    .execute(params![
        t.id.to_string(),
        serde_json::to_string(&r.doc)?,
        sealed,
        now.timestamp_millis(),
        reset_watermark
    ])?;
    let before_v = before.map(serde_json::to_value).transpose()?;
    let after_v = serde_json::to_value(&r.doc)?;
    let mut changed: Vec<String> = [
        "channels",
        "rules",
        "escalation",
        "branding",
        "templates",
        "digest",
    ]
    .into_iter()
    .filter(|k| before_v.as_ref().map(|b| &b[*k]) != Some(&after_v[*k]))
    .map(str::to_string)
    .collect();
    changed.extend(r.secrets_changed.iter().map(|s| s.to_string()));
    changed.dedup();
    audit::record(
        conn,
        now,
        &AuditRecord {
            actor,
            action,
            tenant: Some(t.tref()),
            target: None,
            details: json!({ "changed": changed }),
        },
    )?;
    Ok(r.doc)
}

/// The tenant's users' e-mail addresses, for escalation steps that name users.
fn user_email(conn: &Connection, tenant: Uuid, user: Uuid) -> Option<String> {
    conn.prepare_cached("SELECT email FROM users WHERE id = ?1 AND tenant_id = ?2 AND active = 1")
        .ok()?
        .query_row(params![user.to_string(), tenant.to_string()], |r| r.get(0))
        .ok()
}

/// Queues one notice as an outbox task; `false` when its key was queued before.
fn enqueue_notice(
    conn: &Connection,
    notice: &Notice,
    key: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let mut task = NewTask::new(TaskKind::Notification, serde_json::to_value(notice)?, now)
        .tenant(notice.tenant_id)
        .dedup(key);
    if let Some(lead) = notice.lead_id {
        task = task.lead(lead);
    }
    Ok(crate::outbox_tasks::enqueue(conn, &task, now)?.is_some())
}

/// Queues each notice as its own outbox task, keyed so it is queued once ever.
fn queue(
    conn: &Connection,
    about: &str,
    notices: &[Notice],
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let mut queued = 0;
    for notice in notices {
        let key = n::dedup_key(&notice.event, about, notice);
        if enqueue_notice(conn, notice, &key, now)? {
            queued += 1;
        }
    }
    Ok(queued)
}

/// The notices of one event for one tenant, queued. `step` for an escalation.
#[allow(clippy::too_many_arguments)]
fn notify(
    conn: &Connection,
    t: &TenantRow,
    doc: &Notifications,
    event: NotifyEvent,
    step: Option<&n::EscalationStep>,
    parts: ContextParts,
    about: &str,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let tenant = t.id;
    let lookup = |u: Uuid| user_email(conn, tenant, u);
    let sends = n::sends(
        doc,
        event,
        t.fields.settings.manager_email.as_deref(),
        step,
        &lookup,
    );
    let ctx = n::context(&parts);
    let (notices, err) = n::notices(doc, t.id, &t.fields.name, event, &ctx, &sends);
    if let Some(e) = err {
        tracing::warn!(tenant = %t.id, error = %e, "a notification template failed; the default was sent");
    }
    queue(conn, about, &notices, now)
}

fn parts(
    t: &TenantRow,
    doc: &Notifications,
    event: NotifyEvent,
    lead: Value,
    link: String,
) -> ContextParts {
    ContextParts {
        event,
        tenant_name: t.fields.name.clone(),
        tenant_slug: t.fields.slug.clone(),
        branding: n::branding_vars(&doc.branding, &t.fields.name),
        lead,
        breach: Value::Null,
        escalation: Value::Null,
        digest: Value::Null,
        link,
    }
}

/// In the transaction that records a breach: queues the `sla.breached` notices of a tenant
/// that has notification settings. `false`: it has none, and the plain e-mail alert to its
/// manager goes out as before.
pub(crate) fn on_breach(
    conn: &Connection,
    docs: &mut HashMap<Uuid, Option<(Notifications, TenantRow)>>,
    b: &Breach,
    sla_hours: u32,
    link: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let tenant = b.tenant.id;
    let entry = match docs.entry(tenant) {
        std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
        std::collections::hash_map::Entry::Vacant(v) => v.insert(match stored_doc(conn, tenant)? {
            Some(d) => Some((d, tenants::get(conn, &TenantKey::Id(tenant))?)),
            None => None,
        }),
    };
    let Some((doc, t)) = entry.as_ref() else {
        return Ok(false);
    };
    let lead = crate::leads::get(conn, b.lead_id)?;
    let mut p = parts(
        t,
        doc,
        NotifyEvent::SlaBreached,
        n::lead_vars(&lead),
        link.to_string(),
    );
    p.breach = n::breach_vars(b.deadline, b.deadline, sla_hours);
    notify(
        conn,
        t,
        doc,
        NotifyEvent::SlaBreached,
        None,
        p,
        &b.lead_id.to_string(),
        now,
    )?;
    Ok(true)
}

/// Whether a lead still waits as a breach: in its tenant's intake stage, not spam, not a
/// duplicate (the breach rule's own conditions).
const STILL_WAITING_SQL: &str = concat!(
    "SELECT 1 FROM leads l WHERE l.id = ?1 AND l.is_spam = 0 AND l.duplicate_of IS NULL
       AND l.stage_id = (",
    crate::stages::intake_sql!("l.tenant_id"),
    ")"
);

fn still_waiting(conn: &Connection, lead: &str) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached(STILL_WAITING_SQL)?
        .query_row([lead], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Tenants with notification settings, with their documents.
fn configured(conn: &Connection) -> Result<Vec<(Uuid, Notifications)>, StoreError> {
    let rows: Vec<(String, String)> = conn
        .prepare_cached("SELECT tenant_id, doc FROM notification_settings")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    rows.into_iter()
        .map(|(t, d)| Ok((Uuid::parse_str(&t)?, serde_json::from_str(&d)?)))
        .collect()
}

/// Counts of what a digest reports: new leads and recorded breaches in the last 24 h, and
/// leads waiting in intake now.
fn digest_counts(
    conn: &Connection,
    tenant: Uuid,
    now: DateTime<Utc>,
) -> Result<(u64, u64, u64), StoreError> {
    let since = (now - TimeDelta::hours(24)).timestamp_millis();
    let id = tenant.to_string();
    let new: i64 = conn
        .prepare_cached(
            "SELECT count(*) FROM leads WHERE tenant_id = ?1 AND is_spam = 0 AND created_at >= ?2",
        )?
        .query_row(params![id, since], |r| r.get(0))?;
    let breaches: i64 = conn
        .prepare_cached(
            "SELECT count(*) FROM sla_breaches WHERE tenant_id = ?1 AND breached_at >= ?2",
        )?
        .query_row(params![id, since], |r| r.get(0))?;
    let waiting: i64 = match crate::stages::intake_id(conn, tenant)? {
        Some(intake) => conn
            .prepare_cached(
                "SELECT count(*) FROM leads INDEXED BY leads_tenant_stage
                 WHERE tenant_id = ?1 AND stage_id = ?2 AND is_spam = 0 AND duplicate_of IS NULL",
            )?
            .query_row(params![id, intake.to_string()], |r| r.get(0))?,
        None => 0,
    };
    Ok((
        new.max(0) as u64,
        breaches.max(0) as u64,
        waiting.max(0) as u64,
    ))
}

/// One escalation candidate: a lead, its breach time and the steps due.
type Escalation = (Uuid, String, DateTime<Utc>, Vec<u32>);

impl Store {
    /// A tenant's notification settings, secrets masked; the empty document when none are
    /// set.
    pub async fn notifications(&self, tenant: TenantKey) -> Result<Notifications, StoreError> {
        self.read(move |c| {
            let t = tenants::get(c, &tenant)?;
            Ok(stored_doc(c, t.id)?.unwrap_or_default())
        })
        .await
    }

    /// Replaces the document (PUT). Secrets left out or sent masked are kept.
    pub async fn put_notifications(
        &self,
        actor: String,
        tenant: TenantKey,
        input: NotificationsInput,
    ) -> Result<Notifications, StoreError> {
        let key = self.key();
        let now = self.now();
        self.write(move |c| {
            let t = tenants::get(c, &tenant)?;
            let before = stored_doc(c, t.id)?;
            let current = Secret::new(stored_secrets(c, &key, t.id)?);
            let r = n::resolve(&input, current.expose())?;
            save(
                c,
                &key,
                actor,
                AuditAction::NotificationsReplaced,
                &t,
                before.as_ref(),
                r,
                now,
            )
        })
        .await
    }

    /// Merges a JSON merge patch into the document (PATCH).
    pub async fn patch_notifications(
        &self,
        actor: String,
        tenant: TenantKey,
        patch: Value,
    ) -> Result<Notifications, StoreError> {
        let key = self.key();
        let now = self.now();
        self.write(move |c| {
            let t = tenants::get(c, &tenant)?;
            let before = stored_doc(c, t.id)?;
            let current = Secret::new(stored_secrets(c, &key, t.id)?);
            let input = n::patched_input(&before.clone().unwrap_or_default(), &patch)?;
            let r = n::resolve(&input, current.expose())?;
            save(
                c,
                &key,
                actor,
                AuditAction::NotificationsUpdated,
                &t,
                before.as_ref(),
                r,
                now,
            )
        })
        .await
    }

    /// A tenant's channel secrets in clear, for the sender.
    pub async fn notification_secrets(
        &self,
        tenant: Uuid,
    ) -> Result<Secret<ChannelSecrets>, StoreError> {
        let key = self.key();
        self.read(move |c| Ok(Secret::new(stored_secrets(c, &key, tenant)?)))
            .await
    }

    /// The tenant (name, slug) and document a preview renders with.
    pub async fn notification_preview_parts(
        &self,
        tenant: TenantKey,
    ) -> Result<(Uuid, String, String, Notifications), StoreError> {
        self.read(move |c| {
            let t = tenants::get(c, &tenant)?;
            let doc = stored_doc(c, t.id)?.unwrap_or_default();
            Ok((t.id, t.fields.name.clone(), t.fields.slug.clone(), doc))
        })
        .await
    }

    /// Queues a test message over `channel` to its recipients (audited). The number of
    /// notices queued; a channel that is not set up is 422.
    pub async fn notification_test(
        &self,
        actor: String,
        tenant: TenantKey,
        channel: n::Channel,
        link: String,
    ) -> Result<usize, StoreError> {
        let now = self.now();
        self.write(move |c| {
            let t = tenants::get(c, &tenant)?;
            let doc = stored_doc(c, t.id)?.unwrap_or_default();
            let not_set = || {
                echo5_core::DomainError::invalid(
                    "channel",
                    "channel_not_configured",
                    format!("the {} channel is not set up", channel.as_str()),
                )
            };
            let step = n::EscalationStep {
                after_hours: 1,
                to: Vec::new(),
                channels: vec![channel],
            };
            let lookup = |_| None;
            let sends = n::sends(
                &doc,
                NotifyEvent::SlaBreached,
                t.fields.settings.manager_email.as_deref(),
                Some(&step),
                &lookup,
            );
            if sends.is_empty() {
                return Err(not_set().into());
            }
            let tenant_s = n::SampleTenant {
                name: t.fields.name.clone(),
                slug: t.fields.slug.clone(),
            };
            let ctx = n::sample_context_branded(
                NotifyEvent::SlaBreached,
                &tenant_s,
                &doc.branding,
                &link,
            );
            let (mut notices, _) = n::notices(
                &doc,
                t.id,
                &t.fields.name,
                NotifyEvent::SlaBreached,
                &ctx,
                &sends,
            );
            for notice in &mut notices {
                // About the sample lead, which is no lead of the tenant's.
                notice.lead_id = None;
                notice.event = "test".into();
                notice.subject = format!("[test] {}", notice.subject);
            }
            // Each test is its own message: a second test sends again.
            let queued = queue(c, &Uuid::new_v4().to_string(), &notices, now)?;
            audit::record(
                c,
                now,
                &AuditRecord {
                    actor,
                    action: AuditAction::NotificationsTested,
                    tenant: Some(t.tref()),
                    target: None,
                    details: json!({ "channel": channel.as_str(), "messages": queued }),
                },
            )?;
            Ok(queued)
        })
        .await
    }

    /// Queues the escalation steps now due, each once per lead, for leads still waiting.
    pub async fn escalate(
        &self,
        link: impl Fn(Uuid) -> String + Send + 'static,
    ) -> Result<usize, StoreError> {
        let now = self.now();
        let candidates: Vec<Escalation> = self
            .read(move |c| {
                let mut out = Vec::new();
                for (tenant, doc) in configured(c)? {
                    let Some((lo, hi)) = n::escalation_window(&doc.escalation, now) else {
                        continue;
                    };
                    let rows: Vec<(String, i64)> = c
                        .prepare_cached(
                            "SELECT lead_id, breached_at FROM sla_breaches
                             WHERE tenant_id = ?1 AND breached_at > ?2 AND breached_at <= ?3",
                        )?
                        .query_map(
                            params![tenant.to_string(), lo.timestamp_millis(), hi.timestamp_millis()],
                            |r| Ok((r.get(0)?, r.get(1)?)),
                        )?
                        .collect::<Result<_, _>>()?;
                    for (lead, at) in rows {
                        let sent: Vec<u32> = c
                            .prepare_cached(
                                "SELECT after_hours FROM notification_escalations WHERE lead_id = ?1",
                            )?
                            .query_map([&lead], |r| r.get(0))?
                            .collect::<Result<_, _>>()?;
                        let at = from_millis(at);
                        // Cheap first: only leads with a step due are checked for waiting.
                        if n::due_steps(&doc.escalation, at, now, &sent, true).is_empty() {
                            continue;
                        }
                        let waiting = still_waiting(c, &lead)?;
                        let due = n::due_steps(&doc.escalation, at, now, &sent, waiting);
                        if !due.is_empty() {
                            out.push((tenant, lead, at, due));
                        }
                    }
                }
                Ok(out)
            })
            .await?;
        if candidates.is_empty() {
            return Ok(0);
        }
        let queued = self
            .write(move |c| {
                let mut queued = 0;
                for (tenant, lead, breached_at, due) in candidates {
                    // The lead may have moved since the read.
                    if !still_waiting(c, &lead)? {
                        continue;
                    }
                    let Some(doc) = stored_doc(c, tenant)? else {
                        continue;
                    };
                    let t = tenants::get(c, &TenantKey::Id(tenant))?;
                    let lead_id = Uuid::parse_str(&lead)?;
                    let l = crate::leads::get(c, lead_id)?;
                    for after in due {
                        let Some(step) = doc.escalation.iter().find(|s| s.after_hours == after)
                        else {
                            continue;
                        };
                        let first = c
                            .prepare_cached(
                                "INSERT INTO notification_escalations(lead_id, after_hours, sent_at)
                                 VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
                            )?
                            .execute(params![lead, after, now.timestamp_millis()])?;
                        if first == 0 {
                            continue;
                        }
                        let mut p = parts(
                            &t,
                            &doc,
                            NotifyEvent::SlaEscalated,
                            n::lead_vars(&l),
                            link(lead_id),
                        );
                        let deadline = breached_at;
                        p.breach =
                            n::breach_vars(breached_at, deadline, t.fields.settings.sla_hours);
                        p.escalation = json!({ "after_hours": after });
                        queued += notify(
                            c,
                            &t,
                            &doc,
                            NotifyEvent::SlaEscalated,
                            Some(step),
                            p,
                            &format!("{lead}:{after}"),
                            now,
                        )?;
                    }
                }
                Ok(queued)
            })
            .await?;
        self.wake_outbox();
        Ok(queued)
    }

    /// Queues `lead.created` notices for leads that arrived since the last pass.
    pub async fn announce_new_leads(
        &self,
        link: impl Fn(Uuid) -> String + Send + 'static,
    ) -> Result<usize, StoreError> {
        let now = self.now();
        let work: Vec<(Uuid, Vec<String>, i64)> = self
            .read(move |c| {
                let mut out = Vec::new();
                for (tenant, doc) in configured(c)? {
                    if doc
                        .rules
                        .get(&NotifyEvent::LeadCreated)
                        .is_none_or(|r| r.is_empty())
                    {
                        continue;
                    }
                    let mark: i64 = c
                        .prepare_cached(
                            "SELECT lead_watermark FROM notification_settings WHERE tenant_id = ?1",
                        )?
                        .query_row([tenant.to_string()], |r| r.get(0))?;
                    let rows: Vec<(String, i64)> = c
                        .prepare_cached(
                            "SELECT id, created_at FROM leads INDEXED BY leads_tenant_created
                             WHERE tenant_id = ?1 AND is_spam = 0 AND created_at > ?2
                             ORDER BY created_at, id LIMIT ?3",
                        )?
                        .query_map(
                            params![
                                tenant.to_string(),
                                mark - LEAD_OVERLAP.num_milliseconds(),
                                LEADS_PER_PASS
                            ],
                            |r| Ok((r.get(0)?, r.get(1)?)),
                        )?
                        .collect::<Result<_, _>>()?;
                    let newest = rows.iter().map(|r| r.1).max().unwrap_or(mark).max(mark);
                    // Leads inside the overlap are offered again; their dedup keys keep
                    // each notice to one.
                    if !rows.is_empty() {
                        out.push((tenant, rows.into_iter().map(|r| r.0).collect(), newest));
                    }
                }
                Ok(out)
            })
            .await?;
        if work.is_empty() {
            return Ok(0);
        }
        let queued = self
            .write(move |c| {
                let mut queued = 0;
                for (tenant, leads, newest) in work {
                    let Some(doc) = stored_doc(c, tenant)? else {
                        continue;
                    };
                    let t = tenants::get(c, &TenantKey::Id(tenant))?;
                    for lead in leads {
                        let id = Uuid::parse_str(&lead)?;
                        let Ok(l) = crate::leads::get(c, id) else {
                            continue;
                        };
                        if l.duplicate_of.is_some() {
                            continue;
                        }
                        let p = parts(
                            &t,
                            &doc,
                            NotifyEvent::LeadCreated,
                            n::lead_vars(&l),
                            link(id),
                        );
                        queued +=
                            notify(c, &t, &doc, NotifyEvent::LeadCreated, None, p, &lead, now)?;
                    }
                    c.prepare_cached(
                        "UPDATE notification_settings SET lead_watermark = max(lead_watermark, ?2)
                         WHERE tenant_id = ?1",
                    )?
                    .execute(params![tenant.to_string(), newest])?;
                }
                Ok(queued)
            })
            .await?;
        self.wake_outbox();
        Ok(queued)
    }

    /// Queues each tenant's daily digest once its local time has come, once per local day.
    pub async fn send_digests(&self, link: String) -> Result<usize, StoreError> {
        let now = self.now();
        let due: Vec<(Uuid, NaiveDate)> = self
            .read(move |c| {
                let mut out = Vec::new();
                for (tenant, doc) in configured(c)? {
                    let Some(d) = &doc.digest else { continue };
                    if doc
                        .rules
                        .get(&NotifyEvent::DigestDaily)
                        .is_none_or(|r| r.is_empty())
                    {
                        continue;
                    }
                    let last: Option<String> = c
                        .prepare_cached(
                            "SELECT digest_sent_on FROM notification_settings WHERE tenant_id = ?1",
                        )?
                        .query_row([tenant.to_string()], |r| r.get(0))?;
                    let last = last.and_then(|s| NaiveDate::parse_from_str(&s, "%Y-%m-%d").ok());
                    if let Some(day) = n::digest_due(d, now, last) {
                        out.push((tenant, day));
                    }
                }
                Ok(out)
            })
            .await?;
        if due.is_empty() {
            return Ok(0);
        }
        let queued = self
            .write(move |c| {
                let mut queued = 0;
                for (tenant, day) in due {
                    let day_s = day.format("%Y-%m-%d").to_string();
                    let claimed = c
                        .prepare_cached(
                            "UPDATE notification_settings SET digest_sent_on = ?2
                             WHERE tenant_id = ?1 AND (digest_sent_on IS NULL OR digest_sent_on < ?2)",
                        )?
                        .execute(params![tenant.to_string(), day_s])?;
                    if claimed == 0 {
                        continue;
                    }
                    let Some(doc) = stored_doc(c, tenant)? else {
                        continue;
                    };
                    let t = tenants::get(c, &TenantKey::Id(tenant))?;
                    let (new, breaches, waiting) = digest_counts(c, tenant, now)?;
                    let mut p = parts(&t, &doc, NotifyEvent::DigestDaily, Value::Null, link.clone());
                    p.digest = n::digest_vars(day, new, breaches, waiting);
                    queued += notify(
                        c,
                        &t,
                        &doc,
                        NotifyEvent::DigestDaily,
                        None,
                        p,
                        &format!("{tenant}:{day_s}"),
                        now,
                    )?;
                }
                Ok(queued)
            })
            .await?;
        self.wake_outbox();
        Ok(queued)
    }
}

/// Master-key rotation: every tenant's sealed channel secrets, re-sealed under `new`.
pub(crate) fn reseal_all(
    conn: &Connection,
    old: &MasterKey,
    new: &MasterKey,
) -> Result<usize, StoreError> {
    let rows: Vec<(String, Vec<u8>)> = conn
        .prepare("SELECT tenant_id, secrets FROM notification_settings")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let n = rows.len();
    for (tenant, sealed) in rows {
        let aad = aad(&tenant);
        let plain = old.open(&aad, &sealed)?;
        let resealed = new.seal(&aad, plain.expose())?;
        conn.execute(
            "UPDATE notification_settings SET secrets = ?2 WHERE tenant_id = ?1",
            params![tenant, resealed],
        )?;
    }
    Ok(n)
}
