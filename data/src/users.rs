//! Users as stored: platform users (no tenant, role `owner`) and tenant users, their
//! permission overrides and password hashes. A user's sessions, personal tokens and links
//! (`sessions`, `personal_tokens`, `invites`) go with the user: deleted by the foreign keys
//! when the user is, and ended here in the same transaction when the user is deactivated.

use chrono::{DateTime, Utc};
use echo5_core::DomainError;
use echo5_core::audit::{AuditAction, AuditRecord};
use echo5_core::clock::from_millis;
use echo5_core::passwords::PasswordHash;
use echo5_core::users::{
    self, PermissionOverrides, Realm, Role, User, UserFields, UserId, UserPatch,
};
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde_json::json;
use uuid::Uuid;

use crate::Store;
use crate::audit;
use crate::error::StoreError;
use crate::tenants::{self, TenantKey, TenantRow};
use echo5_core::plans::HardLimit;

/// Which users a request may reach: the platform's, one tenant's, or any (for a user's own
/// account and for credentials, which name the user by id). A user outside the scope is
/// `not_found`, as a tenant's resource asked for under another tenant is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserScope {
    Platform,
    Tenant(TenantKey),
    Any,
}

/// A user and the password hash to check a login against (`None` until the invitation is
/// accepted). `Debug` shows no hash (see [`PasswordHash`]).
#[derive(Debug, Clone)]
pub struct UserCredentials {
    pub user: User,
    pub password_hash: Option<PasswordHash>,
}

/// A user row with what the rules work on.
#[derive(Debug, Clone)]
pub(crate) struct UserRow {
    pub user: User,
    pub fields: UserFields,
    pub password_hash: Option<PasswordHash>,
}

impl UserRow {
    fn realm(&self) -> Realm {
        if self.user.tenant.is_some() {
            Realm::Tenant
        } else {
            Realm::Platform
        }
    }
}

pub(crate) const COLUMNS: &str = "u.id, u.tenant_id, u.email, u.name, u.role, u.permissions, \
                                  u.active, u.created_at, u.last_login_at, u.password_hash";

fn conversion(i: usize, e: impl std::error::Error + Send + Sync + 'static) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
}

#[derive(Debug, thiserror::Error)]
#[error("unknown role {0:?}")]
struct UnknownRole(String);

fn parse_role(s: &str) -> Option<Role> {
    Role::ALL.into_iter().find(|r| r.as_str() == s)
}

/// Reads a user from the columns [`COLUMNS`], starting at `at`.
pub(crate) fn from_row_at(r: &Row<'_>, at: usize) -> rusqlite::Result<UserRow> {
    let id: String = r.get(at)?;
    let tenant: Option<String> = r.get(at + 1)?;
    let role: String = r.get(at + 4)?;
    let role = parse_role(&role).ok_or_else(|| conversion(at + 4, UnknownRole(role)))?;
    let overrides: String = r.get(at + 5)?;
    let overrides: PermissionOverrides =
        serde_json::from_str(&overrides).map_err(|e| conversion(at + 5, e))?;
    let hash: Option<String> = r.get(at + 9)?;
    let password_hash = hash
        .map(PasswordHash::from_phc)
        .transpose()
        .map_err(|e| conversion(at + 9, e))?;
    let fields = UserFields {
        email: r.get(at + 2)?,
        name: r.get(at + 3)?,
        role,
        overrides,
        active: r.get(at + 6)?,
    };
    let user = User {
        id: Uuid::parse_str(&id).map_err(|e| conversion(at, e))?,
        tenant: tenant
            .map(|t| Uuid::parse_str(&t))
            .transpose()
            .map_err(|e| conversion(at + 1, e))?,
        email: fields.email.clone(),
        name: fields.name.clone(),
        role,
        permissions: users::effective_permissions(role, &fields.overrides),
        active: fields.active,
        created_at: from_millis(r.get(at + 7)?),
        last_login_at: r.get::<_, Option<i64>>(at + 8)?.map(from_millis),
    };
    Ok(UserRow {
        user,
        fields,
        password_hash,
    })
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<UserRow> {
    from_row_at(r, 0)
}

fn not_found() -> StoreError {
    StoreError::Domain(DomainError::NotFound { what: "user" })
}

pub(crate) fn find(conn: &Connection, id: UserId) -> Result<Option<UserRow>, StoreError> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM users u WHERE u.id = ?1"))?
        .query_row([id.to_string()], from_row)
        .optional()?)
}

fn find_by_email(conn: &Connection, email: &str) -> Result<Option<UserRow>, StoreError> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM users u WHERE u.email = ?1 COLLATE NOCASE"
        ))?
        .query_row([email.trim()], from_row)
        .optional()?)
}

/// The tenant a scope names, if it names one (404 when it does not exist).
fn scope_tenant(conn: &Connection, scope: &UserScope) -> Result<Option<TenantRow>, StoreError> {
    match scope {
        UserScope::Tenant(k) => Ok(Some(tenants::get(conn, k)?)),
        UserScope::Platform | UserScope::Any => Ok(None),
    }
}

/// The user `id` if it is inside `scope`, else `not_found`.
pub(crate) fn get_in(
    conn: &Connection,
    scope: &UserScope,
    id: UserId,
) -> Result<UserRow, StoreError> {
    let tenant = scope_tenant(conn, scope)?;
    let row = find(conn, id)?.ok_or_else(not_found)?;
    let inside = match scope {
        UserScope::Any => true,
        UserScope::Platform => row.user.tenant.is_none(),
        UserScope::Tenant(_) => row.user.tenant == tenant.map(|t| t.id),
    };
    if inside { Ok(row) } else { Err(not_found()) }
}

/// The audit row's tenant: the user's, when it has one.
fn tenant_of(conn: &Connection, user: &User) -> Result<Option<TenantRow>, StoreError> {
    user.tenant
        .map(|t| tenants::get(conn, &TenantKey::Id(t)))
        .transpose()
}

pub(crate) fn user_audit(
    conn: &Connection,
    at: DateTime<Utc>,
    actor: String,
    action: AuditAction,
    user: &User,
    details: serde_json::Value,
) -> Result<(), StoreError> {
    let tenant = tenant_of(conn, user)?;
    audit::record(
        conn,
        at,
        &AuditRecord {
            actor,
            action,
            tenant: tenant.map(|t| t.tref()),
            target: Some(user.id.to_string()),
            details,
        },
    )
}

/// Names of the fields that differ, for the audit row (values stay out: names are personal
/// data, and the current values are one GET away).
fn changed_fields(old: &UserFields, new: &UserFields) -> Vec<&'static str> {
    let mut out = Vec::new();
    if old.name != new.name {
        out.push("name");
    }
    if old.role != new.role {
        out.push("role");
    }
    if old.overrides != new.overrides {
        out.push("permissions");
    }
    if old.active != new.active {
        out.push("active");
    }
    out
}

fn email_taken() -> StoreError {
    StoreError::Domain(DomainError::conflict_on(
        "email",
        "email_taken",
        "another user already has this e-mail address",
    ))
}

/// Ends every session and personal token of `user` (a deactivated user loses access at
/// once). Returns how many credentials ended.
pub(crate) fn end_credentials(conn: &Connection, user: UserId) -> Result<usize, StoreError> {
    let id = user.to_string();
    let sessions = conn
        .prepare_cached("DELETE FROM sessions WHERE user_id = ?1")?
        .execute([&id])?;
    let tokens = conn
        .prepare_cached("DELETE FROM personal_tokens WHERE user_id = ?1")?
        .execute([&id])?;
    Ok(sessions + tokens)
}

impl Store {
    /// A new user in `scope` (`Platform` or `Tenant`), with no password until the
    /// invitation is accepted. The e-mail address must be free across the platform,
    /// whatever its case (409 `email_taken`).
    pub async fn create_user(
        &self,
        actor: String,
        scope: UserScope,
        fields: UserFields,
    ) -> Result<User, StoreError> {
        let now = self.now();
        self.write(move |c| {
            let realm = match scope {
                UserScope::Platform => Realm::Platform,
                UserScope::Tenant(_) => Realm::Tenant,
                UserScope::Any => {
                    return Err(StoreError::Domain(DomainError::invalid(
                        "tenant",
                        "invalid_scope",
                        "a user is created on the platform or in a tenant",
                    )));
                }
            };
            if fields.role.is_platform() != (realm == Realm::Platform) {
                return Err(StoreError::Domain(DomainError::invalid(
                    "role",
                    "invalid_role",
                    format!("role \"{}\" does not belong here", fields.role.as_str()),
                )));
            }
            let tenant = scope_tenant(c, &scope)?;
            if let Some(t) = &tenant {
                crate::plans::check_limit(c, t.id, HardLimit::Users, now)?;
            }
            if find_by_email(c, &fields.email)?.is_some() {
                return Err(email_taken());
            }
            let id = Uuid::now_v7();
            c.prepare_cached(
                "INSERT INTO users(id, tenant_id, email, name, role, permissions, active, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                id.to_string(),
                tenant.as_ref().map(|t| t.id.to_string()),
                fields.email.to_lowercase(),
                fields.name,
                fields.role.as_str(),
                serde_json::to_string(&fields.overrides)?,
                fields.active,
                now.timestamp_millis()
            ])?;
            let row = find(c, id)?.ok_or_else(not_found)?;
            user_audit(
                c,
                now,
                actor,
                AuditAction::UserCreated,
                &row.user,
                json!({ "role": row.user.role.as_str() }),
            )?;
            Ok(row.user)
        })
        .await
    }

    /// The user `id`, if it is inside `scope`.
    pub async fn get_user(&self, scope: UserScope, id: UserId) -> Result<User, StoreError> {
        self.read(move |c| Ok(get_in(c, &scope, id)?.user)).await
    }

    /// The users of a scope, oldest first (`Any`: every user).
    pub async fn list_users(&self, scope: UserScope) -> Result<Vec<User>, StoreError> {
        self.read(move |c| {
            let tenant = scope_tenant(c, &scope)?;
            let (filter, arg) = match (&scope, tenant) {
                (UserScope::Platform, _) => ("u.tenant_id IS NULL AND ?1 IS NULL", None),
                (UserScope::Tenant(_), Some(t)) => ("u.tenant_id = ?1", Some(t.id.to_string())),
                _ => ("?1 IS NULL", None),
            };
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM users u WHERE {filter} ORDER BY u.created_at, u.id"
            ))?;
            let rows = stmt
                .query_map(params![arg], from_row)?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows.into_iter().map(|r| r.user).collect())
        })
        .await
    }

    /// The user with this e-mail address, whatever its case, with the hash to check a
    /// login against.
    pub async fn find_user_by_email(
        &self,
        email: String,
    ) -> Result<Option<UserCredentials>, StoreError> {
        self.read(move |c| {
            Ok(find_by_email(c, &email)?.map(|r| UserCredentials {
                user: r.user,
                password_hash: r.password_hash,
            }))
        })
        .await
    }

    /// The user `id` with its password hash (to check the current password on a change).
    pub async fn user_credentials(&self, id: UserId) -> Result<UserCredentials, StoreError> {
        self.read(move |c| {
            let r = find(c, id)?.ok_or_else(not_found)?;
            Ok(UserCredentials {
                user: r.user,
                password_hash: r.password_hash,
            })
        })
        .await
    }

    /// Applies `patch` to the user `id` inside `scope`. `acting` is the user making the
    /// change, if a user is: nobody deactivates, demotes or restricts themselves.
    /// Deactivating ends the user's sessions and personal tokens in the same transaction.
    pub async fn patch_user(
        &self,
        actor: String,
        scope: UserScope,
        id: UserId,
        patch: UserPatch,
        acting: Option<UserId>,
    ) -> Result<User, StoreError> {
        let now = self.now();
        self.write(move |c| {
            let row = get_in(c, &scope, id)?;
            let next = users::apply_patch(&row.fields, &patch, row.realm())?;
            users::check_not_self(acting, id, &row.fields, Some(&next))?;
            let changed = changed_fields(&row.fields, &next);
            if changed.is_empty() {
                return Ok(row.user);
            }
            c.prepare_cached(
                "UPDATE users SET name = ?2, role = ?3, permissions = ?4, active = ?5 WHERE id = ?1",
            )?
            .execute(params![
                id.to_string(),
                next.name,
                next.role.as_str(),
                serde_json::to_string(&next.overrides)?,
                next.active
            ])?;
            let ended = if row.fields.active && !next.active {
                end_credentials(c, id)?
            } else {
                0
            };
            let user = find(c, id)?.ok_or_else(not_found)?.user;
            user_audit(
                c,
                now,
                actor,
                AuditAction::UserUpdated,
                &user,
                json!({ "changed": changed, "credentials_ended": ended }),
            )?;
            Ok(user)
        })
        .await
    }

    /// Deletes the user `id` inside `scope`; its sessions, tokens and links go with it.
    /// Returns the user as it was.
    pub async fn delete_user(
        &self,
        actor: String,
        scope: UserScope,
        id: UserId,
        acting: Option<UserId>,
    ) -> Result<User, StoreError> {
        let now = self.now();
        self.write(move |c| {
            let row = get_in(c, &scope, id)?;
            users::check_not_self(acting, id, &row.fields, None)?;
            // The audit row first: it names the user's tenant, read from the user.
            user_audit(
                c,
                now,
                actor,
                AuditAction::UserDeleted,
                &row.user,
                json!({ "role": row.user.role.as_str() }),
            )?;
            c.prepare_cached("DELETE FROM users WHERE id = ?1")?
                .execute([id.to_string()])?;
            Ok(row.user)
        })
        .await
    }

    /// Replaces `id`'s hash with `fresh` (the same password, today's parameters) if it is
    /// still `stale`, so a password changed meanwhile is never overwritten. Sessions stay;
    /// no audit row, since nothing a user or an auditor cares about changed. Returns
    /// whether it was replaced.
    pub async fn rehash_password(
        &self,
        id: UserId,
        stale: PasswordHash,
        fresh: PasswordHash,
    ) -> Result<bool, StoreError> {
        self.write(move |c| {
            Ok(c.prepare_cached(
                "UPDATE users SET password_hash = ?3 WHERE id = ?1 AND password_hash = ?2",
            )?
            .execute(params![id.to_string(), stale.as_phc(), fresh.as_phc()])?
                == 1)
        })
        .await
    }

    /// Stores a new password hash for `id` and ends the user's sessions, all but `keep`
    /// (the session that changed the password, if one did). Returns how many ended.
    pub async fn set_password(
        &self,
        actor: String,
        id: UserId,
        hash: PasswordHash,
        keep: Option<[u8; 32]>,
    ) -> Result<usize, StoreError> {
        let now = self.now();
        self.write(move |c| {
            let row = find(c, id)?.ok_or_else(not_found)?;
            let ended = set_password_in(c, id, &hash, keep)?;
            user_audit(
                c,
                now,
                actor,
                AuditAction::UserPasswordSet,
                &row.user,
                json!({ "sessions_ended": ended }),
            )?;
            Ok(ended)
        })
        .await
    }
}

/// The password change itself: the new hash, and the user's other sessions ended.
pub(crate) fn set_password_in(
    conn: &Connection,
    id: UserId,
    hash: &PasswordHash,
    keep: Option<[u8; 32]>,
) -> Result<usize, StoreError> {
    conn.prepare_cached("UPDATE users SET password_hash = ?2 WHERE id = ?1")?
        .execute(params![id.to_string(), hash.as_phc()])?;
    Ok(conn
        .prepare_cached(
            "DELETE FROM sessions WHERE user_id = ?1 AND (?2 IS NULL OR token_hash <> ?2)",
        )?
        .execute(params![id.to_string(), keep.map(|k| k.to_vec())])?)
}
