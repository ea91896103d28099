//! Storing a submitted lead: replay of retries and double submits, spam flag, duplicate link,
//! intake stage, stage history and usage counters — all in the one group-commit transaction
//! whose fsync the caller waits for before answering 200.

use chrono::{DateTime, TimeDelta, Utc};
use echo5_core::lead::Lead;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::api_keys::KeyIdentity;
use crate::error::StoreError;
use crate::leads::{self, RawBody};
use crate::store::Store;
use crate::usage::{self, Counts};

/// A retry with the same `Idempotency-Key` within this window gets the first answer.
pub const IDEMPOTENCY_WINDOW: TimeDelta = TimeDelta::hours(24);
/// A byte-identical body from the same key within this window is a double submit.
pub const DOUBLE_SUBMIT_WINDOW: TimeDelta = TimeDelta::minutes(10);
/// Same tenant and e-mail or phone within this window: a duplicate of the earlier lead.
pub const DUPLICATE_WINDOW: TimeDelta = TimeDelta::days(30);

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

/// Claims `idem` for this answer unless an answer younger than `since` holds it; returns
/// that earlier answer. One index seek on the common path (nothing there yet).
fn claim(
    conn: &Connection,
    key: Uuid,
    idem: &str,
    at: DateTime<Utc>,
    since: DateTime<Utc>,
    o: &IngestOutcome,
) -> Result<Option<IngestOutcome>, StoreError> {
    let json = serde_json::to_string(o)?;
    let inserted = conn
        .prepare_cached(
            "INSERT INTO idempotency(api_key_id, idem_key, created_at, status, response) VALUES (?1, ?2, ?3, 200, ?4)
             ON CONFLICT(api_key_id, idem_key) DO NOTHING",
        )?
        .execute(params![key.to_string(), idem, at.timestamp_millis(), json])?;
    if inserted == 1 {
        return Ok(None);
    }
    let (created, response): (i64, String) = conn
        .prepare_cached(
            "SELECT created_at, response FROM idempotency WHERE api_key_id = ?1 AND idem_key = ?2",
        )?
        .query_row(params![key.to_string(), idem], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    if created > since.timestamp_millis() {
        let mut earlier: IngestOutcome = serde_json::from_str(&response)?;
        earlier.replayed = true;
        return Ok(Some(earlier));
    }
    // Past its window: this submission takes the key over.
    conn.prepare_cached(
        "UPDATE idempotency SET created_at = ?3, response = ?4 WHERE api_key_id = ?1 AND idem_key = ?2",
    )?
    .execute(params![key.to_string(), idem, at.timestamp_millis(), json])?;
    Ok(None)
}

/// The lead an earlier byte-identical body from the same key became, within the window.
fn double_submit_of(
    conn: &Connection,
    key: Uuid,
    raw: &[u8],
    since: DateTime<Utc>,
) -> Result<Option<IngestOutcome>, StoreError> {
    let found: Option<(String, bool, Option<String>)> = conn
        .prepare_cached(
            "SELECT id, is_spam, duplicate_of FROM leads
             WHERE body_hash = ?1 AND api_key_id = ?2 AND created_at > ?3 ORDER BY created_at LIMIT 1",
        )?
        .query_row(
            params![leads::body_hash(raw).to_vec(), key.to_string(), since.timestamp_millis()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    Ok(match found {
        Some((id, spam, dup)) => Some(IngestOutcome {
            id: Uuid::parse_str(&id)?,
            status: match (spam, dup) {
                (true, _) => IngestStatus::Spam,
                (false, Some(_)) => IngestStatus::Duplicate,
                (false, None) => IngestStatus::Created,
            },
            replayed: true,
        }),
        None => None,
    })
}

/// The earliest lead of the tenant with this e-mail or phone in the window that is not
/// itself a duplicate or spam: what a new lead duplicates.
fn original_of(
    conn: &Connection,
    lead: &Lead,
    since: DateTime<Utc>,
) -> Result<Option<Uuid>, StoreError> {
    let tid = lead.tenant_id.to_string();
    let since = since.timestamp_millis();
    for (column, value) in [("email", &lead.email), ("phone", &lead.phone)] {
        let Some(value) = value else { continue };
        let found: Option<String> = conn
            .prepare_cached(&format!(
                "SELECT id FROM leads WHERE tenant_id = ?1 AND {column} = ?2 AND created_at >= ?3
                 AND duplicate_of IS NULL AND is_spam = 0 ORDER BY created_at LIMIT 1"
            ))?
            .query_row(params![tid, value, since], |r| r.get(0))
            .optional()?;
        if let Some(id) = found {
            return Ok(Some(Uuid::parse_str(&id)?));
        }
    }
    Ok(None)
}

fn intake_stage(conn: &Connection, tenant: Uuid) -> Result<Uuid, StoreError> {
    let id: Option<String> = conn
        .prepare_cached(
            "SELECT id FROM stages WHERE tenant_id = ?1 ORDER BY position, created_at LIMIT 1",
        )?
        .query_row([tenant.to_string()], |r| r.get(0))
        .optional()?;
    match id {
        Some(id) => Ok(Uuid::parse_str(&id)?),
        None => Err(StoreError::Internal(format!(
            "tenant {tenant} has no stages"
        ))),
    }
}

impl Store {
    /// Stores a submission and returns only after its transaction is durable.
    ///
    /// A retry with the same `Idempotency-Key` (24 h) or a byte-identical body from the same
    /// key (10 min) stores nothing and gets the first answer.
    pub async fn ingest(&self, req: IngestRequest) -> Result<IngestOutcome, StoreError> {
        let now = self.now();
        self.write(move |c| {
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
                original_of(c, &lead, lead.created_at - DUPLICATE_WINDOW)?
            };
            let status = match (lead.is_spam, lead.duplicate_of) {
                (true, _) => IngestStatus::Spam,
                (false, Some(_)) => IngestStatus::Duplicate,
                (false, None) => IngestStatus::Created,
            };
            let outcome = IngestOutcome {
                id: lead.id,
                status,
                replayed: false,
            };
            // Claims roll back with the job's savepoint if anything below fails.
            if let Some(k) = &idempotency_key
                && let Some(first) = claim(c, key.key_id, &format!("hdr:{k}"), now, now - IDEMPOTENCY_WINDOW, &outcome)?
            {
                return Ok(first);
            }
            if let Some(first) = double_submit_of(c, key.key_id, &raw, now - DOUBLE_SUBMIT_WINDOW)? {
                if let Some(k) = &idempotency_key {
                    // The header key now answers like the double submit it turned out to be.
                    c.prepare_cached(
                        "UPDATE idempotency SET response = ?3 WHERE api_key_id = ?1 AND idem_key = ?2",
                    )?
                    .execute(params![key.key_id.to_string(), format!("hdr:{k}"), serde_json::to_string(&first)?])?;
                }
                return Ok(first);
            }
            leads::insert(
                c,
                &lead,
                Some(RawBody {
                    bytes: &raw,
                    content_type: &content_type,
                }),
                Some(key.key_id),
            )?;
            usage::bump(
                c,
                key.tenant_id,
                Some(key.key_id),
                &usage::month_of(now),
                &Counts {
                    accepted: 1,
                    spam: u64::from(status == IngestStatus::Spam),
                    duplicates: u64::from(status == IngestStatus::Duplicate),
                    ..Counts::default()
                },
            )?;
            Ok(outcome)
        })
        .await
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
        let profile = self
            .read(move |c| {
                let t = crate::tenants::get(c, &crate::TenantKey::Id(tenant))?;
                Ok(crate::IngestProfile {
                    tenant: t.tref(),
                    spam_keywords: t.fields.settings.spam_keywords.clone(),
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
