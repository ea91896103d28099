//! Loose field-name comparison and value shapes (e-mail, phone, free text), shared by
//! normalisation and the spam rules.

use serde_json::Value;
use std::borrow::Cow;

/// A field name reduced for comparison: lower case, CF7's `your-` prefix dropped, and every
/// character that is not a letter or digit removed, so `Your E-mail:`, `your-email`,
/// `E_Mail` and `email` are all `email`. Punctuation beyond `-`, `_` and spaces is dropped as
/// well because Elementor sends labels as keys, and labels carry `*` and `:`.
pub(crate) fn loose(name: &str) -> String {
    let mut out = String::new();
    loose_into(&mut out, name);
    out
}

/// [`loose`] into `out`, which is cleared first: a caller going over every field reuses one
/// buffer instead of allocating a name per field.
pub(crate) fn loose_into(out: &mut String, name: &str) {
    out.clear();
    let name = name.trim();
    // CF7's `your-` prefix, in any case; ASCII, so slicing after it stays on a boundary.
    let rest = match name.as_bytes().get(..5) {
        Some([y, o, u, r, b'-' | b'_' | b' '])
            if [*y, *o, *u, *r].eq_ignore_ascii_case(b"your") =>
        {
            &name[5..]
        }
        _ => name,
    };
    // One pass: this runs for every field of every submission.
    out.reserve(rest.len());
    for c in rest.chars() {
        if c.is_ascii() {
            if c.is_ascii_alphanumeric() {
                out.push(c.to_ascii_lowercase());
            }
        } else {
            out.extend(c.to_lowercase().filter(|l| l.is_alphanumeric()));
        }
    }
}

/// The single text a value stands for, trimmed; `None` when blank or not text-like. Numbers
/// count (JSON senders may send a phone as a number). An array gives its last non-blank item,
/// because repeated form names become arrays and PHP would have kept the last. An object with
/// a `value` (Elementor's field entries, WPForms' dates) gives that value.
pub(crate) fn text(v: &Value) -> Option<Cow<'_, str>> {
    match v {
        // Borrowed: the caller copies only what it keeps.
        Value::String(s) => {
            let t = s.trim();
            (!t.is_empty()).then_some(Cow::Borrowed(t))
        }
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        Value::Array(items) => items.iter().rev().find_map(text),
        Value::Object(o) => o.get("value").and_then(text),
        Value::Bool(_) | Value::Null => None,
    }
}

/// Whether anything was entered: used for honeypots, where any content at all means a bot.
pub(crate) fn filled(v: &Value) -> bool {
    match v {
        Value::String(s) => !s.trim().is_empty(),
        Value::Number(_) => true,
        Value::Bool(b) => *b,
        Value::Null => false,
        Value::Array(items) => items.iter().any(filled),
        Value::Object(o) => match o.get("value") {
            Some(inner) => filled(inner),
            None => o.values().any(filled),
        },
    }
}

/// A plausible address: one `@`, something before it, a dotted domain after it, no spaces.
pub(crate) fn looks_like_email(s: &str) -> bool {
    let s = s.trim();
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && s.len() <= 254
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(char::is_whitespace)
}

/// A message-like text with no telling name: several lines, or at least three words and
/// twenty characters, and not an address or a link.
pub(crate) fn looks_like_free_text(s: &str) -> bool {
    let t = s.trim();
    if looks_like_email(t) || (!t.contains(char::is_whitespace) && t.contains("://")) {
        return false;
    }
    t.contains('\n') || (t.split_whitespace().count() >= 3 && t.chars().count() >= 20)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn loose_table() {
        let cases: &[(&str, &str)] = &[
            ("email", "email"),
            ("Email", "email"),
            ("E-mail", "email"),
            ("e_mail", "email"),
            ("your-email", "email"),
            ("Your Email", "email"),
            ("YOUR_EMAIL", "email"),
            ("your-name", "name"),
            ("yourname", "yourname"),
            ("yourself", "yourself"),
            ("Name *", "name"),
            ("Phone:", "phone"),
            ("  first name ", "firstname"),
            ("__submission", "submission"),
            ("_hp", "hp"),
            ("1.3", "13"),
            ("Téléphone", "téléphone"),
            ("", ""),
        ];
        for (input, want) in cases {
            assert_eq!(loose(input), *want, "{input:?}");
        }
    }

    #[test]
    fn text_table() {
        let cases: Vec<(Value, Option<&str>)> = vec![
            (json!("  Jane  "), Some("Jane")),
            (json!("   "), None),
            (json!(""), None),
            (json!(5550102000_u64), Some("5550102000")),
            (json!(["a", "b"]), Some("b")),
            (json!(["a", " "]), Some("a")),
            (json!([]), None),
            (json!({"value": " v ", "unix": 1}), Some("v")),
            (json!({"title": "Email"}), None),
            (json!(true), None),
            (json!(null), None),
        ];
        for (v, want) in cases {
            assert_eq!(text(&v).as_deref(), want, "{v}");
        }
    }

    #[test]
    fn filled_table() {
        let cases: Vec<(Value, bool)> = vec![
            (json!(""), false),
            (json!("  "), false),
            (json!("x"), true),
            (json!(0), true),
            (json!(false), false),
            (json!(true), true),
            (json!(null), false),
            (json!([]), false),
            (json!(["", "x"]), true),
            (json!({"type": "honeypot", "value": ""}), false),
            (json!({"type": "honeypot", "value": "spam"}), true),
            (json!({"a": {"b": "x"}}), true),
        ];
        for (v, want) in cases {
            assert_eq!(filled(&v), want, "{v}");
        }
    }

    #[test]
    fn email_shape_table() {
        let cases: &[(&str, bool)] = &[
            ("jane@example.com", true),
            (" Jane.Doe+tag@Example.CO.uk ", true),
            ("jane@localhost", false),
            ("jane@", false),
            ("@example.com", false),
            ("jane example.com", false),
            ("jane @example.com", false),
            ("a@b@c.com", false),
            ("jane@.com", false),
            ("jane@example.", false),
            ("(555) 010-2000", false),
            ("", false),
        ];
        for (input, want) in cases {
            assert_eq!(looks_like_email(input), *want, "{input:?}");
        }
    }

    #[test]
    fn free_text_table() {
        let cases: &[(&str, bool)] = &[
            ("Please call after 5pm", true),
            ("Line one\nline two", true),
            ("Acme", false),
            ("Jane Doe", false),
            ("short three words", false),
            ("jane@example.com", false),
            ("https://example.org/a/very/long/path/that/is/long", false),
            ("See https://example.org for the details", true),
        ];
        for (input, want) in cases {
            assert_eq!(looks_like_free_text(input), *want, "{input:?}");
        }
    }
}
