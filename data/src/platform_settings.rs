//! The platform settings: stored as one JSON document, kept in memory once read.

use echo5_core::DomainError;
use echo5_core::audit::{AuditAction, AuditRecord};
use echo5_core::crypto::MasterKey;
use echo5_core::events::{Change, Changed};
use echo5_core::platform_settings::{self, PlatformSettings};
use echo5_core::secret::{MaskedSecret, Secret, SecretUpdate, last4};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::json;
use std::sync::{Arc, RwLock};

use crate::Store;
use crate::audit;
use crate::error::StoreError;

/// What the sealed Meta app secret is bound to.
pub(crate) const META_APP_SECRET_AAD: &[u8] = b"platform:meta_app_secret";

/// The stored settings, or the built-in defaults when none were ever saved; the Meta app
/// secret shown masked from its own column.
pub(crate) fn load(conn: &Connection) -> Result<PlatformSettings, StoreError> {
    let row: Option<(String, Option<Vec<u8>>, Option<String>)> = conn
        .prepare_cached(
            "SELECT settings, meta_app_secret_enc, meta_app_secret_last4
             FROM platform_settings WHERE id = 1",
        )?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    match row {
        Some((d, sealed, last4)) => {
            let mut s: PlatformSettings = serde_json::from_str(&d)?;
            s.meta_app_secret = if sealed.is_some() {
                MaskedSecret {
                    set: true,
                    last4: last4.filter(|l| !l.is_empty()),
                }
            } else {
                MaskedSecret::unset()
            };
            Ok(s)
        }
        None => Ok(PlatformSettings::default()),
    }
}

/// Sets or clears the sealed Meta app secret; whether it changed.
fn apply_app_secret(
    conn: &Connection,
    key: &MasterKey,
    u: &SecretUpdate<String>,
) -> Result<bool, StoreError> {
    match u {
        SecretUpdate::Keep => Ok(false),
        SecretUpdate::Clear => {
            conn.execute(
                "UPDATE platform_settings SET meta_app_secret_enc = NULL,
                 meta_app_secret_last4 = NULL WHERE id = 1",
                [],
            )?;
            Ok(true)
        }
        SecretUpdate::Set(secret) => {
            let sealed = key.seal(META_APP_SECRET_AAD, secret.expose().as_bytes())?;
            conn.execute(
                "UPDATE platform_settings SET meta_app_secret_enc = ?1,
                 meta_app_secret_last4 = ?2 WHERE id = 1",
                params![sealed, last4(secret.expose())],
            )?;
            Ok(true)
        }
    }
}

/// The settings in memory: ingest reads the honeypot names on every submission.
pub(crate) struct PlatformCache(RwLock<Option<Arc<PlatformSettings>>>);

impl PlatformCache {
    /// Filled at open, so neither ingest nor tenant creation ever waits for a read (or
    /// competes for the bounded read queue) to learn the settings.
    pub(crate) fn loaded(conn: &Connection) -> Result<PlatformCache, StoreError> {
        Ok(PlatformCache(RwLock::new(Some(Arc::new(load(conn)?)))))
    }

    fn get(&self) -> Option<Arc<PlatformSettings>> {
        self.0.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn put(&self, s: PlatformSettings) -> Arc<PlatformSettings> {
        let s = Arc::new(s);
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = Some(s.clone());
        s
    }
}

impl Store {
    /// The platform settings, from memory after the first read.
    pub async fn platform_settings(&self) -> Result<Arc<PlatformSettings>, StoreError> {
        if let Some(s) = self.platform_cache().get() {
            return Ok(s);
        }
        let s = self.read(load).await?;
        Ok(self.platform_cache().put(s))
    }

    /// The Meta app secret in clear, for checking a notification's signature; `None` when
    /// it is not set. Read and opened per call: notifications are few.
    pub async fn meta_app_secret(&self) -> Result<Option<Secret<String>>, StoreError> {
        let key = self.key();
        self.read(move |c| {
            let sealed: Option<Vec<u8>> = c
                .prepare_cached("SELECT meta_app_secret_enc FROM platform_settings WHERE id = 1")?
                .query_row([], |r| r.get(0))
                .optional()?
                .flatten();
            let Some(sealed) = sealed else {
                return Ok(None);
            };
            let plain = key.open(META_APP_SECRET_AAD, &sealed)?;
            let text = String::from_utf8(plain.expose().clone())
                .map_err(|e| StoreError::Internal(format!("meta app secret is not text: {e}")))?;
            Ok(Some(Secret::new(text)))
        })
        .await
    }

    /// Read-modify-write of the platform settings in one transaction, audited. Returns the
    /// new settings and, when a field changed, the change naming them.
    pub async fn update_platform_settings<F>(
        &self,
        actor: String,
        action: AuditAction,
        app_secret: SecretUpdate<String>,
        change: F,
    ) -> Result<Changed<PlatformSettings>, StoreError>
    where
        F: FnOnce(&PlatformSettings) -> Result<PlatformSettings, DomainError> + Send + 'static,
    {
        let now = self.now();
        let key = self.key();
        let (after, changed) = self
            .write(move |c| {
                let before = load(c)?;
                let mut after = change(&before)?;
                // The document never holds the secret, not even masked.
                after.meta_app_secret = MaskedSecret::unset();
                c.prepare_cached(
                    "INSERT INTO platform_settings(id, settings, updated_at) VALUES (1, ?1, ?2)
                     ON CONFLICT(id) DO UPDATE SET settings = excluded.settings,
                                                   updated_at = excluded.updated_at",
                )?
                .execute(params![
                    serde_json::to_string(&after)?,
                    now.timestamp_millis()
                ])?;
                let secret_changed = apply_app_secret(c, &key, &app_secret)?;
                let after = load(c)?;
                let mut changed = platform_settings::changed_fields(&before, &after);
                if secret_changed {
                    changed.push("meta_app_secret");
                }
                audit::record(
                    c,
                    now,
                    &AuditRecord {
                        actor,
                        action,
                        tenant: None,
                        target: None,
                        details: json!({ "changed": changed }),
                    },
                )?;
                Ok((after, changed))
            })
            .await?;
        self.platform_cache().put(after.clone());
        Ok(if changed.is_empty() {
            Changed::none(after)
        } else {
            Changed::one(after, Change::PlatformUpdated { changed })
        })
    }
}
