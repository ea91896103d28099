//! Master-key rotation: every sealed value re-encrypted under a new key in one transaction.

use echo5_core::audit::{AuditAction, AuditRecord};
use echo5_core::crypto::MasterKey;
use echo5_core::keys;
use rusqlite::{OptionalExtension, params};
use serde_json::json;
use uuid::Uuid;

use crate::Store;
use crate::audit;
use crate::error::StoreError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotation {
    pub tenant_secrets: usize,
    pub api_keys: usize,
    pub version: u8,
}

/// A tenant id with its sealed Meta token and Google Ads config, when set.
type SealedTenantSecrets = (String, Option<Vec<u8>>, Option<Vec<u8>>);

impl Store {
    /// Re-seals every tenant secret and API-key copy under `new` (as the next key
    /// generation) and records its fingerprint. All or nothing: a value that does not open
    /// under the current key aborts the rotation and changes nothing.
    pub async fn rotate_master_key(&self, new: MasterKey) -> Result<Rotation, StoreError> {
        let old = self.key();
        let version = old.version().checked_add(1).unwrap_or(1);
        let new = new.with_version(version);
        let now = self.now();
        let installed = new.clone();
        let rotation = self
            .write(move |c| {
                let mut tenant_secrets = 0;
                let rows: Vec<SealedTenantSecrets> = c
                    .prepare("SELECT id, meta_token_enc, google_ads_enc FROM tenants")?
                    .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                    .collect::<Result<_, _>>()?;
                for (id, meta, google) in rows {
                    for (field, column, sealed) in [
                        ("meta_access_token", "meta_token_enc", meta),
                        ("google_ads", "google_ads_enc", google),
                    ] {
                        if let Some(sealed) = sealed {
                            let aad = crate::settings::aad(&id, field);
                            let plain = old.open(&aad, &sealed)?;
                            let resealed = new.seal(&aad, plain.expose())?;
                            c.execute(
                                &format!("UPDATE tenants SET {column} = ?2 WHERE id = ?1"),
                                params![id, resealed],
                            )?;
                            tenant_secrets += 1;
                        }
                    }
                }
                // The platform's sealed secrets.
                for (column, aad) in [
                    ("meta_app_secret_enc", crate::platform_settings::META_APP_SECRET_AAD),
                    ("stripe_secret_key_enc", crate::platform_settings::STRIPE_SECRET_KEY_AAD),
                ] {
                    let platform: Option<Vec<u8>> = c
                        .query_row(
                            &format!("SELECT {column} FROM platform_settings WHERE id = 1"),
                            [],
                            |r| r.get(0),
                        )
                        .optional()?
                        .flatten();
                    if let Some(sealed) = platform {
                        let plain = old.open(aad, &sealed)?;
                        let resealed = new.seal(aad, plain.expose())?;
                        c.execute(
                            &format!("UPDATE platform_settings SET {column} = ?1 WHERE id = 1"),
                            [resealed],
                        )?;
                        tenant_secrets += 1;
                    }
                }
                // Webhook signing secrets, the previous one too while it still signs.
                type SealedWebhook = (String, String, Vec<u8>, Option<Vec<u8>>);
                let hooks: Vec<SealedWebhook> = c
                    .prepare("SELECT id, tenant_id, secret, previous_secret FROM webhooks")?
                    .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                    .collect::<Result<_, _>>()?;
                for (id, tenant, secret, previous) in hooks {
                    let aad =
                        echo5_core::webhooks::secret_aad(Uuid::parse_str(&tenant)?, Uuid::parse_str(&id)?);
                    let reseal = |sealed: &[u8]| -> Result<Vec<u8>, StoreError> {
                        Ok(new.seal(&aad, old.open(&aad, sealed)?.expose())?)
                    };
                    let previous = previous.as_deref().map(reseal).transpose()?;
                    c.execute(
                        "UPDATE webhooks SET secret = ?2, previous_secret = ?3 WHERE id = ?1",
                        params![id, reseal(&secret)?, previous],
                    )?;
                    tenant_secrets += 1 + usize::from(previous.is_some());
                }
                // Notification channel secrets (Slack URL, Twilio token, SendGrid key).
                tenant_secrets += crate::notifications::reseal_all(c, &old, &new)?;
                let keys: Vec<(String, String, Vec<u8>)> = c
                    .prepare("SELECT id, tenant_id, key_enc FROM api_keys")?
                    .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                    .collect::<Result<_, _>>()?;
                for (id, tenant, sealed) in &keys {
                    let aad = keys::aad(Uuid::parse_str(tenant)?, Uuid::parse_str(id)?);
                    let plain = old.open(&aad, sealed)?;
                    let resealed = new.seal(&aad, plain.expose())?;
                    c.execute(
                        "UPDATE api_keys SET key_enc = ?2 WHERE id = ?1",
                        params![id, resealed],
                    )?;
                }
                c.execute(
                    "UPDATE meta SET value = ?1 WHERE key = 'master_key_fingerprint'",
                    [new.fingerprint()],
                )?;
                c.execute(
                    "INSERT INTO meta(key, value) VALUES ('master_key_version', ?1)
                     ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    [version.to_string()],
                )?;
                audit::record(
                    c,
                    now,
                    &AuditRecord {
                        actor: "system".into(),
                        action: AuditAction::MasterKeyRotated,
                        tenant: None,
                        target: None,
                        details: json!({ "version": version, "tenant_secrets": tenant_secrets, "api_keys": keys.len() }),
                    },
                )?;
                Ok(Rotation {
                    tenant_secrets,
                    api_keys: keys.len(),
                    version,
                })
            })
            .await?;
        self.set_key(installed);
        Ok(rotation)
    }
}
