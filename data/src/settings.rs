//! A tenant's secret settings as stored (the plain ones are columns of the tenants table):
//! sealed under the master key inside the writer transaction, so a secret in clear never
//! leaves the request that carried it.

use chrono::{DateTime, Utc};
use echo5_core::crypto::MasterKey;
use echo5_core::integrations::meta_graph::task_group;
use echo5_core::secret::{Secret, SecretUpdate, last4};
use echo5_core::settings::{GoogleAdsConfig, SecretChanges, google_ads_last4};
use rusqlite::{Connection, params};
use uuid::Uuid;

use crate::error::StoreError;
use crate::outbox_tasks::release_group_in;

/// What a sealed tenant secret is bound to: its tenant and its field, so a sealed value
/// copied to another tenant or field does not open.
pub(crate) fn aad(tenant: impl std::fmt::Display, field: &str) -> Vec<u8> {
    format!("tenant:{tenant}:{field}").into_bytes()
}

/// Applies secret changes; returns the names of the secrets that changed, for the audit row.
pub(crate) fn apply_secrets(
    conn: &Connection,
    key: &MasterKey,
    tenant: Uuid,
    s: &SecretChanges,
) -> Result<Vec<&'static str>, StoreError> {
    let mut changed = Vec::new();
    let id = tenant.to_string();
    match &s.meta_access_token {
        SecretUpdate::Keep => {}
        SecretUpdate::Clear => {
            conn.execute(
                "UPDATE tenants SET meta_token_enc = NULL, meta_token_last4 = NULL WHERE id = ?1",
                [&id],
            )?;
            changed.push("meta_access_token");
        }
        SecretUpdate::Set(token) => {
            let sealed = key.seal(&aad(tenant, "meta_access_token"), token.expose().as_bytes())?;
            conn.execute(
                "UPDATE tenants SET meta_token_enc = ?2, meta_token_last4 = ?3 WHERE id = ?1",
                params![id, sealed, last4(token.expose())],
            )?;
            changed.push("meta_access_token");
        }
    }
    match &s.google_ads {
        SecretUpdate::Keep => {}
        SecretUpdate::Clear => {
            conn.execute(
                "UPDATE tenants SET google_ads_enc = NULL, google_ads_last4 = NULL WHERE id = ?1",
                [&id],
            )?;
            changed.push("google_ads");
        }
        SecretUpdate::Set(cfg) => {
            let plain = serde_json::to_vec(cfg.expose())?;
            let sealed = key.seal(&aad(tenant, "google_ads"), &plain)?;
            conn.execute(
                "UPDATE tenants SET google_ads_enc = ?2, google_ads_last4 = ?3 WHERE id = ?1",
                params![id, sealed, google_ads_last4(cfg.expose())],
            )?;
            changed.push("google_ads");
        }
    }
    Ok(changed)
}

/// The secrets a change sets, for the audit row of a new tenant.
pub(crate) fn secret_names(s: &SecretChanges) -> Vec<&'static str> {
    let mut out = Vec::new();
    if matches!(s.meta_access_token, SecretUpdate::Set(_)) {
        out.push("meta_access_token");
    }
    if matches!(s.google_ads, SecretUpdate::Set(_)) {
        out.push("google_ads");
    }
    out
}

/// The tenant's Google Ads webhook key in clear, `None` when no Google Ads config is set.
pub(crate) fn google_webhook_key(
    conn: &Connection,
    key: &MasterKey,
    tenant: Uuid,
) -> Result<Option<Secret<String>>, StoreError> {
    let sealed: Option<Vec<u8>> = conn
        .prepare_cached("SELECT google_ads_enc FROM tenants WHERE id = ?1")?
        .query_row([tenant.to_string()], |r| r.get(0))?;
    let Some(sealed) = sealed else {
        return Ok(None);
    };
    let plain = key.open(&aad(tenant, "google_ads"), &sealed)?;
    let cfg: GoogleAdsConfig = serde_json::from_slice(plain.expose())?;
    Ok(Some(Secret::new(cfg.webhook_key.clone())))
}

/// The tenant's Meta token was replaced (in the caller's transaction): the integration's
/// broken state ends and its parked fetches are released, due now. Returns whether anything
/// resumed (the caller wakes the outbox worker after the commit).
pub(crate) fn meta_token_replaced(
    conn: &Connection,
    tenant: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let n = conn
        .prepare_cached(
            "UPDATE integrations SET broken_at = NULL
             WHERE tenant_id = ?1 AND source = 'meta' AND broken_at IS NOT NULL",
        )?
        .execute([tenant.to_string()])?;
    let released = release_group_in(conn, &task_group(tenant), now)?;
    Ok(n > 0 || released > 0)
}
