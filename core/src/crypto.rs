//! Key material: random tokens, SHA-256 lookups, constant-time comparison, and AES-256-GCM
//! sealing of secrets under the master key.
//!
//! Sealed format: `[version: u8][nonce: 12 bytes][ciphertext + 16-byte tag]`. The version byte
//! names the master key generation, so a master-key rotation can tell old from new. The
//! associated data binds a ciphertext to where it is stored (tenant and field or key id), so a
//! ciphertext copied into another row fails to open instead of decrypting there.
//!
//! The master key and every key derived from it are wiped from memory when dropped.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::fmt;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::secret::Secret;

pub const MASTER_KEY_LEN: usize = 32;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("the operating system's random number generator failed")]
    Rng,
    #[error("master key must be 32 bytes as 64 hex characters or base64; got {0} bytes")]
    MasterKeyLength(usize),
    #[error("master key is neither hex nor base64")]
    MasterKeyEncoding,
    #[error("sealed value is truncated")]
    Truncated,
    #[error("sealed value was made by master key version {found}, this key is version {expected}")]
    WrongVersion { found: u8, expected: u8 },
    #[error("sealed value failed authentication: wrong master key or tampered data")]
    Authentication,
}

/// The 32-byte key every stored secret is sealed under. Each copy (clones too) is zeroed
/// when dropped, so a key does not linger in freed memory (a core dump, swap).
#[derive(Clone)]
pub struct MasterKey {
    bytes: [u8; MASTER_KEY_LEN],
    version: u8,
}

impl Drop for MasterKey {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

impl ZeroizeOnDrop for MasterKey {}

/// What the backup MAC key is derived for: a purpose of its own, so the key that
/// authenticates backups is never the key that seals secrets (or any other derived key).
const BACKUP_MAC_PURPOSE: &[u8] = b"echo5 backup authentication v1";

/// Length of a [`FileMac`] tag.
pub const FILE_MAC_LEN: usize = 32;

/// HMAC-SHA256 over a file's bytes, fed in pieces, under a key derived from the master key.
pub struct FileMac(Hmac<Sha256>);

impl FileMac {
    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    pub fn finalize(self) -> [u8; FILE_MAC_LEN] {
        self.0.finalize().into_bytes().into()
    }

    /// Compares `tag` with the MAC of what was fed, in constant time.
    pub fn verify(self, tag: &[u8]) -> Result<(), CryptoError> {
        self.0
            .verify_slice(tag)
            .map_err(|_| CryptoError::Authentication)
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MasterKey(v{}, [redacted])", self.version)
    }
}

impl MasterKey {
    pub fn generate() -> Result<Self, CryptoError> {
        let mut bytes = Zeroizing::new([0u8; MASTER_KEY_LEN]);
        fill_random(bytes.as_mut())?;
        Ok(MasterKey {
            bytes: *bytes,
            version: 1,
        })
    }

    pub fn from_bytes(bytes: [u8; MASTER_KEY_LEN], version: u8) -> Self {
        MasterKey { bytes, version }
    }

    /// Parses the text form (64 hex characters, or standard/url-safe base64 of 32 bytes),
    /// trimming surrounding whitespace so a key file ending in a newline works.
    pub fn parse(text: &str, version: u8) -> Result<Self, CryptoError> {
        use base64::Engine;
        let text = text.trim();
        let bytes = Zeroizing::new(
            if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
                hex::decode(text).map_err(|_| CryptoError::MasterKeyEncoding)?
            } else {
                base64::engine::general_purpose::STANDARD
                    .decode(text)
                    .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text))
                    .map_err(|_| CryptoError::MasterKeyEncoding)?
            },
        );
        let arr: [u8; MASTER_KEY_LEN] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| CryptoError::MasterKeyLength(bytes.len()))?;
        Ok(MasterKey {
            bytes: arr,
            version,
        })
    }

    /// A 32-byte key for one `purpose` (HKDF-SHA256 with the purpose as its info), zeroed
    /// when dropped. Keys for different purposes are independent of each other and of the
    /// master key itself.
    fn derive(&self, purpose: &[u8]) -> Zeroizing<[u8; 32]> {
        let mut okm = Zeroizing::new([0u8; 32]);
        hkdf::Hkdf::<Sha256>::new(None, &self.bytes)
            .expand(purpose, okm.as_mut())
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        okm
    }

    /// A MAC that authenticates backup files made under this master key.
    pub fn backup_mac(&self) -> FileMac {
        let key = self.derive(BACKUP_MAC_PURPOSE);
        FileMac(
            <Hmac<Sha256> as Mac>::new_from_slice(key.as_ref())
                .expect("HMAC takes a key of any length"),
        )
    }

    /// The text form written to `master.key`.
    pub fn to_hex(&self) -> Secret<String> {
        Secret::new(hex::encode(self.bytes))
    }

    /// The same key under another generation number (read from the database at open).
    pub fn with_version(mut self, version: u8) -> Self {
        self.version = version;
        self
    }

    pub fn version(&self) -> u8 {
        self.version
    }

    /// A short public fingerprint, stored in the database to detect a wrong key at start.
    pub fn fingerprint(&self) -> String {
        let digest = Sha256::digest([b"echo5-master-key-check".as_slice(), &self.bytes].concat());
        hex::encode(&digest[..8])
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(&self.bytes.into())
    }

    /// Encrypts `plaintext` with a fresh random nonce, bound to `aad`.
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut nonce = [0u8; NONCE_LEN];
        fill_random(&mut nonce)?;
        let ct = self
            .cipher()
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .map_err(|_| CryptoError::Authentication)?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + ct.len());
        out.push(self.version);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        Ok(out)
    }

    /// Decrypts a value made by [`MasterKey::seal`] with the same `aad`.
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Secret<Vec<u8>>, CryptoError> {
        if sealed.len() < 1 + NONCE_LEN + TAG_LEN {
            return Err(CryptoError::Truncated);
        }
        if sealed[0] != self.version {
            return Err(CryptoError::WrongVersion {
                found: sealed[0],
                expected: self.version,
            });
        }
        let nonce = Nonce::from_slice(&sealed[1..1 + NONCE_LEN]);
        self.cipher()
            .decrypt(
                nonce,
                Payload {
                    msg: &sealed[1 + NONCE_LEN..],
                    aad,
                },
            )
            .map(Secret::new)
            .map_err(|_| CryptoError::Authentication)
    }

    /// [`MasterKey::open`] for values that were sealed from UTF-8 text.
    pub fn open_string(&self, aad: &[u8], sealed: &[u8]) -> Result<Secret<String>, CryptoError> {
        let bytes = self.open(aad, sealed)?.into_inner();
        // from_utf8 hands the same buffer over (or back, in the error, to be zeroed).
        String::from_utf8(bytes).map(Secret::new).map_err(|e| {
            e.into_bytes().zeroize();
            CryptoError::Authentication
        })
    }
}

pub fn fill_random(buf: &mut [u8]) -> Result<(), CryptoError> {
    getrandom::fill(buf).map_err(|_| CryptoError::Rng)
}

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `len` characters drawn uniformly from base62 (rejection sampling: bytes ≥ 248 are
/// discarded so every character has the same probability).
pub fn random_base62(len: usize) -> Result<String, CryptoError> {
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    while out.len() < len {
        fill_random(&mut buf)?;
        for &b in &buf {
            if b < 248 && out.len() < len {
                out.push(BASE62[(b % 62) as usize] as char);
            }
        }
    }
    Ok(out)
}

pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// Equality whose running time does not depend on where the inputs differ.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// Platform-admin bearer tokens: `e5a_` + 40 base62 characters (≈238 bits).
pub const ADMIN_TOKEN_PREFIX: &str = "e5a_";

pub fn generate_admin_token() -> Result<Secret<String>, CryptoError> {
    Ok(Secret::new(format!(
        "{ADMIN_TOKEN_PREFIX}{}",
        random_base62(40)?
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(b: u8) -> MasterKey {
        MasterKey::from_bytes([b; 32], 1)
    }

    #[test]
    fn seal_open_round_trip() {
        let k = key(7);
        let sealed = k.seal(b"tenant-1|meta", b"EAAG-token").unwrap();
        assert_eq!(sealed[0], 1);
        assert_eq!(
            k.open(b"tenant-1|meta", &sealed).unwrap().expose(),
            b"EAAG-token"
        );
        // A fresh nonce every time: the same plaintext never seals to the same bytes.
        assert_ne!(sealed, k.seal(b"tenant-1|meta", b"EAAG-token").unwrap());
    }

    #[test]
    fn wrong_key_aad_or_tamper_fail_loudly() {
        let k = key(7);
        let sealed = k.seal(b"a", b"secret").unwrap();
        assert_eq!(
            key(8).open(b"a", &sealed).unwrap_err(),
            CryptoError::Authentication
        );
        assert_eq!(
            k.open(b"b", &sealed).unwrap_err(),
            CryptoError::Authentication
        );
        let mut tampered = sealed.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert_eq!(
            k.open(b"a", &tampered).unwrap_err(),
            CryptoError::Authentication
        );
        assert_eq!(
            k.open(b"a", &sealed[..10]).unwrap_err(),
            CryptoError::Truncated
        );
        let v2 = MasterKey::from_bytes([7; 32], 2);
        assert!(matches!(
            v2.open(b"a", &sealed),
            Err(CryptoError::WrongVersion {
                found: 1,
                expected: 2
            })
        ));
    }

    #[test]
    fn master_key_text_forms() {
        let k = MasterKey::generate().unwrap();
        let hex_text = format!("{}\n", k.to_hex().expose());
        let parsed = MasterKey::parse(&hex_text, 1).unwrap();
        assert_eq!(parsed.fingerprint(), k.fingerprint());
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD.encode([3u8; 32]);
        assert_eq!(
            MasterKey::parse(&b64, 1).unwrap().fingerprint(),
            key(3).fingerprint()
        );
        assert_eq!(
            MasterKey::parse("abcd", 1).unwrap_err(),
            CryptoError::MasterKeyLength(3)
        );
        assert!(!format!("{k:?}").contains(k.to_hex().expose().as_str()));
    }

    #[test]
    fn base62_tokens_are_uniformish_and_right_length() {
        let t = random_base62(32).unwrap();
        assert_eq!(t.len(), 32);
        assert!(t.bytes().all(|b| b.is_ascii_alphanumeric()));
        // 62 symbols over 62k draws: every symbol appears (probability of a miss ≈ 0).
        let big = random_base62(62_000).unwrap();
        let mut seen = [0u32; 256];
        for b in big.bytes() {
            seen[b as usize] += 1;
        }
        for &c in BASE62 {
            let n = seen[c as usize];
            assert!(
                (700..1300).contains(&n),
                "symbol {} seen {n} times",
                c as char
            );
        }
        let admin = generate_admin_token().unwrap();
        assert!(admin.expose().starts_with("e5a_"));
        assert_eq!(admin.expose().len(), 44);
    }

    #[test]
    fn a_dropped_master_key_leaves_zeroes() {
        let mut k = std::mem::ManuallyDrop::new(key(0xA5));
        // SAFETY: the value is dropped in place exactly once and never used as a key
        // again; its plain byte array is only read back to see what Drop left there.
        unsafe { std::ptr::drop_in_place(&mut *k) };
        assert_eq!(k.bytes, [0u8; MASTER_KEY_LEN]);
    }

    #[test]
    fn backup_mac_depends_on_key_and_every_byte() {
        let tag = |k: &MasterKey, data: &[u8]| {
            let mut m = k.backup_mac();
            m.update(data);
            m.finalize()
        };
        let t = tag(&key(7), b"backup bytes");
        let mut m = key(7).backup_mac();
        m.update(b"backup ");
        m.update(b"bytes");
        assert_eq!(m.verify(&t), Ok(()), "fed in pieces, the same MAC");
        assert_ne!(t, tag(&key(8), b"backup bytes"));
        assert_ne!(t, tag(&key(7), b"backup bytez"));
        let mut m = key(7).backup_mac();
        m.update(b"backup bytes");
        assert_eq!(m.verify(&t[..31]), Err(CryptoError::Authentication));
        // The MAC key is derived, not the master key itself: HMAC under the raw key differs.
        let mut raw = <Hmac<Sha256> as Mac>::new_from_slice(&[7u8; 32]).unwrap();
        raw.update(b"backup bytes");
        assert_ne!(t.as_slice(), raw.finalize().into_bytes().as_slice());
    }

    #[test]
    fn ct_eq_compares() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"abcd"));
    }
}
