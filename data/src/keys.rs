//! Per-tenant API keys: storage, the in-memory index ingest authenticates against, and
//! coalesced `last_used_at` updates.
//!
//! Authentication never touches the database: the index maps SHA-256(key) to its tenant and
//! lifecycle, and is updated right after each committed create/rotate/revoke. It also holds
//! the tenants' `active` flags, updated right after each committed tenant change, so an
//! inactive tenant's keys are refused without a read per request. Usage times
//! collect in memory and are written in one transaction by [`Store::flush_coalesced`], so a
//! busy key costs no write per request.

use chrono::{DateTime, Utc};
use echo5_core::DomainError;
use echo5_core::audit::{AuditAction, AuditRecord};
use echo5_core::clock::from_millis;
use echo5_core::crypto::{self, MasterKey};
use echo5_core::events::{Change, Changed};
use echo5_core::keys::{self, ApiKey, ApiKeyWithSecret, KeyStatus, RotatedApiKey};
use echo5_core::secret::Secret;
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Mutex, RwLock};
use uuid::Uuid;

use crate::Store;
use crate::audit;
use crate::error::StoreError;
use crate::tenants::{self, TenantKey, TenantRow};
use echo5_core::plans::HardLimit;

/// Who a presented key belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyIdentity {
    pub key_id: Uuid,
    pub tenant_id: Uuid,
}

/// Why a presented key was refused; the reason helps a site owner fix it. The key's own
/// problems are 401s; [`KeyRejection::TenantInactive`] is a 403: the key is genuine, but its
/// tenant is not taking leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyRejection {
    #[error("no such API key")]
    Unknown,
    #[error("this API key was revoked")]
    Revoked,
    #[error("this API key has expired")]
    Expired,
    #[error("this API key's tenant is inactive; an administrator can reactivate it")]
    TenantInactive,
}

#[derive(Debug, Clone)]
struct Entry {
    id: Uuid,
    tenant_id: Uuid,
    hash: [u8; 32],
    expires_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

#[derive(Default)]
pub(crate) struct KeyIndex {
    by_hash: RwLock<HashMap<[u8; 32], Entry>>,
    /// Tenants' `active` flags with the [`tenant_change`](crate::tenants::tenant_change) that committed them: every
    /// inactive tenant, and the tenants changed since the start.
    tenants: RwLock<HashMap<Uuid, (bool, u64)>>,
    pending_use: Mutex<HashMap<Uuid, DateTime<Utc>>>,
}

impl KeyIndex {
    pub(crate) fn load(conn: &Connection) -> Result<KeyIndex, StoreError> {
        let mut stmt =
            conn.prepare("SELECT id, tenant_id, hash, expires_at, revoked_at FROM api_keys")?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Vec<u8>>(2)?,
                    r.get::<_, Option<i64>>(3)?,
                    r.get::<_, Option<i64>>(4)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let index = KeyIndex::default();
        let mut stmt = conn.prepare("SELECT id FROM tenants WHERE active = 0")?;
        let inactive = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        for id in inactive {
            index.set_tenant_active(Uuid::parse_str(&id)?, false, 0);
        }
        for (id, tenant, hash, exp, rev) in rows {
            index.put(Entry {
                id: Uuid::parse_str(&id)?,
                tenant_id: Uuid::parse_str(&tenant)?,
                hash: hash
                    .try_into()
                    .map_err(|_| StoreError::Internal("api key hash length".into()))?,
                expires_at: exp.map(from_millis),
                revoked_at: rev.map(from_millis),
            });
        }
        Ok(index)
    }

    fn put(&self, e: Entry) {
        self.by_hash
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(e.hash, e);
    }

    fn update(&self, id: Uuid, f: impl FnOnce(&mut Entry)) {
        let mut map = self.by_hash.write().unwrap_or_else(|p| p.into_inner());
        if let Some(e) = map.values_mut().find(|e| e.id == id) {
            f(e);
        }
    }

    fn remove_tenant(&self, tenant: Uuid) {
        self.by_hash
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|_, e| e.tenant_id != tenant);
        self.tenants
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&tenant);
    }

    /// Records a committed `active` flag of a tenant. `change` is the [`tenant_change`](crate::tenants::tenant_change) taken
    /// in the transaction that wrote it: callers publish after their commit, in whatever
    /// order their tasks wake up, and an older change never overwrites a newer one.
    pub(crate) fn set_tenant_active(&self, tenant: Uuid, active: bool, change: u64) {
        let mut tenants = self.tenants.write().unwrap_or_else(|p| p.into_inner());
        let slot = tenants.entry(tenant).or_insert((active, change));
        if slot.1 <= change {
            *slot = (active, change);
        }
    }

    fn tenant_inactive(&self, tenant: Uuid) -> bool {
        self.tenants
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&tenant)
            .is_some_and(|(active, _)| !active)
    }

    fn check(&self, presented: &str, now: DateTime<Utc>) -> Result<KeyIdentity, KeyRejection> {
        // Hashing first means the map lookup's timing depends on a hash the caller cannot
        // steer, and the final comparison is constant-time anyway.
        let hash = keys::hash(presented);
        let map = self.by_hash.read().unwrap_or_else(|p| p.into_inner());
        let e = map.get(&hash).ok_or(KeyRejection::Unknown)?;
        if !crypto::ct_eq(&e.hash, &hash) {
            return Err(KeyRejection::Unknown);
        }
        match keys::status(now, e.expires_at, e.revoked_at) {
            KeyStatus::Revoked => Err(KeyRejection::Revoked),
            KeyStatus::Expired => Err(KeyRejection::Expired),
            _ if self.tenant_inactive(e.tenant_id) => Err(KeyRejection::TenantInactive),
            _ => Ok(KeyIdentity {
                key_id: e.id,
                tenant_id: e.tenant_id,
            }),
        }
    }

    fn mark_used(&self, id: Uuid, at: DateTime<Utc>) {
        let mut pending = self.pending_use.lock().unwrap_or_else(|p| p.into_inner());
        let slot = pending.entry(id).or_insert(at);
        if *slot < at {
            *slot = at;
        }
    }

    fn take_pending(&self) -> HashMap<Uuid, DateTime<Utc>> {
        std::mem::take(&mut *self.pending_use.lock().unwrap_or_else(|p| p.into_inner()))
    }

    fn restore_pending(&self, back: HashMap<Uuid, DateTime<Utc>>) {
        for (id, at) in back {
            self.mark_used(id, at);
        }
    }

    fn pending_for(&self, id: Uuid) -> Option<DateTime<Utc>> {
        self.pending_use
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&id)
            .copied()
    }

    pub(crate) fn forget_tenant(&self, tenant: Uuid) {
        self.remove_tenant(tenant);
    }
}

const COLUMNS: &str =
    "id, tenant_id, prefix, label, created_at, last_used_at, expires_at, revoked_at, rotated_from";

fn from_row(r: &Row<'_>, now: DateTime<Utc>) -> rusqlite::Result<ApiKey> {
    let id = |i: usize| -> rusqlite::Result<Uuid> {
        let s: String = r.get(i)?;
        Uuid::parse_str(&s).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, e.into())
        })
    };
    let expires_at = r.get::<_, Option<i64>>(6)?.map(from_millis);
    let revoked_at = r.get::<_, Option<i64>>(7)?.map(from_millis);
    Ok(ApiKey {
        id: id(0)?,
        tenant_id: id(1)?,
        prefix: r.get(2)?,
        label: r.get(3)?,
        status: keys::status(now, expires_at, revoked_at),
        created_at: from_millis(r.get(4)?),
        last_used_at: r.get::<_, Option<i64>>(5)?.map(from_millis),
        expires_at,
        revoked_at,
        rotated_from: r
            .get::<_, Option<String>>(8)?
            .and_then(|s| Uuid::parse_str(&s).ok()),
    })
}

fn get_key(
    conn: &Connection,
    tenant: Uuid,
    key_id: Uuid,
    now: DateTime<Utc>,
) -> Result<ApiKey, StoreError> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM api_keys WHERE id = ?1 AND tenant_id = ?2"
    ))?
    .query_row(params![key_id.to_string(), tenant.to_string()], |r| {
        from_row(r, now)
    })
    .optional()?
    .ok_or(StoreError::Domain(DomainError::NotFound { what: "key" }))
}

/// Creates and stores a key; returns it with the secret, and the index entry to publish
/// after the commit.
fn insert_key(
    conn: &Connection,
    mk: &MasterKey,
    tenant: &TenantRow,
    label: String,
    rotated_from: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<(ApiKeyWithSecret, Entry), StoreError> {
    let secret = keys::generate()?;
    let id = Uuid::now_v7();
    let hash = keys::hash(secret.expose());
    let sealed = mk.seal(&keys::aad(tenant.id, id), secret.expose().as_bytes())?;
    let prefix = keys::display_prefix(secret.expose());
    conn.prepare_cached(
        "INSERT INTO api_keys(id, tenant_id, hash, key_enc, prefix, label, created_at, rotated_from)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        id.to_string(),
        tenant.id.to_string(),
        hash.as_slice(),
        sealed,
        prefix,
        label,
        now.timestamp_millis(),
        rotated_from.map(|r| r.to_string())
    ])?;
    let key = get_key(conn, tenant.id, id, now)?;
    Ok((
        ApiKeyWithSecret {
            key,
            secret: secret.into_inner(),
        },
        Entry {
            id,
            tenant_id: tenant.id,
            hash,
            expires_at: None,
            revoked_at: None,
        },
    ))
}

fn key_audit(
    actor: String,
    action: AuditAction,
    t: &TenantRow,
    key: &ApiKey,
    details: serde_json::Value,
) -> AuditRecord {
    AuditRecord {
        actor,
        action,
        tenant: Some(t.tref()),
        target: Some(key.id.to_string()),
        details,
    }
}

fn ensure_live(key: &ApiKey, action: &str) -> Result<(), StoreError> {
    match key.status {
        KeyStatus::Revoked => Err(DomainError::conflict(
            "key_revoked",
            format!("key {} is revoked; it cannot be {action}", key.prefix),
        )
        .into()),
        KeyStatus::Expired => Err(DomainError::conflict(
            "key_expired",
            format!("key {} has expired; it cannot be {action}", key.prefix),
        )
        .into()),
        _ => Ok(()),
    }
}

impl Store {
    /// Resolves a presented key to its tenant, in memory. Records the use for the next
    /// [`Store::flush_coalesced`].
    pub fn authenticate_key(&self, presented: &str) -> Result<KeyIdentity, KeyRejection> {
        if !keys::well_formed(presented) {
            return Err(KeyRejection::Unknown);
        }
        let now = self.now();
        let id = self.keys().check(presented, now)?;
        self.keys().mark_used(id.key_id, now);
        self.usage().add(
            id.tenant_id,
            id.key_id,
            now,
            crate::usage::Counts {
                api_calls: 1,
                ..Default::default()
            },
        );
        Ok(id)
    }

    /// Writes what was collected in memory — key `last_used_at` times, API-call and
    /// rejection counts — in one transaction. Returns how many rows it touched.
    pub async fn flush_coalesced(&self) -> Result<usize, StoreError> {
        let used = self.keys().take_pending();
        let counts = self.usage().take();
        if used.is_empty() && counts.is_empty() {
            return Ok(0);
        }
        let n = used.len() + counts.len();
        let rows: Vec<(String, i64)> = used
            .iter()
            .map(|(id, at)| (id.to_string(), at.timestamp_millis()))
            .collect();
        let batch = counts.clone();
        let result = self
            .write(move |c| {
                let mut stmt = c.prepare_cached(
                    "UPDATE api_keys SET last_used_at = max(coalesce(last_used_at, 0), ?2) WHERE id = ?1",
                )?;
                for (id, at) in &rows {
                    stmt.execute(params![id, at])?;
                }
                for ((tenant, key, month), delta) in &batch {
                    // A tenant deleted since the request has no counters to keep.
                    let exists: bool = c
                        .prepare_cached("SELECT 1 FROM tenants WHERE id = ?1")?
                        .exists([tenant.to_string()])?;
                    if exists {
                        crate::usage::bump(c, *tenant, Some(*key), month, delta)?;
                    }
                }
                Ok(())
            })
            .await;
        match result {
            Ok(()) => Ok(n),
            Err(e) => {
                // Not lost: tried again at the next flush.
                self.keys().restore_pending(used);
                self.usage().restore(counts);
                Err(e)
            }
        }
    }

    /// A tenant's keys, newest first (revoked and expired ones included, for the record).
    pub async fn list_keys(&self, tenant: TenantKey) -> Result<Vec<ApiKey>, StoreError> {
        let now = self.now();
        let mut keys = self
            .read(move |c| {
                let t = tenants::get(c, &tenant)?;
                let mut stmt = c.prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM api_keys WHERE tenant_id = ?1 ORDER BY created_at DESC, id DESC"
                ))?;
                let rows = stmt
                    .query_map([t.id.to_string()], |r| from_row(r, now))?
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(rows)
            })
            .await?;
        for k in &mut keys {
            if let Some(p) = self.keys().pending_for(k.id)
                && k.last_used_at.is_none_or(|l| l < p)
            {
                k.last_used_at = Some(p);
            }
        }
        Ok(keys)
    }

    pub async fn create_key(
        &self,
        actor: String,
        tenant: TenantKey,
        label: Option<String>,
    ) -> Result<Changed<ApiKeyWithSecret>, StoreError> {
        let label = keys::validate_label(label.as_deref())?;
        let mk = self.key();
        let now = self.now();
        let (created, entry) = self
            .write(move |c| {
                let t = tenants::get(c, &tenant)?;
                crate::plans::check_limit(c, t.id, HardLimit::ApiKeys, now)?;
                let (created, entry) = insert_key(c, &mk, &t, label, None, now)?;
                audit::record(
                    c,
                    now,
                    &key_audit(
                        actor,
                        AuditAction::KeyCreated,
                        &t,
                        &created.key,
                        json!({ "prefix": created.key.prefix, "label": created.key.label }),
                    ),
                )?;
                let announced = Change::KeyCreated {
                    tenant: t.tref(),
                    prefix: created.key.prefix.clone(),
                };
                Ok((Changed::one(created, announced), entry))
            })
            .await?;
        self.keys().put(entry);
        Ok(created)
    }

    /// New key now; the old one keeps working for `grace_hours` (0 = stops at once).
    pub async fn rotate_key(
        &self,
        actor: String,
        tenant: TenantKey,
        key_id: Uuid,
        grace_hours: u32,
        label: Option<String>,
    ) -> Result<Changed<RotatedApiKey>, StoreError> {
        let label = label
            .as_deref()
            .map(|l| keys::validate_label(Some(l)))
            .transpose()?;
        let mk = self.key();
        let now = self.now();
        let (rotated, entry, old_expiry) = self
            .write(move |c| {
                let t = tenants::get(c, &tenant)?;
                let old = get_key(c, t.id, key_id, now)?;
                ensure_live(&old, "rotated")?;
                let expiry = keys::rotation_expiry(now, grace_hours, old.expires_at)?;
                c.execute(
                    "UPDATE api_keys SET expires_at = ?2 WHERE id = ?1",
                    params![key_id.to_string(), expiry.timestamp_millis()],
                )?;
                let label = label.unwrap_or_else(|| old.label.clone());
                let (new_key, entry) = insert_key(c, &mk, &t, label, Some(key_id), now)?;
                let old_key = get_key(c, t.id, key_id, now)?;
                audit::record(
                    c,
                    now,
                    &key_audit(
                        actor,
                        AuditAction::KeyRotated,
                        &t,
                        &old_key,
                        json!({ "new_key_id": new_key.key.id, "new_prefix": new_key.key.prefix, "grace_hours": grace_hours, "old_expires_at": expiry }),
                    ),
                )?;
                let announced = Change::KeyRotated {
                    tenant: t.tref(),
                    prefix: old_key.prefix.clone(),
                };
                let rotated = RotatedApiKey { new_key, old_key };
                Ok((Changed::one(rotated, announced), entry, expiry))
            })
            .await?;
        self.keys().put(entry);
        self.keys()
            .update(key_id, |e| e.expires_at = Some(old_expiry));
        Ok(rotated)
    }

    /// The full key again, for an operator who lost it. Audited.
    pub async fn reveal_key(
        &self,
        actor: String,
        tenant: TenantKey,
        key_id: Uuid,
    ) -> Result<ApiKeyWithSecret, StoreError> {
        let mk = self.key();
        let now = self.now();
        self.write(move |c| {
            let t = tenants::get(c, &tenant)?;
            let key = get_key(c, t.id, key_id, now)?;
            ensure_live(&key, "revealed")?;
            let sealed: Vec<u8> = c.query_row(
                "SELECT key_enc FROM api_keys WHERE id = ?1",
                [key_id.to_string()],
                |r| r.get(0),
            )?;
            let secret: Secret<String> = mk.open_string(&keys::aad(t.id, key_id), &sealed)?;
            // A copy that opens but is not this key's would be a silent mix-up: refuse it.
            let stored_hash: Vec<u8> = c.query_row(
                "SELECT hash FROM api_keys WHERE id = ?1",
                [key_id.to_string()],
                |r| r.get(0),
            )?;
            if !crypto::ct_eq(&stored_hash, &keys::hash(secret.expose())) {
                return Err(StoreError::Internal(format!(
                    "sealed copy of key {key_id} does not match its hash"
                )));
            }
            audit::record(
                c,
                now,
                &key_audit(
                    actor,
                    AuditAction::KeyRevealed,
                    &t,
                    &key,
                    json!({ "prefix": key.prefix }),
                ),
            )?;
            Ok(ApiKeyWithSecret {
                key,
                secret: secret.into_inner(),
            })
        })
        .await
    }

    /// Invalid at once. Revoking a revoked key changes nothing and is not an error.
    pub async fn revoke_key(
        &self,
        actor: String,
        tenant: TenantKey,
        key_id: Uuid,
    ) -> Result<Changed<ApiKey>, StoreError> {
        let now = self.now();
        let key = self
            .write(move |c| {
                let t = tenants::get(c, &tenant)?;
                // A repeated revoke is announced like the first: the answer is the same.
                let revoked = |key: ApiKey| {
                    let announced = Change::KeyRevoked {
                        tenant: t.tref(),
                        prefix: key.prefix.clone(),
                    };
                    Changed::one(key, announced)
                };
                let before = get_key(c, t.id, key_id, now)?;
                if before.revoked_at.is_some() {
                    return Ok(revoked(before));
                }
                c.execute(
                    "UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1",
                    params![key_id.to_string(), now.timestamp_millis()],
                )?;
                let after = get_key(c, t.id, key_id, now)?;
                audit::record(
                    c,
                    now,
                    &key_audit(
                        actor,
                        AuditAction::KeyRevoked,
                        &t,
                        &after,
                        json!({ "prefix": after.prefix }),
                    ),
                )?;
                Ok(revoked(after))
            })
            .await?;
        let revoked_at = key.value.revoked_at;
        self.keys().update(key_id, |e| e.revoked_at = revoked_at);
        Ok(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_older_tenant_change_never_overwrites_a_newer_one() {
        let index = KeyIndex::default();
        let t = Uuid::now_v7();
        assert!(!index.tenant_inactive(t));
        // Deactivated by change 5, then the reactivation of change 4 is published late.
        index.set_tenant_active(t, false, 5);
        index.set_tenant_active(t, true, 4);
        assert!(index.tenant_inactive(t));
        index.set_tenant_active(t, true, 6);
        assert!(!index.tenant_inactive(t));
        index.set_tenant_active(t, false, 7);
        index.forget_tenant(t);
        assert!(!index.tenant_inactive(t));
    }
}
