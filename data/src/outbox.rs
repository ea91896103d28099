//! The outbox: messages written in the transaction of the change that causes them, fanned
//! out to the endpoints that take them, and the delivery queue the daemon's worker drains.
//!
//! - [`record`] is called inside a write job (ingest, a lead change, an SLA breach). It
//!   writes a message only when [`Subscriptions`] says someone takes that event for that
//!   tenant, so a tenant without endpoints pays one map lookup.
//! - `deliveries` fans messages out to the endpoints that take them and keeps the worker's
//!   queue.

use chrono::{DateTime, Utc};
use echo5_core::webhooks::{EventMask, EventType, message_body};
use rusqlite::{Connection, params};
use std::collections::HashMap;
use std::sync::RwLock;
use uuid::Uuid;

use crate::error::StoreError;

/// Which event types each tenant's active endpoints take, kept in memory so a write that
/// nobody listens to writes no message.
#[derive(Default)]
pub(crate) struct Subscriptions(RwLock<HashMap<Uuid, EventMask>>);

impl Subscriptions {
    pub(crate) fn load(conn: &Connection) -> Result<Subscriptions, StoreError> {
        let mut map: HashMap<Uuid, EventMask> = HashMap::new();
        let mut stmt = conn.prepare("SELECT tenant_id, events FROM webhooks WHERE active = 1")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        for row in rows {
            let (t, events) = row?;
            if let Ok(t) = Uuid::parse_str(&t) {
                let m = mask_of(&events);
                map.entry(t).and_modify(|e| *e = e.union(m)).or_insert(m);
            }
        }
        Ok(Subscriptions(RwLock::new(map)))
    }

    pub(crate) fn wants(&self, tenant: Uuid, event: EventType) -> bool {
        self.0
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&tenant)
            .is_some_and(|m| m.wants(event))
    }

    /// Adds event types (inside the job that adds or widens an endpoint, before its commit:
    /// a message too many is harmless, one too few would be lost).
    pub(crate) fn widen(&self, tenant: Uuid, mask: EventMask) {
        let mut map = self.0.write().unwrap_or_else(|p| p.into_inner());
        let e = map.entry(tenant).or_default();
        *e = e.union(mask);
    }

    /// The exact set, read after a change is committed (narrowing happens only here).
    pub(crate) fn set(&self, tenant: Uuid, mask: EventMask) {
        let mut map = self.0.write().unwrap_or_else(|p| p.into_inner());
        if mask == EventMask::default() {
            map.remove(&tenant);
        } else {
            map.insert(tenant, mask);
        }
    }
}

pub(crate) fn mask_of(events_json: &str) -> EventMask {
    let names: Vec<String> = serde_json::from_str(events_json).unwrap_or_default();
    EventMask::from_names(&names)
}

/// The union of a tenant's active endpoints' event types, as the database has it.
pub(crate) fn tenant_mask(conn: &Connection, tenant: Uuid) -> Result<EventMask, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT events FROM webhooks WHERE tenant_id = ?1 AND active = 1")?;
    let rows = stmt.query_map([tenant.to_string()], |r| r.get::<_, String>(0))?;
    let mut m = EventMask::default();
    for r in rows {
        m = m.union(mask_of(&r?));
    }
    Ok(m)
}

/// Writes a message in the caller's transaction if anyone takes `event` from `tenant`.
/// `data` is the message's `data`; `None` with a `lead` makes it from the lead row when it
/// is fanned out (ingest: no JSON built on the writer thread). Returns whether it wrote.
pub(crate) fn record(
    conn: &Connection,
    subs: &Subscriptions,
    tenant: Uuid,
    event: EventType,
    lead: Option<Uuid>,
    data: Option<&serde_json::Value>,
    at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    if !subs.wants(tenant, event) {
        return Ok(false);
    }
    insert_message(conn, tenant, event, lead, data, at)?;
    Ok(true)
}

/// The message row itself; returns its seq and id.
pub(crate) fn insert_message(
    conn: &Connection,
    tenant: Uuid,
    event: EventType,
    lead: Option<Uuid>,
    data: Option<&serde_json::Value>,
    at: DateTime<Utc>,
) -> Result<(i64, String), StoreError> {
    let id = echo5_core::webhooks::new_message_id();
    let payload = data.map(|d| message_body(event, at, d).to_string());
    conn.prepare_cached(
        "INSERT INTO outbox_messages(id, tenant_id, event_type, lead_id, payload, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        id,
        tenant.to_string(),
        event.as_str(),
        lead.map(|l| l.to_string()),
        payload,
        at.timestamp_millis()
    ])?;
    Ok((conn.last_insert_rowid(), id))
}
