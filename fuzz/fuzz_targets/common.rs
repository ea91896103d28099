//! Checks shared by the targets: what must hold of any normalised lead.

use echo5_core::ingest::{self, Normalized, Payload, SpamRules};

/// Content types a site may send; the first input byte picks one.
#[allow(dead_code)]
pub const CONTENT_TYPES: &[Option<&str>] = &[
    None,
    Some("application/json"),
    Some("application/json; charset=UTF-8"),
    Some("application/x-www-form-urlencoded"),
    Some("application/x-www-form-urlencoded; charset=iso-8859-1"),
    Some("application/x-www-form-urlencoded; charset=windows-1252"),
    Some("text/plain"),
    Some("text/plain; charset=utf-8"),
    Some(""),
    Some("application/vnd.api+json"),
    Some("multipart/form-data; boundary=x"),
    Some("application/xml"),
];

/// Normalises and runs the spam rules, asserting the normaliser's invariants.
pub fn check(p: &Payload) -> Normalized {
    let n = ingest::normalize(p);
    if let Some(e) = &n.email {
        assert!(!e.is_empty(), "empty email");
        assert_eq!(e.trim(), e, "untrimmed email");
        assert_eq!(&e.to_lowercase(), e, "email not lower-case");
    }
    if let Some(ph) = &n.phone {
        let body = ph.strip_prefix('+').unwrap_or(ph);
        assert!(
            !body.is_empty() && body.bytes().all(|b| b.is_ascii_digit()),
            "bad phone {ph:?}"
        );
    }
    assert_eq!(
        n.has_contact(),
        n.name.is_some() || n.email.is_some() || n.phone.is_some()
    );
    for k in n.custom.keys() {
        let l: String = k
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric())
            .collect();
        assert!(
            l != "apikey" && l != "key",
            "credential {k:?} kept in custom"
        );
    }
    let keywords = vec![
        "viagra".to_string(),
        "free money".to_string(),
        "seo".to_string(),
    ];
    let honeypots = vec!["honeypot".to_string(), "hp".to_string()];
    let _ = ingest::check_spam(
        p,
        &n,
        &SpamRules {
            keywords: &ingest::spam::Keywords::new(&keywords),
            honeypot_fields: &honeypots,
            max_links: 3,
        },
    );
    n
}
