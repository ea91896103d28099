//! Secret values: redacted in `Debug`/`Display`, masked on the wire, write-only in requests.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
/// What a [`Secret`]'s value must implement (re-exported for code generic over secrets).
pub use zeroize::Zeroize;
use zeroize::ZeroizeOnDrop;

/// A value that must never reach a log line or a `Debug` dump.
/// Reading it takes an explicit [`Secret::expose`]. Its memory is zeroed when it is
/// dropped (every clone's too), so a secret does not linger in freed memory.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret<T: Zeroize>(T);

impl<T: Zeroize> Secret<T> {
    pub fn new(value: T) -> Self {
        Secret(value)
    }

    pub fn expose(&self) -> &T {
        &self.0
    }

    /// Takes the value out; from here on the caller decides when it is wiped.
    pub fn into_inner(mut self) -> T
    where
        T: Default,
    {
        std::mem::take(&mut self.0)
    }
}

impl<T: Zeroize> Drop for Secret<T> {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl<T: Zeroize> ZeroizeOnDrop for Secret<T> {}

impl<T: Zeroize> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl<T: Zeroize> fmt::Display for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl<'de, T: Deserialize<'de> + Zeroize> Deserialize<'de> for Secret<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize(d).map(Secret)
    }
}

/// How a stored secret is shown: whether it is set, and the last four characters so an
/// operator can tell which one it is (as Stripe shows card numbers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MaskedSecret {
    pub set: bool,
    #[serde(default)]
    pub last4: Option<String>,
}

impl MaskedSecret {
    pub fn unset() -> Self {
        MaskedSecret {
            set: false,
            last4: None,
        }
    }

    pub fn from_last4(last4: Option<String>) -> Self {
        match last4 {
            Some(l) => MaskedSecret {
                set: true,
                last4: Some(l),
            },
            None => MaskedSecret::unset(),
        }
    }
}

/// The last four characters of a secret, for [`MaskedSecret`]. Secrets shorter than 12
/// characters show nothing: four characters of a short secret give too much away.
pub fn last4(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    if chars.len() < 12 {
        return String::new();
    }
    chars[chars.len() - 4..].iter().collect()
}

/// A secret field in a request body.
///
/// - a value sets (replaces) the secret,
/// - `null` clears it,
/// - the field left out, or the masked object a GET returned (`{"set": true, ...}`), keeps
///   the stored secret — so a script can GET a tenant, change one field and PUT it back
///   without wiping its secrets.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SecretUpdate<T: Zeroize> {
    #[default]
    Keep,
    Clear,
    Set(Secret<T>),
}

impl<T: Zeroize> SecretUpdate<T> {
    /// For `#[serde(skip_serializing_if = "SecretUpdate::is_keep")]`: keeping is said by
    /// leaving the field out.
    pub fn is_keep(&self) -> bool {
        matches!(self, SecretUpdate::Keep)
    }
}

/// The request-body form a client sends: `Set` is the value, `Clear` is `null`. `Keep` is
/// meant to be skipped (see [`SecretUpdate::is_keep`]); if it is not, it is written as the
/// masked object, which the daemon also reads as "keep", so it can never clear a secret.
impl<T: Serialize + Zeroize> Serialize for SecretUpdate<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            SecretUpdate::Keep => MaskedSecret {
                set: true,
                last4: None,
            }
            .serialize(s),
            SecretUpdate::Clear => s.serialize_none(),
            SecretUpdate::Set(v) => v.expose().serialize(s),
        }
    }
}

impl<'de, T: serde::de::DeserializeOwned + Zeroize> Deserialize<'de> for SecretUpdate<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // The untagged error says nothing useful and must not echo the value back.
        let refuse = || {
            serde::de::Error::custom(
                "expected the secret value, null to clear it, or the masked object to keep it",
            )
        };
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::Null => Ok(SecretUpdate::Clear),
            // serde reads a struct from an array by position; a secret never comes as one.
            serde_json::Value::Array(_) => Err(refuse()),
            v @ serde_json::Value::Object(_)
                if serde_json::from_value::<MaskedSecret>(v.clone()).is_ok() =>
            {
                Ok(SecretUpdate::Keep)
            }
            v => serde_json::from_value::<T>(v)
                .map(|t| SecretUpdate::Set(Secret(t)))
                .map_err(|_| refuse()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_redact() {
        let s = Secret::new("EAAG-super-secret-token".to_string());
        assert!(!format!("{s:?}").contains("super"));
        assert!(!format!("{s}").contains("super"));
        assert_eq!(s.expose(), "EAAG-super-secret-token");
    }

    /// Counts the zeroize calls made on it (where Drop would wipe a real secret).
    #[derive(Clone)]
    struct Probe(std::sync::Arc<std::sync::atomic::AtomicUsize>);

    impl Zeroize for Probe {
        fn zeroize(&mut self) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    #[test]
    fn dropping_a_secret_zeroes_it() {
        let wiped = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let s = Secret::new(Probe(wiped.clone()));
        let copy = s.clone();
        drop(s);
        assert_eq!(wiped.load(std::sync::atomic::Ordering::SeqCst), 1);
        drop(copy);
        assert_eq!(
            wiped.load(std::sync::atomic::Ordering::SeqCst),
            2,
            "clones too"
        );
        // into_inner still hands the value over intact.
        assert_eq!(Secret::new(vec![1u8, 2, 3]).into_inner(), vec![1, 2, 3]);
    }

    #[test]
    fn last4_hides_short_secrets() {
        assert_eq!(last4("EAAGabcdefgh1234"), "1234");
        assert_eq!(last4("short"), "");
    }

    #[derive(Deserialize, Debug)]
    struct Body {
        #[serde(default)]
        token: SecretUpdate<String>,
    }

    #[derive(Serialize, Deserialize, Debug)]
    struct Out {
        #[serde(default, skip_serializing_if = "SecretUpdate::is_keep")]
        token: SecretUpdate<String>,
    }

    #[test]
    fn secret_update_serializes_to_what_it_deserializes_from() {
        let cases = [
            (SecretUpdate::Keep, "{}"),
            (SecretUpdate::Clear, r#"{"token":null}"#),
            (
                SecretUpdate::Set(Secret::new("abc".into())),
                r#"{"token":"abc"}"#,
            ),
        ];
        for (token, json) in cases {
            let out = Out { token };
            assert_eq!(serde_json::to_string(&out).unwrap(), json);
            let back: Out = serde_json::from_str(json).unwrap();
            assert_eq!(back.token, out.token);
        }
        // Not skipped, Keep still reads back as Keep, never as a value or a clear.
        let bare = serde_json::to_string(&SecretUpdate::<String>::Keep).unwrap();
        let back: Body = serde_json::from_str(&format!(r#"{{"token":{bare}}}"#)).unwrap();
        assert_eq!(back.token, SecretUpdate::Keep);
        let set = SecretUpdate::Set(Secret::new("EAAG-hidden".to_string()));
        assert!(!format!("{set:?}").contains("hidden"));
    }

    #[test]
    fn secret_update_forms() {
        let keep: Body = serde_json::from_str("{}").unwrap();
        assert_eq!(keep.token, SecretUpdate::Keep);
        let masked: Body =
            serde_json::from_str(r#"{"token":{"set":true,"last4":"1234"}}"#).unwrap();
        assert_eq!(masked.token, SecretUpdate::Keep);
        let clear: Body = serde_json::from_str(r#"{"token":null}"#).unwrap();
        assert_eq!(clear.token, SecretUpdate::Clear);
        let set: Body = serde_json::from_str(r#"{"token":"abc"}"#).unwrap();
        assert_eq!(set.token, SecretUpdate::Set(Secret::new("abc".into())));
        let err = serde_json::from_str::<Body>(r#"{"token":42}"#).unwrap_err();
        assert!(!err.to_string().contains("42"));
        assert!(serde_json::from_str::<Body>(r#"{"token":["abc"]}"#).is_err());
    }
}
