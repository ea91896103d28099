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
/// What the sealed Stripe secret key is bound to.
pub(crate) const STRIPE_SECRET_KEY_AAD: &[u8] = b"platform:stripe_secret_key";

/// The write-only secrets of a settings write.
#[derive(Debug, Default)]
pub struct PlatformSecrets {
    pub meta_app_secret: SecretUpdate<String>,
    pub stripe_secret_key: SecretUpdate<String>,
}

/// The stored settings, or the built-in defaults when none were ever saved; the Meta app
/// secret shown masked from its own column.
pub(crate) fn load(conn: &Connection) -> Result<PlatformSettings, StoreError> {
    type Row = (
        String,
        Option<Vec<u8>>,
        Option<String>,
        Option<Vec<u8>>,
        Option<String>,
    );
    let row: Option<Row> = conn
        .prepare_cached(
            "SELECT settings, meta_app_secret_enc, meta_app_secret_last4,
                    stripe_secret_key_enc, stripe_secret_key_last4
             FROM platform_settings WHERE id = 1",
        )?
        .query_row([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .optional()?;
    let masked = |sealed: Option<Vec<u8>>, last4: Option<String>| {
        if sealed.is_some() {
            MaskedSecret {
                set: true,
                last4: last4.filter(|l| !l.is_empty()),
            }
        } else {
            MaskedSecret::unset()
        }
    };
    match row {
        Some((d, sealed, last4, stripe, stripe_last4)) => {
            let mut s: PlatformSettings = serde_json::from_str(&d)?;
            s.meta_app_secret = masked(sealed, last4);
            s.stripe_secret_key = masked(stripe, stripe_last4);
            Ok(s)
        }
        None => Ok(PlatformSettings::default()),
    }
}

/// Sets or clears a sealed platform secret (`column`_enc and `column`_last4); whether it
/// changed.
fn apply_secret(
    conn: &Connection,
    key: &MasterKey,
    column: &str,
    aad: &[u8],
    u: &SecretUpdate<String>,
) -> Result<bool, StoreError> {
    match u {
        SecretUpdate::Keep => Ok(false),
        SecretUpdate::Clear => {
            conn.execute(
                &format!("UPDATE platform_settings SET {column}_enc = NULL, {column}_last4 = NULL WHERE id = 1"),
                [],
            )?;
            Ok(true)
        }
        SecretUpdate::Set(secret) => {
            let sealed = key.seal(aad, secret.expose().as_bytes())?;
            conn.execute(
                &format!("UPDATE platform_settings SET {column}_enc = ?1, {column}_last4 = ?2 WHERE id = 1"),
                params![sealed, last4(secret.expose())],
            )?;
            Ok(true)
        }
    }
}

/// A sealed platform secret in clear; `None` when it is not set.
fn open_secret(
    c: &Connection,
    key: &MasterKey,
    column: &str,
    aad: &[u8],
) -> Result<Option<Secret<String>>, StoreError> {
    let sealed: Option<Vec<u8>> = c
        .prepare_cached(&format!(
            "SELECT {column}_enc FROM platform_settings WHERE id = 1"
        ))?
        .query_row([], |r| r.get(0))
        .optional()?
        .flatten();
    let Some(sealed) = sealed else {
        return Ok(None);
    };
    let plain = key.open(aad, &sealed)?;
    let text = String::from_utf8(plain.expose().clone())
        .map_err(|e| StoreError::Internal(format!("{column} is not text: {e}")))?;
    Ok(Some(Secret::new(text)))
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
        self.read(move |c| open_secret(c, &key, "meta_app_secret", META_APP_SECRET_AAD))
            .await
    }

    /// The Stripe secret key in clear, for a usage report; `None` when it is not set.
    pub async fn stripe_secret_key(&self) -> Result<Option<Secret<String>>, StoreError> {
        let key = self.key();
        self.read(move |c| open_secret(c, &key, "stripe_secret_key", STRIPE_SECRET_KEY_AAD))
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
        let secrets = PlatformSecrets {
            meta_app_secret: app_secret,
            stripe_secret_key: SecretUpdate::Keep,
        };
        self.update_platform_settings_with(actor, action, secrets, change)
            .await
    }

    /// [`update_platform_settings`](Self::update_platform_settings) with every write-only
    /// secret.
    pub async fn update_platform_settings_with<F>(
        &self,
        actor: String,
        action: AuditAction,
        secrets: PlatformSecrets,
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
                after.stripe_secret_key = MaskedSecret::unset();
                c.prepare_cached(
                    "INSERT INTO platform_settings(id, settings, updated_at) VALUES (1, ?1, ?2)
                     ON CONFLICT(id) DO UPDATE SET settings = excluded.settings,
                                                   updated_at = excluded.updated_at",
                )?
                .execute(params![
                    serde_json::to_string(&after)?,
                    now.timestamp_millis()
                ])?;
                let secret_changed = apply_secret(
                    c,
                    &key,
                    "meta_app_secret",
                    META_APP_SECRET_AAD,
                    &secrets.meta_app_secret,
                )?;
                let stripe_changed = apply_secret(
                    c,
                    &key,
                    "stripe_secret_key",
                    STRIPE_SECRET_KEY_AAD,
                    &secrets.stripe_secret_key,
                )?;
                let after = load(c)?;
                let mut changed = platform_settings::changed_fields(&before, &after);
                if secret_changed {
                    changed.push("meta_app_secret");
                }
                if stripe_changed {
                    changed.push("stripe_secret_key");
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
