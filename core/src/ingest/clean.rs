//! Text hygiene for what a form sends. Every lead field is attacker-controlled text that ends
//! up on terminals (the console), in e-mails, in CSV files and beside log lines, so:
//!
//! - control characters (C0, DEL, C1) and invisible format characters (Unicode category Cf:
//!   zero-width spaces and joiners, bidi embeddings, overrides and isolates, the soft hyphen,
//!   the byte-order mark, tag characters…, plus the Hangul fillers that render as nothing)
//!   are removed;
//! - a one-line field turns every line break and tab into a space; the message keeps line
//!   breaks as `\n` (CRLF, a lone CR, NEL, U+2028 and U+2029, vertical tab and form feed
//!   alike) and turns a tab into a space, so a message can neither move the cursor nor forge
//!   what looks like a separate line on a terminal that treats CR as "back to column 0";
//! - every lead field has a length cap in characters ([`cap`]); a longer value is cut on a
//!   character boundary and the lead is kept (the raw body, stored as received, has the
//!   whole value).
//!
//! The raw body stored with a lead is not touched: it is the evidence of what was sent.

use std::borrow::Cow;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

/// Longest name, first name and last name kept (characters).
pub const NAME_MAX: usize = 200;
/// Longest e-mail address kept: RFC 5321's limit on a forward path.
pub const EMAIL_MAX: usize = 254;
/// Longest phone kept (digits and a leading `+`; E.164 needs 15, extensions and typos more).
pub const PHONE_MAX: usize = 64;
/// Longest company and form name kept.
pub const COMPANY_MAX: usize = 200;
/// Longest page URL and referrer kept: what browsers and proxies reliably carry.
pub const URL_MAX: usize = 2_048;
/// Longest UTM value and click id (`gclid`, `fbclid`) kept.
pub const UTM_MAX: usize = 256;
/// Longest visitor address kept (an IPv6 address with a zone id fits with room).
pub const IP_MAX: usize = 64;
/// Longest user agent kept.
pub const USER_AGENT_MAX: usize = 1_024;
/// Longest message kept: as many characters as the largest ingest body has bytes, so today
/// no message that fits in a body is cut; the cap holds if the body limit ever grows.
pub const MESSAGE_MAX: usize = 64 * 1024;

/// Characters that render as nothing or change how the text around them is laid out:
/// category Cf (format) and the Hangul fillers (letters that display as blank space).
pub fn is_invisible(c: char) -> bool {
    if c.is_ascii() {
        return false;
    }
    matches!(c, '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}')
        || c.general_category() == GeneralCategory::Format
}

/// Characters that end a line: LF, CR, VT, FF, NEL and the Unicode line and paragraph
/// separators.
fn is_line_break(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r' | '\u{0B}' | '\u{0C}' | '\u{85}' | '\u{2028}' | '\u{2029}'
    )
}

/// Whether `s` is already clean: printable ASCII (the usual case) needs no copy.
fn is_plain(s: &str, keep_newline: bool) -> bool {
    s.bytes()
        .all(|b| (b' '..0x7f).contains(&b) || (keep_newline && b == b'\n'))
}

/// `s` with controls and invisible characters removed and line breaks and tabs made `sep`
/// (CRLF counts as one break). Tabs always become a space.
fn scrub(s: &str, newline: char) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' && chars.peek() == Some(&'\n') {
            continue;
        }
        if is_line_break(c) {
            out.push(newline);
        } else if c == '\t' {
            out.push(' ');
        } else if !(c.is_control() || is_invisible(c)) {
            out.push(c);
        }
    }
    out
}

/// A one-line value: controls and invisible characters removed, line breaks and tabs made
/// spaces. Not trimmed (callers trim what they keep).
pub fn single_line(s: &str) -> Cow<'_, str> {
    if is_plain(s, false) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(scrub(s, ' '))
    }
}

/// A multi-line value (the message, free text kept in `custom`): controls and invisible
/// characters removed, every line break `\n`, tabs made spaces. Not trimmed.
pub fn multi_line(s: &str) -> Cow<'_, str> {
    if is_plain(s, true) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(scrub(s, '\n'))
    }
}

/// `s` cut to at most `max` characters, on a character boundary (and without the blank
/// the cut may leave at its end). Returns the value and, when it was cut, the original
/// length in characters.
pub fn cap(mut s: String, max: usize) -> (String, Option<usize>) {
    // Bytes bound characters from above: most values need no count at all.
    if s.len() <= max {
        return (s, None);
    }
    let Some((cut, _)) = s.char_indices().nth(max) else {
        return (s, None);
    };
    let chars = max + s[cut..].chars().count();
    s.truncate(cut);
    s.truncate(s.trim_end().len());
    (s, Some(chars))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_line_table() {
        let cases: &[(&str, &str)] = &[
            ("Jane Doe", "Jane Doe"),
            ("Jane\x1b[2JDoe", "Jane[2JDoe"),
            (
                "Jane\x1b]52;c;ZWNobyBoaQ==\x07Doe",
                "Jane]52;c;ZWNobyBoaQ==Doe",
            ),
            ("Jane\x1b]0;pwned\x1b\\", "Jane]0;pwned\\"),
            ("J\u{9b}31mane", "J31mane"),
            (
                "Jane\r\n2026-01-01 WARN forged",
                "Jane 2026-01-01 WARN forged",
            ),
            (
                "a\rb\nc\td\u{0B}e\u{0C}f\u{85}g\u{2028}h\u{2029}i",
                "a b c d e f g h i",
            ),
            ("Ja\u{200B}ne\u{200D} \u{FEFF}Doe\u{AD}", "Jane Doe"),
            ("\u{202E}eoD enaJ\u{202C}", "eoD enaJ"),
            ("\u{2066}x\u{2069}\u{2067}y\u{2068}z", "xyz"),
            ("\u{7f}\u{0}\u{1}x", "x"),
            ("\u{3164}\u{115F}", ""),
            ("José Ñúñez 山田 Анна 🙂", "José Ñúñez 山田 Анна 🙂"),
            ("tag\u{E0041}s", "tags"),
        ];
        for (input, want) in cases {
            assert_eq!(single_line(input), *want, "{input:?}");
        }
    }

    #[test]
    fn multi_line_table() {
        let cases: &[(&str, &str)] = &[
            ("Hi\nthere", "Hi\nthere"),
            ("Hi\r\nthere\rnow", "Hi\nthere\nnow"),
            ("Hi\r\n\r\nthere", "Hi\n\nthere"),
            ("a\tb", "a b"),
            ("a\u{2028}b\u{85}c", "a\nb\nc"),
            ("x\x1b[31my\u{9b}z\u{200B}\u{202E}", "x[31myz"),
        ];
        for (input, want) in cases {
            assert_eq!(multi_line(input), *want, "{input:?}");
        }
    }

    #[test]
    fn clean_output_has_nothing_to_remove() {
        // Every character class the rules name, in every position, leaves nothing behind.
        let nasty: Vec<char> = (0u32..0x20)
            .chain(0x7f..0xa0)
            .chain([0xad, 0x200b, 0x200c, 0x200d, 0x200e, 0x200f, 0x2028, 0x2029])
            .chain(0x202a..=0x202e)
            .chain(0x2060..=0x2064)
            .chain(0x2066..=0x2069)
            .chain([0xfeff, 0xfff9, 0xfffa, 0xfffb, 0x1d173, 0xe0001, 0xe007f])
            .filter_map(char::from_u32)
            .collect();
        for c in &nasty {
            let s = format!("{c}a{c}{c}b{c}");
            let one = single_line(&s);
            assert!(
                one.chars().all(|o| !o.is_control() && !is_invisible(o)),
                "{c:?}: {one:?}"
            );
            let many = multi_line(&s);
            assert!(
                many.chars()
                    .all(|o| o == '\n' || (!o.is_control() && !is_invisible(o))),
                "{c:?}: {many:?}"
            );
        }
    }

    #[test]
    fn cap_table() {
        let cases: &[(&str, usize, &str, Option<usize>)] = &[
            ("short", 10, "short", None),
            ("exactly10!", 10, "exactly10!", None),
            ("abcdefghijk", 10, "abcdefghij", Some(11)),
            ("ééééé", 3, "ééé", Some(5)),
            ("ééé", 3, "ééé", None),
            ("ab  cd", 3, "ab", Some(6)),
            ("🙂🙂🙂", 2, "🙂🙂", Some(3)),
            ("", 0, "", None),
        ];
        for (input, max, want, cut) in cases {
            assert_eq!(
                cap((*input).to_owned(), *max),
                ((*want).to_owned(), *cut),
                "{input:?} {max}"
            );
        }
    }
}
