//! The leads workflow: one lead with its history, stage moves, assignee and spam flag,
//! manual entry. Notes are appended in [`crate::leads::notes`].

use chrono::{DateTime, Utc};
use echo5_core::DomainError;
use echo5_core::audit::{AuditAction, AuditRecord};
use echo5_core::authorization::Reach;
use echo5_core::clock::from_millis;
use echo5_core::events::{Change, Changed};
use echo5_core::leads::{Lead, LeadDetail, LeadPatch, NewLead, StageMove};
use echo5_core::sla;
use rusqlite::{Connection, params};
use serde_json::json;
use uuid::Uuid;

use crate::Store;
use crate::audit;
use crate::error::StoreError;
use crate::lead_days;
use crate::leads;
use crate::outbox;
use crate::stages;
use crate::tenants::{self, TenantKey};
use echo5_core::webhooks::EventType;

fn history(conn: &Connection, lead: Uuid) -> Result<Vec<StageMove>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT from_stage, to_stage, at, by FROM stage_history WHERE lead_id = ?1 ORDER BY at, id",
    )?;
    let rows = stmt
        .query_map([lead.to_string()], |r| {
            Ok((
                r.get::<_, Option<String>>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, String>(3)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter()
        .map(|(f, t, at, by)| {
            Ok(StageMove {
                from_stage: f.map(|f| Uuid::parse_str(&f)).transpose()?,
                to_stage: Uuid::parse_str(&t)?,
                at: from_millis(at),
                by,
            })
        })
        .collect()
}

fn detail(conn: &Connection, lead: Lead, now: DateTime<Utc>) -> Result<LeadDetail, StoreError> {
    let t = tenants::get(conn, &TenantKey::Id(lead.tenant_id))?;
    let intake = stages::intake(conn, t.id)?;
    let in_breach = sla::SlaRule::of(&t.fields.settings).is_breached(
        now,
        sla::SlaFacts {
            created_at: lead.created_at,
            in_intake: lead.stage_id == intake,
            is_spam: lead.is_spam,
            is_duplicate: lead.duplicate_of.is_some(),
        },
    );
    let history = history(conn, lead.id)?;
    let assignee = leads::assignment::assignee(conn, lead.assigned_to)?;
    Ok(LeadDetail {
        tenant: t.tref(),
        in_breach,
        history,
        assignee,
        lead,
    })
}

impl Store {
    /// One lead with its history, if `reach` covers it (else `not_found`).
    pub async fn lead_detail(&self, id: Uuid, reach: Reach) -> Result<LeadDetail, StoreError> {
        let now = self.now();
        self.read(move |c| detail(c, leads::get_within(c, id, reach)?, now))
            .await
    }

    /// Moves a lead, sets its assignee or its spam flag. A move writes the stage history
    /// and, on the first move out of the intake stage, `first_contacted_at`. Clearing the
    /// spam flag clears its reason; setting it by hand gives the reason `manual`. A lead
    /// `reach` does not cover is `not_found`.
    pub async fn patch_lead(
        &self,
        actor: String,
        id: Uuid,
        patch: LeadPatch,
        reach: Reach,
    ) -> Result<Changed<LeadDetail>, StoreError> {
        patch.validate()?;
        let now = self.now();
        let subs = self.subscriptions();
        let written = self
            .write(move |c| {
                let mut lead = leads::get_within(c, id, reach)?;
                let t = tenants::get(c, &TenantKey::Id(lead.tenant_id))?;
                // Out before the change (and its stage history) is written, back in after it.
                lead_days::take_out(c, id)?;
                let was_assigned_to = lead.assigned_to;
                let mut changed: Vec<&str> = Vec::new();
                if let Some(to) = patch.stage_id
                    && to != lead.stage_id
                {
                    let pipeline = stages::load(c, t.id)?;
                    if !pipeline.iter().any(|s| s.id == to) {
                        return Err(DomainError::invalid(
                            "stage_id",
                            "unknown_stage",
                            format!("stage {to} is not in this lead's pipeline"),
                        )
                        .into());
                    }
                    let intake = stages::intake_of(&pipeline).map(|s| s.id);
                    lead.first_contacted_at = sla::first_contact_after_move(
                        Some(lead.stage_id) == intake,
                        Some(to) == intake,
                        lead.first_contacted_at,
                        now,
                    );
                    leads::record_stage_change(c, id, t.id, Some(lead.stage_id), to, now, &actor)?;
                    lead.stage_id = to;
                    lead.stage_changed_at = now;
                    changed.push("stage_id");
                }
                if let Some(spam) = patch.is_spam
                    && spam != lead.is_spam
                {
                    lead.is_spam = spam;
                    lead.spam_reason = spam.then(|| "manual".to_string());
                    changed.push("is_spam");
                }
                if let Some(a) = patch.assigned_to {
                    // Unchanged is no change: a lead keeps a user deactivated since.
                    if let Some(user) = a
                        && a != lead.assigned_to
                    {
                        leads::assignment::check(c, "assigned_to", t.id, user)?;
                    }
                    lead.assigned_to = a;
                    changed.push("assigned_to");
                }
                c.prepare_cached(
                "UPDATE leads SET stage_id = ?2, stage_changed_at = ?3, first_contacted_at = ?4,
                 assigned_to = ?5, is_spam = ?6, spam_reason = ?7 WHERE id = ?1",
            )?
            .execute(params![
                id.to_string(),
                lead.stage_id.to_string(),
                lead.stage_changed_at.timestamp_millis(),
                lead.first_contacted_at.map(|t| t.timestamp_millis()),
                lead.assigned_to.map(|a| a.to_string()),
                lead.is_spam,
                lead.spam_reason
            ])?;
                lead_days::put_in(c, id)?;
                audit::record(
                    c,
                    now,
                    &AuditRecord {
                        actor,
                        action: AuditAction::LeadUpdated,
                        tenant: Some(t.tref()),
                        target: Some(id.to_string()),
                        details: json!({
                            "changed": changed,
                            "stage_id": lead.stage_id,
                            "is_spam": lead.is_spam,
                            "assigned_to": lead.assigned_to,
                        }),
                    },
                )?;
                let assigned_to = lead.assigned_to;
                for (field, event) in [
                    ("stage_id", EventType::LeadStageChanged),
                    ("assigned_to", EventType::LeadAssigned),
                    ("is_spam", EventType::LeadUpdated),
                ] {
                    if changed.contains(&field) && subs.wants(t.id, event) {
                        let data = serde_json::to_value(&lead)?;
                        outbox::record(c, &subs, t.id, event, Some(id), Some(&data), now)?;
                    }
                }
                let d = detail(c, lead, now)?;
                let updated = Change::LeadUpdated {
                    tenant: t.tref(),
                    lead_id: id,
                    changed,
                    assigned_to,
                    was_assigned_to,
                };
                Ok(Changed::one(d, updated))
            })
            .await;
        self.wake_outbox();
        written
    }

    /// Manual entry and imports: a lead with an optional past `created_at`.
    pub async fn create_lead(
        &self,
        actor: String,
        tenant: TenantKey,
        new: NewLead,
    ) -> Result<Changed<LeadDetail>, StoreError> {
        let now = self.now();
        let recent = self.recent();
        let subs = self.subscriptions();
        let written = self.write(move |c| {
            let t = tenants::get(c, &tenant)?;
            let pipeline = stages::load(c, t.id)?;
            let intake = stages::intake_of(&pipeline)
                .map(|s| s.id)
                .ok_or_else(|| StoreError::Internal("no stages".into()))?;
            let stage = new.stage_id.unwrap_or(intake);
            if !pipeline.iter().any(|s| s.id == stage) {
                return Err(DomainError::invalid(
                    "stage_id",
                    "unknown_stage",
                    format!("stage {stage} is not in this tenant's pipeline"),
                )
                .into());
            }
            let mut lead = new.build(t.id, stage, now)?;
            // Stored in E.164, read in the tenant's country when it has no country code.
            lead.phone = lead
                .phone
                .map(|p| echo5_core::phone::to_e164(&p, t.fields.settings.home_country()));
            let first_note = new.first_note()?;
            lead.assigned_to = match new.assigned_to {
                Some(user) => {
                    leads::assignment::check(c, "assigned_to", t.id, user)?;
                    Some(user)
                }
                None => leads::assignment::auto_assignee(c, t.id)?,
            };
            if stage != intake {
                // Entered straight past intake: it was handled already.
                lead.first_contacted_at = Some(lead.created_at);
            }
            leads::insert_counted(c, &lead, None, None)?;
            lead_days::put_in(c, lead.id)?;
            if let Some(text) = first_note {
                let note = leads::notes::insert(c, lead.id, &actor, text, now)?;
                lead.notes.push(note);
            }
            recent.remember(&lead, now);
            audit::record(
                c,
                now,
                &AuditRecord {
                    actor,
                    action: AuditAction::LeadCreated,
                    tenant: Some(t.tref()),
                    target: Some(lead.id.to_string()),
                    details: json!({ "source": lead.source, "backdated": lead.created_at < now }),
                },
            )?;
            let created = Change::LeadCreated {
                tenant: t.tref(),
                lead_id: lead.id,
                source: lead.source,
                spam: None,
                assigned_to: lead.assigned_to,
            };
            if subs.wants(t.id, EventType::LeadCreated) && !lead.is_spam {
                let data = serde_json::to_value(&lead)?;
                outbox::record(c, &subs, t.id, EventType::LeadCreated, Some(lead.id), Some(&data), now)?;
            }
            let d = detail(c, lead, now)?;
            Ok(Changed::one(d, created))
        })
        .await;
        self.wake_outbox();
        written
    }
}
