//! Who a lead is assigned to, as stored: an assignee checked against the tenant's users,
//! named in a lead's detail, and the round-robin turn of `settings.auto_assign` (the
//! `assignment_turns` table, migration 0017), kept in the transaction of the lead it
//! assigns so a restart continues the rotation.

use echo5_core::assignment::{self, AutoAssign, Candidate};
use echo5_core::leads::Assignee;
use echo5_core::users::{Role, UserId};
use rusqlite::{Connection, OptionalExtension, params};
use std::cell::RefCell;
use std::collections::HashMap;
use uuid::Uuid;

use crate::error::StoreError;

/// Checks that `user` may be assigned a lead of `tenant` (see
/// [`assignment::check_assignee`]); the refusal names `field`.
pub(crate) fn check(
    conn: &Connection,
    field: &str,
    tenant: Uuid,
    user: UserId,
) -> Result<(), StoreError> {
    let found: Option<(Option<String>, String, bool)> = conn
        .prepare_cached("SELECT tenant_id, role, active FROM users WHERE id = ?1")?
        .query_row([user.to_string()], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    let candidate = found.and_then(|(t, role, active)| {
        Some(Candidate {
            tenant: t.map(|t| Uuid::parse_str(&t)).transpose().ok()?,
            role: Role::ALL.into_iter().find(|r| r.as_str() == role)?,
            active,
        })
    });
    Ok(assignment::check_assignee(field, tenant, candidate)?)
}

/// The user a lead is assigned to, named for its detail; `None` when unassigned (or the
/// user is gone, which the delete trigger of migration 0017 does not let happen).
pub(crate) fn assignee(
    conn: &Connection,
    user: Option<UserId>,
) -> Result<Option<Assignee>, StoreError> {
    let Some(id) = user else { return Ok(None) };
    Ok(conn
        .prepare_cached("SELECT name, email, active FROM users WHERE id = ?1")?
        .query_row([id.to_string()], |r| {
            Ok(Assignee {
                id,
                name: r.get(0)?,
                email: r.get(1)?,
                active: r.get(2)?,
            })
        })
        .optional()?)
}

/// What the writer thread knows of a tenant's assignment within one writer generation.
#[derive(Clone)]
struct Known {
    mode: AutoAssign,
    /// The active managers in id order, once read.
    managers: Option<Vec<UserId>>,
    /// The turn (the last manager given a lead), once read or written.
    last: Option<Option<UserId>>,
}

thread_local! {
    /// Each tenant's `auto_assign`, managers and turn, as read and written by write jobs on
    /// the writer thread, and the writer generation they belong to (as `ingest` keeps
    /// intake stages): a batch of leads reads them once per tenant. Settings and users
    /// change only in guarded jobs, which move the generation on, and the generation also
    /// moves at the end of every batch, committed or rolled back, so what is kept never
    /// outlives the transaction that wrote the turn.
    static KNOWN: RefCell<(u64, HashMap<Uuid, Known>)> = RefCell::new((u64::MAX, HashMap::new()));
}

fn known(conn: &Connection, tenant: Uuid) -> Result<Known, StoreError> {
    let generation = crate::writer::generation();
    let found = KNOWN.with_borrow_mut(|(seen, all)| {
        if *seen != generation {
            all.clear();
            *seen = generation;
        }
        all.get(&tenant).cloned()
    });
    if let Some(k) = found {
        return Ok(k);
    }
    let stored: Option<String> = conn
        .prepare_cached("SELECT auto_assign FROM tenants WHERE id = ?1")?
        .query_row([tenant.to_string()], |r| r.get(0))
        .optional()?;
    let k = Known {
        mode: stored
            .as_deref()
            .and_then(AutoAssign::parse)
            .unwrap_or_default(),
        managers: None,
        last: None,
    };
    remember(tenant, &k);
    Ok(k)
}

fn remember(tenant: Uuid, k: &Known) {
    KNOWN.with_borrow_mut(|(_, all)| all.insert(tenant, k.clone()));
}

/// The tenant's active managers, in id order (the order the turn goes round in).
fn active_managers(conn: &Connection, tenant: Uuid) -> Result<Vec<UserId>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id FROM users WHERE tenant_id = ?1 AND role = 'manager' AND active = 1 ORDER BY id",
    )?;
    let ids = stmt
        .query_map([tenant.to_string()], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    let mut out = ids
        .iter()
        .map(|s| Uuid::parse_str(s))
        .collect::<Result<Vec<_>, _>>()?;
    // Text order of hyphenated lower-case ids is their numeric order; sorted again so the
    // rule's input never depends on that.
    out.sort();
    Ok(out)
}

/// Whom a new lead of `tenant` is assigned to under the tenant's `auto_assign`: for
/// `round_robin` the next active manager after the last one ([`assignment::round_robin`]),
/// whose turn is recorded in the caller's transaction; `None` for `none` or a tenant
/// without an active manager (the turn is then left as it was).
pub(crate) fn auto_assignee(conn: &Connection, tenant: Uuid) -> Result<Option<UserId>, StoreError> {
    let mut k = known(conn, tenant)?;
    if k.mode != AutoAssign::RoundRobin {
        return Ok(None);
    }
    let managers = match k.managers.take() {
        Some(m) => m,
        None => active_managers(conn, tenant)?,
    };
    let last = match k.last {
        Some(l) => l,
        None => {
            let stored: Option<String> = conn
                .prepare_cached("SELECT last_user FROM assignment_turns WHERE tenant_id = ?1")?
                .query_row([tenant.to_string()], |r| r.get(0))
                .optional()?;
            stored.and_then(|s| Uuid::parse_str(&s).ok())
        }
    };
    let next = assignment::round_robin(&managers, last);
    if let Some(next) = next {
        conn.prepare_cached(
            "INSERT INTO assignment_turns(tenant_id, last_user) VALUES (?1, ?2)
             ON CONFLICT(tenant_id) DO UPDATE SET last_user = excluded.last_user",
        )?
        .execute(params![tenant.to_string(), next.to_string()])?;
    }
    k.managers = Some(managers);
    k.last = Some(next.or(last));
    remember(tenant, &k);
    Ok(next)
}
