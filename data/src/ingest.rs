//! Storing a submitted lead: replay of retries and double submits, spam flag, duplicate link,
//! intake stage, stage history and usage counters — all in the one group-commit transaction
//! whose fsync the caller waits for before answering 200.

use chrono::{DateTime, TimeDelta, Utc};
use echo5_core::crypto;
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

/// Decides spam from the tenant's keyword list; runs inside the transaction so it sees the
/// settings as they are at commit.
pub type SpamCheck = Box<dyn FnOnce(&[String]) -> Option<String> + Send>;

pub struct IngestRequest {
    pub key: KeyIdentity,
    /// Contact and attribution fields filled in; `tenant_id`, `stage_id` and the stage
    /// times are set here.
    pub lead: Lead,
    pub raw: Vec<u8>,
    pub content_type: String,
    pub idempotency_key: Option<String>,
    pub spam: SpamCheck,
}

fn replay(
    conn: &Connection,
    key: Uuid,
    idem: &str,
    since: DateTime<Utc>,
) -> Result<Option<IngestOutcome>, StoreError> {
    let found: Option<String> = conn
        .prepare_cached(
            "SELECT response FROM idempotency WHERE api_key_id = ?1 AND idem_key = ?2 AND created_at > ?3",
        )?
        .query_row(params![key.to_string(), idem, since.timestamp_millis()], |r| r.get(0))
        .optional()?;
    Ok(match found {
        Some(json) => {
            let mut o: IngestOutcome = serde_json::from_str(&json)?;
            o.replayed = true;
            Some(o)
        }
        None => None,
    })
}

fn remember(
    conn: &Connection,
    key: Uuid,
    idem: &str,
    at: DateTime<Utc>,
    o: &IngestOutcome,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO idempotency(api_key_id, idem_key, created_at, status, response) VALUES (?1, ?2, ?3, 200, ?4)
         ON CONFLICT(api_key_id, idem_key) DO UPDATE SET created_at = excluded.created_at,
           response = excluded.response",
    )?
    .execute(params![key.to_string(), idem, at.timestamp_millis(), serde_json::to_string(o)?])?;
    Ok(())
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

fn spam_keywords(conn: &Connection, tenant: Uuid) -> Result<Vec<String>, StoreError> {
    let json: Option<String> = conn
        .prepare_cached("SELECT spam_keywords FROM tenants WHERE id = ?1")?
        .query_row([tenant.to_string()], |r| r.get(0))
        .optional()?;
    match json {
        Some(j) => Ok(serde_json::from_str(&j)?),
        // Deleted between authentication and commit: the key index forgets it at once, so
        // only a race lands here; nothing to store the lead under.
        None => Err(StoreError::Domain(echo5_core::DomainError::NotFound {
            what: "tenant",
        })),
    }
}

impl Store {
    /// Stores a submission and returns only after its transaction is durable.
    pub async fn ingest(&self, req: IngestRequest) -> Result<IngestOutcome, StoreError> {
        let now = self.now();
        self.write(move |c| {
            let IngestRequest {
                key,
                mut lead,
                raw,
                content_type,
                idempotency_key,
                spam,
            } = req;
            let idem_header = idempotency_key.map(|k| format!("hdr:{k}"));
            if let Some(h) = &idem_header
                && let Some(o) = replay(c, key.key_id, h, now - IDEMPOTENCY_WINDOW)?
            {
                return Ok(o);
            }
            let body_key = format!("body:{}", hex_of(&crypto::sha256(&raw)));
            if let Some(o) = replay(c, key.key_id, &body_key, now - DOUBLE_SUBMIT_WINDOW)? {
                if let Some(h) = &idem_header {
                    remember(c, key.key_id, h, now, &o)?;
                }
                return Ok(o);
            }

            lead.tenant_id = key.tenant_id;
            lead.stage_id = intake_stage(c, key.tenant_id)?;
            lead.stage_changed_at = lead.created_at;
            lead.first_contacted_at = None;
            let reason = spam(&spam_keywords(c, key.tenant_id)?);
            lead.is_spam = reason.is_some();
            lead.spam_reason = reason;
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
            leads::insert(
                c,
                &lead,
                Some(RawBody {
                    bytes: &raw,
                    content_type: &content_type,
                }),
                Some(key.key_id),
            )?;
            leads::record_stage_change(
                c,
                lead.id,
                lead.tenant_id,
                None,
                lead.stage_id,
                lead.created_at,
                &format!("api_key:{}", key.key_id),
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
            let outcome = IngestOutcome {
                id: lead.id,
                status,
                replayed: false,
            };
            remember(c, key.key_id, &body_key, now, &outcome)?;
            if let Some(h) = &idem_header {
                remember(c, key.key_id, h, now, &outcome)?;
            }
            Ok(outcome)
        })
        .await
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

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
