//! The delivery queue the daemon's worker drains: fan-out of outbox messages to the
//! endpoints that take them, the deliveries due now, and each attempt with what follows
//! from it (the schedule's next time, a disabled endpoint).
//!
//! [`Store::outbox_fan_out`] turns messages past the fan-out cursor into one pending delivery
//! per subscribed active endpoint, and moves the cursor, in one transaction: a crash before
//! it leaves the messages to be fanned out after the restart.

use chrono::{DateTime, Utc};
use echo5_core::clock::from_millis;
use echo5_core::outbox::FAILING_DISABLE_AFTER;
use echo5_core::outbox_tasks::NewTask;
use echo5_core::webhooks::{EventMask, EventType, disabled_notice, message_body, secret_aad};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::HashMap;
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::Store;
use crate::error::StoreError;
use crate::outbox::{mask_of, tenant_mask};

/// The lead as the API shows it (no raw body), or its ids alone once it is gone.
fn lead_data(conn: &Connection, tenant: &str, lead: &str) -> Result<serde_json::Value, StoreError> {
    let found = match Uuid::parse_str(lead) {
        Ok(id) => match crate::leads::get(conn, id) {
            Ok(l) => Some(l),
            Err(StoreError::Domain(_)) => None,
            Err(e) => return Err(e),
        },
        Err(_) => None,
    };
    Ok(match found {
        Some(l) => serde_json::to_value(&l)?,
        None => serde_json::json!({ "id": lead, "tenant_id": tenant }),
    })
}

const FAN_OUT_CURSOR: &str = "outbox_fanned_out";
/// Messages fanned out per transaction.
pub const FAN_OUT_BATCH: i64 = 500;

/// One delivery the worker may send now.
pub struct DueDelivery {
    pub endpoint_id: Uuid,
    pub tenant_id: Uuid,
    pub url: String,
    /// HMAC keys: the current secret's, then the previous one's while it still signs.
    pub keys: Vec<Zeroizing<Vec<u8>>>,
    pub message_seq: i64,
    pub message_id: String,
    pub event_type: String,
    pub body: String,
    /// Attempts made before this one.
    pub attempts: u32,
}

/// How an attempt ended, as the worker judged it with the schedule.
#[derive(Debug, Clone)]
pub enum AttemptOutcome {
    Succeeded,
    /// Failed; tried again at this time.
    Retry(DateTime<Utc>),
    /// Failed, and the schedule is spent.
    GaveUp,
    /// The receiver answered 410: the endpoint is disabled at once.
    Gone,
}

/// One attempt as recorded.
#[derive(Debug, Clone)]
pub struct AttemptRecord {
    pub endpoint_id: Uuid,
    pub message_seq: i64,
    pub at: DateTime<Utc>,
    pub status_code: Option<u16>,
    pub duration_ms: u64,
    pub response: String,
    pub error: Option<String>,
    pub outcome: AttemptOutcome,
}

/// An endpoint the daemon just disabled (its manager's notice is already queued).
#[derive(Debug, Clone)]
pub struct Disabled {
    pub endpoint_id: Uuid,
    pub tenant_id: Uuid,
    pub reason: &'static str,
}

/// Disables an endpoint and fails its pending deliveries (in the caller's transaction).
pub(crate) fn disable(
    conn: &Connection,
    endpoint: Uuid,
    reason: &str,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE webhooks SET active = 0, disabled_reason = ?2, updated_at = ?3 WHERE id = ?1",
    )?
    .execute(params![endpoint.to_string(), reason, at.timestamp_millis()])?;
    conn.prepare_cached(
        "UPDATE outbox_deliveries SET status = 'failed', next_attempt_at = NULL
         WHERE endpoint_id = ?1 AND status = 'pending'",
    )?
    .execute([endpoint.to_string()])?;
    Ok(())
}

impl Store {
    /// Fans out every message written since the last fan-out: one pending delivery per
    /// active endpoint of its tenant that takes its type, due now. Returns how many messages
    /// it handled (up to a batch; call again while it returns [`FAN_OUT_BATCH`]).
    ///
    /// Bodies are made on a reader (the lead's JSON for ingest's messages) and only the rows
    /// are written by the writer. Only the one worker fans out, so the cursor read here is
    /// still the cursor when the write runs.
    pub async fn outbox_fan_out(&self) -> Result<usize, StoreError> {
        let now = self.now().timestamp_millis();
        type Plan = (i64, Option<String>, Vec<String>, i64);
        let (plans, last, n): (Vec<Plan>, Option<i64>, usize) = self
            .read(move |c| {
                let cursor: i64 = c
                    .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
                    .query_row([FAN_OUT_CURSOR], |r| r.get::<_, String>(0))
                    .optional()?
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                type Msg = (i64, String, String, Option<String>, Option<String>, i64);
                let msgs: Vec<Msg> = c
                    .prepare_cached(
                        "SELECT seq, tenant_id, event_type, lead_id, payload IS NULL, created_at
                         FROM outbox_messages WHERE seq > ?1 ORDER BY seq LIMIT ?2",
                    )?
                    .query_map(params![cursor, FAN_OUT_BATCH], |r| {
                        let missing: bool = r.get(4)?;
                        Ok((
                            r.get(0)?,
                            r.get(1)?,
                            r.get(2)?,
                            r.get(3)?,
                            missing.then(String::new),
                            r.get(5)?,
                        ))
                    })?
                    .collect::<Result<_, _>>()?;
                let last = msgs.last().map(|m| m.0);
                let n = msgs.len();
                let mut endpoints: HashMap<String, Vec<(String, EventMask)>> = HashMap::new();
                let mut plans = Vec::new();
                for (seq, tenant, event, lead, missing, created) in msgs {
                    if !endpoints.contains_key(&tenant) {
                        let list = c
                            .prepare_cached(
                                "SELECT id, events FROM webhooks WHERE tenant_id = ?1 AND active = 1",
                            )?
                            .query_map([&tenant], |r| {
                                Ok((r.get::<_, String>(0)?, mask_of(&r.get::<_, String>(1)?)))
                            })?
                            .collect::<Result<Vec<_>, _>>()?;
                        endpoints.insert(tenant.clone(), list);
                    }
                    let Some(kind) = EventType::parse(&event) else {
                        continue;
                    };
                    let targets: Vec<String> = endpoints[&tenant]
                        .iter()
                        .filter(|(_, m)| m.wants(kind))
                        .map(|(id, _)| id.clone())
                        .collect();
                    if targets.is_empty() {
                        continue;
                    }
                    let body = match (missing, lead) {
                        (Some(_), Some(l)) => Some(
                            message_body(kind, from_millis(created), &lead_data(c, &tenant, &l)?)
                                .to_string(),
                        ),
                        (Some(_), None) => Some(
                            message_body(kind, from_millis(created), &serde_json::json!({}))
                                .to_string(),
                        ),
                        (None, _) => None,
                    };
                    plans.push((seq, body, targets, created));
                }
                Ok((plans, last, n))
            })
            .await?;
        let Some(last) = last else {
            return Ok(0);
        };
        self.write(move |c| {
            for (seq, body, targets, created) in &plans {
                if let Some(b) = body {
                    c.prepare_cached(
                        "UPDATE outbox_messages SET payload = ?2 WHERE seq = ?1 AND payload IS NULL",
                    )?
                    .execute(params![seq, b])?;
                }
                for ep in targets {
                    c.prepare_cached(
                        "INSERT INTO outbox_deliveries(endpoint_id, message_seq, status, attempts, next_attempt_at, created_at)
                         SELECT ?1, ?2, 'pending', 0, ?3, ?4 WHERE EXISTS (SELECT 1 FROM webhooks WHERE id = ?1)
                         ON CONFLICT DO NOTHING",
                    )?
                    .execute(params![ep, seq, now, created])?;
                }
            }
            c.prepare_cached(
                "INSERT INTO meta(key, value) VALUES (?1, ?2)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            )?
            .execute(params![FAN_OUT_CURSOR, last.to_string()])?;
            Ok(n)
        })
        .await
    }

    /// Deliveries due now, at most `room(endpoint)` per active endpoint, skipping the
    /// messages `busy` says are in flight.
    pub async fn due_deliveries(
        &self,
        per_endpoint: usize,
        busy: HashMap<Uuid, Vec<i64>>,
        total: usize,
    ) -> Result<Vec<DueDelivery>, StoreError> {
        let now = self.now();
        let key = self.key();
        self.read(move |c| {
            type Row = (String, String, String, Vec<u8>, Option<Vec<u8>>, Option<i64>);
            let endpoints: Vec<Row> = c
                .prepare_cached(
                    "SELECT id, tenant_id, url, secret, previous_secret, previous_secret_expires_at
                     FROM webhooks WHERE active = 1",
                )?
                .query_map([], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
                })?
                .collect::<Result<_, _>>()?;
            let mut out = Vec::new();
            for (id, tenant, url, secret, previous, prev_until) in endpoints {
                if out.len() >= total {
                    break;
                }
                let (Ok(ep), Ok(tenant_id)) = (Uuid::parse_str(&id), Uuid::parse_str(&tenant))
                else {
                    continue;
                };
                let in_flight = busy.get(&ep).map_or(&[][..], |v| v.as_slice());
                let room = per_endpoint
                    .saturating_sub(in_flight.len())
                    .min(total - out.len());
                if room == 0 {
                    continue;
                }
                type Due = (i64, i64, String, String, Option<String>);
                let rows: Vec<Due> = c
                    .prepare_cached(
                        "SELECT d.message_seq, d.attempts, m.id, m.event_type, m.payload
                         FROM outbox_deliveries d JOIN outbox_messages m ON m.seq = d.message_seq
                         WHERE d.endpoint_id = ?1 AND d.status = 'pending' AND d.next_attempt_at <= ?2
                         ORDER BY d.next_attempt_at LIMIT ?3",
                    )?
                    .query_map(
                        params![id, now.timestamp_millis(), (room + in_flight.len()) as i64],
                        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
                    )?
                    .collect::<Result<_, _>>()?;
                let rows: Vec<_> = rows
                    .into_iter()
                    .filter(|r| !in_flight.contains(&r.0))
                    .take(room)
                    .collect();
                if rows.is_empty() {
                    continue;
                }
                let mut keys = Vec::new();
                let aad = secret_aad(tenant_id, ep);
                let open = |sealed: &[u8]| -> Result<Zeroizing<Vec<u8>>, StoreError> {
                    let text = key.open_string(&aad, sealed)?;
                    echo5_core::webhooks::secret_key(text.expose())
                        .ok_or_else(|| StoreError::Internal(format!("webhook {ep}: stored secret unreadable")))
                };
                keys.push(open(&secret)?);
                if let (Some(p), Some(until)) = (previous, prev_until)
                    && until > now.timestamp_millis()
                {
                    keys.push(open(&p)?);
                }
                for (seq, attempts, msg_id, event, payload) in rows {
                    out.push(DueDelivery {
                        endpoint_id: ep,
                        tenant_id,
                        url: url.clone(),
                        keys: keys.clone(),
                        message_seq: seq,
                        message_id: msg_id,
                        event_type: event,
                        body: payload.unwrap_or_else(|| "{}".into()),
                        attempts: attempts.max(0) as u32,
                    });
                }
            }
            Ok(out)
        })
        .await
    }

    /// Records an attempt and what follows from it: the delivery's new status and time, the
    /// endpoint disabled on a 410 or after failing every attempt for five days. Returns the
    /// endpoint if this attempt disabled it.
    pub async fn finish_attempt(&self, a: AttemptRecord) -> Result<Option<Disabled>, StoreError> {
        let subs = self.subscriptions();
        let disabled = self
            .write(move |c| {
                let ep = a.endpoint_id.to_string();
                c.prepare_cached(
                    "INSERT INTO outbox_attempts(endpoint_id, message_seq, at, status_code, duration_ms, response, error)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?
                .execute(params![
                    ep,
                    a.message_seq,
                    a.at.timestamp_millis(),
                    a.status_code,
                    a.duration_ms as i64,
                    a.response,
                    a.error
                ])?;
                let (status, next) = match &a.outcome {
                    AttemptOutcome::Succeeded => ("succeeded", None),
                    AttemptOutcome::Retry(t) => ("pending", Some(t.timestamp_millis())),
                    AttemptOutcome::GaveUp | AttemptOutcome::Gone => ("failed", None),
                };
                c.prepare_cached(
                    "UPDATE outbox_deliveries SET status = ?3, attempts = attempts + 1, next_attempt_at = ?4
                     WHERE endpoint_id = ?1 AND message_seq = ?2",
                )?
                .execute(params![ep, a.message_seq, status, next])?;
                let reason = match &a.outcome {
                    AttemptOutcome::Succeeded => {
                        c.prepare_cached(
                            "UPDATE webhooks SET failing_since = NULL WHERE id = ?1 AND failing_since IS NOT NULL",
                        )?
                        .execute([&ep])?;
                        return Ok(None);
                    }
                    AttemptOutcome::Gone => "gone",
                    _ => {
                        c.prepare_cached(
                            "UPDATE webhooks SET failing_since = COALESCE(failing_since, ?2) WHERE id = ?1",
                        )?
                        .execute(params![ep, a.at.timestamp_millis()])?;
                        let since: Option<i64> = c
                            .prepare_cached("SELECT failing_since FROM webhooks WHERE id = ?1 AND active = 1")?
                            .query_row([&ep], |r| r.get(0))
                            .optional()?
                            .flatten();
                        match since {
                            Some(s) if a.at - from_millis(s) >= FAILING_DISABLE_AFTER => "failing",
                            _ => return Ok(None),
                        }
                    }
                };
                let row: Option<(String, String)> = c
                    .prepare_cached("SELECT tenant_id, url FROM webhooks WHERE id = ?1 AND active = 1")?
                    .query_row([&ep], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()?;
                let Some((tenant, url)) = row else {
                    return Ok(None);
                };
                disable(c, a.endpoint_id, reason, a.at)?;
                let tenant_id = Uuid::parse_str(&tenant)
                    .map_err(|e| StoreError::Internal(format!("tenant id: {e}")))?;
                let t = crate::tenants::get(c, &crate::TenantKey::Id(tenant_id))?;
                // The notice is queued with the change: it survives an SMTP outage and a
                // restart, and is sent once.
                if let Some(to) = &t.fields.settings.manager_email {
                    let mail = disabled_notice(to, &t.fields.name, &url, a.endpoint_id, reason);
                    crate::outbox_tasks::enqueue(c, &NewTask::mail(&mail, a.at).tenant(tenant_id), a.at)?;
                }
                Ok(Some(Disabled {
                    endpoint_id: a.endpoint_id,
                    tenant_id,
                    reason,
                }))
            })
            .await?;
        if let Some(d) = &disabled {
            let tenant = d.tenant_id;
            let mask = self.read(move |c| tenant_mask(c, tenant)).await?;
            subs.set(tenant, mask);
        }
        Ok(disabled)
    }
}

/// What one pruning pass removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    pub messages: usize,
    pub tasks: usize,
}

/// Messages pruned per write job: a pass never holds the writer for long.
pub const PRUNE_BATCH: usize = 2000;

impl Store {
    /// Removes what the delivery log and the task queue keep past `cutoff`, a batch per
    /// write job until nothing is left: messages created before it with their deliveries and
    /// attempts (never one still pending for some endpoint, never one not yet fanned out,
    /// never the newest — its seq must not be reused), and finished tasks last changed
    /// before it (`outbox_tasks::prune`).
    pub async fn prune_outbox(&self, cutoff: DateTime<Utc>) -> Result<Pruned, StoreError> {
        let mut out = Pruned::default();
        let mut after = 0i64;
        loop {
            let (n, last) = self
                .write(move |c| prune_messages(c, cutoff.timestamp_millis(), after))
                .await?;
            out.messages += n;
            match last {
                Some(l) => after = l,
                None => break,
            }
        }
        loop {
            let n = self
                .write(move |c| crate::outbox_tasks::prune(c, cutoff, PRUNE_BATCH))
                .await?;
            out.tasks += n;
            if n < PRUNE_BATCH {
                break;
            }
        }
        Ok(out)
    }
}

/// One batch of [`Store::prune_outbox`] from the front of the message table past seq
/// `after`: returns how many messages it removed and, when there may be more, the last seq
/// it looked at. Messages are in time order, so the walk stops at the first one too young.
fn prune_messages(
    conn: &Connection,
    cutoff: i64,
    after: i64,
) -> Result<(usize, Option<i64>), StoreError> {
    let cursor: i64 = conn
        .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row([FAN_OUT_CURSOR], |r| r.get::<_, String>(0))
        .optional()?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let newest: i64 = conn
        .prepare_cached("SELECT COALESCE(max(seq), 0) FROM outbox_messages")?
        .query_row([], |r| r.get(0))?;
    let limit = cursor.min(newest - 1);
    let mut seqs: Vec<i64> = Vec::new();
    let mut more = false;
    {
        let mut stmt = conn.prepare_cached(
            "SELECT seq, created_at FROM outbox_messages WHERE seq > ?1 AND seq <= ?2 ORDER BY seq",
        )?;
        let mut rows = stmt.query(params![after, limit])?;
        while let Some(r) = rows.next()? {
            let (seq, at): (i64, i64) = (r.get(0)?, r.get(1)?);
            if at >= cutoff {
                break;
            }
            seqs.push(seq);
            if seqs.len() == PRUNE_BATCH {
                more = true;
                break;
            }
        }
    }
    let (Some(&lo), Some(&hi)) = (seqs.first(), seqs.last()) else {
        return Ok((0, None));
    };
    // Per endpoint, along its own indexes: deliveries have no index by message alone.
    let endpoints: Vec<String> = conn
        .prepare_cached("SELECT id FROM webhooks")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut keep: std::collections::HashSet<i64> = std::collections::HashSet::new();
    for ep in &endpoints {
        let pending = conn
            .prepare_cached(
                "SELECT message_seq FROM outbox_deliveries
                 WHERE endpoint_id = ?1 AND status = 'pending' AND message_seq BETWEEN ?2 AND ?3",
            )?
            .query_map(params![ep, lo, hi], |r| r.get::<_, i64>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        keep.extend(pending);
    }
    // Runs of seqs with no kept message inside: a message still pending for one endpoint
    // keeps every endpoint's record of it.
    let mut runs: Vec<(i64, i64)> = Vec::new();
    for &seq in seqs.iter().filter(|s| !keep.contains(s)) {
        match runs.last_mut() {
            Some((_, end)) if !keep.iter().any(|k| *k > *end && *k < seq) => *end = seq,
            _ => runs.push((seq, seq)),
        }
    }
    for ep in &endpoints {
        for &(from, to) in &runs {
            conn.prepare_cached(
                "DELETE FROM outbox_attempts WHERE endpoint_id = ?1 AND message_seq BETWEEN ?2 AND ?3",
            )?
            .execute(params![ep, from, to])?;
            conn.prepare_cached(
                "DELETE FROM outbox_deliveries WHERE endpoint_id = ?1 AND message_seq BETWEEN ?2 AND ?3",
            )?
            .execute(params![ep, from, to])?;
        }
    }
    let mut removed = 0;
    let mut del = conn.prepare_cached("DELETE FROM outbox_messages WHERE seq = ?1")?;
    for seq in &seqs {
        if !keep.contains(seq) {
            removed += del.execute([seq])?;
        }
    }
    Ok((removed, more.then_some(hi)))
}
