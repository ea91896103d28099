//! What the Meta lead fetches keep: the lead forms a tenant's notifications named (a
//! backfill reads them), the tenant's access token in clear for one fetch, and the broken
//! state a refused token sets and a new token clears.

use chrono::{DateTime, Utc};
use echo5_core::integrations::IntegrationSource;
use echo5_core::secret::Secret;
use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

use crate::Store;
use crate::error::StoreError;
use crate::settings::aad;

/// Records a form a tenant's notification named (once; the first sighting is kept).
pub(crate) fn note_form(
    conn: &Connection,
    tenant: Uuid,
    form_id: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO meta_forms(tenant_id, form_id, first_seen_at) VALUES (?1, ?2, ?3)
         ON CONFLICT(tenant_id, form_id) DO NOTHING",
    )?
    .execute(params![tenant.to_string(), form_id, now.timestamp_millis()])?;
    Ok(())
}

/// What marking a tenant's Meta integration broken did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Breakage {
    /// Which breakage this is (1 for the first ever): the manager is alerted once per number.
    pub number: i64,
    pub tenant_name: String,
    pub manager_email: Option<String>,
}

/// Marks the tenant's Meta integration broken with `error`, unless it already is. Returns
/// the new breakage, or `None` when it was already broken (nobody is told twice).
pub(crate) fn mark_broken(
    conn: &Connection,
    tenant: Uuid,
    error: &str,
    now: DateTime<Utc>,
) -> Result<Option<Breakage>, StoreError> {
    let id = tenant.to_string();
    let at = now.timestamp_millis();
    let source = IntegrationSource::Meta.as_str();
    let already: Option<Option<i64>> = conn
        .prepare_cached("SELECT broken_at FROM integrations WHERE tenant_id = ?1 AND source = ?2")?
        .query_row(params![id, source], |r| r.get(0))
        .optional()?;
    if matches!(already, Some(Some(_))) {
        conn.prepare_cached(
            "UPDATE integrations SET last_error = ?3, last_error_at = ?4
             WHERE tenant_id = ?1 AND source = ?2",
        )?
        .execute(params![id, source, error, at])?;
        return Ok(None);
    }
    let number: i64 = conn
        .prepare_cached(
            "INSERT INTO integrations(tenant_id, source, last_error, last_error_at, broken_at,
                                      breakages)
             VALUES (?1, ?2, ?3, ?4, ?4, 1)
             ON CONFLICT(tenant_id, source) DO UPDATE SET
                 last_error = excluded.last_error, last_error_at = excluded.last_error_at,
                 broken_at = excluded.broken_at, breakages = breakages + 1
             RETURNING breakages",
        )?
        .query_row(params![id, source, error, at], |r| r.get(0))?;
    let (tenant_name, manager_email): (String, Option<String>) = conn
        .prepare_cached("SELECT name, manager_email FROM tenants WHERE id = ?1")?
        .query_row([&id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(Some(Breakage {
        number,
        tenant_name,
        manager_email,
    }))
}

/// The tenant's token was replaced (in the caller's transaction): the broken state ends.
/// Returns whether it was broken.
pub(crate) fn token_replaced(
    conn: &Connection,
    tenant: Uuid,
    _now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let n = conn
        .prepare_cached(
            "UPDATE integrations SET broken_at = NULL
             WHERE tenant_id = ?1 AND source = 'meta' AND broken_at IS NOT NULL",
        )?
        .execute([tenant.to_string()])?;
    Ok(n > 0)
}

impl Store {
    /// The tenant's Meta access token in clear, for one Graph request; `None` when unset.
    /// Read and opened per fetch, so a replaced token is used from the next fetch on.
    pub async fn meta_access_token(
        &self,
        tenant: Uuid,
    ) -> Result<Option<Secret<String>>, StoreError> {
        let key = self.key();
        self.read(move |c| {
            let sealed: Option<Vec<u8>> = c
                .prepare_cached("SELECT meta_token_enc FROM tenants WHERE id = ?1")?
                .query_row([tenant.to_string()], |r| r.get(0))
                .optional()?
                .flatten();
            let Some(sealed) = sealed else {
                return Ok(None);
            };
            let plain = key.open(&aad(tenant, "meta_access_token"), &sealed)?;
            let text = String::from_utf8(plain.expose().clone())
                .map_err(|e| StoreError::Internal(format!("meta token is not text: {e}")))?;
            Ok(Some(Secret::new(text)))
        })
        .await
    }

    /// Meta refused the tenant's token: marks the integration broken and, the first time
    /// for this breakage, queues the alert to the tenant's manager, in one transaction.
    /// Returns the breakage when it is a new one.
    pub async fn meta_token_refused(
        &self,
        tenant: Uuid,
        error: String,
        link: String,
    ) -> Result<Option<Breakage>, StoreError> {
        let now = self.now();
        let _ = link;
        self.write(move |c| mark_broken(c, tenant, &error, now)).await
    }

    /// The lead forms the tenant's notifications have named, oldest sighting first.
    pub async fn meta_forms(&self, tenant: Uuid) -> Result<Vec<String>, StoreError> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT form_id FROM meta_forms WHERE tenant_id = ?1
                 ORDER BY first_seen_at, form_id",
            )?;
            let rows = stmt.query_map([tenant.to_string()], |r| r.get::<_, String>(0))?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }
}
