//! Property tests: the ingest normaliser's invariants over arbitrary payloads, body parsing
//! never panicking, and cursor round-trips.
//!
//! The invariants, from `core/src/ingest/normalize.rs`:
//! - `normalize` never panics, on any payload and any file list;
//! - an e-mail, when present, is non-empty, trimmed, lower-case and has no `mailto:`;
//! - a phone, when present, is ASCII digits with at most a leading `+`, and has a digit;
//! - every other mapped field is a trimmed, non-empty text;
//! - nothing is lost: every top-level field (credentials aside) is either in `custom`
//!   as sent less control and invisible characters (`clean.rs`), or in `custom` as that
//!   object with only the entries that were mapped taken out, or gone from `custom` because
//!   its value was mapped (then some lead field is set);
//! - nothing is invented: every mapped value comes from a value of the payload (cleaned and
//!   trimmed; an e-mail lower-cased; a phone reduced to its digits), and `name` may also be
//!   "first last";
//! - no lead field and no text in `custom` holds a control character (but the message's and
//!   `custom`'s `\n`) or an invisible format character, and no lead field is over its cap;
//! - credentials (`api_key`, `key`, …) never reach `custom`;
//! - uploaded file names are listed in `custom`;
//! - `has_contact()` holds exactly when the payload carries a name, e-mail or phone that
//!   reaches someone (known from how the payload was made, not from the normaliser).

use echo5_core::ingest::clean::{multi_line, single_line};
use echo5_core::ingest::{self, Normalized, Payload};
use echo5_core::page::Cursor;
use proptest::prelude::*;
use serde_json::{Map, Value};

/// Field names the normaliser knows, a few it treats specially, and arbitrary ones.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => prop::sample::select(vec![
            "name", "Name", "full_name", "your-name", "names", "first_name", "firstname",
            "fname", "last_name", "lname", "email", "E-mail", "your-email", "email_address",
            "Work Email", "phone", "tel", "your-tel", "Mobile Phone", "Hotel", "message",
            "your-message", "comments", "company", "url", "source_url", "page_url", "referer",
            "utm_source", "utm_campaign", "gclid", "fbclid", "form_name", "ip", "user_agent",
            "fields", "form", "meta", "__submission", "1", "1.3", "1.6", "2", "3", "10", "4.1",
            "api_key", "key", "API-Key", "files", "_files", "value", "type", "title", "id",
            "raw_value",
        ])
        .prop_map(str::to_string),
        1 => "[a-zA-Z0-9 _.\\-]{0,12}",
        1 => any::<String>(),
    ]
}

/// Strings shaped like what forms carry, plus arbitrary Unicode.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => "[A-Za-z]{1,8}@[a-z]{1,6}\\.[a-z]{2,3}",
        1 => " ?(mailto:|MAILTO:)?[A-Za-z.]{1,8}@[A-Z]{1,6}\\.(COM|io) ?",
        2 => "\\+?[0-9 ()\\-.]{3,18}( x[0-9]{1,3})?",
        1 => "[０-９٠-٩۰-۹ +]{1,12}",
        2 => "[A-Za-z ]{0,20}",
        1 => "https?://[a-z]{1,8}\\.test/[a-z]{0,5}",
        1 => prop::sample::select(vec!["email", "tel", "text", "honeypot", "textarea", ""])
            .prop_map(str::to_string),
        2 => any::<String>(),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        6 => text().prop_map(Value::String),
        1 => any::<i64>().prop_map(Value::from),
        // Decimals a form would send; serde_json (without `float_roundtrip`) may read extreme
        // exponents back one ulp off, which is not the normaliser's business.
        1 => (any::<i32>(), 0..4i32).prop_map(|(m, e)| Value::from(f64::from(m) / 10f64.powi(e))),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => Just(Value::Null),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

fn payload() -> impl Strategy<Value = Payload> {
    (
        prop::collection::vec((key(), value()), 0..12),
        prop::collection::vec("[a-z]{1,6}\\.(pdf|jpg)", 0..3),
    )
        .prop_map(|(fields, files)| Payload {
            fields: fields.into_iter().collect::<Map<String, Value>>(),
            files,
        })
}

/// Contact fields whose value reaches someone, each under a name the normaliser knows.
const CONTACTS: &[(&str, &str)] = &[
    ("name", "Jane Doe"),
    ("your-name", "Jane"),
    ("email", "jane@example.com"),
    ("E-mail", " Jane.DOE@Example.COM "),
    ("Work Email", "j@x.io"),
    ("phone", "+1 (555) 010-2000"),
    ("your-tel", "5550102000"),
    ("Mobile Phone", "555 010 2000"),
];

/// Contact fields whose value reaches no one: an empty name, a phone without digits.
const DEAD_ENDS: &[(&str, &str)] = &[
    ("name", "   "),
    ("phone", "call me"),
    ("email", ""),
    ("your-tel", "\u{200b}"),
];

/// A payload and whether it carries a way to reach someone, known from how it was made
/// rather than from the normaliser: fields under names no alias, hint or plugin shape can
/// read (`q_` and the letters x, y, z) holding anything at all, plus at most one contact
/// field that reaches someone or one that does not.
fn payload_with_known_contact() -> impl Strategy<Value = (Payload, bool)> {
    (
        prop::collection::vec(("q_[xyz]{1,6}", value()), 0..8),
        prop::option::of(prop::sample::select(CONTACTS)),
        prop::option::of(prop::sample::select(DEAD_ENDS)),
    )
        .prop_map(|(noise, contact, dead)| {
            let mut fields: Map<String, Value> = noise.into_iter().collect();
            for (k, v) in dead.into_iter().chain(contact) {
                fields.insert(k.to_string(), Value::String(v.to_string()));
            }
            let payload = Payload {
                fields,
                files: Vec::new(),
            };
            (payload, contact.is_some())
        })
}

/// `loose()` as the normaliser compares names (it is crate-private).
fn loose(name: &str) -> String {
    let lower = name.trim().to_lowercase();
    let rest = ["your-", "your_", "your "]
        .iter()
        .find_map(|p| lower.strip_prefix(p))
        .unwrap_or(&lower);
    rest.chars().filter(|c| c.is_alphanumeric()).collect()
}

fn is_credential(key: &str) -> bool {
    matches!(loose(key).as_str(), "apikey" | "key")
}

/// Under `key`, or `_key`, `__key`… if taken: how `custom` keeps two keys that clean alike.
fn insert_unique(map: &mut Map<String, Value>, mut key: String, value: Value) {
    while map.contains_key(&key) {
        key.insert(0, '_');
    }
    map.insert(key, value);
}

/// A value as `custom` keeps it: strings cleaned as multi-line text, keys as one line.
fn cleaned(v: &Value) -> Value {
    match v {
        Value::String(s) => Value::String(multi_line(s).into_owned()),
        Value::Array(a) => Value::Array(a.iter().map(cleaned).collect()),
        Value::Object(o) => {
            let mut out = Map::new();
            for (k, x) in o {
                insert_unique(&mut out, single_line(k).into_owned(), cleaned(x));
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

/// Every string and number anywhere in a value, as text.
fn leaves(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Number(n) => out.push(n.to_string()),
        Value::Array(a) => a.iter().for_each(|x| leaves(x, out)),
        Value::Object(o) => o.values().for_each(|x| leaves(x, out)),
        Value::Bool(_) | Value::Null => {}
    }
}

/// The phone form of a text, as the normaliser's contract describes it.
fn phone_digits(s: &str) -> String {
    s.chars()
        .filter_map(|c| {
            let zero = match c {
                '0'..='9' => '0',
                '０'..='９' => '０',
                '٠'..='٩' => '٠',
                '۰'..='۹' => '۰',
                _ => return None,
            };
            char::from_digit(u32::from(c) - u32::from(zero), 10)
        })
        .collect()
}

fn mapped(n: &Normalized) -> Vec<(&'static str, &Option<String>)> {
    vec![
        ("name", &n.name),
        ("first_name", &n.first_name),
        ("last_name", &n.last_name),
        ("email", &n.email),
        ("phone", &n.phone),
        ("message", &n.message),
        ("company", &n.company),
        ("form_name", &n.form_name),
        ("page_url", &n.page_url),
        ("referrer", &n.referrer),
        ("utm_source", &n.utm_source),
        ("utm_medium", &n.utm_medium),
        ("utm_campaign", &n.utm_campaign),
        ("utm_term", &n.utm_term),
        ("utm_content", &n.utm_content),
        ("gclid", &n.gclid),
        ("fbclid", &n.fbclid),
        ("ip", &n.ip),
        ("user_agent", &n.user_agent),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig {
        // PROPTEST_CASES=100000 for a longer hunt.
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(1024),
        // Failures become explicit regression tests (`regression_…` below), not a file
        // beside the source: a seed replays through the strategies as they are today, so
        // once they change it no longer finds the case it was saved for.
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn email_is_trimmed_lower_case_and_bare(p in payload()) {
        let n = ingest::normalize(&p);
        if let Some(e) = &n.email {
            prop_assert!(!e.is_empty());
            prop_assert_eq!(e.trim(), e.as_str());
            prop_assert_eq!(&e.to_lowercase(), e);
            prop_assert!(!e.starts_with("mailto:"), "{}", e);
        }
    }

    #[test]
    fn phone_is_digits_with_an_optional_leading_plus(p in payload()) {
        let n = ingest::normalize(&p);
        if let Some(ph) = &n.phone {
            let body = ph.strip_prefix('+').unwrap_or(ph);
            prop_assert!(!body.is_empty(), "{:?}", ph);
            prop_assert!(body.bytes().all(|b| b.is_ascii_digit()), "{:?}", ph);
        }
    }

    #[test]
    fn other_mapped_fields_are_trimmed_and_non_empty(p in payload()) {
        let n = ingest::normalize(&p);
        for (field, v) in mapped(&n) {
            if let Some(v) = v {
                prop_assert!(!v.is_empty(), "{} is empty", field);
                if field != "email" {
                    prop_assert_eq!(v.trim(), v.as_str(), "{} is not trimmed", field);
                }
            }
        }
    }

    #[test]
    fn no_control_or_invisible_character_is_kept(p in payload()) {
        let n = ingest::normalize(&p);
        let bad = |c: char| c.is_control() || ingest::clean::is_invisible(c);
        for (field, v) in mapped(&n) {
            let Some(v) = v else { continue };
            let newline_ok = field == "message";
            prop_assert!(
                !v.chars().any(|c| bad(c) && !(newline_ok && c == '\n')),
                "{} = {:?}", field, v
            );
            prop_assert!(v.chars().count() <= ingest::clean::MESSAGE_MAX, "{} too long", field);
        }
        let mut texts = Vec::new();
        let mut keys = Vec::new();
        fn walk(v: &Value, texts: &mut Vec<String>, keys: &mut Vec<String>) {
            match v {
                Value::String(s) => texts.push(s.clone()),
                Value::Array(a) => a.iter().for_each(|x| walk(x, texts, keys)),
                Value::Object(o) => o.iter().for_each(|(k, x)| {
                    keys.push(k.clone());
                    walk(x, texts, keys)
                }),
                _ => {}
            }
        }
        walk(&Value::Object(n.custom.clone()), &mut texts, &mut keys);
        for k in &keys {
            prop_assert!(!k.chars().any(bad), "custom key {:?}", k);
        }
        for t in &texts {
            prop_assert!(!t.chars().any(|c| bad(c) && c != '\n'), "custom text {:?}", t);
        }
    }

    #[test]
    fn has_contact_iff_the_payload_carries_a_way_to_reach_someone(
        (p, reachable) in payload_with_known_contact()
    ) {
        let n = ingest::normalize(&p);
        prop_assert_eq!(n.has_contact(), reachable, "{:?}", p.fields);
    }

    #[test]
    fn every_field_is_mapped_or_kept(p in payload()) {
        let n = ingest::normalize(&p);
        let anything_mapped = mapped(&n).iter().any(|(_, v)| v.is_some());
        for (k, v) in &p.fields {
            if is_credential(k) {
                prop_assert!(!n.custom.contains_key(k), "credential {} kept", k);
                continue;
            }
            let ck = single_line(k).into_owned();
            let v = &cleaned(v);
            let alike = p.fields.keys().filter(|o| single_line(o) == ck.as_str()).count();
            if alike > 1 || ["files", "truncated"].contains(&ck.trim_start_matches('_')) {
                // Keys that clean alike (or meet ours) are kept under `_key`, `__key`…: one
                // of those holds this value, unless it was mapped.
                let mut under = ck.clone();
                let mut found = false;
                while let Some(kept) = n.custom.get(&under) {
                    found |= kept == v
                        || matches!((kept, v), (Value::Object(a), Value::Object(b))
                            if a.iter().all(|(sk, sv)| b.get(sk) == Some(sv)));
                    under.insert(0, '_');
                }
                prop_assert!(found || anything_mapped, "{} lost", k);
                continue;
            }
            match (n.custom.get(&ck), v) {
                (Some(kept), _) if kept == v => {}
                (Some(Value::Object(kept)), Value::Object(orig)) => {
                    // Only entries that were mapped are taken out; the rest are untouched.
                    prop_assert!(kept.len() < orig.len(), "{}: {:?} vs {:?}", k, kept, orig);
                    for (sub, sv) in kept {
                        prop_assert_eq!(orig.get(sub), Some(sv), "{}.{} changed", k, sub);
                    }
                    prop_assert!(anything_mapped, "{}: entries dropped, nothing mapped", k);
                }
                (Some(kept), _) => prop_assert!(false, "{} changed: {:?} → {:?}", k, v, kept),
                (None, _) => prop_assert!(anything_mapped, "{} dropped, nothing mapped", k),
            }
        }
        if !p.files.is_empty() {
            let listed: Vec<Value> = p
                .files
                .iter()
                .map(|f| Value::String(single_line(f).into_owned()))
                .collect();
            prop_assert!(
                n.custom.values().any(|v| *v == Value::Array(listed.clone())),
                "files not listed in custom"
            );
        }
    }

    #[test]
    fn nothing_is_invented(p in payload()) {
        let n = ingest::normalize(&p);
        let mut texts = Vec::new();
        for (k, v) in &p.fields {
            if !is_credential(k) {
                leaves(v, &mut texts);
            }
        }
        let trimmed: Vec<String> = texts
            .iter()
            .flat_map(|t| [single_line(t).trim().to_string(), multi_line(t).trim().to_string()])
            .collect();
        for (field, v) in mapped(&n) {
            let Some(v) = v else { continue };
            let ok = match field {
                "email" => trimmed.iter().any(|t| {
                    let l = t.to_lowercase();
                    l.strip_prefix("mailto:").unwrap_or(&l).trim() == v
                }),
                // Digits before an extension marker (`555-0100 x23`), or all of them.
                "phone" => trimmed
                    .iter()
                    .any(|t| phone_digits(t).starts_with(v.trim_start_matches('+'))),
                "name" => trimmed.contains(v)
                    || [&n.first_name, &n.last_name]
                        .into_iter()
                        .flatten()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(" ")
                        == *v,
                _ => trimmed.contains(v),
            };
            prop_assert!(ok, "{} = {:?} is not from the payload", field, v);
        }
    }

    #[test]
    fn parsers_never_panic(
        ct in prop::option::of(prop::sample::select(vec![
            "application/json", "application/x-www-form-urlencoded", "text/plain", "",
            "application/json; charset=utf-8", "text/plain; charset=iso-8859-1",
            "application/x-www-form-urlencoded; charset=windows-1252", "multipart/form-data",
            "application/xml", "application/vnd.api+json",
        ])),
        body in prop::collection::vec(any::<u8>(), 0..256),
        form in "[a-z\\[\\]%0-9A-F=&+{}\":,]{0,80}",
    ) {
        let _ = ingest::parse_body(ct, &body);
        if let Ok(p) = ingest::parse_body(ct, form.as_bytes()) {
            let _ = ingest::normalize(&p);
        }
        let _ = ingest::parse_query(&form);
        let pairs = vec![(form.clone(), String::from_utf8_lossy(&body).into_owned())];
        let _ = ingest::payload_from_pairs(&pairs);
        let _ = ingest::try_payload_from_pairs(&pairs);
    }

    #[test]
    fn a_json_object_body_keeps_every_field(fields in prop::collection::vec((key(), value()), 0..8)) {
        // A JSON object within the limits is read as exactly that object.
        let obj: Map<String, Value> = fields.into_iter().collect();
        let body = serde_json::to_vec(&Value::Object(obj.clone())).unwrap();
        match ingest::parse_body(Some("application/json"), &body) {
            Ok(p) => prop_assert_eq!(p.fields, obj),
            Err(e) => prop_assert!(false, "refused {}: {}", String::from_utf8_lossy(&body), e),
        }
    }

    #[test]
    fn cursor_round_trips(ts in any::<i64>(), id in "[A-Za-z0-9-]{1,120}") {
        let c = Cursor { ts, id };
        let text = c.encode();
        prop_assert!(text.len() <= 200);
        prop_assert_eq!(Cursor::decode(&text).unwrap(), c);
    }

    #[test]
    fn cursor_round_trips_exactly_up_to_its_length_limit(
        ts in any::<i64>(),
        id in "[A-Za-z0-9-]{1,300}",
    ) {
        // Decoding refuses text over 200 characters, so a longer id cannot round-trip; every
        // id this API pages by (UUIDs, integers) is far shorter.
        let c = Cursor { ts, id };
        let text = c.encode();
        let back = Cursor::decode(&text);
        if text.len() <= 200 {
            prop_assert_eq!(back.unwrap(), c);
        } else {
            prop_assert!(back.is_err());
        }
    }

    #[test]
    fn cursor_decode_never_panics(text in any::<String>()) {
        if let Ok(c) = Cursor::decode(&text) {
            // What decodes is a cursor that encodes and decodes to itself.
            prop_assert!(!c.id.is_empty());
            prop_assert!(c.id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
            prop_assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        }
    }

    #[test]
    fn cursor_decode_never_panics_on_near_misses(
        raw in "[+-]?[0-9]{0,22}:?[A-Za-z0-9:_ -]{0,40}",
    ) {
        use base64::Engine;
        let text = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw.as_bytes());
        if let Ok(c) = Cursor::decode(&text) {
            prop_assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        }
    }
}

/// Once found by `a_json_object_body_keeps_every_field` (seed `cc ef87f76a…`, shrunk to
/// `{"name": {"name": {"name": 3.566893871033356e-284}}}`): an extreme exponent deep in a
/// name object. The body is read as that object (the number at most one ulp off: serde_json
/// without `float_roundtrip`), and normalising it neither panics nor takes a number for a
/// name.
#[test]
fn regression_a_tiny_number_deep_in_a_name_object() {
    let sent = 3.566893871033356e-284_f64;
    let obj = serde_json::json!({"name": {"name": {"name": sent}}});
    let body = serde_json::to_vec(&obj).unwrap();
    let p = ingest::parse_body(Some("application/json"), &body).unwrap();
    assert_eq!(p.fields.keys().collect::<Vec<_>>(), ["name"]);
    let read = p.fields["name"]["name"]["name"].as_f64().unwrap();
    assert!(read.to_bits().abs_diff(sent.to_bits()) <= 1, "{read:e}");
    let n = ingest::normalize(&p);
    assert_eq!(n.email, None);
    assert_eq!(n.phone, None);
}
