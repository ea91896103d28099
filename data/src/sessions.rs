//! Login sessions as stored (by the token's hash only) and the recent login failures that
//! throttle logins. Whether a session is still live is `core::sessions`' rule: the store
//! gives it the session's `created_at` and `last_seen_at`.

use chrono::{DateTime, TimeDelta, Utc};
use echo5_core::audit::AuditAction;
use echo5_core::clock::from_millis;
use echo5_core::sessions::ThrottlePolicy;
use echo5_core::users::{User, UserId};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::json;
use std::fmt;

use crate::Store;
use crate::error::StoreError;
use crate::users::{self, COLUMNS};

/// A session's `last_seen_at` moves at most this often: a busy console would otherwise
/// write on every request. The idle timeout is 30 minutes, so a session may end up to this
/// much earlier than 30 minutes after its last use.
pub const TOUCH_EVERY: TimeDelta = TimeDelta::seconds(60);

/// A session to store at login. `Debug` shows no hash.
#[derive(Clone)]
pub struct NewSession {
    pub user_id: UserId,
    /// `core::tokens::hash` of the `e5s_` token.
    pub token_hash: [u8; 32],
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl fmt::Debug for NewSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewSession")
            .field("user_id", &self.user_id)
            .field("token_hash", &"[redacted]")
            .field("ip", &self.ip)
            .field("user_agent", &self.user_agent)
            .finish()
    }
}

/// A stored session and its user: what deciding its state (`SessionTimeouts::state`) and
/// acting for the user need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub user: User,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}

/// What login failures are counted by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ThrottleKey {
    /// The address as typed, compared without case.
    Email(String),
    Ip(std::net::IpAddr),
    /// Password-reset requests for an address (the same table and window as logins).
    ResetEmail(String),
    /// Password-reset requests from a client address.
    ResetIp(std::net::IpAddr),
}

impl ThrottleKey {
    fn as_key(&self) -> String {
        match self {
            ThrottleKey::Email(e) => format!("email:{}", e.trim().to_lowercase()),
            ThrottleKey::Ip(ip) => format!("ip:{ip}"),
            ThrottleKey::ResetEmail(e) => format!("reset-email:{}", e.trim().to_lowercase()),
            ThrottleKey::ResetIp(ip) => format!("reset-ip:{ip}"),
        }
    }
}

fn failures_since(
    conn: &Connection,
    key: &str,
    since: DateTime<Utc>,
) -> Result<Vec<DateTime<Utc>>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT at FROM login_failures WHERE key = ?1 AND at > ?2 ORDER BY at, id",
    )?;
    let rows = stmt
        .query_map(params![key, since.timestamp_millis()], |r| {
            r.get::<_, i64>(0)
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows.into_iter().map(from_millis).collect())
}

impl Store {
    /// Stores a session for a user who just logged in: records the login time and clears the
    /// user's e-mail failure count, in one transaction. An inactive or missing user is
    /// `not_found` (nothing is stored). Returns the user as it is now.
    pub async fn create_session(&self, actor: String, s: NewSession) -> Result<User, StoreError> {
        let now = self.now();
        self.write(move |c| {
            let row =
                users::find(c, s.user_id)?
                    .filter(|r| r.user.active)
                    .ok_or(StoreError::Domain(echo5_core::DomainError::NotFound {
                        what: "user",
                    }))?;
            let id = s.user_id.to_string();
            c.prepare_cached(
                "INSERT INTO sessions(token_hash, user_id, created_at, last_seen_at, ip, user_agent)
                 VALUES (?1, ?2, ?3, ?3, ?4, ?5)",
            )?
            .execute(params![
                s.token_hash.to_vec(),
                id,
                now.timestamp_millis(),
                s.ip,
                s.user_agent
            ])?;
            c.prepare_cached("UPDATE users SET last_login_at = ?2 WHERE id = ?1")?
                .execute(params![id, now.timestamp_millis()])?;
            c.prepare_cached("DELETE FROM login_failures WHERE key = ?1")?
                .execute([ThrottleKey::Email(row.user.email.clone()).as_key()])?;
            let user = users::find(c, s.user_id)?
                .map(|r| r.user)
                .unwrap_or(row.user);
            users::user_audit(
                c,
                now,
                actor,
                AuditAction::SessionStarted,
                &user,
                json!({ "ip": s.ip }),
            )?;
            Ok(user)
        })
        .await
    }

    /// The session with this token hash and its user, if both exist and the user is active.
    pub async fn session(&self, token_hash: [u8; 32]) -> Result<Option<SessionRecord>, StoreError> {
        self.read(move |c| {
            let found = c
                .prepare_cached(&format!(
                    "SELECT s.created_at, s.last_seen_at, {COLUMNS}
                     FROM sessions s JOIN users u ON u.id = s.user_id
                     WHERE s.token_hash = ?1 AND u.active = 1"
                ))?
                .query_row([token_hash.to_vec()], |r| {
                    Ok(SessionRecord {
                        created_at: from_millis(r.get(0)?),
                        last_seen_at: from_millis(r.get(1)?),
                        user: users::from_row_at(r, 2)?.user,
                    })
                })
                .optional()?;
            Ok(found)
        })
        .await
    }

    /// Marks the session used now. Cheap to call per request: it writes only when the
    /// stored `last_seen_at` is [`TOUCH_EVERY`] old, and a caller that has the session's
    /// record can skip the call with [`needs_touch`]. Returns whether it wrote.
    pub async fn touch_session(&self, token_hash: [u8; 32]) -> Result<bool, StoreError> {
        let now = self.now().timestamp_millis();
        let before = now - TOUCH_EVERY.num_milliseconds();
        self.write(move |c| {
            Ok(c.prepare_cached(
                "UPDATE sessions SET last_seen_at = ?2 WHERE token_hash = ?1 AND last_seen_at <= ?3",
            )?
            .execute(params![token_hash.to_vec(), now, before])?
                > 0)
        })
        .await
    }

    /// Ends one session (logout). Returns whether there was one.
    pub async fn end_session(
        &self,
        actor: String,
        token_hash: [u8; 32],
    ) -> Result<bool, StoreError> {
        let now = self.now();
        self.write(move |c| {
            let user: Option<String> = c
                .prepare_cached("SELECT user_id FROM sessions WHERE token_hash = ?1")?
                .query_row([token_hash.to_vec()], |r| r.get(0))
                .optional()?;
            let Some(user) = user else {
                return Ok(false);
            };
            c.prepare_cached("DELETE FROM sessions WHERE token_hash = ?1")?
                .execute([token_hash.to_vec()])?;
            if let Some(row) = users::find(c, uuid::Uuid::parse_str(&user)?)? {
                users::user_audit(
                    c,
                    now,
                    actor,
                    AuditAction::SessionEnded,
                    &row.user,
                    json!({ "sessions_ended": 1 }),
                )?;
            }
            Ok(true)
        })
        .await
    }

    /// Ends every session of `user` but `keep`. Returns how many ended.
    pub async fn end_sessions(
        &self,
        actor: String,
        user: UserId,
        keep: Option<[u8; 32]>,
    ) -> Result<usize, StoreError> {
        let now = self.now();
        self.write(move |c| {
            let n = c
                .prepare_cached(
                    "DELETE FROM sessions WHERE user_id = ?1 AND (?2 IS NULL OR token_hash <> ?2)",
                )?
                .execute(params![user.to_string(), keep.map(|k| k.to_vec())])?;
            if n > 0
                && let Some(row) = users::find(c, user)?
            {
                users::user_audit(
                    c,
                    now,
                    actor,
                    AuditAction::SessionEnded,
                    &row.user,
                    json!({ "sessions_ended": n }),
                )?;
            }
            Ok(n)
        })
        .await
    }

    /// Records a failed login (or, for the reset keys, a reset request) for `key` and
    /// returns its entries within the policy's window, oldest first (what `ThrottlePolicy::gate` decides on). Keeps only the last
    /// `failures_kept` of them, and drops every key's failures older than the window.
    pub async fn record_login_failure(
        &self,
        key: ThrottleKey,
        policy: ThrottlePolicy,
    ) -> Result<Vec<DateTime<Utc>>, StoreError> {
        let now = self.now();
        let since = now - policy.window;
        let keep = policy.failures_kept() as i64;
        let key = key.as_key();
        self.write(move |c| {
            c.prepare_cached("INSERT INTO login_failures(key, at) VALUES (?1, ?2)")?
                .execute(params![key, now.timestamp_millis()])?;
            c.prepare_cached("DELETE FROM login_failures WHERE at <= ?1")?
                .execute([since.timestamp_millis()])?;
            c.prepare_cached(
                "DELETE FROM login_failures WHERE key = ?1 AND id NOT IN
                   (SELECT id FROM login_failures WHERE key = ?1 ORDER BY at DESC, id DESC LIMIT ?2)",
            )?
            .execute(params![key, keep])?;
            failures_since(c, &key, since)
        })
        .await
    }

    /// The failures of `key` after `since`, oldest first.
    pub async fn login_failures(
        &self,
        key: ThrottleKey,
        since: DateTime<Utc>,
    ) -> Result<Vec<DateTime<Utc>>, StoreError> {
        let key = key.as_key();
        self.read(move |c| failures_since(c, &key, since)).await
    }

    /// Forgets the failures of `key` (after a successful login).
    pub async fn clear_login_failures(&self, key: ThrottleKey) -> Result<(), StoreError> {
        let key = key.as_key();
        self.write(move |c| {
            c.prepare_cached("DELETE FROM login_failures WHERE key = ?1")?
                .execute([key])?;
            Ok(())
        })
        .await
    }
}

/// Whether a session last seen at `last_seen_at` is due a [`Store::touch_session`] at `now`.
pub fn needs_touch(last_seen_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now - last_seen_at >= TOUCH_EVERY
}
