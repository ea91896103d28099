//! Setup the storage tests share: a store on a database file in a temporary directory, a
//! manual clock, and the tenants, keys and leads the tests start from.
#![allow(dead_code)]

use chrono::{DateTime, Utc};
use echo5_core::DomainError;
use echo5_core::clock::{Clock, ManualClock};
use echo5_core::crypto::MasterKey;
use echo5_core::leads::{Lead, NewLead};
use echo5_core::tenants::{self, NewTenant, Tenant};
use echo5_data::keys::KeyIdentity;
use echo5_data::{Store, StoreError, StoreOptions};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use uuid::Uuid;

/// The database file's name inside a test's directory.
pub const DB_FILE: &str = "echo5.db";

pub fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_780_000_000, 0).unwrap()
}

/// A master key made of one repeated byte.
pub fn master_key(b: u8) -> MasterKey {
    MasterKey::from_bytes([b; 32], 1)
}

/// Opens (or creates) the store in `dir`.
pub fn open_store(
    dir: &Path,
    key: MasterKey,
    clock: Arc<dyn Clock>,
    opts: StoreOptions,
) -> Result<Store, StoreError> {
    Store::open(&dir.join(DB_FILE), key, clock, opts)
}

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub store: Store,
    pub clock: Arc<ManualClock>,
}

impl Fixture {
    /// The database file.
    pub fn db(&self) -> PathBuf {
        self.dir.path().join(DB_FILE)
    }
}

/// A new store under `key` in a fresh directory, its clock at [`t0`].
pub fn open_with(key: MasterKey, opts: StoreOptions) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(t0()));
    let store = open_store(dir.path(), key, clock.clone(), opts).unwrap();
    Fixture { dir, store, clock }
}

/// A tenant created the way the API creates one, from a `NewTenant` JSON body.
pub async fn new_tenant(s: &Store, body: &str) -> Result<Tenant, StoreError> {
    let input: NewTenant = serde_json::from_str(body).unwrap();
    let (fields, secrets) = tenants::validate_new(&input)?;
    s.create_tenant("admin:test".into(), fields, secrets)
        .await
        .map(|t| t.value)
}

/// A new API key of `tenant`, presented once: the identity ingest acts for.
pub async fn key_for(s: &Store, tenant: Uuid) -> KeyIdentity {
    let key = s
        .create_key("admin:t".into(), tenant.into(), None)
        .await
        .unwrap()
        .value;
    s.authenticate_key(&key.secret).unwrap()
}

/// A lead from Jane Doe, created at `at` in `stage`, entered the way the manual-entry
/// route enters one (`Store::create_lead`).
pub async fn add_lead(s: &Store, tenant: Uuid, stage: Uuid, at: DateTime<Utc>) -> Lead {
    enter(
        s,
        tenant,
        NewLead {
            name: Some("Jane Doe".into()),
            email: Some("jane@example.com".into()),
            created_at: Some(at),
            stage_id: Some(stage),
            ..NewLead::default()
        },
    )
    .await
}

/// Enters `new` for `tenant` through manual entry and returns the stored lead.
pub async fn enter(s: &Store, tenant: Uuid, new: NewLead) -> Lead {
    s.create_lead("admin:test".into(), tenant.into(), new)
        .await
        .unwrap()
        .value
        .lead
}

/// Submits `lead` through ingest as `who`, `spam_reason` set when the caller judged it
/// spam, and returns the stored lead.
pub async fn ingest(s: &Store, who: KeyIdentity, lead: Lead, spam_reason: Option<&str>) -> Lead {
    let raw =
        serde_json::to_vec(&serde_json::json!({ "name": lead.name, "email": lead.email })).unwrap();
    let out = s
        .ingest(echo5_data::ingest::IngestRequest {
            key: who,
            lead,
            raw,
            content_type: "application/json".into(),
            idempotency_key: None,
            spam_reason: spam_reason.map(str::to_owned),
        })
        .await
        .unwrap();
    s.get_lead(out.id).await.unwrap()
}

/// A lead's stage moves, oldest first, as (from, to, by), from its detail.
pub async fn history(s: &Store, lead: Uuid) -> Vec<(Option<Uuid>, Uuid, String)> {
    s.lead_detail(lead, echo5_core::authorization::Reach::All)
        .await
        .unwrap()
        .history
        .into_iter()
        .map(|m| (m.from_stage, m.to_stage, m.by))
        .collect()
}

pub fn domain(e: StoreError) -> DomainError {
    match e {
        StoreError::Domain(d) => d,
        other => panic!("expected a domain error, got {other:?}"),
    }
}

/// `lead_counts` (kept by triggers) against the truth counted from `leads` itself.
pub fn counts_match_leads(path: &std::path::Path) -> usize {
    let c = rusqlite::Connection::open(path).unwrap();
    let q = |sql: &str| -> Vec<(String, String, i64, i64, i64, i64)> {
        c.prepare(sql)
            .unwrap()
            .query_map([], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    let kept = q(
        "SELECT tenant_id, stage_id, is_spam, leads, duplicates, bytes FROM lead_counts
                  WHERE leads <> 0 ORDER BY 1, 2, 3",
    );
    let truth = q(
        "SELECT tenant_id, stage_id, is_spam, count(*), count(duplicate_of),
                          sum(coalesce(length(CAST(raw AS BLOB)), 0) + length(CAST(custom AS BLOB))
                              + coalesce(length(CAST(name AS BLOB)), 0)
                              + coalesce(length(CAST(email AS BLOB)), 0)
                              + coalesce(length(CAST(phone AS BLOB)), 0)
                              + coalesce(length(CAST(message AS BLOB)), 0)
                              + coalesce(length(CAST(notes AS BLOB)), 0)
                              + coalesce(length(CAST(spam_reason AS BLOB)), 0)
                              + coalesce(length(CAST(raw_content_type AS BLOB)), 0)
                              + coalesce(length(CAST(assigned_to AS BLOB)), 0))
                   FROM leads GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
    );
    assert_eq!(kept, truth);
    // No negative leftovers either.
    let negative: i64 = c
        .query_row(
            "SELECT count(*) FROM lead_counts WHERE leads < 0 OR bytes < 0 OR duplicates < 0",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(negative, 0);
    kept.len()
}
