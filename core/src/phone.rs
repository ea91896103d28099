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

/// The country a tenant's numbers are read in when they carry no country code, unless its
/// settings say otherwise.
pub const DEFAULT_COUNTRY: &str = "US";

/// A country whose national numbers can be written in E.164: its ISO 3166 alpha-2 code,
/// calling code and national trunk prefix (dialled before an area code at home and dropped
/// abroad: `0` in the UK and Germany, `1` in the NANP, none in Spain or Italy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Country {
    pub iso: &'static str,
    pub calling_code: &'static str,
    pub trunk: &'static str,
}

/// The countries [`to_e164`] reads national numbers for: (ISO code, calling code, trunk
/// prefix). The North American Numbering Plan's members share `1`; Italy, San Marino and the
/// Vatican keep their leading `0` in international numbers, so they list no trunk. The
/// International Telecommunication Union's list is the source; a country not here is
/// refused as a `default_country` rather than read wrongly.
const COUNTRIES: &[(&str, &str, &str)] = &[
    // North American Numbering Plan.
    ("US", "1", "1"),
    ("CA", "1", "1"),
    ("PR", "1", "1"),
    ("AG", "1", "1"),
    ("AI", "1", "1"),
    ("AS", "1", "1"),
    ("BB", "1", "1"),
    ("BM", "1", "1"),
    ("BS", "1", "1"),
    ("DM", "1", "1"),
    ("DO", "1", "1"),
    ("GD", "1", "1"),
    ("GU", "1", "1"),
    ("JM", "1", "1"),
    ("KN", "1", "1"),
    ("KY", "1", "1"),
    ("LC", "1", "1"),
    ("MP", "1", "1"),
    ("MS", "1", "1"),
    ("SX", "1", "1"),
    ("TC", "1", "1"),
    ("TT", "1", "1"),
    ("VC", "1", "1"),
    ("VG", "1", "1"),
    ("VI", "1", "1"),
    // Europe.
    ("GB", "44", "0"),
    ("IE", "353", "0"),
    ("DE", "49", "0"),
    ("AT", "43", "0"),
    ("CH", "41", "0"),
    ("LI", "423", ""),
    ("FR", "33", "0"),
    ("MC", "377", ""),
    ("BE", "32", "0"),
    ("NL", "31", "0"),
    ("LU", "352", ""),
    ("ES", "34", ""),
    ("AD", "376", ""),
    ("PT", "351", ""),
    ("IT", "39", ""),
    ("SM", "378", ""),
    ("VA", "39", ""),
    ("MT", "356", ""),
    ("SE", "46", "0"),
    ("NO", "47", ""),
    ("DK", "45", ""),
    ("FI", "358", "0"),
    ("IS", "354", ""),
    ("EE", "372", ""),
    ("LV", "371", ""),
    ("LT", "370", "8"),
    ("PL", "48", ""),
    ("CZ", "420", ""),
    ("SK", "421", "0"),
    ("HU", "36", "06"),
    ("SI", "386", "0"),
    ("HR", "385", "0"),
    ("BA", "387", "0"),
    ("RS", "381", "0"),
    ("ME", "382", "0"),
    ("MK", "389", "0"),
    ("AL", "355", "0"),
    ("GR", "30", ""),
    ("CY", "357", ""),
    ("BG", "359", "0"),
    ("RO", "40", "0"),
    ("MD", "373", "0"),
    ("UA", "380", "0"),
    ("TR", "90", "0"),
    // Asia and Oceania.
    ("AU", "61", "0"),
    ("NZ", "64", "0"),
    ("IN", "91", "0"),
    ("PK", "92", "0"),
    ("BD", "880", "0"),
    ("LK", "94", "0"),
    ("NP", "977", "0"),
    ("CN", "86", "0"),
    ("HK", "852", ""),
    ("MO", "853", ""),
    ("TW", "886", "0"),
    ("JP", "81", "0"),
    ("KR", "82", "0"),
    ("SG", "65", ""),
    ("MY", "60", "0"),
    ("TH", "66", "0"),
    ("PH", "63", "0"),
    ("ID", "62", "0"),
    ("VN", "84", "0"),
    ("IL", "972", "0"),
    ("AE", "971", "0"),
    ("SA", "966", "0"),
    ("QA", "974", ""),
    ("KW", "965", ""),
    ("BH", "973", ""),
    ("OM", "968", ""),
    ("JO", "962", "0"),
    // Africa.
    ("ZA", "27", "0"),
    ("NG", "234", "0"),
    ("KE", "254", "0"),
    ("GH", "233", "0"),
    ("EG", "20", "0"),
    ("MA", "212", "0"),
    ("TN", "216", ""),
    ("UG", "256", "0"),
    ("TZ", "255", "0"),
    // Latin America.
    ("MX", "52", ""),
    ("BR", "55", "0"),
    ("AR", "54", "0"),
    ("CL", "56", ""),
    ("CO", "57", ""),
    ("PE", "51", "0"),
    ("UY", "598", "0"),
    ("CR", "506", ""),
    ("PA", "507", ""),
    ("GT", "502", ""),
    ("SV", "503", ""),
    ("EC", "593", "0"),
    ("VE", "58", "0"),
    ("BO", "591", "0"),
    ("PY", "595", "0"),
];

/// The country with ISO 3166 alpha-2 code `iso` (any case), if [`to_e164`] can read its
/// numbers.
pub fn country(iso: &str) -> Option<Country> {
    COUNTRIES
        .iter()
        .find(|(c, _, _)| c.eq_ignore_ascii_case(iso.trim()))
        .map(|&(iso, calling_code, trunk)| Country {
            iso,
            calling_code,
            trunk,
        })
}

/// The country codes [`country`] knows, for an error message.
pub fn supported_countries() -> impl Iterator<Item = &'static str> {
    COUNTRIES.iter().map(|(c, _, _)| *c)
}

/// E.164's longest number, country code included.
const E164_MAX_DIGITS: usize = 15;
/// The shortest national number read as a phone outside the NANP (some small countries
/// have 6-digit numbers); anything shorter is left as it is.
const NATIONAL_MIN_DIGITS: usize = 6;

/// A phone as [`normalize_phone`] gives it (digits, leading `+` kept) in E.164 (`+` and
/// country code), reading a number without a country code as one of `home`:
///
/// - `+` numbers are kept; a trunk `0` written after the country code (`+44 (0)20 …`) is
///   dropped for countries whose trunk prefix is `0`;
/// - `00` (`011` in the NANP), the international call prefix, becomes `+`;
/// - in the NANP, 10 digits, or 11 starting with `1`, whose area code starts with 2-9;
/// - elsewhere the trunk prefix is dropped and the country code put before what remains,
///   when that is at least 6 digits and fits E.164's 15.
///
/// Anything else (too short, too long, a national number the rule cannot read) is returned
/// unchanged, as it is stored today: it is still what the visitor typed, in digits.
pub fn to_e164(phone: &str, home: Country) -> String {
    let unchanged = || phone.to_string();
    if let Some(intl) = phone.strip_prefix('+') {
        return international(intl).unwrap_or_else(unchanged);
    }
    let idd = if home.calling_code == "1" {
        "011"
    } else {
        "00"
    };
    if let Some(intl) = phone.strip_prefix(idd) {
        return international(intl).unwrap_or_else(unchanged);
    }
    if home.calling_code == "1" {
        let national = match phone.len() {
            10 => Some(phone),
            11 => phone.strip_prefix('1'),
            _ => None,
        };
        return match national {
            Some(n) if n.starts_with(|c: char| ('2'..='9').contains(&c)) => format!("+1{n}"),
            _ => unchanged(),
        };
    }
    let national = if home.trunk.is_empty() {
        phone
    } else {
        phone.strip_prefix(home.trunk).unwrap_or(phone)
    };
    let fits = national.len() >= NATIONAL_MIN_DIGITS
        && national.len() + home.calling_code.len() <= E164_MAX_DIGITS
        // A national number left with a leading 0 after the trunk went is not one this
        // rule reads (unless the country keeps its 0, as Italy does: no trunk listed).
        && (home.trunk.is_empty() || !national.starts_with('0'));
    if fits {
        format!("+{}{national}", home.calling_code)
    } else {
        unchanged()
    }
}

/// `digits` after a `+` or an international prefix, as E.164; `None` when it cannot be one.
fn international(digits: &str) -> Option<String> {
    if digits.is_empty() || digits.starts_with('0') || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // A trunk 0 written after the country code (`+44 (0)20 …`): dialled at home only.
    let cc = COUNTRIES
        .iter()
        .filter(|(_, cc, trunk)| *trunk == "0" && digits.starts_with(cc))
        .map(|(_, cc, _)| *cc)
        .max_by_key(|cc| cc.len());
    let digits = match cc {
        Some(cc) if digits[cc.len()..].starts_with('0') => {
            format!("{cc}{}", &digits[cc.len() + 1..])
        }
        _ => digits.to_string(),
    };
    (digits.len() <= E164_MAX_DIGITS).then(|| format!("+{digits}"))
}

/// [`normalize_phone`] then [`to_e164`]: how a phone typed into a form is stored.
pub fn normalize_phone_in(s: &str, home: Country) -> Option<String> {
    normalize_phone(s).map(|p| to_e164(&p, home))
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
            // A marker before any digit is a word ("Text", "Box"), not an extension.
            ("Text 555-010-2000", Some("5550102000")),
            ("#5550102000", Some("5550102000")),
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
            // Dates with a one-digit day or month still have the 7 digits a phone needs.
            ("2026-05-1", false),
            ("5/01/2026", false),
            // Three groups that are no date: the year must be the first or the last group,
            // day and month at most two digits each.
            ("555 01 02", true),
            ("12345 67 89", true),
            ("0049 30 1234567", true),
            ("0049 30 1234", true),
            ("+1 555 0102", true),
            ("+44 20 79460958", true),
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

    fn e164(input: &str, iso: &str) -> Option<String> {
        normalize_phone_in(input, country(iso).expect("a known country"))
    }

    #[test]
    fn e164_table() {
        let cases: &[(&str, &str, Option<&str>)] = &[
            // United States: national, with the trunk 1, with +1, IDD 011, extensions.
            ("(555) 010-2000", "US", Some("+15550102000")),
            ("555.010.2000", "US", Some("+15550102000")),
            ("1-555-010-2000", "US", Some("+15550102000")),
            ("+1 (555) 010-2000", "US", Some("+15550102000")),
            ("011 44 20 7946 0958", "US", Some("+442079460958")),
            ("555-010-2000 x23", "US", Some("+15550102000")),
            ("555-010-2000 ext. 23", "US", Some("+15550102000")),
            // Not a NANP number: a 0 or 1 area code, too short, too long. Kept as digits.
            ("055-010-2000", "US", Some("0550102000")),
            ("555 0102", "US", Some("5550102")),
            ("02079460958", "US", Some("02079460958")),
            ("555010200012345", "US", Some("555010200012345")),
            // United Kingdom: trunk 0 dropped, (0) after +44 dropped, 00 prefix.
            ("020 7946 0958", "GB", Some("+442079460958")),
            ("07700 900123", "GB", Some("+447700900123")),
            ("+44 (0)20 7946 0958", "GB", Some("+442079460958")),
            ("+44 (0)20 7946 0958", "US", Some("+442079460958")),
            ("+44 20 7946 0958", "DE", Some("+442079460958")),
            ("0044 20 7946 0958", "GB", Some("+442079460958")),
            ("(555) 010-2000", "GB", Some("+445550102000")),
            // Germany.
            ("030 1234567", "DE", Some("+49301234567")),
            ("+49 30 1234567", "DE", Some("+49301234567")),
            ("0049 30 1234567", "DE", Some("+49301234567")),
            ("+49 (0)30 1234567", "US", Some("+49301234567")),
            ("030 1234567 #12", "DE", Some("+49301234567")),
            // Italy keeps its 0 after +39; Hungary's trunk is 06.
            ("06 1234 5678", "IT", Some("+390612345678")),
            ("06 1 234 5678", "HU", Some("+3612345678")),
            // One digit too many for E.164 once the country code is added: kept as digits.
            ("0123 4567 8901 234", "GB", Some("012345678901234")),
            // No country code starts with 0, and an international prefix with nothing after
            // it is no number: both kept as typed.
            ("00 0 20 7946 0958", "GB", Some("0002079460958")),
            ("00", "GB", Some("00")),
            // Junk: no digit, too few digits, a stray plus.
            ("call me", "US", None),
            ("", "GB", None),
            ("+", "DE", None),
            ("5+5", "US", Some("55")),
            ("5+5", "DE", Some("55")),
            ("12345", "GB", Some("12345")),
            ("+0 123 456", "US", Some("+0123456")),
            ("1-800-FLOWERS", "US", Some("1800")),
        ];
        for (input, iso, want) in cases {
            assert_eq!(e164(input, iso).as_deref(), *want, "{input:?} in {iso}");
        }
    }

    #[test]
    fn both_stored_formats_of_a_number_meet() {
        // What was stored before E.164 (digits) and what is stored now end up the same
        // when the old form is read again: the dedup key of both is one.
        let us = country("us").expect("US");
        for typed in ["(555) 010-2000", "+1 555 010 2000", "1 555 010 2000"] {
            let old = normalize_phone(typed).expect("digits");
            assert_eq!(to_e164(&old, us), "+15550102000", "{typed:?}");
            assert_eq!(
                to_e164(&to_e164(&old, us), us),
                "+15550102000",
                "idempotent"
            );
        }
    }

    #[test]
    fn countries_are_known_by_their_iso_code() {
        assert_eq!(country("gb").map(|c| c.calling_code), Some("44"));
        assert_eq!(country(" DE ").map(|c| c.trunk), Some("0"));
        assert!(country("XX").is_none());
        assert!(country("").is_none());
        assert!(country(DEFAULT_COUNTRY).is_some());
        let codes: Vec<&str> = supported_countries().collect();
        // Every code listed is one `country` reads, and the error message lists them all.
        assert!(codes.len() >= 100, "{} countries", codes.len());
        assert!(codes.iter().all(|c| country(c).is_some()));
        assert!(codes.contains(&"GB") && codes.contains(&DEFAULT_COUNTRY));
        let mut unique = codes.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), codes.len(), "no country listed twice");
        assert!(
            codes
                .iter()
                .all(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase()))
        );
    }
}
