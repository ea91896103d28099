//! The platform settings: stored as one JSON document, kept in memory once read.

use echo5_core::DomainError;
use echo5_core::audit::{AuditAction, AuditRecord};
use echo5_core::events::{Change, Changed};
use echo5_core::platform_settings::{self, PlatformSettings};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::json;
use std::sync::{Arc, RwLock};

use crate::Store;
use crate::audit;
use crate::error::StoreError;

/// The stored settings, or the built-in defaults when none were ever saved.
pub(crate) fn load(conn: &Connection) -> Result<PlatformSettings, StoreError> {
    let doc: Option<String> = conn
        .prepare_cached("SELECT settings FROM platform_settings WHERE id = 1")?
        .query_row([], |r| r.get(0))
        .optional()?;
    match doc {
        Some(d) => Ok(serde_json::from_str(&d)?),
        None => Ok(PlatformSettings::default()),
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

    /// Read-modify-write of the platform settings in one transaction, audited. Returns the
    /// new settings and, when a field changed, the change naming them.
    pub async fn update_platform_settings<F>(
        &self,
        actor: String,
        action: AuditAction,
        change: F,
    ) -> Result<Changed<PlatformSettings>, StoreError>
    where
        F: FnOnce(&PlatformSettings) -> Result<PlatformSettings, DomainError> + Send + 'static,
    {
        let now = self.now();
        let (after, changed) = self
            .write(move |c| {
                let before = load(c)?;
                let after = change(&before)?;
                c.prepare_cached(
                    "INSERT INTO platform_settings(id, settings, updated_at) VALUES (1, ?1, ?2)
                     ON CONFLICT(id) DO UPDATE SET settings = excluded.settings,
                                                   updated_at = excluded.updated_at",
                )?
                .execute(params![
                    serde_json::to_string(&after)?,
                    now.timestamp_millis()
                ])?;
                let changed = platform_settings::changed_fields(&before, &after);
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
