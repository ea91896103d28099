//! Erasing a lead: the row with its raw body, its stage history, notes, breach record and
//! alert, in one transaction that keeps every counter right and writes an audit row that
//! names the lead by id only.

use chrono::{DateTime, Utc};
use echo5_core::audit::{AuditAction, AuditRecord};
use echo5_core::authorization::Reach;
use echo5_core::events::{Change, Changed};
use rusqlite::{Connection, OptionalExtension};
use serde_json::json;
use uuid::Uuid;

use crate::Store;
use crate::audit;
use crate::error::StoreError;
use crate::leads;
use crate::tenants::{self, TenantKey};
use echo5_core::webhooks::EventType;

/// Deletes the lead `id` and everything that hangs off it, inside the caller's transaction:
/// the row (its raw body is a column of it), and by the foreign keys' `ON DELETE CASCADE`
/// its `stage_history`, `lead_notes`, `sla_breaches` and `alerts` rows. `lead_counts` is
/// kept by its delete trigger (migration 0010), so the counts and the storage bytes of the
/// usage report drop with the row; the per-day analytics counts are taken out first, while
/// the stage history they read still exists. Every counter of stored leads that is added to
/// this function stays right with it. What the outbox holds about the lead (built message
/// bodies, tasks) is scrubbed too (`outbox_tasks::scrub_lead`).
pub(crate) fn erase(conn: &Connection, id: Uuid, now: DateTime<Utc>) -> Result<(), StoreError> {
    crate::lead_days::take_out(conn, id)?;
    conn.prepare_cached("DELETE FROM leads WHERE id = ?1")?
        .execute([id.to_string()])?;
    crate::outbox_tasks::scrub_lead(conn, id, now)?;
    Ok(())
}

impl Store {
    /// Erases a lead `reach` covers (else `not_found`) with [`erase`], forgets it in the
    /// duplicate and double-submit windows, and audits `lead.deleted` with the lead's id and
    /// tenant and no field of the lead.
    pub async fn erase_lead(
        &self,
        actor: String,
        id: Uuid,
        reach: Reach,
    ) -> Result<Changed<()>, StoreError> {
        let now = self.now();
        let recent = self.recent();
        let subs = self.subscriptions();
        let written = self
            .write(move |c| {
                let lead = leads::get_within(c, id, reach)?;
                let t = tenants::get(c, &TenantKey::Id(lead.tenant_id))?;
                let submit: Option<(Option<String>, Option<Vec<u8>>)> = c
                    .prepare_cached("SELECT api_key_id, body_hash FROM leads WHERE id = ?1")?
                    .query_row([id.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()?;
                let submit = submit.and_then(|(key, hash)| {
                    let key = Uuid::parse_str(&key?).ok()?;
                    let hash: [u8; 16] = hash?.try_into().ok()?;
                    Some((key, hash))
                });
                erase(c, id, now)?;
                // An erased lead's message names it and nothing of it.
                let data = json!({ "id": id, "tenant_id": t.id });
                crate::outbox::record(
                    c,
                    &subs,
                    t.id,
                    EventType::LeadDeleted,
                    Some(id),
                    Some(&data),
                    now,
                )?;
                let contacts = recent.contacts(lead.tenant_id, &lead);
                recent.lock().forget_lead(id, &contacts, submit);
                audit::record(
                    c,
                    now,
                    &AuditRecord {
                        actor,
                        action: AuditAction::LeadDeleted,
                        tenant: Some(t.tref()),
                        target: Some(id.to_string()),
                        details: json!({}),
                    },
                )?;
                Ok(Changed::one(
                    (),
                    Change::LeadDeleted {
                        tenant: t.tref(),
                        lead_id: id,
                        assigned_to: lead.assigned_to,
                    },
                ))
            })
            .await;
        self.wake_outbox();
        written
    }
}
