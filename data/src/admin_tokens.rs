//! Platform-admin bearer tokens. Only their SHA-256 is stored; the token itself exists once,
//! in `admin.token` and in the output of the start that created it.

use echo5_core::audit::{AuditAction, AuditRecord};
use echo5_core::crypto::{self, CryptoError};
use echo5_core::secret::Secret;
use rusqlite::params;
use serde_json::json;
use uuid::Uuid;

use crate::Store;
use crate::audit;
use crate::error::StoreError;

/// What the daemon keeps in memory to check a presented token without a database read.
#[derive(Clone)]
pub struct AdminTokenHash {
    pub id: Uuid,
    pub hash: [u8; 32],
}

impl std::fmt::Debug for AdminTokenHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AdminTokenHash({})", self.id)
    }
}

impl Store {
    pub async fn active_admin_tokens(&self) -> Result<Vec<AdminTokenHash>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, hash FROM admin_tokens WHERE revoked_at IS NULL ORDER BY created_at",
            )?;
            let rows = stmt
                .query_map([], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            rows.into_iter()
                .map(|(id, hash)| {
                    Ok(AdminTokenHash {
                        id: Uuid::parse_str(&id)?,
                        hash: hash
                            .try_into()
                            .map_err(|_| StoreError::Internal("admin token hash length".into()))?,
                    })
                })
                .collect()
        })
        .await
    }

    /// Creates a token; with `revoke_others`, every earlier token stops working in the same
    /// transaction (a reset after `admin.token` was lost or leaked).
    pub async fn create_admin_token(
        &self,
        label: String,
        revoke_others: bool,
    ) -> Result<(AdminTokenHash, Secret<String>), StoreError> {
        let token =
            crypto::generate_admin_token().map_err(|e: CryptoError| StoreError::Crypto(e))?;
        let hash = crypto::sha256(token.expose().as_bytes());
        let id = Uuid::now_v7();
        let now = self.now();
        self.write(move |c| {
            let ms = now.timestamp_millis();
            if revoke_others {
                c.execute(
                    "UPDATE admin_tokens SET revoked_at = ?1 WHERE revoked_at IS NULL",
                    [ms],
                )?;
            }
            c.execute(
                "INSERT INTO admin_tokens(id, hash, label, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![id.to_string(), hash.as_slice(), label, ms],
            )?;
            audit::record(
                c,
                now,
                &AuditRecord {
                    actor: "system".into(),
                    action: AuditAction::AdminTokenCreated,
                    tenant: None,
                    target: Some(id.to_string()),
                    details: json!({ "label": label, "revoked_others": revoke_others }),
                },
            )?;
            Ok(())
        })
        .await?;
        Ok((AdminTokenHash { id, hash }, token))
    }
}
