//! Sessions and personal tokens recently seen, so a user's request does not pay a database
//! read to learn who it is (the admin token and API keys are already checked in memory).
//!
//! An entry is good only while nothing has changed users or credentials since it was read:
//! every such change bumps the revocation counter (`AppState::credentials_ended`), and an
//! entry read under an older count is read again. The count is taken *before* the database
//! read, so a change that commits while the read is under way leaves an entry that is
//! already stale. Deadlines (idle, absolute, a token's expiry) are checked on every request
//! against the cached times, which this cache updates when it writes a touch.

use chrono::{DateTime, Utc};
use echo5_core::authorization::Principal;
use std::collections::HashMap;
use std::sync::Mutex;
use uuid::Uuid;

/// Entries kept at most; past it the map starts afresh (a burst of one-off tokens must not
/// grow memory without bound; the next request of each live one reads it again).
const MAX_ENTRIES: usize = 50_000;

#[derive(Debug, Clone)]
pub struct Cached {
    /// The revocation count the entry was read under.
    pub epoch: u64,
    pub principal: Principal,
    /// A session's start (`None` for a personal token).
    pub created_at: Option<DateTime<Utc>>,
    /// A session's last use, or a token's last use (`None`: never used).
    pub last_used_at: Option<DateTime<Utc>>,
    /// A personal token's expiry.
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Default)]
pub struct CredentialCache {
    entries: Mutex<HashMap<[u8; 32], Cached>>,
    /// A path's `{tenant}` (id or slug) → the tenant's id, with the count it was read under
    /// (tenant renames and deletions bump it too).
    tenants: Mutex<HashMap<String, (u64, Uuid)>>,
}

impl CredentialCache {
    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Cached>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The entry for a token hash, if it was read under the current revocation count.
    pub fn get(&self, hash: &[u8; 32], epoch: u64) -> Option<Cached> {
        let mut entries = self.entries();
        match entries.get(hash) {
            Some(c) if c.epoch == epoch => Some(c.clone()),
            Some(_) => {
                entries.remove(hash);
                None
            }
            None => None,
        }
    }

    pub fn put(&self, hash: [u8; 32], entry: Cached) {
        let mut entries = self.entries();
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(&hash) {
            entries.clear();
        }
        entries.insert(hash, entry);
    }

    /// Records a touch written for the credential.
    pub fn touched(&self, hash: &[u8; 32], at: DateTime<Utc>) {
        if let Some(c) = self.entries().get_mut(hash) {
            c.last_used_at = Some(at);
        }
    }

    /// The tenant a path's `{tenant}` named when last looked up under this count.
    pub fn tenant(&self, key: &str, epoch: u64) -> Option<Uuid> {
        let tenants = self.tenants.lock().unwrap_or_else(|e| e.into_inner());
        tenants
            .get(key)
            .filter(|(e, _)| *e == epoch)
            .map(|(_, id)| *id)
    }

    pub fn put_tenant(&self, key: &str, id: Uuid, epoch: u64) {
        let mut tenants = self.tenants.lock().unwrap_or_else(|e| e.into_inner());
        if tenants.len() >= MAX_ENTRIES && !tenants.contains_key(key) {
            tenants.clear();
        }
        tenants.insert(key.to_string(), (epoch, id));
    }

    pub fn forget(&self, hash: &[u8; 32]) {
        self.entries().remove(hash);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(epoch: u64) -> Cached {
        Cached {
            epoch,
            principal: Principal::AdminToken {
                token_id: uuid::Uuid::nil(),
            },
            created_at: None,
            last_used_at: None,
            expires_at: None,
        }
    }

    #[test]
    fn an_entry_read_before_a_revocation_is_not_used() {
        let c = CredentialCache::default();
        c.put([1; 32], entry(4));
        assert!(c.get(&[1; 32], 4).is_some());
        assert!(c.get(&[1; 32], 5).is_none(), "stale after a revocation");
        assert!(c.get(&[1; 32], 4).is_none(), "and dropped");
        assert!(c.get(&[2; 32], 4).is_none());
    }

    #[test]
    fn touches_update_the_entry_and_the_map_stays_bounded() {
        let c = CredentialCache::default();
        c.put([1; 32], entry(0));
        let at = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        c.touched(&[1; 32], at);
        assert_eq!(c.get(&[1; 32], 0).unwrap().last_used_at, Some(at));
        for i in 0..MAX_ENTRIES + 10 {
            let mut h = [0u8; 32];
            h[..8].copy_from_slice(&(i as u64).to_le_bytes());
            h[31] = 9;
            c.put(h, entry(0));
        }
        assert!(c.len() <= MAX_ENTRIES);
    }

    #[test]
    fn a_tenant_lookup_is_good_until_the_count_moves() {
        let c = CredentialCache::default();
        let id = Uuid::from_u128(7);
        c.put_tenant("open-arms", id, 3);
        assert_eq!(c.tenant("open-arms", 3), Some(id));
        assert_eq!(c.tenant("open-arms", 4), None);
        assert_eq!(c.tenant("other", 3), None);
    }
}
