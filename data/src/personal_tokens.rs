//! Personal tokens as stored: by the token's hash, with the prefix lists show. A token is
//! deleted, not marked revoked: a deleted one cannot be looked up at all.

use chrono::{DateTime, Utc};
use echo5_core::DomainError;
use echo5_core::audit::AuditAction;
use echo5_core::clock::from_millis;
use echo5_core::personal_tokens::{PersonalToken, PersonalTokenFields, TokenScope};
use echo5_core::users::{User, UserId};
use rusqlite::{OptionalExtension, Row, params};
use serde_json::json;
use uuid::Uuid;

use crate::Store;
use crate::error::StoreError;
use crate::sessions::TOUCH_EVERY;
use crate::users::{self, COLUMNS};

/// A stored token and its user: what acting for the user with it needs. Whether it still
/// works is `core::personal_tokens::usable` on `token.expires_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonalTokenRecord {
    pub token: PersonalToken,
    pub user: User,
}

fn scope_str(s: TokenScope) -> &'static str {
    match s {
        TokenScope::Read => "read",
        TokenScope::Write => "write",
    }
}

const TOKEN_COLUMNS: &str =
    "p.id, p.label, p.scope, p.prefix, p.created_at, p.expires_at, p.last_used_at";

fn token_from_row(r: &Row<'_>) -> rusqlite::Result<PersonalToken> {
    let id: String = r.get(0)?;
    let scope: String = r.get(2)?;
    Ok(PersonalToken {
        id: Uuid::parse_str(&id).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.into())
        })?,
        label: r.get(1)?,
        scope: if scope == "write" {
            TokenScope::Write
        } else {
            TokenScope::Read
        },
        prefix: r.get(3)?,
        created_at: from_millis(r.get(4)?),
        expires_at: from_millis(r.get(5)?),
        last_used_at: r.get::<_, Option<i64>>(6)?.map(from_millis),
    })
}

fn not_found() -> StoreError {
    StoreError::Domain(DomainError::NotFound {
        what: "personal token",
    })
}

impl Store {
    /// Stores a new token of `user`. `token_hash` is `core::tokens::hash` of the token,
    /// `prefix` its `core::tokens::display_prefix`. An inactive user gets none.
    pub async fn create_personal_token(
        &self,
        actor: String,
        user: UserId,
        fields: PersonalTokenFields,
        token_hash: [u8; 32],
        prefix: String,
    ) -> Result<PersonalToken, StoreError> {
        let now = self.now();
        self.write(move |c| {
            let owner = users::find(c, user)?
                .filter(|r| r.user.active)
                .ok_or(StoreError::Domain(DomainError::NotFound { what: "user" }))?;
            let id = Uuid::now_v7();
            c.prepare_cached(
                "INSERT INTO personal_tokens(id, user_id, label, scope, token_hash, prefix, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                id.to_string(),
                user.to_string(),
                fields.label,
                scope_str(fields.scope),
                token_hash.to_vec(),
                prefix,
                now.timestamp_millis(),
                fields.expires_at.timestamp_millis()
            ])?;
            let token = PersonalToken {
                id,
                label: fields.label,
                scope: fields.scope,
                prefix,
                created_at: now,
                expires_at: fields.expires_at,
                last_used_at: None,
            };
            users::user_audit(
                c,
                now,
                actor,
                AuditAction::PersonalTokenCreated,
                &owner.user,
                json!({
                    "token_id": token.id,
                    "prefix": token.prefix,
                    "scope": scope_str(token.scope),
                    "expires_at": token.expires_at,
                }),
            )?;
            Ok(token)
        })
        .await
    }

    /// The tokens of `user`, oldest first.
    pub async fn list_personal_tokens(
        &self,
        user: UserId,
    ) -> Result<Vec<PersonalToken>, StoreError> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {TOKEN_COLUMNS} FROM personal_tokens p WHERE p.user_id = ?1
                 ORDER BY p.created_at, p.id"
            ))?;
            let rows = stmt
                .query_map([user.to_string()], token_from_row)?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .await
    }

    /// Deletes the token `id` of `user` (another user's token is `not_found`).
    pub async fn delete_personal_token(
        &self,
        actor: String,
        user: UserId,
        id: Uuid,
    ) -> Result<PersonalToken, StoreError> {
        let now = self.now();
        self.write(move |c| {
            let token = c
                .prepare_cached(&format!(
                    "SELECT {TOKEN_COLUMNS} FROM personal_tokens p WHERE p.id = ?1 AND p.user_id = ?2"
                ))?
                .query_row(params![id.to_string(), user.to_string()], token_from_row)
                .optional()?
                .ok_or_else(not_found)?;
            c.prepare_cached("DELETE FROM personal_tokens WHERE id = ?1")?
                .execute([id.to_string()])?;
            if let Some(owner) = users::find(c, user)? {
                users::user_audit(
                    c,
                    now,
                    actor,
                    AuditAction::PersonalTokenDeleted,
                    &owner.user,
                    json!({ "token_id": token.id, "prefix": token.prefix }),
                )?;
            }
            Ok(token)
        })
        .await
    }

    /// The token with this hash and its user, if both exist and the user is active.
    pub async fn personal_token(
        &self,
        token_hash: [u8; 32],
    ) -> Result<Option<PersonalTokenRecord>, StoreError> {
        self.read(move |c| {
            Ok(c.prepare_cached(&format!(
                "SELECT {TOKEN_COLUMNS}, {COLUMNS}
                 FROM personal_tokens p JOIN users u ON u.id = p.user_id
                 WHERE p.token_hash = ?1 AND u.active = 1"
            ))?
            .query_row([token_hash.to_vec()], |r| {
                Ok(PersonalTokenRecord {
                    token: token_from_row(r)?,
                    user: users::from_row_at(r, 7)?.user,
                })
            })
            .optional()?)
        })
        .await
    }

    /// Records that the token `id` was used now; writes at most once per
    /// [`TOUCH_EVERY`](crate::sessions::TOUCH_EVERY). Returns whether it wrote.
    pub async fn touch_personal_token(&self, id: Uuid) -> Result<bool, StoreError> {
        let now: DateTime<Utc> = self.now();
        let before = (now - TOUCH_EVERY).timestamp_millis();
        self.write(move |c| {
            Ok(c.prepare_cached(
                "UPDATE personal_tokens SET last_used_at = ?2
                 WHERE id = ?1 AND (last_used_at IS NULL OR last_used_at <= ?3)",
            )?
            .execute(params![id.to_string(), now.timestamp_millis(), before])?
                > 0)
        })
        .await
    }
}
