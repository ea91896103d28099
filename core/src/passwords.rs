//! Passwords: the policy a new password must meet, and argon2id hashing and verification.
//!
//! Every function here is pure CPU. Hashing and verifying take tens of milliseconds by
//! design (that is what makes a stolen hash expensive to crack), so the daemon runs them on
//! a blocking thread, never on the async runtime.
//!
//! A password travels as a [`Password`] (a [`Secret`]): `Debug` and `Display` never show it
//! and its memory is wiped when dropped. A stored hash is a [`PasswordHash`], redacted in
//! `Debug` too: hashes never leave the database.

use std::fmt;

use argon2::password_hash::{
    PasswordHash as PhcHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::crypto::{self, CryptoError};
use crate::error::DomainError;
use crate::secret::Secret;

/// A password as typed, never printed.
pub type Password = Secret<String>;

pub const MIN_CHARS: usize = 12;
pub const MAX_CHARS: usize = 128;
/// The lowest zxcvbn score accepted: 3 is "safely unguessable" (≥ 10^10 guesses).
pub const MIN_SCORE: u8 = 3;

/// argon2id memory cost in KiB: 19 MiB, OWASP's password storage recommendation.
pub const M_COST_KIB: u32 = 19 * 1024;
/// argon2id passes over the memory.
pub const T_COST: u32 = 2;
/// argon2id lanes.
pub const P_COST: u32 = 1;
/// Salt length in bytes (the PHC recommendation).
pub const SALT_LEN: usize = 16;

/// The hash of 32 random bytes (hex) that were thrown away, made with the parameters above: an unknown e-mail is
/// verified against it, so it costs the same time as a wrong password for a real user.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$UGdvbAQrVvYYcNpO3g3ZUA$csAvNciIRHOX/TgzAxmcOhdtWhpKer7Bo+QmFqNttlQ";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// argon2 refused its input; with the fixed parameters above this does not happen.
    #[error("password hashing failed: {0}")]
    Hashing(String),
}

/// Checks a new password against the policy: 12..=128 characters (counted as characters,
/// not bytes), and a zxcvbn score of at least 3 given what is known of the user (their
/// e-mail and name, which make a guesser's first tries). The password is never trimmed.
///
/// Errors are 422 on the field `password`: `password_length`, or `weak_password` with the
/// reason zxcvbn gives.
pub fn check_policy(password: &Password, user_inputs: &[&str]) -> Result<(), DomainError> {
    let pw = password.expose();
    let n = pw.chars().count();
    if !(MIN_CHARS..=MAX_CHARS).contains(&n) {
        return Err(DomainError::invalid(
            "password",
            "password_length",
            format!("password must be {MIN_CHARS} to {MAX_CHARS} characters (got {n})"),
        ));
    }
    let inputs = user_input_words(user_inputs);
    let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
    let entropy = zxcvbn::zxcvbn(pw, &inputs);
    if u8::from(entropy.score()) < MIN_SCORE {
        let feedback = entropy.feedback();
        let reason = match feedback.and_then(|f| f.warning()) {
            Some(w) => w.to_string(),
            None => "It is too easy to guess.".to_string(),
        };
        let hint = feedback
            .and_then(|f| f.suggestions().first())
            .map(|s| format!(" {s}"))
            .unwrap_or_default();
        return Err(DomainError::invalid(
            "password",
            "weak_password",
            format!("password is too weak: {reason}{hint}"),
        ));
    }
    Ok(())
}

/// The user's inputs and their parts: `jane.doe@openarms.com` also gives `jane.doe`, `jane`,
/// `doe`, `openarms`; `Jane Doe` gives `jane` and `doe`.
fn user_input_words(inputs: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |w: &str| {
        let w = w.trim().to_lowercase();
        if w.chars().count() >= 3 && !out.contains(&w) {
            out.push(w);
        }
    };
    for input in inputs {
        push(input);
        if let Some((local, domain)) = input.split_once('@') {
            push(local);
            push(domain);
        }
        for part in input.split(|c: char| !c.is_alphanumeric()) {
            push(part);
        }
    }
    out
}

/// A stored argon2id hash (a PHC string). `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// A hash read back from storage. Refuses what is not a PHC string.
    pub fn from_phc(phc: impl Into<String>) -> Result<Self, PasswordError> {
        let phc = phc.into();
        PhcHash::new(&phc).map_err(|e| PasswordError::Hashing(e.to_string()))?;
        Ok(PasswordHash(phc))
    }

    /// The PHC string to store.
    pub fn as_phc(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash([redacted])")
    }
}

fn hasher() -> Argon2<'static> {
    let params = Params::new(M_COST_KIB, T_COST, P_COST, None)
        .expect("the OWASP argon2id parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password with argon2id (m=19 MiB, t=2, p=1) and a fresh random salt.
pub fn hash(password: &Password) -> Result<PasswordHash, PasswordError> {
    let mut salt = [0u8; SALT_LEN];
    crypto::fill_random(&mut salt)?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| PasswordError::Hashing(e.to_string()))?;
    let phc = hasher()
        .hash_password(password.expose().as_bytes(), &salt)
        .map_err(|e| PasswordError::Hashing(e.to_string()))?;
    Ok(PasswordHash(phc.to_string()))
}

/// Whether `password` is the one `stored` was made from. The stored string's own
/// parameters are used, so hashes made before a parameter change still verify; the final
/// comparison is constant-time (argon2's).
pub fn verify(password: &Password, stored: &PasswordHash) -> bool {
    match PhcHash::new(stored.as_phc()) {
        Ok(parsed) => {
            #[cfg(test)]
            ARGON2_RUNS.with(|n| n.set(n.get() + 1));
            hasher()
                .verify_password(password.expose().as_bytes(), &parsed)
                .is_ok()
        }
        Err(_) => false,
    }
}

// Argon2 verifications run on this thread: how tests see that an unknown user's login
// does the same work as a real one, without timing it (a loaded machine makes timings lie).
#[cfg(test)]
thread_local! {
    static ARGON2_RUNS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Spends the time of one [`verify`] and answers `false`: what login does for an e-mail
/// it does not know, so the answer's timing does not tell which addresses have accounts.
pub fn verify_unknown_user(password: &Password) -> bool {
    let dummy = PasswordHash(DUMMY_HASH.to_string());
    // Nobody knows the dummy's password, and even a match would log nobody in. black_box:
    // an unused pure result must not let the optimiser skip the work that is the point.
    std::hint::black_box(verify(password, std::hint::black_box(&dummy)));
    false
}

/// Whether a stored hash was made with other parameters than today's, so it should be
/// replaced with a fresh hash after the next successful login.
pub fn needs_rehash(stored: &PasswordHash) -> bool {
    let Ok(parsed) = PhcHash::new(stored.as_phc()) else {
        return true;
    };
    let same_params = Params::try_from(&parsed)
        .map(|p| p.m_cost() == M_COST_KIB && p.t_cost() == T_COST && p.p_cost() == P_COST)
        .unwrap_or(false);
    !(parsed.algorithm.as_str() == "argon2id"
        && parsed.version == Some(Version::V0x13.into())
        && same_params)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pw(s: &str) -> Password {
        Secret::new(s.to_string())
    }

    fn code(r: Result<(), DomainError>) -> Option<&'static str> {
        match r {
            Ok(()) => None,
            Err(DomainError::Invalid { code, field, .. }) => {
                assert_eq!(field, "password");
                Some(code)
            }
            Err(other) => panic!("{other:?}"),
        }
    }

    fn message(r: Result<(), DomainError>) -> String {
        match r {
            Err(DomainError::Invalid { message, .. }) => message,
            other => panic!("{other:?}"),
        }
    }

    /// A strong password of exactly `n` characters.
    fn strong(n: usize) -> String {
        "Vq7#mZp2!kLr9xWb$T4nHc8@yFs3^GdJ6eQ"
            .chars()
            .cycle()
            .take(n)
            .collect()
    }

    #[test]
    fn length_bounds_are_inclusive_in_characters() {
        assert_eq!(
            code(check_policy(&pw(&strong(11)), &[])),
            Some("password_length")
        );
        assert_eq!(code(check_policy(&pw(&strong(12)), &[])), None);
        assert_eq!(code(check_policy(&pw(&strong(128)), &[])), None);
        assert_eq!(
            code(check_policy(&pw(&strong(129)), &[])),
            Some("password_length")
        );
        assert_eq!(code(check_policy(&pw(""), &[])), Some("password_length"));
        // 12 characters of 2 bytes each: 24 bytes, still 12 characters.
        let twelve = "ñÆøßđŋħĸłœþŧ";
        assert_eq!(twelve.chars().count(), 12);
        assert_eq!(code(check_policy(&pw(twelve), &[])), None);
        // 11 four-byte characters are 44 bytes and still too short.
        let eleven = "🦀🐙🦉🐝🦊🐢🦋🐬🦄🐧🐸";
        assert_eq!(eleven.chars().count(), 11);
        assert_eq!(
            code(check_policy(&pw(eleven), &[])),
            Some("password_length")
        );
        // 129 characters that are 1 byte each or 2: refused either way.
        let long = format!("{}é", strong(128));
        assert_eq!(code(check_policy(&pw(&long), &[])), Some("password_length"));
    }

    #[test]
    fn weak_passwords_are_refused_with_zxcvbns_reason() {
        // zxcvbn picks among equally likely readings of a password in no fixed order ("a
        // very common password" or "similar to a commonly used password"), so the test
        // asserts that its reason is given, not which.
        for weak in [
            "password1234",
            "qwertyuiopasdf",
            "aaaaaaaaaaaaaaaa",
            "123456789012",
            "iloveyou2024",
        ] {
            let r = check_policy(&pw(weak), &[]);
            assert_eq!(code(r.clone()), Some("weak_password"), "{weak}");
            let m = message(r);
            assert!(m.starts_with("password is too weak: "), "{m}");
            assert!(
                !m.contains("It is too easy to guess."),
                "no reason given: {m}"
            );
            assert!(m.contains("guess") || m.contains("common"), "{m}");
        }
    }

    #[test]
    fn the_users_own_email_and_name_count_against_the_password() {
        let candidate = pw("zubrowskitarkanen");
        // Strong enough for a stranger …
        assert_eq!(code(check_policy(&candidate, &[])), None);
        // … not for Wojtek Zubrowski of tarkanen.io: both words come from the account.
        assert_eq!(
            code(check_policy(
                &candidate,
                &["wojtek.zubrowski@tarkanen.io", "Wojtek Zubrowski"]
            )),
            Some("weak_password")
        );
        let email = pw("wojtek.zubrowski@tarkanen.io");
        assert_eq!(code(check_policy(&email, &[])), None);
        assert_eq!(
            code(check_policy(&email, &["wojtek.zubrowski@tarkanen.io"])),
            Some("weak_password")
        );
    }

    #[test]
    fn a_passphrase_passes() {
        assert_eq!(
            code(check_policy(&pw("correct horse battery staple"), &[])),
            None
        );
    }

    #[test]
    fn user_inputs_are_split_into_words() {
        assert_eq!(
            user_input_words(&["Jane.Doe@OpenArms.com", "Jane Doe"]),
            vec![
                "jane.doe@openarms.com",
                "jane.doe",
                "openarms.com",
                "jane",
                "doe",
                "openarms",
                "com",
                "jane doe"
            ]
        );
    }

    #[test]
    fn hashes_are_argon2id_with_the_owasp_parameters_and_verify() {
        let p = pw("correct horse battery staple");
        let h = hash(&p).unwrap();
        assert!(
            h.as_phc().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{}",
            h.as_phc()
        );
        assert!(verify(&p, &h));
        assert!(!verify(&pw("correct horse battery stapler"), &h));
        assert!(!needs_rehash(&h));
        // A fresh salt each time.
        assert_ne!(hash(&p).unwrap(), h);
        // Read back from storage.
        let back = PasswordHash::from_phc(h.as_phc()).unwrap();
        assert!(verify(&p, &back));
        assert!(PasswordHash::from_phc("not a hash").is_err());
    }

    #[test]
    fn hashes_made_with_other_parameters_verify_and_ask_to_be_redone() {
        let p = pw("correct horse battery staple");
        let weak = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8 * 1024, 1, 1, None).unwrap(),
        );
        let salt = SaltString::encode_b64(&[7u8; 16]).unwrap();
        let old = PasswordHash::from_phc(
            weak.hash_password(b"correct horse battery staple", &salt)
                .unwrap()
                .to_string(),
        )
        .unwrap();
        assert!(verify(&p, &old));
        assert!(needs_rehash(&old));
    }

    #[test]
    fn the_minimum_score_itself_passes() {
        // zxcvbn scores these exactly MIN_SCORE.
        for ok in ["correct horse", "zebra crossing"] {
            assert_eq!(u8::from(zxcvbn::zxcvbn(ok, &[]).score()), MIN_SCORE, "{ok}");
            assert_eq!(code(check_policy(&pw(ok), &[])), None, "{ok}");
        }
    }

    #[test]
    fn any_one_parameter_other_than_todays_asks_for_a_rehash() {
        let today = format!("m={M_COST_KIB},t={T_COST},p={P_COST}");
        assert!(DUMMY_HASH.contains(&today));
        for other in [
            format!("m={},t={T_COST},p={P_COST}", M_COST_KIB / 2),
            format!("m={M_COST_KIB},t={},p={P_COST}", T_COST - 1),
            format!("m={M_COST_KIB},t={},p={P_COST}", T_COST + 1),
            format!("m={M_COST_KIB},t={T_COST},p={}", P_COST + 1),
        ] {
            let h = PasswordHash::from_phc(DUMMY_HASH.replace(&today, &other)).unwrap();
            assert!(needs_rehash(&h), "{other}");
        }
    }

    #[test]
    fn the_dummy_hash_has_todays_parameters() {
        // An unknown e-mail must cost what a real user's verification costs.
        let dummy = PasswordHash::from_phc(DUMMY_HASH).unwrap();
        assert!(!needs_rehash(&dummy));
        assert!(!verify_unknown_user(&pw("correct horse battery staple")));
        assert!(!verify_unknown_user(&pw("")));
    }

    #[test]
    fn an_unknown_user_costs_a_real_verification() {
        // The same argon2id work as a real user's login: one verification, of a hash with
        // today's parameters (checked above), each time.
        let p = pw("correct horse battery staple");
        let runs = || ARGON2_RUNS.with(|n| n.get());
        for _ in 0..2 {
            let before = runs();
            assert!(!verify_unknown_user(&p));
            assert_eq!(runs(), before + 1, "an unknown user's login skipped argon2");
        }
        let h = hash(&p).unwrap();
        let before = runs();
        assert!(verify(&p, &h));
        assert_eq!(runs(), before + 1);
    }

    #[test]
    fn nothing_secret_reaches_debug() {
        let p = pw("correct horse battery staple");
        let h = hash(&p).unwrap();
        for shown in [format!("{p:?}"), format!("{p}"), format!("{h:?}")] {
            assert!(!shown.contains("horse"), "{shown}");
            assert!(!shown.contains("argon2"), "{shown}");
        }
        // A log still tells that a hash was there.
        assert_eq!(format!("{h:?}"), "PasswordHash([redacted])");
    }
}
