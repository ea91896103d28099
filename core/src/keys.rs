//! Per-tenant API keys for ingest: format, lifecycle rules and wire types.
//!
//! A key is `e5_` + 32 base62 characters (≈190 bits) from the OS RNG (see [`crate::tokens`]). The daemon stores its
//! SHA-256 (the lookup) and an AES-256-GCM sealed copy (for an audited reveal), never the key.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::crypto::CryptoError;
use crate::error::DomainError;
use crate::secret::Secret;
use crate::tokens::{self, TokenKind};
use crate::validate::{self, GRACE_HOURS_MAX};

pub use crate::tokens::API_KEY_PREFIX;
/// Characters shown of a key in lists and logs: `e5_` and five more.
pub const DISPLAY_PREFIX_LEN: usize = 8;
pub const LABEL_MAX_CHARS: usize = 80;

pub fn generate() -> Result<Secret<String>, CryptoError> {
    tokens::generate(TokenKind::ApiKey)
}

/// Whether `s` has the shape of a key (cheap check before hashing anything).
pub fn well_formed(s: &str) -> bool {
    tokens::well_formed(TokenKind::ApiKey, s)
}

pub fn display_prefix(key: &str) -> String {
    key.chars().take(DISPLAY_PREFIX_LEN).collect()
}

pub fn hash(key: &str) -> [u8; 32] {
    tokens::hash(key)
}

/// Associated data for a key's sealed copy: it opens only as this key of this tenant.
pub fn aad(tenant: Uuid, key_id: Uuid) -> Vec<u8> {
    format!("apikey:{tenant}:{key_id}").into_bytes()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum KeyStatus {
    /// Works, with no end date.
    Active,
    /// Works until `expires_at` (a rotated key in its grace period).
    Expiring,
    Expired,
    Revoked,
}

/// A key's state at `now`: revocation wins, then expiry.
pub fn status(
    now: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
) -> KeyStatus {
    match (revoked_at, expires_at) {
        (Some(r), _) if r <= now => KeyStatus::Revoked,
        (_, Some(e)) if e <= now => KeyStatus::Expired,
        (_, Some(_)) => KeyStatus::Expiring,
        _ => KeyStatus::Active,
    }
}

pub fn usable(status: KeyStatus) -> bool {
    matches!(status, KeyStatus::Active | KeyStatus::Expiring)
}

/// When a rotated key stops working: `now + grace_hours`, never later than it would have
/// anyway. Grace 0 means at once.
pub fn rotation_expiry(
    now: DateTime<Utc>,
    grace_hours: u32,
    current_expiry: Option<DateTime<Utc>>,
) -> Result<DateTime<Utc>, DomainError> {
    if grace_hours > GRACE_HOURS_MAX {
        return Err(DomainError::invalid(
            "grace_hours",
            "out_of_range",
            format!("grace_hours must be between 0 and {GRACE_HOURS_MAX}"),
        ));
    }
    let end = now + TimeDelta::hours(grace_hours as i64);
    Ok(match current_expiry {
        Some(e) if e < end => e,
        _ => end,
    })
}

pub fn validate_label(label: Option<&str>) -> Result<String, DomainError> {
    match label {
        None => Ok("default".into()),
        Some(l) => validate::text("label", l, LABEL_MAX_CHARS),
    }
}

/// A key as lists show it: never the key itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiKey {
    pub id: Uuid,
    pub tenant_id: Uuid,
    /// The first 8 characters, to recognise a key (`e5_Ab3dE`).
    pub prefix: String,
    pub label: String,
    pub status: KeyStatus,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// The key this one replaced, when it was made by a rotation.
    pub rotated_from: Option<Uuid>,
}

/// `POST /tenants/{id}/keys`
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewApiKey {
    /// What the key is for, e.g. the site it is pasted into. Default `default`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// `POST /tenants/{id}/keys/{key_id}/rotate`
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RotateApiKey {
    /// Hours the old key keeps working, 0..=720, default 24.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grace_hours: Option<u32>,
    /// Label of the new key; default: the old key's label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// The one response (with reveal) that carries a full key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiKeyWithSecret {
    #[serde(flatten)]
    pub key: ApiKey,
    /// The full key. Shown at creation and on an audited reveal only.
    pub secret: String,
}

/// `rotate`'s answer: the new key (shown once) and the old one with its new expiry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RotatedApiKey {
    pub new_key: ApiKeyWithSecret,
    pub old_key: ApiKey,
}

/// `GET /api/v1/key`: which tenant a presented key belongs to (a site's "test connection").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KeyInfo {
    pub key_id: Uuid,
    pub tenant: crate::tenants::TenantRef,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(h: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_780_000_000 + h * 3600, 0).unwrap()
    }

    #[test]
    fn keys_have_the_documented_shape() {
        let k = generate().unwrap();
        let k = k.expose();
        assert!(well_formed(k), "{}", k.len());
        assert_eq!(k.len(), 35);
        assert_eq!(display_prefix(k).len(), 8);
        assert!(display_prefix(k).starts_with("e5_"));
        assert_ne!(generate().unwrap().expose(), k);
        assert!(!well_formed("e5_short"));
        assert!(!well_formed(&format!("e5a{}", &k[3..])));
        assert!(!well_formed(&format!("{}!", &k[..34])));
    }

    #[test]
    fn status_rules() {
        let now = at(10);
        assert_eq!(status(now, None, None), KeyStatus::Active);
        assert_eq!(status(now, Some(at(11)), None), KeyStatus::Expiring);
        assert_eq!(
            status(now, Some(at(10)), None),
            KeyStatus::Expired,
            "expiry instant is out"
        );
        assert_eq!(status(now, Some(at(9)), None), KeyStatus::Expired);
        assert_eq!(status(now, Some(at(11)), Some(at(9))), KeyStatus::Revoked);
        assert_eq!(
            status(now, None, Some(at(10))),
            KeyStatus::Revoked,
            "revocation instant is out"
        );
        // A revocation stamped later than `now` (a clock read before the revoke committed)
        // has not happened yet.
        assert_eq!(status(now, None, Some(at(11))), KeyStatus::Active);
        assert_eq!(status(now, Some(at(12)), Some(at(11))), KeyStatus::Expiring);
        assert!(usable(KeyStatus::Expiring));
        assert!(!usable(KeyStatus::Revoked));
    }

    #[test]
    fn the_lookup_hash_is_plain_sha256_of_the_key() {
        // Stored hashes are looked up with this value: it must never change. Expected value
        // from Python's hashlib.sha256.
        let key = "e5_0123456789abcdefABCDEFghijklmnop";
        let hex: String = hash(key).iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "6b6af3323c2865b9ff5a87aeef27e417f57686e199575736938753ca7dee7d18"
        );
        assert_ne!(hash(key), hash("e5_0123456789abcdefABCDEFghijklmnoq"));
    }

    #[test]
    fn a_sealed_key_opens_only_as_that_key_of_that_tenant() {
        let (tenant, key_id, other) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3));
        // Sealed copies in existing databases were made with this exact text.
        assert_eq!(
            aad(tenant, key_id),
            format!("apikey:{tenant}:{key_id}").into_bytes()
        );
        let master = crate::crypto::MasterKey::from_bytes([7; 32], 1);
        let sealed = master.seal(&aad(tenant, key_id), b"e5_secret").unwrap();
        assert_eq!(
            master.open(&aad(tenant, key_id), &sealed).unwrap().expose(),
            b"e5_secret"
        );
        assert!(master.open(&aad(other, key_id), &sealed).is_err());
        assert!(master.open(&aad(tenant, other), &sealed).is_err());
    }

    #[test]
    fn rotation_grace() {
        let now = at(0);
        assert_eq!(rotation_expiry(now, 24, None).unwrap(), at(24));
        assert_eq!(rotation_expiry(now, 0, None).unwrap(), now);
        assert_eq!(rotation_expiry(now, 720, None).unwrap(), at(720));
        assert!(rotation_expiry(now, 721, None).is_err());
        // Rotating an already-expiring key never extends it.
        assert_eq!(rotation_expiry(now, 24, Some(at(5))).unwrap(), at(5));
        assert_eq!(rotation_expiry(now, 2, Some(at(5))).unwrap(), at(2));
    }

    #[test]
    fn labels() {
        assert_eq!(validate_label(None).unwrap(), "default");
        assert_eq!(
            validate_label(Some(" openarms.com ")).unwrap(),
            "openarms.com"
        );
        assert!(validate_label(Some("")).is_err());
        assert!(validate_label(Some(&"x".repeat(81))).is_err());
    }
}
