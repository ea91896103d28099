//! A lead's notes: a timeline appended to, never edited (`lead_notes`, migration 0013).

use chrono::{DateTime, Utc};
use echo5_core::audit::{self as core_audit, AuditAction, AuditRecord};
use echo5_core::authorization::Reach;
use echo5_core::clock::from_millis;
use echo5_core::events::{Change, Changed};
use echo5_core::leads::{Lead, NewNote, Note};
use rusqlite::{Connection, params};
use serde_json::json;
use std::collections::HashMap;
use uuid::Uuid;

use crate::Store;
use crate::audit;
use crate::error::StoreError;
use crate::leads;
use crate::tenants::{self, TenantKey};
use echo5_core::webhooks::EventType;

/// Fills each lead's `notes`, oldest first, with one query for all of them (a page of a
/// listing, an export chunk, one lead).
pub(crate) fn attach<'a>(
    conn: &Connection,
    leads: impl IntoIterator<Item = &'a mut Lead>,
) -> Result<(), StoreError> {
    let mut leads: Vec<&mut Lead> = leads.into_iter().collect();
    if leads.is_empty() {
        return Ok(());
    }
    // The ids as one JSON array: one cached statement whatever the page size.
    let ids = serde_json::Value::from(
        leads
            .iter()
            .map(|l| l.id.to_string())
            .collect::<Vec<String>>(),
    )
    .to_string();
    let mut stmt = conn.prepare_cached(
        "SELECT lead_id, id, at, author, text FROM lead_notes
         WHERE lead_id IN (SELECT value FROM json_each(?1))
         ORDER BY lead_id, at, rowid",
    )?;
    let mut by_lead: HashMap<Uuid, Vec<Note>> = HashMap::new();
    let rows = stmt.query_map([ids], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
        ))
    })?;
    for row in rows {
        let (lead, id, at, author, text) = row?;
        by_lead
            .entry(Uuid::parse_str(&lead)?)
            .or_default()
            .push(Note {
                id: Uuid::parse_str(&id)?,
                text,
                author,
                at: from_millis(at),
            });
    }
    for l in leads.iter_mut() {
        l.notes = by_lead.remove(&l.id).unwrap_or_default();
    }
    Ok(())
}

/// Appends a note written by `actor` (as audit rows name it) at `at`.
pub(crate) fn insert(
    conn: &Connection,
    lead: Uuid,
    actor: &str,
    text: String,
    at: DateTime<Utc>,
) -> Result<Note, StoreError> {
    let note = Note {
        id: Uuid::now_v7(),
        text,
        author: core_audit::actor_name(actor).to_string(),
        at,
    };
    conn.prepare_cached(
        "INSERT INTO lead_notes(id, lead_id, at, actor, author, text) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        note.id.to_string(),
        lead.to_string(),
        at.timestamp_millis(),
        actor,
        note.author,
        note.text
    ])?;
    Ok(note)
}

impl Store {
    /// Appends a note to a lead: audited (`lead.note_added`) in the same transaction, and
    /// published as `lead.updated` with `changed: ["notes"]`.
    /// A lead `reach` does not cover is `not_found`.
    pub async fn add_note(
        &self,
        actor: String,
        lead: Uuid,
        new: NewNote,
        reach: Reach,
    ) -> Result<Changed<Note>, StoreError> {
        let text = new.validate()?;
        let now = self.now();
        let subs = self.subscriptions();
        let written = self
            .write(move |c| {
                let mut l = leads::get_within(c, lead, reach)?;
                let t = tenants::get(c, &TenantKey::Id(l.tenant_id))?;
                let note = insert(c, lead, &actor, text, now)?;
                audit::record(
                    c,
                    now,
                    &AuditRecord {
                        actor,
                        action: AuditAction::LeadNoteAdded,
                        tenant: Some(t.tref()),
                        target: Some(lead.to_string()),
                        // The text is the lead's business, not the log's: its size only.
                        details: json!({ "note_id": note.id, "chars": note.text.chars().count() }),
                    },
                )?;
                if subs.wants(t.id, EventType::LeadUpdated) {
                    l.notes.push(note.clone());
                    let data = serde_json::to_value(&l)?;
                    crate::outbox::record(
                        c,
                        &subs,
                        t.id,
                        EventType::LeadUpdated,
                        Some(lead),
                        Some(&data),
                        now,
                    )?;
                }
                let updated = Change::LeadUpdated {
                    tenant: t.tref(),
                    lead_id: lead,
                    changed: vec!["notes"],
                    assigned_to: l.assigned_to,
                    was_assigned_to: l.assigned_to,
                };
                Ok(Changed::one(note, updated))
            })
            .await;
        self.wake_outbox();
        written
    }
}
