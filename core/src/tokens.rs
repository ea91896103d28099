//! Bearer tokens of every kind: their formats, generation from the OS RNG, and the SHA-256
//! hash the daemon stores and looks them up by.
//!
//! Every token is a short prefix naming its kind and a run of base62 characters, so a
//! credential tells what it is before anything is looked up, a leaked one is recognisable in
//! a secret scanner, and a key pasted where a session is expected fails fast. Only the hash
//! is stored: a database leak gives no usable credential.

use crate::crypto::{self, CryptoError};
use crate::secret::Secret;

/// An ingest API key of a tenant.
pub const API_KEY_PREFIX: &str = "e5_";
/// A login session of a user.
pub const SESSION_PREFIX: &str = "e5s_";
/// A personal access token of a user, for scripts.
pub const PERSONAL_TOKEN_PREFIX: &str = "e5p_";
/// The single-use token in an invitation link.
pub const INVITE_PREFIX: &str = "e5i_";
/// The single-use token in a password-reset link.
pub const RESET_PREFIX: &str = "e5r_";

/// The kinds of bearer token, each with its own prefix and length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// The platform owner's bootstrap credential, `e5a_` + 40.
    Admin,
    /// `e5_` + 32.
    ApiKey,
    /// `e5s_` + 32.
    Session,
    /// `e5p_` + 32.
    Personal,
    /// `e5i_` + 32.
    Invite,
    /// `e5r_` + 32.
    Reset,
}

impl TokenKind {
    pub const ALL: [TokenKind; 6] = [
        TokenKind::Admin,
        TokenKind::ApiKey,
        TokenKind::Session,
        TokenKind::Personal,
        TokenKind::Invite,
        TokenKind::Reset,
    ];

    pub fn prefix(self) -> &'static str {
        match self {
            TokenKind::Admin => crypto::ADMIN_TOKEN_PREFIX,
            TokenKind::ApiKey => API_KEY_PREFIX,
            TokenKind::Session => SESSION_PREFIX,
            TokenKind::Personal => PERSONAL_TOKEN_PREFIX,
            TokenKind::Invite => INVITE_PREFIX,
            TokenKind::Reset => RESET_PREFIX,
        }
    }

    /// Base62 characters after the prefix: 32 is ≈190 bits, beyond guessing; the admin
    /// token, which can do everything, has 40 (≈238 bits).
    pub fn random_chars(self) -> usize {
        match self {
            TokenKind::Admin => 40,
            _ => 32,
        }
    }

    /// The whole token's length in bytes (all ASCII).
    pub fn token_len(self) -> usize {
        self.prefix().len() + self.random_chars()
    }
}

/// A new token of `kind` from the OS RNG.
pub fn generate(kind: TokenKind) -> Result<Secret<String>, CryptoError> {
    Ok(Secret::new(format!(
        "{}{}",
        kind.prefix(),
        crypto::random_base62(kind.random_chars())?
    )))
}

/// Whether `s` has the shape of a token of `kind` (a cheap check before hashing anything).
pub fn well_formed(kind: TokenKind, s: &str) -> bool {
    s.len() == kind.token_len()
        && s.starts_with(kind.prefix())
        && s[kind.prefix().len()..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric())
}

/// Which kind of token `s` is, by its shape; `None` for anything that is no token of ours.
pub fn kind_of(s: &str) -> Option<TokenKind> {
    TokenKind::ALL.into_iter().find(|&k| well_formed(k, s))
}

/// Random characters shown after a token's prefix in lists and logs, to recognise it.
pub const DISPLAY_RANDOM_CHARS: usize = 5;

/// What lists and logs show of a token: its kind's prefix and five more characters
/// (`e5_Ab3dE`, `e5p_Xy9Qw`); too few to guess the rest from.
pub fn display_prefix(token: &str) -> String {
    let kind_len = kind_of(token).map_or(0, |k| k.prefix().len());
    token
        .chars()
        .take(kind_len + DISPLAY_RANDOM_CHARS)
        .collect()
}

/// The lookup hash stored in place of the token.
pub fn hash(token: &str) -> [u8; 32] {
    crypto::sha256(token.as_bytes())
}

/// Whether `presented` hashes to `stored`, compared in constant time (a lookup by hash
/// already found the row; this guards the last step against timing).
pub fn matches_hash(presented: &str, stored: &[u8]) -> bool {
    crypto::ct_eq(&hash(presented), stored)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_has_its_documented_shape() {
        let cases = [
            (TokenKind::Admin, "e5a_", 44),
            (TokenKind::ApiKey, "e5_", 35),
            (TokenKind::Session, "e5s_", 36),
            (TokenKind::Personal, "e5p_", 36),
            (TokenKind::Invite, "e5i_", 36),
            (TokenKind::Reset, "e5r_", 36),
        ];
        for (kind, prefix, len) in cases {
            let t = generate(kind).unwrap();
            let t = t.expose();
            assert!(t.starts_with(prefix), "{kind:?}");
            assert_eq!(t.len(), len, "{kind:?}");
            assert_eq!(kind.token_len(), len, "{kind:?}");
            assert!(well_formed(kind, t), "{kind:?}");
            assert_eq!(kind_of(t), Some(kind), "{kind:?}");
            assert_ne!(generate(kind).unwrap().expose(), t, "{kind:?} repeats");
        }
    }

    #[test]
    fn a_token_of_one_kind_is_no_token_of_another() {
        let s = generate(TokenKind::Session).unwrap();
        let s = s.expose();
        for other in TokenKind::ALL {
            if other != TokenKind::Session {
                assert!(!well_formed(other, s), "{other:?}");
            }
        }
        // Same length, another kind's prefix.
        let p = format!("{PERSONAL_TOKEN_PREFIX}{}", &s[4..]);
        assert_eq!(kind_of(&p), Some(TokenKind::Personal));
    }

    #[test]
    fn malformed_tokens_are_refused() {
        let s = generate(TokenKind::Session).unwrap();
        let s = s.expose().clone();
        for bad in [
            String::new(),
            "e5s_".to_string(),
            s[..35].to_string(),
            format!("{s}a"),
            format!("{}!", &s[..35]),
            format!("e5S_{}", &s[4..]),
            // A multi-byte character of the same byte length must not pass either.
            format!("{}é", &s[..34]),
        ] {
            assert!(!well_formed(TokenKind::Session, &bad), "{bad}");
            assert_eq!(kind_of(&bad), None, "{bad}");
        }
    }

    #[test]
    fn display_prefixes_show_the_kind_and_five_characters() {
        let p = generate(TokenKind::Personal).unwrap();
        assert_eq!(display_prefix(p.expose()), p.expose()[..9]);
        let k = generate(TokenKind::ApiKey).unwrap();
        assert_eq!(display_prefix(k.expose()), k.expose()[..8]);
        // Not a token: five characters and no more.
        assert_eq!(display_prefix("abcdefghij"), "abcde");
    }

    #[test]
    fn hashes_match_only_their_token() {
        let a = generate(TokenKind::Personal).unwrap();
        let b = generate(TokenKind::Personal).unwrap();
        let stored = hash(a.expose());
        assert_eq!(stored, crypto::sha256(a.expose().as_bytes()));
        assert!(matches_hash(a.expose(), &stored));
        assert!(!matches_hash(b.expose(), &stored));
        assert!(!matches_hash(a.expose(), &stored[..31]));
    }
}
