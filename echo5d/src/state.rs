//! What every handler can reach.

use echo5_core::crypto;
use echo5_core::sessions::{SessionTimeouts, ThrottlePolicy};
use echo5_data::Store;
use echo5_data::admin_tokens::AdminTokenHash;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::sync::{Semaphore, watch};
use uuid::Uuid;

use crate::events::EventBus;
use crate::logs::LogRing;
use crate::mailer::Mailer;
use crate::ratelimit::KeyRateLimit;

/// How often a serving daemon re-reads the active admin tokens from the database, so a
/// token revoked by `echo5d new-admin-token` (another process) stops working within this
/// time. One read of a table of a few rows, off the request path: requests still check
/// the copy in memory and ingest never looks at it.
pub const ADMIN_TOKEN_RELOAD: Duration = Duration::from_millis(250);

/// The daemon settings the handlers and background jobs need.
pub struct StateOptions {
    pub key_rate_limit: u32,
    pub public_url: String,
    pub mailer: Mailer,
    pub sla_interval: std::time::Duration,
    /// Where this daemon's recent log lines go (fed by `logs::RingLayer` in `main`).
    pub logs: Arc<LogRing>,
    /// How long users' sessions last (`--session-idle`, `--session-max`).
    pub sessions: SessionTimeouts,
    /// The client and rules for tenant URLs (`--outbound-*`, `--webhook-timeout`).
    pub outbound: crate::outbound::Outbound,
}

/// Cloned for every request (axum's `State`), so it is one `Arc`: one reference count to
/// touch instead of one per field, shared by both request threads.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

pub struct Shared {
    pub store: Store,
    /// Per-key ingest limit; `None` when disabled.
    pub rate_limit: Option<Arc<KeyRateLimit>>,
    pub events: Arc<EventBus>,
    /// Base URL for links in e-mails (`--public-url`).
    pub public_url: Arc<str>,
    pub mailer: Arc<Mailer>,
    /// Time between SLA monitor passes.
    pub sla_interval: std::time::Duration,
    /// SLA monitor passes completed (breaches recorded, then due alerts delivered), shown
    /// by `/readyz`: a monitor that stopped shows a number that stopped.
    pub sla_passes: AtomicU64,
    /// Recent log lines, for `GET /api/v1/system/logs`.
    pub logs: Arc<LogRing>,
    /// The client and rules for tenant URLs.
    pub outbound: Arc<crate::outbound::Outbound>,
    /// Hashes of the active admin tokens, checked without a database read per request.
    admin_tokens: Arc<RwLock<Vec<AdminTokenHash>>>,
    /// How long users' sessions last.
    pub sessions: SessionTimeouts,
    /// When logins slow down and stop after failures.
    pub login_throttle: ThrottlePolicy,
    /// Permits for password work (argon2id, zxcvbn) on the blocking pool: one per core, so
    /// a login burst waits its turn instead of taking every blocking thread (which the
    /// database reads and file I/O share).
    pub password_work: Arc<Semaphore>,
    /// Sessions, personal tokens and tenant keys recently looked up (see the module).
    pub credential_cache: crate::credential_cache::CredentialCache,
    /// Bumped whenever credentials end (logout, deactivation, deletion, a password
    /// change, a deleted token): every open event stream of a user checks its credential
    /// again and ends if it no longer works.
    revocations: watch::Sender<u64>,
}

impl AppState {
    pub fn new(store: Store, admin_tokens: Vec<AdminTokenHash>, opts: StateOptions) -> Self {
        AppState(Arc::new(Shared {
            events: Arc::new(EventBus::new(store.clock())),
            public_url: Arc::from(opts.public_url.trim_end_matches('/')),
            mailer: Arc::new(opts.mailer),
            sla_interval: opts.sla_interval,
            sla_passes: AtomicU64::new(0),
            logs: opts.logs,
            outbound: Arc::new(opts.outbound),
            store,
            rate_limit: KeyRateLimit::new(opts.key_rate_limit).map(Arc::new),
            admin_tokens: Arc::new(RwLock::new(admin_tokens)),
            sessions: opts.sessions,
            login_throttle: ThrottlePolicy::default(),
            // One core fewer than the machine has (at least one): a login burst keeps a core
            // for every other request. With every core hashing, /healthz p99 went from 7 ms
            // to 100 ms on the 2-core VM (bench/auth.sh).
            password_work: Arc::new(Semaphore::new(
                std::thread::available_parallelism()
                    .map_or(1, |n| n.get().saturating_sub(1).max(1)),
            )),
            revocations: watch::channel(0).0,
            credential_cache: Default::default(),
        }))
    }
}

impl AppState {
    /// Keeps the admin tokens in memory in step with the database (every
    /// [`ADMIN_TOKEN_RELOAD`]) for as long as this state lives.
    pub fn watch_admin_tokens(&self) {
        let state = Arc::downgrade(&self.0);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(ADMIN_TOKEN_RELOAD);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut failing = false;
            loop {
                tick.tick().await;
                let Some(shared) = state.upgrade() else {
                    return;
                };
                match shared.store.active_admin_tokens().await {
                    Ok(tokens) => {
                        failing = false;
                        shared.set_admin_tokens(tokens);
                    }
                    // Tokens known to be valid stay valid; revocations wait for the database.
                    Err(e) if !failing => {
                        failing = true;
                        tracing::warn!(error = %e, "cannot re-read the admin tokens; keeping the current ones");
                    }
                    Err(_) => {}
                }
            }
        });
    }
}

impl Shared {
    /// Replaces the admin tokens in memory, taking the write lock only when they changed.
    fn set_admin_tokens(&self, fresh: Vec<AdminTokenHash>) {
        let same = |held: &[AdminTokenHash]| {
            held.len() == fresh.len()
                && held
                    .iter()
                    .zip(&fresh)
                    .all(|(a, b)| a.id == b.id && a.hash == b.hash)
        };
        if same(&self.admin_tokens.read().unwrap_or_else(|e| e.into_inner())) {
            return;
        }
        tracing::info!(active = fresh.len(), "admin tokens changed in the database");
        *self.admin_tokens.write().unwrap_or_else(|e| e.into_inner()) = fresh;
    }

    /// Tells open event streams that some credentials ended (see `revocations`).
    pub fn credentials_ended(&self) {
        self.revocations.send_modify(|g| *g = g.wrapping_add(1));
    }

    /// How many times credentials (or tenants) changed: what the credential cache's
    /// entries are good for.
    pub fn revocation_count(&self) -> u64 {
        *self.revocations.borrow()
    }

    /// A tenant was renamed, deactivated or deleted: what paths name it by changed.
    pub fn tenants_changed(&self) {
        self.credentials_ended();
    }

    /// Changes whenever [`credentials_ended`](Self::credentials_ended) is called.
    pub fn revocations(&self) -> watch::Receiver<u64> {
        self.revocations.subscribe()
    }

    /// Where an operator opens a lead (used in alert e-mails).
    pub fn lead_link(&self, lead: Uuid) -> String {
        format!("{}/api/v1/leads/{lead}", self.public_url)
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
