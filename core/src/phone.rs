//! Phone numbers: the one normalisation every stored phone goes through (so duplicates and
//! searches match however the number was typed), and recognising a phone by its shape.

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
pub fn looks_like_phone(s: &str) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
