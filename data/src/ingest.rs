//! Storing a submitted lead: replay of retries and double submits, spam flag, duplicate link,
//! intake stage, stage history and usage counters — all in the one group-commit transaction
//! whose fsync the caller waits for before answering 200.

use chrono::{DateTime, Utc};
use echo5_core::DomainError;
use echo5_core::dedup::Answer;
use echo5_core::events::Change;
use echo5_core::leads::{Lead, LeadSource};
use echo5_core::tenants::TenantRef;
use echo5_core::usage::Month;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::HashMap;
use uuid::Uuid;

use crate::Store;
use crate::error::StoreError;
use crate::keys::KeyIdentity;
use crate::lead_days;
use crate::leads::{self, RawBody};
use crate::outbox;
use crate::usage::Counts;
use echo5_core::webhooks::EventType;

pub use echo5_core::dedup::{DOUBLE_SUBMIT_WINDOW, DUPLICATE_WINDOW, IDEMPOTENCY_WINDOW};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IngestStatus {
    Created,
    Duplicate,
    Spam,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestOutcome {
    pub id: Uuid,
    pub status: IngestStatus,
    /// True when this answer repeats an earlier one (idempotency key or double submit).
    #[serde(skip)]
    pub replayed: bool,
    /// Who the stored lead was assigned to (`settings.auto_assign`); not kept for replays,
    /// which announce nothing.
    #[serde(skip)]
    pub assigned_to: Option<Uuid>,
}

impl IngestOutcome {
    /// What a stored submission announces: a website lead for `tenant` (the caller's ingest
    /// profile holds it; the write never loads the tenant row). A replayed answer announces
    /// nothing: the first one did.
    pub fn change(&self, tenant: &TenantRef) -> Option<Change> {
        (!self.replayed).then(|| Change::LeadCreated {
            tenant: tenant.clone(),
            lead_id: self.id,
            source: LeadSource::Website,
            spam: Some(self.status == IngestStatus::Spam),
            assigned_to: self.assigned_to,
        })
    }
}

pub struct IngestRequest {
    pub key: KeyIdentity,
    /// Contact and attribution fields filled in; `tenant_id`, `stage_id` and the stage
    /// times are set here.
    pub lead: Lead,
    pub raw: Vec<u8>,
    pub content_type: String,
    pub idempotency_key: Option<String>,
    /// Why the caller judged it spam (see `echo5_core::ingest::check_spam`), if it did.
    pub spam_reason: Option<String>,
}

/// What an `Idempotency-Key` says about a submission.
enum Claim {
    /// The key was free (or its record past the window): this submission holds it now.
    Fresh,
    /// A retry: the same key with the same body, answered before.
    Replay(IngestOutcome),
    /// The same key with another body: refused, nothing stored.
    Reused,
}

/// Claims `idem` for this answer unless an answer younger than `since` holds it. One index
/// seek on the common path (nothing there yet); the row found on a conflict carries the
/// body digest it was claimed with, so a reuse costs no extra query either.
fn claim(
    conn: &Connection,
    key: Uuid,
    idem: &str,
    at: DateTime<Utc>,
    since: DateTime<Utc>,
    o: &IngestOutcome,
    body: &[u8; 16],
) -> Result<Claim, StoreError> {
    let json = serde_json::to_string(o)?;
    let inserted = conn
        .prepare_cached(
            "INSERT INTO idempotency(api_key_id, idem_key, created_at, status, response, body_hash)
             VALUES (?1, ?2, ?3, 200, ?4, ?5)
             ON CONFLICT(api_key_id, idem_key) DO NOTHING",
        )?
        .execute(params![
            key.to_string(),
            idem,
            at.timestamp_millis(),
            json,
            body.as_slice()
        ])?;
    if inserted == 1 {
        return Ok(Claim::Fresh);
    }
    let (created, response, held): (i64, String, Option<Vec<u8>>) = conn
        .prepare_cached(
            "SELECT created_at, response, body_hash FROM idempotency WHERE api_key_id = ?1 AND idem_key = ?2",
        )?
        .query_row(params![key.to_string(), idem], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
    if created > since.timestamp_millis() {
        // A record from before body digests were kept (NULL) replays as it always did.
        if held.is_some_and(|h| h.as_slice() != body.as_slice()) {
            return Ok(Claim::Reused);
        }
        let mut earlier: IngestOutcome = serde_json::from_str(&response)?;
        earlier.replayed = true;
        return Ok(Claim::Replay(earlier));
    }
    // Past its window: this submission takes the key over.
    conn.prepare_cached(
        "UPDATE idempotency SET created_at = ?3, response = ?4, body_hash = ?5
         WHERE api_key_id = ?1 AND idem_key = ?2",
    )?
    .execute(params![
        key.to_string(),
        idem,
        at.timestamp_millis(),
        json,
        body.as_slice()
    ])?;
    Ok(Claim::Fresh)
}

/// The refusal of an `Idempotency-Key` that already belongs to another body.
fn key_reused() -> StoreError {
    StoreError::Domain(DomainError::invalid(
        "Idempotency-Key",
        "idempotency_key_reused",
        format!(
            "this Idempotency-Key was already used, within the last {} days, with a different \
             request body; nothing was stored. Send a retry with exactly the same body, or use \
             a new Idempotency-Key for a new submission",
            IDEMPOTENCY_WINDOW.num_days()
        ),
    ))
}

impl IngestStatus {
    pub(crate) fn of(spam: bool, duplicate: bool) -> IngestStatus {
        match (spam, duplicate) {
            (true, _) => IngestStatus::Spam,
            (false, true) => IngestStatus::Duplicate,
            (false, false) => IngestStatus::Created,
        }
    }
}

thread_local! {
    /// Intake stages read by ingest jobs on the writer thread, and the writer generation
    /// they were read in: a batch of leads for one tenant looks its intake stage up once
    /// (the query was ~3.5 % of the writer at c64 ingest when it ran for every lead).
    static INTAKE: RefCell<(u64, HashMap<Uuid, Uuid>)> = RefCell::new((u64::MAX, HashMap::new()));
}

/// The tenant's intake stage, remembered until the writer's generation changes: at the end
/// of the batch, or when a job that may edit stages starts.
pub(crate) fn intake_stage(conn: &Connection, tenant: Uuid) -> Result<Uuid, StoreError> {
    let generation = crate::writer::generation();
    let known = INTAKE.with_borrow_mut(|(seen, stages)| {
        if *seen != generation {
            stages.clear();
            *seen = generation;
        }
        stages.get(&tenant).copied()
    });
    if let Some(id) = known {
        return Ok(id);
    }
    let id = crate::stages::intake(conn, tenant)?;
    INTAKE.with_borrow_mut(|(_, stages)| stages.insert(tenant, id));
    Ok(id)
}

impl Store {
    /// Stores a submission and returns only after its transaction is durable.
    ///
    /// A retry with the same `Idempotency-Key` (8 days, `IDEMPOTENCY_WINDOW`) or a
    /// byte-identical body from the same key (10 min) stores nothing and gets the first
    /// answer. The same `Idempotency-Key` with another body stores nothing either and is
    /// refused (`idempotency_key_reused`).
    pub async fn ingest(&self, req: IngestRequest) -> Result<IngestOutcome, StoreError> {
        let now = self.now();
        let recent = self.recent();
        let batch_usage = self.batch_usage();
        let lead_counts = self.batch_lead_counts();
        let lead_days = self.batch_lead_days();
        let hash = leads::body_hash(&req.raw);
        // Computed here, on the request's thread, so the one writer thread does not: the
        // contact keys of the dedup windows, the `custom` column's JSON text, the usage month.
        let contacts = recent.contacts(req.key.tenant_id, &req.lead);
        let custom = req.lead.custom.to_string();
        let month = Month::of(now).to_string();
        let subs = self.subscriptions();
        let tenant = req.key.tenant_id;
        let answer = self.write_unguarded(move |c| {
            // Duplicates and double submits are looked up in memory (see `recent`); the
            // guard is held for the whole job, which runs on the one writer thread anyway.
            let mut windows = recent.lock();
            windows.prune(now);
            let IngestRequest {
                key,
                mut lead,
                raw,
                content_type,
                idempotency_key,
                spam_reason,
            } = req;
            lead.tenant_id = key.tenant_id;
            lead.stage_id = intake_stage(c, key.tenant_id)?;
            lead.stage_changed_at = lead.created_at;
            lead.first_contacted_at = None;
            lead.is_spam = spam_reason.is_some();
            lead.spam_reason = spam_reason;
            lead.duplicate_of = if lead.is_spam {
                None
            } else {
                windows.original_of_contacts(&contacts, lead.created_at)
            };
            let status = IngestStatus::of(lead.is_spam, lead.duplicate_of.is_some());
            let mut outcome = IngestOutcome {
                id: lead.id,
                status,
                replayed: false,
                assigned_to: None,
            };
            // A failure after the claim rolls the whole batch back (unguarded job); a reused
            // key is an answer, not a failure, and has written nothing.
            if let Some(k) = &idempotency_key {
                match claim(c, key.key_id, &format!("hdr:{k}"), now, now - IDEMPOTENCY_WINDOW, &outcome, &hash)? {
                    Claim::Fresh => {}
                    Claim::Replay(first) => return Ok((Some(first), (lead, raw))),
                    Claim::Reused => return Ok((None, (lead, raw))),
                }
            }
            if let Some(a) = windows.double_submit_of(key.key_id, hash, now) {
                let first = IngestOutcome {
                    id: a.lead,
                    status: IngestStatus::of(a.spam, a.duplicate),
                    replayed: true,
                    assigned_to: None,
                };
                if let Some(k) = &idempotency_key {
                    // The header key now answers like the double submit it turned out to be.
                    c.prepare_cached(
                        "UPDATE idempotency SET response = ?3 WHERE api_key_id = ?1 AND idem_key = ?2",
                    )?
                    .execute(params![key.key_id.to_string(), format!("hdr:{k}"), serde_json::to_string(&first)?])?;
                }
                return Ok((Some(first), (lead, raw)));
            }
            // After the replay checks, so a retry never takes a manager's turn; spam takes
            // nobody's.
            lead.assigned_to = if lead.is_spam {
                None
            } else {
                leads::assignment::auto_assignee(c, key.tenant_id)?
            };
            outcome.assigned_to = lead.assigned_to;
            let bytes = leads::insert(
                c,
                &lead,
                &custom,
                Some(RawBody {
                    bytes: &raw,
                    content_type: &content_type,
                    hash,
                }),
                Some(key.key_id),
            )?;
            // Its outbox message, in this transaction; spam is nobody's news.
            if !lead.is_spam {
                outbox::record(c, &subs, key.tenant_id, EventType::LeadCreated, Some(lead.id), None, now)?;
            }
            // Last, once nothing below can fail: the writer takes these back should the
            // job or its commit fail after all. The counts are written before the batch's
            // COMMIT (see `tally`).
            lead_counts.add(leads::count_key(&lead), leads::count_of(&lead, bytes));
            if let Some((k, n)) = lead_days::ingested(&lead) {
                lead_days.add(k, n);
            }
            batch_usage.add(
                (key.tenant_id, Some(key.key_id), month),
                Counts {
                    accepted: 1,
                    spam: u64::from(status == IngestStatus::Spam),
                    duplicates: u64::from(status == IngestStatus::Duplicate),
                    ..Counts::default()
                },
            );
            windows.add_submit(
                key.key_id,
                hash,
                now,
                Answer {
                    lead: lead.id,
                    spam: lead.is_spam,
                    duplicate: lead.duplicate_of.is_some(),
                },
            );
            windows.add_lead(&lead, &contacts, now);
            Ok((Some(outcome), (lead, raw)))
        })
        .await
        // What the job was done with comes back to be freed here, off the writer thread:
        // dropping a lead's `custom` map and body there was ~2 % of the writer.
        .and_then(|(outcome, _spent): (Option<IngestOutcome>, (Lead, Vec<u8>))| {
            outcome.ok_or_else(key_reused)
        });
        if answer.as_ref().is_ok_and(|o| !o.replayed)
            && self.subscriptions().wants(tenant, EventType::LeadCreated)
        {
            self.wake_outbox();
        }
        answer
    }

    /// The tenant's name and spam keywords, from memory after the first read; dropped from
    /// memory whenever the tenant changes.
    pub async fn ingest_profile(
        &self,
        tenant: Uuid,
    ) -> Result<std::sync::Arc<crate::IngestProfile>, StoreError> {
        if let Some(p) = self.keyword_cache().get(tenant) {
            return Ok(p);
        }
        let key = self.key();
        let profile = self
            .read(move |c| {
                let t = crate::tenants::get(c, &crate::TenantKey::Id(tenant))?;
                let keywords = &t.fields.settings.spam_keywords;
                Ok(crate::IngestProfile {
                    tenant: t.tref(),
                    spam_matcher: echo5_core::ingest::spam::Keywords::new(keywords),
                    home_country: t.fields.settings.home_country(),
                    active: t.fields.active,
                    google_webhook_key: crate::settings::google_webhook_key(c, &key, t.id)?,
                })
            })
            .await?;
        Ok(self.keyword_cache().put(tenant, profile))
    }

    /// Deletes idempotency records older than the longest replay window.
    pub async fn prune_idempotency(&self) -> Result<usize, StoreError> {
        let cutoff = (self.now() - IDEMPOTENCY_WINDOW).timestamp_millis();
        self.write(move |c| {
            Ok(c.execute("DELETE FROM idempotency WHERE created_at < ?1", [cutoff])?)
        })
        .await
    }

    /// The body and content type a lead arrived with, byte for byte.
    pub async fn lead_raw(&self, id: Uuid) -> Result<Option<(Vec<u8>, String)>, StoreError> {
        self.read(move |c| {
            let row: Option<(Option<Vec<u8>>, Option<String>)> = c
                .prepare_cached("SELECT raw, raw_content_type FROM leads WHERE id = ?1")?
                .query_row([id.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            Ok(match row {
                Some((Some(b), Some(ct))) => Some((b, ct)),
                _ => None,
            })
        })
        .await
    }
}
