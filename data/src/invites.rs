//! Invitation and password-reset links as stored (table `auth_links`): the token's hash,
//! its user, purpose and expiry, and when it was used. A link is consumed in the same
//! transaction that checks it, so two requests with one link cannot both succeed.

use chrono::{DateTime, Utc};
use echo5_core::DomainError;
use echo5_core::audit::AuditAction;
use echo5_core::clock::from_millis;
use echo5_core::invites::{self, LinkPurpose, LinkState};
use echo5_core::passwords::PasswordHash;
use echo5_core::users::{User, UserId};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::json;

use crate::Store;
use crate::error::StoreError;
use crate::users::{self, COLUMNS};

fn purpose_str(p: LinkPurpose) -> &'static str {
    match p {
        LinkPurpose::Invite => "invite",
        LinkPurpose::Reset => "reset",
    }
}

/// Used, expired, unknown and another purpose's links are refused alike, so a token's
/// history is not told to whoever holds it.
fn refused() -> StoreError {
    StoreError::Domain(DomainError::invalid(
        "token",
        "invalid_link",
        "the link is invalid or has expired",
    ))
}

/// The link's user if the link is usable at `now`.
fn usable_link(
    conn: &Connection,
    purpose: LinkPurpose,
    token_hash: &[u8; 32],
    now: DateTime<Utc>,
) -> Result<Option<User>, StoreError> {
    let found = conn
        .prepare_cached(&format!(
            "SELECT l.expires_at, l.used_at, {COLUMNS}
             FROM auth_links l JOIN users u ON u.id = l.user_id
             WHERE l.token_hash = ?1 AND l.purpose = ?2 AND u.active = 1"
        ))?
        .query_row(params![token_hash.to_vec(), purpose_str(purpose)], |r| {
            Ok((
                from_millis(r.get(0)?),
                r.get::<_, Option<i64>>(1)?.map(from_millis),
                users::from_row_at(r, 2)?.user,
            ))
        })
        .optional()?;
    Ok(found.and_then(|(expires_at, used_at, user)| {
        (invites::link_state(now, expires_at, used_at) == LinkState::Usable).then_some(user)
    }))
}

impl Store {
    /// Stores a new link for `user`; the user's earlier unused links of the same purpose
    /// stop working (a resent invitation replaces the first). Returns its expiry.
    pub async fn create_link(
        &self,
        actor: String,
        user: UserId,
        purpose: LinkPurpose,
        token_hash: [u8; 32],
    ) -> Result<DateTime<Utc>, StoreError> {
        let now = self.now();
        let expires_at = purpose.expires_at(now);
        self.write(move |c| {
            let row = users::find(c, user)?
                .filter(|r| r.user.active)
                .ok_or(StoreError::Domain(DomainError::NotFound { what: "user" }))?;
            c.prepare_cached(
                "DELETE FROM auth_links WHERE user_id = ?1 AND purpose = ?2 AND used_at IS NULL",
            )?
            .execute(params![user.to_string(), purpose_str(purpose)])?;
            c.prepare_cached(
                "INSERT INTO auth_links(token_hash, user_id, purpose, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                token_hash.to_vec(),
                user.to_string(),
                purpose_str(purpose),
                now.timestamp_millis(),
                expires_at.timestamp_millis()
            ])?;
            users::user_audit(
                c,
                now,
                actor,
                AuditAction::AuthLinkCreated,
                &row.user,
                json!({ "purpose": purpose_str(purpose), "expires_at": expires_at }),
            )?;
            Ok(expires_at)
        })
        .await
    }

    /// The user a link is for, if the link is usable now (to check a new password against
    /// the user's name and address before hashing it). Consuming it is
    /// [`consume_link`](Self::consume_link).
    pub async fn link_user(
        &self,
        purpose: LinkPurpose,
        token_hash: [u8; 32],
    ) -> Result<Option<User>, StoreError> {
        let now = self.now();
        self.read(move |c| usable_link(c, purpose, &token_hash, now))
            .await
    }

    /// Uses a link: marks it used, sets the user's password to `hash` and ends the user's
    /// sessions, all in one transaction. A used, expired or unknown link is refused (422
    /// `invalid_link` on `token`) and nothing changes.
    pub async fn consume_link(
        &self,
        actor: String,
        purpose: LinkPurpose,
        token_hash: [u8; 32],
        hash: PasswordHash,
    ) -> Result<User, StoreError> {
        let now = self.now();
        self.write(move |c| {
            let user = usable_link(c, purpose, &token_hash, now)?.ok_or_else(refused)?;
            c.prepare_cached("UPDATE auth_links SET used_at = ?2 WHERE token_hash = ?1")?
                .execute(params![token_hash.to_vec(), now.timestamp_millis()])?;
            let ended = users::set_password_in(c, user.id, &hash, None)?;
            users::user_audit(
                c,
                now,
                actor,
                AuditAction::AuthLinkUsed,
                &user,
                json!({ "purpose": purpose_str(purpose), "sessions_ended": ended }),
            )?;
            Ok(user)
        })
        .await
    }
}
