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

/// The ASCII value of a decimal digit in the scripts phones are typed in on real keyboards:
/// ASCII, full-width (Japanese/Chinese input methods), Arabic-Indic and Extended Arabic-Indic.
fn digit(c: char) -> Option<char> {
    let zero = match c {
        '0'..='9' => '0',
        '０'..='９' => '０',
        '٠'..='٩' => '٠',
        '۰'..='۹' => '۰',
        _ => return None,
    };
    let offset = u32::from(c) - u32::from(zero);
    char::from_digit(offset, 10)
}

/// The part of a phone value before an extension marker (`x`, `ext`, `#`), so `555-0100 x23`
/// does not become one long number.
fn before_extension(s: &str) -> &str {
    // ASCII lower-casing keeps byte offsets, so indexes found in `lower` are valid in `s`.
    let lower = s.to_ascii_lowercase();
    let cut = ["ext", "x", "#"].iter().filter_map(|m| lower.find(m)).min();
    match cut {
        Some(i) if s[..i].chars().any(|c| digit(c).is_some()) => &s[..i],
        _ => s,
    }
}

/// Digits only, with a leading `+` kept: `+1 (555) 010-2000` → `+15550102000`. No numbering
/// plan is applied (a UK `(0)` stays), so the same input always gives the same output. `None`
/// when there is no digit at all.
pub fn normalize_phone(s: &str) -> Option<String> {
    let t = s.trim();
    let plus = t.starts_with('+') || t.starts_with('＋');
    let digits: String = before_extension(t).chars().filter_map(digit).collect();
    if digits.is_empty() {
        return None;
    }
    Some(if plus { format!("+{digits}") } else { digits })
}

/// Whether a value with no telling name is a phone number: 7 to 15 digits (E.164's maximum)
/// and only phone punctuation. Shapes that are more often something else are refused: dates
/// (`2026-05-01`, `05/01/2026`), decimals (`1000000.00`, one dot) and bare numbers under 10
/// digits (amounts, ids, zip codes).
pub(crate) fn looks_like_phone(s: &str) -> bool {
    let t = before_extension(s.trim()).trim();
    let body = t.strip_prefix('+').unwrap_or(t);
    if !body
        .chars()
        .all(|c| digit(c).is_some() || matches!(c, ' ' | '-' | '(' | ')' | '.' | '/'))
    {
        return false;
    }
    let n = body.chars().filter(|&c| digit(c).is_some()).count();
    if !(7..=15).contains(&n) {
        return false;
    }
    let bare = body.chars().all(|c| digit(c).is_some());
    if bare && n < 10 && !t.starts_with('+') {
        return false;
    }
    if body.matches('.').count() == 1 {
        return false;
    }
    let groups: Vec<usize> = body
        .split(|c: char| digit(c).is_none())
        .filter(|g| !g.is_empty())
        .map(|g| g.chars().count())
        .collect();
    let date = groups.len() == 3
        && ((groups[0] == 4 && groups[1] <= 2 && groups[2] <= 2)
            || (groups[0] <= 2 && groups[1] <= 2 && (groups[2] == 4 || groups[2] == 2)));
    !date
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
    fn phone_normalisation_table() {
        let cases: &[(&str, Option<&str>)] = &[
            ("(555) 010-2000", Some("5550102000")),
            ("+1 (555) 010-2000", Some("+15550102000")),
            ("  +44 (0)20 7946 0958 ", Some("+4402079460958")),
            ("555.010.2000", Some("5550102000")),
            ("555-010-2000 x23", Some("5550102000")),
            ("555-010-2000 ext. 23", Some("5550102000")),
            ("555-010-2000 Ext 23", Some("5550102000")),
            ("555-010-2000 #23", Some("5550102000")),
            ("0049 30 1234567", Some("0049301234567")),
            ("1-800-FLOWERS", Some("1800")),
            ("５５５０１０２０００", Some("5550102000")),
            ("＋١٢٣٤٥٦٧", Some("+1234567")),
            ("۰۹۱۲", Some("0912")),
            ("5+5", Some("55")),
            ("call me", None),
            ("x", None),
            ("", None),
            ("+", None),
        ];
        for (input, want) in cases {
            assert_eq!(normalize_phone(input).as_deref(), *want, "{input:?}");
        }
    }

    #[test]
    fn phone_shape_table() {
        let cases: &[(&str, bool)] = &[
            ("(555) 010-2000", true),
            ("+1 (555) 010-2000", true),
            ("555-010-2000", true),
            ("555.010.2000", true),
            ("5550102000", true),
            ("+4930123456", true),
            ("555 0102", true),
            ("555-010-2000 x23", true),
            ("555010200", false),
            ("1000000", false),
            ("1000000.00", false),
            ("2026-05-01", false),
            ("05/01/2026", false),
            ("1/5/26", false),
            ("12345", false),
            ("1234567890123456", false),
            ("jane@example.com", false),
            ("Call 555-0102", false),
            ("", false),
        ];
        for (input, want) in cases {
            assert_eq!(looks_like_phone(input), *want, "{input:?}");
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
