//! Field-level rules shared by every input: text hygiene, slugs, e-mail, list limits.

use crate::error::DomainError;

pub const SLA_HOURS_MIN: u32 = 1;
pub const SLA_HOURS_MAX: u32 = 720;
pub const SLA_HOURS_DEFAULT: u32 = 24;
/// How long a rotated key keeps working beside its successor.
pub const GRACE_HOURS_MAX: u32 = 720;
pub const GRACE_HOURS_DEFAULT: u32 = 24;
pub const SPAM_KEYWORDS_MAX: usize = 500;
pub const SPAM_KEYWORD_MAX_CHARS: usize = 100;
pub const NAME_MAX_CHARS: usize = 120;
pub const SLUG_MAX_CHARS: usize = 63;
pub const EMAIL_MAX_CHARS: usize = 254;
pub const SECRET_MAX_CHARS: usize = 4096;

/// Trims and checks a one-line text field: no control characters (tabs and newlines
/// included), `1..=max` characters after trimming.
pub fn text(field: &str, value: &str, max: usize) -> Result<String, DomainError> {
    let trimmed = value.trim();
    if trimmed.chars().any(char::is_control) {
        return Err(DomainError::invalid(
            field,
            "control_character",
            format!("{field} must not contain control characters"),
        ));
    }
    let n = trimmed.chars().count();
    if n == 0 {
        return Err(DomainError::invalid(
            field,
            "blank",
            format!("{field} must not be blank"),
        ));
    }
    if n > max {
        return Err(DomainError::invalid(
            field,
            "too_long",
            format!("{field} must be at most {max} characters (got {n})"),
        ));
    }
    Ok(trimmed.to_string())
}

/// A tenant slug: lower-case ASCII letters, digits and single inner hyphens, 2..=63 chars
/// (a DNS label), so it is safe in URLs, file names and shell commands.
pub fn slug(field: &str, value: &str) -> Result<String, DomainError> {
    let ok_chars = value
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let n = value.len();
    if !ok_chars
        || !(2..=SLUG_MAX_CHARS).contains(&n)
        || value.starts_with('-')
        || value.ends_with('-')
        || value.contains("--")
    {
        return Err(DomainError::invalid(
            field,
            "invalid_slug",
            format!(
                "{field} must be 2-{SLUG_MAX_CHARS} lower-case letters, digits or single hyphens, \
                 not starting or ending with a hyphen"
            ),
        ));
    }
    // A slug that parses as a UUID would be ambiguous in `/tenants/{id or slug}`.
    if uuid::Uuid::try_parse(value).is_ok() {
        return Err(DomainError::invalid(
            field,
            "invalid_slug",
            format!("{field} must not look like a UUID"),
        ));
    }
    Ok(value.to_string())
}

/// Derives a slug from a display name: "Caring Hearts, LLC" → "caring-hearts-llc".
pub fn slugify(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out.truncate(SLUG_MAX_CHARS);
    while out.ends_with('-') {
        out.pop();
    }
    out
}

/// A pragmatic e-mail check (what a form would accept), lower-cased: one `@`, a non-empty
/// local part, a dotted domain of letters, digits and hyphens, no spaces or control chars.
pub fn email(field: &str, value: &str) -> Result<String, DomainError> {
    let value = value.trim().to_lowercase();
    let bad = || {
        DomainError::invalid(
            field,
            "invalid_email",
            format!("{field} must be an e-mail address like name@example.com"),
        )
    };
    if value.chars().count() > EMAIL_MAX_CHARS
        || value.chars().any(|c| c.is_control() || c.is_whitespace())
    {
        return Err(bad());
    }
    let (local, domain) = value.split_once('@').ok_or_else(bad)?;
    // A second `@` lands in the domain, whose labels admit no `@`.
    if local.is_empty() || local.len() > 64 {
        return Err(bad());
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2
        || labels.iter().any(|l| {
            l.is_empty()
                || l.starts_with('-')
                || l.ends_with('-')
                || !l.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
    {
        return Err(bad());
    }
    Ok(value)
}

pub fn sla_hours(field: &str, value: u32) -> Result<u32, DomainError> {
    if !(SLA_HOURS_MIN..=SLA_HOURS_MAX).contains(&value) {
        return Err(DomainError::invalid(
            field,
            "out_of_range",
            format!("{field} must be between {SLA_HOURS_MIN} and {SLA_HOURS_MAX} hours"),
        ));
    }
    Ok(value)
}

/// Spam keywords: each trimmed, lower-cased, 1..=100 characters, no control characters;
/// at most 500; duplicates (case-insensitive) collapse to one, keeping first-seen order.
pub fn spam_keywords(field: &str, values: &[String]) -> Result<Vec<String>, DomainError> {
    if values.len() > SPAM_KEYWORDS_MAX {
        return Err(DomainError::invalid(
            field,
            "too_many",
            format!(
                "{field} holds at most {SPAM_KEYWORDS_MAX} entries (got {})",
                values.len()
            ),
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(values.len());
    for (i, v) in values.iter().enumerate() {
        let kw = text(&format!("{field}[{i}]"), v, SPAM_KEYWORD_MAX_CHARS)?.to_lowercase();
        if !out.contains(&kw) {
            out.push(kw);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(r: Result<impl std::fmt::Debug, DomainError>) -> &'static str {
        match r {
            Err(DomainError::Invalid { code, .. }) => code,
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn text_rules() {
        assert_eq!(text("name", "  Open Arms ", 40).unwrap(), "Open Arms");
        assert_eq!(code(text("name", "   ", 40)), "blank");
        assert_eq!(code(text("name", "a\u{0}b", 40)), "control_character");
        assert_eq!(code(text("name", "a\nb", 40)), "control_character");
        assert_eq!(code(text("name", &"x".repeat(41), 40)), "too_long");
        // Counted in characters, not bytes.
        assert!(text("name", &"é".repeat(40), 40).is_ok());
    }

    #[test]
    fn slug_rules() {
        for ok in ["open-arms", "ab", "family-first-2"] {
            assert_eq!(slug("slug", ok).unwrap(), ok);
        }
        for bad in [
            "a",
            "Open-Arms",
            "-x",
            "x-",
            "a--b",
            "a b",
            "ünï",
            &"a".repeat(64),
            "0195f3a4-1111-7000-8000-000000000000",
        ] {
            assert_eq!(code(slug("slug", bad)), "invalid_slug", "{bad}");
        }
        assert_eq!(slugify("Caring Hearts, LLC"), "caring-hearts-llc");
        assert_eq!(slugify("  Família First!! "), "fam-lia-first");
    }

    #[test]
    fn email_rules() {
        assert_eq!(
            email("e", " Jane.Doe+x@Example.COM ").unwrap(),
            "jane.doe+x@example.com"
        );
        for bad in [
            "jane",
            "@example.com",
            "jane@",
            "jane@example",
            "jane@@example.com",
            "ja ne@example.com",
            "jane@-example.com",
            "jane@example..com",
        ] {
            assert_eq!(code(email("e", bad)), "invalid_email", "{bad}");
        }
    }

    #[test]
    fn email_length_limits_are_inclusive() {
        let local64 = "a".repeat(64);
        assert!(email("e", &format!("{local64}@example.com")).is_ok());
        assert_eq!(
            code(email("e", &format!("a{local64}@example.com"))),
            "invalid_email"
        );
        // 64 + 1 + 185 + 4 = 254 characters in all.
        let longest = format!("{local64}@{}.com", "b".repeat(185));
        assert_eq!(longest.chars().count(), EMAIL_MAX_CHARS);
        assert!(email("e", &longest).is_ok());
        let too_long = format!("{local64}@{}.com", "b".repeat(186));
        assert_eq!(code(email("e", &too_long)), "invalid_email");
    }

    #[test]
    fn sla_bounds() {
        assert!(sla_hours("s", 1).is_ok());
        assert!(sla_hours("s", 720).is_ok());
        assert_eq!(code(sla_hours("s", 0)), "out_of_range");
        assert_eq!(code(sla_hours("s", 721)), "out_of_range");
    }

    #[test]
    fn keyword_limits() {
        let kws = vec![
            "Casino".to_string(),
            " casino ".into(),
            "crypto loan".into(),
        ];
        assert_eq!(
            spam_keywords("k", &kws).unwrap(),
            vec!["casino", "crypto loan"]
        );
        let many: Vec<String> = (0..501).map(|i| format!("w{i}")).collect();
        assert_eq!(code(spam_keywords("k", &many)), "too_many");
        // The limit itself is allowed.
        assert_eq!(spam_keywords("k", &many[..500]).map(|k| k.len()), Ok(500));
        let long = vec!["x".repeat(101)];
        match spam_keywords("k", &long) {
            Err(DomainError::Invalid { field, code, .. }) => {
                assert_eq!(field, "k[0]");
                assert_eq!(code, "too_long");
            }
            other => panic!("{other:?}"),
        }
    }
}
