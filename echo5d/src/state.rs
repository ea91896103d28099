//! What every handler can reach.

use echo5_core::crypto;
use echo5_data::Store;
use echo5_data::admin_tokens::AdminTokenHash;
use std::sync::{Arc, RwLock};
use uuid::Uuid;

use crate::ratelimit::KeyRateLimit;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    /// Per-key ingest limit; `None` when disabled.
    pub rate_limit: Option<Arc<KeyRateLimit>>,
    /// Hashes of the active admin tokens, checked without a database read per request.
    admin_tokens: Arc<RwLock<Vec<AdminTokenHash>>>,
}

impl AppState {
    pub fn new(store: Store, admin_tokens: Vec<AdminTokenHash>, key_rate_limit: u32) -> Self {
        AppState {
            store,
            rate_limit: KeyRateLimit::new(key_rate_limit).map(Arc::new),
            admin_tokens: Arc::new(RwLock::new(admin_tokens)),
        }
    }

    /// The id of the admin token whose hash is `presented`. Compares every stored hash in
    /// constant time, so timing says nothing about how close a guess was.
    pub fn admin_token(&self, presented: &[u8; 32]) -> Option<Uuid> {
        let tokens = self.admin_tokens.read().unwrap_or_else(|e| e.into_inner());
        let mut found = None;
        for t in tokens.iter() {
            if crypto::ct_eq(&t.hash, presented) {
                found = Some(t.id);
            }
        }
        found
    }
}
